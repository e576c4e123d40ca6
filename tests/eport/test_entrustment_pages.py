"""The 代理报关委托 pages (issue 15 point 3) through Django's test client: a new entrustment
through the form with an operator card, each side's list, 确认 / 拒绝 / 撤销 on the detail page,
the signed PDF, and the consignor's 自动确认 with its legal-person card.

Pages are read in English (the language cookie), so the assertions name the messages' msgids
whatever the Chinese catalogue says; the Chinese words checked are part of the msgids or data."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portsign.eport.domain.entrustment_documents import TERMS, TERMS_TITLE
from portsign.eport.models import Entrustment, EntrustmentEvent
from tests.eport.card_helpers import NEW_PIN
from tests.eport.conftest import ok
from tests.eport.customs_helpers import customs_reviewers
from tests.eport.entrustment_helpers import BROKER_CUSTOMS_CODE, entrust, goods, trade_world
from tests.helpers import make_person

pytestmark = pytest.mark.usefixtures("district_table")

SIGN_IN = "/console/eport/cards/sign-in/"
LIST = "/console/eport/entrustments/"
NEW = "/console/eport/entrustments/new/"
AUTO = "/console/eport/entrustments/auto-confirm/"
WRONG_PIN = "13572468"
BACKEND = "portsign.accounts.backends.AccountBackend"


@pytest.fixture
def trade(world, bob, sanya, province_reviewer):
    return trade_world(world, customs_reviewers(), bob, sanya, province_reviewer)


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _card_browser(card: dict) -> Client:
    """A browser signed in with the card (the session acts for the card's enterprise)."""
    client = _english(Client())
    response = client.post(SIGN_IN, {"number": card["number"], "pin": NEW_PIN})
    assert response.status_code == 302, _text(response)
    return client


def _password_browser(person, acting_as: str = "") -> Client:
    client = _english(Client())
    client.force_login(person.user, backend=BACKEND)
    if acting_as:
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _history(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="history-row" data-action="(\w+)" data-status="(\w+)"', page)


def _valid_until() -> str:
    return (timezone.localdate() + dt.timedelta(days=90)).isoformat()


def _form(trade, *, rows: list[dict] | None = None, accept: bool = True, **changes) -> dict:
    data: dict[str, str] = {
        "role": "consignor",
        "counterpart": trade.broker.enterprise.id,
        "district": "4201",
        "valid_until": _valid_until(),
        "pin": NEW_PIN,
    }
    goods_rows = rows if rows is not None else [goods()]
    data["rows"] = str(len(goods_rows))
    for index, row in enumerate(goods_rows):
        data.update({f"goods[{index}].{key}": value for key, value in row.items()})
    if accept:
        data["accept_terms"] = "on"
    data.update(changes)
    return data


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def _detail(entrustment: Entrustment) -> str:
    return f"{LIST}{entrustment.id}/"


# -- 新建委托 through the form ------------------------------------------------------------------


def test_the_consignor_operator_entrusts_through_the_form(trade):
    client = _card_browser(trade.consignor.operator_card)
    index = _text(client.get("/console/eport/"))
    assert f'href="{LIST}" data-testid="open-entrustments"' in index
    assert f'href="{NEW}" data-testid="open-entrustment-new"' in index
    broker = trade.broker.enterprise

    # A. The broker, found by its customs code.
    start = _text(client.get(NEW))
    assert "A. The customs broker (被委托方)" in start
    assert 'data-testid="counterpart-search"' in start
    assert 'data-testid="entrustment-form"' not in start
    found = _text(client.get(f"{NEW}?role=consignor&q={BROKER_CUSTOMS_CODE}"))
    row = found.split(f'data-testid="counterpart-{broker.id}"')[1].split("</tr>")[0]
    assert f"<td>{broker.name}</td>" in row
    assert f"Customs registration code <code>{BROKER_CUSTOMS_CODE}</code>" in row
    assert f"Organization code <code>{broker.uscc[8:17]}</code>" in row
    choose = f"?role=consignor&counterpart={broker.id}"
    assert f'href="{choose}" data-testid="choose-{broker.id}"' in row
    assert "No registered customs broker found." in _text(client.get(f"{NEW}?q=无此报关行"))

    # B and C, with the chosen broker.
    page = _text(client.get(f"{NEW}{choose}"))
    assert f'data-testid="counterpart-name">{broker.name}</dd>' in page
    assert f'<h2 data-testid="terms-title">B. {TERMS_TITLE}</h2>' in page
    terms = page.split('data-testid="entrustment-terms"')[1].split("</div>")[0]
    assert "overflow-y:auto" in terms
    assert [t for t in TERMS if f"<p>{t}</p>" in terms] == list(TERMS)
    assert 'name="accept_terms"  required' in page  # unticked
    latest = timezone.localdate() + dt.timedelta(days=settings.ENTRUSTMENT_MAX_DAYS)
    assert (
        f'name="valid_until" type="date" value="" min="{timezone.localdate().isoformat()}" '
        f'max="{latest.isoformat()}"' in page
    )
    assert re.findall(r'name="(goods\[\d+\]\.\w+)"', page) == [f"goods[0].{key}" for key in goods()]
    assert 'name="pin" type="password" value=""' in page
    assert 'autocomplete="off"' in page.split('name="pin"')[1].split(">")[0]
    number = trade.consignor.operator_card["number"]
    assert f"as the consignor, signed with the operator card {number}" in page

    # Another row without JavaScript: the typed values are kept, the PIN is not.
    more = _text(client.post(NEW, _form(trade, add_row="1")))
    assert _value(more, "rows") == "2"
    assert _value(more, "goods[0].hs_code") == "0303890090"
    assert _value(more, "goods[1].hs_code") == ""
    assert 'name="pin" type="password" value=""' in more
    assert NEW_PIN not in more
    fewer = _text(client.post(NEW, _form(trade, rows=[goods(), goods()], remove_row="1")))
    assert (_value(fewer, "rows"), 'name="goods[1].hs_code"' in fewer) == ("1", False)
    assert Entrustment.objects.count() == 0

    # The terms unticked: refused next to the checkbox, the rest kept.
    unticked = client.post(NEW, _form(trade, accept=False))
    text = _text(unticked)
    assert unticked.status_code == 200
    assert (
        '<em class="field-error" data-testid="accept-terms-error">'
        "Read the general terms of the entrustment agreement and accept them.</em>" in text
    )
    assert (_value(text, "district"), _value(text, "goods[0].goods_name")) == ("4201", "冷冻带鱼")
    assert 'value="USD" selected' in text
    assert NEW_PIN not in text
    assert Entrustment.objects.count() == 0

    # A bad HS code: next to goods[0].hs_code, as typed.
    bad = _text(client.post(NEW, _form(trade, rows=[goods(hs_code="03038900")])))
    assert (
        '<em class="field-error" data-testid="error-goods[0].hs_code">'
        "An HS code has 10 digits (e.g. 8471300000).</em>" in bad
    )
    assert _value(bad, "goods[0].hs_code") == "03038900"
    assert bad.count('class="field-error"') == 1
    assert 'name="accept_terms" checked' in bad
    # No agreement with 南京海关: said next to the district; a wrong PIN next to the PIN.
    nanjing = _text(client.post(NEW, _form(trade, district="2300")))
    assert '<em class="field-error" data-testid="district-error">' in nanjing
    assert "has no approved paperless agreement with the customs of 南京海关 (2300)" in nanjing
    wrong = _text(client.post(NEW, _form(trade, pin=WRONG_PIN)))
    assert "Wrong PIN (1 wrong in a row). 4 tries left before the card locks." in wrong
    assert 'data-testid="pin-tries-left" data-remaining="4"' in wrong
    assert WRONG_PIN not in wrong
    assert Entrustment.objects.count() == 0

    # Signed: the detail page, with the number.
    done = client.post(NEW, _form(trade, rows=[goods(), goods(hs_code="0303.8900.90")]))
    made = Entrustment.objects.get()
    assert (done.status_code, done["Location"]) == (302, _detail(made))
    assert made.number.startswith("4201" + timezone.localdate().strftime("%Y%m%d"))
    assert (made.status, made.initiator, made.broker_id) == (
        "awaiting_confirmation",
        "consignor",
        broker.id,
    )
    assert [row["hs_code"] for row in made.goods] == ["0303890090", "0303890090"]
    detail = _text(client.get(done["Location"]))
    assert f"Entrustment {made.number} was signed and sent to {broker.name} to confirm." in detail
    assert f'data-testid="entrustment-number">{made.number}</dd>' in detail
    assert 'data-testid="entrustment-status-badge" data-status="awaiting_confirmation">' in detail
    assert detail.count('data-testid="goods-row"') == 2
    assert _history(detail) == [("create", "awaiting_confirmation")]
    # The initiator waits: it may only revoke.
    assert 'data-testid="confirm-form"' not in detail
    assert 'data-testid="refuse-form"' not in detail
    assert 'data-testid="revoke-form"' in detail


def test_the_broker_lists_and_confirms_it_and_both_download_the_same_pdf(trade):
    made = Entrustment.objects.get(pk=ok(entrust(trade.consignor.session, trade), 201)["id"])
    consignor = trade.consignor.enterprise
    client = _card_browser(trade.broker.operator_card)
    listed = _text(client.get(LIST))
    row = listed.split(f'data-testid="entrustment-{made.number}"')[1].split("</tr>")[0]
    assert row.startswith(' data-status="awaiting_confirmation" data-side="broker"')
    assert f"<td>{consignor.name}</td>" in row
    assert "<td>Customs broker (报关企业)</td>" in row
    assert f"<td>4201 {made.district.name}</td>" in row
    assert f"<td>{made.valid_until.isoformat()}</td>" in row
    assert (
        f'data-testid="status-{made.number}" data-status="awaiting_confirmation">'
        "Awaiting confirmation</span>" in row
    )
    assert '<td data-initiator="consignor">Consignor (经营单位)</td>' in row
    assert "1 entrustment" in listed
    # The filters.
    shown = {
        query: f"entrustment-{made.number}" in _text(client.get(f"{LIST}?{query}"))
        for query in (
            "role=broker",
            "role=consignor",
            "status=awaiting_confirmation",
            "status=effective",
            f"number={made.number[:8]}",
            "number=9999",
            f"counterpart={consignor.name[2:6]}",
            "counterpart=无此企业",
        )
    }
    assert shown == {
        "role=broker": True,
        "role=consignor": False,
        "status=awaiting_confirmation": True,
        "status=effective": False,
        f"number={made.number[:8]}": True,
        "number=9999": False,
        f"counterpart={consignor.name[2:6]}": True,
        "counterpart=无此企业": False,
    }
    assert "Unknown status." in _text(client.get(f"{LIST}?status=bogus", follow=True))

    detail_url = _detail(made)
    page = _text(client.get(detail_url))
    side = 'data-testid="entrustment-side" data-side="broker">Customs broker (报关企业)</dd>'
    assert side in page
    assert 'data-testid="confirm-form"' in page
    assert 'data-testid="refuse-form"' in page
    assert 'data-testid="revoke-form"' not in page
    wrong = _text(client.post(detail_url, {"action": "confirm", "pin": WRONG_PIN}))
    assert (
        '<em class="field-error">Wrong PIN (1 wrong in a row). 4 tries left before the card '
        "locks.</em>" in wrong
    )
    assert WRONG_PIN not in wrong
    confirmed = client.post(detail_url, {"action": "confirm", "pin": NEW_PIN})
    assert (confirmed.status_code, confirmed["Location"]) == (302, detail_url)
    text = _text(client.get(detail_url))
    assert f"Entrustment {made.number} was confirmed and is in effect." in text
    assert 'data-testid="entrustment-status-badge" data-status="effective">Effective' in text
    assert _history(text) == [("create", "awaiting_confirmation"), ("confirm", "effective")]
    assert 'data-testid="entrustment-confirmation" data-auto="false">Bruno Broker Test' in text
    assert 'data-testid="revoke-form"' in text  # either side ends one in effect
    made.refresh_from_db()
    assert (made.status, made.confirmer_card.number) == (
        "effective",
        trade.broker.operator_card["number"],
    )
    again = _text(client.post(detail_url, {"action": "confirm", "pin": NEW_PIN}))
    assert "An entrustment that is “Effective” cannot be confirmed." in again

    pdf_url = f"{detail_url}document.pdf"
    assert f'href="{pdf_url}" data-testid="entrustment-document"' in text
    theirs = client.get(pdf_url)
    mine = _card_browser(trade.consignor.operator_card).get(pdf_url)
    assert (theirs.status_code, theirs["Content-Type"]) == (200, "application/pdf")
    assert theirs["Content-Disposition"] == f'attachment; filename="entrustment-{made.number}.pdf"'
    assert theirs.content.startswith(b"%PDF")
    assert mine.content == theirs.content


def test_refusal_and_revocation_through_the_pages(trade):
    broker = _card_browser(trade.broker.operator_card)
    consignor = _card_browser(trade.consignor.operator_card)
    first = Entrustment.objects.get(pk=ok(entrust(trade.consignor.session, trade), 201)["id"])
    url = _detail(first)
    blank = _text(broker.post(url, {"action": "refuse", "reason": " "}))
    assert (
        '<em class="field-error" data-testid="refuse-reason-error">'
        "Give a reason (2 to 300 characters).</em>" in blank
    )
    refused = broker.post(url, {"action": "refuse", "reason": "货物信息不全"}, follow=True)
    text = _text(refused)
    assert f"Entrustment {first.number} was refused." in text
    assert 'data-testid="entrustment-reason">货物信息不全</dd>' in text
    assert 'data-testid="entrustment-no-action"' in text
    assert _history(text) == [("create", "awaiting_confirmation"), ("refuse", "refused")]
    assert "<td>货物信息不全</td>" in text

    # The initiator withdraws one awaiting confirmation; the other side may not.
    second = Entrustment.objects.get(pk=ok(entrust(trade.consignor.session, trade), 201)["id"])
    url = _detail(second)
    not_theirs = _text(broker.post(url, {"action": "revoke", "reason": ""}))
    assert (
        'data-action="revoke" data-code="not_the_initiator">'
        "Only the initiator withdraws an entrustment awaiting confirmation; refuse it."
        in not_theirs
    )
    revoked = _text(consignor.post(url, {"action": "revoke", "reason": "重新委托"}, follow=True))
    assert f"Entrustment {second.number} was revoked." in revoked
    assert _history(revoked) == [("create", "awaiting_confirmation"), ("revoke", "revoked")]

    # Once effective, the broker ends it.
    third = Entrustment.objects.get(pk=ok(entrust(trade.consignor.session, trade), 201)["id"])
    url = _detail(third)
    broker.post(url, {"action": "confirm", "pin": NEW_PIN})
    ended = _text(broker.post(url, {"action": "revoke", "reason": "业务结束"}, follow=True))
    assert 'data-testid="entrustment-status-badge" data-status="revoked">Revoked' in ended
    assert _history(ended) == [
        ("create", "awaiting_confirmation"),
        ("confirm", "effective"),
        ("revoke", "revoked"),
    ]
    statuses = dict(Entrustment.objects.values_list("number", "status"))
    assert statuses == {first.number: "refused", second.number: "revoked", third.number: "revoked"}
    listed = _text(consignor.get(f"{LIST}?status=revoked"))
    assert "2 entrustments" in listed
    assert 'data-status="revoked" data-side="consignor"' in listed


def test_sessions_without_an_operator_card_and_strangers(trade):
    # The main administrator with a password: the reason, and the way to the card sign-in.
    password = _password_browser(trade.consignor.admin, trade.consignor.enterprise.id)
    index = _text(password.get("/console/eport/"))
    assert f'href="{AUTO}" data-testid="open-entrustment-auto"' in index
    page = password.get(NEW)
    text = _text(page)
    assert page.status_code == 200
    name = trade.consignor.enterprise.name
    assert (
        'data-testid="entrustment-refused" data-code="operator_card_required">'
        f"Sign in with an operator card of {name} to sign entrustments.</p>" in text
    )
    assert f'href="{SIGN_IN}" data-testid="card-sign-in-link"' in text
    assert 'data-testid="counterpart-search"' not in text
    refused = password.post(NEW, _form(trade))
    assert refused.status_code == 403
    # The UI is Chinese by default.
    chinese = Client()
    chinese.force_login(trade.consignor.admin.user, backend=BACKEND)
    chinese.post("/console/enterprise/acting/", {"acting_as": trade.consignor.enterprise.id})
    in_chinese = _text(chinese.get(NEW))
    assert '<html lang="zh-CN">' in in_chinese
    assert "← 电子口岸" in in_chinese
    # The legal-person card is no operator card.
    legal = _card_browser(trade.consignor.legal_card)
    assert "Entrustments are signed with an operator card, not the legal-person card." in _text(
        legal.get(NEW)
    )
    assert Entrustment.objects.count() == 0
    # It reads the list and the entrustment, but acts on neither.
    made = Entrustment.objects.get(pk=ok(entrust(trade.consignor.session, trade), 201)["id"])
    listed = _text(password.get(LIST))
    assert f'data-testid="entrustment-{made.number}"' in listed
    assert 'data-testid="operator-card-required" data-code="operator_card_required"' in listed
    detail = _text(password.get(_detail(made)))
    assert 'data-testid="operator-card-required"' in detail
    assert 'data-testid="revoke-form"' not in detail
    kept = _text(password.post(_detail(made), {"action": "revoke", "reason": ""}))
    assert 'data-action="revoke" data-code="operator_card_required"' in kept

    # Another enterprise's entrustment is a 404 page.
    dave = make_person("+8613800000091", "Dave Stranger Test")
    stranger = _password_browser(dave)
    url = _detail(made)
    assert [stranger.get(path).status_code for path in (url, f"{url}document.pdf")] == [404, 404]
    assert stranger.post(url, {"action": "confirm", "pin": NEW_PIN}).status_code == 404
    assert stranger.post(url, {"action": "revoke", "reason": ""}).status_code == 404
    assert password.post(url, {"action": "bogus"}).status_code == 404
    assert _password_browser(trade.consignor.admin).get(f"{LIST}missing/").status_code == 404
    made.refresh_from_db()
    assert made.status == "awaiting_confirmation"
    assert EntrustmentEvent.objects.count() == 1


# -- 自动确认 -----------------------------------------------------------------------------------


def test_auto_confirmation_through_the_pages_and_a_broker_initiated_form(trade):
    from tests.contracts.conftest import contract_seal, give_certificate

    consignor, broker = trade.consignor, trade.broker.enterprise
    give_certificate(consignor.admin, consignor.enterprise)
    seal_id = contract_seal(consignor.admin, consignor.enterprise)
    password = _password_browser(consignor.admin, consignor.enterprise.id)
    page = _text(password.get(f"{AUTO}?q={BROKER_CUSTOMS_CODE}"))
    assert 'data-testid="legal-person-card-required"' in page
    assert f'data-testid="auto-on-{broker.id}"' not in page
    body = {"action": "on", "broker_id": broker.id, "seal_id": seal_id}
    refused = _text(password.post(AUTO, body, follow=True))
    assert "Sign in with the enterprise's legal-person card" in refused

    legal = _card_browser(consignor.legal_card)
    page = _text(legal.get(f"{AUTO}?q={BROKER_CUSTOMS_CODE}"))
    assert f'data-testid="auto-on-{broker.id}"' in page
    assert f'<option value="{seal_id}">' in page
    on = _text(legal.post(AUTO, body, follow=True))
    assert f"Auto-confirmation is on for {broker.name}, signed with the seal" in on
    assert f'data-testid="auto-{broker.id}" data-live="true"' in on
    assert f'data-testid="auto-off-{broker.id}"' in on
    twice = _text(legal.post(AUTO, body, follow=True))
    assert "Auto-confirmation is already on for this broker." in twice

    # The broker entrusts through the form, naming the consignor by its USCC: confirmed at once.
    client = _card_browser(trade.broker.operator_card)
    start = _text(client.get(NEW))
    assert "A. The consignor (委托方)" in start
    uscc = consignor.enterprise.uscc
    found = _text(client.get(f"{NEW}?role=broker&q={uscc.lower()}"))
    assert f'data-testid="choose-{consignor.enterprise.id}"' in found
    assert f"Unified social credit code <code>{uscc}</code>" in found
    form = _form(trade, role="broker", counterpart=consignor.enterprise.id)
    done = client.post(NEW, form, follow=True)
    made = Entrustment.objects.get()
    text = _text(done)
    assert (
        f"Entrustment {made.number} was signed and confirmed at once under "
        f"{consignor.enterprise.name}'s auto-confirmation." in text
    )
    assert (made.initiator, made.status, made.consignor_id) == (
        "broker",
        "effective",
        consignor.enterprise.id,
    )
    assert 'data-testid="entrustment-confirmation" data-auto="true">' in text
    assert "Confirmed automatically under the consignor's auto-confirmation (自动确认)" in text
    assert _history(text) == [("create", "awaiting_confirmation"), ("confirm", "effective")]

    off = _text(legal.post(AUTO, {"action": "off", "broker_id": broker.id}, follow=True))
    assert f"Auto-confirmation is off for {broker.name}." in off
    assert f'data-testid="auto-{broker.id}" data-live="false"' in off
    assert f'data-testid="auto-off-{broker.id}"' not in off
    client.post(NEW, form)
    assert Entrustment.objects.exclude(pk=made.pk).get().status == "awaiting_confirmation"
