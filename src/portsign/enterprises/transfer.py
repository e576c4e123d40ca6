"""One-click transfer (一键转交, SPEC B5): a registry later apps plug their items into.

Each kind of transferable item (seals held, contracts sent, templates, archives…) registers a
counter and a mover. A member cannot be removed while any counter is non-zero; a transfer moves
every kind to a successor and the registry writes one audit event per moved item, so no app can
forget to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portsign.common.audit import record_event
from portsign.enterprises.models import Membership


@dataclass(frozen=True)
class Transferable:
    kind: str
    # How many items of this kind the member owns in the member's enterprise.
    count: Callable[[Membership], int]
    # Move them all to the successor; return the ids moved.
    move: Callable[[Membership, Membership, str], list[str]]


_REGISTRY: dict[str, Transferable] = {}


def register(item: Transferable) -> None:
    _REGISTRY[item.kind] = item


def unregister(kind: str) -> None:
    _REGISTRY.pop(kind, None)


def owned_items(member: Membership) -> dict[str, int]:
    counts = {kind: item.count(member) for kind, item in _REGISTRY.items()}
    return {kind: n for kind, n in counts.items() if n}


def kinds() -> list[str]:
    return sorted(_REGISTRY)


def move_all(
    source: Membership,
    target: Membership,
    actor_id: str,
    *,
    targets: dict[str, Membership] | None = None,
) -> dict[str, list[str]]:
    """Move everything: each kind to its member in *targets*, the rest to *target*. Call
    inside the transaction of the transfer. Returns the ids moved, by kind, for the kinds that
    had any; one audit event per item names who it went to."""
    moved: dict[str, list[str]] = {}
    for kind, item in _REGISTRY.items():
        to = (targets or {}).get(kind, target)
        ids = item.move(source, to, actor_id)
        for item_id in ids:
            record_event(
                action="item.transferred",
                actor_id=actor_id,
                acting_as=source.enterprise_id,
                object_type=kind,
                object_id=item_id,
                data={"from": source.user_id, "to": to.user_id},
            )
        if ids:
            moved[kind] = ids
    return moved
