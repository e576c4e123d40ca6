"""The console pages of billing: the acting identity's balance, the recharge redirect to the
cashier, the sandbox cashier, and the back office's refund and invoice pages."""

from __future__ import annotations

from django.test import Client

from portsign.billing.domain import invoices, orders
from portsign.billing.models import Invoice, Order, Wallet
from portsign.billing.payments import sandbox


def _client(person, acting_as: str = "personal") -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as != "personal":
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def test_the_page_shows_the_acting_identitys_balance(alice, acme):
    page = _client(alice, acme.id).get("/console/billing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="quota-corporate">5<' in html
    assert 'data-testid="quota-personal">10<' in html
    assert 'data-testid="buy-corporate-10"' in html
    assert f'data-url="/api/v1/enterprises/{acme.id}/usage/chart"' in html
    personal = _client(alice).get("/console/billing/").content.decode()
    assert 'data-testid="quota-corporate">1<' in personal
    assert 'data-url="/api/v1/me/usage/chart"' in personal


def test_buying_goes_to_the_cashier_and_back(alice, acme):
    client = _client(alice, acme.id)
    answer = client.post("/console/billing/orders/", {"package_id": "corporate-50"})
    order = Order.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/console/billing/sandbox/cashier/{order.id}/"
    cashier = client.get(answer["Location"])
    assert "¥220.00" in cashier.content.decode()
    back = client.post(answer["Location"], {"action": "pay"})
    assert back["Location"] == f"/console/billing/orders/{order.id}/returned/"
    client.get(back["Location"])
    assert Wallet.objects.get(enterprise=acme).corporate_remaining == 55
    assert client.post(answer["Location"], {"action": "bogus"}).status_code == 302
    assert Order.objects.get().status == "paid"


def test_someone_elses_order_pages_are_404(alice, bob, acme):
    order = orders.create_order(actor=alice.user, package_id="corporate-10", enterprise_id=acme.id)
    intruder = _client(bob)
    assert intruder.get(f"/console/billing/orders/{order.id}/returned/").status_code == 404
    assert intruder.post(f"/console/billing/orders/{order.id}/pay/").status_code == 404
    assert intruder.post(f"/console/billing/orders/{order.id}/invoice/", {}).status_code == 404


def test_the_back_office_refunds_and_issues(alice, bob, acme):
    order = orders.create_order(actor=alice.user, package_id="corporate-10", enterprise_id=acme.id)
    orders.pay_url(order, site="http://testserver")
    sandbox.settle(order_id=order.id, action="pay")
    orders.deliver_sandbox_notices()
    invoice = invoices.request_invoice(actor=alice.user, order_id=order.id)
    assert _client(alice).get("/console/billing/office/").status_code == 404
    bob.user.is_staff = True
    bob.user.save()
    staff = _client(bob)
    page = staff.get("/console/billing/office/").content.decode()
    assert acme.name in page
    assert f'data-order="{order.id}"' in page
    staff.post(f"/console/billing/office/invoices/{invoice.id}/issue/")
    assert Invoice.objects.get().status == "issued"
    staff.post(f"/console/billing/office/orders/{order.id}/refund/")
    assert Order.objects.get().status == "refunded"
    assert Wallet.objects.get(enterprise=acme).corporate_remaining == 5
