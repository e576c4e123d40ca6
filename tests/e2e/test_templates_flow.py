"""Templates in Chromium (issue 6 §1–2): the sender uploads a PDF, adds a signing role, places two
fields and a signing area, saves; bulk-sends it to two partner enterprises with a 3-row CSV and
watches the progress bar finish; a partner's signer sees the suggested seal position."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from portsign.contracts.models import BulkSend, Contract, Template
from tests.contracts.conftest import pdf_bytes
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person

pytestmark = pytest.mark.e2e


def _place(page, tool: str, x: float, y: float) -> None:
    page.get_by_test_id(tool).click()
    page.get_by_test_id("tpl-page-1").click(position={"x": x, "y": y})


def test_design_a_template_and_bulk_send_it(browser, live_server, tmp_path):
    sender = make_person("+8613800000061", "模板发起人")
    tally_signer = make_person("+8613800000062", "理货签署人")
    forwarder_signer = make_person("+8613800000063", "货代签署人")
    port = make_enterprise(sender, "示例港务集团有限公司", 61)
    tally = make_enterprise(tally_signer, "示例外轮理货有限公司", 62)
    forwarder = make_enterprise(forwarder_signer, "示例国际货运代理有限公司", 63)
    body = tmp_path / "tally-agreement.pdf"
    body.write_bytes(pdf_bytes(1, label="Container tally agreement"))

    context, page = _signed_in(browser, live_server, sender.user, acting_as=port.id)
    page.goto("/console/contracts/templates/")
    page.get_by_test_id("template-name").fill("集装箱理货协议")
    page.get_by_test_id("template-file").set_input_files(str(body))
    page.get_by_test_id("template-create").click()
    expect(page.get_by_test_id("tpl-page-1").locator("img")).to_be_visible()

    page.get_by_test_id("tpl-role-name").fill("乙方")
    page.get_by_test_id("tpl-role-add").click()
    expect(page.get_by_test_id("tpl-role")).to_have_count(1)
    _place(page, "tpl-tool-text", 200, 120)
    page.get_by_test_id("tpl-prop-key").fill("vessel")
    page.get_by_test_id("tpl-prop-label").fill("船名航次")
    page.get_by_test_id("tpl-prop-required").check()
    _place(page, "tpl-tool-number", 200, 180)
    page.get_by_test_id("tpl-prop-key").fill("teu")
    page.get_by_test_id("tpl-prop-label").fill("箱量")
    _place(page, "tpl-tool-area", 400, 420)
    expect(page.get_by_test_id("tpl-box")).to_have_count(3)
    expect(page.get_by_test_id("tpl-box").nth(0)).to_contain_text("船名航次")
    page.get_by_test_id("tpl-save").click()
    expect(page.get_by_test_id("tpl-status")).to_have_attribute("data-state", "saved")

    template = Template.objects.get()
    assert [(f.key, f.label, f.kind, f.required) for f in template.fields.all()] == [
        ("vessel", "船名航次", "text", True),
        ("teu", "箱量", "number", False),
    ]
    area = template.areas.get()
    assert (area.role.name, area.kind, area.page) == ("乙方", "seal", 1)

    rows = tmp_path / "rows.csv"
    with rows.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["vessel", "teu", "乙方.enterprise", "乙方.account"])
        writer.writerow(["演示轮 V.101", "20", tally.name, "13800000062"])
        writer.writerow(["演示轮 V.102", "35", forwarder.name, "13800000063"])
        writer.writerow(["演示轮 V.103", "8", tally.name, "13800000062"])
    page.get_by_test_id("template-bulk").click()
    page.get_by_test_id("bulk-file").set_input_files(str(rows))
    page.get_by_test_id("bulk-submit").click()
    expect(page.get_by_test_id("bulk-progress")).to_be_visible()
    # The page follows the job and reloads with every row once the bar is full.
    expect(page.get_by_test_id("bulk-rows")).to_be_visible(timeout=90000)
    expect(page.get_by_test_id("bulk-progress")).to_have_attribute("value", "3")
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 / 3")
    expect(page.get_by_test_id("bulk-failed")).to_have_text("0")
    expect(page.locator(".row-sent")).to_have_count(3)
    context.close()

    job = BulkSend.objects.get()
    assert (job.status, job.done, job.failed) == ("finished", 3, 0)
    sent = Contract.objects.order_by("created_at")
    assert [(c.status, c.parties.get().enterprise_id) for c in sent] == [
        ("signing", tally.id),
        ("signing", forwarder.id),
        ("signing", tally.id),
    ]

    other, partner = _signed_in(browser, live_server, tally_signer.user, acting_as=tally.id)
    partner.goto(f"/console/contracts/{sent[0].id}/")
    expect(partner.get_by_test_id("suggested-mark")).to_have_count(1)
    expect(partner.get_by_test_id("palette")).to_be_visible()
    other.close()
