"""Issue 13 item 14: the image code was hard to read (7 taken for 1). It now uses only glyphs
that cannot be taken for one another, in a clear font, and accepts any letter case."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image, ImageFont

from portsign.accounts.domain import captcha
from portsign.accounts.models import Captcha
from portsign.common.errors import Invalid

# Every member of each group of look-alikes, both cases: 0/O/o/Q/D, 1/I/i/l/L/J/j/7, 2/Z/z,
# 5/S/s, 8/B, 6/G/b, U/V/v (U stays), E/F (E stays).
LOOK_ALIKES = "0OoQqDd" + "1IiLlJj7" + "Zz" + "Ss" + "B" + "Gb" + "Vv" + "F"


def test_the_alphabet_has_no_look_alikes():
    assert captcha.ALPHABET == "2345689ACEHKMNPRTUWXY"
    assert set(captcha.ALPHABET).isdisjoint(LOOK_ALIKES)
    assert set(captcha.CONFUSABLE) <= set(LOOK_ALIKES)


def test_answers_are_drawn_from_the_alphabet():
    answers = [captcha.new_captcha(ip="203.0.113.9").answer for _ in range(20)]
    assert all(len(answer) == captcha.LENGTH == 4 for answer in answers)
    assert set("".join(answers)) <= set(captcha.ALPHABET)


def test_the_image_is_a_140_by_48_png_drawn_in_the_clear_font():
    image = Image.open(io.BytesIO(captcha.render_png("K3EC")))
    assert (image.format, image.size, image.mode) == ("PNG", (140, 48), "RGB")
    face = captcha._font(32)
    assert isinstance(face, ImageFont.FreeTypeFont)
    assert face.getname() == ("Noto Sans CJK JP", "Bold")  # the Latin glyphs of every variant


def test_the_glyphs_are_large_and_dark():
    # Dark ink covers a good share of the image: 4 glyphs at 30–34 px, not dots and lines.
    image = Image.open(io.BytesIO(captcha.render_png("HWMN"))).convert("L")
    dark = sum(image.histogram()[:110])
    assert dark > 140 * 48 * 0.08


def test_two_images_of_one_answer_differ():
    assert captcha.render_png("P54P") != captcha.render_png("P54P")


@pytest.mark.parametrize("typed", ["k3ec", "K3EC", " k3Ec "])
def test_the_answer_is_accepted_in_any_case(typed):
    row = Captcha.objects.create(
        answer="K3EC",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    captcha.check_captcha(captcha_id=row.id, answer=typed)  # no error
    row.refresh_from_db()
    assert row.used is True


def test_a_wrong_answer_is_still_refused():
    row = Captcha.objects.create(
        answer="K3EC",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    with pytest.raises(Invalid) as refused:
        captcha.check_captcha(captcha_id=row.id, answer="k3e")
    assert refused.value.code == "captcha_wrong"
