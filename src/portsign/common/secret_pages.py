"""Console pages that show a secret once: a new API key, a webhook's new signing secret.

The secret is rendered straight into the answer to the POST that made it instead of being
carried across a redirect: a flash message would keep it in the session store. That answer is
marked `no-store`, so no cache keeps it either. The page shows it with
`includes/one_time_secret.html`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from portsign.common.errors import DomainError

T = TypeVar("T")


def show_once(
    request: HttpRequest,
    make: Callable[[], T],
    *,
    done: str,
    back: str,
    page: Callable[[T], HttpResponse],
) -> HttpResponse:
    """Call *make*; on a domain error, say why and go *back*; else say *done* and answer with
    *page* of what was made (holding the secret), kept out of every cache."""
    try:
        made = make()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    messages.success(request, done)
    response = page(made)
    response["Cache-Control"] = "no-store"
    return response
