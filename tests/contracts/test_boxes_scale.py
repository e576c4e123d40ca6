"""Boxes at scale (D4): the Involvement rows the boxes read stay exactly in sync with contracts
and parties through every status change and late link, isolate identities, are backfilled by
the migration, and a page costs the same number of queries whatever its size."""

from __future__ import annotations

import datetime as dt
import importlib
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portsign.contracts.models import Contract, Involvement
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import Person, make_enterprise, make_person

COPIED = ("status", "created_at", "contract_type_id", "sent_at", "completed_at", "valid_until")


def _rows(contract_id: str) -> set[tuple[str, str]]:
    """(identity, status) of the contract's rows, after checking every row copies the
    contract's columns and only the sender identity's row names the sender."""
    contract = Contract.objects.get(pk=contract_id)
    sender = f"e:{contract.sender_enterprise_id}" if contract.sender_enterprise_id else None
    sender = sender or f"u:{contract.sender_id}"
    rows = list(Involvement.objects.filter(contract_id=contract_id))
    for row in rows:
        assert [getattr(row, c) for c in COPIED] == [getattr(contract, c) for c in COPIED]
        assert row.sender_id == (contract.sender_id if row.identity == sender else None)
    return {(row.identity, row.status) for row in rows}


def e(enterprise) -> str:
    return f"e:{enterprise.id}"


def u(person: Person) -> str:
    return f"u:{person.user.id}"


def _party(person: Person, contract_id: str, **body) -> dict:
    response = person.api.post(f"/contracts/{contract_id}/parties", body)
    assert response.status_code == 201, response.content
    return response.json()


def _enterprise_party(person: Person, contract_id: str, account: str, enterprise) -> dict:
    return _party(
        person,
        contract_id,
        kind="enterprise",
        account=account,
        enterprise_name=enterprise if isinstance(enterprise, str) else enterprise.name,
    )


def _box(person: Person, box: str, acting_as: str = "personal", **params) -> dict:
    query = urlencode({"box": box, "acting_as": acting_as, **params})
    response = person.api.get(f"/contracts?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def _post(person: Person, path: str, body: dict) -> dict:
    response = person.api.post(path, body)
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_rows_follow_a_draft_its_parties_sending_and_rejection(alice, bob, acme, globex):
    contract_id = create_draft(alice, acting_as=acme.id)["id"]
    assert _rows(contract_id) == {(e(acme), "draft")}
    _enterprise_party(alice, contract_id, "13800000002", globex)
    person = _party(alice, contract_id, kind="person", account="13800000002")
    assert _rows(contract_id) == {(e(acme), "draft"), (e(globex), "draft"), (u(bob), "draft")}
    removed = alice.api.delete(f"/contracts/{contract_id}/parties/{person['id']}")
    assert removed.status_code == 204
    # The sender enterprise as a party too: still one row for it.
    _enterprise_party(alice, contract_id, "13800000001", acme)
    assert _rows(contract_id) == {(e(acme), "draft"), (e(globex), "draft")}
    assert Involvement.objects.filter(contract_id=contract_id).count() == 2
    _post(alice, f"/contracts/{contract_id}/send", {})
    assert _rows(contract_id) == {(e(acme), "signing"), (e(globex), "signing")}
    _post(bob, f"/contracts/{contract_id}/reject", {"acting_as": globex.id, "reason": "费率不对"})
    assert _rows(contract_id) == {(e(acme), "rejected"), (e(globex), "rejected")}
    assert _box(bob, "others_to_sign", globex.id)["total"] == 0


def test_rows_follow_revoking_and_expiry(verified_alice, bob):
    alice = verified_alice
    revoked, expired = (create_draft(alice)["id"] for _ in range(2))
    for contract_id in (revoked, expired):
        _party(alice, contract_id, kind="person", account="13800000002")
        _post(alice, f"/contracts/{contract_id}/send", {})
        assert _rows(contract_id) == {(u(alice), "signing"), (u(bob), "signing")}
    _post(alice, f"/contracts/{revoked}/revoke", {"reason": "条款有误"})
    assert _rows(revoked) == {(u(alice), "revoked"), (u(bob), "revoked")}
    Contract.objects.filter(pk=expired).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert _box(alice, "others_to_sign")["total"] == 0  # listing expires it first
    assert _rows(expired) == {(u(alice), "expired"), (u(bob), "expired")}


@pytest.fixture
def deal(alice, bob, acme, globex):
    """Acme sends to Globex, then signs itself; both hold a certificate and a contract seal."""
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    contract_id = create_draft(alice, acting_as=acme.id)["id"]
    _enterprise_party(alice, contract_id, "13800000002", globex)
    _enterprise_party(alice, contract_id, "13800000001", acme)
    _post(alice, f"/contracts/{contract_id}/send", {})
    return contract_id, seals


def test_rows_follow_signing_completion_and_voiding(deal, alice, bob, acme, globex):
    contract_id, seals = deal
    assert _box(alice, "others_to_sign", acme.id)["total"] == 1
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    # Acme's turn now: waiting for it, no longer for others.
    assert _box(alice, "others_to_sign", acme.id)["total"] == 0
    assert _box(bob, "others_to_sign", globex.id)["total"] == 1
    done = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert done.json()["status"] == "completed"
    assert _rows(contract_id) == {(e(acme), "completed"), (e(globex), "completed")}
    assert [c["id"] for c in _box(bob, "completed", globex.id)["items"]] == [contract_id]

    statement = _post(
        bob, f"/contracts/{contract_id}/void", {"acting_as": globex.id, "reason": "业务取消"}
    )
    assert _rows(statement["id"]) == {(e(globex), "signing"), (e(acme), "signing")}
    for person, enterprise, seal in ((alice, acme, "acme"), (bob, globex, "globex")):
        assert _sign(person, statement["id"], enterprise.id, _marks(seals[seal])).status_code == 200
    assert _rows(statement["id"]) == {(e(globex), "completed"), (e(acme), "completed")}
    assert _rows(contract_id) == {(e(acme), "voided"), (e(globex), "voided")}
    assert [c["id"] for c in _box(alice, "voided", acme.id)["items"]] == [contract_id]
    assert [c["id"] for c in _box(alice, "completed", acme.id)["items"]] == [statement["id"]]


def test_late_links_add_rows_with_the_current_status(verified_alice):
    """An invited account registers, an enterprise named on a contract gets verified: listing a
    box links their parties, and their rows carry the contract's status at that moment."""
    alice = verified_alice
    open_id, revoked_id = (create_draft(alice)["id"] for _ in range(2))
    for contract_id in (open_id, revoked_id):
        _party(alice, contract_id, kind="person", account="newcomer@example.cn")
        _enterprise_party(alice, contract_id, "13800000099", "Newport Shipping Co., Ltd.")
        _post(alice, f"/contracts/{contract_id}/send", {})
        assert _rows(contract_id) == {(u(alice), "signing")}
    _post(alice, f"/contracts/{revoked_id}/revoke", {})

    newcomer = make_person("newcomer@example.cn", "Newcomer Test")
    assert _rows(open_id) == {(u(alice), "signing")}  # linked when first listing
    assert [c["id"] for c in _box(newcomer, "to_sign")["items"]] == [open_id]
    assert _rows(open_id) == {(u(alice), "signing"), (u(newcomer), "signing")}
    assert _rows(revoked_id) == {(u(alice), "revoked"), (u(newcomer), "revoked")}

    owner = make_person("+8613800000099", "Newport Admin")
    newport = make_enterprise(owner, "Newport Shipping Co., Ltd.", 9)
    assert [c["id"] for c in _box(owner, "others_to_sign", newport.id)["items"]] == [open_id]
    assert _rows(open_id) == {
        (u(alice), "signing"),
        (u(newcomer), "signing"),
        (e(newport), "signing"),
    }
    assert (e(newport), "revoked") in _rows(revoked_id)
    # The owner's personal identity is not the enterprise's: nothing for them personally.
    assert _box(owner, "others_to_sign")["total"] == 0
    assert Involvement.objects.filter(identity=u(owner)).count() == 0


BOXES = (
    "to_sign",
    "others_to_sign",
    "completed",
    "sent",
    "drafts",
    "due_soon",
    "to_approve",
    "voided",
    "expiring",
)


def test_other_identities_never_see_the_contract(deal, alice, bob, charlie, dave, acme, globex):
    from tests.seals.conftest import add_member

    contract_id, seals = deal
    _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    assert _box(bob, "others_to_sign", globex.id)["total"] == 1
    # 我发起的 is the member's own: another member of Acme sees it waiting, not as sent by them.
    add_member(acme, dave, "member")
    assert _box(alice, "sent", acme.id)["total"] == 1
    assert (_box(dave, "sent", acme.id)["total"], _box(dave, "to_sign", acme.id)["total"]) == (0, 1)
    assert _box(bob, "sent", globex.id)["total"] == 0
    initech = make_enterprise(charlie, "Initech Co., Ltd.", 3)
    for box in BOXES:
        assert _box(charlie, box, initech.id)["total"] == 0, box
        assert _box(charlie, box)["total"] == 0, box
        # Bob and alice personally are not their enterprises.
        assert _box(bob, box)["total"] == 0, box
        assert _box(alice, box)["total"] == 0, box
    assert _rows(contract_id) == {(e(acme), "signing"), (e(globex), "signing")}
    assert not Involvement.objects.filter(identity__in=[e(initech), u(charlie)]).exists()


def _list_queries(person: Person, box: str, acting_as: str, page_size: int) -> tuple[int, int]:
    """(queries, items) of one listing, straight through list_box."""
    from portsign.contracts.domain.boxes import list_box

    with CaptureQueriesContext(connection) as captured:
        page = list_box(actor=person.user, box=box, acting_as=acting_as, page_size=page_size)
    return len(captured.captured_queries), len(page.items)


def test_involvement_box_query_count_is_fixed(alice, bob, acme, globex):
    for number in range(12):
        contract_id = create_draft(alice, acting_as=acme.id, title=f"c{number}")["id"]
        _enterprise_party(alice, contract_id, "13800000002", globex)
        _party(alice, contract_id, kind="person", account="13800000002")
        _post(alice, f"/contracts/{contract_id}/send", {})
    # expire_overdue, the membership with its role, link_enterprise_parties, count, page,
    # parties: the page's contracts come in one query, whatever their number.
    assert _list_queries(alice, "others_to_sign", acme.id, 1) == (6, 1)
    assert _list_queries(alice, "others_to_sign", acme.id, 12) == (6, 12)
    # Personally: expire_overdue, claim_invitations, count, page, parties.
    assert _list_queries(bob, "others_to_sign", "personal", 2) == (5, 2)
    assert _list_queries(bob, "others_to_sign", "personal", 12) == (5, 12)


def test_party_and_type_filters_on_involvement_boxes(alice, bob, acme, globex):
    from portsign.contracts.models import ContractType

    kind = ContractType.objects.create(enterprise=acme, name="港口作业合同")
    ids = []
    for number in range(3):
        typed = {"type": kind.name} if number == 0 else {}
        contract_id = create_draft(alice, acting_as=acme.id, title=f"c{number}", **typed)["id"]
        _enterprise_party(alice, contract_id, "13800000002", globex)
        if number == 1:
            _party(alice, contract_id, kind="person", account="13800000003")
        _post(alice, f"/contracts/{contract_id}/send", {})
        ids.append(contract_id)
    newest_first = ids[::-1]
    assert [c["id"] for c in _box(alice, "others_to_sign", acme.id)["items"]] == newest_first
    assert [c["id"] for c in _box(alice, "others_to_sign", acme.id, party="globex")["items"]] == (
        newest_first
    )
    only_second = _box(alice, "others_to_sign", acme.id, party="+8613800000003")
    assert [c["id"] for c in only_second["items"]] == [ids[1]]
    typed = _box(alice, "others_to_sign", acme.id, type="港口作业合同")
    assert (typed["total"], [c["id"] for c in typed["items"]]) == (1, [ids[0]])
    assert _box(alice, "others_to_sign", acme.id, status="completed")["total"] == 0
    assert _box(alice, "sent", acme.id, type="港口作业合同")["total"] == 1
    kind.delete()  # the contracts and their rows lose the type alike
    assert _rows(ids[0]) == {(e(acme), "signing"), (e(globex), "signing")}
    assert _box(alice, "others_to_sign", acme.id, type="港口作业合同")["total"] == 0
    second_page = _box(alice, "others_to_sign", acme.id, page=2, page_size=2)
    assert (second_page["total"], [c["id"] for c in second_page["items"]]) == (3, [ids[0]])


def test_migration_backfills_what_the_app_keeps(alice, bob, acme, globex, monkeypatch):
    drafted = create_draft(alice, acting_as=acme.id)["id"]
    _enterprise_party(alice, drafted, "13800000002", globex)
    sent = create_draft(alice)["id"]
    _party(alice, sent, kind="person", account="13800000002")
    _party(alice, sent, kind="person", account="nobody@example.cn")  # not registered: no row
    _post(alice, f"/contracts/{sent}/send", {})
    columns = ("identity", "contract_id", "sender_id", *COPIED)
    kept = set(Involvement.objects.values_list(*columns))
    assert {(i, c, s) for i, c, _sender, s, *_rest in kept} == {
        (e(acme), drafted, "draft"),
        (e(globex), drafted, "draft"),
        (u(alice), sent, "signing"),
        (u(bob), sent, "signing"),
    }
    Involvement.objects.all().delete()
    migration = importlib.import_module("portsign.contracts.migrations.0007_involvement")
    monkeypatch.setattr(migration, "BATCH", 1)  # several batches, as at scale
    migration.backfill(apps, None)
    assert set(Involvement.objects.values_list(*columns)) == kept
    assert Involvement.objects.count() == 4
