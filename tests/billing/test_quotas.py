"""Quotas (SPEC D7): the free allotment, one contract per send, back on an early revoke, and
402 quota_exhausted with the recharge link when none is left."""

from __future__ import annotations

import pytest

import portsign.settings as defaults
from portsign.billing.domain import quotas
from portsign.billing.enums import UsageReason
from portsign.billing.models import Usage, Wallet
from portsign.contracts.enums import PartyStatus
from portsign.contracts.models import Contract, Party
from tests.contracts.conftest import create_draft
from tests.helpers import Api, error_code, make_enterprise, verify_person


def _party(person, contract_id: str, **body) -> None:
    response = person.api.post(f"/contracts/{contract_id}/parties", body)
    assert response.status_code == 201, response.content


def _to_enterprise(alice, acme, globex) -> str:
    contract_id = create_draft(alice, acting_as=acme.id)["id"]
    _party(
        alice, contract_id, kind="enterprise", account="+8613800000002", enterprise_name=globex.name
    )
    return contract_id


def _to_person(sender, acting_as: str | None = None) -> str:
    fields = {"acting_as": acting_as} if acting_as else {}
    contract_id = create_draft(sender, **fields)["id"]
    _party(sender, contract_id, kind="person", account="+8613800000009")
    return contract_id


def _send(person, contract_id: str):
    return person.api.post(f"/contracts/{contract_id}/send")


def _wallet(enterprise) -> Wallet:
    return Wallet.objects.get(enterprise=enterprise)


def test_the_defaults_are_the_seeds_allotment():
    assert defaults.BILLING_FREE == {
        "enterprise": {"corporate": 5, "personal": 10},
        "person": {"corporate": 1, "personal": 3},
    }


def test_verification_grants_the_free_allotment_once(alice, acme):
    wallet = _wallet(acme)
    assert (wallet.corporate_remaining, wallet.personal_remaining) == (5, 10)
    assert (wallet.corporate_used, wallet.personal_used) == (0, 0)
    grants = Usage.objects.filter(wallet=wallet).order_by("id")
    assert [(u.reason, u.kind, u.delta, u.balance) for u in grants] == [
        ("grant", "corporate", 5, 5),
        ("grant", "personal", 10, 10),
    ]
    quotas.grant_enterprise(acme)  # verified again (after a lapse): nothing more
    assert Usage.objects.filter(wallet=wallet).count() == 2
    person = Wallet.objects.get(user=alice.user)  # alice's own real-name verification
    assert (person.corporate_remaining, person.personal_remaining) == (1, 3)


def test_the_reverse_payment_buys_one_more_corporate_contract(alice, acme):
    acme.verification_method = "reverse_deposit"
    Wallet.objects.filter(enterprise=acme).delete()
    quotas.grant_enterprise(acme)
    quotas.grant_enterprise(acme)
    wallet = _wallet(acme)
    assert (wallet.corporate_remaining, wallet.personal_remaining) == (6, 10)
    assert Usage.objects.filter(wallet=wallet, reason=UsageReason.REVERSE_PAYMENT).count() == 1


def test_sending_takes_one_contract_of_its_kind(alice, bob, acme, globex):
    corporate = _to_enterprise(alice, acme, globex)
    personal = _to_person(alice, acme.id)
    assert _send(alice, corporate).status_code == 200
    assert _send(alice, personal).status_code == 200
    wallet = _wallet(acme)
    assert (wallet.corporate_remaining, wallet.corporate_used) == (4, 1)
    assert (wallet.personal_remaining, wallet.personal_used) == (9, 1)
    sends = Usage.objects.filter(wallet=wallet, reason=UsageReason.SEND).order_by("id")
    assert [(u.contract_id, u.kind, u.delta, u.balance) for u in sends] == [
        (corporate, "corporate", -1, 4),
        (personal, "personal", -1, 9),
    ]
    # Sending again is refused by the status machine and charges nothing more.
    assert _send(alice, corporate).status_code == 409
    assert Usage.objects.filter(wallet=wallet, reason=UsageReason.SEND).count() == 2


def test_a_contract_to_ones_own_enterprise_only_is_personal(alice, acme):
    contract_id = create_draft(alice, acting_as=acme.id)["id"]
    _party(
        alice, contract_id, kind="enterprise", account="+8613800000001", enterprise_name=acme.name
    )
    _party(alice, contract_id, kind="person", account="+8613800000009")
    assert quotas.kind_of(Contract.objects.get(pk=contract_id)) == "personal"


def test_a_person_pays_from_her_own_wallet(alice, bob, globex):
    verify_person(alice, 61)
    contract_id = _to_person(alice)
    assert _send(alice, contract_id).status_code == 200
    wallet = Wallet.objects.get(user=alice.user)
    assert (wallet.personal_remaining, wallet.personal_used) == (2, 1)


def test_no_quota_left_is_402_with_the_recharge_link_and_the_draft_is_kept(alice, acme, globex):
    Wallet.objects.filter(enterprise=acme).update(corporate_remaining=0)
    contract_id = _to_enterprise(alice, acme, globex)
    english = Api(alice.api.token, language="en")
    response = english.post(f"/contracts/{contract_id}/send")
    assert response.status_code == 402, response.content
    error = response.json()["error"]
    assert error["code"] == "quota_exhausted"
    assert error["message"] == "No corporate contracts are left to send this one. Recharge first."
    assert error["link"] == "/console/billing/"
    contract = Contract.objects.get(pk=contract_id)
    assert (contract.status, contract.sent_at) == ("draft", None)
    assert not contract.versions.exists()
    assert not Usage.objects.filter(contract=contract).exists()
    # The personal quota is untouched and still sends a personal contract.
    assert _send(alice, _to_person(alice, acme.id)).status_code == 200


def test_a_revoke_before_anyone_signed_gives_the_contract_back_once(alice, acme, globex):
    contract_id = _to_enterprise(alice, acme, globex)
    assert _send(alice, contract_id).status_code == 200
    assert (
        alice.api.post(f"/contracts/{contract_id}/revoke", {"reason": "wrong"}).status_code == 200
    )
    wallet = _wallet(acme)
    assert (wallet.corporate_remaining, wallet.corporate_used) == (5, 0)
    rows = Usage.objects.filter(contract_id=contract_id).order_by("id")
    assert [(u.reason, u.delta, u.balance) for u in rows] == [("send", -1, 4), ("return", 1, 5)]
    quotas.return_contract(Contract.objects.get(pk=contract_id))  # a retry changes nothing
    assert Usage.objects.filter(contract_id=contract_id).count() == 2


def test_a_revoke_after_a_signature_keeps_the_charge(alice, bob, acme, globex):
    contract_id = _to_enterprise(alice, acme, globex)
    _party(
        alice, contract_id, kind="enterprise", account="+8613800000001", enterprise_name=acme.name
    )
    assert _send(alice, contract_id).status_code == 200
    Party.objects.filter(contract_id=contract_id, enterprise=globex).update(
        status=PartyStatus.SIGNED
    )
    assert alice.api.post(f"/contracts/{contract_id}/revoke", {"reason": "late"}).status_code == 200
    assert _wallet(acme).corporate_remaining == 4
    assert not Usage.objects.filter(contract_id=contract_id, reason=UsageReason.RETURN).exists()


@pytest.mark.parametrize("field", ["managed_by", "voids"])
def test_office_contracts_and_void_statements_cost_nothing(alice, acme, globex, field):
    contract_id = _to_enterprise(alice, acme, globex)
    contract = Contract.objects.get(pk=contract_id)
    if field == "managed_by":
        contract.managed_by = "eport"
    else:
        contract.voids = Contract.objects.get(pk=_to_enterprise(alice, acme, globex))
    assert not quotas.billable(contract)
    quotas.charge_contract(contract)
    assert _wallet(acme).corporate_remaining == 5


def test_the_wallet_never_goes_below_zero(alice, acme, globex):
    Wallet.objects.filter(enterprise=acme).update(corporate_remaining=1)
    first, second = _to_enterprise(alice, acme, globex), _to_enterprise(alice, acme, globex)
    assert _send(alice, first).status_code == 200
    response = _send(alice, second)
    assert (response.status_code, error_code(response)) == (402, "quota_exhausted")
    wallet = _wallet(acme)
    assert (wallet.corporate_remaining, wallet.corporate_used) == (0, 1)


def test_an_unverified_enterprise_has_no_allotment(alice):
    enterprise = make_enterprise(alice, "Initech Shipping Co., Ltd.", 7, verified=False)
    assert not Wallet.objects.filter(enterprise=enterprise).exists()


def test_charging_a_contract_again_is_a_no_op_even_with_nothing_left(alice, acme, globex):
    contract_id = _to_enterprise(alice, acme, globex)
    Wallet.objects.filter(enterprise=acme).update(corporate_remaining=1)
    contract = Contract.objects.get(pk=contract_id)
    quotas.charge_contract(contract)
    quotas.charge_contract(contract)  # a retry: no second charge, and no 402 at zero
    assert _wallet(acme).corporate_remaining == 0
    assert Usage.objects.filter(contract=contract, reason=UsageReason.SEND).count() == 1
