"""The operator register (E2): registration with a 操作员统一编号, search, the legal-person rule,
deregistration and read-only operators."""

from __future__ import annotations

from portsign.common.cn_ids import uscc_org_code
from portsign.common.ids import new_id
from portsign.eport.models import Filing, Operator
from tests.eport.conftest import (
    LEGAL_PERSON_ID,
    decide,
    declared,
    make_enterprise_in,
    new_filing,
    ok,
    onboarded,
    operator_form,
    register_operator,
)
from tests.helpers import error_code


def test_an_approved_operator_filing_enters_the_register(alice, haikou, city_reviewer):
    filing = declared(alice, haikou, "operator", operator_form())
    assert filing["operator"] is None
    assert not Operator.objects.exists()
    approved = decide(city_reviewer, filing["id"], "approve", "同意。")
    org = uscc_org_code(haikou.uscc)
    assert approved["operator"]["number"] == f"{org}0001"
    assert approved["operator"]["name"] == "张三丰"
    assert approved["operator"]["status"] == "active"
    _second, operator = register_operator(
        alice, haikou, city_reviewer, 41, name="李四", phone="0898-66000002"
    )
    assert operator["number"] == f"{org}0002"
    page = ok(alice.api.get(f"/eport/enterprises/{haikou.id}/operators"))
    assert [(o["number"], o["name"], o["status"]) for o in page["items"]] == [
        (f"{org}0001", "张三丰", "active"),
        (f"{org}0002", "李四", "active"),
    ]
    first = page["items"][0]
    assert first["id_number"] == operator_form()["id_number"]
    assert first["data"]["email"] == "operator@example.cn"
    assert first["deregistered_at"] is None


def test_a_returned_operator_filing_registers_nobody(alice, haikou, city_reviewer):
    filing = declared(alice, haikou, "operator", operator_form())
    decide(city_reviewer, filing["id"], "return", "身份证件不清晰。")
    assert not Operator.objects.exists()


def test_operators_are_searched_by_every_condition(alice, haikou, city_reviewer):
    register_operator(alice, haikou, city_reviewer, 40)  # 张三丰, 报关主管
    register_operator(
        alice, haikou, city_reviewer, 41, name="李四", phone="0898-66000002", position="单证员"
    )
    register_operator(
        alice, haikou, city_reviewer, 42, name="王三", phone="13800000099", position="报关员"
    )
    org = uscc_org_code(haikou.uscc)

    def names(query: str = "") -> list[str]:
        response = alice.api.get(f"/eport/enterprises/{haikou.id}/operators{query}")
        return [o["name"] for o in ok(response)["items"]]

    assert names() == ["张三丰", "李四", "王三"]  # 重置: every condition empty
    assert names("?name=三丰") == ["张三丰"]
    assert names("?name=三") == ["张三丰", "王三"]
    assert names("?name=赵") == []
    assert names(f"?number={org}0002") == ["李四"]
    assert names(f"?number={org.lower()}") == ["张三丰", "李四", "王三"]
    number = operator_form(42)["id_number"]
    assert names(f"?id_number={number}") == ["王三"]
    assert names(f"?id_number={number[:-1]}") == []  # a whole number, not a part
    assert names("?phone=66000002") == ["李四"]
    assert names("?position=报关") == ["张三丰", "王三"]
    assert names("?position=报关&name=王") == ["王三"]
    assert names("?status=active") == ["张三丰", "李四", "王三"]
    assert names("?status=deregistered") == []
    page = ok(alice.api.get(f"/eport/enterprises/{haikou.id}/operators?page_size=2&page=2"))
    assert (page["total"], [o["name"] for o in page["items"]]) == (3, ["王三"])


def test_the_main_admin_is_never_an_operator(alice, haikou, offices):
    assert alice.user.id_number  # real-name verified
    form = operator_form(id_number=alice.user.id_number, birth_date="1990-03-07")
    response = alice.api.post(
        "/eport/filings", {"enterprise_id": haikou.id, "kind": "operator", "data": form}
    )
    assert response.status_code == 400, response.content
    assert error_code(response) == "operator_is_legal_person"
    assert list(response.json()["error"]["fields"]) == ["id_number"]
    assert not Filing.objects.filter(kind="operator").exists()


def test_the_legal_person_is_never_an_operator(alice, haikou, city_reviewer):
    form = operator_form(id_number=LEGAL_PERSON_ID, birth_date="1975-01-01")
    early = new_filing(alice, haikou, "operator", form)  # before the legal person is known
    onboarded(alice, haikou, city_reviewer)
    for response in (
        alice.api.post(f"/eport/filings/{early['id']}/declare"),
        alice.api.patch(f"/eport/filings/{early['id']}", {"data": form}),
        alice.api.post(
            "/eport/filings", {"enterprise_id": haikou.id, "kind": "operator", "data": form}
        ),
    ):
        assert response.status_code == 400, response.content
        assert error_code(response) == "operator_is_legal_person"
    assert Filing.objects.get(pk=early["id"]).status == "draft"


def test_deregistration_needs_a_registered_operator(alice, bob, haikou, city_reviewer):
    missing = alice.api.post(
        "/eport/filings",
        {"enterprise_id": haikou.id, "kind": "operator_deregistration", "data": {}},
    )
    assert missing.status_code == 400
    assert error_code(missing) == "operator_required"
    never = alice.api.post(
        "/eport/filings",
        {
            "enterprise_id": haikou.id,
            "kind": "operator_deregistration",
            "data": {},
            "operator_id": new_id(),
        },
    )
    assert never.status_code == 404
    assert error_code(never) == "operator_not_registered"
    # another enterprise's operator is not this one's
    other = make_enterprise_in(bob, "海口南洋船务代理有限公司", 35, "460100")
    _filing, theirs = register_operator(bob, other, city_reviewer, 43)
    response = alice.api.post(
        "/eport/filings",
        {
            "enterprise_id": haikou.id,
            "kind": "operator_deregistration",
            "data": {"reason": "离职"},
            "operator_id": theirs["id"],
        },
    )
    assert response.status_code == 404
    # an operator only named by deregistrations and operator filings
    _f, mine = register_operator(alice, haikou, city_reviewer, 40)
    response = alice.api.post(
        "/eport/filings",
        {"enterprise_id": haikou.id, "kind": "forex", "data": {}, "operator_id": mine["id"]},
    )
    assert response.status_code == 400
    assert error_code(response) == "operator_unexpected"


def test_deregistration_makes_the_operator_read_only_then_deregisters_it(
    alice, haikou, city_reviewer
):
    _f, operator = register_operator(alice, haikou, city_reviewer)
    body = {"reason": "离职"}
    dereg = declared(alice, haikou, "operator_deregistration", body, operator_id=operator["id"])
    assert dereg["operator"]["status"] == "deregistering"
    for kind in ("operator", "operator_deregistration"):
        response = alice.api.post(
            "/eport/filings",
            {"enterprise_id": haikou.id, "kind": kind, "data": {}, "operator_id": operator["id"]},
        )
        assert response.status_code == 409, kind
        assert error_code(response) == "operator_read_only"
    decide(city_reviewer, dereg["id"], "approve", "同意注销。")
    row = Operator.objects.get(pk=operator["id"])
    assert row.status == "deregistered"
    assert row.deregistered_at is not None
    again = alice.api.post(
        "/eport/filings",
        {
            "enterprise_id": haikou.id,
            "kind": "operator_deregistration",
            "data": body,
            "operator_id": operator["id"],
        },
    )
    assert again.status_code == 409
    assert error_code(again) == "operator_not_registered"
    listed = ok(alice.api.get(f"/eport/enterprises/{haikou.id}/operators?status=deregistered"))
    assert [o["id"] for o in listed["items"]] == [operator["id"]]


def test_a_returned_deregistration_gives_the_operator_back(alice, haikou, city_reviewer):
    _f, operator = register_operator(alice, haikou, city_reviewer)
    dereg = declared(
        alice, haikou, "operator_deregistration", {"reason": "离职"}, operator_id=operator["id"]
    )
    decide(city_reviewer, dereg["id"], "return", "请先交回卡。")
    assert Operator.objects.get(pk=operator["id"]).status == "active"
    # a draft deregistration changes nothing until declared, and may be deleted
    ok(alice.api.patch(f"/eport/filings/{dereg['id']}", {"data": {"reason": "调岗"}}))
    assert Operator.objects.get(pk=operator["id"]).status == "active"
    assert alice.api.delete(f"/eport/filings/{dereg['id']}").status_code == 204


def test_deregistration_while_a_change_of_the_operator_is_in_flight(alice, haikou, city_reviewer):
    _f, operator = register_operator(alice, haikou, city_reviewer)
    change = new_filing(alice, haikou, "operator", operator_id=operator["id"])
    assert change["data"] == Operator.objects.get(pk=operator["id"]).data  # pre-filled
    assert change["operator"]["id"] == operator["id"]
    twice = alice.api.post(
        "/eport/filings",
        {"enterprise_id": haikou.id, "kind": "operator", "data": {}, "operator_id": operator["id"]},
    )
    assert twice.status_code == 409
    assert error_code(twice) == "filing_exists"
    dereg = declared(
        alice, haikou, "operator_deregistration", {"reason": "离职"}, operator_id=operator["id"]
    )
    assert dereg["status"] == "declared"
    # the change cannot be declared while the operator is being deregistered
    response = alice.api.post(f"/eport/filings/{change['id']}/declare")
    assert response.status_code == 409
    assert error_code(response) == "operator_read_only"
    assert Filing.objects.get(pk=change["id"]).status == "draft"


def test_an_approved_change_of_an_operator_updates_it_in_place(alice, haikou, city_reviewer):
    _f, operator = register_operator(alice, haikou, city_reviewer)
    form = operator_form(position="关务经理", phone="0898-66000009")
    change = declared(alice, haikou, "operator", form, operator_id=operator["id"])
    decide(city_reviewer, change["id"], "approve", "同意变更。")
    row = Operator.objects.get(pk=operator["id"])
    assert (row.number, row.position, row.phone) == (
        operator["number"],
        "关务经理",
        "0898-66000009",
    )
    assert Operator.objects.count() == 1
