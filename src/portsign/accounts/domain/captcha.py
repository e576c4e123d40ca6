"""Image captchas for password sign-in: a real distorted image, single use, short-lived."""

from __future__ import annotations

import base64
import io
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from portsign.accounts.models import Captcha
from portsign.common import ratelimit
from portsign.common.errors import Invalid

# Only glyphs that cannot be taken for another once rotated and crossed by a line (issue 13:
# people read 7 as 1). Each confusable group keeps at most one member, the least ambiguous:
#   0 O Q D → none (round shapes)     1 I L J 7 → none (bars and hooks)     T (7 gone)
#   2 Z → 2    5 S → 5    8 B → 8    6 G → 6    U V → U    E F → E (a noise line makes F an E)
# Upper case is drawn; the answer is compared case-insensitively. 21 symbols, 4 of them: a
# guess succeeds once in 194,481, and each captcha allows one guess.
ALPHABET = "234568" + "9ACEHKMNPRTUWXY"
CONFUSABLE = "0OQD1IlLJ7ZSBGVF"
LENGTH = 4
SIZE = (140, 48)
# Noto Sans CJK Bold's Latin (Source Sans): open shapes, a 4 unlike A, installed with the CJK
# fonts the product needs anyway (Makefile RUN_DEBS).
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
FONT_SIZES = (30, 34)
_rng = secrets.SystemRandom()


def new_captcha(*, ip: str) -> Captcha:
    """A fresh captcha; every one is a row, so each address may ask for only so many an hour."""
    ratelimit.enforce(
        scope="captcha",
        key=ip,
        limit=settings.CAPTCHA_IP_HOURLY_LIMIT,
        window_seconds=3600,
        message=_("Too many image codes were requested from your address. Try again later."),
        code="captcha_rate_limited",
    )
    now = timezone.now()
    answer = "".join(_rng.choice(ALPHABET) for _ in range(LENGTH))
    return Captcha.objects.create(
        answer=answer,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.CAPTCHA_TTL_SECONDS),
    )


def render_png(answer: str) -> bytes:
    """Legible to people, costly to segment: rotated, jittered glyphs on a gentle wave, two
    strokes of the text's own colour through them, light clutter behind."""
    image = Image.new("RGB", SIZE, _random_colour(236, 250))
    draw = ImageDraw.Draw(image)
    for _line in range(4):  # faint background strokes
        points = [(_rng.randint(0, SIZE[0]), _rng.randint(0, SIZE[1])) for _p in range(2)]
        draw.line(points, fill=_random_colour(170, 215), width=1)
    ink = _random_colour(20, 90)
    step = (SIZE[0] - 12) / len(answer)
    for index, char in enumerate(answer):
        glyph = _glyph(char, ink)
        x = round(6 + index * step + (step - glyph.width) / 2) + _rng.randint(-2, 2)
        y = (SIZE[1] - glyph.height) // 2 + _rng.randint(-3, 3)
        image.paste(glyph, (x, y), glyph)
    image = _wave(image)
    draw = ImageDraw.Draw(image)
    for width in (2, 1):  # through the text: what defeats splitting it into glyphs
        draw.line(_curve(), fill=ink, width=width)
    for _dot in range(60):
        draw.point((_rng.randrange(SIZE[0]), _rng.randrange(SIZE[1])), fill=_random_colour(90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:  # a machine without the CJK fonts still serves a captcha
        return ImageFont.load_default(size=size)


def _glyph(char: str, ink: tuple[int, int, int]) -> Image.Image:
    """One character on a transparent tile, turned by up to 18 degrees either way."""
    face = _font(_rng.randint(*FONT_SIZES))
    left, top, right, bottom = face.getbbox(char)
    size = (math.ceil(right - left) + 8, math.ceil(bottom - top) + 8)
    tile = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((4 - left, 4 - top), char, font=face, fill=ink)
    angle = _rng.uniform(-18, 18)
    return tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def _wave(image: Image.Image) -> Image.Image:
    """Shift each column up or down along one sine period: the baseline bends."""
    amplitude, phase = _rng.uniform(1.5, 3), _rng.uniform(0, 2 * math.pi)
    background = image.getpixel((0, 0))
    out = Image.new("RGB", SIZE, background)
    for x in range(SIZE[0]):
        shift = round(amplitude * math.sin(phase + 2 * math.pi * x / SIZE[0]))
        out.paste(image.crop((x, 0, x + 1, SIZE[1])), (x, shift))
    return out


def _curve() -> list[tuple[float, float]]:
    """A slanting, gently bent stroke from the left edge to the right. Slanting, so it does not
    lie along a glyph's crossbar and turn a P into an R or a T into a cross."""
    start, end = _rng.uniform(8, 18), _rng.uniform(30, 40)
    if _rng.random() < 0.5:
        start, end = end, start
    bend, phase = _rng.uniform(2, 5), _rng.uniform(0, math.pi)
    return [
        (x, start + (end - start) * x / SIZE[0] + bend * math.sin(phase + math.pi * x / SIZE[0]))
        for x in range(0, SIZE[0] + 1, 4)
    ]


def data_uri(answer: str) -> str:
    return "data:image/png;base64," + base64.b64encode(render_png(answer)).decode()


def _random_colour(low: int, high: int) -> tuple[int, int, int]:
    return (_rng.randint(low, high), _rng.randint(low, high), _rng.randint(low, high))


def check_captcha(*, captcha_id: str, answer: str) -> None:
    """Accept the answer once; any attempt, right or wrong, uses the captcha up."""
    with transaction.atomic():
        row = Captcha.objects.select_for_update().filter(pk=captcha_id or "").first()
        if row is None or row.used:
            raise Invalid(
                _("The image code is no longer valid. Load a new one."),
                code="captcha_invalid",
                fields={"captcha": _("Load a new image code.")},
            )
        row.used = True
        row.save(update_fields=["used"])
    if row.expires_at <= timezone.now():
        raise Invalid(
            _("The image code has expired. Load a new one."),
            code="captcha_expired",
            fields={"captcha": _("Load a new image code.")},
        )
    if (answer or "").strip().upper() != row.answer:
        raise Invalid(
            _("The image code is wrong."),
            code="captcha_wrong",
            fields={"captcha": _("The image code is wrong.")},
        )
