"""Signing in several acts and 完成签署 (issue 13 item 16, SPEC D5), and the face liveness
check as an intent confirmation beside the code and the QR code."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent, SandboxFaceSession
from portsign.contracts.models import Contract, Party, SigningIntent
from tests.contracts.conftest import create_draft, give_certificate
from tests.helpers import error_code, last_code
from tests.verifiers import assert_verifiers_accept


def _seal(person, enterprise, kind: str) -> str:
    response = person.api.post(f"/enterprises/{enterprise.id}/seals", {"type": kind})
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def deal(alice, bob, acme, globex):
    """Acme asks its own contract seal and legal representative's seal, then Globex signs."""
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {
        "contract": _seal(alice, acme, "contract"),
        "legal_rep": _seal(alice, acme, "legal_rep"),
        "globex": _seal(bob, globex, "contract"),
    }
    contract = create_draft(alice, acting_as=acme.id)
    for account, enterprise in (("13800000001", acme), ("13800000002", globex)):
        alice.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    Party.objects.filter(contract_id=contract["id"], position=1).update(needs_legal_rep_seal=True)
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    return contract["id"], seals


def _mark(seal_id: str, y: float = 0.7) -> list[dict]:
    return [{"seal_id": seal_id, "page": 1, "x": 0.6, "y": y, "width": 0.2}]


def _act(person, contract_id: str, acting_as: str, marks: list[dict], finish: bool):
    body = {"acting_as": acting_as, "marks": marks, "finish": finish}
    asked = person.api.post(f"/contracts/{contract_id}/sign/codes", body)
    assert asked.status_code == 202, asked.content
    return person.api.post(
        f"/contracts/{contract_id}/sign", {**body, "code": last_code(person.account)}
    )


def test_a_party_signs_in_two_acts_then_finishes(deal, alice, bob, acme, globex, tmp_path):
    contract_id, seals = deal
    first = _act(alice, contract_id, acme.id, _mark(seals["contract"]), finish=False)
    assert first.status_code == 200, first.content
    assert [p["status"] for p in first.json()["parties"]] == ["pending", "waiting"]
    assert Party.objects.get(contract_id=contract_id, position=1).applied_kinds == "contract"

    early = alice.api.post(f"/contracts/{contract_id}/sign/finish", {"acting_as": acme.id})
    assert early.status_code == 400
    assert error_code(early) == "marks_incomplete"

    second = _act(alice, contract_id, acme.id, _mark(seals["legal_rep"], 0.4), finish=False)
    assert second.status_code == 200, second.content
    assert Party.objects.get(contract_id=contract_id, position=1).applied_kinds == (
        "contract legal_rep"
    )
    done = alice.api.post(f"/contracts/{contract_id}/sign/finish", {"acting_as": acme.id})
    assert done.status_code == 200, done.content
    assert [p["status"] for p in done.json()["parties"]] == ["signed", "pending"]
    again = alice.api.post(f"/contracts/{contract_id}/sign/finish", {"acting_as": acme.id})
    assert again.status_code == 409
    assert error_code(again) == "party_not_pending"

    last = _act(bob, contract_id, globex.id, _mark(seals["globex"]), finish=True)
    assert last.json()["status"] == "completed"
    actions = list(
        AuditEvent.objects.filter(
            object_id=contract_id,
            action__in=[
                "contract.party_signed",
                "contract.party_signed_act",
                "contract.party_finished",
            ],
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "contract.party_signed_act",
        "contract.party_signed_act",
        "contract.party_finished",
        "contract.party_signed",
    ]
    pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    # Three approval signatures, two of them Acme's acts, each with its own appearance.
    assert_verifiers_accept(pdf, tmp_path, ["PortSign-2-E", "PortSign-3-E", "PortSign-4-E"])


def test_one_finishing_act_still_needs_every_required_seal(deal, alice, acme):
    contract_id, seals = deal
    body = {"acting_as": acme.id, "marks": _mark(seals["contract"]), "finish": True}
    asked = alice.api.post(f"/contracts/{contract_id}/sign/codes", body)
    assert asked.status_code == 400
    assert error_code(asked) == "marks_incomplete"


def test_finishing_before_any_act_is_refused(deal, alice, acme):
    contract_id, _seals = deal
    answer = alice.api.post(f"/contracts/{contract_id}/sign/finish", {"acting_as": acme.id})
    assert answer.status_code == 409
    assert error_code(answer) == "nothing_signed"


def test_a_code_sent_for_a_partial_act_cannot_finish(deal, alice, acme):
    contract_id, seals = deal
    marks = _mark(seals["contract"]) + _mark(seals["legal_rep"], 0.4)
    partial = {"acting_as": acme.id, "marks": marks, "finish": False}
    assert alice.api.post(f"/contracts/{contract_id}/sign/codes", partial).status_code == 202
    code = last_code(alice.account)
    finishing = alice.api.post(
        f"/contracts/{contract_id}/sign", {**partial, "finish": True, "code": code}
    )
    assert finishing.status_code == 400
    assert Party.objects.get(contract_id=contract_id, position=1).status == "pending"
    assert Contract.objects.get(pk=contract_id).versions.count() == 1


# -- face liveness as the intent check ------------------------------------------------------------


def _face(alice, contract_id: str, acting_as: str, marks: list[dict]):
    return alice.api.post(
        f"/contracts/{contract_id}/sign/face", {"acting_as": acting_as, "marks": marks}
    )


def test_a_passed_face_check_confirms_the_intent(deal, alice, acme, client):
    contract_id, seals = deal
    marks = _mark(seals["contract"]) + _mark(seals["legal_rep"], 0.4)
    asked = _face(alice, contract_id, acme.id, marks)
    assert asked.status_code == 202, asked.content
    body = asked.json()
    intent = SigningIntent.objects.get(pk=body["intent_id"])
    assert body["face_url"].endswith(f"/sandbox/face/{intent.face_session_id}/")
    assert body["qr_svg"].startswith("<svg")
    status_path = f"/contracts/{contract_id}/sign/intents/{body['intent_id']}"
    assert alice.api.get(status_path).json()["confirmed"] is False
    early = alice.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "marks": marks, "intent_id": body["intent_id"]},
    )
    assert error_code(early) == "intent_not_confirmed"
    # The person completes the liveness check at the (sandbox) provider.
    assert client.post(f"/sandbox/face/{intent.face_session_id}/", {"result": "pass"}).status_code
    assert alice.api.get(status_path).json() == {
        "intent_id": body["intent_id"],
        "confirmed": True,
        "used": False,
        "expired": False,
        "failure": "",
    }
    signed = alice.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "marks": marks, "intent_id": body["intent_id"]},
    )
    assert signed.status_code == 200, signed.content
    assert [p["status"] for p in signed.json()["parties"]] == ["signed", "pending"]
    assert (
        AuditEvent.objects.filter(
            object_id=contract_id, action="contract.intent_face_passed"
        ).count()
        == 1
    )


def test_a_failed_face_check_ends_the_intent(deal, alice, acme, client):
    contract_id, seals = deal
    marks = _mark(seals["contract"]) + _mark(seals["legal_rep"], 0.4)
    body = _face(alice, contract_id, acme.id, marks).json()
    session = SigningIntent.objects.get(pk=body["intent_id"]).face_session_id
    client.post(f"/sandbox/face/{session}/", {"result": "reject"})
    state = alice.api.get(f"/contracts/{contract_id}/sign/intents/{body['intent_id']}").json()
    assert (state["confirmed"], state["expired"], state["failure"]) == (
        False,
        True,
        "face_mismatch",
    )
    assert SandboxFaceSession.objects.get(pk=session).status == "rejected"
    refused = alice.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "marks": marks, "intent_id": body["intent_id"]},
    )
    assert error_code(refused) == "intent_not_confirmed"
    assert Party.objects.get(contract_id=contract_id, position=1).status == "pending"


def test_face_needs_a_verified_real_name(deal, alice, acme):
    contract_id, seals = deal
    type(alice.user).objects.filter(pk=alice.user.pk).update(real_name_verified_at=None)
    marks = _mark(seals["contract"]) + _mark(seals["legal_rep"], 0.4)
    asked = _face(alice, contract_id, acme.id, marks)
    assert asked.status_code == 409
    assert error_code(asked) == "face_unavailable"


# -- the paging seal (骑缝章) and 完成签署 in the console ---------------------------------------


def test_a_paging_seal_is_split_across_every_page(deal, alice, acme, tmp_path):
    contract_id, seals = deal
    paging = {"seal_id": seals["contract"], "paging": True, "page": 2, "x": 0.1, "y": 0.3}
    marks = _mark(seals["contract"]) + _mark(seals["legal_rep"], 0.4) + [{**paging, "width": 0.2}]
    signed = _act(alice, contract_id, acme.id, marks, finish=True)
    assert signed.status_code == 200, signed.content
    stored = SigningIntent.objects.get(contract_id=contract_id).marks
    # Wherever it was dropped, it is page 1 at the right edge: the digest does not depend on it.
    assert {
        "seal_id": seals["contract"],
        "page": 1,
        "x": 0.8,
        "y": 0.3,
        "width": 0.2,
        "paging": True,
    } in stored
    pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    assert_verifiers_accept(pdf, tmp_path, ["PortSign-2-E"])
    for page in (1, 2):  # pdf_bytes() makes two pages; each carries a slice at its right edge
        png = alice.api.get(f"/contracts/{contract_id}/pages/{page}.png").content
        assert _red_at_right_edge(png) > 50, page


def _red_at_right_edge(png: bytes) -> int:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        rgb = picture.convert("RGB")
        width, height = rgb.size
        strip = rgb.crop((width - 8, 0, width, height)).tobytes()
    return sum(
        1
        for i in range(0, len(strip), 3)
        if strip[i] > 180 and strip[i + 1] < 90 and strip[i + 2] < 90
    )


def test_a_paging_signature_is_refused(alice, acme):
    give_certificate(alice, acme)
    signature = alice.api.post("/me/signatures", {}).json()["id"]
    contract = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{contract['id']}/parties", {"kind": "person", "account": "13800000001"}
    )
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    marks = [{"seal_id": signature, "paging": True, "page": 1, "x": 0.8, "y": 0.3, "width": 0.2}]
    asked = alice.api.post(
        f"/contracts/{contract['id']}/sign/codes", {"acting_as": "personal", "marks": marks}
    )
    assert asked.status_code == 400
    assert error_code(asked) == "marks_invalid"


def test_the_console_offers_finish_signing_after_an_act(deal, alice, acme, client):
    contract_id, seals = deal
    client.force_login(alice.user)
    client.post("/console/enterprise/acting/", {"acting_as": acme.id})
    page = client.get(f"/console/contracts/{contract_id}/").content.decode()
    assert 'data-testid="sign-finish-button"' not in page
    assert 'data-testid="palette-paging-contract"' in page
    _act(alice, contract_id, acme.id, _mark(seals["contract"]), finish=False)
    _act(alice, contract_id, acme.id, _mark(seals["legal_rep"], 0.4), finish=False)
    page = client.get(f"/console/contracts/{contract_id}/?signed=act").content.decode()
    assert 'data-testid="sign-finish-button"' in page
    assert "完成签署" in page
    finished = client.post(f"/console/contracts/{contract_id}/finish/")
    assert finished.status_code == 302
    assert Party.objects.get(contract_id=contract_id, position=1).status == "signed"
