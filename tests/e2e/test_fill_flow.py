"""A party-filled template field in Chromium (issue 6 §1): the sender marks a field as filled by
乙方 in the designer and sends a contract from the template; the partner's signer fills it in on
the contract page, then signs; the value is in the signed PDF, which both verifiers accept."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.contracts.domain import documents
from portsign.contracts.models import Contract, Template
from tests.contracts.conftest import contract_seal, give_certificate, pdf_bytes
from tests.contracts.template_helpers import pdf_text
from tests.e2e.test_contract_flow import _sign_here
from tests.e2e.test_seals_flow import _signed_in
from tests.e2e.test_templates_flow import _place
from tests.helpers import make_enterprise, make_person
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.e2e


def test_the_partner_fills_in_its_field_then_signs(browser, live_server, tmp_path):
    sender = make_person("+8613800000071", "模板发起人")
    signer = make_person("+8613800000072", "理货签署人")
    port = make_enterprise(sender, "示例港务集团有限公司", 71)
    tally = make_enterprise(signer, "示例外轮理货有限公司", 72)
    give_certificate(signer, tally)
    contract_seal(signer, tally)
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
    _place(page, "tpl-tool-text", 200, 120)
    page.get_by_test_id("tpl-prop-key").fill("vessel")
    page.get_by_test_id("tpl-prop-label").fill("船名航次")
    _place(page, "tpl-tool-text", 200, 200)
    page.get_by_test_id("tpl-prop-key").fill("contact")
    page.get_by_test_id("tpl-prop-label").fill("乙方联系人")
    page.get_by_test_id("tpl-prop-required").check()
    page.get_by_test_id("tpl-prop-filled-by").select_option(label="由乙方填写")
    expect(page.get_by_test_id("tpl-box").nth(1)).to_contain_text("乙方联系人 · 乙方")
    page.get_by_test_id("tpl-save").click()
    expect(page.get_by_test_id("tpl-status")).to_have_attribute("data-state", "saved")
    template = Template.objects.get()
    assert [
        (f.key, f.filled_by, f.role.name if f.role else None) for f in template.fields.all()
    ] == [
        ("vessel", "sender", None),
        ("contact", "party", "乙方"),
    ]

    # The sender's form asks only for the sender's field.
    page.goto(f"/console/contracts/templates/{template.id}/use/")
    expect(page.get_by_test_id("use-field-contact")).to_have_count(0)
    expect(page.get_by_test_id("use-party-fields")).to_contain_text("乙方联系人（乙方）")
    page.get_by_test_id("use-field-vessel").fill("演示轮 V.201")
    page.get_by_test_id("use-party-enterprise").fill(tally.name)
    page.get_by_test_id("use-party-account").fill("13800000072")
    page.get_by_test_id("use-send").click()
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")
    expect(page.get_by_test_id("fill-waiting")).to_contain_text("乙方")
    contract = Contract.objects.get()
    context.close()

    context, page = _signed_in(browser, live_server, signer.user, acting_as=tally.id)
    page.goto(f"/console/contracts/{contract.id}/")
    expect(page.get_by_test_id("palette")).to_have_count(0)  # fill in first
    page.get_by_test_id("fill-field-contact").fill("李四 138-0000-0009")
    page.get_by_test_id("fill-submit").click()
    expect(page.get_by_test_id("fill-waiting")).to_have_count(0)
    expect(page.get_by_test_id("palette")).to_be_visible()
    _sign_here(page, contract.id, "+8613800000072")
    context.close()

    contract.refresh_from_db()
    assert contract.status == "completed"
    assert list(contract.versions.values_list("kind", flat=True)) == [
        "prepared",
        "filled",
        "signed",
        "archived",
    ]
    signed = documents.read_document(contract.current)
    text = pdf_text(signed)
    assert "演示轮 V.201" in text
    assert "李四 138-0000-0009" in text
    names = [s.field_name for s in PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures]
    assert len(names) == 1
    assert_verifiers_accept(signed, tmp_path, names)
