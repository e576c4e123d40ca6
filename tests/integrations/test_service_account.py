"""A key's service account: a member of its enterprise that no one can sign in as."""

from __future__ import annotations

from django.test import Client

from portsign.accounts.domain.tokens import issue_token
from portsign.integrations.models import ApiKey
from tests.helpers import Api, error_code, last_code
from tests.integrations.conftest import create_key


def _service_user(created: dict):
    return ApiKey.objects.select_related("user").get(pk=created["id"]).user


def test_nobody_signs_in_as_a_key(alice, acme, api):
    user = _service_user(create_key(alice, acme, ["contracts:write"]))
    assert api.post("/auth/codes", {"to": user.email, "purpose": "login"}).status_code == 202
    by_code = api.post("/auth/login", {"account": user.email, "code": last_code(user.email)})
    assert (by_code.status_code, error_code(by_code)) == (400, "account_disabled")
    # Even with a password set behind PortSign's back, the account is not one to sign in with.
    user.set_password("Portsign#2026")
    user.save(update_fields=["password"])
    captcha_id = api.get("/auth/captcha").json()["captcha_id"]
    answer = api.get(f"/sandbox/captcha/{captcha_id}").json()["answer"]
    by_password = api.post(
        "/auth/login",
        {
            "account": user.email,
            "password": "Portsign#2026",
            "captcha_id": captcha_id,
            "captcha": answer,
        },
    )
    assert (by_password.status_code, error_code(by_password)) == (400, "credentials_wrong")
    # A personal token or a console session of the account is worth nothing either.
    _token, raw = issue_token(user=user, name="sneaky")
    assert Api(raw).get("/me").status_code == 401
    web = Client()
    web.force_login(user, backend="portsign.accounts.backends.AccountBackend")
    assert web.get("/console/").status_code == 302


def test_the_key_is_in_the_member_list_as_itself(alice, acme):
    created = create_key(alice, acme, ["contracts:read"])
    user = _service_user(created)
    members = {m["user_id"]: m for m in alice.api.get(f"/enterprises/{acme.id}/members").json()}
    member = members[user.id]
    assert (member["name"], member["is_active"], member["is_main_admin"]) == (
        "API key: EDI platform",
        True,
        False,
    )
    assert member["role"]["key"] == f"apikey-{created['id']}"
    alice.api.delete(f"/enterprises/{acme.id}/api-keys/{created['id']}")
    members = {m["user_id"]: m for m in alice.api.get(f"/enterprises/{acme.id}/members").json()}
    assert members[user.id]["is_active"] is False


def test_notices_to_a_keys_account_are_never_sent(alice, acme):
    from portsign.common.models import Notification, SandboxMessage
    from portsign.common.notify.outbox import queue_message

    key = ApiKey.objects.get(pk=create_key(alice, acme, ["contracts:read"])["id"])
    address = key.user.email
    queue_message(to=address, channel="email", subject="合同已完成", text="…")
    note = Notification.objects.get(to=address)
    assert (note.status, note.last_error) == ("failed", "reserved address (.invalid): not sent")
    assert not SandboxMessage.objects.filter(to=address).exists()
