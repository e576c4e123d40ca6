"""Issue 13 item 14: the home page shows what waits for the user — 待我签署 and 需要我审批 per
identity, E-Port filings for reviewers — instead of only a menu, and no empty tile."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portsign.common.views import HOME_ITEMS
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.eport.conftest import (
    HAIKOU,
    Offices,
    declared,
    enterprise_info,
    make_enterprise_in,
    reviewer_of,
)
from tests.helpers import Person, make_person, verify_person
from tests.seals.conftest import add_member


def web(person: Person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def home(person: Person) -> str:
    response = web(person).get("/console/")
    assert response.status_code == 200
    return response.content.decode()


def send_personally(sender: Person, to: Person, title: str) -> str:
    contract_id = create_draft(sender, title=title)["id"]
    added = sender.api.post(
        f"/contracts/{contract_id}/parties", {"kind": "person", "account": to.account}
    )
    assert added.status_code == 201, added.content
    assert sender.api.post(f"/contracts/{contract_id}/send").status_code == 200
    return contract_id


def links(html: str) -> list[tuple[str, str]]:
    """(href, title) of the to-do links the current identity opens directly."""
    return re.findall(r'<a href="([^"]+)" data-testid="todo-item">([^<]*)</a>', html)


@pytest.fixture
def sender(alice) -> Person:
    return verify_person(alice, 61)


@pytest.fixture
def dave() -> Person:
    return make_person("+8613800000004", "Dave Test")


def test_nothing_to_do_is_said(bob):
    page = home(bob)
    assert 'data-testid="todos-empty"' in page
    assert 'data-testid="todo-item"' not in page


def test_a_contract_waiting_for_my_signature_links_to_it(sender, bob):
    contract_id = send_personally(sender, bob, "集装箱理货协议")
    page = home(bob)
    assert 'data-testid="todos-empty"' not in page
    assert '<span class="badge muted" data-testid="todo-count-to_sign">1</span>' in page
    assert links(page) == [(f"/console/contracts/{contract_id}/", "集装箱理货协议")]
    assert 'data-testid="todo-all-to_sign"' not in page  # all of them are shown
    # The sender waits for bob: nothing for her to do.
    assert 'data-testid="todos-empty"' in home(sender)


def test_the_first_few_are_shown_with_a_link_to_all(sender, bob):
    ids = [send_personally(sender, bob, f"理货协议 {n}") for n in range(HOME_ITEMS + 1)]
    page = home(bob)
    assert '<span class="badge muted" data-testid="todo-count-to_sign">6</span>' in page
    shown = [href for href, _title in links(page)]
    assert shown == [f"/console/contracts/{i}/" for i in reversed(ids[1:])]  # newest first
    assert '<a href="/console/contracts/?box=to_sign" data-testid="todo-all-to_sign">' in page


def test_the_query_count_does_not_grow_with_the_items(sender, bob, django_assert_max_num_queries):
    send_personally(sender, bob, "理货协议 1")
    client = web(bob)
    with CaptureQueriesContext(connection) as one:
        client.get("/console/")
    for n in range(2, HOME_ITEMS + 3):
        send_personally(sender, bob, f"理货协议 {n}")
    # Session, user, memberships, overdue sweep, invitations, the box's count, its page, its
    # parties, E-Port reviewer (twice: page and menu), the header's memberships and count.
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as seven:
        client.get("/console/")
    assert len(seven) == len(one)


def test_another_identitys_item_switches_identity_then_opens_it(alice, bob, acme, globex):
    # Acme sends; Globex (bob's enterprise) signs first. Bob acts personally on his home page.
    contract_id = create_draft(alice, acting_as=acme.id, title="港口作业合同")["id"]
    for account, enterprise in ((bob.account, globex), (alice.account, acme)):
        alice.api.post(
            f"/contracts/{contract_id}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    assert alice.api.post(f"/contracts/{contract_id}/send").status_code == 200
    page = home(bob)
    assert f'data-acting="{globex.id}"' in page
    assert globex.name in page
    assert links(page) == []  # not a plain link: it needs the other identity
    assert (
        f'<input type="hidden" name="acting_as" value="{globex.id}">'
        f'<input type="hidden" name="next" value="/console/contracts/{contract_id}/">'
    ) in page
    switched = web(bob).post(
        "/console/enterprise/acting/",
        {"acting_as": globex.id, "next": f"/console/contracts/{contract_id}/"},
    )
    assert switched["Location"] == f"/console/contracts/{contract_id}/"


def test_an_approver_sees_what_waits_for_approval(alice, bob, dave, acme, globex):
    give_certificate(bob, globex)
    seal = contract_seal(bob, globex)
    contract_id = create_draft(alice, acting_as=acme.id, title="理货服务合同")["id"]
    for account, enterprise in ((bob.account, globex), (alice.account, acme)):
        alice.api.post(
            f"/contracts/{contract_id}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    alice.api.post(f"/contracts/{contract_id}/send")
    assert (
        bob.api.post(f"/enterprises/{globex.id}/approval-rules", {"seal_id": seal}).status_code
        == 201
    )
    add_member(globex, dave, "approver")
    asked = bob.api.post(
        f"/contracts/{contract_id}/approvals", {"acting_as": globex.id, "seal_id": seal}
    )
    assert asked.status_code == 201, asked.content
    page = home(dave)
    assert '<span class="badge muted" data-testid="todo-count-to_approve">1</span>' in page
    # The enterprise's 待我签署 box holds it too, as on the box page and in the header.
    assert '<span class="badge muted" data-testid="todo-count-to_sign">1</span>' in page
    assert f'name="next" value="/console/contracts/{contract_id}/">' in page
    assert "理货服务合同" in page


def test_an_eport_reviewer_sees_the_declared_filings(alice):
    offices = Offices()
    haikou = make_enterprise_in(alice, "海口椰风国际贸易有限公司", 31, HAIKOU)
    city_reviewer = reviewer_of(offices.city, "+8613800000021", "City Reviewer Test")
    filing = declared(alice, haikou, "enterprise_info", enterprise_info(haikou))
    page = home(city_reviewer)
    assert '<span class="badge muted" data-testid="todo-count-eport">1</span>' in page
    assert f'<a href="/console/eport/reviews/{filing["id"]}/" data-testid="todo-filing">' in page
    assert haikou.name in page
    assert 'data-testid="todos-empty"' not in page


def test_every_tile_says_what_it_is_for(alice):
    page = home(alice)
    tiles = re.findall(
        r'<a class="card tile" href="[^"]+" data-testid="(tile-[^"]+)"><h2>[^<]+</h2>\s*(<p>)?',
        page,
    )
    assert [name for name, _p in tiles] == [
        "tile-enterprise",
        "tile-seals",
        "tile-contracts",
        "tile-templates",
        "tile-eport",
        "tile-billing",
        "tile-verify",
        "tile-api-docs",
    ]
    assert all(p == "<p>" for _name, p in tiles)  # the 合同模板 tile had a title and nothing else
    assert 'href="/api/v1/docs"' in page
