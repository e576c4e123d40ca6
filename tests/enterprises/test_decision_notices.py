"""Issue 16 item 8: applicants are told decisions — a join request approved or rejected (to the
requester), an enterprise verification outcome (to the main administrator)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from portsign.accounts.models import User
from portsign.backoffice import domain as backoffice
from tests.helpers import Api, give_materials, make_enterprise, outbox, verify_person

ACME = "Acme Port Logistics Co., Ltd."


def _english_client() -> Client:
    """A console session in English (the console ignores Accept-Language: a cookie decides)."""
    web = Client()
    web.cookies["portsign_language"] = "en"
    return web


@pytest.fixture
def verified_bob(bob):
    return verify_person(bob, 2)


@pytest.fixture
def pending(acme, verified_bob) -> str:
    response = verified_bob.api.post(
        f"/enterprises/{acme.id}/join-requests", {"reason": "I handle customs declarations"}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _texts(to: str) -> list[tuple[str, str]]:
    return [(m.subject, m.text) for m in outbox(to)]


# -- join requests --------------------------------------------------------------------------------


def test_the_requester_hears_the_approval(alice, verified_bob, pending):
    before = len(outbox(verified_bob.user.phone))
    admin = Api(alice.token, language="en")
    assert admin.post(f"/join-requests/{pending}/approve", {}).status_code == 200
    assert _texts(verified_bob.user.phone)[before:] == [
        ("Join request approved", f"【PortSign】Your request to join {ACME} was approved.")
    ]


def test_the_requester_hears_the_rejection_and_its_reason(alice, verified_bob, pending):
    before = len(outbox(verified_bob.user.phone))
    admin = Api(alice.token, language="en")
    rejected = admin.post(f"/join-requests/{pending}/reject", {"reason": "Not our employee"})
    assert rejected.status_code == 200
    assert _texts(verified_bob.user.phone)[before:] == [
        (
            "Join request rejected",
            f"【PortSign】Your request to join {ACME} was rejected: Not our employee",
        )
    ]


def test_a_requester_without_a_phone_hears_by_e_mail(acme, alice, charlie):
    verify_person(charlie, 3)  # checked with a phone number the account then drops
    User.objects.filter(pk=charlie.user.pk).update(phone=None)
    request = charlie.api.post(f"/enterprises/{acme.id}/join-requests", {"reason": "Tally clerk"})
    web = _english_client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    web.post(
        f"/console/enterprise/join-requests/{request.json()['id']}/decide/",
        {"decision": "approve", "enterprise_id": acme.id},
    )
    [mail] = [m for m in outbox("charlie@example.cn") if m.subject == "Join request approved"]
    assert (mail.channel, mail.text) == (
        "email",
        f"【PortSign】Your request to join {ACME} was approved.",
    )


def test_a_refused_decision_tells_nobody(alice, verified_bob, pending):
    before = len(outbox(verified_bob.user.phone))
    admin = Api(alice.token, language="en")
    assert admin.post(f"/join-requests/{pending}/reject", {"reason": ""}).status_code == 400
    assert admin.post(f"/join-requests/{pending}/withdraw").status_code == 404
    assert len(outbox(verified_bob.user.phone)) == before


# -- enterprise verification ----------------------------------------------------------------------


def test_the_main_administrator_hears_the_verification(alice):
    draft = give_materials(
        alice, make_enterprise(alice, "Notice Freight Co., Ltd.", 15, verified=False), 15
    )
    english = Api(alice.token, language="en")
    english.post(
        f"/enterprises/{draft.id}/verification",
        {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": "6222000000150001"},
    )
    amount = outbox("6222000000150001")[-1].data["amount"]
    english.post(f"/enterprises/{draft.id}/verification/confirm", {"amount": amount})
    assert _texts(alice.user.phone)[-1] == (
        "Enterprise verified",
        "【PortSign】Notice Freight Co., Ltd. passed enterprise verification "
        "(Micro-deposit to the corporate account).",
    )


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


@pytest.mark.parametrize("approve", [True, False])
def test_the_main_administrator_hears_the_letter_decision(alice, charlie, approve):
    draft = give_materials(
        alice, make_enterprise(alice, "Letter Freight Co., Ltd.", 16, verified=False), 16
    )
    submitted = alice.api.client.post(
        f"/api/v1/enterprises/{draft.id}/verification/letter",
        {"letter": SimpleUploadedFile("letter.pdf", _pdf())},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert submitted.status_code == 201, submitted.content
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    with translation.override("en"):
        backoffice.decide_review(
            reviewer=charlie.user,
            review_id=submitted.json()["id"],
            approve=approve,
            opinion="The seal is unclear." if not approve else "All in order.",
        )
    expected = (
        (
            "Enterprise verified",
            "【PortSign】Letter Freight Co., Ltd. passed enterprise verification "
            "(Stamped authorization letter (manual review)).",
        )
        if approve
        else (
            "Authorization letter returned",
            "【PortSign】The authorization letter of Letter Freight Co., Ltd. was returned: "
            "The seal is unclear.",
        )
    )
    assert _texts(alice.user.phone)[-1] == expected
