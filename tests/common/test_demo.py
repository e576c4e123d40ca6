"""`manage.py demo` seeds verified people and enterprises, certificates, seals and a contract
waiting for the first demo account, and is safe to repeat."""

from __future__ import annotations

import io

from django.core.management import call_command

from portsign.accounts.models import User
from portsign.common.audit import verify_chain
from portsign.contracts.domain.boxes import list_box
from portsign.contracts.models import Contract
from portsign.enterprises.models import Enterprise
from portsign.eport.domain.authorities import reviewing
from portsign.eport.models import Broker, Card, District, Filing
from portsign.pki.applications import signing_certificate
from portsign.pki.ca import init_hierarchy
from portsign.seals.models import Seal


def test_demo_is_idempotent_and_ready_to_sign():
    init_hierarchy()  # `make run` runs `pki init` first
    for _ in range(2):
        out = io.StringIO()
        call_command("demo", stdout=out)
    assert User.objects.count() == 4
    assert User.objects.filter(real_name_verified_at__isnull=False).count() == 2
    assert sorted(Enterprise.objects.values_list("name", "status")) == [
        ("演示外轮理货有限公司", "verified"),
        ("演示港务集团有限公司", "verified"),
    ]
    assert "Demo accounts (password Demo#2026port):" in out.getvalue()
    port = Enterprise.objects.get(name="演示港务集团有限公司")
    for enterprise in Enterprise.objects.all():
        assert signing_certificate(enterprise_id=enterprise.id) is not None
        assert Seal.objects.filter(enterprise=enterprise, kind="contract").count() == 1
    contract = Contract.objects.get()
    assert (contract.title, contract.status) == ("集装箱理货协议（演示）", "signing")
    waiting = list_box(
        actor=User.objects.get(phone="+8613800000001"), box="to_sign", acting_as=port.id
    )
    assert [c.id for c in waiting.items] == [contract.id]
    assert f"/console/contracts/{contract.id}/" in out.getvalue()
    # E-Port (issue 12): the city office's reviewer and a filing waiting for them.
    waiting = Filing.objects.get(enterprise=port, kind="enterprise_info")
    assert (waiting.status, waiting.authority.code) == ("declared", "320700")
    assert Filing.objects.get(enterprise=port, kind="customs").status == "draft"
    reviewer = User.objects.get(email="eport@portsign.example.cn")
    # …and (issue 15) for the customs of 南京 and 青岛 and the Jiangsu brokers association.
    assert sorted((a.kind, a.code) for a in reviewing(reviewer)) == [
        ("association", "320000"),
        ("customs", "320000"),
        ("customs", "370000"),
        ("office", "320700"),
    ]
    assert sorted(
        District.objects.filter(authority__isnull=False).values_list("code", flat=True)
    ) == [
        "2300",
        "4200",
    ]
    assert f"/console/eport/reviews/{waiting.id}/" in out.getvalue()
    # Issue 14: the tally company is onboarded and holds its legal-person card (once).
    tally = Enterprise.objects.get(name="演示外轮理货有限公司")
    approved = Filing.objects.filter(enterprise=tally, status="approved")
    assert sorted(approved.values_list("kind", flat=True)) == [
        "broker_registration",
        "commerce",
        "customs",
        "enterprise_info",
        "forex",
    ]
    card = Card.objects.get(enterprise=tally)
    assert (card.kind, card.status, card.pin_must_change) == ("legal_person", "active", True)
    assert card.holder == tally.main_admin
    assert f"legal-person card {card.number}" in out.getvalue()
    assert Broker.objects.get(enterprise=tally).customs_code == "3207980002"
    assert verify_chain().ok
