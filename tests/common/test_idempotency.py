"""Idempotency-Key: a repeated write returns the first answer and does not run again."""

from __future__ import annotations

from portsign.accounts.models import User
from portsign.common.models import IdempotencyRecord
from tests.helpers import Api, error_code


def test_repeat_returns_the_first_result_without_running_again(alice):
    headers = {"Idempotency-Key": "rename-1"}
    first = alice.api.patch("/me", {"name": "First Name"}, headers=headers)
    User.objects.filter(pk=alice.user.pk).update(name="Changed Meanwhile")
    again = alice.api.patch("/me", {"name": "First Name"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert User.objects.get(pk=alice.user.pk).name == "Changed Meanwhile"


def test_same_key_with_another_body_is_refused(alice):
    headers = {"Idempotency-Key": "k"}
    alice.api.patch("/me", {"name": "One"}, headers=headers)
    response = alice.api.patch("/me", {"name": "Two"}, headers=headers)
    assert response.status_code == 422
    assert error_code(response) == "idempotency_key_reused"


def test_keys_are_per_sender(alice, bob):
    headers = {"Idempotency-Key": "shared"}
    alice.api.patch("/me", {"name": "Same"}, headers=headers)
    response = bob.api.patch("/me", {"name": "Same"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == bob.user.id
    assert "Idempotent-Replayed" not in response


def test_a_request_still_running_gets_409(alice):
    alice.api.patch("/me", {"name": "x"}, headers={"Idempotency-Key": "busy"})
    IdempotencyRecord.objects.filter(key="busy").update(status=None)
    response = alice.api.patch("/me", {"name": "x"}, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert error_code(response) == "request_in_progress"


def test_errors_are_replayed_too(alice):
    headers = {"Idempotency-Key": "bad-name"}
    first = alice.api.patch("/me", {"name": ""}, headers=headers)
    again = alice.api.patch("/me", {"name": ""}, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_anonymous_and_credential_endpoints_are_never_recorded(api, alice):
    api.post(
        "/auth/codes", {"to": "123", "purpose": "register"}, headers={"Idempotency-Key": "anon"}
    )
    alice.api.post("/auth/tokens", {"name": "ci"}, headers={"Idempotency-Key": "tok"})
    assert IdempotencyRecord.objects.count() == 0


def test_a_revoked_token_gets_no_replay(alice):
    headers = {"Idempotency-Key": "after-revoke"}
    assert alice.api.patch("/me", {"name": "Before"}, headers=headers).status_code == 200
    alice.api.post("/auth/logout")
    response = Api(alice.token).patch("/me", {"name": "Before"}, headers=headers)
    assert response.status_code == 401


def test_reads_ignore_the_header(alice):
    response = alice.api.get("/me", headers={"Idempotency-Key": "read"})
    assert response.status_code == 200
    assert IdempotencyRecord.objects.count() == 0
