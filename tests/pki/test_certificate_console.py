"""Certificate forms in the web console: the enterprise page and the personal page."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portsign.pki.models import CertificateApplication, CertificateAuthorization
from tests.helpers import last_code, make_person, verify_person
from tests.pki.certificate_helpers import add_member, apply, expire_in, give_licence, pdf


@pytest.fixture(autouse=True)
def _quick_codes(settings):
    settings.CODE_RESEND_SECONDS = 0


def _web(person) -> Client:
    web = Client()
    web.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return web


def _code(web: Client, person) -> str:
    web.post("/account/send-code/", {"purpose": "certificate", "account": person.user.phone})
    return last_code(person.user.phone)


@pytest.fixture
def handler(acme):
    person = verify_person(make_person("+8613800000005", "Handler Test"), 5)
    add_member(acme, person, "member")
    return person


def test_the_enterprise_form_has_every_part(hierarchy, acme, alice):
    give_licence(acme)
    page = _web(alice).get(f"/console/enterprise/{acme.id}/").content.decode()
    for testid in ("term_years", "medium", "invoice_tax_number", "invoice_email", "materials"):
        assert f'data-testid="{testid}"' in page
    assert re.search(
        r'value="Acme Port Logistics Co., Ltd." readonly data-testid="invoice_title"', page
    )
    assert 'data-show-for="medium=ukey"' in page
    assert 'name="mail_address"' in page
    assert 'data-testid="licence-reused"' in page
    assert 'data-testid="authorization-issue"' in page
    assert 'name="authorization_code"' not in page  # administrators need none


def test_a_member_sees_the_code_field_and_no_administration(hierarchy, acme, handler):
    page = _web(handler).get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'name="authorization_code"' in page
    assert 'data-testid="authorization-issue"' not in page


def test_a_ukey_application_with_files_from_the_console(hierarchy, acme, alice):
    web = _web(alice)
    response = web.post(
        f"/console/enterprise/{acme.id}/certificates/",
        {
            "code": _code(web, alice),
            "term_years": "3",
            "medium": "ukey",
            "invoice_tax_number": "91310000MA1FL0XX3X",
            "mail_address": "1 Harbour Road, Lianyungang",
            "materials": [
                SimpleUploadedFile("a.pdf", pdf()),
                SimpleUploadedFile("b.pdf", pdf() + b"\n%more"),
            ],
        },
    )
    assert response["Location"] == f"/console/enterprise/{acme.id}/#certificates"
    application = CertificateApplication.objects.get()
    assert (application.status, application.term_years, application.medium) == (
        "pending_delivery",
        3,
        "ukey",
    )
    assert (application.mail_recipient, application.mail_phone) == (
        alice.user.name,
        alice.user.phone,
    )
    # The two files, after the business licence uploaded to verify the enterprise.
    assert [m.label for m in application.materials.order_by("position")] == [
        "business_licence",
        "material",
        "material",
    ]
    page = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-materials">3<' in page


def test_a_console_error_is_shown_and_nothing_is_applied(hierarchy, acme, alice):
    web = _web(alice)
    response = web.post(
        f"/console/enterprise/{acme.id}/certificates/",
        {"code": _code(web, alice), "medium": "ukey"},
        follow=True,
    )
    assert 'class="flash' in response.content.decode()
    assert not CertificateApplication.objects.exists()


def test_an_administrator_issues_a_code_a_member_uses_it(hierarchy, acme, alice, handler):
    page = _web(alice).post(f"/console/enterprise/{acme.id}/certificate-authorizations/")
    assert page.status_code == 200
    found = re.search(
        r'data-testid="new-authorization-code">[^<]*<code>([A-Z0-9]+)</code>', page.content.decode()
    )
    assert found is not None
    web = _web(handler)
    response = web.post(
        f"/console/enterprise/{acme.id}/certificates/",
        {"code": _code(web, handler), "authorization_code": found.group(1)},
    )
    assert response.status_code == 302
    assert CertificateApplication.objects.get().applicant_id == handler.user.id
    assert CertificateAuthorization.objects.get().used_by_id == handler.user.id
    listing = _web(alice).get(f"/console/enterprise/{acme.id}/").content.decode()
    assert found.group(1) not in listing
    assert 'data-testid="authorization-status">' in listing


def test_a_member_cannot_issue_codes_from_the_console(hierarchy, acme, handler):
    response = _web(handler).post(
        f"/console/enterprise/{acme.id}/certificate-authorizations/", follow=True
    )
    assert not CertificateAuthorization.objects.exists()
    assert 'class="flash' in response.content.decode()


def test_renew_from_the_enterprise_console(hierarchy, acme, alice):
    body = apply(alice, acme).json()
    web = _web(alice)
    assert (
        'data-testid="certificate-renew"'
        not in web.get(f"/console/enterprise/{acme.id}/").content.decode()
    )
    expire_in(body["id"], 30)
    assert (
        'data-testid="certificate-renew"'
        in web.get(f"/console/enterprise/{acme.id}/").content.decode()
    )
    response = web.post(
        f"/console/enterprise/{acme.id}/certificates/{body['id']}/renew/",
        {"code": _code(web, alice)},
    )
    assert response["Location"] == f"/console/enterprise/{acme.id}/#certificates"
    renewal = CertificateApplication.objects.get(renews_id=body["id"])
    assert (renewal.status, renewal.term_years) == ("issued", 2)


def test_renew_through_another_enterprises_url_is_404(hierarchy, acme, globex, alice, bob):
    body = apply(alice, acme).json()
    expire_in(body["id"], 30)
    web = _web(bob)
    response = web.post(
        f"/console/enterprise/{globex.id}/certificates/{body['id']}/renew/",
        {"code": _code(web, bob)},
    )
    assert response.status_code == 404
    assert not CertificateApplication.objects.filter(renews_id=body["id"]).exists()


def test_the_personal_card_lists_and_applies(hierarchy, alice):
    verify_person(alice, 21)
    web = _web(alice)
    page = web.get("/account/me/").content.decode()
    assert 'id="certificates"' in page
    assert 'data-testid="personal-certificate-form"' in page
    assert f'value="{alice.user.name}"' in page  # the invoice title's default
    response = web.post(
        "/account/me/certificates/",
        {"code": _code(web, alice), "term_years": "1", "invoice_email": "me@example.cn"},
    )
    assert response["Location"] == "/account/me/#certificates"
    application = CertificateApplication.objects.get()
    assert (application.enterprise_id, application.term_years, application.invoice_email) == (
        None,
        1,
        "me@example.cn",
    )
    page = web.get("/account/me/").content.decode()
    assert f"<code>{application.certificate.serial}</code>" in page
    assert 'data-testid="personal-certificate-status">已签发<' in page


def test_a_personal_form_error_is_shown_on_the_field(hierarchy, alice):
    verify_person(alice, 21)
    web = _web(alice)
    response = web.post(
        "/account/me/certificates/", {"code": _code(web, alice), "invoice_tax_number": "123"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="form-error"' in page
    assert 'value="123"' in page
    assert not CertificateApplication.objects.exists()


def test_renew_from_the_personal_card(hierarchy, alice, bob):
    verify_person(alice, 21)
    body = apply(alice).json()
    expire_in(body["id"], 20)
    web = _web(alice)
    assert 'data-testid="personal-certificate-renew"' in web.get("/account/me/").content.decode()
    response = web.post(
        f"/account/me/certificates/{body['id']}/renew/", {"code": _code(web, alice)}
    )
    assert response["Location"] == "/account/me/#certificates"
    assert CertificateApplication.objects.filter(renews_id=body["id"], status="issued").exists()
    other = _web(bob)
    assert (
        other.post(f"/account/me/certificates/{body['id']}/renew/", {"code": "123456"}).status_code
        == 404
    )
