"""A transfer proves the corporate account belongs to the enterprise, and guessing is capped."""

from __future__ import annotations

import pytest

from tests.helpers import Api, error_code, give_materials, make_enterprise


@pytest.fixture
def draft(alice):
    """An unverified enterprise of alice, its materials uploaded (every method needs them)."""
    return give_materials(
        alice, make_enterprise(alice, "Binding Test Co., Ltd.", 11, verified=False), 11
    )


def _start(person, enterprise, account, method="micro_deposit"):
    return person.api.post(
        f"/enterprises/{enterprise.id}/verification",
        {"method": method, "bank_name": "Test Bank", "bank_account": account},
    )


def test_payout_to_an_account_held_by_someone_else_is_refused(alice, draft):
    # The sandbox bank already knows this account under another holder.
    paid = Api().post(
        "/sandbox/bank/transfers",
        {
            "from_account": "62220000001111",
            "from_name": "Someone Else Ltd.",
            "amount": "0.01",
            "reference": "00000000",
        },
    )
    assert paid.status_code == 201
    response = _start(alice, draft, "62220000001111")
    assert response.status_code == 400
    assert error_code(response) == "bank_account_name_mismatch"


def test_reverse_payment_from_another_holder_does_not_verify(alice, draft):
    reference = _start(alice, draft, "62220000002222", "reverse_deposit").json()["reference"]
    Api().post(
        "/sandbox/bank/transfers",
        {
            "from_account": "62220000002222",
            "from_name": "Mallory Personal",
            "amount": "0.01",
            "reference": reference,
        },
    )
    response = alice.api.post(f"/enterprises/{draft.id}/verification/check-payment")
    assert response.status_code == 409
    assert error_code(response) == "payment_mismatch"
    assert alice.api.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"


def test_micro_deposit_attempts_are_capped(alice, draft, settings):
    settings.DEPOSIT_MAX_STARTS = 2
    assert _start(alice, draft, "62220000003333").status_code == 200
    assert _start(alice, draft, "62220000003333").status_code == 200
    response = _start(alice, draft, "62220000003333")
    assert response.status_code == 409
    assert error_code(response) == "deposit_attempts_exhausted"


def test_a_retried_payout_pays_once():
    from decimal import Decimal

    from portsign.common.models import SandboxMessage
    from portsign.enterprises.bank import bank_gateway

    bank = bank_gateway()
    first = bank.pay(
        account="62220000004444",
        account_name="Once Ltd.",
        bank_name="Test Bank",
        amount=Decimal("0.42"),
        memo="verify",
        request_id="req-1",
    )
    again = bank.pay(
        account="62220000004444",
        account_name="Once Ltd.",
        bank_name="Test Bank",
        amount=Decimal("0.42"),
        memo="verify",
        request_id="req-1",
    )
    assert first == again
    assert SandboxMessage.objects.filter(to="62220000004444").count() == 1
