"""Seals in the browser: generate a contract seal and see it, upload a stamped scan and get the
extracted seal, grant the seal to a colleague."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.helpers import make_enterprise, make_person
from tests.seals.conftest import add_member
from tests.seals.test_extract import _scan, _stamp

pytestmark = pytest.mark.e2e


def _signed_in(browser, live_server, user, acting_as: str = "personal"):
    client = Client()
    client.force_login(user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as != "personal":
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _image_loaded(locator) -> bool:
    """Wait for the image to finish loading — visible is not loaded on a busy machine —
    and say whether it decoded to a picture (a broken image rejects decode())."""
    return locator.evaluate(
        """img => Promise.race([
            img.decode().then(() => img.naturalWidth > 0, () => false),
            new Promise(resolve => setTimeout(() => resolve(false), 15000)),
        ])"""
    )


def test_create_see_extract_and_grant(browser, live_server, tmp_path):
    admin = make_person("+8613800000041", "印章管理员")
    colleague = make_person("+8613800000042", "签署同事")
    enterprise = make_enterprise(admin, "示例港口物流有限公司", 41)
    add_member(enterprise, colleague, "signer")
    context, page = _signed_in(browser, live_server, admin.user)

    page.goto(f"/console/enterprise/{enterprise.id}/")
    page.get_by_test_id("seal-management").click()
    page.get_by_test_id("generate-type").select_option("contract")
    page.get_by_test_id("generate-submit").click()
    expect(page.locator(".flash")).to_contain_text("印章已创建")
    card = page.locator("figure[data-seal='合同专用章']")
    expect(card).to_be_visible()
    image = card.get_by_test_id("seal-image")
    expect(image).to_be_visible()
    assert _image_loaded(image)
    assert image.evaluate("img => img.naturalWidth") == 472  # 40 mm at 300 dpi

    scan = tmp_path / "collection-form.jpg"
    scan.write_bytes(_scan(_stamp()))
    page.get_by_test_id("scan-type").select_option("official")
    page.get_by_test_id("scan-file").set_input_files(str(scan))
    page.get_by_test_id("scan-submit").click()
    expect(page.get_by_test_id("scan-status").first).to_contain_text("待确认")
    extracted = page.get_by_test_id("scan-extracted").first
    expect(extracted).to_be_visible()
    assert _image_loaded(extracted)

    card.locator("summary").click()
    card.get_by_test_id("grant-members").select_option(label="签署同事")
    card.get_by_test_id("grant-submit").click()
    expect(page.locator(".flash")).to_contain_text("印章已授权")
    expect(
        page.locator("figure[data-seal='合同专用章'] [data-testid=seal-holders]")
    ).to_contain_text("签署同事")
    context.close()

    # The colleague sees the seal too, and holds it.
    other, colleague_page = _signed_in(browser, live_server, colleague.user)
    colleague_page.goto(f"/console/seals/enterprise/{enterprise.id}/")
    expect(
        colleague_page.locator("figure[data-seal='合同专用章'] [data-testid=seal-holders]")
    ).to_contain_text("签署同事")
    other.close()
