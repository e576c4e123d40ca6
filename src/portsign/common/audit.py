"""The tamper-evident audit log (DESIGN rule 3).

Each event stores an HMAC-SHA256 of a canonical encoding of itself *and* its predecessor's
hash, so editing a row breaks its own hash and deleting one breaks its successor's link. The
key lives outside the database like the file KEK (`AUDIT_KEY_FILE`), so someone who can write
the tables cannot recompute the chain after an edit. The head row remembers the newest hash so
a deleted tail is noticed; anchors (RFC 3161 time-stamps of the head, kept in file storage by
pki/anchors.py) catch what the table alone cannot: a tail deleted with its head rewound, a
rewrite by someone holding the key, or the whole table wiped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from portsign.common.keyfile import read_or_create_key
from portsign.common.models import AuditEvent, AuditHead
from portsign.common.request_context import current_origin

GENESIS = "0" * 64
MASK = "***"
_SECRET_KEYS = {
    "password",
    "code",
    "pin",
    "token",
    "secret",
    "captcha",
    "answer",
    "private_key",
    "key",
}
_SECRET_SUFFIXES = ("_password", "_code_value", "_pin", "_token", "_secret", "_key")


def mask_secrets(value: Any) -> Any:
    """Return *value* with anything that looks like a secret replaced by `***`."""
    if isinstance(value, Mapping):
        return {
            str(k): MASK if _is_secret_key(str(k)) else mask_secrets(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS or lowered.endswith(_SECRET_SUFFIXES)


def _canonical(event: AuditEvent) -> bytes:
    fields = [
        event.prev_hash,
        event.seq,
        event.at.astimezone(UTC).isoformat(),
        event.actor_id,
        event.acting_as,
        event.action,
        event.object_type,
        event.object_id,
        event.ip,
        event.user_agent,
        event.data,
    ]
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@lru_cache(maxsize=4)
def _key(path: str) -> bytes:
    return read_or_create_key(Path(path))


def compute_hash(event: AuditEvent) -> str:
    """The event's link: HMAC-SHA256 under the audit key of its canonical encoding."""
    key = _key(settings.AUDIT_KEY_FILE)
    return hmac.new(key, _canonical(event), hashlib.sha256).hexdigest()


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=1, last_seq=0, last_hash=GENESIS)
    except IntegrityError:
        pass  # another process created it first; fall through and lock theirs
    return AuditHead.objects.select_for_update().get(pk=1)


def record_event(
    *,
    action: str,
    actor_id: str = "",
    acting_as: str = "",
    object_type: str = "",
    object_id: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction of the change it records."""
    origin = current_origin()
    # No savepoint of its own: an event that cannot be written must undo the change it
    # records anyway, and the SAVEPOINT/RELEASE pair was two of five statements per event.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        event = AuditEvent(
            seq=head.last_seq + 1,
            at=datetime.now(UTC),
            actor_id=actor_id,
            acting_as=acting_as,
            action=action,
            object_type=object_type,
            object_id=object_id,
            ip=origin.ip[:64],
            user_agent=origin.user_agent[:300],
            data=mask_secrets(dict(data or {})),
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_seq, head.last_hash = event.seq, event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    anchors: int = 0  # how many anchors the log was held against


@dataclass(frozen=True)
class Anchor:
    """A head the TSA time-stamped: row *seq* had link *hash* at *at* (ISO 8601)."""

    seq: int
    hash: str
    at: str = ""


def verify_chain(anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Walk the chain in order and report the first row that does not fit, then hold the log
    against *anchors* (already checked as genuine by their caller)."""
    anchored = {anchor.seq for anchor in anchors}
    seen: dict[int, str] = {}
    prev_hash, prev_seq, checked = GENESIS, 0, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.prev_hash != prev_hash:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"row {event.seq} does not link to row {prev_seq}: a row between was deleted "
                "or edited",
            )
        if compute_hash(event) != event.hash:
            return ChainReport(False, checked, event.seq, f"row {event.seq} was edited")
        if event.seq in anchored:
            seen[event.seq] = event.hash
        prev_hash, prev_seq, checked = event.hash, event.seq, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    expected = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    if expected != (prev_seq, prev_hash):
        return ChainReport(
            False,
            checked,
            expected[0],
            f"the log ends at row {prev_seq} but the head names row {expected[0]}: "
            "rows at the end were deleted",
        )
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq > prev_seq:
            return ChainReport(
                False,
                checked,
                anchor.seq,
                f"the log ends at row {prev_seq} but it held row {anchor.seq} when it was "
                f"time-stamped at {anchor.at}: rows were deleted (or the log wiped)",
            )
        if seen.get(anchor.seq) != anchor.hash:
            return ChainReport(
                False,
                checked,
                anchor.seq,
                f"row {anchor.seq} is not the row time-stamped at {anchor.at}: the log was "
                "rewritten at or before it",
            )
    return ChainReport(True, checked, anchors=len(anchors))
