"""Issue 11 item 5: the audit chain is keyed and anchored, so the three rewrites the campaign
made (recompute every hash after an edit; delete the tail and rewind the head; wipe the table
with its head) are all caught by `audit verify`."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from portsign.common.audit import GENESIS, _canonical, compute_hash, record_event, verify_chain
from portsign.common.models import AuditEvent, AuditHead
from portsign.pki.anchors import anchor_head, load_anchors, verify_log


@pytest.fixture(autouse=True)
def _tsa() -> None:
    from portsign.pki.ca import init_hierarchy

    init_hierarchy()


def _record(n: int) -> list[AuditEvent]:
    return [record_event(action="test.event", object_id=str(i), data={"i": i}) for i in range(n)]


def _relink_from(seq: int, link) -> None:
    """An attacker's rewrite: every row from *seq* on re-linked with *link*, head moved too."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        event.prev_hash = prev
        event.hash = link(event)
        event.save(update_fields=["prev_hash", "hash", "data"])
        prev = event.hash
    AuditHead.objects.filter(pk=1).update(last_hash=prev)


def test_an_edit_rehashed_without_the_key_is_caught_at_the_edited_row() -> None:
    """The campaign's first attack: edit a row and recompute the 430 SHA-256 links after it."""
    events = _record(5)
    AuditEvent.objects.filter(seq=events[1].seq).update(data={"i": "forged"})
    _relink_from(events[1].seq, lambda e: hashlib.sha256(_canonical(e)).hexdigest())
    report = verify_log()
    assert (report.ok, report.broken_seq) == (False, events[1].seq)


def test_a_rewrite_by_someone_holding_the_key_is_caught_by_the_anchor() -> None:
    events = _record(4)
    assert anchor_head() == 1
    forged = AuditEvent.objects.get(seq=events[1].seq)
    forged.data = {"i": "forged"}
    forged.save(update_fields=["data"])
    _relink_from(events[1].seq, compute_hash)
    assert verify_chain().ok is True  # the chain alone cannot tell
    report = verify_log()
    assert (report.ok, report.broken_seq) == (False, events[3].seq)
    assert "rewritten" in report.reason


def test_a_deleted_tail_with_its_head_rewound_is_caught() -> None:
    events = _record(3)
    anchor_head()
    AuditEvent.objects.filter(seq=events[2].seq).delete()
    AuditHead.objects.filter(pk=1).update(last_seq=events[1].seq, last_hash=events[1].hash)
    assert verify_chain().ok is True
    report = verify_log()
    assert (report.ok, report.broken_seq) == (False, events[2].seq)
    assert "deleted" in report.reason


def test_a_wiped_table_and_head_are_caught() -> None:
    last = _record(2)[-1].seq
    anchor_head()
    AuditEvent.objects.all().delete()
    AuditHead.objects.all().delete()
    assert verify_chain().ok is True
    report = verify_log()
    assert (report.ok, report.broken_seq) == (False, last)
    with pytest.raises(CommandError, match=rf"BROKEN at row {last}\b.*wiped"):
        call_command("audit", "verify")


def test_an_honest_log_verifies_against_every_anchor(capsys) -> None:
    first = _record(2)[-1]
    assert anchor_head() == 1
    assert anchor_head() == 0  # the head did not move
    second = _record(3)[-1]
    call_command("audit", "anchor")
    anchors = load_anchors()
    assert [(a.seq, a.hash) for a in anchors] == [
        (first.seq, first.hash),
        (second.seq, second.hash),
    ]
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"audit chain OK: {second.seq} events verified against 2 anchors" in out


def test_an_anchor_file_edited_to_match_a_rewrite_is_not_genuine() -> None:
    events = _record(2)
    anchor_head()
    name = f"{settings.AUDIT_ANCHOR_PREFIX}{events[1].seq:012d}.json"
    with default_storage.open(name) as handle:
        record = json.loads(handle.read())
    record["hash"] = "f" * 64
    default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(record).encode()))
    report = verify_log()
    assert report.ok is False
    assert "not genuine" in report.reason


def test_links_are_keyed() -> None:
    """The same event under another key links differently: the key is what an editor lacks."""
    (event,) = _record(1)
    assert event.hash != hashlib.sha256(_canonical(event)).hexdigest()
    assert event.hash == compute_hash(AuditEvent.objects.get(seq=event.seq))


def test_cleanup_anchors_the_head_once() -> None:
    import io

    _record(1)
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert out.getvalue().strip().endswith("audit_anchored=1")
    call_command("cleanup", stdout=out)
    assert out.getvalue().strip().endswith("audit_anchored=0")


def _migration():
    import importlib

    return importlib.import_module("portsign.common.migrations.0007_audit_keyed_chain")


def _old_scheme(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def test_the_upgrade_relinks_an_intact_sha256_chain_with_the_key() -> None:
    from django.apps import apps

    _record(3)
    _relink_from(1, _old_scheme)  # the chain as the previous release wrote it
    assert verify_chain().ok is False
    _migration().relink(apps, None)
    report = verify_chain()
    assert (report.ok, report.checked) == (True, AuditEvent.objects.count())


def test_the_upgrade_refuses_to_launder_a_broken_chain() -> None:
    from django.apps import apps

    events = _record(3)
    _relink_from(1, _old_scheme)
    AuditEvent.objects.filter(seq=events[1].seq).update(data={"i": "forged"})
    with pytest.raises(RuntimeError, match=rf"audit row {events[1].seq} does not fit"):
        _migration().relink(apps, None)
