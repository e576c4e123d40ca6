"""The demo's three port-trade templates: seeded once (with the port trade kit, whose own tests
are in test_trade_kit.py), and each makes a contract whose PDF carries the values."""

from __future__ import annotations

from portsign.accounts.demo import seed_accounts
from portsign.contracts.demo import seed_templates
from portsign.contracts.demo_templates import DEMO_TEMPLATES
from portsign.contracts.domain import fills, templates
from portsign.contracts.models import Template
from portsign.enterprises.demo import seed_enterprises
from tests.contracts.template_helpers import pdf_text

SAMPLES = {"text": "演示值甲", "number": "88.5", "date": "2026-09-01", "checkbox": True}


def test_seeded_once_and_each_makes_a_contract():
    seed_accounts()
    port, tally = seed_enterprises()
    first = seed_templates(port, tally)
    again = seed_templates(port, tally)
    assert [t.id for t in again] == [t.id for t in first]
    assert sorted(Template.objects.values_list("name", "enterprise__name")) == [
        ("代理报关委托书", "演示外轮理货有限公司"),
        ("委托报关协议", "演示外轮理货有限公司"),
        ("提货单", "演示港务集团有限公司"),
        ("港口作业合同", "演示港务集团有限公司"),
        ("港口作业委托单", "演示港务集团有限公司"),
        ("货运代理协议", "演示港务集团有限公司"),
        ("集装箱理货协议", "演示外轮理货有限公司"),
        ("集装箱设备交接单", "演示港务集团有限公司"),
    ]
    demos = {demo.name for demo in DEMO_TEMPLATES}
    for template in [t for t in first if t.name in demos]:
        roles = {r.name: r for r in template.roles.all()}
        assert sorted(roles) == ["乙方", "甲方"]
        assert sum(r.is_sender for r in roles.values()) == 1
        assert template.areas.filter(kind="seal").count() == 2
        fields = list(template.fields.all())
        assert len(fields) >= 6
        partner = next(r for r in roles.values() if not r.is_sender)
        other = port if template.enterprise_id == tally.id else tally
        contract = templates.create_contract(
            actor=template.enterprise.main_admin,
            template_id=template.id,
            values={f.key: SAMPLES[f.kind] for f in templates.sender_fields(template)},
            parties=[
                {
                    "role": partner.name,
                    "account": other.main_admin.phone,
                    "enterprise_name": other.name,
                }
            ],
            send=True,
        )
        if template.name == "货运代理协议":  # the forwarder fills in its own contact first
            assert [f.key for f in fields if f.filled_by == "party"] == ["agent_contact"]
            contract = fills.fill(
                actor=other.main_admin,
                contract_id=contract.id,
                acting_as=other.id,
                values={"agent_contact": "演示联络人 021-5555-0100"},
            )
        text = pdf_text(templates.documents.read_document(contract.current))
        assert ("演示值甲" in text, "88.5" in text, "2026" in text) == (True, True, True)
        assert ("演示联络人" in text) == (template.name == "货运代理协议")
        assert contract.parties.count() == 2
        assert contract.parties.filter(status="pending").count() == 1
