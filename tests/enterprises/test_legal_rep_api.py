"""Enterprise verification through the legal representative, and invitations."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.test import Client

from portsign.common.models import AuditEvent
from tests.helpers import (
    assert_isolated,
    error_code,
    give_materials,
    last_code,
    make_enterprise,
    outbox,
    synthetic_id_number,
)

REP_PHONE = "+8613800000077"


@pytest.fixture
def draft(alice):
    """An unverified enterprise of alice, its materials uploaded (every method needs them)."""
    return give_materials(
        alice, make_enterprise(alice, "Draft Harbour Co., Ltd.", 8, verified=False), 8
    )


def _start(person, enterprise, method="carrier3", phone=REP_PHONE, seq=80):
    return person.api.post(
        f"/enterprises/{enterprise.id}/verification/legal-rep",
        {"method": method, "legal_rep_id_number": synthetic_id_number(seq), "phone": phone},
    )


def test_carrier3_code_to_the_legal_rep_then_verified(alice, draft):
    started = _start(alice, draft)
    assert started.status_code == 201, started.content
    assert (started.json()["status"], started.json()["phone"]) == (
        "awaiting_code",
        "+86138****0077",
    )
    assert outbox(REP_PHONE)[-1].data["purpose"] == "legal_rep"
    confirmed = alice.api.post(
        f"/enterprises/{draft.id}/verification/legal-rep/confirm", {"code": last_code(REP_PHONE)}
    )
    assert confirmed.json()["status"] == "verified"
    enterprise = alice.api.get(f"/enterprises/{draft.id}").json()
    assert (enterprise["status"], enterprise["verification_method"]) == (
        "verified",
        "legal_rep_carrier3",
    )
    assert AuditEvent.objects.filter(action="enterprise.legal_rep_verified").count() == 1


def test_wrong_code_is_refused_and_nothing_verified(alice, draft):
    _start(alice, draft)
    code = last_code(REP_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    response = alice.api.post(
        f"/enterprises/{draft.id}/verification/legal-rep/confirm", {"code": wrong}
    )
    assert response.status_code == 400
    assert error_code(response) == "code_wrong"
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"


def test_carrier_mismatch_fails_the_attempt(alice, draft):
    _start(alice, draft, phone="+8613800009992")
    response = alice.api.post(
        f"/enterprises/{draft.id}/verification/legal-rep/confirm",
        {"code": last_code("+8613800009992")},
    )
    assert (response.json()["status"], response.json()["failure"]) == ("failed", "mismatch")
    again = alice.api.post(
        f"/enterprises/{draft.id}/verification/legal-rep/confirm", {"code": "123456"}
    )
    assert again.status_code == 409
    assert error_code(again) == "not_open"


def test_face_of_the_legal_rep(alice, draft):
    started = _start(alice, draft, method="face").json()
    assert started["status"] == "awaiting_face"
    pending = alice.api.get(f"/enterprises/{draft.id}/verification/legal-rep").json()
    assert pending["status"] == "awaiting_face"
    Client().post(urlparse(started["face_url"]).path, {"result": "pass"})
    done = alice.api.get(f"/enterprises/{draft.id}/verification/legal-rep").json()
    assert done["status"] == "verified"
    assert alice.api.get(f"/enterprises/{draft.id}").json()["verification_method"] == (
        "legal_rep_face"
    )


def test_unknown_method_and_bad_id(alice, draft):
    assert error_code(_start(alice, draft, method="fax")) == "method_invalid"
    bad = alice.api.post(
        f"/enterprises/{draft.id}/verification/legal-rep",
        {"method": "carrier3", "legal_rep_id_number": "110101199003071230", "phone": REP_PHONE},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"].keys() == {"legal_rep_id_number"}


def test_verified_enterprise_refuses_a_new_attempt(alice, acme):
    response = _start(alice, acme)
    assert response.status_code == 409
    assert error_code(response) == "already_verified"


def test_invitation_lands_the_invitee_in_the_enterprise(alice, acme, bob):
    # bob's phone is +8613800000002
    invited = alice.api.post(f"/enterprises/{acme.id}/invitations", {"account": bob.account})
    assert invited.status_code == 201, invited.content
    token = urlparse(outbox(bob.account)[-1].data["url"]).path.rstrip("/").split("/")[-1]
    assert error_code(alice.api.post(f"/invitations/{token}/accept")) == "invitation_not_yours"
    accepted = bob.api.post(f"/invitations/{token}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["role"]["key"] == "member"
    assert error_code(bob.api.post(f"/invitations/{token}/accept")) == "invitation_closed"
    assert [e["id"] for e in bob.api.get("/me").json()["enterprises"]] == [acme.id]


def test_invitation_needs_a_verified_enterprise(alice, draft):
    response = alice.api.post(f"/enterprises/{draft.id}/invitations", {"account": "13800000055"})
    assert response.status_code == 409
    assert error_code(response) == "enterprise_not_verified"


def test_unknown_invitation_token_is_404(bob):
    assert bob.api.post("/invitations/not-a-token/accept").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/invitations", {"account": "13800000056"}, 201),
        ("GET", "/authorization-letter.pdf", None, 200),
    ],
)
@pytest.mark.parametrize("intruder_name", ["bob", "charlie"])
def test_new_enterprise_endpoints_are_isolated(
    request, alice, acme, globex, intruder_name, method, path, body, status
):
    intruder = request.getfixturevalue(intruder_name)
    if body and intruder_name == "charlie":
        body = {"account": "13800000057"}
    assert_isolated(
        alice, intruder, method, f"/enterprises/{acme.id}{path}", body, owner_status=status
    )


def test_legal_rep_endpoints_are_isolated(alice, bob, draft, globex):
    assert bob.api.get(f"/enterprises/{draft.id}/verification/legal-rep").status_code == 404
    assert _start(bob, draft).status_code == 404
    assert (
        bob.api.post(
            f"/enterprises/{draft.id}/verification/legal-rep/confirm", {"code": "123456"}
        ).status_code
        == 404
    )


def test_sandbox_bank_page_makes_a_reverse_payment(alice, draft):
    started = alice.api.post(
        f"/enterprises/{draft.id}/verification",
        {"method": "reverse_deposit", "bank_name": "Test Bank", "bank_account": "62220000000088"},
    )
    reference = started.json()["reference"]
    page = Client()
    assert page.get("/sandbox/bank/").status_code == 200
    page.post(
        "/sandbox/bank/",
        {
            "from_account": "62220000000088",
            "from_name": "Draft Harbour Co., Ltd.",
            "amount": "0.01",
            "reference": reference,
        },
    )
    checked = alice.api.post(f"/enterprises/{draft.id}/verification/check-payment")
    assert checked.json()["status"] == "verified"


def test_legal_rep_must_be_the_registered_one(alice):
    draft = make_enterprise(alice, "Registry 不符 Co., Ltd.", 12, verified=False)
    give_materials(alice, draft, 12)
    response = _start(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "enterprise_mismatch"
    assert outbox(REP_PHONE) == []
    # A failed attempt (which opens the manual review), not a code to the phone.
    attempt = alice.api.get(f"/enterprises/{draft.id}/verification/legal-rep").json()
    assert (attempt["status"], attempt["failure"], attempt["phone"]) == (
        "failed",
        "not_legal_rep",
        "",
    )
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "unverified"


def test_a_legal_rep_phone_outside_the_mainland_is_refused(alice, draft):
    from portsign.enterprises.models import LegalRepVerification

    response = _start(alice, draft, phone="+85251234567")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "phone_not_mainland")
    assert list(response.json()["error"]["fields"]) == ["phone"]
    assert not LegalRepVerification.objects.filter(status="awaiting_code").exists()
