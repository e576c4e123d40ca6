"""Certificates in the browser: the mailing part appears for a UKey only, and an application
signed with the SMS code lands in the enterprise's list."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from portsign.pki.models import CertificateApplication
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import last_code, make_enterprise, make_person

pytestmark = pytest.mark.e2e


def test_apply_for_a_ukey_certificate(browser, live_server, settings):
    settings.CODE_RESEND_SECONDS = 0
    admin = make_person("+8613800000051", "证书经办人")
    enterprise = make_enterprise(admin, "示例港口证书有限公司", 51)
    context, page = _signed_in(browser, live_server, admin.user)

    page.goto(f"/console/enterprise/{enterprise.id}/#certificates")
    form = page.get_by_test_id("certificate-form")
    mailing = form.get_by_test_id("mailing")
    expect(mailing).to_be_hidden()  # a cloud certificate is not mailed
    form.get_by_test_id("medium").select_option("ukey")
    expect(mailing).to_be_visible()
    form.get_by_test_id("mail_address").fill("连云港市示例路 1 号")
    form.get_by_test_id("term_years").select_option("1")
    form.get_by_test_id("send-code").click()
    expect(form.locator(".code-status")).not_to_be_empty()
    form.get_by_test_id("code").fill(last_code(admin.user.phone))
    if os.environ.get("PORTSIGN_SCREENSHOTS"):
        page.screenshot(
            path=os.environ["PORTSIGN_SCREENSHOTS"] + "/certificate-form.png", full_page=True
        )
    form.get_by_test_id("certificate-apply").click()

    expect(page.locator(".flash")).to_be_visible()
    expect(page.get_by_test_id("certificate-status")).to_have_count(1)
    application = CertificateApplication.objects.get()
    assert (application.medium, application.term_years, application.status) == (
        "ukey",
        1,
        "pending_delivery",
    )
    assert application.mail_address == "连云港市示例路 1 号"
    assert application.mail_recipient == "证书经办人"
    context.close()
