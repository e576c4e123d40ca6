"""Issue 11 item 6: contracts and reminders could text any number without limit (50 queued
to one phone in 4.8 s). Each recipient and each sender has an hourly budget; what is past it
is held and told in one digest by `cleanup`."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from portsign.common.models import Notification
from portsign.enterprises.models import Invitation
from tests.contracts.conftest import create_draft
from tests.helpers import error_code, outbox

TARGET = "+8613900000077"


def _send_to(person, acting_as: str, account: str, title: str) -> str:
    contract = create_draft(person, acting_as=acting_as, title=title)
    added = person.api.post(
        f"/contracts/{contract['id']}/parties", {"kind": "person", "account": account}
    )
    assert added.status_code == 201, added.content
    sent = person.api.post(f"/contracts/{contract['id']}/send")
    assert sent.status_code == 200, sent.content
    return contract["id"]


def _cleanup() -> str:
    out = StringIO()
    call_command("cleanup", stdout=out)
    return out.getvalue()


def test_one_number_gets_its_budget_then_a_single_digest(alice, acme, settings):
    settings.NOTICE_RECIPIENT_HOURLY_LIMIT = 3
    for number in range(5):
        _send_to(alice, acme.id, TARGET, f"理货协议 {number}")
    assert [m.data["event"] for m in outbox(TARGET)] == ["to_sign"] * 3
    held = Notification.objects.filter(to=TARGET, status="held")
    assert held.count() == 2
    assert set(held.values_list("sender", flat=True)) == {f"e:{acme.id}"}

    assert "notice_digests=1" in _cleanup()
    messages = outbox(TARGET)
    assert len(messages) == 4
    digest = messages[-1]
    assert digest.data["event"] == "digest"
    assert digest.data["count"] == "2"
    assert "理货协议 3" in digest.text
    assert "理货协议 4" in digest.text
    assert Notification.objects.filter(to=TARGET, status="digested").count() == 2
    # Nothing is told twice, and the digest itself spends no budget.
    assert "notice_digests=0" in _cleanup()
    assert len(outbox(TARGET)) == 4
    assert Notification.objects.filter(to=TARGET, sender="").count() == 1


def test_a_sender_has_a_budget_across_recipients(alice, acme, settings):
    settings.NOTICE_SENDER_HOURLY_LIMIT = 2
    numbers = [f"+86139000001{n:02d}" for n in range(3)]
    for number in numbers:
        _send_to(alice, acme.id, number, "货运代理协议")
    assert [len(outbox(n)) for n in numbers] == [1, 1, 0]
    assert Notification.objects.filter(status="held").get().to == numbers[2]
    _cleanup()
    assert [m.data["event"] for m in outbox(numbers[2])] == ["digest"]


def test_budgets_are_per_sender_and_per_hour(alice, bob, acme, globex, settings):
    settings.NOTICE_SENDER_HOURLY_LIMIT = 1
    _send_to(alice, acme.id, TARGET, "甲")
    _send_to(bob, globex.id, TARGET, "乙")
    assert len(outbox(TARGET)) == 2
    Notification.objects.update(
        created_at=Notification.objects.first().created_at.replace(year=2020)
    )
    _send_to(alice, acme.id, TARGET, "丙")
    assert len(outbox(TARGET)) == 3
    assert not Notification.objects.filter(status="held").exists()


def test_an_invitation_past_the_budget_is_refused_not_held(alice, acme, settings):
    # An invitation's link cannot wait for a digest, so the admin is told to try later.
    settings.NOTICE_RECIPIENT_HOURLY_LIMIT = 1
    _send_to(alice, acme.id, TARGET, "理货协议")
    refused = alice.api.post(f"/enterprises/{acme.id}/invitations", {"account": TARGET})
    assert refused.status_code == 429
    assert error_code(refused) == "notice_budget"
    assert refused["Retry-After"] == "3600"
    assert len(outbox(TARGET)) == 1
    assert not Notification.objects.filter(status="held").exists()
    assert not Invitation.objects.filter(address=TARGET).exists()
