"""Contract events for other apps (webhooks, reminders, evidence): one place they are emitted.

Listeners are called inside the transaction of the change, so they must only queue work (e.g.
an outbox row delivered after commit) — never call the network from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portsign.contracts.models import Contract, Party

# sent, signed (by one party), completed, rejected, revoked, expired — and voided (issue 6).
EVENTS = ("sent", "signed", "completed", "rejected", "revoked", "expired", "voided")


@dataclass(frozen=True)
class ContractEvent:
    name: str
    contract: Contract
    party: Party | None = None
    detail: dict[str, str] = field(default_factory=dict)


Listener = Callable[[ContractEvent], None]
_LISTENERS: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def unlisten(listener: Listener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def emit(event: ContractEvent) -> None:
    assert event.name in EVENTS, event.name
    for listener in list(_LISTENERS):
        listener(event)
