"""Transfer verification of an enterprise through the API (SPEC B2), with the sandbox bank."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portsign.common.models import AuditEvent
from portsign.enterprises.models import DepositVerification, Enterprise, Membership, Role
from tests.helpers import Api, error_code, give_materials, make_enterprise, outbox

ACCOUNT = "6222000000770001"
OTHER_ACCOUNT = "6222000000770002"
BANK = "Test Bank Branch"


@pytest.fixture
def draft(alice):
    """An unverified enterprise of alice, its materials uploaded (every method needs them)."""
    enterprise = make_enterprise(alice, "Initech Freight Co., Ltd.", 7, verified=False)
    return give_materials(alice, enterprise, 7)


def start(person, enterprise, method="micro_deposit", account=ACCOUNT, bank_name=BANK):
    return person.api.post(
        f"/enterprises/{enterprise.id}/verification",
        {"method": method, "bank_name": bank_name, "bank_account": account},
    )


def confirm(person, enterprise, amount, api=None):
    return (api or person.api).post(
        f"/enterprises/{enterprise.id}/verification/confirm", {"amount": amount}
    )


def paid(account=ACCOUNT) -> str:
    return outbox(account)[-1].data["amount"]


def wrong(amount: str) -> str:
    return "0.50" if amount != "0.50" else "0.51"


HOLDER = "Initech Freight Co., Ltd."


def pay(from_account: str, amount: str, reference: str, holder: str = HOLDER):
    return Api().post(
        "/sandbox/bank/transfers",
        {
            "from_account": from_account,
            "from_name": holder,
            "amount": amount,
            "reference": reference,
        },
    )


def check(person, enterprise):
    return person.api.post(f"/enterprises/{enterprise.id}/verification/check-payment")


def status_of(enterprise) -> str:
    return Enterprise.objects.get(pk=enterprise.id).status


# -- micro-deposit --------------------------------------------------------------------------------


def test_start_micro_deposit(alice, draft):
    response = start(alice, draft)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "awaiting_amount"
    assert body["method"] == "micro_deposit"
    assert body["bank_name"] == BANK
    assert body["bank_account"] == "****0001"
    assert body["tries_left"] == 3
    assert body["reference"] == ""
    assert body["amount_to_pay"] == ""
    assert body["to_account"] == ""


def test_start_moves_enterprise_to_verifying(alice, draft):
    start(alice, draft)
    assert status_of(draft) == "verifying"
    assert AuditEvent.objects.filter(action="enterprise.deposit_started").count() == 1


def test_micro_deposit_amount_in_outbox(alice, draft):
    start(alice, draft)
    messages = outbox(ACCOUNT)
    assert len(messages) == 1
    assert messages[0].channel == "bank"
    amount = Decimal(messages[0].data["amount"])
    assert Decimal("0.01") <= amount <= Decimal("0.99")
    assert amount == amount.quantize(Decimal("0.01"))


def test_micro_deposit_amount_not_stored_in_clear(alice, draft):
    start(alice, draft)
    row = DepositVerification.objects.get()
    assert row.amount_hash != ""
    assert paid() not in row.amount_hash


def test_right_amount_verifies(alice, draft):
    start(alice, draft)
    response = confirm(alice, draft, paid())
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verified"
    enterprise = alice.api.get(f"/enterprises/{draft.id}").json()
    assert enterprise["status"] == "verified"
    assert enterprise["verification_method"] == "micro_deposit"
    assert enterprise["verified_at"] is not None


def test_right_amount_without_leading_zero(alice, draft):
    start(alice, draft)
    response = confirm(alice, draft, paid()[1:])
    assert response.status_code == 200
    assert response.json()["status"] == "verified"


def test_verified_is_audited(alice, draft):
    start(alice, draft)
    confirm(alice, draft, paid())
    event = AuditEvent.objects.get(action="enterprise.deposit_verified")
    assert event.acting_as == draft.id
    assert event.actor_id == alice.user.id
    assert event.data["bank_account"] == "****0001"
    changes = [
        e.data
        for e in AuditEvent.objects.filter(action="enterprise.status_changed", object_id=draft.id)
    ]
    assert changes == [
        {"from": "unverified", "to": "verifying"},
        {"from": "verifying", "to": "verified"},
    ]


def test_wrong_amount(alice, draft):
    start(alice, draft)
    english = Api(alice.token, language="en")
    response = confirm(alice, draft, wrong(paid()), api=english)
    assert response.status_code == 400
    assert error_code(response) == "amount_wrong"
    assert "2 tries left" in response.json()["error"]["message"]
    assert "amount" in response.json()["error"]["fields"]
    current = alice.api.get(f"/enterprises/{draft.id}/verification").json()
    assert current["status"] == "awaiting_amount"
    assert current["tries_left"] == 2
    assert status_of(draft) == "verifying"


def test_wrong_amount_is_audited(alice, draft):
    start(alice, draft)
    confirm(alice, draft, wrong(paid()))
    event = AuditEvent.objects.get(action="enterprise.deposit_failed_try")
    assert event.data["failure"] == "amount_wrong"
    assert event.data["tries"] == 1


def test_second_wrong_amount_leaves_one_try(alice, draft):
    start(alice, draft)
    english = Api(alice.token, language="en")
    confirm(alice, draft, wrong(paid()))
    response = confirm(alice, draft, wrong(paid()), api=english)
    assert response.status_code == 400
    assert "1 tries left" in response.json()["error"]["message"]


def test_three_wrong_amounts_fail(alice, draft):
    start(alice, draft)
    confirm(alice, draft, wrong(paid()))
    confirm(alice, draft, wrong(paid()))
    response = confirm(alice, draft, wrong(paid()))
    assert response.status_code == 409
    assert error_code(response) == "deposit_failed"
    current = alice.api.get(f"/enterprises/{draft.id}/verification").json()
    assert current["status"] == "failed"
    assert current["tries_left"] == 0


def test_right_amount_after_failure_is_refused(alice, draft):
    start(alice, draft)
    for _ in range(3):
        confirm(alice, draft, wrong(paid()))
    response = confirm(alice, draft, paid())
    assert response.status_code == 409
    assert error_code(response) == "deposit_not_open"
    assert status_of(draft) == "verifying"


def test_new_start_after_failure(alice, draft):
    start(alice, draft)
    for _ in range(3):
        confirm(alice, draft, wrong(paid()))
    restarted = start(alice, draft)
    assert restarted.status_code == 200
    assert restarted.json()["status"] == "awaiting_amount"
    assert restarted.json()["tries_left"] == 3
    assert len(outbox(ACCOUNT)) == 2
    assert confirm(alice, draft, paid()).json()["status"] == "verified"


def test_new_start_supersedes_open_attempt(alice, draft):
    first = start(alice, draft).json()
    second = start(alice, draft, account=OTHER_ACCOUNT).json()
    assert DepositVerification.objects.get(pk=first["id"]).status == "failed"
    assert DepositVerification.objects.get(pk=second["id"]).status == "awaiting_amount"
    current = alice.api.get(f"/enterprises/{draft.id}/verification").json()
    assert current["id"] == second["id"]


def test_expired_deposit(alice, draft):
    started = start(alice, draft).json()
    DepositVerification.objects.filter(pk=started["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = confirm(alice, draft, paid())
    assert response.status_code == 409
    assert error_code(response) == "deposit_expired"
    assert DepositVerification.objects.get(pk=started["id"]).status == "expired"
    assert status_of(draft) == "verifying"


def test_account_ending_0000_not_found(alice, draft):
    response = start(alice, draft, account="6222000000770000")
    assert response.status_code == 400
    assert error_code(response) == "bank_account_not_found"
    assert "bank_account" in response.json()["error"]["fields"]
    # The attempt was recorded before the bank was asked, and ends failed.
    assert DepositVerification.objects.get().status == "failed"
    assert AuditEvent.objects.filter(action="enterprise.deposit_payout_refused").count() == 1


@pytest.mark.parametrize("account", ["12ab5678", "1234567", "1" * 33, ""])
def test_invalid_account(alice, draft, account):
    response = start(alice, draft, account=account)
    assert response.status_code == 400
    assert error_code(response) == "bank_account_invalid"
    assert "bank_account" in response.json()["error"]["fields"]
    assert not DepositVerification.objects.exists()


def test_invalid_bank_name(alice, draft):
    response = start(alice, draft, bank_name="X")
    assert response.status_code == 400
    assert error_code(response) == "bank_account_invalid"
    assert "bank_name" in response.json()["error"]["fields"]


def test_account_with_spaces_and_dashes(alice, draft):
    response = start(alice, draft, account="6222 0000-0077 0001")
    assert response.status_code == 200
    assert len(outbox(ACCOUNT)) == 1


def test_unknown_method(alice, draft):
    response = start(alice, draft, method="cheque")
    assert response.status_code == 400
    assert error_code(response) == "method_invalid"


def test_already_verified(alice, acme):
    response = start(alice, acme)
    assert response.status_code == 409
    assert error_code(response) == "already_verified"


def test_confirm_without_start(alice, draft):
    response = confirm(alice, draft, "0.37")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_get_without_start(alice, draft):
    response = alice.api.get(f"/enterprises/{draft.id}/verification")
    assert response.status_code == 404


def test_confirm_malformed_amount(alice, draft):
    start(alice, draft)
    response = confirm(alice, draft, "-0.37")
    assert response.status_code == 400
    assert error_code(response) == "amount_invalid"
    assert alice.api.get(f"/enterprises/{draft.id}/verification").json()["tries_left"] == 3


def test_check_payment_on_micro_deposit_not_open(alice, draft):
    start(alice, draft)
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "deposit_not_open"


# -- reverse deposit ------------------------------------------------------------------------------


def test_start_reverse_deposit(alice, draft):
    response = start(alice, draft, method="reverse_deposit")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "awaiting_payment"
    assert body["method"] == "reverse_deposit"
    assert body["amount_to_pay"] == "0.01"
    assert body["to_account"] == "PORTSIGN-PLATFORM"
    assert len(body["reference"]) == 8
    assert body["reference"].isdigit()
    assert outbox(ACCOUNT) == []


def test_check_before_paying(alice, draft):
    start(alice, draft, method="reverse_deposit")
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "payment_not_received"


def test_payment_from_another_account(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    assert pay(OTHER_ACCOUNT, "0.01", reference).status_code == 201
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "payment_mismatch"
    assert status_of(draft) == "verifying"


def test_payment_of_another_amount(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    pay(ACCOUNT, "0.02", reference)
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "payment_mismatch"


def test_correct_payment_verifies(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    assert pay(ACCOUNT, "0.01", reference).json() == {"status": "received"}
    response = check(alice, draft)
    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    enterprise = alice.api.get(f"/enterprises/{draft.id}").json()
    assert enterprise["status"] == "verified"
    assert enterprise["verification_method"] == "reverse_deposit"


def test_correct_payment_after_a_wrong_one(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    pay(OTHER_ACCOUNT, "0.01", reference)
    check(alice, draft)
    pay(ACCOUNT, "0.01", reference)
    assert check(alice, draft).json()["status"] == "verified"


def test_check_after_verified_is_not_open(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    pay(ACCOUNT, "0.01", reference)
    check(alice, draft)
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "deposit_not_open"


def test_expired_reverse_deposit_refuses_payment(alice, draft):
    started = start(alice, draft, method="reverse_deposit").json()
    DepositVerification.objects.filter(pk=started["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    pay(ACCOUNT, "0.01", started["reference"])
    response = check(alice, draft)
    assert response.status_code == 409
    assert error_code(response) == "deposit_expired"
    assert status_of(draft) == "verifying"


def test_sandbox_bank_refuses_unknown_payer():
    response = pay("6222000000770000", "0.01", "12345678")
    assert response.status_code == 400
    assert error_code(response) == "bank_account_not_found"


# -- permissions ----------------------------------------------------------------------------------


@pytest.fixture
def plain_member(draft, bob):
    role = Role.objects.get(enterprise=draft, key="member")
    Membership.objects.create(enterprise=draft, user=bob.user, role=role)
    return bob


def test_non_admin_member_cannot_start(draft, plain_member):
    response = start(plain_member, draft)
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert outbox(ACCOUNT) == []
    assert status_of(draft) == "unverified"


def test_non_admin_member_cannot_confirm(alice, draft, plain_member):
    start(alice, draft)
    response = confirm(plain_member, draft, paid())
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert status_of(draft) == "verifying"


def test_non_admin_member_cannot_read(alice, draft, plain_member):
    start(alice, draft)
    response = plain_member.api.get(f"/enterprises/{draft.id}/verification")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_non_admin_of_verified_enterprise_cannot_start(acme, bob):
    role = Role.objects.get(enterprise=acme, key="member")
    Membership.objects.create(enterprise=acme, user=bob.user, role=role)
    response = start(bob, acme)
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


# -- the deadline during verification -------------------------------------------------------------


def lapse(enterprise) -> None:
    Enterprise.objects.filter(pk=enterprise.id).update(
        materials_deadline=timezone.now() - timedelta(seconds=1)
    )


def test_confirm_after_materials_deadline_still_verifies(alice, draft):
    # A transfer starts only once the materials are in, and the materials stop the clock.
    start(alice, draft)
    lapse(draft)
    response = confirm(alice, draft, paid())
    assert (response.status_code, response.json()["status"]) == (200, "verified")
    assert status_of(draft) == "verified"


def test_check_payment_after_materials_deadline_still_verifies(alice, draft):
    reference = start(alice, draft, method="reverse_deposit").json()["reference"]
    pay(ACCOUNT, "0.01", reference)
    lapse(draft)
    response = check(alice, draft)
    assert (response.status_code, response.json()["status"]) == (200, "verified")
    assert status_of(draft) == "verified"


def test_an_enterprise_without_its_id_card_still_lapses(alice, draft):
    Enterprise.objects.filter(pk=draft.id).update(id_back_path="", id_back_sha256="")
    lapse(draft)
    response = start(alice, draft)
    assert (response.status_code, error_code(response)) == (409, "enterprise_expired")
    assert status_of(draft) == "expired"


def test_confirm_amount_on_reverse_deposit_not_open(alice, draft):
    start(alice, draft, method="reverse_deposit")
    response = confirm(alice, draft, "0.01")
    assert response.status_code == 409
    assert error_code(response) == "deposit_not_open"
