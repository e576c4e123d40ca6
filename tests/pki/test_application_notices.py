"""Issue 16 item 8: the applicant hears a certificate application's decision, and under the
`enterprise_admin` policy an administrator can reject (with a reason) as well as approve."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from portsign.backoffice import domain as backoffice
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.models import AuditEvent
from portsign.pki import applications, authorizations
from portsign.pki.models import CertificateApplication
from tests.helpers import Api, make_person, outbox, verify_person
from tests.pki.certificate_helpers import add_member, apply

ACME = "Acme Port Logistics Co., Ltd."
HANDLER_PHONE = "+8613800000005"


def _english_client() -> Client:
    """A console session in English (the console ignores Accept-Language: a cookie decides)."""
    web = Client()
    web.cookies["portsign_language"] = "en"
    return web


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


@pytest.fixture
def handler(acme):
    person = verify_person(make_person(HANDLER_PHONE, "Handler Test"), 5)
    add_member(acme, person, "member")
    return person


@pytest.fixture
def pending(hierarchy, acme, alice, handler, settings) -> str:
    """An application of the handler (with an authorization code) waiting for alice."""
    settings.CERTIFICATE_APPROVAL = "enterprise_admin"
    _row, code = authorizations.issue_authorization(actor=alice.user, enterprise_id=acme.id)
    body = apply(handler, acme, authorization_code=code).json()
    assert body["status"] == "pending", body
    return body["id"]


def _web(person) -> Client:
    web = _english_client()
    web.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return web


def _notices(to: str) -> list[tuple[str, str]]:
    return [(m.subject, m.text) for m in outbox(to) if m.subject.startswith("Certificate")]


def test_an_administrator_rejects_with_a_reason(alice, handler, pending):
    with translation.override("en"):
        rejected = applications.reject(
            actor=alice.user, application_id=pending, reason="Wrong invoice title"
        )
    assert (rejected.status, rejected.decision_reason, rejected.decided_by_id) == (
        "rejected",
        "Wrong invoice title",
        alice.user.id,
    )
    assert handler.api.get(f"/certificates/{pending}").json()["status"] == "rejected"
    assert _notices(HANDLER_PHONE) == [
        (
            "Certificate application rejected",
            f"【PortSign】Your certificate application for {ACME} was rejected: "
            "Wrong invoice title",
        )
    ]
    event = AuditEvent.objects.get(action="certificate.rejected")
    assert (event.object_id, event.data) == (
        pending,
        {"reason": "Wrong invoice title", "via": "enterprise_admin"},
    )
    with pytest.raises(Conflict) as again:
        applications.approve(actor=alice.user, application_id=pending)
    assert again.value.code == "already_decided"


def test_a_rejection_needs_a_reason(alice, pending):
    with pytest.raises(Invalid) as refused:
        applications.reject(actor=alice.user, application_id=pending, reason=" ")
    assert (refused.value.code, list(refused.value.fields)) == ("reason_required", ["reason"])
    assert CertificateApplication.objects.get(pk=pending).status == "pending"


def test_only_an_administrator_rejects(handler, bob, pending):
    with pytest.raises(Forbidden) as member:
        applications.reject(actor=handler.user, application_id=pending, reason="Not me")
    assert member.value.code == "permission_denied"
    with pytest.raises(NotFound):
        applications.reject(actor=bob.user, application_id=pending, reason="Outsider")
    assert CertificateApplication.objects.get(pk=pending).status == "pending"


def test_other_policies_leave_no_rejection_to_the_administrator(hierarchy, acme, alice, settings):
    settings.CERTIFICATE_APPROVAL = "back_office"
    body = apply(alice, acme).json()
    with pytest.raises(Forbidden) as refused:
        applications.reject(actor=alice.user, application_id=body["id"], reason="Mine to say")
    assert refused.value.code == "approval_not_yours"


def test_the_applicant_hears_the_approval(alice, handler, pending):
    english = Api(alice.token, language="en")
    approved = english.post(f"/certificates/{pending}/approve").json()
    assert approved["status"] == "issued"
    assert _notices(HANDLER_PHONE) == [
        (
            "Certificate issued",
            f"[PortSign] Your certificate has been issued (serial {approved['serial']}).",
        )
    ]


def test_the_console_approves_and_rejects(hierarchy, acme, alice, handler, pending):
    web = _web(alice)
    page = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-approve"' in page
    assert 'data-testid="certificate-reject"' in page
    # A member without the right to manage members sees no decision buttons.
    member_page = _web(handler).get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-approve"' not in member_page

    path = f"/console/enterprise/{acme.id}/certificates/{pending}/decide/"
    no_reason = web.post(path, {"decision": "reject", "reason": ""}, follow=True)
    assert "Give the applicant a reason for the rejection (2 to 300 characters)." in (
        no_reason.content.decode()
    )
    rejected = web.post(path, {"decision": "reject", "reason": "Apply as the finance clerk"})
    assert rejected["Location"] == f"/console/enterprise/{acme.id}/#certificates"
    application = CertificateApplication.objects.get(pk=pending)
    assert (application.status, application.decision_reason) == (
        "rejected",
        "Apply as the finance clerk",
    )
    page = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert ": Apply as the finance clerk</td>" in page
    assert 'data-testid="certificate-approve"' not in page
    assert _notices(HANDLER_PHONE)[-1][1] == (
        f"【PortSign】Your certificate application for {ACME} was rejected: "
        "Apply as the finance clerk"
    )


def test_the_console_approves(hierarchy, acme, alice, handler, pending):
    response = _web(alice).post(
        f"/console/enterprise/{acme.id}/certificates/{pending}/decide/", {"decision": "approve"}
    )
    assert response["Location"] == f"/console/enterprise/{acme.id}/#certificates"
    assert CertificateApplication.objects.get(pk=pending).status == "issued"


def test_the_console_decides_only_its_own_enterprises_applications(hierarchy, bob, globex, pending):
    web = _web(bob)
    response = web.post(
        f"/console/enterprise/{globex.id}/certificates/{pending}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 404
    assert CertificateApplication.objects.get(pk=pending).status == "pending"


def test_a_back_office_return_tells_the_applicant(hierarchy, acme, alice, charlie, settings):
    settings.CERTIFICATE_APPROVAL = "back_office"
    body = apply(alice, acme).json()
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    review = backoffice.review_queue(reviewer=charlie.user).get()
    with translation.override("en"):
        backoffice.decide_review(
            reviewer=charlie.user, review_id=review.id, approve=False, opinion="Licence expired"
        )
    application = CertificateApplication.objects.get(pk=body["id"])
    assert (application.status, application.decision_reason, application.decided_by_id) == (
        "rejected",
        "Licence expired",
        charlie.user.id,
    )
    assert _notices(alice.user.phone)[-1] == (
        "Certificate application rejected",
        f"【PortSign】Your certificate application for {ACME} was rejected: Licence expired",
    )
    assert AuditEvent.objects.get(action="certificate.rejected").data["via"] == "back_office"


def test_a_personal_rejection_names_the_person(hierarchy, alice, charlie, settings):
    settings.CERTIFICATE_APPROVAL = "back_office"
    verify_person(alice, 21)
    body = apply(alice).json()
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    review = backoffice.review_queue(reviewer=charlie.user).get()
    with translation.override("en"):
        backoffice.decide_review(
            reviewer=charlie.user, review_id=review.id, approve=False, opinion="Photo unclear"
        )
    assert CertificateApplication.objects.get(pk=body["id"]).status == "rejected"
    assert _notices(alice.user.phone)[-1][1] == (
        "【PortSign】Your certificate application for Alice Test was rejected: Photo unclear"
    )


def test_the_api_rejects_with_a_reason(alice, handler, pending):
    english = Api(alice.token, language="en")
    no_reason = english.post(f"/certificates/{pending}/reject", {"reason": ""})
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (400, "reason_required")
    member = handler.api.post(f"/certificates/{pending}/reject", {"reason": "Not mine"})
    assert (member.status_code, member.json()["error"]["code"]) == (403, "permission_denied")
    rejected = english.post(f"/certificates/{pending}/reject", {"reason": "Wrong invoice title"})
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    again = english.post(f"/certificates/{pending}/approve")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_decided")
    assert _notices(HANDLER_PHONE) == [
        (
            "Certificate application rejected",
            f"【PortSign】Your certificate application for {ACME} was rejected: "
            "Wrong invoice title",
        )
    ]
