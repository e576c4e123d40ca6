"""The port trade kit (issue 15 §4): each template is created through the API as an integrator
would, comes back with its field schema, makes a contract whose PDF prints the values given as
JSON, and refuses a bad value naming the field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portsign.contracts.demo import seed_templates
from portsign.contracts.demo_templates import render
from portsign.contracts.models import Contract
from portsign.contracts.trade_kit import TRADE_KIT
from tests.contracts.template_helpers import pdf_text
from tests.helpers import error_code

CN = "YYYY年M月D日"


@dataclass(frozen=True)
class Expected:
    roles: list[tuple[str, int, bool]]
    # key, kind, required, and its check: text → longest, number → (minimum, decimals),
    # date → format, checkbox → None
    fields: list[tuple[str, str, bool, Any]]
    values: dict[str, Any]  # as an integrator sends them
    printed: list[str]  # what the contract's PDF then says, in field order
    bad: tuple[str, Any, str]  # key, value, message (in Chinese)


def _seals(first: str, second: str) -> list[tuple[str, str]]:
    return [(first, "seal"), (second, "seal"), (first, "date"), (second, "date")]


EXPECTED = {
    "集装箱设备交接单": Expected(
        roles=[("用箱人/运箱人", 1, False), ("港区/堆场", 2, True)],
        fields=[
            ("gate_in", "checkbox", False, None),
            ("gate_out", "checkbox", False, None),
            ("empty", "checkbox", False, None),
            ("laden", "checkbox", False, None),
            ("container_no", "text", True, 11),
            ("container_type", "text", True, 10),
            ("seal_no", "text", False, 20),
            ("bl_no", "text", False, 30),
            ("vessel", "text", True, 40),
            ("user", "text", True, 60),
            ("haulier", "text", True, 60),
            ("truck_no", "text", True, 10),
            ("handover_date", "date", True, CN),
            ("handover_time", "text", True, 5),
            ("cond_sound", "checkbox", False, None),
            ("cond_damaged", "checkbox", False, None),
            ("cond_dented", "checkbox", False, None),
            ("cond_dirty", "checkbox", False, None),
            ("cond_seal", "checkbox", False, None),
            ("damage_note", "text", False, 100),
        ],
        values={
            "gate_in": True,
            "laden": True,
            "container_no": "PSGU1234563",
            "container_type": "40HC",
            "seal_no": "PS0012345",
            "bl_no": "DEMO26090001",
            "vessel": "演示远航 V.2609E",
            "user": "演示国际货运代理有限公司",
            "haulier": "演示集装箱运输有限公司",
            "truck_no": "苏G·D0001",
            "handover_date": "2026-09-01",
            "handover_time": "14:30",
            "cond_damaged": True,
            "damage_note": "左侧板凹损约10厘米",
        },
        printed=[
            "√",
            "√",
            "PSGU1234563",
            "40HC",
            "PS0012345",
            "DEMO26090001",
            "演示远航 V.2609E",
            "演示国际货运代理有限公司",
            "演示集装箱运输有限公司",
            "苏G·D0001",
            "2026年9月1日",
            "14:30",
            "√",
            "左侧板凹损约10厘米",
        ],
        bad=("handover_date", "2026-02-30", "交接日期 必须是日期，例如 2026年5月1日。"),
    ),
    "港口作业委托单": Expected(
        roles=[("委托人", 1, False), ("港口作业方", 2, True)],
        fields=[
            ("order_no", "text", False, 20),
            ("client", "text", True, 60),
            ("vessel", "text", True, 40),
            ("cargo", "text", True, 40),
            ("packages", "number", True, ("1", 0)),
            ("weight", "number", True, ("0.001", 3)),
            ("berth", "text", True, 40),
            ("op_load", "checkbox", False, None),
            ("op_discharge", "checkbox", False, None),
            ("op_storage", "checkbox", False, None),
            ("op_stuffing", "checkbox", False, None),
            ("op_transfer", "checkbox", False, None),
            ("op_other", "text", False, 60),
            ("due", "date", True, CN),
            ("settlement", "text", True, 20),
            ("remarks", "text", False, 100),
        ],
        values={
            "order_no": "WT-2026-0815",
            "client": "演示钢铁贸易有限公司",
            "vessel": "演示长河 V.2608",
            "cargo": "热轧卷板",
            "packages": 320,
            "weight": "6400.5",
            "berth": "演示港区 8号泊位",
            "op_discharge": True,
            "op_storage": True,
            "due": "2026-08-20",
            "settlement": "月结",
        },
        printed=[
            "WT-2026-0815",
            "演示钢铁贸易有限公司",
            "演示长河 V.2608",
            "热轧卷板",
            "320",
            "6400.5",
            "演示港区 8号泊位",
            "√",
            "√",
            "2026年8月20日",
            "月结",
        ],
        bad=("packages", "12.5", "件数 最多 0 位小数。"),
    ),
    "提货单": Expected(
        roles=[("船公司/货代", 1, True), ("收货人", 2, False)],
        fields=[
            ("issuer", "text", True, 60),
            ("consignee", "text", True, 60),
            ("bl_no", "text", True, 30),
            ("packages", "number", True, ("1", 0)),
            ("vessel", "text", True, 40),
            ("cargo", "text", True, 40),
            ("weight", "number", True, ("0.01", 2)),
            ("container_nos", "text", True, 200),
            ("release_date", "date", True, CN),
            ("valid_until", "date", True, CN),
        ],
        values={
            "issuer": "演示远洋船务代理有限公司",
            "consignee": "演示食品进出口有限公司",
            "bl_no": "DEMO26090002",
            "packages": "1,200",
            "vessel": "演示远航 V.2609W",
            "cargo": "冷冻鱼片",
            "weight": 24800.75,
            "container_nos": "PSGU7654326、PSGU2000019",
            "release_date": "2026-09-03",
            "valid_until": "2026年9月10日",
        },
        printed=[
            "演示远洋船务代理有限公司",
            "演示食品进出口有限公司",
            "DEMO26090002",
            "1200",
            "演示远航 V.2609W",
            "冷冻鱼片",
            "24800.75",
            "PSGU7654326、PSGU2000019",
            "2026年9月3日",
            "2026年9月10日",
        ],
        bad=("packages", "0", "件数 不能小于 1。"),
    ),
    "代理报关委托书": Expected(
        roles=[("委托方", 1, False), ("被委托方", 2, True)],
        fields=[
            ("client", "text", True, 60),
            ("client_uscc", "text", True, 18),
            ("broker", "text", True, 60),
            ("per_shipment", "checkbox", False, None),
            ("long_term", "checkbox", False, None),
            ("m_declare", "checkbox", False, None),
            ("m_inspection", "checkbox", False, None),
            ("m_taxes", "checkbox", False, None),
            ("m_certificates", "checkbox", False, None),
            ("m_manual", "checkbox", False, None),
            ("m_documents", "checkbox", False, None),
            ("m_other", "checkbox", False, None),
            ("other_matters", "text", False, 40),
            ("valid_until", "date", True, CN),
        ],
        values={
            "client": "演示机电进出口有限公司",
            "client_uscc": "91320700MA0009036X",
            "broker": "演示报关行有限公司",
            "long_term": True,
            "m_declare": True,
            "m_inspection": True,
            "m_taxes": True,
            "m_certificates": True,
            "valid_until": "2027-06-30",
        },
        printed=[
            "演示机电进出口有限公司",
            "91320700MA0009036X",
            "演示报关行有限公司",
            "√",
            "√",
            "√",
            "√",
            "√",
            "2027年6月30日",
        ],
        bad=("valid_until", "明年", "有效期至 必须是日期，例如 2026年5月1日。"),
    ),
    "委托报关协议": Expected(
        roles=[("委托方", 1, False), ("被委托方", 2, True)],
        fields=[
            ("client", "text", True, 60),
            ("broker", "text", True, 60),
            ("import", "checkbox", False, None),
            ("export", "checkbox", False, None),
            ("ie_date", "date", True, CN),
            ("goods", "text", True, 40),
            ("hs_code", "text", True, 10),
            ("total_value", "number", True, ("0.01", 2)),
            ("currency", "text", True, 10),
            ("trade_mode", "text", True, 20),
            ("bl_no", "text", True, 30),
            ("packages", "number", True, ("1", 0)),
            ("weight", "number", True, ("0.01", 2)),
            ("packing", "text", True, 20),
            ("origin_destination", "text", True, 40),
            ("fee", "number", False, ("0.01", 2)),
        ],
        values={
            "client": "演示机电进出口有限公司",
            "broker": "演示报关行有限公司",
            "export": True,
            "ie_date": "2026-09-05",
            "goods": "便携式电脑",
            "hs_code": "8471300000",
            "total_value": "128000.00",
            "currency": "美元",
            "trade_mode": "一般贸易",
            "bl_no": "DEMO26090003",
            "packages": 150,
            "weight": "1820.5",
            "packing": "纸箱",
            "origin_destination": "中国/新加坡",
            "fee": 300,
        },
        printed=[
            "演示机电进出口有限公司",
            "演示报关行有限公司",
            "√",
            "2026年9月5日",
            "便携式电脑",
            "8471300000",
            "128000.00",
            "美元",
            "一般贸易",
            "DEMO26090003",
            "150",
            "1820.5",
            "纸箱",
            "中国/新加坡",
            "300",
        ],
        # The engine checks text by length only: an 11-digit HS code is refused for its length.
        bad=("hs_code", "84713000001", "HS编码 最多 10 个字符。"),
    ),
}

KIT = [pytest.param(template, id=template.name) for template in TRADE_KIT]


def _post_template(person, enterprise, template):
    """POST /templates (multipart) with the kit's PDF and JSON definition."""
    pdf, definition = render(template)
    return person.api.client.post(
        "/api/v1/templates",
        {
            "file": SimpleUploadedFile(f"{template.name}.pdf", pdf),
            "name": template.name,
            "acting_as": enterprise.id,
            "definition": json.dumps(definition, ensure_ascii=False),
        },
        headers={"Authorization": f"Bearer {person.token}"},
    )


def _rule(field: dict[str, Any]) -> Any:
    kind = field["kind"]
    if kind == "text":
        return field["max_length"]
    if kind == "number":
        return (field["min_value"], field["decimals"])
    return field["date_format"] if kind == "date" else None


def _contract(person, template_id: str, role: str, partner, enterprise, values):
    """POST /contracts (JSON): the values, the partner in *role*, sent at once."""
    party = {"role": role, "account": partner.account, "enterprise_name": enterprise.name}
    body = {"template_id": template_id, "fields": values, "parties": [party], "send": True}
    return person.api.post("/contracts", body)


def test_the_kit_has_five_templates():
    assert [t.name for t in TRADE_KIT] == list(EXPECTED)
    assert [t.owner for t in TRADE_KIT] == ["port", "port", "port", "tally", "tally"]


@pytest.mark.parametrize("template", KIT)
def test_created_through_the_api_it_makes_a_contract_printing_the_values(
    alice, bob, acme, globex, template
):
    expected = EXPECTED[template.name]
    response = _post_template(alice, acme, template)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["name"], created["description"], created["pages"]) == (
        template.name,
        template.description,
        1,
    )
    assert [(r["name"], r["order"], r["is_sender"]) for r in created["roles"]] == expected.roles
    fields = created["fields"]
    assert [(f["key"], f["kind"], f["required"], _rule(f)) for f in fields] == expected.fields
    assert {f["filled_by"] for f in fields} == {"sender"}
    # Each role seals and dates its own column, in the roles' order.
    assert [(a["role"], a["kind"]) for a in created["areas"]] == _seals(
        expected.roles[0][0], expected.roles[1][0]
    )
    partner_role = next(r[0] for r in expected.roles if not r[2])

    made = _contract(alice, created["id"], partner_role, bob, globex, expected.values)
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["title"]) == ("signing", template.name)
    assert sorted(p["name"] for p in body["parties"]) == sorted([acme.name, globex.name])
    text = pdf_text(alice.api.get(f"/contracts/{body['id']}/document.pdf").content)
    # The page itself is a picture: the only text in the PDF is the values, in field order.
    assert text.split() == " ".join(expected.printed).split()
    assert [value for value in expected.printed if value not in text] == []


@pytest.mark.parametrize("template", KIT)
def test_a_bad_value_is_refused_naming_the_field(alice, bob, acme, globex, template):
    expected = EXPECTED[template.name]
    created = _post_template(alice, acme, template).json()
    partner_role = next(r[0] for r in expected.roles if not r[2])
    key, value, message = expected.bad
    response = _contract(
        alice, created["id"], partner_role, bob, globex, {**expected.values, key: value}
    )
    assert response.status_code == 400, response.content
    assert error_code(response) == "field_invalid"
    assert response.json()["error"]["fields"] == {f"fields.{key}": message}
    assert Contract.objects.count() == 0


def test_a_missing_required_value_is_named(alice, bob, acme, globex):
    template = TRADE_KIT[4]
    created = _post_template(alice, acme, template).json()
    values = {k: v for k, v in EXPECTED[template.name].values.items() if k != "hs_code"}
    response = _contract(alice, created["id"], "委托方", bob, globex, values)
    assert response.status_code == 400, response.content
    assert error_code(response) == "field_required"
    assert response.json()["error"]["fields"] == {"fields.hs_code": "HS编码 为必填项。"}


def test_seeded_for_the_demo_enterprises():
    from portsign.accounts.demo import seed_accounts
    from portsign.enterprises.demo import seed_enterprises

    seed_accounts()
    port, tally = seed_enterprises()
    seeded = {t.name: t for t in seed_templates(port, tally)}
    owners = {name: seeded[name].enterprise.name for name in EXPECTED}
    assert owners == {
        "集装箱设备交接单": "演示港务集团有限公司",
        "港口作业委托单": "演示港务集团有限公司",
        "提货单": "演示港务集团有限公司",
        "代理报关委托书": "演示外轮理货有限公司",
        "委托报关协议": "演示外轮理货有限公司",
    }
    for name, expected in EXPECTED.items():
        assert [f.key for f in seeded[name].fields.all()] == [f[0] for f in expected.fields]
