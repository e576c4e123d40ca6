"""The notification outbox and the sandbox gateways (delivery after commit, retries, outbox API)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.db import transaction
from django.utils import timezone

from portsign.accounts.models import VerificationCode
from portsign.common.models import AuditEvent, Notification, SandboxMessage
from portsign.common.notify.outbox import (
    deliver_notification,
    queue_message,
    queue_notice,
    relay_stuck,
    send_digests,
)
from tests.helpers import Api, error_code, outbox

PHONE = "+8613800000000"
INVALID = "+8613800009990"
OUTAGE = "+8613800009991"


def send(api: Api, to: str, purpose: str = "register"):
    response = api.post("/auth/codes", {"to": to, "purpose": purpose})
    assert response.status_code == 202, response.content
    return response


def test_normal_send_is_delivered_once(api):
    send(api, PHONE)
    note = Notification.objects.get(to=PHONE)
    assert note.status == "sent"
    assert note.attempts == 1
    assert note.sent_at is not None
    assert note.last_error == ""
    stored = SandboxMessage.objects.get(to=PHONE)
    assert note.provider_id == f"sandbox-{stored.pk}"
    assert len(stored.data["code"]) == 6
    # Once delivered, the outbox row keeps no code and no text.
    assert note.data == {"code": "***", "purpose": "***"}
    assert note.text == ""


def refused(api: Api, to: str, purpose: str = "register"):
    response = api.post("/auth/codes", {"to": to, "purpose": purpose})
    assert response.status_code == 503, response.content
    return response


def test_a_code_to_an_invalid_number_is_refused_not_announced(api):
    """Issue 13 item 3: a code that did not go out answers 503 with why, never 202."""
    response = refused(api, INVALID)
    assert error_code(response) == "sms_failed"
    assert response.json()["error"]["message"] == "短信发送失败，请稍后重试。"
    assert response["Retry-After"] == "60"
    note = Notification.objects.get(to=INVALID)
    assert (note.status, note.attempts) == ("failed", 1)
    assert note.last_error.startswith("MOBILE_NUMBER_ILLEGAL")
    assert not SandboxMessage.objects.filter(to=INVALID).exists()
    code = VerificationCode.objects.get(target=INVALID)
    assert code.burned is True
    assert AuditEvent.objects.filter(action="code.not_delivered", object_id=code.id).exists()


def test_a_code_is_tried_once_in_the_request_an_outage_is_said_at_once(api):
    response = refused(api, OUTAGE)
    assert error_code(response) == "sms_failed"
    note = Notification.objects.get(to=OUTAGE)
    assert (note.status, note.attempts) == ("failed", 1)  # a code minutes late is no use
    assert note.last_error.startswith("OUTAGE")


def test_a_notice_meeting_an_outage_is_retried_five_times_then_fails():
    queue_message(to=OUTAGE, channel="sms", subject="s", text="t", data={})
    note = Notification.objects.get(to=OUTAGE)
    assert (note.status, note.attempts) == ("failed", 5)
    assert note.last_error.startswith("OUTAGE")
    assert not SandboxMessage.objects.exists()


def test_a_code_to_a_bouncing_mailbox_is_refused(api):
    response = refused(api, "dave@bounce.invalid")
    assert (error_code(response), response.json()["error"]["message"]) == (
        "email_failed",
        "邮件发送失败，请稍后重试。",
    )
    note = Notification.objects.get(to="dave@bounce.invalid")
    assert (note.status, note.attempts) == ("failed", 1)
    assert note.last_error.startswith("550")


def test_notices_cannot_use_up_the_carriers_budget_for_codes(api, settings):
    """Notices are held past NOTICE_RECIPIENT_HOURLY_LIMIT (10) of the carrier's 20 an hour,
    and folded into one digest: a code still goes through after a flood of notices."""
    for i in range(25):
        queue_notice(to=PHONE, channel="sms", subject="s", text=f"n{i}", sender="e:flood")
    assert SandboxMessage.objects.filter(to=PHONE).count() == 10
    assert Notification.objects.filter(to=PHONE, status="held").count() == 15
    send(api, PHONE)
    assert SandboxMessage.objects.filter(to=PHONE).count() == 11
    assert send_digests() == 1
    assert SandboxMessage.objects.filter(to=PHONE).count() == 12


def test_the_relay_queues_again_what_a_lost_task_left_pending():
    with mock.patch("portsign.common.notify.outbox._schedule"):  # the task is lost
        stale = queue_message(to=PHONE, channel="sms", subject="s", text="old", data={})
        fresh = queue_message(to=PHONE, channel="sms", subject="s", text="new", data={})
    Notification.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=11)
    )
    assert relay_stuck(now=timezone.now()) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("sent", "pending")
    assert [m.text for m in SandboxMessage.objects.filter(to=PHONE)] == ["old"]
    assert relay_stuck(now=timezone.now()) == 0


def test_email_is_delivered(api):
    send(api, "dave@example.cn")
    note = Notification.objects.get(to="dave@example.cn")
    assert (note.channel, note.status, note.attempts) == ("email", "sent", 1)
    assert SandboxMessage.objects.get().channel == "email"


def test_delivery_is_idempotent(api):
    send(api, PHONE)
    note = Notification.objects.get(to=PHONE)
    assert deliver_notification(notification_id=note.pk) is False
    note.refresh_from_db()
    assert note.attempts == 1
    assert SandboxMessage.objects.filter(to=PHONE).count() == 1


def test_delivery_of_unknown_notification_is_a_no_op():
    assert deliver_notification(notification_id="01NOSUCHNOTIFICATION000000") is False


def test_rolled_back_message_is_never_sent():
    class Boom(Exception):
        pass

    try:
        with transaction.atomic():
            queue_message(to=PHONE, channel="sms", subject="s", text="t", data={"code": "1"})
            raise Boom
    except Boom:
        pass
    assert not Notification.objects.exists()
    assert not SandboxMessage.objects.exists()


def test_message_is_sent_only_after_commit():
    with transaction.atomic():
        note = queue_message(to=PHONE, channel="sms", subject="s", text="t", data={"code": "1"})
        assert not SandboxMessage.objects.exists()
    note.refresh_from_db()
    assert note.status == "sent"
    assert SandboxMessage.objects.filter(to=PHONE).count() == 1


def test_sandbox_flow_control_throttles_after_twenty_per_hour():
    for i in range(21):
        queue_message(to=PHONE, channel="sms", subject="s", text=f"t{i}", data={})
    assert SandboxMessage.objects.filter(to=PHONE).count() == 20
    last = Notification.objects.order_by("created_at", "id").last()
    assert last.status == "failed"
    assert last.attempts == 5
    assert last.last_error.startswith("BUSINESS_LIMIT_CONTROL")


def test_outbox_api_accepts_unnormalised_number(api):
    send(api, PHONE)
    response = api.get("/sandbox/outbox?to=13800000000")
    assert response.status_code == 200
    items = response.json()
    assert len(items) == 1
    assert items[0]["to"] == PHONE
    assert items[0]["channel"] == "sms"
    assert items[0]["data"]["code"] == outbox(PHONE)[0].data["code"]
    assert items[0]["data"]["code"] in items[0]["text"]


def test_outbox_api_filters_by_recipient(api):
    send(api, PHONE)
    send(api, "+8613800000001")
    items = api.get("/sandbox/outbox?to=%2B8613800000001").json()
    assert [item["to"] for item in items] == ["+8613800000001"]
    assert len(api.get("/sandbox/outbox").json()) == 2


def test_outbox_api_finds_email_case_insensitively_by_domain(api):
    send(api, "dave@example.cn")
    items = api.get("/sandbox/outbox?to=dave@EXAMPLE.CN").json()
    assert [item["to"] for item in items] == ["dave@example.cn"]


def test_outbox_api_is_newest_first_and_limited(api, settings):
    settings.CODE_RESEND_SECONDS = 0
    for _ in range(3):
        send(api, PHONE)
    items = api.get("/sandbox/outbox?to=13800000000&limit=2").json()
    codes = [m.data["code"] for m in outbox(PHONE)]
    assert [item["data"]["code"] for item in items] == [codes[2], codes[1]]


def test_outbox_api_for_unknown_recipient_is_empty(api):
    response = api.get("/sandbox/outbox?to=13800000099")
    assert response.status_code == 200
    assert response.json() == []


def test_outbox_api_rejects_bad_limit(api):
    response = api.get("/sandbox/outbox?limit=many")
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert list(response.json()["error"]["fields"]) == ["limit"]
