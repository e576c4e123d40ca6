"""Certificate authorization codes (证书授权码): administrators issue them, a member who is not
an administrator applies for the enterprise's certificate with one, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portsign.common.models import AuditEvent
from portsign.pki.authorizations import ALPHABET, LENGTH
from portsign.pki.models import CertificateApplication, CertificateAuthorization
from tests.helpers import assert_isolated, error_code, make_person, verify_person
from tests.pki.certificate_helpers import add_member, apply


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


@pytest.fixture
def handler(acme):
    """A verified member of Acme who is not an administrator."""
    person = verify_person(make_person("+8613800000005", "Handler Test"), 5)
    add_member(acme, person, "member")
    return person


def _issue(admin, enterprise) -> dict:
    response = admin.api.post(f"/enterprises/{enterprise.id}/certificate-authorizations")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_administrator_issues_a_code_shown_once(hierarchy, acme, alice, settings):
    settings.CERTIFICATE_AUTH_CODE_DAYS = 10
    before = timezone.now()
    body = _issue(alice, acme)
    assert len(body["code"]) == LENGTH
    assert set(body["code"]) <= set(ALPHABET)
    assert not set(body["code"]) & set("01OIL")
    row = CertificateAuthorization.objects.get(pk=body["id"])
    assert body["code"] not in row.code_hash
    assert before + timedelta(days=10) <= row.expires_at <= timezone.now() + timedelta(days=10)
    listed = alice.api.get(f"/enterprises/{acme.id}/certificate-authorizations").json()
    assert listed == [
        {
            "id": body["id"],
            "status": "active",
            "created_at": listed[0]["created_at"],
            "expires_at": listed[0]["expires_at"],
            "created_by": alice.user.name,
            "used_at": None,
            "used_by": None,
        }
    ]
    assert body["code"] not in str(listed)
    event = AuditEvent.objects.get(action="certificate.authorization_issued")
    assert (event.object_id, event.actor_id, event.acting_as) == (
        body["id"],
        alice.user.id,
        acme.id,
    )
    assert body["code"] not in str(event.data)


def test_a_member_without_a_code_may_not_apply(hierarchy, acme, handler):
    response = apply(handler, acme)
    assert response.status_code == 403
    assert error_code(response) == "authorization_code_required"
    assert not CertificateApplication.objects.exists()


def test_a_member_applies_once_with_a_code(hierarchy, acme, alice, handler):
    code = _issue(alice, acme)["code"]
    response = apply(handler, acme, authorization_code=code.lower()[:5] + " " + code[5:])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "issued"
    application = CertificateApplication.objects.get(pk=body["id"])
    assert application.applicant_id == handler.user.id
    assert application.authorization is not None
    assert application.authorization.used_by_id == handler.user.id
    listed = alice.api.get(f"/enterprises/{acme.id}/certificate-authorizations").json()
    assert (listed[0]["status"], listed[0]["used_by"]) == ("used", handler.user.name)
    assert AuditEvent.objects.filter(
        action="certificate.authorization_used", actor_id=handler.user.id
    ).exists()
    # The handler sees the enterprise's certificate, but may not manage it.
    assert handler.api.get(f"/certificates/{body['id']}").status_code == 200
    suspend = handler.api.post(f"/certificates/{body['id']}/suspend")
    assert (suspend.status_code, error_code(suspend)) == (403, "permission_denied")

    again = apply(handler, acme, authorization_code=code)
    assert again.status_code == 400
    assert error_code(again) == "authorization_code_used"
    assert list(again.json()["error"]["fields"]) == ["authorization_code"]
    assert CertificateApplication.objects.count() == 1


def test_an_expired_code_is_refused(hierarchy, acme, alice, handler):
    issued = _issue(alice, acme)
    CertificateAuthorization.objects.filter(pk=issued["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = apply(handler, acme, authorization_code=issued["code"])
    assert response.status_code == 400
    assert error_code(response) == "authorization_code_expired"
    listed = alice.api.get(f"/enterprises/{acme.id}/certificate-authorizations").json()
    assert listed[0]["status"] == "expired"


def test_a_wrong_code_is_refused(hierarchy, acme, alice, handler):
    _issue(alice, acme)
    response = apply(handler, acme, authorization_code="ABCDEFGHJK")
    assert response.status_code == 400
    assert error_code(response) == "authorization_code_wrong"


def test_another_enterprises_code_does_not_work(hierarchy, acme, globex, alice, bob, handler):
    theirs = _issue(bob, globex)["code"]
    response = apply(handler, acme, authorization_code=theirs)
    assert error_code(response) == "authorization_code_wrong"
    assert (
        CertificateAuthorization.objects.get(enterprise=globex).used_at is None
    )  # still theirs to use


def test_a_wrong_sms_code_keeps_the_authorization_code(hierarchy, acme, alice, handler):
    from tests.pki.certificate_helpers import certificate_code

    code = _issue(alice, acme)["code"]
    certificate_code(handler)
    wrong = apply(handler, acme, code="000000", authorization_code=code)
    assert error_code(wrong) == "code_wrong"
    assert apply(handler, acme, authorization_code=code).status_code == 201


def test_an_administrator_needs_no_code_and_spends_none(hierarchy, acme, alice):
    code = _issue(alice, acme)["code"]
    assert apply(alice, acme, authorization_code=code).status_code == 201
    assert apply(alice, acme).status_code == 201
    assert CertificateAuthorization.objects.get().used_at is None
    assert CertificateApplication.objects.filter(authorization__isnull=False).count() == 0


def test_only_administrators_issue_and_list_codes(hierarchy, acme, handler):
    issued = handler.api.post(f"/enterprises/{acme.id}/certificate-authorizations")
    assert (issued.status_code, error_code(issued)) == (403, "permission_denied")
    listed = handler.api.get(f"/enterprises/{acme.id}/certificate-authorizations")
    assert (listed.status_code, error_code(listed)) == (403, "permission_denied")


def test_codes_are_isolated_between_enterprises(hierarchy, acme, globex, alice, bob):
    path = f"/enterprises/{acme.id}/certificate-authorizations"
    assert_isolated(alice, bob, "POST", path, owner_status=201)
    assert_isolated(alice, bob, "GET", path)
    outsider = apply(bob, acme, authorization_code=_issue(alice, acme)["code"])
    assert (outsider.status_code, error_code(outsider)) == (404, "not_found")


def test_an_unverified_enterprise_gets_no_codes(hierarchy, alice):
    from tests.helpers import make_enterprise

    draft = make_enterprise(alice, "Draft Shipping Co., Ltd.", 7, verified=False)
    response = alice.api.post(f"/enterprises/{draft.id}/certificate-authorizations")
    assert (response.status_code, error_code(response)) == (409, "enterprise_not_verified")


def test_a_code_is_never_kept_for_idempotent_replay(hierarchy, acme, alice):
    from portsign.common.models import IdempotencyRecord

    path = f"/enterprises/{acme.id}/certificate-authorizations"
    first = alice.api.post(path, headers={"Idempotency-Key": "issue-1"}).json()
    again = alice.api.post(path, headers={"Idempotency-Key": "issue-1"}).json()
    assert first["code"] != again["code"]
    assert not IdempotencyRecord.objects.exists()
