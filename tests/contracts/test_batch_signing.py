"""Signing areas drawn on uploaded drafts (issue 13 item 11) and 批量签署 (item 16): one seal
placed by each contract's areas, one code bound to the exact list."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.contracts.models import Contract, SigningBatch
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.helpers import error_code, last_code
from tests.verifiers import assert_verifiers_accept

SEAL_AREA = {"kind": "seal", "page": 2, "x": 0.6, "y": 0.7, "width": 0.2, "height": 0.12}
DATE_AREA = {"kind": "date", "page": 2, "x": 0.62, "y": 0.86, "width": 0.16, "height": 0.05}


def _party(alice, contract_id: str, position: int) -> str:
    return alice.api.get(f"/contracts/{contract_id}").json()["parties"][position - 1]["id"]


def _contract(alice, acme, globex, *, areas: bool = True, title: str = "集装箱理货协议") -> str:
    contract = create_draft(alice, acting_as=acme.id, title=title)
    alice.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    if areas:
        party = _party(alice, contract["id"], 1)
        for area in (SEAL_AREA, DATE_AREA):
            drawn = alice.api.post(
                f"/contracts/{contract['id']}/areas", {**area, "party_id": party}
            )
            assert drawn.status_code == 201, drawn.content
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    return contract["id"]


@pytest.fixture
def setup(alice, bob, acme, globex):
    give_certificate(bob, globex)
    return contract_seal(bob, globex)


def test_areas_become_the_signers_suggested_marks(setup, alice, bob, acme, globex):
    contract_id = _contract(alice, acme, globex)
    party = bob.api.get(f"/contracts/{contract_id}").json()["parties"][0]
    assert party["suggested_marks"] == [SEAL_AREA, DATE_AREA]
    listed = alice.api.get(f"/contracts/{contract_id}/areas").json()
    assert [(a["kind"], a["page"]) for a in listed] == [("seal", 2), ("date", 2)]


def test_areas_are_the_senders_and_only_on_the_draft(setup, alice, bob, acme, globex):
    draft = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{draft['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    party = _party(alice, draft["id"], 1)
    path = f"/contracts/{draft['id']}/areas"
    assert bob.api.post(path, {**SEAL_AREA, "party_id": party}).status_code == 404
    bad_page = alice.api.post(path, {**SEAL_AREA, "page": 9, "party_id": party})
    assert bad_page.status_code == 400
    assert error_code(bad_page) == "area_invalid"
    off_page = alice.api.post(path, {**SEAL_AREA, "x": 0.9, "party_id": party})
    assert error_code(off_page) == "area_invalid"
    drawn = alice.api.post(path, {**SEAL_AREA, "party_id": party}).json()
    assert alice.api.post(f"/contracts/{draft['id']}/send").status_code == 200
    late = alice.api.post(path, {**DATE_AREA, "party_id": party})
    assert late.status_code == 409
    assert error_code(late) == "not_draft"
    assert alice.api.delete(f"{path}/{drawn['id']}").status_code == 409


def test_batch_signs_every_listed_contract_with_one_code(setup, alice, bob, acme, globex, tmp_path):
    seal = setup
    first, second = _contract(alice, acme, globex), _contract(alice, acme, globex, title="第二份")
    asked = bob.api.post(
        "/signing-batches",
        {"acting_as": globex.id, "contract_ids": [first, second], "seal_id": seal},
    )
    assert asked.status_code == 202, asked.content
    body = asked.json()
    assert body["items"] == [
        {"contract_id": first, "marks": 2},
        {"contract_id": second, "marks": 2},
    ]
    batch = SigningBatch.objects.get(pk=body["batch_id"])
    assert batch.items[0]["marks"] == [
        {"page": 2, "x": 0.6, "y": 0.7, "width": 0.2, "seal_id": seal},
        {"page": 2, "x": 0.62, "y": 0.86, "width": 0.16, "date": True},
    ]
    code = last_code(bob.account)
    signed = bob.api.post(f"/signing-batches/{body['batch_id']}/sign", {"code": code})
    assert signed.status_code == 200, signed.content
    assert signed.json() == [
        {"contract_id": first, "title": "集装箱理货协议", "status": "signed", "error": ""},
        {"contract_id": second, "title": "第二份", "status": "signed", "error": ""},
    ]
    for contract_id in (first, second):
        assert Contract.objects.get(pk=contract_id).parties.get().status == "signed"
    pdf = bob.api.get(f"/contracts/{first}/document.pdf").content
    assert_verifiers_accept(pdf, tmp_path, ["PortSign-2-E"])
    again = bob.api.post(f"/signing-batches/{body['batch_id']}/sign", {"code": code})
    assert again.status_code == 409
    assert error_code(again) == "batch_used"
    assert AuditEvent.objects.filter(action="contract.batch_signed").count() == 1


def test_a_contract_without_areas_cannot_be_batch_signed(setup, alice, bob, acme, globex):
    with_areas = _contract(alice, acme, globex)
    without = _contract(alice, acme, globex, areas=False, title="无签署区")
    asked = bob.api.post(
        "/signing-batches",
        {"acting_as": globex.id, "contract_ids": [with_areas, without], "seal_id": setup},
    )
    assert asked.status_code == 400
    assert error_code(asked) == "batch_no_areas"
    assert "无签署区" in asked.json()["error"]["message"]
    assert SigningBatch.objects.count() == 0


def test_a_contract_revoked_meanwhile_fails_alone(setup, alice, bob, acme, globex):
    first, second = _contract(alice, acme, globex), _contract(alice, acme, globex, title="第二份")
    body = bob.api.post(
        "/signing-batches",
        {"acting_as": globex.id, "contract_ids": [first, second], "seal_id": setup},
    ).json()
    code = last_code(bob.account)  # before the revocation notice arrives
    assert alice.api.post(f"/contracts/{first}/revoke", {"reason": "改期"}).status_code == 200
    results = bob.api.post(f"/signing-batches/{body['batch_id']}/sign", {"code": code}).json()
    assert [(r["contract_id"], r["status"]) for r in results] == [
        (first, "failed"),
        (second, "signed"),
    ]
    assert results[0]["error"] != ""


def test_a_wrong_code_signs_nothing(setup, alice, bob, acme, globex):
    first = _contract(alice, acme, globex)
    body = bob.api.post(
        "/signing-batches",
        {"acting_as": globex.id, "contract_ids": [first], "seal_id": setup},
    ).json()
    code = last_code(bob.account)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    refused = bob.api.post(f"/signing-batches/{body['batch_id']}/sign", {"code": wrong})
    assert refused.status_code == 400
    assert Contract.objects.get(pk=first).parties.get().status == "pending"
    assert SigningBatch.objects.get(pk=body["batch_id"]).used_at is None


def test_another_enterprises_contract_or_batch_is_not_found(setup, alice, bob, acme, globex):
    first = _contract(alice, acme, globex)
    stranger_asks = alice.api.post(
        "/signing-batches",
        {"acting_as": acme.id, "contract_ids": [first], "seal_id": setup},
    )
    assert stranger_asks.status_code in (403, 400)  # Acme is not a party to sign it
    body = bob.api.post(
        "/signing-batches",
        {"acting_as": globex.id, "contract_ids": [first], "seal_id": setup},
    ).json()
    other = alice.api.post(f"/signing-batches/{body['batch_id']}/sign", {"code": "123456"})
    assert other.status_code == 404


def test_too_many_contracts_are_refused(setup, bob, globex):
    ids = [f"01M{i:023d}" for i in range(21)]
    asked = bob.api.post(
        "/signing-batches", {"acting_as": globex.id, "contract_ids": ids, "seal_id": setup}
    )
    assert asked.status_code == 400
    assert error_code(asked) == "batch_size"


def test_the_box_offers_batch_signing_and_the_batch_page_lists_the_choice(
    setup, alice, bob, acme, globex, client
):
    first, second = _contract(alice, acme, globex), _contract(alice, acme, globex, title="第二份")
    client.force_login(bob.user)
    client.post("/console/enterprise/acting/", {"acting_as": globex.id})
    box = client.get("/console/contracts/?box=to_sign").content.decode()
    assert box.count('data-testid="batch-choose"') == 2
    assert 'data-testid="batch-selected"' in box
    page = client.post("/console/contracts/batch/", {"sign_ids": [first, second]})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="batch-row"') == 2
    assert f'<option value="{setup}">' in html
    empty = client.post("/console/contracts/batch/", {})
    assert empty.status_code == 302
    client.force_login(alice.user)
    stranger = client.post("/console/contracts/batch/", {"sign_ids": ["01M0000000000000000000000"]})
    assert stranger.status_code == 404
