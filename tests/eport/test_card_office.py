"""The card office around the cards (issue 14 points 4–7): sign-in with `portsign login` on the
card token, permission filings and the greyed-out subsystems, the comprehensive query, expiry
reminders, mailing, the two printouts (text extracted), and concurrent moves on one card."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

import portsign
from portsign.eport.domain import card_lifecycle, cards, tokens
from portsign.eport.models import Card, Filing
from portsign.pki.models import IssuedCertificate
from tests.eport.card_helpers import NEW_PIN, card_session, change_pin
from tests.eport.conftest import ok
from tests.helpers import outbox


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    (tmp_path / "out.pdf").write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "out.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _put(session, card: dict, body: dict):
    return session.request("PUT", f"/eport/cards/{card['id']}/permissions", body)


def _auto_approve(world) -> None:
    path = f"/eport/authorities/{world.reviewer_authority}"
    ok(world.reviewer.api.patch(path, {"auto_approve": True}))


def _ready(world) -> tuple[dict, dict, object]:
    """Both cards issued, their PINs changed, a session of the legal-person card."""
    legal, operator = world.issue(), world.issue_operator_card()
    ok(change_pin(world.admin, legal["id"]))
    ok(change_pin(world.operator_person, operator["id"]))
    return legal, operator, card_session(legal["number"])


# -- portsign login with the card token ------------------------------------------------------------


def test_portsign_login_signs_in_with_the_card_token(live_server, world, tmp_path):
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    pin_file = tmp_path / "pin"
    pin_file.write_text(NEW_PIN + "\n")
    env = {
        **tokens.reader_environment(),
        "PYTHONPATH": str(Path(portsign.__file__).parents[1]),
        "LANG": "C.UTF-8",
    }
    arguments = [
        "login",
        "--url",
        live_server.url,
        "--pkcs11-module",
        settings.CARD_PKCS11_MODULE,
        "--token-label",
        legal["number"],
        "--key-label",
        "card",
        "--pin-file",
        str(pin_file),
    ]
    done = subprocess.run(
        [sys.executable, "-c", "from portsign.cli import main; main()", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    signed_in = json.loads(done.stdout)
    assert signed_in["user"]["id"] == world.admin.user.id
    from tests.helpers import Api

    assert ok(Api(signed_in["token"]).get("/eport/me/card"))["number"] == legal["number"]
    # Once the card is reported lost, the same command is refused.
    ok(world.reviewer.api.post(f"/eport/cards/{legal['id']}/report-loss"))
    again = subprocess.run(
        [sys.executable, "-c", "from portsign.cli import main; main()", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode != 0
    assert "suspended" in again.stderr


def test_the_legal_person_card_takes_the_main_administrators_place_in_filings(world):
    from tests.eport.conftest import operator_form

    body = {"enterprise_id": world.enterprise.id, "kind": "operator", "data": operator_form(44)}
    # Before the card: the main administrator files (onboarding comes before cards).
    draft = ok(world.admin.api.post("/eport/filings", body), 201)
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    refused = world.admin.api.post("/eport/filings", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "legal_person_card_required"
    declare = world.admin.api.post(f"/eport/filings/{draft['id']}/declare")
    assert declare.json()["error"]["code"] == "legal_person_card_required"
    session = card_session(legal["number"])
    assert ok(session.post(f"/eport/filings/{draft['id']}/declare"))["status"] == "declared"


# -- permissions ---------------------------------------------------------------------------------


def test_the_catalogue_lists_every_subsystem_and_action(world):
    catalogue = ok(world.admin.api.get("/eport/permissions"))
    assert [s["code"] for s in catalogue] == [
        "declaration",
        "payment",
        "express",
        "export_receipts",
    ]
    assert [a["code"] for a in catalogue[1]["actions"]] == [
        "payment.view",
        "payment.payer",
        "payment.first_review",
        "payment.second_review",
        "payment.confirm",
    ]
    assert sum(len(s["actions"]) for s in catalogue) == 14


def test_the_legal_person_card_grants_permissions_through_a_filing(world):
    _legal, operator, session = _ready(world)
    body = {"permissions": ["payment.view", "declaration.upload"], "districts": ["4601"]}
    # Without the legal-person card's session: refused, nothing filed.
    refused = _put(world.admin.api, operator, body)
    assert refused.status_code == 403
    assert Filing.objects.filter(kind="card_permissions").count() == 0
    filed = ok(_put(session, operator, body))
    assert filed["filing_status"] == "declared"
    assert filed["card"]["permissions"] == []  # not until the office approves
    again = _put(session, operator, body)
    assert again.json()["error"]["code"] == "filings_in_flight"
    ok(
        world.reviewer.api.post(
            f"/eport/filings/{filed['filing_id']}/approve", {"opinion": "同意授权。"}
        )
    )
    card = ok(world.admin.api.get(f"/eport/cards/{operator['id']}"))
    assert card["permissions"] == ["declaration.upload", "payment.view"]
    assert card["districts"] == ["4601"]
    assert card["history"][-1]["action"] == "permissions"
    # An office that auto-approves applies a withdrawal at once.
    _auto_approve(world)
    withdrawn = ok(_put(session, operator, {"permissions": []}))
    assert withdrawn["filing_status"] == "approved"
    assert withdrawn["card"]["permissions"] == []


def test_unknown_permissions_and_bad_districts_are_refused(world):
    _legal, operator, session = _ready(world)
    unknown = session.request(
        "PUT", f"/eport/cards/{operator['id']}/permissions", {"permissions": ["x.y"]}
    )
    assert unknown.json()["error"]["code"] == "permission_unknown"
    bad = _put(
        session,
        operator,
        {"permissions": ["payment.view"], "districts": ["46A1"]},
    )
    assert bad.json()["error"]["code"] == "district_invalid"
    legal_card = session.request(
        "PUT", f"/eport/cards/{_legal['id']}/permissions", {"permissions": []}
    )
    assert legal_card.json()["error"]["code"] == "not_an_operator_card"


def test_an_operator_session_sees_greyed_out_subsystems_with_the_reason(world):
    _legal, operator, session = _ready(world)
    operator_session = card_session(operator["number"])
    states = {s["code"]: s for s in ok(operator_session.get("/eport/me/subsystems"))}
    assert [s["enabled"] for s in states.values()] == [False, False, False, False]
    assert states["export_receipts"]["reason"] == "此卡没有该子系统的权限。"
    _auto_approve(world)
    ok(
        session.request(
            "PUT", f"/eport/cards/{operator['id']}/permissions", {"permissions": ["payment.view"]}
        )
    )
    states = {s["code"]: s for s in ok(operator_session.get("/eport/me/subsystems"))}
    assert states["payment"]["enabled"] is True
    assert states["payment"]["reason"] == ""
    assert [a["granted"] for a in states["payment"]["actions"]] == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert states["declaration"]["enabled"] is False
    # The legal-person card may open everything.
    assert all(s["enabled"] for s in ok(session.get("/eport/me/subsystems")))


def test_subsystems_are_greyed_while_the_pin_is_initial(world):
    legal = world.issue()
    card = Card.objects.get(pk=legal["id"])
    from portsign.eport.domain.card_permissions import subsystems_for

    reasons = {s.reason for s in subsystems_for(card)}
    assert reasons == {"此卡的初始口令尚未修改。"}


# -- the comprehensive query, expiry, mailing ----------------------------------------------------


def test_the_comprehensive_query_filters_by_each_criterion(world):
    legal, operator, _session = _ready(world)
    api = world.reviewer.api

    def numbers(query: str) -> list[str]:
        return [c["number"] for c in ok(api.get(f"/eport/cards?{query}"))["items"]]

    assert numbers("") == [legal["number"], operator["number"]]
    assert numbers(f"number={operator['number'][:8]}") == [operator["number"]]
    assert numbers("holder_name=Olivia") == [operator["number"]]
    olivia_id = world.operator_person.user.id_number
    assert numbers(f"id_number={olivia_id}") == [operator["number"]]
    assert numbers("kind=legal_person") == [legal["number"]]
    ok(api.post(f"/eport/cards/{legal['id']}/freeze"))
    assert numbers("status=frozen") == [legal["number"]]
    assert numbers("status=active") == [operator["number"]]
    today = timezone.localdate()
    ten_years = today.replace(year=today.year + 10)
    assert numbers(f"expires_from={ten_years - dt.timedelta(days=3)}&expires_to={ten_years}") == [
        legal["number"],
        operator["number"],
    ]
    assert numbers(f"expires_to={today}") == []
    listed = ok(api.get("/eport/cards"))
    assert listed["total"] == 2
    assert listed["items"][1]["holder_id_number"] == f"{olivia_id[:4]}**********{olivia_id[-4:]}"
    # The enterprise sees its own cards; a stranger sees none.
    assert len(ok(world.admin.api.get("/eport/cards"))["items"]) == 2


def test_cards_expiring_within_60_days_are_listed_and_their_holders_reminded(world):
    _legal, operator, _session = _ready(world)
    soon = timezone.now() + dt.timedelta(days=30)
    IssuedCertificate.objects.filter(pk=operator["certificate_id"]).update(not_after=soon)
    listed = ok(world.reviewer.api.get("/eport/cards/expiring"))
    assert [c["number"] for c in listed] == [operator["number"]]
    phone = world.operator_person.user.phone
    before = len(outbox(phone))
    assert cards.remind_expiring(now=timezone.now()) == 1
    assert cards.remind_expiring(now=timezone.now()) == 0  # once
    sent = outbox(phone)[before:]
    assert len(sent) == 1
    assert operator["number"] in sent[0].text
    assert timezone.localdate(soon).isoformat() in sent[0].text


def test_the_office_mails_the_card_and_the_enterprise_confirms_receipt(world, tmp_path):
    legal = world.issue()
    early = world.admin.api.post(f"/eport/cards/{legal['id']}/receive")
    assert early.json()["error"]["code"] == "card_not_mailed"
    body = {
        "tracking_number": "ea123456789cn",
        "recipient": "测试收件人",
        "phone": "13800000000",
        "address": "海南省海口市龙华区滨海大道1号",
    }
    assert world.admin.api.post(f"/eport/cards/{legal['id']}/mail", body).status_code == 403
    blank = world.reviewer.api.post(f"/eport/cards/{legal['id']}/mail", {**body, "recipient": ""})
    assert blank.json()["error"]["fields"].keys() == {"recipient"}
    mailed = ok(world.reviewer.api.post(f"/eport/cards/{legal['id']}/mail", body))
    assert mailed["tracking_number"] == "EA123456789CN"
    received = ok(world.admin.api.post(f"/eport/cards/{legal['id']}/receive"))
    assert received["received_at"] is not None
    assert [e["action"] for e in received["history"]] == ["issue", "mail", "receive"]
    courier = world.admin.api.get(f"/eport/cards/{legal['id']}/courier-form.pdf")
    assert courier.status_code == 200
    text = _pdf_text(courier.content, tmp_path)
    for value in (
        "EA123456789CN",
        "测试收件人",
        "13800000000",
        legal["number"],
        "海口电子口岸操作中心",
    ):
        assert value in text


def test_the_registration_form_prints_the_cards_and_the_ticked_permissions(world, tmp_path):
    legal, operator, session = _ready(world)
    _auto_approve(world)
    ok(
        _put(
            session,
            operator,
            {"permissions": ["payment.view", "express.entry"], "districts": ["4601"]},
        )
    )
    response = world.admin.api.get(f"/eport/cards/{operator['id']}/registration-form.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content, tmp_path)
    for value in (
        "中国电子口岸企业IC卡登记表",
        world.enterprise.name,
        world.enterprise.uscc,
        legal["number"],
        operator["number"],
        world.operator_person.user.name,
    ):
        assert value in text
    assert "☑ 查阅" in text
    assert "☑ 录入" in text
    assert "☐ 支付确认" in text
    assert "4601" in text
    assert world.admin.api.get(f"/eport/cards/{legal['id']}/courier-form.pdf").status_code == 409


# -- one move at a time ----------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database cannot take concurrent writers; CI runs this on "
    "PostgreSQL.",
)
def test_concurrent_moves_on_one_card_one_wins_the_other_is_a_conflict(world):
    legal = world.issue()
    barrier, outcomes = threading.Barrier(2), []

    def move(action: str) -> None:
        barrier.wait()
        try:
            card_lifecycle.act(actor=world.reviewer.user, card_id=legal["id"], action=action)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", type(exc).__name__))
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(a,)) for a in ("report_loss", "freeze")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["card_state", "ok"]
    card = Card.objects.get(pk=legal["id"])
    assert card.status in ("lost", "frozen")
    assert card.events.count() == 2  # issue and the one move
