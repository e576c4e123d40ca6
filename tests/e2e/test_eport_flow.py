"""The E-Port office in Chromium (issue 12): an enterprise files all four onboarding filings,
the reviewer returns one with an opinion, the enterprise fixes and declares it again, and the
reviewer approves all four."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portsign.eport.domain import authorities
from portsign.eport.enums import AuthorityKind
from tests.e2e.test_seals_flow import _signed_in
from tests.helpers import make_enterprise, make_person, synthetic_id_number

pytestmark = pytest.mark.e2e

FORMS = {
    "enterprise_info": {
        "enterprise_type": "9",
        "enterprise_type_other": "港口综合服务",
        "registered_capital": "5000",
        "capital_unit": "wan_yuan",
        "legal_person_id_type": "resident_id",
        "legal_person_id_number": synthetic_id_number(71),
        "address": "上海市浦东新区示例路 1 号",
        "business_scope": "港口装卸、仓储",
        "aic_authority_code": "310000",
    },
    "customs": {"customs_code": "3101960001"},
    "forex": {"forex_bureau_code": "310000"},
    "commerce": {"commerce_authority_code": "3100"},
}


def _fill(page, values: dict[str, str]) -> None:
    for key, value in values.items():
        field = page.get_by_test_id(f"field-{key}")
        if field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _decide(page, filing_kind: str, button: str, opinion: str) -> None:
    page.goto("/console/eport/reviews/")
    page.get_by_test_id(f"review-{filing_kind}").click()
    page.get_by_test_id("review-opinion").fill(opinion)
    page.get_by_test_id(button).click()
    expect(page.get_by_test_id("review-opinion-shown")).to_contain_text(opinion)


def test_file_all_four_return_one_fix_it_approve_all(browser, live_server):
    national = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="100000", name="数据中心（测试）", parent=None
    )
    shanghai = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="310000", name="上海电子口岸（测试）", parent=national
    )
    clerk = make_person("+8613800000071", "测试经办人")
    acme = make_enterprise(clerk, "示例港务集团有限公司", 71)
    officer = make_person("+8613800000072", "测试审核员")
    authorities.add_reviewer(authority=shanghai, user=officer.user)

    context, page = _signed_in(browser, live_server, clerk.user, acting_as=acme.id)
    review_context, review = _signed_in(browser, live_server, officer.user)
    try:
        for kind, values in FORMS.items():
            page.goto("/console/eport/")
            page.get_by_test_id(f"start-{kind}").click()
            _fill(page, values)
            page.get_by_test_id("filing-declare").click()
            expect(page.get_by_test_id("filing-status")).to_have_text("申报")
        page.goto("/console/eport/")
        for kind in FORMS:
            expect(page.get_by_test_id(f"status-{kind}")).to_have_text("申报")

        review.goto("/console/eport/reviews/")
        expect(review.get_by_test_id("review-queue").locator("tbody tr")).to_have_count(4)
        _decide(review, "customs", "review-return", "请补充海关备案回执编号")
        expect(review.get_by_test_id("review-status-badge")).to_have_text("退回")

        page.goto("/console/eport/")
        expect(page.get_by_test_id("status-customs")).to_have_text("退回")
        expect(page.get_by_test_id("onboarding-customs")).to_contain_text("请补充海关备案回执编号")
        page.get_by_test_id("open-customs").click()
        expect(page.get_by_test_id("filing-opinion")).to_contain_text("请补充海关备案回执编号")
        _fill(page, {"receipt_number": "HG2026-0001"})
        page.get_by_test_id("filing-declare").click()
        expect(page.get_by_test_id("filing-status")).to_have_text("申报")

        for kind in FORMS:
            _decide(review, kind, "review-approve", "材料齐全，同意")
            expect(review.get_by_test_id("review-status-badge")).to_have_text("审核通过")
        page.goto("/console/eport/")
        for kind in FORMS:
            expect(page.get_by_test_id(f"status-{kind}")).to_have_text("审核通过")
    finally:
        context.close()
        review_context.close()
