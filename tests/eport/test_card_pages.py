"""The E-Port card pages (issue 14) through Django's test client: card sign-in, the holder's
cards and PIN, the enterprise's cards with their lifecycle and permissions, the greyed-out
subsystems of a card session, and the office's card workspace.

Pages are read in English (the language cookie), so the assertions name the messages' msgids
whatever the Chinese catalogue says; the few Chinese words checked are part of the msgids."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portsign.eport.domain import card_lifecycle
from portsign.eport.enums import CardAction
from portsign.eport.models import Card
from portsign.pki.login_certificates import SESSION_KEY
from portsign.pki.models import IssuedCertificate
from tests.eport.card_helpers import NEW_PIN, change_pin
from tests.eport.conftest import ok

SIGN_IN = "/console/eport/cards/sign-in/"
WRONG_PIN = "13572468"


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _browser(person, acting_as: str = "") -> Client:
    client = _english(Client())
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as:
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _card_session(number: str, pin: str = NEW_PIN) -> Client:
    """A browser signed in on the card sign-in page."""
    client = _english(Client())
    response = client.post(SIGN_IN, {"number": number, "pin": pin})
    assert response.status_code == 302, _text(response)
    return client


def _ready(world) -> tuple[dict, dict]:
    """Both cards issued and their PINs changed."""
    legal, operator = world.issue(), world.issue_operator_card()
    ok(change_pin(world.admin, legal["id"]))
    ok(change_pin(world.operator_person, operator["id"]))
    return legal, operator


def _act(client: Client, card: dict, action: str, office: bool = False, **extra: str):
    prefix = "/console/eport/office/cards" if office else "/console/eport/cards"
    return client.post(f"{prefix}/{card['id']}/act/", {"action": action, **extra}, follow=True)


def _status(card: dict) -> str:
    return Card.objects.get(pk=card["id"]).status


# -- card sign-in -------------------------------------------------------------------------------


def test_the_login_page_links_to_the_card_sign_in_page():
    login = _text(_english(Client()).get("/account/login/"))
    assert f'href="{SIGN_IN}"' in login
    page = _english(Client()).get(SIGN_IN)
    assert page.status_code == 200
    text = _text(page)
    assert "插入IC卡/UKey 并输入口令" in text
    assert 'data-testid="embedded-reader"' in text  # the platform's own reader, said discreetly
    assert 'name="pin" type="password"' in text


def test_a_wrong_pin_says_how_many_tries_are_left(world):
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    response = _english(Client()).post(SIGN_IN, {"number": legal["number"], "pin": WRONG_PIN})
    assert response.status_code == 200
    text = _text(response)
    assert "Wrong PIN (1 wrong in a row). 4 tries left before the card locks." in text
    assert 'data-remaining="4"' in text
    assert "4 tries left." in text
    assert WRONG_PIN not in text  # a PIN is never written back into the page


def test_the_card_sign_in_refusals_are_messages_on_the_form(world):
    legal, operator = world.issue(), world.issue_operator_card()
    client = _english(Client())

    unknown = _text(client.post(SIGN_IN, {"number": "46010019999999", "pin": NEW_PIN}))
    assert "No card has this number." in unknown
    assert 'value="46010019999999"' in unknown  # the number is kept

    initial = _text(client.post(SIGN_IN, {"number": legal["number"], "pin": "88888888"}))
    assert "Change the card's initial PIN before using it." in initial
    assert 'data-testid="change-pin-link"' in initial
    assert 'href="/console/eport/cards/mine/"' in initial

    ok(change_pin(world.admin, legal["id"]))
    ok(change_pin(world.operator_person, operator["id"]))
    first = _text(client.post(SIGN_IN, {"number": operator["number"], "pin": NEW_PIN}))
    assert "The enterprise's first sign-in must be with its legal-person card." in first

    for _ in range(settings.CARD_PIN_TRIES):
        client.post(SIGN_IN, {"number": legal["number"], "pin": WRONG_PIN})
    locked = _text(client.post(SIGN_IN, {"number": legal["number"], "pin": NEW_PIN}))
    assert f"Card {legal['number']} is locked after too many wrong PINs." in locked
    assert 'data-code="card_locked"' in locked


def test_card_sign_in_opens_a_session_acting_for_the_enterprise(world):
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    client = _english(Client())
    response = client.post(SIGN_IN, {"number": legal["number"], "pin": NEW_PIN})
    assert response.status_code == 302
    assert response["Location"] == "/console/eport/"
    session = client.session
    assert session["acting_as"] == world.enterprise.id
    assert session[SESSION_KEY] == legal["certificate_id"]
    assert IssuedCertificate.objects.filter(pk=session[SESSION_KEY]).exists()
    page = _text(client.get("/console/eport/"))
    assert f"Signed in with the Legal-person card {legal['number']}" in page
    assert 'data-testid="card-session"' in page
    # The legal-person card may open every subsystem.
    assert page.count('data-enabled="true"') == 4
    assert 'data-enabled="false"' not in page


def test_card_sign_in_is_rate_limited_like_the_api(world, monkeypatch):
    from portsign.common import ratelimit

    calls = []
    real = ratelimit.enforce

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**{**kwargs, "limit": 1})

    monkeypatch.setattr(ratelimit, "enforce", counting)
    client = _english(Client())
    client.post(SIGN_IN, {"number": "46010019999999", "pin": NEW_PIN})
    refused = client.post(SIGN_IN, {"number": "46010019999999", "pin": NEW_PIN})
    assert refused.status_code == 429
    assert "Too many card sign-ins from this address" in _text(refused)
    assert calls[0]["scope"] == "card_login"


# -- the holder's cards and PIN -----------------------------------------------------------------


def test_my_cards_show_the_must_change_banner_until_the_pin_is_changed(world):
    legal = world.issue()
    client = _browser(world.admin)
    mine = _text(client.get("/console/eport/cards/mine/"))
    assert legal["number"] in mine
    assert f'data-testid="must-change-{legal["number"]}"' in mine
    assert "still has the initial PIN 88888888" in mine
    assert 'data-pin="initial"' in mine

    pin_page = f"/console/eport/cards/{legal['id']}/pin/"
    form = _text(client.get(pin_page))
    assert 'data-testid="must-change"' in form

    differ = _text(
        client.post(pin_page, {"pin": "88888888", "new_pin": NEW_PIN, "new_pin2": "24681350"})
    )
    assert "The two new PINs differ." in differ

    weak = _text(
        client.post(pin_page, {"pin": "88888888", "new_pin": "11111111", "new_pin2": "11111111"})
    )
    assert "Choose a PIN that is not the initial one" in weak

    wrong = _text(
        client.post(pin_page, {"pin": WRONG_PIN, "new_pin": NEW_PIN, "new_pin2": NEW_PIN})
    )
    assert "4 tries left before the card locks." in wrong
    assert 'data-remaining="4"' in wrong

    done = client.post(pin_page, {"pin": "88888888", "new_pin": NEW_PIN, "new_pin2": NEW_PIN})
    assert done.status_code == 302
    after = _text(client.get(done["Location"]))
    assert f"The PIN of card {legal['number']} was changed." in after
    assert "must-change-" not in after
    assert 'data-pin="set"' in after
    assert not Card.objects.get(pk=legal["id"]).pin_must_change


def test_only_the_holder_sees_the_pin_page(world, bob):
    legal = world.issue()
    pin_page = f"/console/eport/cards/{legal['id']}/pin/"
    assert _browser(bob).get(pin_page).status_code == 404
    # A member of the same enterprise who is not the holder: not found either.
    assert _browser(world.operator_person).get(pin_page).status_code == 404
    assert _browser(bob).post(pin_page, {"pin": "88888888", "new_pin": NEW_PIN}).status_code == 404


# -- the enterprise's cards ---------------------------------------------------------------------


def test_the_enterprise_card_page_lists_its_cards(world):
    legal, operator = world.issue(), world.issue_operator_card()
    client = _browser(world.admin, world.enterprise.id)
    index = _text(client.get("/console/eport/"))
    assert 'href="/console/eport/cards/"' in index
    page = client.get("/console/eport/cards/")
    assert page.status_code == 200
    text = _text(page)
    for card in (legal, operator):
        assert f'data-testid="card-{card["number"]}"' in text
    assert world.operator_person.user.name in text
    assert "2 cards" in text
    assert 'data-testid="no-card-session"' in text
    only_operator = _text(client.get("/console/eport/cards/?kind=operator"))
    assert operator["number"] in only_operator
    assert legal["number"] not in only_operator
    bad = client.get("/console/eport/cards/?expires_from=31-12-2030", follow=True)
    assert "Enter dates as YYYY-MM-DD." in _text(bad)


def test_a_password_session_is_asked_for_the_legal_person_card(world):
    legal, operator = world.issue(), world.issue_operator_card()
    client = _browser(world.admin, world.enterprise.id)
    page = _text(client.get(f"/console/eport/cards/{operator['id']}/"))
    assert 'data-testid="legal-person-card-required"' in page
    assert "请使用法人卡登录后操作" in page
    assert f'href="{SIGN_IN}"' in page
    assert 'data-testid="move-report_loss"' not in page
    assert 'data-testid="permission-form"' not in page
    assert "/registration-form.pdf" in page
    assert "/courier-form.pdf" not in page  # not mailed yet
    # Posting anyway is refused with the domain's message, not a 500.
    refused = _text(_act(client, operator, CardAction.REPORT_LOSS))
    assert (
        "Sign in with the enterprise's legal-person card to manage its operator cards." in refused
    )
    assert _status(operator) == "active"
    # The legal-person card is the office's to manage.
    legal_page = _text(client.get(f"/console/eport/cards/{legal['id']}/"))
    assert 'data-testid="office-manages"' in legal_page


def test_another_enterprises_card_is_a_404_page(world, bob):
    legal, operator = world.issue(), world.issue_operator_card()
    stranger = _browser(bob)
    for card in (legal, operator):
        assert stranger.get(f"/console/eport/cards/{card['id']}/").status_code == 404
        assert _act(stranger, card, CardAction.REPORT_LOSS).status_code == 404
        assert stranger.post(f"/console/eport/cards/{card['id']}/", {}).status_code == 404
    assert stranger.get(f"/console/eport/office/cards/{legal['id']}/").status_code == 404
    assert stranger.get("/console/eport/office/cards/").status_code == 404
    assert _act(stranger, legal, CardAction.FREEZE, office=True).status_code == 404
    assert _status(legal) == "active"


def test_the_legal_person_card_session_reports_an_operator_card_lost_and_cancels(world):
    legal, operator = _ready(world)
    session = _card_session(legal["number"])
    page = _text(session.get(f"/console/eport/cards/{operator['id']}/"))
    assert 'data-testid="legal-person-card-required"' not in page
    assert f"Report card {operator['number']} lost? Its certificate is put on hold at once" in page
    lost = _text(_act(session, operator, CardAction.REPORT_LOSS))
    assert f"Card {operator['number']} was reported lost; its certificate is on hold." in lost
    assert _status(operator) == "lost"
    assert 'data-status="lost"' in lost
    assert 'data-testid="lost-for-good"' in lost  # cancelling a lost card can say "for good"
    # A move from the wrong state is the domain's message.
    wrong = _text(_act(session, operator, CardAction.FREEZE))
    assert "is not possible" in wrong
    back = _text(_act(session, operator, CardAction.CANCEL_LOSS))
    assert "was cancelled; the card is in use again." in back
    assert _status(operator) == "active"
    actions = [e.action for e in Card.objects.get(pk=operator["id"]).events.all()]
    assert actions[-2:] == ["report_loss", "cancel_loss"]
    assert back.count('data-testid="history-row"') == len(actions)
    final = _text(session.get(f"/console/eport/cards/{operator['id']}/"))
    assert "Cancel card" in final
    assert "This is final" in final


def test_the_permission_editor_files_a_change_and_shows_its_status(world):
    legal, operator = _ready(world)
    session = _card_session(legal["number"])
    detail = f"/console/eport/cards/{operator['id']}/"
    form = _text(session.get(detail))
    assert 'data-testid="permission-form"' in form
    for code in ("declaration.upload", "payment.view", "express.declare", "export_receipts.entry"):
        assert f'value="{code}"' in form
    bad = _text(session.post(detail, {"permissions": ["payment.view"], "districts": "46, 4601"}))
    assert "A customs district code is 4 digits: 46." in bad
    assert 'value="46, 4601"' in bad  # what was typed is kept
    filed = session.post(
        detail, {"permissions": ["payment.view"], "districts": "4601"}, follow=True
    )
    text = _text(filed)
    assert "The permission change was declared to the office" in text
    assert 'data-testid="permission-filing-status" data-status="declared"' in text
    again = _text(session.post(detail, {"permissions": ["payment.view"], "districts": ""}))
    assert "A permission change of this card is waiting for the office." in again


def _auto_approve(world) -> None:
    ok(
        world.reviewer.api.patch(
            f"/eport/authorities/{world.reviewer_authority}", {"auto_approve": True}
        )
    )


def test_an_operator_card_session_sees_greyed_out_subsystems_with_the_reason(world):
    legal, operator = _ready(world)
    legal_session = _card_session(legal["number"])
    operator_session = _card_session(operator["number"])
    page = _text(operator_session.get("/console/eport/"))
    assert 'data-testid="card-session"' in page
    assert page.count('data-enabled="false"') == 4
    assert page.count("The card has no permission for it.") == 4
    assert "<a" not in page.split('data-testid="subsystems"')[1].split("</section>")[0]

    _auto_approve(world)
    filed = legal_session.post(
        f"/console/eport/cards/{operator['id']}/",
        {"permissions": ["payment.view", "payment.confirm"]},
        follow=True,
    )
    assert 'data-status="approved"' in _text(filed)
    page = _text(operator_session.get("/console/eport/"))
    assert 'data-testid="subsystem-payment" data-enabled="true"' in page
    assert page.count('data-enabled="false"') == 3
    assert "View · Confirm payment" in page

    # Five wrong PINs lock the card (its session stops counting as a card session); the legal-
    # person card unlocks it, which resets the PIN to 88888888: every subsystem greys out.
    stranger = _english(Client())
    for _ in range(settings.CARD_PIN_TRIES):
        stranger.post(SIGN_IN, {"number": operator["number"], "pin": WRONG_PIN})
    assert 'data-testid="card-session"' not in _text(operator_session.get("/console/eport/"))
    unlocked = _text(_act(legal_session, operator, CardAction.UNLOCK))
    assert "was unlocked; its PIN is 88888888 again and must be changed." in unlocked
    page = _text(operator_session.get("/console/eport/"))
    assert page.count("The card's initial PIN has not been changed.") == 4
    assert 'data-enabled="true"' not in page


def test_confirming_receipt_of_a_mailed_card(world):
    legal = world.issue()
    office = _browser(world.reviewer)
    office_page = f"/console/eport/office/cards/{legal['id']}/"
    missing = _text(office.post(office_page, {"tracking_number": "", "recipient": "Alice"}))
    assert "Fill in the mailing details." in missing
    assert "Required, at most 30 characters." in missing
    assert 'value="Alice"' in missing
    mailed = office.post(
        office_page,
        {
            "tracking_number": "ea123456789cn",
            "recipient": "Alice Test",
            "phone": "13800000001",
            "address": "海南省海口市龙华区滨海大道1号",
        },
        follow=True,
    )
    assert "EMS EA123456789CN" in _text(mailed)
    enterprise = _browser(world.admin, world.enterprise.id)
    detail = _text(enterprise.get(f"/console/eport/cards/{legal['id']}/"))
    assert 'data-testid="move-receive"' in detail
    assert "/courier-form.pdf" in detail
    received = _text(_act(enterprise, legal, CardAction.RECEIVE))
    assert f"Receipt of card {legal['number']} was confirmed." in received
    assert 'data-testid="move-receive"' not in received
    late = _text(
        office.post(
            office_page, {"tracking_number": "X1", "recipient": "A", "phone": "1", "address": "B"}
        )
    )
    assert "The enterprise has already received this card." in late


# -- the office's card workspace ----------------------------------------------------------------


def test_the_office_issues_cards_from_its_workspace(world):
    office = _browser(world.reviewer)
    reviews = _text(office.get("/console/eport/reviews/"))
    assert 'href="/console/eport/office/cards/"' in reviews
    issue = "/console/eport/office/cards/issue/"
    assert office.get(issue).status_code == 200
    unknown = _text(office.get(issue, {"uscc": "91460100MA5TXXXXXX"}))
    assert "None of the enterprises your office serves has this code." in unknown
    found = _text(office.get(issue, {"uscc": world.enterprise.uscc}))
    assert 'data-testid="holder-legal_person"' in found
    assert world.operator_person.user.name in found
    done = office.post(
        issue, {"uscc": world.enterprise.uscc, "holder": "legal_person", "medium": "ic"}
    )
    assert done.status_code == 302
    card = Card.objects.get(kind="legal_person")
    assert done["Location"] == f"/console/eport/office/cards/{card.id}/"
    assert card.medium == "ic"
    shown = _text(office.get(done["Location"]))
    assert f"The Legal-person card {card.number} was issued" in shown
    assert card.certificate.serial in shown
    twice = _text(office.post(issue, {"uscc": world.enterprise.uscc, "holder": "legal_person"}))
    assert "The enterprise already has a legal-person card; replace it instead." in twice
    operator = office.post(issue, {"uscc": world.enterprise.uscc, "holder": world.operator_id})
    assert operator.status_code == 302
    assert Card.objects.filter(kind="operator", operator_id=world.operator_id).exists()
    nobody = _text(office.post(issue, {"uscc": world.enterprise.uscc, "holder": "nobody"}))
    assert "No such operator in this enterprise." in nobody


def test_the_office_moves_the_legal_person_card(world):
    legal = world.issue()
    office = _browser(world.reviewer)
    page = _text(office.get(f"/console/eport/office/cards/{legal['id']}/"))
    for move in ("report_loss", "freeze", "extend", "replace", "cancel"):
        assert f'data-testid="move-{move}"' in page
    assert "data-confirm=" in page
    extended = _text(_act(office, legal, CardAction.EXTEND, office=True))
    assert "its PIN is 88888888 again and must be changed." in extended
    assert Card.objects.get(pk=legal["id"]).certificate_id != legal["certificate_id"]
    assert extended.count('data-testid="card-certificates"') == 1
    frozen = _text(_act(office, legal, CardAction.FREEZE, office=True))
    assert "was frozen; its certificate is on hold." in frozen
    assert _status(legal) == "frozen"
    assert 'data-testid="move-unfreeze"' in frozen
    refused = _text(_act(office, legal, CardAction.CANCEL, office=True, lost_for_good="on"))
    assert "Only a card reported lost can be cancelled as lost for good." in refused
    _act(office, legal, CardAction.UNFREEZE, office=True)
    replaced = office.post(
        f"/console/eport/office/cards/{legal['id']}/act/", {"action": "replace"}, follow=True
    )
    text = _text(replaced)
    new = Card.objects.get(replaces_id=legal["id"])
    assert f"was replaced by card {new.number}" in text
    assert replaced.redirect_chain[-1][0] == f"/console/eport/office/cards/{new.id}/"
    assert _status(legal) == "cancelled"
    # The office does not manage operator cards: the enterprise's legal-person card does.
    operator = world.issue_operator_card()
    operator_page = _text(office.get(f"/console/eport/office/cards/{operator['id']}/"))
    assert 'data-testid="enterprise-manages"' in operator_page
    assert 'data-testid="move-report_loss"' not in operator_page


def test_the_office_query_and_the_expiring_list(world):
    legal, operator = world.issue(), world.issue_operator_card()
    office = _browser(world.reviewer)
    base = "/console/eport/office/cards/"
    everything = _text(office.get(base))
    assert legal["number"] in everything
    assert operator["number"] in everything
    by_name = _text(office.get(base, {"holder_name": "olivia"}))
    assert operator["number"] in by_name
    assert legal["number"] not in by_name
    by_id = _text(office.get(base, {"id_number": world.admin.user.id_number}))
    assert legal["number"] in by_id
    assert operator["number"] not in by_id
    by_number = _text(office.get(base, {"number": legal["number"]}))
    assert "1 card" in by_number
    Card.objects.filter(pk=operator["id"]).update(pin_locked=True)
    locked = _text(office.get(base, {"status": "locked"}))
    assert operator["number"] in locked
    assert legal["number"] not in locked
    year = timezone.now().year + 10
    ranged = _text(
        office.get(base, {"expires_from": f"{year - 1}-01-01", "expires_to": f"{year + 1}-12-31"})
    )
    assert "2 cards" in ranged
    assert "No card found." in _text(office.get(base, {"expires_to": "2000-01-01"}))
    assert "Pages are numbered" in _text(office.get(base, {"page": "0"}))

    assert "No card found." in _text(office.get(base, {"tab": "expiring"}))
    soon = timezone.now() + dt.timedelta(days=30)
    IssuedCertificate.objects.filter(pk=legal["certificate_id"]).update(not_after=soon)
    expiring = _text(office.get(base, {"tab": "expiring"}))
    assert legal["number"] in expiring
    assert operator["number"] not in expiring
    assert "Expiring within 60 days" in expiring


def test_only_reviewers_open_the_card_office(world):
    client = _browser(world.admin, world.enterprise.id)
    assert client.get("/console/eport/office/cards/").status_code == 404
    assert client.get("/console/eport/office/cards/issue/").status_code == 404


@pytest.mark.parametrize("page", ["/console/eport/cards/", "/console/eport/cards/mine/"])
def test_a_personal_session_sees_the_card_pages(world, page):
    response = _browser(world.admin).get(page)
    assert response.status_code == 200


def test_lifecycle_refusals_never_500(world):
    legal, operator = _ready(world)
    session = _card_session(legal["number"])
    card_lifecycle.act(
        actor=world.admin.user,
        card_id=operator["id"],
        action=CardAction.CANCEL,
        acting=Card.objects.get(pk=legal["id"]),
    )
    for action in ("report_loss", "extend", "unlock", "replace", "receive", "nonsense"):
        response = _act(session, operator, action)
        assert response.status_code in (200, 404), action
    assert "is not possible" in _text(_act(session, operator, CardAction.REPORT_LOSS))
    assert "The card has not been mailed yet." in _text(_act(session, operator, "receive"))
