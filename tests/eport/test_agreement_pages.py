"""The 通关无纸化三方协议 pages (issue 15 point 2) through Django's test client: 三方协议签约 with
the legal-person card, 三方协议查询 with each agreement's history, PDF and 解约, and customs'
queue with 入库, 审批通过 and 退回.

Pages are read in English (the language cookie), so the assertions name the messages' msgids
whatever the Chinese catalogue says; the Chinese words checked are part of the msgids or data."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.test import Client

from portsign.eport.domain.agreement_documents import TERMS, TITLE
from portsign.eport.models import AgreementEvent, PaperlessAgreement
from tests.eport.card_helpers import NEW_PIN, change_pin
from tests.eport.conftest import ok
from tests.eport.customs_helpers import NANJING, QINGDAO, customs_reviewers

pytestmark = pytest.mark.usefixtures("district_table")

SIGN_IN = "/console/eport/cards/sign-in/"
LIST = "/console/eport/agreements/"
SIGN = "/console/eport/agreements/sign/"
QUEUE = "/console/eport/customs/agreements/"
WRONG_PIN = "13572468"


@pytest.fixture
def customs(world):
    return customs_reviewers()


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


def _legal_session(world) -> tuple[dict, Client]:
    """The legal-person card issued, its PIN changed, and a browser signed in with it."""
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    client = _english(Client())
    response = client.post(SIGN_IN, {"number": legal["number"], "pin": NEW_PIN})
    assert response.status_code == 302, _text(response)
    return legal, client


def _sign(client: Client, codes: list[str], pin: str = NEW_PIN, accept: bool = True):
    data: dict[str, object] = {"districts": codes, "pin": pin}
    if accept:
        data["accept_terms"] = "on"
    return client.post(SIGN, data)


def _offered(page: str) -> list[str]:
    return re.findall(r'name="districts" value="(\d{4})"', page)


def _checked(page: str) -> list[str]:
    return re.findall(r'name="districts" value="(\d{4})" checked', page)


def _terms_accepted(page: str) -> bool:
    return 'name="accept_terms" checked' in page


def _history(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="history-row" data-action="(\w+)" data-status="(\w+)"', page)


def _signed(world, client: Client) -> PaperlessAgreement:
    response = _sign(client, [QINGDAO])
    assert response.status_code == 302, _text(response)
    return PaperlessAgreement.objects.get(enterprise=world.enterprise, district_id=QINGDAO)


# -- 三方协议签约 --------------------------------------------------------------------------------


def test_the_signing_page_refuses_a_password_session_with_the_reason(world, customs):
    client = _browser(world.admin, world.enterprise.id)
    index = _text(client.get("/console/eport/"))
    assert f'href="{LIST}" data-testid="open-agreements"' in index
    assert f'href="{SIGN}" data-testid="open-agreement-sign"' in index
    page = client.get(SIGN)
    assert page.status_code == 200
    text = _text(page)
    assert 'data-testid="sign-refused" data-code="legal_person_card_required"' in text
    assert (
        "Sign in with the enterprise's legal-person card to sign or terminate paperless agreements."
        in text
    )
    assert "请使用法人卡登录后操作" in text
    assert f'href="{SIGN_IN}" data-testid="card-sign-in-link"' in text
    assert 'data-testid="agreement-sign-form"' not in text
    refused = client.post(SIGN, {"districts": [QINGDAO], "accept_terms": "on", "pin": NEW_PIN})
    assert refused.status_code == 403
    assert 'data-code="legal_person_card_required"' in _text(refused)
    assert PaperlessAgreement.objects.count() == 0
    # The UI is Chinese by default.
    chinese = Client()
    chinese.force_login(world.admin.user, backend="portsign.accounts.backends.AccountBackend")
    chinese.post("/console/enterprise/acting/", {"acting_as": world.enterprise.id})
    in_chinese = _text(chinese.get(SIGN))
    assert '<html lang="zh-CN">' in in_chinese
    assert "使用电子口岸卡登录" in in_chinese
    assert "← 电子口岸" in in_chinese
    # The list says why it cannot sign either, and is empty.
    listed = _text(client.get(LIST))
    assert 'data-testid="legal-person-card-required"' in listed
    assert "No agreement found." in listed
    assert "0 agreements" in listed


def test_an_operator_card_session_is_told_it_needs_the_legal_person_card(world, customs):
    _legal, _client = _legal_session(world)  # the enterprise's first sign-in
    operator = world.issue_operator_card()
    ok(change_pin(world.operator_person, operator["id"]))
    client = _english(Client())
    assert client.post(SIGN_IN, {"number": operator["number"], "pin": NEW_PIN}).status_code == 302
    text = _text(client.get(SIGN))
    assert 'data-code="legal_person_card_required"' in text
    assert (
        "Paperless agreements are signed with the legal-person card, not an operator card." in text
    )
    assert 'data-testid="agreement-sign-form"' not in text


def test_the_legal_person_card_signs_a_district_through_the_form(world, customs, tmp_path):
    legal, client = _legal_session(world)
    page = client.get(SIGN)
    assert page.status_code == 200
    text = _text(page)
    assert _offered(text) == [NANJING, QINGDAO]
    assert re.search(r'value="2300"\s+data-testid="district-2300"> 2300 南京海关', text)
    assert _checked(text) == []
    assert f'<h2 data-testid="agreement-title">{TITLE}</h2>' in text
    terms = text.split('data-testid="agreement-terms"')[1].split("</div>")[0]
    assert "overflow-y:auto" in terms
    assert [p for p in TERMS if f"<p>{p}</p>" in terms] == list(TERMS)
    assert 'name="accept_terms"' in text
    assert not _terms_accepted(text)
    assert 'name="pin" type="password" value=""' in text
    assert 'autocomplete="off"' in text.split('name="pin"')[1].split(">")[0]
    assert f"signed with the legal-person card {legal['number']}" in text

    done = _sign(client, [QINGDAO])
    assert (done.status_code, done["Location"]) == (302, LIST)
    listed = _text(client.get(LIST))
    assert "1 paperless agreement was signed and sent to customs: 青岛海关 (4200)." in listed
    row = listed.split('data-testid="agreement-4200"')[1].split("</tr>")[0]
    assert row.startswith(' data-status="sent_to_customs"')
    assert ">4200 青岛海关</a>" in row
    assert 'data-testid="status-4200" data-status="sent_to_customs">Signed, sent to customs' in row
    assert f"<td>{legal['number']}</td>" in row
    assert "1 agreement" in listed
    # A signed district is no longer offered.
    assert _offered(_text(client.get(SIGN))) == [NANJING]

    agreement = PaperlessAgreement.objects.get()
    assert (agreement.district_id, agreement.status, agreement.card.number) == (
        QINGDAO,
        "sent_to_customs",
        legal["number"],
    )
    detail = _text(client.get(f"{LIST}{agreement.id}/"))
    pdf_url = f"{LIST}{agreement.id}/document.pdf"
    assert f'href="{pdf_url}" data-testid="agreement-document"' in detail
    assert _history(detail) == [("sign", "sent_to_customs")]
    assert "Signed with the legal-person card" in detail
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == (
        f'attachment; filename="paperless-agreement-4200-{agreement.id}.pdf"'
    )
    assert pdf.content.startswith(b"%PDF")
    assert len(pdf.content) == agreement.size
    # The status filter.
    assert 'data-testid="agreement-4200"' in _text(client.get(f"{LIST}?status=sent_to_customs"))
    assert 'data-testid="agreement-4200"' not in _text(client.get(f"{LIST}?status=approved"))
    bad = client.get(f"{LIST}?status=bogus", follow=True)
    assert "Unknown status." in _text(bad)


def test_the_form_refusals_are_next_to_their_fields_and_keep_the_form(world, customs):
    _legal, client = _legal_session(world)
    wrong = _sign(client, [QINGDAO], pin=WRONG_PIN)
    assert wrong.status_code == 200
    text = _text(wrong)
    message = "Wrong PIN (1 wrong in a row). 4 tries left before the card locks."
    assert f'<em class="field-error">{message}</em>' in text
    assert 'data-testid="pin-tries-left" data-remaining="4"' in text
    assert "4 tries left." in text
    assert WRONG_PIN not in text  # a PIN is never written back into the page
    assert (_offered(text), _checked(text), _terms_accepted(text)) == (
        [NANJING, QINGDAO],
        [QINGDAO],
        True,
    )

    unticked = _text(_sign(client, [QINGDAO], accept=False))
    assert (
        '<em class="field-error" data-testid="accept-terms-error">'
        "Read the agreement and accept its terms before signing.</em>" in unticked
    )
    assert (_checked(unticked), _terms_accepted(unticked)) == ([QINGDAO], False)

    none = _text(_sign(client, []))
    assert (
        '<em class="field-error" data-testid="districts-error">'
        "Choose at least one customs district.</em>" in none
    )
    assert PaperlessAgreement.objects.count() == 0

    # A district signed meanwhile (another tab) is named next to the districts.
    assert _sign(client, [QINGDAO]).status_code == 302
    twice = _text(_sign(client, [QINGDAO]))
    assert "The enterprise already has an agreement for 青岛海关 (4200)." in twice
    assert 'data-testid="districts-error"' in twice
    assert PaperlessAgreement.objects.count() == 1


def test_a_card_locked_by_wrong_pins_cannot_sign(world, customs):
    legal, client = _legal_session(world)
    for tries_left in range(settings.CARD_PIN_TRIES - 1, 0, -1):
        page = _text(_sign(client, [NANJING], pin=WRONG_PIN))
        assert f'data-remaining="{tries_left}"' in page
    locked = _text(_sign(client, [NANJING], pin=WRONG_PIN))
    assert "Wrong PIN. The card is now locked." in locked
    assert 'data-remaining="0"' in locked
    after = client.get(SIGN)
    text = _text(after)
    assert 'data-testid="sign-refused" data-code="card_locked"' in text
    assert f"Card {legal['number']} is locked after too many wrong PINs." in text
    assert 'data-testid="agreement-sign-form"' not in text
    assert _sign(client, [NANJING]).status_code == 403
    assert PaperlessAgreement.objects.count() == 0


# -- customs: 入库, 审批通过, 退回 --------------------------------------------------------------


def test_the_customs_reviewer_receives_and_approves_through_the_pages(world, customs):
    _legal, session = _legal_session(world)
    agreement = _signed(world, session)
    reviewer = _browser(customs.qingdao)
    index = _text(reviewer.get("/console/eport/"))
    assert f'href="{QUEUE}" data-testid="open-customs-agreements"' in index
    queue = _text(reviewer.get(QUEUE))
    assert "Districts you review for: 4200 青岛海关" in queue
    row = queue.split(f'data-testid="agreement-{agreement.id}"')[1].split("</tr>")[0]
    assert row.startswith(' data-status="sent_to_customs"')
    assert world.enterprise.name in row
    assert world.enterprise.uscc in row
    assert 'data-testid="tab-all" data-count="1"' in queue
    assert 'data-testid="tab-sent_to_customs" data-count="1"' in queue
    assert 'data-testid="tab-approved" data-count="0"' in queue
    assert "1 agreement" in queue
    assert f"agreement-{agreement.id}" not in _text(reviewer.get(f"{QUEUE}?status=received"))

    detail_url = f"{QUEUE}{agreement.id}/"
    detail = _text(reviewer.get(detail_url))
    assert f"{world.enterprise.name} · {world.enterprise.uscc}" in detail
    assert "4200 青岛海关" in detail
    assert f'href="{LIST}{agreement.id}/document.pdf"' in detail
    assert 'data-testid="agreement-receive"' in detail
    assert 'data-testid="agreement-approve"' not in detail
    pdf = reviewer.get(f"{LIST}{agreement.id}/document.pdf")
    assert (pdf.status_code, pdf.content[:4]) == (200, b"%PDF")

    received = reviewer.post(detail_url, {"action": "receive"}, follow=True)
    text = _text(received)
    assert f"The agreement of {world.enterprise.name} for 青岛海关 (4200) was received." in text
    assert 'data-testid="agreement-status-badge" data-status="received">Received by customs' in text
    assert 'data-testid="agreement-receive"' not in text
    assert 'data-testid="agreement-approve"' in text

    blank = _text(reviewer.post(detail_url, {"action": "return", "opinion": "  "}))
    assert (
        '<em class="field-error" data-testid="opinion-error">'
        "Write the opinion for the enterprise (up to 500 characters).</em>" in blank
    )
    twice = _text(reviewer.post(detail_url, {"action": "receive"}, follow=True))
    assert "An agreement that is “Received by customs” cannot be received." in twice

    approved = _text(
        reviewer.post(detail_url, {"action": "approve", "opinion": "同意。"}, follow=True)
    )
    assert f"The agreement of {world.enterprise.name} for 青岛海关 (4200) was approved." in approved
    assert 'data-status="approved">Approved by customs' in approved
    assert 'data-testid="agreement-decided"' in approved
    assert _history(approved) == [
        ("sign", "sent_to_customs"),
        ("receive", "received"),
        ("approve", "approved"),
    ]
    assert '<dd data-testid="agreement-opinion-shown">同意。</dd>' in approved
    assert customs.qingdao.user.name in approved
    agreement.refresh_from_db()
    assert (agreement.status, agreement.opinion) == ("approved", "同意。")
    assert list(AgreementEvent.objects.values_list("action", flat=True)) == [
        "sign",
        "receive",
        "approve",
    ]
    # The enterprise reads the decision in its list and history.
    listed = _text(session.get(LIST))
    assert 'data-testid="status-4200" data-status="approved">Approved by customs' in listed
    assert "<td>同意。</td>" in listed
    assert len(_history(_text(session.get(f"{LIST}{agreement.id}/")))) == 3


def test_a_return_needs_the_opinion_and_shows_it_to_the_enterprise(world, customs):
    _legal, session = _legal_session(world)
    agreement = _signed(world, session)
    reviewer = _browser(customs.qingdao)
    detail_url = f"{QUEUE}{agreement.id}/"
    reviewer.post(detail_url, {"action": "receive"})
    returned = _text(
        reviewer.post(
            detail_url, {"action": "return", "opinion": "企业名称与备案不符。"}, follow=True
        )
    )
    assert f"The agreement of {world.enterprise.name} for 青岛海关 (4200) was returned." in returned
    assert _history(returned)[-1] == ("return", "returned")
    listed = _text(session.get(LIST))
    assert 'data-testid="status-4200" data-status="returned"' in listed
    assert "<td>企业名称与备案不符。</td>" in listed
    # A returned district is offered again.
    assert _offered(_text(session.get(SIGN))) == [NANJING, QINGDAO]


def test_another_customs_and_another_enterprise_get_404(world, customs, bob, sanya):
    _legal, session = _legal_session(world)
    agreement = _signed(world, session)
    nanjing = _browser(customs.nanjing)
    detail_url = f"{QUEUE}{agreement.id}/"
    assert nanjing.get(detail_url).status_code == 404
    assert nanjing.post(detail_url, {"action": "receive"}).status_code == 404
    assert nanjing.get(f"{LIST}{agreement.id}/document.pdf").status_code == 404
    assert nanjing.get(f"{LIST}{agreement.id}/").status_code == 404
    queue = _text(nanjing.get(QUEUE))
    assert "Districts you review for: 2300 南京海关" in queue
    assert "0 agreements" in queue
    assert f"agreement-{agreement.id}" not in queue
    # The enterprise is not customs; a stranger sees nothing.
    assert session.get(detail_url).status_code == 404
    stranger = _browser(bob)
    for path in (f"{LIST}{agreement.id}/", f"{LIST}{agreement.id}/document.pdf", detail_url):
        assert stranger.get(path).status_code == 404
    assert stranger.post(f"{LIST}{agreement.id}/terminate/").status_code == 404
    assert 'data-testid="not-customs"' in _text(stranger.get(QUEUE))
    assert PaperlessAgreement.objects.get().status == "sent_to_customs"


# -- 解约 ---------------------------------------------------------------------------------------


def test_the_legal_person_card_terminates_an_agreement(world, customs):
    _legal, session = _legal_session(world)
    agreement = _signed(world, session)
    reviewer = _browser(customs.qingdao)
    reviewer.post(f"{QUEUE}{agreement.id}/", {"action": "receive"})
    reviewer.post(f"{QUEUE}{agreement.id}/", {"action": "approve", "opinion": ""})
    detail_url = f"{LIST}{agreement.id}/"
    terminate_url = f"{detail_url}terminate/"

    # The main administrator with a password sees no button and is refused.
    password = _browser(world.admin, world.enterprise.id)
    page = _text(password.get(detail_url))
    assert 'data-testid="agreement-terminate"' not in page
    assert 'data-testid="legal-person-card-required"' in page
    refused = _text(password.post(terminate_url, follow=True))
    assert "Sign in with the enterprise's legal-person card" in refused
    agreement.refresh_from_db()
    assert agreement.status == "approved"

    page = _text(session.get(detail_url))
    assert (
        f'action="{terminate_url}" data-confirm="Terminate the paperless agreement with 青岛海关?'
        in page
    )
    assert 'data-testid="agreement-terminate"' in page
    ended = _text(session.post(terminate_url, follow=True))
    assert "The paperless agreement for 青岛海关 (4200) was terminated." in ended
    assert 'data-testid="agreement-status-badge" data-status="terminated">Terminated' in ended
    assert 'data-testid="agreement-terminate"' not in ended
    assert 'data-testid="agreement-ended"' in ended
    assert 'data-testid="agreement-terminated"' in ended
    assert _history(ended) == [
        ("sign", "sent_to_customs"),
        ("receive", "received"),
        ("approve", "approved"),
        ("terminate", "terminated"),
    ]
    twice = _text(session.post(terminate_url, follow=True))
    assert "An agreement that is “Terminated” cannot be terminated." in twice
    assert _offered(_text(session.get(SIGN))) == [NANJING, QINGDAO]
    listed = _text(session.get(f"{LIST}?status=terminated"))
    assert 'data-testid="agreement-4200" data-status="terminated"' in listed
