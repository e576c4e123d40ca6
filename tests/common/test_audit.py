"""The hash-chained audit log: masking, verification, tamper detection, `audit verify`."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from portsign.common.audit import GENESIS, compute_hash, mask_secrets, record_event, verify_chain
from portsign.common.models import AuditEvent, AuditHead
from tests.helpers import PASSWORD, Api, last_code


def record(n: int) -> list[AuditEvent]:
    return [record_event(action="test.event", object_id=str(i), data={"i": i}) for i in range(n)]


def test_empty_log_verifies():
    report = verify_chain()
    assert report.ok is True
    assert report.checked == 0


def test_events_are_chained():
    first, second, third = record(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert third.hash == compute_hash(AuditEvent.objects.get(seq=3))
    head = AuditHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (3, third.hash)


def test_chain_of_real_api_flows_verifies(api, alice):
    api.post("/auth/codes", {"to": "+8613800000040", "purpose": "register"})
    api.post(
        "/auth/register",
        {
            "account": "+8613800000040",
            "name": "Dave Test",
            "password": PASSWORD,
            "code": last_code("+8613800000040"),
        },
    )
    api.post("/auth/codes", {"to": alice.account, "purpose": "login"})
    api.post("/auth/login", {"account": alice.account, "code": "000000"})
    Api(alice.token).post(
        "/me/password", {"current_password": PASSWORD, "new_password": "Quayside#77"}
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"code.sent", "user.registered", "login.failed", "user.password_changed"} <= actions
    report = verify_chain()
    assert report.ok is True
    assert report.checked == AuditEvent.objects.count()


def test_request_origin_is_recorded(api):
    api.post(
        "/auth/codes",
        {"to": "+8613800000040", "purpose": "register"},
        headers={"User-Agent": "EDI-bot/1.0"},
    )
    event = AuditEvent.objects.get(action="code.sent")
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "EDI-bot/1.0"


def test_secrets_are_masked():
    event = record_event(
        action="test.secret",
        data={"password": "x", "code": "123456", "nested": {"token": "t"}, "name": "n"},
    )
    expected = {"password": "***", "code": "***", "nested": {"token": "***"}, "name": "n"}
    assert event.data == expected
    assert AuditEvent.objects.get(seq=event.seq).data == expected
    assert verify_chain().ok is True


def test_masking_covers_suffixes_lists_and_case():
    masked = mask_secrets(
        {
            "new_password": "a",
            "API_KEY": "b",
            "items": [{"Pin": "1"}, "ok"],
            "codename": "kept",
            "account": "+86138****0001",
        }
    )
    assert masked == {
        "new_password": "***",
        "API_KEY": "***",
        "items": [{"Pin": "***"}, "ok"],
        "codename": "kept",
        "account": "+86138****0001",
    }


def test_code_is_never_in_the_log(api):
    api.post("/auth/codes", {"to": "+8613800000040", "purpose": "register"})
    code = last_code("+8613800000040")
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert code not in str(data)


def test_edited_data_is_detected():
    events = record(4)
    AuditEvent.objects.filter(seq=events[2].seq).update(data={"i": 99})
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[2].seq
    assert report.checked == 2


def test_edited_action_is_detected():
    events = record(3)
    AuditEvent.objects.filter(seq=events[0].seq).update(action="test.other")
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[0].seq


def test_rehashed_edit_is_detected_at_the_next_row():
    events = record(3)
    row = AuditEvent.objects.get(seq=events[1].seq)
    row.data = {"i": 42}
    row.hash = compute_hash(row)
    row.save()
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[2].seq


def test_deleted_middle_row_breaks_the_next_row():
    events = record(5)
    AuditEvent.objects.filter(seq=events[2].seq).delete()
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[3].seq


def test_deleted_first_row_is_detected():
    events = record(3)
    AuditEvent.objects.filter(seq=events[0].seq).delete()
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[1].seq


def test_deleted_last_row_is_detected():
    events = record(3)
    AuditEvent.objects.filter(seq=events[2].seq).delete()
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == events[2].seq
    assert report.checked == 2


def test_deleting_every_row_is_detected():
    record(2)
    AuditEvent.objects.all().delete()
    report = verify_chain()
    assert report.ok is False
    assert report.broken_seq == 2


def test_recording_continues_the_chain_after_verification():
    record(2)
    assert verify_chain().ok is True
    record(2)
    report = verify_chain()
    assert report.ok is True
    assert report.checked == 4


def test_command_reports_ok(capsys):
    record(3)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "audit chain OK" in out
    assert "3 events verified" in out


def test_command_names_the_edited_row():
    events = record(3)
    AuditEvent.objects.filter(seq=events[1].seq).update(data={"i": "forged"})
    with pytest.raises(CommandError, match=rf"BROKEN at row {events[1].seq}\b"):
        call_command("audit", "verify")


def test_command_names_the_row_after_a_deleted_one():
    events = record(4)
    AuditEvent.objects.filter(seq=events[1].seq).delete()
    with pytest.raises(CommandError, match=rf"BROKEN at row {events[2].seq}\b"):
        call_command("audit", "verify")


def test_an_event_inside_a_transaction_costs_three_statements():
    """Lock the head, insert the row, move the head: no savepoint of its own (issue 17)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    record_event(action="test.first")  # the head row exists from here on
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        record_event(action="test.event", object_id="x")
    statements = [q["sql"].split()[0].upper() for q in queries]
    assert statements == ["SELECT", "INSERT", "UPDATE"]
