"""代理报关委托: either side initiates with its operator card, the other confirms with its own;
the entrustment is a contract of both enterprises whose signed PDF every verifier accepts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portsign.accounts.models import User
from portsign.contracts.models import Contract
from portsign.eport.domain import entrustments
from portsign.eport.models import Card, CardPermission, Entrustment, EntrustmentEvent
from tests.eport.card_helpers import NEW_PIN
from tests.eport.conftest import ok
from tests.eport.customs_helpers import customs_reviewers
from tests.eport.entrustment_helpers import BROKER_CUSTOMS_CODE, entrust, goods, trade_world
from tests.helpers import error_code, make_person
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.usefixtures("district_table")


@pytest.fixture
def trade(world, bob, sanya, province_reviewer):
    return trade_world(world, customs_reviewers(), bob, sanya, province_reviewer)


def _history(entrustment: dict) -> list[tuple[str, str]]:
    return [(h["action"], h["status"]) for h in entrustment["history"]]


def test_brokers_are_found_only_once_registered(trade, alice):
    broker = trade.broker.enterprise
    expected = {
        "id": broker.id,
        "name": broker.name,
        "customs_code": BROKER_CUSTOMS_CODE,
        "organization_code": broker.uscc[8:17],
    }
    for query in (BROKER_CUSTOMS_CODE, broker.uscc[8:17], broker.uscc, "蓝湾"):
        assert ok(alice.api.get(f"/eport/brokers?q={query}")) == [expected], query
    # The consignor is onboarded but not registered as a broker: not found, not entrusted.
    assert ok(alice.api.get(f"/eport/brokers?q={trade.consignor.enterprise.name}")) == []
    unregistered = entrust(trade.consignor.session, trade, broker_id=trade.consignor.enterprise.id)
    assert unregistered.status_code == 404


def test_the_consignor_entrusts_and_the_broker_confirms(trade, tmp_path):
    made = ok(entrust(trade.consignor.session, trade), 201)
    assert (made["status"], made["initiator"], made["my_side"]) == (
        "awaiting_confirmation",
        "consignor",
        "consignor",
    )
    assert made["number"].startswith("4201" + timezone.localdate().strftime("%Y%m%d"))
    assert made["goods"] == [{**goods(), "total_price": "125000"}]  # normalised
    # Both sides list it; the broker sees it as taken.
    mine = ok(
        trade.consignor.admin.api.get(
            f"/eport/entrustments?enterprise_id={trade.consignor.enterprise.id}&role=consignor"
        )
    )
    assert [e["id"] for e in mine["items"]] == [made["id"]]
    theirs = ok(
        trade.broker.admin.api.get(
            f"/eport/entrustments?enterprise_id={trade.broker.enterprise.id}&status=awaiting_confirmation"
        )
    )
    assert [(e["id"], e["my_side"]) for e in theirs["items"]] == [(made["id"], "broker")]
    # The initiator does not confirm its own; the broker does, once.
    own = trade.consignor.session.post(
        f"/eport/entrustments/{made['id']}/confirm", {"pin": NEW_PIN}
    )
    assert (own.status_code, error_code(own)) == (403, "not_the_confirmer")
    confirmed = ok(
        trade.broker.session.post(f"/eport/entrustments/{made['id']}/confirm", {"pin": NEW_PIN})
    )
    assert confirmed["status"] == "effective"
    assert _history(confirmed) == [("create", "awaiting_confirmation"), ("confirm", "effective")]
    again = trade.broker.session.post(f"/eport/entrustments/{made['id']}/confirm", {"pin": NEW_PIN})
    assert (again.status_code, error_code(again)) == (409, "entrustment_state")
    contract = Contract.objects.get(pk=made["contract_id"])
    assert (contract.status, contract.managed_by) == ("completed", "eport")
    # Both download the same PDF, signed by both operator cards and archived.
    pdf = trade.consignor.admin.api.get(f"/eport/entrustments/{made['id']}/document.pdf").content
    assert (
        trade.broker.admin.api.get(f"/eport/entrustments/{made['id']}/document.pdf").content == pdf
    )
    assert_verifiers_accept(pdf, tmp_path, ["PortSign-2-E", "PortSign-3-E"])


def test_the_broker_initiates_and_the_consignor_confirms(trade):
    made = ok(entrust(trade.broker.session, trade), 201)
    assert (made["initiator"], made["status"]) == ("broker", "awaiting_confirmation")
    confirmed = ok(
        trade.consignor.session.post(f"/eport/entrustments/{made['id']}/confirm", {"pin": NEW_PIN})
    )
    assert (confirmed["status"], confirmed["auto_confirmed"]) == ("effective", False)


def test_the_contract_pages_cannot_sign_or_revoke_it(trade):
    made = ok(entrust(trade.consignor.session, trade), 201)
    path = f"/contracts/{made['contract_id']}"
    revoke = trade.consignor.session.post(f"{path}/revoke", {"reason": "不要了"})  # the sender
    assert (revoke.status_code, error_code(revoke)) == (409, "managed_contract")
    reject = trade.broker.admin.api.post(
        f"{path}/reject", {"acting_as": trade.broker.enterprise.id, "reason": "不签"}
    )
    assert (reject.status_code, error_code(reject)) == (409, "managed_contract")


def test_refusal_revocation_and_their_rules(trade):
    first = ok(entrust(trade.consignor.session, trade), 201)
    url = f"/eport/entrustments/{first['id']}"
    blank = trade.broker.session.post(f"{url}/refuse", {"reason": ""})
    assert (blank.status_code, error_code(blank)) == (400, "reason_required")
    refused = ok(trade.broker.session.post(f"{url}/refuse", {"reason": "货物信息不全"}))
    assert (refused["status"], refused["reason"]) == ("refused", "货物信息不全")
    assert Contract.objects.get(pk=first["contract_id"]).status == "rejected"
    late = trade.broker.session.post(f"{url}/confirm", {"pin": NEW_PIN})
    assert (late.status_code, error_code(late)) == (409, "entrustment_state")
    # The initiator withdraws one awaiting confirmation; the other side may not.
    second = ok(entrust(trade.consignor.session, trade), 201)
    url = f"/eport/entrustments/{second['id']}"
    not_theirs = trade.broker.session.post(f"{url}/revoke", {"reason": ""})
    assert (not_theirs.status_code, error_code(not_theirs)) == (403, "not_the_initiator")
    assert (
        ok(trade.consignor.session.post(f"{url}/revoke", {"reason": "重新委托"}))["status"]
        == "revoked"
    )
    assert Contract.objects.get(pk=second["contract_id"]).status == "revoked"
    # Once effective, either side ends it; the signed contract stays completed.
    third = ok(entrust(trade.consignor.session, trade), 201)
    url = f"/eport/entrustments/{third['id']}"
    ok(trade.broker.session.post(f"{url}/confirm", {"pin": NEW_PIN}))
    assert (
        ok(trade.broker.session.post(f"{url}/revoke", {"reason": "业务结束"}))["status"]
        == "revoked"
    )
    assert Contract.objects.get(pk=third["contract_id"]).status == "completed"


def test_bad_input_is_refused_with_the_field(trade):
    cases = {
        "hs code": entrust(trade.consignor.session, trade, goods=[goods(hs_code="03038900")]),
        "currency": entrust(trade.consignor.session, trade, goods=[goods(currency="XYZ")]),
        "no goods": entrust(trade.consignor.session, trade, goods=[]),
        "terms": entrust(trade.consignor.session, trade, accept_terms=False),
        "too long": entrust(
            trade.consignor.session,
            trade,
            valid_until=(timezone.localdate() + dt.timedelta(days=366)).isoformat(),
        ),
        "past": entrust(trade.consignor.session, trade, valid_until="2020-01-01"),
        "wrong pin": entrust(trade.consignor.session, trade, pin="13572468"),
        "password": entrust(trade.consignor.admin.api, trade),
        "legal card": entrust(trade.consignor.legal, trade),
        "no agreement": entrust(trade.consignor.session, trade, district="2300"),
    }
    assert {k: (r.status_code, error_code(r)) for k, r in cases.items()} == {
        "hs code": (400, "hs_code_invalid"),
        "currency": (400, "currency_invalid"),
        "no goods": (400, "goods_required"),
        "terms": (400, "terms_not_accepted"),
        "too long": (400, "valid_until_invalid"),
        "past": (400, "valid_until_invalid"),
        "wrong pin": (400, "pin_incorrect"),
        "password": (403, "operator_card_required"),
        "legal card": (403, "card_permission_missing"),
        "no agreement": (409, "agreement_required"),
    }
    assert list(cases["hs code"].json()["error"]["fields"]) == ["goods[0].hs_code"]
    assert list(cases["currency"].json()["error"]["fields"]) == ["goods[0].currency"]
    assert Entrustment.objects.count() == 0
    assert Contract.objects.filter(managed_by="eport").count() == 0


def test_expiry_at_the_validity_end(trade):
    made = ok(entrust(trade.consignor.session, trade), 201)
    effective = ok(entrust(trade.consignor.session, trade), 201)
    ok(
        trade.broker.session.post(
            f"/eport/entrustments/{effective['id']}/confirm", {"pin": NEW_PIN}
        )
    )
    end = dt.date.fromisoformat(made["valid_until"])
    assert (
        entrustments.expire_overdue(now=timezone.make_aware(dt.datetime.combine(end, dt.time(23))))
        == 0
    )
    later = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(1)))
    assert entrustments.expire_overdue(now=later) == 2
    assert set(Entrustment.objects.values_list("status", flat=True)) == {"expired"}
    assert Contract.objects.get(pk=made["contract_id"]).status == "expired"
    assert Contract.objects.get(pk=effective["contract_id"]).status == "completed"
    # An expired one cannot be confirmed.
    late = trade.broker.session.post(f"/eport/entrustments/{made['id']}/confirm", {"pin": NEW_PIN})
    assert (late.status_code, error_code(late)) == (409, "entrustment_state")


def test_auto_confirmation_signs_with_the_consignor_seal(trade, tmp_path):
    from tests.contracts.conftest import contract_seal, give_certificate

    consignor = trade.consignor
    give_certificate(consignor.admin, consignor.enterprise)
    seal_id = contract_seal(consignor.admin, consignor.enterprise)
    path = f"/eport/enterprises/{consignor.enterprise.id}/auto-confirmations"
    body = {"broker_id": trade.broker.enterprise.id, "seal_id": seal_id}
    by_password = consignor.admin.api.post(path, body)
    assert (by_password.status_code, error_code(by_password)) == (403, "legal_person_card_required")
    on = ok(consignor.legal.post(path, body), 201)
    assert (on["broker_id"], on["seal_id"], on["revoked_at"]) == (
        trade.broker.enterprise.id,
        seal_id,
        None,
    )
    made = ok(entrust(trade.broker.session, trade), 201)
    assert (made["status"], made["auto_confirmed"]) == ("effective", True)
    assert _history(made) == [("create", "awaiting_confirmation"), ("confirm", "effective")]
    pdf = consignor.admin.api.get(f"/eport/entrustments/{made['id']}/document.pdf").content
    assert_verifiers_accept(pdf, tmp_path, ["PortSign-2-E", "PortSign-3-E"])
    # Switched off, the next one waits for a hand confirmation.
    ok(consignor.legal.post(path, {**body, "enabled": False}))
    waiting = ok(entrust(trade.broker.session, trade), 201)
    assert waiting["status"] == "awaiting_confirmation"
    rows = ok(consignor.admin.api.get(path))
    assert [r["revoked_at"] is not None for r in rows] == [True]


def test_another_enterprise_sees_nothing(trade):
    dave = make_person("+8613800000091", "Dave Stranger Test")
    made = ok(entrust(trade.consignor.session, trade), 201)
    url = f"/eport/entrustments/{made['id']}"
    for path in (url, f"{url}/document.pdf"):
        assert dave.api.get(path).status_code == 404
    assert dave.api.post(f"{url}/confirm", {"pin": NEW_PIN}).status_code == 404
    assert (
        dave.api.get(
            f"/eport/entrustments?enterprise_id={trade.consignor.enterprise.id}"
        ).status_code
        == 404
    )
    assert EntrustmentEvent.objects.count() == 1


def _more_confirmers(side, count: int) -> list[str]:
    """*count* more active operator cards of the side allowed to confirm, held by people without
    a phone or an e-mail address: nobody more is texted, only the reading could grow."""
    card = Card.objects.get(pk=side.operator_card["id"])
    permissions = list(card.permissions.all())
    names = []
    for index in range(count):
        holder = User.objects.create_user(name=f"Extra Confirmer {index}")
        extra = Card.objects.create(
            enterprise=card.enterprise,
            number=f"{card.number}{index}",  # sorts after the first card: still the signer
            kind=card.kind,
            operator=card.operator,
            holder=holder,
            holder_name=holder.name,
            holder_id_number="",
            certificate=card.certificate,
            issued_by=card.issued_by,
        )
        CardPermission.objects.bulk_create(
            CardPermission(card=extra, subsystem=p.subsystem, action=p.action, district=p.district)
            for p in permissions
        )
        names.append(holder.name)
    return names


def test_the_queries_of_creating_do_not_grow_with_the_other_sides_cards(
    trade, django_assert_num_queries
):
    ok(entrust(trade.consignor.session, trade), 201)  # the first of a kind warms caches
    with CaptureQueriesContext(connection) as one_card:
        ok(entrust(trade.consignor.session, trade), 201)
    extra = _more_confirmers(trade.broker, 3)
    with CaptureQueriesContext(connection) as four_cards:
        ok(entrust(trade.consignor.session, trade), 201)
    assert len(four_cards) == len(one_card)
    with django_assert_num_queries(2):  # the cards with their holders, then their permissions
        holders = entrustments._signers(trade.broker.enterprise)
    assert [user.name for user in holders] == [trade.broker.operator.user.name, *extra]


def test_creating_is_one_card_operation(trade, monkeypatch):
    from portsign.eport.domain import tokens

    signed = []
    real = tokens.sign
    monkeypatch.setattr(
        tokens, "sign", lambda **kwargs: signed.append(kwargs["label"]) or real(**kwargs)
    )
    made = ok(entrust(trade.consignor.session, trade), 201)
    # The PIN went to the card once, with the signature itself: no probe before it.
    assert signed == [trade.consignor.operator_card["number"]]
    contract = Contract.objects.get(pk=made["contract_id"])
    assert list(contract.versions.values_list("number", "kind")) == [(1, "prepared"), (2, "signed")]
    assert list(contract.parties.values_list("status", flat=True)) == ["signed", "pending"]


def test_a_signature_that_cannot_be_recorded_revokes_the_contract(trade, monkeypatch):
    from portsign.contracts.domain import signing

    def fail(*args, **kwargs):
        raise OSError("storage unavailable")

    monkeypatch.setattr(signing, "_record", fail)
    failed = entrust(trade.consignor.session, trade)
    assert (failed.status_code, error_code(failed)) == (500, "internal_error")
    contract = Contract.objects.get(managed_by="eport")
    assert (contract.status, contract.reason) == ("revoked", "发起方签名未完成")
    assert not Entrustment.objects.exists()
