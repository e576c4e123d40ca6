"""The signing palette (issue 13 item 8): only the seals a party may use on a contract, each
named unambiguously, the required ones marked; a seal outside it cannot be applied."""

from __future__ import annotations

import pytest

from portsign.contracts.models import Party
from tests.contracts.conftest import create_draft, give_certificate
from tests.helpers import error_code


def _seal(person, enterprise, kind: str, name: str = "", **extra) -> str:
    response = person.api.post(
        f"/enterprises/{enterprise.id}/seals", {"type": kind, "name": name, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def sent(alice, acme):
    """Acme sends a contract to itself; Alice (its admin) holds every kind of seal."""
    give_certificate(alice, acme)
    contract = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000001", "enterprise_name": acme.name},
    )
    return contract["id"]


def _send(alice, contract_id: str) -> None:
    assert alice.api.post(f"/contracts/{contract_id}/send").status_code == 200


def _palette(person, contract_id: str, acting_as: str) -> list[dict]:
    response = person.api.get(f"/contracts/{contract_id}/palette?acting_as={acting_as}")
    assert response.status_code == 200, response.content
    return response.json()


def test_finance_and_hr_seals_are_never_offered(sent, alice, acme):
    official = _seal(alice, acme, "official")
    contract = _seal(alice, acme, "contract")
    finance = _seal(alice, acme, "finance", shape="oval")
    hr = _seal(alice, acme, "hr")
    _send(alice, sent)
    ids = [item["id"] for item in _palette(alice, sent, acme.id)]
    assert sorted(ids) == sorted([official, contract])
    assert finance not in ids
    assert hr not in ids
    marks = [{"seal_id": finance, "page": 1, "x": 0.6, "y": 0.7, "width": 0.2}]
    asked = alice.api.post(f"/contracts/{sent}/sign/codes", {"acting_as": acme.id, "marks": marks})
    assert asked.status_code == 400
    assert error_code(asked) == "marks_invalid"


def test_legal_rep_seal_only_when_the_party_must_apply_it(sent, alice, acme):
    contract = _seal(alice, acme, "contract")
    legal_rep = _seal(alice, acme, "legal_rep")
    _send(alice, sent)
    assert [item["id"] for item in _palette(alice, sent, acme.id)] == [contract]
    Party.objects.filter(contract_id=sent).update(needs_legal_rep_seal=True)
    palette = _palette(alice, sent, acme.id)
    assert {item["id"]: item["required"] for item in palette} == {
        contract: True,
        legal_rep: True,
    }


def test_required_is_marked_and_optional_company_seal_is_not(sent, alice, acme):
    contract = _seal(alice, acme, "contract")
    _send(alice, sent)
    Party.objects.filter(contract_id=sent).update(needs_seal=False, needs_legal_rep_seal=True)
    _seal(alice, acme, "legal_rep")
    palette = _palette(alice, sent, acme.id)
    assert {item["type"]: item["required"] for item in palette} == {
        "contract": False,
        "legal_rep": True,
    }
    assert contract in [item["id"] for item in palette]


def test_seals_with_the_same_name_get_distinct_labels(sent, alice, acme):
    first = _seal(alice, acme, "contract", name="合同章", code="3207000000001")
    second = _seal(alice, acme, "contract", name="合同章", code="3207000000002")
    only = _seal(alice, acme, "official", name="公章")
    _send(alice, sent)
    labels = {item["id"]: item["label"] for item in _palette(alice, sent, acme.id)}
    assert labels[only] == "公章"  # the name already says what it is
    assert labels[first] == f"合同章 · 合同专用章 (…0001 · {first[-4:]})"
    assert labels[second] == f"合同章 · 合同专用章 (…0002 · {second[-4:]})"


def test_a_person_party_is_offered_only_their_own_signature(alice, bob, acme):
    give_certificate(alice, acme)
    _seal(alice, acme, "contract")
    signature = alice.api.post("/me/signatures", {}).json()["id"]
    contract = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{contract['id']}/parties", {"kind": "person", "account": "13800000001"}
    )
    _send(alice, contract["id"])
    palette = _palette(alice, contract["id"], "personal")
    assert [(item["id"], item["required"]) for item in palette] == [(signature, True)]


def test_the_signing_page_marks_required_entries(sent, alice, acme, client):
    _seal(alice, acme, "contract")
    _seal(alice, acme, "finance", shape="oval")
    _send(alice, sent)
    client.force_login(alice.user)
    client.post("/console/enterprise/acting/", {"acting_as": acme.id})
    page = client.get(f"/console/contracts/{sent}/").content.decode()
    assert page.count('data-testid="palette-required"') == 1
    assert 'data-testid="palette-finance"' not in page
