"""The billing API (API.md "Quotas and billing"): shapes, permissions and tenancy."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from portsign.billing.domain import orders
from portsign.billing.models import Usage
from portsign.billing.payments import sandbox
from tests.billing.test_quotas import _send, _to_enterprise, _to_person
from tests.helpers import assert_isolated, error_code
from tests.seals.conftest import add_member


def _order(person, enterprise_id: str, package_id: str = "corporate-10"):
    return person.api.post(f"/enterprises/{enterprise_id}/orders", {"package_id": package_id})


def test_packages_are_listed(alice):
    response = alice.api.get("/billing/packages")
    assert response.status_code == 200
    assert response.json()[0] == {
        "id": "corporate-10",
        "name": "对公合同 10 份",
        "kind": "corporate",
        "contracts": 10,
        "price": "50.00",
    }
    assert len(response.json()) == 5


def test_quota_of_an_enterprise_and_of_me(alice, bob, acme):
    response = alice.api.get(f"/enterprises/{acme.id}/quota")
    assert response.json() == {
        "corporate": {"remaining": 5, "used": 0},
        "personal": {"remaining": 10, "used": 0},
    }
    assert alice.api.get("/me/quota").json() == {
        "corporate": {"remaining": 1, "used": 0},
        "personal": {"remaining": 3, "used": 0},
    }
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/quota")


def test_an_order_through_the_api(alice, bob, acme):
    response = _order(alice, acme.id)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["contracts"], body["kind"]) == (
        "pending",
        "50.00",
        10,
        "corporate",
    )
    assert body["pay_url"] == f"/console/billing/sandbox/cashier/{body['id']}/"
    assert body["invoice"] is None
    listed = alice.api.get(f"/enterprises/{acme.id}/orders").json()
    assert (listed["total"], listed["items"][0]["id"]) == (1, body["id"])
    assert_isolated(alice, bob, "GET", f"/billing/orders/{body['id']}")
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/orders")
    missing = _order(alice, acme.id, "gold")
    assert (missing.status_code, error_code(missing)) == (400, "package")


def test_paying_then_refreshing_and_asking_an_invoice(alice, acme):
    order_id = _order(alice, acme.id).json()["id"]
    sandbox.settle(order_id=order_id, action="pay_late")
    refreshed = alice.api.post(f"/billing/orders/{order_id}/refresh")
    assert (refreshed.json()["status"], refreshed.json()["pay_url"]) == ("paid", None)
    assert alice.api.get(f"/enterprises/{acme.id}/quota").json()["corporate"]["remaining"] == 15
    invoice = alice.api.post(f"/billing/orders/{order_id}/invoice", {"email": "fin@acme.test"})
    assert invoice.status_code == 201, invoice.content
    assert (invoice.json()["title"], invoice.json()["tax_number"]) == (acme.name, acme.uscc)
    again = alice.api.post(f"/billing/orders/{order_id}/invoice", {})
    assert (again.status_code, error_code(again)) == (409, "invoice_exists")


def test_members_read_the_quota_but_only_administrators_recharge(alice, bob, acme):
    add_member(acme, bob, "signer")
    assert bob.api.get(f"/enterprises/{acme.id}/quota").status_code == 200
    assert bob.api.get(f"/enterprises/{acme.id}/usage").status_code == 200
    refused = _order(bob, acme.id)
    assert (refused.status_code, error_code(refused)) == (403, "permission_denied")
    listed = bob.api.get(f"/enterprises/{acme.id}/orders")
    assert (listed.status_code, error_code(listed)) == (403, "permission_denied")


def test_a_person_recharges_her_own_wallet(alice, bob):
    from tests.helpers import verify_person

    verify_person(alice, 71)
    response = alice.api.post("/me/orders", {"package_id": "personal-20"})
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    sandbox.settle(order_id=order_id, action="pay")
    orders.deliver_sandbox_notices()
    assert alice.api.get("/me/quota").json()["personal"] == {"remaining": 23, "used": 0}
    assert alice.api.get("/me/orders").json()["items"][0]["status"] == "paid"
    assert_isolated(alice, bob, "GET", f"/billing/orders/{order_id}")


def test_usage_records_and_the_chart(alice, bob, acme, globex):
    assert _send(alice, _to_enterprise(alice, acme, globex)).status_code == 200
    assert _send(alice, _to_person(alice, acme.id)).status_code == 200
    assert _send(alice, _to_person(alice, acme.id)).status_code == 200
    usage = alice.api.get(f"/enterprises/{acme.id}/usage").json()
    assert usage["total"] == 5
    assert [(i["reason"], i["kind"], i["delta"], i["balance"]) for i in usage["items"]] == [
        ("send", "personal", -1, 8),
        ("send", "personal", -1, 9),
        ("send", "corporate", -1, 4),
        ("grant", "personal", 10, 10),
        ("grant", "corporate", 5, 5),
    ]
    today = timezone.localdate()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    chart = alice.api.get(f"/enterprises/{acme.id}/usage/chart?from={yesterday}&to={today}")
    assert chart.json() == {
        "days": [yesterday, today.isoformat()],
        "corporate": [0, 1],
        "personal": [0, 2],
    }
    default = alice.api.get(f"/enterprises/{acme.id}/usage/chart").json()
    assert (len(default["days"]), default["days"][-1], sum(default["personal"])) == (
        30,
        today.isoformat(),
        2,
    )
    old = alice.api.get(f"/enterprises/{acme.id}/usage?to={yesterday}").json()
    assert old["total"] == 0
    paged = alice.api.get(f"/enterprises/{acme.id}/usage?page=2&page_size=2").json()
    assert [i["reason"] for i in paged["items"]] == ["send", "grant"]
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/usage/chart")
    assert Usage.objects.filter(reason="send").count() == 3


def test_bad_ranges_and_pages_are_400(alice, acme):
    for query, code in (
        ("from=2026-13-01", "date"),
        ("from=2026-12-02&to=2026-12-01", "date_range"),
        ("from=2024-01-01&to=2026-01-01", "date_range"),
    ):
        response = alice.api.get(f"/enterprises/{acme.id}/usage/chart?{query}")
        assert (response.status_code, error_code(response)) == (400, code), query
    response = alice.api.get(f"/enterprises/{acme.id}/usage?page_size=500")
    assert (response.status_code, error_code(response)) == (400, "page_size")
    response = alice.api.get(f"/enterprises/{acme.id}/usage?page=0")
    assert (response.status_code, error_code(response)) == (400, "page")


def test_an_api_key_reads_the_quota_but_never_recharges(alice, acme):
    from tests.integrations.conftest import make_key

    key = make_key(alice, acme, ["contracts:read"])
    response = key.api.get(f"/enterprises/{acme.id}/quota")
    assert response.status_code == 200, response.content
    assert response.json()["corporate"] == {"remaining": 5, "used": 0}
    refused = key.api.post(f"/enterprises/{acme.id}/orders", {"package_id": "corporate-10"})
    assert (refused.status_code, error_code(refused)) == (403, "api_key_scope")
