"""Issue 13 item 7 in Chromium: the box page's counts, search by number, status filter, the
per-row 签署 button, and completed contracts ticked and downloaded as one zip."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import expect

from portsign.contracts.domain.documents import read_document
from portsign.contracts.models import Contract
from tests.contracts.test_boxes_search import complete, send_to
from tests.e2e.test_seals_flow import _signed_in

pytestmark = pytest.mark.e2e


def test_search_filter_sign_and_zip(browser, live_server, alice, bob, acme, globex, tmp_path):
    made = {
        title: send_to(alice, acme.id, bob, globex, title)
        for title in ("集装箱理货协议", "港口作业合同", "堆场租赁合同")
    }
    complete(made["集装箱理货协议"]["id"])
    complete(made["堆场租赁合同"]["id"])
    numbers = {title: Contract.objects.get(pk=c["id"]).number for title, c in made.items()}

    # Globex signs first: one contract waits for it, with its 签署 button.
    context, page = _signed_in(browser, live_server, bob.user, acting_as=globex.id)
    page.goto("/console/contracts/")
    expect(page.get_by_test_id("box-count-to_sign")).to_have_text("1")
    expect(page.get_by_test_id("box-count-completed")).to_have_text("2")
    row = page.locator('[data-testid="contracts"] tbody tr')
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("contract-number")).to_have_text(numbers["港口作业合同"])
    row.get_by_test_id("row-sign").click()
    page.wait_for_url(f"**/console/contracts/{made['港口作业合同']['id']}/#sign")
    context.close()

    context, page = _signed_in(browser, live_server, alice.user, acting_as=acme.id)
    page.goto("/console/contracts/?box=sent")
    expect(page.get_by_test_id("box-count-sent")).to_have_text("3")
    # Search by number: exactly that contract.
    page.get_by_test_id("box-search").fill(numbers["堆场租赁合同"].lower())
    page.get_by_test_id("box-filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_have_attribute("data-contract", "堆场租赁合同")
    # A status filter instead: the completed ones, newest first.
    page.get_by_test_id("box-search").fill("")
    page.get_by_test_id("box-status").select_option(label="已完成")
    page.get_by_test_id("box-filter").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    assert page.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.contract)") == [
        "堆场租赁合同",
        "集装箱理货协议",
    ]
    expect(page.get_by_test_id("box-total")).to_contain_text("共 2 份合同")
    # Tick both and download them as one zip.
    for checkbox in page.get_by_test_id("zip-choose").all():
        checkbox.check()
    with page.expect_download() as download:
        page.get_by_test_id("zip-selected").click()
    saved = tmp_path / "chosen.zip"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist() == [
            f"堆场租赁合同-{numbers['堆场租赁合同']}.pdf",
            f"集装箱理货协议-{numbers['集装箱理货协议']}.pdf",
        ]
        current = Contract.objects.get(pk=made["堆场租赁合同"]["id"]).current
        assert archive.read(f"堆场租赁合同-{numbers['堆场租赁合同']}.pdf") == read_document(current)
    context.close()
