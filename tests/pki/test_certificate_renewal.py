"""Renewal within 60 days of expiry (or after it), the `expired` status, and the one-time
expiry notice sent by `manage.py cleanup`."""

from __future__ import annotations

import io

import pytest
from cryptography import x509
from django.core.management import call_command

from portsign.common.models import AuditEvent
from portsign.pki.applications import signing_certificate
from portsign.pki.models import CertificateApplication, IssuedCertificate
from tests.helpers import error_code, make_person, outbox, verify_person
from tests.pki.certificate_helpers import add_member, apply, certificate_code, expire_in


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


@pytest.fixture
def issued(hierarchy, acme, alice) -> dict:
    response = apply(alice, acme, term_years=1)
    assert response.status_code == 201, response.content
    return response.json()


def _renew(person, application_id: str, **fields):
    body = {"code": fields.pop("code", None) or certificate_code(person), **fields}
    return person.api.post(f"/certificates/{application_id}/renew", body)


def test_renewal_is_refused_before_the_window(issued, alice):
    assert issued["renewable"] is False
    response = _renew(alice, issued["id"])
    assert response.status_code == 409
    assert error_code(response) == "renewal_too_early"
    assert CertificateApplication.objects.count() == 1


def test_renewal_issues_a_new_certificate_and_keeps_the_old_one(issued, acme, alice):
    old_cert = expire_in(issued["id"], 59)
    assert alice.api.get(f"/certificates/{issued['id']}").json()["renewable"] is True
    response = _renew(alice, issued["id"], term_years=3)
    assert response.status_code == 201, response.content
    new = response.json()
    assert (new["status"], new["renews"], new["term_years"]) == ("issued", issued["id"], 3)
    assert new["serial"] != issued["serial"]
    old_pem = x509.load_pem_x509_certificate(issued["pem"].encode())
    new_pem = x509.load_pem_x509_certificate(new["pem"].encode())
    assert new_pem.subject == old_pem.subject
    assert new_pem.public_key().public_numbers() != old_pem.public_key().public_numbers()
    # The old certificate stays valid until its own expiry; signing uses the new one.
    old = alice.api.get(f"/certificates/{issued['id']}").json()
    assert (old["status"], old["renewable"]) == ("issued", False)
    assert IssuedCertificate.objects.get(pk=old_cert.pk).status == "valid"
    assert signing_certificate(enterprise_id=acme.id).serial == new["serial"]
    assert AuditEvent.objects.filter(
        action="certificate.renewal_applied", object_id=new["id"]
    ).exists()
    twice = _renew(alice, issued["id"])
    assert (twice.status_code, error_code(twice)) == (409, "already_renewed")


def test_renewal_keeps_the_old_term_unless_another_is_chosen(issued, alice):
    expire_in(issued["id"], 10)
    assert _renew(alice, issued["id"]).json()["term_years"] == 1


def test_an_expired_certificate_may_be_renewed(issued, alice):
    expire_in(issued["id"], -3)
    assert alice.api.get(f"/certificates/{issued['id']}").json()["status"] == "expired"
    response = _renew(alice, issued["id"])
    assert response.status_code == 201
    assert response.json()["status"] == "issued"


def test_a_revoked_certificate_cannot_be_renewed(issued, alice):
    expire_in(issued["id"], 10)
    alice.api.post(f"/certificates/{issued['id']}/revoke", {"reason": "key_compromise"})
    response = _renew(alice, issued["id"])
    assert response.status_code == 409
    assert error_code(response) == "certificate_revoked"


def test_a_suspended_certificate_is_released_before_renewal(issued, alice):
    expire_in(issued["id"], 10)
    alice.api.post(f"/certificates/{issued['id']}/suspend")
    assert error_code(_renew(alice, issued["id"])) == "certificate_suspended"


def test_a_wrong_code_renews_nothing(issued, alice):
    expire_in(issued["id"], 10)
    certificate_code(alice)
    response = _renew(alice, issued["id"], code="000000")
    assert error_code(response) == "code_wrong"
    assert CertificateApplication.objects.count() == 1


def test_only_an_administrator_renews_the_enterprise_certificate(issued, acme, bob):
    expire_in(issued["id"], 10)
    assert _renew(bob, issued["id"]).status_code == 404  # an outsider
    verify_person(bob, 2)
    add_member(acme, bob, "member")
    response = _renew(bob, issued["id"])
    assert (response.status_code, error_code(response)) == (403, "permission_denied")


def test_a_person_renews_their_own_certificate(hierarchy, alice, bob):
    verify_person(alice, 21)
    mine = apply(alice).json()
    expire_in(mine["id"], 30)
    assert _renew(bob, mine["id"]).status_code == 404
    new = _renew(alice, mine["id"]).json()
    assert (new["status"], new["enterprise_id"], new["renews"]) == ("issued", None, mine["id"])
    assert signing_certificate(user_id=alice.user.id).serial == new["serial"]


def test_a_renewal_under_admin_approval_waits(issued, alice, settings):
    settings.CERTIFICATE_APPROVAL = "enterprise_admin"
    expire_in(issued["id"], 10)
    pending = _renew(alice, issued["id"]).json()
    assert pending["status"] == "pending"
    assert error_code(_renew(alice, issued["id"])) == "already_renewed"
    assert alice.api.post(f"/certificates/{pending['id']}/approve").json()["status"] == "issued"


def test_an_expired_certificate_never_signs(issued, acme, alice):
    expire_in(issued["id"], -1)
    body = alice.api.get(f"/certificates/{issued['id']}").json()
    assert body["status"] == "expired"
    listed = alice.api.get(f"/enterprises/{acme.id}/certificates").json()
    assert [(row["id"], row["status"]) for row in listed] == [(issued["id"], "expired")]
    assert signing_certificate(enterprise_id=acme.id) is None


def _cleanup() -> dict[str, int]:
    """The counts cleanup reports ("cleanup: a=1, b=0" → {"a": 1, "b": 0})."""
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    pairs = out.getvalue().strip().removeprefix("cleanup: ").split(", ")
    return {name: int(count) for name, count in (pair.split("=") for pair in pairs)}


def test_cleanup_sends_one_notice_before_expiry(issued, acme, alice, settings):
    settings.CERTIFICATE_EXPIRY_NOTICE_DAYS = 30
    before = len(outbox(alice.user.phone))
    assert _cleanup()["certificate_notices"] == 0  # a year left: nothing yet
    cert = expire_in(issued["id"], 20)
    assert _cleanup()["certificate_notices"] == 1
    notices = outbox(alice.user.phone)[before:]
    assert len(notices) == 1
    assert cert.serial in notices[0].text
    assert acme.name in notices[0].text
    application = CertificateApplication.objects.get(pk=issued["id"])
    assert application.expiry_notified_at is not None
    assert AuditEvent.objects.filter(
        action="certificate.expiry_notice_sent", object_id=issued["id"]
    ).exists()
    assert _cleanup()["certificate_notices"] == 0  # once only
    assert len(outbox(alice.user.phone)) == before + 1


def test_no_notice_for_a_renewed_or_revoked_certificate(hierarchy, acme, alice, settings):
    settings.CERTIFICATE_EXPIRY_NOTICE_DAYS = 30
    renewed, revoked = apply(alice, acme).json(), apply(alice, acme).json()
    expire_in(renewed["id"], 20)
    expire_in(revoked["id"], 20)
    assert _renew(alice, renewed["id"]).status_code == 201
    alice.api.post(f"/certificates/{revoked['id']}/revoke", {"reason": "superseded"})
    assert _cleanup()["certificate_notices"] == 0


def test_the_notice_goes_to_the_handler_who_applied(hierarchy, acme, alice, settings):
    handler = verify_person(make_person("+8613800000005", "Handler Test"), 5)
    add_member(acme, handler, "admin")
    body = apply(handler, acme).json()
    expire_in(body["id"], 5)
    to_alice = len(outbox(alice.user.phone))
    _cleanup()
    assert body["serial"] in outbox(handler.user.phone)[-1].text
    assert len(outbox(alice.user.phone)) == to_alice
