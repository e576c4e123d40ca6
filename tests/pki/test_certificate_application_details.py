"""Certificate, invoice and mailing information of an application (SPEC C5, seed 003 信息确认)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from portsign.common.models import AuditEvent
from portsign.pki.applications import signing_certificate
from portsign.pki.models import CertificateApplication
from tests.helpers import error_code, outbox, verify_person
from tests.pki.certificate_helpers import apply


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


def _fields(response) -> dict:
    return response.json()["error"]["fields"]


@pytest.mark.parametrize("years", [1, 2, 3])
def test_the_term_sets_the_validity(hierarchy, acme, alice, years):
    body = apply(alice, acme, term_years=years).json()
    assert (body["status"], body["term_years"], body["medium"]) == ("issued", years, "cloud")
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    # Issued five minutes back-dated, valid 365 days a year.
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(
        days=365 * years, minutes=5
    )


def test_the_term_defaults_to_two_years(hierarchy, acme, alice):
    body = apply(alice, acme).json()
    assert body["term_years"] == 2
    assert CertificateApplication.objects.get(pk=body["id"]).term_years == 2


@pytest.mark.parametrize("years", [0, 4, -1])
def test_a_term_other_than_1_2_3_years_is_refused(hierarchy, acme, alice, years):
    response = apply(alice, acme, term_years=years)
    assert response.status_code == 400
    assert error_code(response) == "term_invalid"
    assert list(_fields(response)) == ["term_years"]
    assert not CertificateApplication.objects.exists()


def test_an_unknown_medium_is_refused(hierarchy, acme, alice):
    response = apply(alice, acme, medium="paper")
    assert response.status_code == 400
    assert error_code(response) == "medium_invalid"


def test_the_enterprise_invoice_title_is_always_the_enterprise(hierarchy, acme, alice):
    body = apply(alice, acme, invoice_title="Somebody Else Ltd.").json()
    assert body["invoice"] == {"title": acme.name, "tax_number": "", "email": ""}
    assert CertificateApplication.objects.get(pk=body["id"]).invoice_title == acme.name


def test_a_personal_invoice_title_defaults_to_the_verified_name(hierarchy, alice):
    verify_person(alice, 21)
    body = apply(alice).json()
    assert body["invoice"]["title"] == alice.user.name


def test_a_person_may_choose_the_invoice_title(hierarchy, alice):
    verify_person(alice, 21)
    assert apply(alice, invoice_title="  My  Studio ").json()["invoice"]["title"] == "My Studio"


def test_a_too_long_personal_invoice_title_is_refused(hierarchy, alice):
    verify_person(alice, 21)
    response = apply(alice, invoice_title="x" * 101)
    assert response.status_code == 400
    assert error_code(response) == "invoice_invalid"


def test_tax_number_and_invoice_email_are_optional_and_normalised(hierarchy, acme, alice):
    body = apply(
        alice, acme, invoice_tax_number=" 91310000 ma1fl0xx3x ", invoice_email="Billing@Acme.CN"
    ).json()
    assert body["invoice"] == {
        "title": acme.name,
        "tax_number": "91310000MA1FL0XX3X",
        "email": "billing@acme.cn",
    }


@pytest.mark.parametrize("tax", ["12345678901234", "123456789012345678901", "91310000MA1FL0-X3X"])
def test_a_malformed_tax_number_is_refused(hierarchy, acme, alice, tax):
    response = apply(alice, acme, invoice_tax_number=tax)
    assert response.status_code == 400
    assert error_code(response) == "invoice_tax_number_invalid"
    assert list(_fields(response)) == ["invoice_tax_number"]


def test_a_malformed_invoice_email_is_refused(hierarchy, acme, alice):
    response = apply(alice, acme, invoice_email="billing@")
    assert response.status_code == 400
    assert error_code(response) == "email_invalid"
    assert list(_fields(response)) == ["invoice_email"]


def test_a_cloud_certificate_takes_no_mailing(hierarchy, acme, alice):
    body = apply(alice, acme, mail_recipient="Somebody", mail_address="1 Harbour Road").json()
    assert body["mailing"] is None
    row = CertificateApplication.objects.get(pk=body["id"])
    assert (row.mail_recipient, row.mail_phone, row.mail_address) == ("", "", "")


def test_a_ukey_needs_a_mailing_address(hierarchy, acme, alice):
    response = apply(alice, acme, medium="ukey")
    assert response.status_code == 400
    assert error_code(response) == "mail_address_invalid"
    assert list(_fields(response)) == ["mail_address"]
    short = apply(alice, acme, medium="ukey", mail_address="Pier")
    assert error_code(short) == "mail_address_invalid"


def test_a_ukey_recipient_defaults_to_the_handler(hierarchy, acme, alice):
    body = apply(alice, acme, medium="ukey", mail_address="1 Harbour Road, Lianyungang").json()
    assert body["mailing"] == {
        "recipient": alice.user.name,
        "phone": alice.user.phone,
        "address": "1 Harbour Road, Lianyungang",
    }


def test_a_ukey_recipient_may_be_someone_else(hierarchy, acme, alice):
    body = apply(
        alice,
        acme,
        medium="ukey",
        mail_recipient="Front Desk",
        mail_phone="139 0000 0009",
        mail_address="1 Harbour Road, Lianyungang",
    ).json()
    assert body["mailing"]["recipient"] == "Front Desk"
    assert body["mailing"]["phone"] == "+8613900000009"


def test_a_ukey_recipient_phone_must_be_a_mainland_mobile(hierarchy, acme, alice):
    response = apply(alice, acme, medium="ukey", mail_phone="12345", mail_address="1 Harbour Road")
    assert response.status_code == 400
    assert error_code(response) == "phone_invalid"
    assert list(_fields(response)) == ["mail_phone"]


def test_a_too_long_recipient_is_refused(hierarchy, acme, alice):
    response = apply(
        alice, acme, medium="ukey", mail_recipient="x" * 51, mail_address="1 Harbour Road"
    )
    assert error_code(response) == "mail_recipient_invalid"


def test_an_approved_ukey_waits_for_offline_delivery(hierarchy, acme, alice):
    body = apply(alice, acme, medium="ukey", mail_address="1 Harbour Road, Lianyungang").json()
    assert (body["status"], body["serial"], body["pem"]) == ("pending_delivery", None, None)
    assert "1 Harbour Road" not in outbox(alice.user.phone)[-1].text  # the address stays private
    assert alice.user.name in outbox(alice.user.phone)[-1].text
    assert AuditEvent.objects.filter(
        action="certificate.approved_for_delivery", object_id=body["id"]
    ).exists()
    # Only a cloud certificate signs on PortSign.
    assert signing_certificate(enterprise_id=acme.id) is None


def test_a_ukey_under_admin_approval_waits_then_goes_to_delivery(hierarchy, acme, alice, settings):
    settings.CERTIFICATE_APPROVAL = "enterprise_admin"
    body = apply(alice, acme, medium="ukey", mail_address="1 Harbour Road, Lianyungang").json()
    assert body["status"] == "pending"
    approved = alice.api.post(f"/certificates/{body['id']}/approve").json()
    assert approved["status"] == "pending_delivery"
    suspend = alice.api.post(f"/certificates/{body['id']}/suspend")
    assert (suspend.status_code, error_code(suspend)) == (409, "not_issued")


def test_invalid_details_do_not_spend_the_code(hierarchy, acme, alice):
    from tests.pki.certificate_helpers import certificate_code

    code = certificate_code(alice)
    assert error_code(apply(alice, acme, code=code, term_years=9)) == "term_invalid"
    assert apply(alice, acme, code=code).status_code == 201


def test_the_application_is_audited_with_its_details(hierarchy, acme, alice):
    body = apply(alice, acme, term_years=3).json()
    event = AuditEvent.objects.get(action="certificate.applied", object_id=body["id"])
    assert event.data == {
        "term_years": 3,
        "medium": "cloud",
        "renews": "",
        "authorization": "",
        "materials": [acme.licence_sha256],  # uploaded to verify the enterprise
    }
