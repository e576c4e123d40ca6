"""Cloud certificates for verified enterprises and persons: apply, approve, lifecycle."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from portsign.backoffice import domain as backoffice
from portsign.common.models import AuditEvent
from tests.helpers import error_code, last_code, outbox, verify_person


def _code(person) -> str:
    assert (
        person.api.post("/auth/codes", {"to": person.account, "purpose": "certificate"}).status_code
        == 202
    )
    return last_code(person.user.phone or person.user.email)


def _apply(person, enterprise=None, code=None):
    path = f"/enterprises/{enterprise.id}/certificates" if enterprise else "/me/certificates"
    return person.api.post(path, {"code": code or _code(person), "invoice_title": "Acme"})


def test_enterprise_certificate_is_issued_automatically(hierarchy, acme, alice, bob):
    response = _apply(alice, acme)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "issued"
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    assert format(cert.serial_number, "x") == body["serial"]
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == acme.name
    assert alice.api.get(f"/certificates/{body['id']}").json() == body
    assert bob.api.get(f"/certificates/{body['id']}").status_code == 404
    assert body["serial"] in outbox(alice.user.phone)[-1].text


def test_wrong_code_is_refused(hierarchy, acme, alice):
    _code(alice)
    response = _apply(alice, acme, code="000000")
    assert response.status_code == 400
    assert error_code(response) == "code_wrong"


def test_personal_certificate_hides_the_id_number(hierarchy, alice):
    verify_person(alice, 21)
    body = _apply(alice).json()
    assert body["status"] == "issued"
    assert body["enterprise_id"] is None
    assert alice.user.id_number not in body["pem"]


def test_unverified_person_cannot_apply(hierarchy, charlie):
    response = _apply(charlie)
    assert response.status_code == 409
    assert error_code(response) == "real_name_required"


def test_admin_approval_policy(hierarchy, acme, alice, settings):
    settings.CERTIFICATE_APPROVAL = "enterprise_admin"
    body = _apply(alice, acme).json()
    assert (body["status"], body["serial"]) == ("pending", None)
    approved = alice.api.post(f"/certificates/{body['id']}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "issued"
    again = alice.api.post(f"/certificates/{body['id']}/approve")
    assert error_code(again) == "already_decided"


def test_back_office_policy(hierarchy, acme, alice, charlie, settings):
    settings.CERTIFICATE_APPROVAL = "back_office"
    body = _apply(alice, acme).json()
    assert body["status"] == "pending"
    assert error_code(alice.api.post(f"/certificates/{body['id']}/approve")) == (
        "approval_not_yours"
    )
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    review = backoffice.review_queue(reviewer=charlie.user).get()
    backoffice.decide_review(
        reviewer=charlie.user, review_id=review.id, approve=True, opinion="材料齐全"
    )
    assert alice.api.get(f"/certificates/{body['id']}").json()["status"] == "issued"


def test_lifecycle_suspend_release_revoke(hierarchy, acme, alice):
    body = _apply(alice, acme).json()
    cid = body["id"]
    assert alice.api.post(f"/certificates/{cid}/suspend").json()["status"] == "suspended"
    assert alice.api.post(f"/certificates/{cid}/release").json()["status"] == "issued"
    revoked = alice.api.post(f"/certificates/{cid}/revoke", {"reason": "key_compromise"})
    assert revoked.json()["status"] == "revoked"
    again = alice.api.post(f"/certificates/{cid}/release")
    assert again.status_code == 409
    assert error_code(again) == "illegal_transition"
    changes = AuditEvent.objects.filter(action="pki.certificate_status_changed")
    assert [e.data["to"] for e in changes.order_by("seq")] == ["suspended", "valid", "revoked"]


@pytest.mark.parametrize("action", ["suspend", "release"])
def test_outsiders_cannot_touch_a_certificate(hierarchy, acme, alice, bob, action):
    cid = _apply(alice, acme).json()["id"]
    assert bob.api.post(f"/certificates/{cid}/{action}").status_code == 404


def test_unknown_revocation_reason_is_400(hierarchy, acme, alice):
    cid = _apply(alice, acme).json()["id"]
    response = alice.api.post(f"/certificates/{cid}/revoke", {"reason": "because"})
    assert response.status_code == 400
    assert error_code(response) == "reason_invalid"
    assert alice.api.get(f"/certificates/{cid}").json()["status"] == "issued"


def test_apply_from_the_enterprise_console(hierarchy, acme, alice):
    from django.test import Client

    web = Client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    web.post("/account/send-code/", {"purpose": "certificate", "account": alice.user.phone})
    response = web.post(
        f"/console/enterprise/{acme.id}/certificates/",
        {"code": last_code(alice.user.phone), "invoice_title": acme.name},
    )
    assert response["Location"] == f"/console/enterprise/{acme.id}/#certificates"
    page = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-status">已签发<' in page
