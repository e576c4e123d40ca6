"""Sandbox API (API.md "Sandbox"): what the outside world received, for tests and demos.

Mounted only when sandbox providers are on; absent (404) in production mode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from portsign.common.errors import NotFound
from portsign.common.models import SandboxMessage

sandbox_router = Router(tags=["sandbox"])


class OutboxItem(Schema):
    to: str
    channel: str
    subject: str
    text: str
    data: dict[str, Any]
    sent_at: datetime


def normalize_target(raw: str) -> str:
    """Accept a phone number as the user typed it (13800000000) or in E.164."""
    from portsign.accounts.validators import parse_account
    from portsign.common.errors import Invalid

    try:
        return parse_account(raw).address
    except Invalid:
        return raw.strip()  # e.g. a bank account number


@sandbox_router.get("/outbox", response=list[OutboxItem], summary="Messages the sandbox sent")
def outbox(request: HttpRequest, to: str = "", limit: int = 50) -> list[SandboxMessage]:
    rows = SandboxMessage.objects.order_by("-id")
    if to:
        rows = rows.filter(to=normalize_target(to))
    return list(rows[: max(1, min(limit, 500))])


class CaptchaAnswer(Schema):
    answer: str


@sandbox_router.get("/captcha/{captcha_id}", response=CaptchaAnswer, include_in_schema=False)
def captcha_answer(request: HttpRequest, captcha_id: str) -> dict[str, str]:
    """Test-only hook (PORTSIGN_TEST_HOOKS=1, never in production): a captcha's answer."""
    from portsign.accounts.models import Captcha

    row = Captcha.objects.filter(pk=captcha_id).first() if settings.TEST_HOOKS else None
    if row is None:
        raise NotFound()
    return {"answer": row.answer}
