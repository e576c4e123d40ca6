"""API tokens: list, create, revoke, expiry, isolation (GET/POST/DELETE /api/v1/auth/tokens)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from portsign.accounts.domain.tokens import issue_token
from portsign.accounts.models import ApiToken
from portsign.common.models import AuditEvent, IdempotencyRecord
from tests.helpers import Api, assert_isolated, error_code


def create(person, name: str = "edi-platform"):
    response = person.api.post("/auth/tokens", {"name": name})
    assert response.status_code == 201, response.content
    return response.json()


def token_id(raw: str) -> str:
    return ApiToken.objects.get(prefix=raw[:12]).id


def test_list_marks_the_calling_token_current(alice):
    created = create(alice)
    listed = alice.api.get("/auth/tokens").json()
    assert {(t["name"], t["current"]) for t in listed} == {("test", True), ("edi-platform", False)}
    mine = next(t for t in listed if t["current"])
    assert mine["prefix"] == alice.token[:12]
    assert mine["id"] == token_id(alice.token)
    other = Api(created["token"]).get("/auth/tokens").json()
    assert next(t for t in other if t["current"])["name"] == "edi-platform"


def test_list_is_newest_first_and_shows_only_my_tokens(alice, bob):
    create(alice, "second")
    listed = alice.api.get("/auth/tokens").json()
    assert [t["name"] for t in listed] == ["second", "test"]
    assert token_id(bob.token) not in {t["id"] for t in listed}


def test_list_never_shows_the_secret(alice):
    body = alice.api.get("/auth/tokens").content.decode()
    assert alice.token not in body
    assert alice.token[12:] not in body


def test_create_returns_a_working_token(alice):
    created = create(alice)
    assert created["token"].startswith("pst_")
    assert created["token"] != alice.token
    assert created["user"]["id"] == alice.user.id
    me = Api(created["token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["id"] == alice.user.id


def test_create_stores_only_a_digest_and_expires_after_ttl(alice, settings):
    settings.TOKEN_TTL_DAYS = 7
    created = create(alice)
    row = ApiToken.objects.get(prefix=created["token"][:12])
    assert row.name == "edi-platform"
    assert row.token_hash != created["token"]
    assert created["token"] not in row.token_hash
    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(days=7)
    assert AuditEvent.objects.filter(action="token.issued", object_id=row.id).count() == 1


def test_create_with_too_long_name_is_422(alice):
    response = alice.api.post("/auth/tokens", {"name": "x" * 101})
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_revoke_a_token(alice):
    created = create(alice)
    tid = token_id(created["token"])
    response = alice.api.delete(f"/auth/tokens/{tid}")
    assert response.status_code == 204
    assert Api(created["token"]).get("/me").status_code == 401
    assert alice.api.get("/me").status_code == 200
    listed = {t["id"]: t for t in alice.api.get("/auth/tokens").json()}
    assert listed[tid]["revoked_at"] is not None
    assert AuditEvent.objects.filter(action="token.revoked", object_id=tid).count() == 1


def test_revoking_twice_is_idempotent(alice):
    tid = token_id(create(alice)["token"])
    assert alice.api.delete(f"/auth/tokens/{tid}").status_code == 204
    assert alice.api.delete(f"/auth/tokens/{tid}").status_code == 204
    assert AuditEvent.objects.filter(action="token.revoked", object_id=tid).count() == 1


def test_revoking_the_calling_token_signs_out(alice):
    assert alice.api.delete(f"/auth/tokens/{token_id(alice.token)}").status_code == 204
    assert alice.api.get("/me").status_code == 401


def test_revoking_someone_elses_token_is_404(alice, bob):
    tid = token_id(create(alice)["token"])
    assert_isolated(alice, bob, "DELETE", f"/auth/tokens/{tid}", owner_status=204)
    assert ApiToken.objects.get(pk=tid).revoked_at is not None


def test_bob_cannot_revoke_alices_token(alice, bob):
    tid = token_id(alice.token)
    response = bob.api.delete(f"/auth/tokens/{tid}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert alice.api.get("/me").status_code == 200
    assert not AuditEvent.objects.filter(action="token.revoked").exists()


def test_revoking_unknown_token_is_404(alice):
    response = alice.api.delete("/auth/tokens/01NOSUCHTOKEN0000000000000")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_expired_token_is_401(alice):
    ApiToken.objects.filter(pk=token_id(alice.token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = alice.api.get("/me")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_token_for_inactive_user_is_401(alice):
    alice.user.is_active = False
    alice.user.save(update_fields=["is_active"])
    assert alice.api.get("/me").status_code == 401


def test_unknown_and_malformed_tokens_are_401(alice):
    assert Api("pst_" + "A" * 43).get("/me").status_code == 401
    assert Api(alice.token[4:]).get("/me").status_code == 401


def test_use_updates_last_used_at(alice):
    _token, raw = issue_token(user=alice.user, name="fresh")
    assert ApiToken.objects.get(prefix=raw[:12]).last_used_at is None
    assert Api(raw).get("/me").status_code == 200
    assert ApiToken.objects.get(prefix=raw[:12]).last_used_at is not None


def test_tokens_require_auth(api):
    response = api.get("/auth/tokens")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


def test_expired_token_cannot_revoke_tokens(alice):
    tid = token_id(create(alice)["token"])
    ApiToken.objects.filter(pk=token_id(alice.token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = alice.api.delete(f"/auth/tokens/{tid}")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    assert ApiToken.objects.get(pk=tid).revoked_at is None


def test_token_creation_is_never_replayed_so_raw_tokens_are_never_stored(alice):
    # Credential endpoints are excluded from Idempotency-Key replays: a replay would have to
    # keep the raw token. Each call mints its own token.
    headers = {"Idempotency-Key": "edi-retry-1"}
    first = alice.api.post("/auth/tokens", {"name": "edi"}, headers=headers)
    again = alice.api.post("/auth/tokens", {"name": "edi"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["token"] != again.json()["token"]
    assert ApiToken.objects.filter(user=alice.user, name="edi").count() == 2


def test_idempotent_replay_needs_a_still_valid_token(alice):
    headers = {"Idempotency-Key": "edi-retry-2"}
    first = alice.api.post("/auth/tokens", {"name": "edi"}, headers=headers)
    assert first.status_code == 201, first.content
    assert alice.api.delete(f"/auth/tokens/{token_id(alice.token)}").status_code == 204
    replay = alice.api.post("/auth/tokens", {"name": "edi"}, headers=headers)
    assert replay.status_code == 401, replay.content
    assert error_code(replay) == "unauthorized"


def test_raw_token_is_never_stored_even_for_idempotent_requests(alice):
    created = alice.api.post(
        "/auth/tokens", {"name": "edi"}, headers={"Idempotency-Key": "edi-retry-3"}
    )
    raw = created.json()["token"].encode()
    assert not any(
        raw in bytes(body) for body in IdempotencyRecord.objects.values_list("body", flat=True)
    )


def test_session_write_without_csrf_token_is_refused(alice):
    browser = Api()
    browser.client.force_login(alice.user)
    assert browser.get("/auth/tokens").status_code == 200
    response = browser.post("/auth/tokens", {"name": "forged"})
    assert response.status_code == 403
    assert not ApiToken.objects.filter(name="forged").exists()
