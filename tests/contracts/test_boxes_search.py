"""The box page (issue 13 item 7): search by title or contract number, a status filter, a count
on each tab in a fixed number of queries, 签署 on the rows the user may sign now, and paging
that keeps the filters; the API list takes the same `q` and `status`."""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portsign.contracts.domain.boxes import box_counts
from portsign.contracts.domain.contracts import move_status
from portsign.contracts.enums import ContractStatus, PartyStatus
from portsign.contracts.models import Contract, Party
from tests.contracts.conftest import create_draft
from tests.helpers import error_code


def web(person, acting_as: str = "personal") -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as != "personal":
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def send_to(sender, acting_as: str, partner, partner_enterprise, title: str) -> dict:
    """A contract *sender* sends for *acting_as*: *partner_enterprise* signs first, then the
    sender's own enterprise."""
    contract = create_draft(sender, acting_as=acting_as, title=title)
    for account, name in ((partner.account, partner_enterprise.name), (sender.account, None)):
        body = {"kind": "enterprise", "account": account, "enterprise_name": name or ""}
        if name is None:
            body["enterprise_name"] = Contract.objects.get(pk=contract["id"]).sender_enterprise.name
        added = sender.api.post(f"/contracts/{contract['id']}/parties", body)
        assert added.status_code == 201, added.content
    sent = sender.api.post(f"/contracts/{contract['id']}/send")
    assert sent.status_code == 200, sent.content
    return sent.json()


def complete(contract_id: str) -> None:
    """Mark every party signed and the contract completed, as the last signature does (the
    signing itself is tested in test_signing.py)."""
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        Party.objects.filter(contract=contract).update(
            status=PartyStatus.SIGNED, signed_at=timezone.now()
        )
        move_status(contract, ContractStatus.COMPLETED, actor_id="")


def rows(html: str) -> list[str]:
    """The titles of the box page's rows, in order."""
    return re.findall(r'<tr data-contract="([^"]*)"', html)


def test_search_by_title_or_number(alice, bob, acme, globex):
    year = timezone.localtime().year
    for title in ("集装箱理货协议", "港口作业合同", "理货补充协议"):
        send_to(alice, acme.id, bob, globex, title)
    page = web(alice, acme.id)
    found = page.get("/console/contracts/", {"box": "sent", "q": "理货"}).content.decode()
    assert rows(found) == ["理货补充协议", "集装箱理货协议"]
    exact = page.get("/console/contracts/", {"box": "sent", "q": f"PS-{year}-000002"})
    assert rows(exact.content.decode()) == ["港口作业合同"]
    assert f"PS-{year}-000002" in exact.content.decode()
    prefix = page.get("/console/contracts/", {"box": "sent", "q": f"ps-{year}-00000"})
    assert rows(prefix.content.decode()) == ["理货补充协议", "港口作业合同", "集装箱理货协议"]
    # A number is matched from its start only: its tail is not a number search.
    assert rows(page.get("/console/contracts/?box=sent&q=000002").content.decode()) == []
    api = alice.api.get(f"/contracts?box=sent&acting_as={acme.id}&q=PS-{year}-000003").json()
    assert [(c["title"], c["number"]) for c in api["items"]] == [
        ("理货补充协议", f"PS-{year}-000003")
    ]
    assert api["total"] == 1
    # The other side searches its own boxes the same way (the to_sign box, contract table).
    theirs = web(bob, globex.id).get("/console/contracts/", {"box": "to_sign", "q": "作业"})
    assert rows(theirs.content.decode()) == ["港口作业合同"]


def test_status_filter_and_bad_values(alice, bob, acme, globex):
    first = send_to(alice, acme.id, bob, globex, "甲合同")
    send_to(alice, acme.id, bob, globex, "乙合同")
    complete(first["id"])
    page = web(alice, acme.id)
    html = page.get("/console/contracts/?box=sent&status=completed").content.decode()
    assert rows(html) == ["甲合同"]
    assert '<option value="completed" selected>已完成</option>' in html
    assert '<option value="signing">签署中</option>' in html
    # A status that is not one is ignored on the page, and a clear 400 in the API.
    ignored = page.get("/console/contracts/?box=sent&status=nonsense")
    assert ignored.status_code == 200
    assert rows(ignored.content.decode()) == ["乙合同", "甲合同"]
    refused = alice.api.get(f"/contracts?box=sent&acting_as={acme.id}&status=nonsense")
    assert (refused.status_code, error_code(refused)) == (400, "status")
    api = alice.api.get(f"/contracts?box=sent&acting_as={acme.id}&status=signing").json()
    assert [c["title"] for c in api["items"]] == ["乙合同"]


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="box-count-(\w+)">(\d+)<', html))


def test_each_tab_shows_its_count(alice, bob, acme, globex):
    done = send_to(alice, acme.id, bob, globex, "已签合同")
    send_to(alice, acme.id, bob, globex, "待签合同")
    create_draft(alice, acting_as=acme.id, title="草稿合同")
    complete(done["id"])
    mine = _counts(web(alice, acme.id).get("/console/contracts/").content.decode())
    assert mine == {
        "to_sign": "0",
        "others_to_sign": "1",
        "completed": "1",
        "sent": "2",
        "drafts": "1",
        "due_soon": "0",
        "to_approve": "0",
        "voided": "0",
        "expiring": "0",
    }
    theirs = _counts(web(bob, globex.id).get("/console/contracts/?box=completed").content.decode())
    assert (theirs["to_sign"], theirs["completed"], theirs["sent"], theirs["drafts"]) == (
        "1",
        "1",
        "0",
        "0",
    )


def test_counts_cost_the_same_queries_for_more_contracts(alice, bob, acme, globex):
    send_to(alice, acme.id, bob, globex, "一")
    with CaptureQueriesContext(connection) as few:
        box_counts(actor=bob.user, acting_as=globex.id)
    for title in ("二", "三", "四"):
        send_to(alice, acme.id, bob, globex, title)
    with CaptureQueriesContext(connection) as more:
        counts = box_counts(actor=bob.user, acting_as=globex.id)
    assert counts["to_sign"] == 4
    assert len(more) == len(few)
    assert len(more) <= 12


def test_the_sign_button_is_on_rows_waiting_for_this_identity(alice, bob, acme, globex, charlie):
    sent = send_to(alice, acme.id, bob, globex, "理货协议")
    link = f'href="/console/contracts/{sent["id"]}/#sign" data-testid="row-sign"'
    # Globex signs first: its row has the button; Acme (second, waiting) does not, yet.
    assert link in web(bob, globex.id).get("/console/contracts/").content.decode()
    assert link not in web(alice, acme.id).get("/console/contracts/?box=sent").content.decode()
    # Bob acting personally has no party in it.
    assert link not in web(bob).get("/console/contracts/").content.decode()
    Party.objects.filter(contract_id=sent["id"], position=1).update(status=PartyStatus.SIGNED)
    Party.objects.filter(contract_id=sent["id"], position=2).update(status=PartyStatus.PENDING)
    assert link in web(alice, acme.id).get("/console/contracts/?box=sent").content.decode()
    assert link not in web(bob, globex.id).get("/console/contracts/?box=sent").content.decode()


def test_a_member_who_may_not_use_seals_gets_no_sign_button(alice, bob, acme, globex, charlie):
    from tests.seals.conftest import add_member

    sent = send_to(alice, acme.id, bob, globex, "理货协议")
    add_member(globex, charlie, "member")
    page = web(charlie, globex.id).get("/console/contracts/").content.decode()
    assert rows(page) == ["理货协议"]
    assert f"/console/contracts/{sent['id']}/#sign" not in page


def test_paging_keeps_the_search_and_filters(alice, bob, acme, globex):
    for number in range(21):
        create_draft(alice, acting_as=acme.id, title=f"理货协议 {number:02d}")
    create_draft(alice, acting_as=acme.id, title="港口作业合同")
    page = web(alice, acme.id)
    first = page.get("/console/contracts/?box=drafts&q=理货&status=draft").content.decode()
    assert len(rows(first)) == 20
    assert "共 21 份合同 · 第 1/2 页" in first
    assert (
        'href="?box=drafts&amp;q=%E7%90%86%E8%B4%A7&amp;status=draft&amp;page=2" '
        'data-testid="page-next"' in first
    )
    second = page.get("/console/contracts/?box=drafts&q=理货&status=draft&page=2").content.decode()
    assert rows(second) == ["理货协议 00"]
    assert 'href="?box=drafts&amp;q=%E7%90%86%E8%B4%A7&amp;status=draft&amp;page=1"' in second
