"""Personal real-name verification through the API (SPEC A5) with the sandbox provider."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from portsign.accounts.models import User
from portsign.common.models import AuditEvent
from tests.helpers import Api, error_code, synthetic_id_number

ID_NUMBER = synthetic_id_number(11)
# A made-up, Luhn-valid 19-digit debit card number (6222 0200 0000 0000 00x).
CARD_BODY = "622202000000000001"


def luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


CARD = luhn_complete(CARD_BODY)


def own_phone(person, phone: str) -> None:
    """Give the account *phone* (as if changed with a code): checks use the account's number."""
    User.objects.filter(pk=person.user.pk).update(phone=phone)
    person.user.refresh_from_db()


def carrier3(person, *, name=None, id_number=ID_NUMBER, **extra):
    if "phone" in extra:
        own_phone(person, extra["phone"])
    body = {"name": name or person.user.name, "id_number": id_number, "method": "carrier3"}
    body.update(extra)
    return person.api.post("/me/verification", body)


def face_path(response) -> str:
    return urlsplit(response.json()["face_url"]).path


def all_audit_data() -> str:
    return json.dumps([e.data for e in AuditEvent.objects.all()], ensure_ascii=False)


# -- carrier 3 elements ---------------------------------------------------------------------------


def test_carrier3_success_defaults_to_account_phone(alice):
    response = carrier3(alice)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "verified"
    assert body["method"] == "carrier3"
    assert body["failure"] == ""
    assert body["message"] == ""
    assert body["name"] == "Alice Test"
    assert body["completed_at"] is not None
    alice.user.verifications.get(pk=body["id"])
    assert alice.user.verifications.get().phone_masked != ""


def test_carrier3_response_masks_the_id_number(alice):
    body = carrier3(alice).json()
    assert body["id_number"] == ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
    assert ID_NUMBER not in json.dumps(body)


def test_me_shows_verified_real_name_masked(alice):
    carrier3(alice)
    real_name = alice.api.get("/me").json()["real_name"]
    assert real_name["status"] == "verified"
    assert real_name["name"] == "Alice Test"
    assert real_name["method"] == "carrier3"
    assert real_name["verified_at"] is not None
    masked = real_name["id_number"]
    assert len(masked) == 18
    assert masked == ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]


def test_me_before_verification_is_unverified(alice):
    real_name = alice.api.get("/me").json()["real_name"]
    assert real_name == {
        "status": "unverified",
        "name": None,
        "id_number": None,
        "method": None,
        "verified_at": None,
    }


def test_verification_stores_identity_on_user(alice):
    carrier3(alice, name="Alice Verified")
    alice.user.refresh_from_db()
    assert alice.user.is_real_name_verified
    assert alice.user.id_number == ID_NUMBER
    assert alice.user.name == "Alice Verified"
    assert alice.user.real_name_method == "carrier3"


def test_verified_name_is_locked(alice):
    carrier3(alice)
    response = alice.api.patch("/me", {"name": "Someone Else"})
    assert response.status_code == 409
    assert error_code(response) == "identity_locked"
    alice.user.refresh_from_db()
    assert alice.user.name == "Alice Test"


def test_unverified_name_can_change(alice):
    response = alice.api.patch("/me", {"name": "Alice Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Alice Renamed"


def test_carrier3_without_phone_on_email_account_is_invalid(charlie):
    response = carrier3(charlie)
    assert response.status_code == 400
    assert error_code(response) == "phone_required"
    assert "phone" in response.json()["error"]["fields"]
    assert not charlie.user.verifications.exists()


def test_carrier3_with_explicit_phone_for_email_account(charlie):
    response = carrier3(charlie, phone="+8613800000031")
    assert response.status_code == 201
    assert response.json()["status"] == "verified"


def test_someone_elses_phone_is_refused(alice):
    body = {
        "name": "Other Person",
        "id_number": ID_NUMBER,
        "method": "carrier3",
        "phone": "+8613800000044",
    }
    response = alice.api.post("/me/verification", body)
    assert response.status_code == 400
    assert error_code(response) == "phone_not_yours"
    assert not alice.user.verifications.exists()


# -- bank card 4 elements -------------------------------------------------------------------------


def test_bank4_with_luhn_valid_card(alice):
    own_phone(alice, "+8613800000011")
    response = alice.api.post(
        "/me/verification",
        {
            "name": "Alice Test",
            "id_number": ID_NUMBER,
            "method": "bank4",
            "card_number": CARD,
            "phone": "+8613800000011",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "verified"
    assert response.json()["method"] == "bank4"
    attempt = alice.user.verifications.get()
    assert attempt.card_masked == CARD[:4] + "*" * (len(CARD) - 8) + CARD[-4:]
    assert alice.api.get("/me").json()["real_name"]["method"] == "bank4"


def test_bank4_with_bad_card_checksum(alice):
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    response = alice.api.post(
        "/me/verification",
        {"name": "Alice Test", "id_number": ID_NUMBER, "method": "bank4", "card_number": bad},
    )
    assert response.status_code == 400
    assert error_code(response) == "bank_card_checksum"
    assert not alice.user.verifications.exists()


def test_bank4_reserved_phone_mismatch(alice):
    own_phone(alice, "+8613800009992")
    response = alice.api.post(
        "/me/verification",
        {
            "name": "Alice Test",
            "id_number": ID_NUMBER,
            "method": "bank4",
            "card_number": CARD,
            "phone": "+8613800009992",
        },
    )
    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    assert response.json()["failure"] == "mismatch"


# -- face -----------------------------------------------------------------------------------------


def start_face(person):
    return person.api.post(
        "/me/verification",
        {"name": person.user.name, "id_number": ID_NUMBER, "method": "face"},
    )


def test_face_start_is_pending_with_url(alice):
    response = start_face(alice)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["method"] == "face"
    assert face_path(response).startswith("/sandbox/face/")
    assert alice.api.get("/me").json()["real_name"]["status"] == "pending"
    assert alice.api.get("/me/verification").json()["status"] == "pending"


def test_face_pass_verifies(alice):
    started = start_face(alice)
    page = Client().post(face_path(started), {"result": "pass"})
    assert page.status_code == 200
    response = alice.api.get("/me/verification")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == started.json()["id"]
    assert body["status"] == "verified"
    assert body["face_url"] == ""
    real_name = alice.api.get("/me").json()["real_name"]
    assert real_name["status"] == "verified"
    assert real_name["method"] == "face"


def test_face_reject_fails(alice):
    started = start_face(alice)
    Client().post(face_path(started), {"result": "reject"})
    body = alice.api.get("/me/verification").json()
    assert body["status"] == "failed"
    assert body["failure"] == "mismatch"
    assert alice.api.get("/me").json()["real_name"]["status"] == "unverified"


def test_face_audit_events(alice):
    started = start_face(alice)
    Client().post(face_path(started), {"result": "pass"})
    alice.api.get("/me/verification")
    actions = list(
        AuditEvent.objects.filter(object_id=started.json()["id"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["person.verification_started", "person.verified"]


# -- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "id_number", "phone"),
    [
        ("Alice 不符", ID_NUMBER, "+8613800000001"),
        ("Alice Test", ID_NUMBER, "+8613800009992"),
        ("Alice Test", synthetic_id_number(999), "+8613800000001"),
    ],
    ids=["name", "phone", "id-sequence"],
)
def test_mismatch_magic_fails(alice, name, id_number, phone):
    response = carrier3(alice, name=name, id_number=id_number, phone=phone)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "failed"
    assert body["failure"] == "mismatch"
    assert body["message"] != ""
    alice.user.refresh_from_db()
    assert not alice.user.is_real_name_verified
    assert alice.user.id_number == ""


def test_provider_error_has_its_own_failure_and_message(alice):
    mismatch = carrier3(alice, phone="+8613800009992").json()
    outage = carrier3(alice, phone="+8613800009993").json()
    assert outage["status"] == "failed"
    assert outage["failure"] == "provider_error"
    assert outage["message"] != ""
    assert outage["message"] != mismatch["message"]


def test_failed_attempt_keeps_name_unlocked(alice):
    carrier3(alice, phone="+8613800009992")
    assert alice.api.patch("/me", {"name": "Alice Renamed"}).status_code == 200


@pytest.mark.parametrize(
    ("id_number", "code"),
    [
        (ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"), "id_number_checksum"),
        (synthetic_id_number(12, birth="19901332"), "id_number_birth_date"),
        (synthetic_id_number(13, region="990101"), "id_number_region"),
        ("11010119900307", "id_number_length"),
        ("11010119900307A23X", "id_number_format"),
    ],
    ids=["checksum", "date", "region", "length", "format"],
)
def test_invalid_id_number(alice, id_number, code):
    response = carrier3(alice, id_number=id_number)
    assert response.status_code == 400
    assert error_code(response) == code
    assert "id_number" in response.json()["error"]["fields"]
    assert not alice.user.verifications.exists()


def test_unknown_method(alice):
    response = alice.api.post(
        "/me/verification", {"name": "Alice Test", "id_number": ID_NUMBER, "method": "palm"}
    )
    assert response.status_code == 400
    assert error_code(response) == "method_invalid"
    assert "method" in response.json()["error"]["fields"]


def test_daily_limit(alice, settings):
    settings.PERSON_VERIFICATION_DAILY_LIMIT = 2
    assert carrier3(alice, phone="+8613800009992").status_code == 201
    assert carrier3(alice, phone="+8613800009992").status_code == 201
    response = carrier3(alice)
    assert response.status_code == 429
    assert error_code(response) == "verification_daily_limit"
    assert response["Retry-After"] == "86400"
    assert alice.user.verifications.count() == 2


def test_daily_limit_is_per_user(alice, bob, settings):
    settings.PERSON_VERIFICATION_DAILY_LIMIT = 2
    carrier3(alice, phone="+8613800009992")
    carrier3(alice, phone="+8613800009992")
    assert carrier3(bob).status_code == 201


def test_get_verification_none_started(alice):
    response = alice.api.get("/me/verification")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_get_verification_returns_latest(alice):
    carrier3(alice, phone="+8613800009992")
    latest = carrier3(alice, phone="+8613800000001").json()
    body = alice.api.get("/me/verification").json()
    assert body["id"] == latest["id"]
    assert body["status"] == "verified"


def test_verification_requires_sign_in():
    response = Api().post(
        "/me/verification", {"name": "X Y", "id_number": ID_NUMBER, "method": "carrier3"}
    )
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"


# -- audit ----------------------------------------------------------------------------------------


def test_audit_person_verified_has_masked_id(alice):
    attempt_id = carrier3(alice).json()["id"]
    event = AuditEvent.objects.get(action="person.verified")
    assert event.object_type == "person_verification"
    assert event.object_id == attempt_id
    assert event.actor_id == alice.user.id
    assert event.data["id_number"] == ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
    assert event.data["method"] == "carrier3"
    assert event.data["outcome"] == "match"


def test_audit_verification_failed_has_masked_id(alice):
    carrier3(alice, phone="+8613800009992")
    event = AuditEvent.objects.get(action="person.verification_failed")
    assert event.data["id_number"] == ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
    assert event.data["outcome"] == "mismatch"
    assert not AuditEvent.objects.filter(action="person.verified").exists()


def test_full_id_number_never_in_audit_data(alice, bob):
    carrier3(alice, phone="+8613800009992")
    carrier3(alice, phone="+8613800009993")
    carrier3(alice)
    start_face(bob)
    assert AuditEvent.objects.count() >= 4
    assert ID_NUMBER not in all_audit_data()
