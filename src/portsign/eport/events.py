"""E-Port filing events for other apps (webhooks): emitted inside the decision's transaction.

Listeners must only queue work (an outbox row sent after commit), like contract events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portsign.eport.models import Filing

APPROVED = "eport.filing.approved"
RETURNED = "eport.filing.returned"
EVENTS = (APPROVED, RETURNED)

Listener = Callable[[str, "Filing"], None]
_LISTENERS: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def filing_decided(filing: Filing) -> None:
    name = APPROVED if filing.status == "approved" else RETURNED
    for listener in list(_LISTENERS):
        listener(name, filing)
