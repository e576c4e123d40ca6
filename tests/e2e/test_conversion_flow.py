"""A Word contract in Chromium (issue 11 item 4): the upload answers at once, the form shows the
conversion's stage and time while a worker converts, then the draft is saved from the PDF; a
failed conversion says why and keeps the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.common import jobs
from portsign.contracts.models import Contract
from tests.contracts.conftest import pdf_bytes
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import FakeConverter, make_enterprise, make_person, word_bytes

pytestmark = pytest.mark.e2e


def _new_word_contract(page, tmp_path) -> None:
    docx = tmp_path / "港口作业合同.docx"
    docx.write_bytes(word_bytes())
    page.goto("/console/contracts/new/")
    page.get_by_test_id("contract-file").set_input_files(str(docx))
    page.get_by_test_id("contract-title").fill("港口作业合同")
    page.get_by_test_id("contract-create").click()


def test_a_word_contract_shows_its_conversion_then_becomes_a_draft(
    browser, live_server, tmp_path, monkeypatch, settings
):
    settings.CONVERSION_RUNNER = "thread"
    converter = FakeConverter(tmp_path / "bin", pdf_bytes(3), gated=True)
    monkeypatch.setenv("PATH", converter.path)
    sender = make_person("+8613800000061", "发起人")
    acme = make_enterprise(sender, "示例港务集团有限公司", 61)
    context, page = _signed_in(browser, live_server, sender.user, acting_as=acme.id)
    try:
        _new_word_contract(page, tmp_path)
        converter.wait_started()
        box = page.get_by_test_id("conversion")
        expect(box).to_be_visible()
        expect(box).to_contain_text("Word 转 PDF：正在转换")
        expect(page.get_by_test_id("conversion-progress")).to_have_attribute("value", "20")
        expect(page.get_by_test_id("contract-create")).to_be_disabled()
        converter.release()
        expect(page.get_by_test_id("contract-status")).to_have_text("草稿", timeout=30000)
        assert jobs.wait_idle(30)
        assert Contract.objects.get().body.pages == 3
    finally:
        converter.release()
        context.close()


def test_a_failed_conversion_says_why_and_keeps_the_form(
    browser, live_server, tmp_path, monkeypatch, settings
):
    settings.CONVERSION_RUNNER = "thread"
    converter = FakeConverter(tmp_path / "bin", pdf_bytes(1), gated=False, fails=True)
    monkeypatch.setenv("PATH", converter.path)
    sender = make_person("+8613800000062", "发起人")
    context, page = _signed_in(browser, live_server, sender.user)
    try:
        _new_word_contract(page, tmp_path)
        expect(page.get_by_test_id("conversion")).to_contain_text("Word 文件转换失败。")
        expect(page.get_by_test_id("contract-create")).to_be_enabled()
        expect(page.get_by_test_id("contract-title")).to_have_value("港口作业合同")
        assert jobs.wait_idle(30)
        assert Contract.objects.count() == 0
    finally:
        context.close()
