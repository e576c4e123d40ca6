"""The E-Port card office in Chromium (issue 14): the office reviewer issues the enterprise's
legal-person card and an operator card; the main administrator changes the legal-person card's
initial PIN, signs in with the card, reports the operator card lost (confirming the dialog) and
cancels the loss report. And the enterprise's card page at phone width does not scroll sideways.

Card tokens are real SoftHSM2 tokens in the test's own directory (tests/conftest.py)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from portsign.eport.enums import CardAction, CardStatus
from portsign.eport.models import Card, Operator
from tests.e2e.test_seals_flow import _signed_in
from tests.eport.card_helpers import NEW_PIN, card_world
from tests.eport.conftest import HAIKOU, Offices, make_enterprise_in, reviewer_of

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _label(choice) -> str:
    """The word the Chinese console shows for a status or an action."""
    with translation.override("zh-hans"):
        return str(choice.label)


def _world(alice):
    offices = Offices()
    reviewer = reviewer_of(offices.city, "+8613800000021", "City Reviewer Test")
    haikou = make_enterprise_in(alice, "海口椰风国际贸易有限公司", 31, HAIKOU)
    return card_world(alice, haikou, reviewer)


def _expect_status(page, status: CardStatus) -> None:
    badge = page.get_by_test_id("card-status").first
    expect(badge).to_have_attribute("data-status", str(status))
    expect(badge).to_have_text(_label(status))


def _expect_history(page, actions: list[CardAction]) -> None:
    rows = page.get_by_test_id("card-history").locator("tbody tr")
    expect(rows).to_have_count(len(actions))
    for row, action in zip(rows.all(), actions, strict=True):
        expect(row).to_have_attribute("data-action", str(action))
        expect(row).to_contain_text(_label(action))


def _issue(review, uscc: str, holder_testid: str, medium: str) -> None:
    review.goto("/console/eport/office/cards/")
    review.get_by_test_id("issue-card").click()
    review.get_by_test_id("issue-uscc").fill(uscc)
    review.get_by_test_id("issue-find").click()
    review.get_by_test_id(holder_testid).check()
    review.get_by_test_id("issue-medium").select_option(medium)
    review.get_by_test_id("issue-submit").click()
    expect(review).to_have_url(re.compile(r"/console/eport/office/cards/[0-9A-Z]{26}/$"))


def test_the_office_issues_cards_and_the_legal_person_card_reports_an_operator_card_lost(
    browser, live_server, alice
):
    world = _world(alice)
    uscc = world.enterprise.uscc
    operator_number = Operator.objects.get(pk=world.operator_id).number
    review_context, review = _signed_in(browser, live_server, world.reviewer.user)
    context, page = _signed_in(browser, live_server, alice.user, acting_as=world.enterprise.id)
    try:
        # The office issues the legal-person card (UKey) and the operator's card (IC card).
        review.goto("/console/eport/reviews/")
        review.get_by_test_id("open-card-office").click()
        _issue(review, uscc, "holder-legal_person", "ukey")
        legal = Card.objects.get(kind="legal_person")
        expect(review.get_by_test_id("card-number")).to_have_text(legal.number)
        _expect_status(review, CardStatus.ACTIVE)
        expect(review.get_by_test_id("card-pin-state")).to_have_attribute("data-pin", "initial")
        _expect_history(review, [CardAction.ISSUE])
        _issue(review, uscc, f"holder-operator-{operator_number}", "ic")
        operator = Card.objects.get(kind="operator")
        expect(review.get_by_test_id("card-number")).to_have_text(operator.number)
        _expect_status(review, CardStatus.ACTIVE)
        review.goto("/console/eport/office/cards/")
        for card in (legal, operator):
            expect(review.get_by_test_id(f"status-{card.number}")).to_have_attribute(
                "data-status", "active"
            )

        # The main administrator changes the legal-person card's initial PIN.
        page.goto("/console/eport/")
        page.get_by_test_id("open-my-cards").click()
        expect(page.get_by_test_id(f"must-change-{legal.number}")).to_be_visible()
        expect(page.get_by_test_id(f"pin-state-{legal.number}")).to_have_attribute(
            "data-pin", "initial"
        )
        page.get_by_test_id(f"change-pin-{legal.number}").click()
        page.get_by_test_id("pin").fill("88888888")
        page.get_by_test_id("new_pin").fill(NEW_PIN)
        page.get_by_test_id("new_pin2").fill(NEW_PIN)
        page.get_by_test_id("change-pin").click()
        expect(page.get_by_test_id(f"pin-state-{legal.number}")).to_have_attribute(
            "data-pin", "set"
        )
        expect(page.get_by_test_id(f"must-change-{legal.number}")).to_have_count(0)

        # ...signs in with it: the E-Port page of a legal-person card session.
        page.goto("/console/eport/cards/sign-in/")
        page.get_by_test_id("number").fill(legal.number)
        page.get_by_test_id("pin").fill(NEW_PIN)
        page.get_by_test_id("card-sign-in").click()
        expect(page).to_have_url(re.compile(r"/console/eport/$"))
        expect(page.get_by_test_id("card-session")).to_contain_text(legal.number)
        expect(page.get_by_test_id("subsystems").locator("[data-enabled=true]")).to_have_count(4)

        # ...opens the operator card and reports it lost, declining the dialog once.
        page.get_by_test_id("open-cards").click()
        page.get_by_test_id(f"open-card-{operator.number}").click()
        _expect_status(page, CardStatus.ACTIVE)
        dialogs: list[str] = []

        def decline(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", decline)
        page.get_by_test_id("move-report_loss").click()
        expect(page.get_by_test_id("move-report_loss")).to_be_visible()
        assert dialogs, "no confirmation was asked"
        assert operator.number in dialogs[0], dialogs
        _expect_status(page, CardStatus.ACTIVE)
        _expect_history(page, [CardAction.ISSUE])

        def accept(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        page.get_by_test_id("move-report_loss").click()
        _expect_status(page, CardStatus.LOST)
        _expect_history(page, [CardAction.ISSUE, CardAction.REPORT_LOSS])
        assert operator.number in dialogs[-1]

        page.once("dialog", accept)
        page.get_by_test_id("move-cancel_loss").click()
        _expect_status(page, CardStatus.ACTIVE)
        _expect_history(page, [CardAction.ISSUE, CardAction.REPORT_LOSS, CardAction.CANCEL_LOSS])

        # The enterprise's list and the office's query show the card in use again.
        page.goto("/console/eport/cards/")
        expect(page.get_by_test_id(f"status-{operator.number}")).to_have_attribute(
            "data-status", "active"
        )
        review.goto(f"/console/eport/office/cards/?number={operator.number}")
        expect(review.get_by_test_id("cards").locator("tbody tr")).to_have_count(1)
        review.get_by_test_id(f"open-card-{operator.number}").click()
        _expect_history(review, [CardAction.ISSUE, CardAction.REPORT_LOSS, CardAction.CANCEL_LOSS])
    finally:
        context.close()
        review_context.close()


def test_the_enterprise_card_page_fits_a_phone(browser, live_server, alice):
    world = _world(alice)
    world.issue()
    operator = world.issue_operator_card()
    context, page = _phone(browser, live_server, alice.user, world.enterprise.id)
    try:
        for path in ("/console/eport/cards/", f"/console/eport/cards/{operator['id']}/"):
            response = page.goto(path)
            assert response is not None, path
            assert response.status == 200, path
            page.wait_for_load_state("load")
            width = page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            )
            assert width <= PHONE["width"], f"{path} is {width} px wide"
    finally:
        context.close()


def _phone(browser, live_server, user, acting_as: str):
    """A phone-sized browser signed in as *user* acting for the enterprise."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="portsign.accounts.backends.AccountBackend")
    client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    context = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport=PHONE, has_touch=True
    )
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
