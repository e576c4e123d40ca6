"""Paperless customs and entrusted declaration in Chromium (issue 15): the consignor signs in
with its legal-person card and signs the paperless agreement for 青岛 (4200); the customs
reviewer receives and approves it; the consignor's operator entrusts a declaration to a
registered broker, whose operator confirms it with his card; both download the same PDF, which
every verifier accepts.

Card tokens are real SoftHSM2 tokens in the test's own directory (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portsign.eport.domain import districts
from portsign.eport.models import Authority, Entrustment, PaperlessAgreement
from tests.e2e.test_card_office_flow import _world
from tests.e2e.test_seals_flow import _signed_in
from tests.eport.card_helpers import NEW_PIN
from tests.eport.conftest import SANYA, make_enterprise_in, reviewer_of
from tests.eport.customs_helpers import customs_reviewers
from tests.eport.entrustment_helpers import BROKER_CUSTOMS_CODE, goods, trade_world
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.e2e


def _card_session(browser, live_server, number: str):
    """A browser signed in with an E-Port card, as its holder does it."""
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto("/console/eport/cards/sign-in/")
    page.get_by_test_id("number").fill(number)
    page.get_by_test_id("pin").fill(NEW_PIN)
    page.get_by_test_id("card-sign-in").click()
    expect(page).to_have_url(re.compile(r"/console/eport/$"))
    return context, page


def _download(page, testid: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    path = info.value.path()
    assert path is not None
    with open(path, "rb") as handle:
        return handle.read()


def _entrust(page, trade) -> None:
    """The consignor's operator finds the broker, accepts the general terms, fills in the
    委托书 and one 委托报关协议, and signs with the card."""
    broker = trade.broker.enterprise
    page.goto("/console/eport/")
    page.get_by_test_id("open-entrustment-new").click()
    page.get_by_test_id("counterpart-query").fill(BROKER_CUSTOMS_CODE)
    page.get_by_test_id("counterpart-find").click()
    page.get_by_test_id(f"choose-{broker.id}").click()
    page.get_by_test_id("accept-terms").check()
    page.get_by_test_id("district").fill("4201")
    valid_until = timezone.localdate() + dt.timedelta(days=30)
    page.get_by_test_id("valid_until").fill(valid_until.isoformat())
    for key, value in goods().items():
        field = page.get_by_test_id(f"goods[0].{key}")
        if key == "currency":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_test_id("pin").fill(NEW_PIN)
    page.get_by_test_id("entrustment-sign").click()
    expect(page).to_have_url(re.compile(r"/console/eport/entrustments/[0-9A-Z]{26}/$"))
    expect(page.get_by_test_id("entrustment-status")).to_have_attribute(
        "data-status", "awaiting_confirmation"
    )


def test_a_paperless_agreement_then_an_entrustment_confirmed_by_the_broker(
    browser, live_server, alice, bob, tmp_path
):
    districts.load()
    world = _world(alice)
    province = reviewer_of(
        Authority.objects.get(kind="office", code="460000"),
        "+8613800000022",
        "Province Reviewer Test",
    )
    sanya = make_enterprise_in(bob, "三亚蓝湾报关行有限公司", 32, SANYA)
    customs = customs_reviewers()
    trade = trade_world(world, customs, bob, sanya, province, agreement=False)
    contexts = []
    try:
        # The consignor's legal-person card signs the agreement for 青岛.
        context, page = _card_session(browser, live_server, trade.consignor.legal_card["number"])
        contexts.append(context)
        page.get_by_test_id("open-agreement-sign").click()
        expect(page.get_by_test_id("district-4200")).to_be_visible()
        page.get_by_test_id("district-4200").check()
        page.get_by_test_id("accept-terms").check()
        page.get_by_test_id("pin").fill(NEW_PIN)
        page.get_by_test_id("agreement-sign").click()
        expect(page).to_have_url(re.compile(r"/console/eport/agreements/$"))
        agreement = PaperlessAgreement.objects.get(district_id="4200")
        expect(page.get_by_test_id("agreement-4200")).to_have_attribute(
            "data-status", "sent_to_customs"
        )

        # Customs receives it, then approves it.
        review_context, review = _signed_in(browser, live_server, customs.qingdao.user)
        contexts.append(review_context)
        review.goto("/console/eport/customs/agreements/")
        review.get_by_test_id(f"open-agreement-{agreement.id}").click()
        review.get_by_test_id("agreement-receive").click()
        expect(review.get_by_test_id("agreement-status")).to_have_attribute(
            "data-status", "received"
        )
        review.get_by_test_id("agreement-approve").click()
        expect(review.get_by_test_id("agreement-status")).to_have_attribute(
            "data-status", "approved"
        )
        agreement.refresh_from_db()
        assert agreement.status == "approved"

        # The consignor's operator entrusts a declaration to the broker.
        op_context, operator = _card_session(
            browser, live_server, trade.consignor.operator_card["number"]
        )
        contexts.append(op_context)
        _entrust(operator, trade)
        entrustment = Entrustment.objects.get()
        assert entrustment.status == "awaiting_confirmation"

        # The broker's operator confirms it with his card.
        broker_context, broker = _card_session(
            browser, live_server, trade.broker.operator_card["number"]
        )
        contexts.append(broker_context)
        broker.goto("/console/eport/entrustments/")
        broker.get_by_test_id(f"open-entrustment-{entrustment.number}").click()
        broker.get_by_test_id("confirm-form").get_by_test_id("pin").fill(NEW_PIN)
        broker.get_by_test_id("entrustment-confirm").click()
        expect(broker.get_by_test_id("entrustment-status")).to_have_attribute(
            "data-status", "effective"
        )
        entrustment.refresh_from_db()
        assert entrustment.status == "effective"

        # Both download the same PDF, and every verifier accepts its two card signatures.
        operator.goto(f"/console/eport/entrustments/{entrustment.id}/")
        mine = _download(operator, "entrustment-document")
        theirs = _download(broker, "entrustment-document")
        assert mine == theirs
        assert_verifiers_accept(mine, tmp_path, ["PortSign-2-E", "PortSign-3-E"])
    finally:
        for context in contexts:
            context.close()
