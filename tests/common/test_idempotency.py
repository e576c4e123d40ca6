"""Idempotency-Key: a repeated write returns the first answer and does not run again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from portsign.accounts.models import User
from portsign.common.idempotency import IdempotencyMiddleware
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


# -- leases: a crash never leaves a key stuck, and never runs a committed write twice (issue 11)

SEAL = {"source": "generate", "type": "contract", "name": "合同专用章"}
KEY = {"Idempotency-Key": "seal-1"}


class WorkerDied(Exception):
    """Stands for a worker killed between the view's writes and their commit."""


def _seals(acme) -> int:
    from portsign.seals.models import Seal

    return Seal.objects.filter(enterprise=acme, kind="contract").count()


def _lapse_leases() -> None:
    IdempotencyRecord.objects.update(lease_until=timezone.now() - dt.timedelta(seconds=1))


def test_a_crash_before_commit_keeps_nothing_and_a_retry_after_the_lease_runs_it(
    alice, acme, monkeypatch
):
    path = f"/enterprises/{acme.id}/seals"
    before = _seals(acme)

    def die(record, response):
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(IdempotencyMiddleware, "_remember", staticmethod(die))
        with pytest.raises(WorkerDied):
            alice.api.post(path, SEAL, headers=KEY)
    assert _seals(acme) == before  # the seal went with the answer that was never saved

    busy = alice.api.post(path, SEAL, headers=KEY)
    assert (busy.status_code, error_code(busy)) == (409, "request_in_progress")
    assert 1 <= int(busy["Retry-After"]) <= settings.IDEMPOTENCY_LEASE_SECONDS

    _lapse_leases()
    retried = alice.api.post(path, SEAL, headers=KEY)
    assert retried.status_code == 201, retried.content
    again = alice.api.post(path, SEAL, headers=KEY)
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json()["id"] == retried.json()["id"]
    assert _seals(acme) == before + 1


def test_a_committed_write_is_replayed_even_after_its_lease(alice, acme):
    path = f"/enterprises/{acme.id}/seals"
    first = alice.api.post(path, SEAL, headers=KEY)
    _lapse_leases()
    again = alice.api.post(path, SEAL, headers=KEY)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"


def test_a_holder_that_lost_its_lease_keeps_nothing(alice, acme, monkeypatch):
    """The first request outlived its lease and a retry took the key over meanwhile."""
    from portsign.seals.domain import seals as seal_domain

    original = seal_domain.create_generated_seal

    def slow_then_overtaken(**kwargs):
        seal = original(**kwargs)
        IdempotencyRecord.objects.filter(key=KEY["Idempotency-Key"]).update(lease="retry")
        return seal

    monkeypatch.setattr(seal_domain, "create_generated_seal", slow_then_overtaken)
    before = _seals(acme)
    response = alice.api.post(f"/enterprises/{acme.id}/seals", SEAL, headers=KEY)
    assert (response.status_code, error_code(response)) == (409, "request_superseded")
    assert _seals(acme) == before


def test_a_server_error_keeps_neither_the_write_nor_the_key(alice, acme, monkeypatch):
    from portsign.seals.domain import seals as seal_domain

    original = seal_domain.create_generated_seal

    def broken(**kwargs):
        original(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(seal_domain, "create_generated_seal", broken)
    before = _seals(acme)
    response = alice.api.post(f"/enterprises/{acme.id}/seals", SEAL, headers=KEY)
    assert response.status_code == 500
    assert _seals(acme) == before
    assert not IdempotencyRecord.objects.filter(key=KEY["Idempotency-Key"]).exists()
    monkeypatch.setattr(seal_domain, "create_generated_seal", original)
    assert alice.api.post(f"/enterprises/{acme.id}/seals", SEAL, headers=KEY).status_code == 201
