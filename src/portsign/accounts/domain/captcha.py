"""Image captchas for password sign-in: a real distorted image, single use, short-lived."""

from __future__ import annotations

import base64
import io
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from portsign.accounts.models import Captcha
from portsign.common import ratelimit
from portsign.common.errors import Invalid

# No 0/O, 1/I/L: a captcha is a test for bots, not for eyesight.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 4
SIZE = (140, 48)
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
    image = Image.new("RGB", SIZE, (244, 246, 250))
    draw = ImageDraw.Draw(image)
    for _line in range(6):  # background strokes
        points = [(_rng.randint(0, SIZE[0]), _rng.randint(0, SIZE[1])) for _p in range(2)]
        draw.line(points, fill=_random_colour(150, 210), width=1)
    font = ImageFont.load_default(size=30)
    step = SIZE[0] // (len(answer) + 1)
    for index, char in enumerate(answer):
        glyph = Image.new("RGBA", (40, 44), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((8, 2), char, font=font, fill=_random_colour(20, 110))
        glyph = glyph.rotate(_rng.uniform(-28, 28), resample=Image.Resampling.BICUBIC)
        image.paste(glyph, (10 + index * step + _rng.randint(-3, 3), _rng.randint(0, 6)), glyph)
    for _dot in range(120):
        draw.point((_rng.randrange(SIZE[0]), _rng.randrange(SIZE[1])), fill=_random_colour(80, 200))
    image = image.filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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
