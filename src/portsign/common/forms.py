"""One way console forms run a domain action (DESIGN: same domain functions as the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html

from portsign.common.errors import DomainError, NotFound, PaymentRequired


def show_error(request: HttpRequest, exc: DomainError) -> None:
    """The error as a flash message, with the page that resolves it when there is one."""
    if isinstance(exc, PaymentRequired):
        text = format_html(
            '{} <a href="{}">{}</a>', str(exc.message), exc.link, str(exc.link_label)
        )
        messages.error(request, text)
    else:
        messages.error(request, str(exc.message))


def run_action(request: HttpRequest, call: Callable[[], Any], done: str, back: str) -> HttpResponse:
    """Run *call*; show its error (another tenant's object is a 404 page) or *done*; go *back*."""
    try:
        call()
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        show_error(request, exc)
    else:
        messages.success(request, done)
    return redirect(back)
