"""三证合一 change (E3): the 9–17 rule, the in-flight rule and joint review by each unit."""

from __future__ import annotations

import pytest

from portsign.common.cn_ids import org_code_check_char, uscc_check_char
from portsign.eport.domain.authorities import create_authority
from portsign.eport.domain.filings import current_info
from portsign.eport.models import Filing
from tests.eport.conftest import (
    decide,
    declared,
    enterprise_info,
    new_filing,
    ok,
    onboarded,
    operator_form,
    reviewer_of,
)
from tests.helpers import error_code, synthetic_uscc


def same_org_uscc(uscc: str, prefix: str = "92460200") -> str:
    """Another valid USCC (other registration authority and division), same positions 9–17."""
    body = prefix + uscc[8:17]
    return body + uscc_check_char(body)


def change(person, enterprise, data):
    return person.api.post(
        "/eport/filings",
        {"enterprise_id": enterprise.id, "kind": "enterprise_info_change", "data": data},
    )


def test_a_change_needs_approved_enterprise_information(alice, haikou, city_reviewer):
    response = change(alice, haikou, {})
    assert response.status_code == 409
    assert error_code(response) == "not_onboarded"
    new_filing(alice, haikou, "enterprise_info", enterprise_info(haikou))
    response = change(alice, haikou, {})
    assert response.status_code == 409


def test_the_new_uscc_keeps_the_organization_code(alice, haikou, city_reviewer):
    onboarded(alice, haikou, city_reviewer)
    matching = same_org_uscc(haikou.uscc)
    assert matching != haikou.uscc
    assert matching[8:17] == haikou.uscc[8:17]
    filing = ok(change(alice, haikou, {"uscc": matching, "name": "海口椰风国际物流有限公司"}), 201)
    assert filing["data"]["uscc"] == matching
    assert filing["data"]["name"] == "海口椰风国际物流有限公司"
    # the rest is the approved information in force
    assert filing["data"]["business_scope"] == "货物进出口；报关代理"
    assert filing["status"] == "draft"
    # a valid code of another organization is refused, on edit as on creation
    other = synthetic_uscc(36, region="460100")
    response = alice.api.patch(f"/eport/filings/{filing['id']}", {"data": {"uscc": other}})
    assert response.status_code == 400
    assert error_code(response) == "uscc_org_code_mismatch"
    assert list(response.json()["error"]["fields"]) == ["uscc"]
    message = response.json()["error"]["message"]
    assert other[8:17] in message
    assert haikou.uscc[8:17] in message
    assert Filing.objects.get(pk=filing["id"]).data["uscc"] == matching


def test_a_mismatching_or_invalid_uscc_is_refused(alice, haikou, city_reviewer):
    onboarded(alice, haikou, city_reviewer)
    response = change(alice, haikou, {"uscc": synthetic_uscc(36, region="460100")})
    assert response.status_code == 400
    assert error_code(response) == "uscc_org_code_mismatch"
    broken = same_org_uscc(haikou.uscc)[:-1] + "0"
    if broken == same_org_uscc(haikou.uscc):
        broken = broken[:-1] + "1"
    response = change(alice, haikou, {"uscc": broken})
    assert response.status_code == 400
    assert error_code(response) == "uscc_checksum"
    assert list(response.json()["error"]["fields"]) == ["uscc"]
    assert not Filing.objects.filter(kind="enterprise_info_change").exists()


def test_a_former_organization_code_decides(alice, haikou, city_reviewer):
    body = "46010001"
    legacy = body + org_code_check_char(body)
    info = enterprise_info(haikou, org_code=f"{body}-{legacy[-1]}")
    filing = declared(alice, haikou, "enterprise_info", info)
    decide(city_reviewer, filing["id"], "approve", "同意。")
    # positions 9–17 must be the former code, not the ones of the USCC on file
    response = change(alice, haikou, {"uscc": same_org_uscc(haikou.uscc)})
    assert response.status_code == 400
    assert error_code(response) == "uscc_org_code_mismatch"
    assert legacy in response.json()["error"]["message"]
    code = "91460100" + legacy
    filing = ok(change(alice, haikou, {"uscc": code + uscc_check_char(code)}), 201)
    assert filing["data"]["uscc"][8:17] == legacy


@pytest.mark.parametrize("status", ["draft", "declared"])
def test_no_change_while_operator_filings_are_in_flight(alice, haikou, city_reviewer, status):
    onboarded(alice, haikou, city_reviewer)
    operator = new_filing(alice, haikou, "operator", operator_form())
    if status == "declared":
        ok(alice.api.post(f"/eport/filings/{operator['id']}/declare"))
    response = change(alice, haikou, {})
    assert response.status_code == 409
    assert error_code(response) == "filings_in_flight"
    if status == "draft":
        assert alice.api.delete(f"/eport/filings/{operator['id']}").status_code == 204
    else:
        decide(city_reviewer, operator["id"], "approve", "同意。")
    assert ok(change(alice, haikou, {}), 201)["kind"] == "enterprise_info_change"


def test_a_change_is_not_declared_while_an_operator_filing_is_saved(alice, haikou, city_reviewer):
    onboarded(alice, haikou, city_reviewer)
    filing = ok(change(alice, haikou, {}), 201)
    operator = new_filing(alice, haikou, "operator", operator_form())
    response = alice.api.post(f"/eport/filings/{filing['id']}/declare")
    assert response.status_code == 409
    assert error_code(response) == "filings_in_flight"
    alice.api.delete(f"/eport/filings/{operator['id']}")
    assert ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))["status"] == "declared"
    # one change at a time
    again = change(alice, haikou, {})
    assert again.status_code == 409
    assert error_code(again) == "filing_exists"


@pytest.fixture
def units(offices):
    """Joint-review units for Hainan: customs, forex and commerce, each with a reviewer."""
    out = {}
    for number, (kind, name) in enumerate(
        (
            ("customs", "海口海关"),
            ("forex", "国家外汇管理局海南省分局"),
            ("commerce", "海南省商务厅"),
        ),
        start=30,
    ):
        top = create_authority(kind=kind, code="100000", name=f"{name}（总）", parent=None)
        unit = create_authority(kind=kind, code="460000", name=name, parent=top)
        out[kind] = reviewer_of(unit, f"+86138000000{number}", f"{kind.title()} Reviewer Test")
    return out


def states(filing: dict) -> dict[str, str]:
    return {r["unit"]: r["state"] for r in filing["joint_reviews"]}


def test_joint_review_of_a_change(alice, haikou, city_reviewer, province_reviewer, units):
    onboarded(alice, haikou, city_reviewer)
    new_uscc = same_org_uscc(haikou.uscc)
    filing = ok(change(alice, haikou, {"uscc": new_uscc}), 201)
    out = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    fid = out["id"]
    assert states(out) == dict.fromkeys(("commerce", "customs", "forex", "office"), "pending")
    assert {r["unit"]: r["authority"] for r in out["joint_reviews"]}["customs"] == "海口海关"
    assert ok(city_reviewer.api.get(f"/eport/filings/{fid}"))["can_decide"] == ["office"]
    assert ok(units["customs"].api.get(f"/eport/filings/{fid}"))["can_decide"] == ["customs"]
    assert ok(province_reviewer.api.get(f"/eport/filings/{fid}"))["can_decide"] == []
    assert [f["id"] for f in ok(units["forex"].api.get("/eport/reviews"))["items"]] == [fid]
    # the office approves: the filing waits for the others
    after = decide(city_reviewer, fid, "approve", "同意变更。")
    assert after["status"] == "declared"
    assert states(after)["office"] == "approved"
    assert after["history"][-1]["action"] == "unit_approved"
    assert after["history"][-1]["unit"] == "office"
    twice = city_reviewer.api.post(f"/eport/filings/{fid}/approve", {"opinion": "同意。"})
    assert twice.status_code == 403
    assert error_code(twice) == "not_addressed"
    # customs returns: the filing is returned, each unit's state visible to the enterprise
    decide(units["customs"], fid, "return", "海关注册信息未同步变更。")
    seen = ok(alice.api.get(f"/eport/filings/{fid}"))
    assert seen["status"] == "returned"
    assert seen["opinion"] == "海关注册信息未同步变更。"
    assert states(seen) == {
        "commerce": "pending",
        "customs": "returned",
        "forex": "pending",
        "office": "approved",
    }
    late = units["forex"].api.post(f"/eport/filings/{fid}/approve", {"opinion": "同意。"})
    assert late.status_code == 409
    assert error_code(late) == "filing_state"
    # declared again: every unit decides anew; all approving approves it
    again = ok(alice.api.post(f"/eport/filings/{fid}/declare"))
    assert set(states(again).values()) == {"pending"}
    for reviewer in (units["forex"], units["customs"], city_reviewer):
        assert decide(reviewer, fid, "approve", "同意。")["status"] == "declared"
    final = decide(units["commerce"], fid, "approve", "同意。")
    assert final["status"] == "approved"
    assert set(states(final).values()) == {"approved"}
    assert current_info(haikou)["uscc"] == new_uscc


def test_a_unit_without_its_own_authority_is_decided_by_the_office(alice, haikou, city_reviewer):
    onboarded(alice, haikou, city_reviewer)
    filing = ok(change(alice, haikou, {}), 201)
    out = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert {r["authority"] for r in out["joint_reviews"]} == {"海口电子口岸操作中心"}
    mine = ok(city_reviewer.api.get(f"/eport/filings/{out['id']}"))
    assert mine["can_decide"] == ["commerce", "customs", "forex", "office"]
    response = city_reviewer.api.post(f"/eport/filings/{out['id']}/approve", {"opinion": "同意。"})
    assert response.status_code == 400
    assert error_code(response) == "unit_required"
    for unit in ("office", "customs", "forex"):
        decide(city_reviewer, out["id"], "approve", "同意。", unit=unit)
    final = decide(city_reviewer, out["id"], "approve", "同意。", unit="commerce")
    assert final["status"] == "approved"
    assert [h["action"] for h in final["history"]][-4:] == [
        "unit_approved",
        "unit_approved",
        "unit_approved",
        "approved",
    ]


def test_auto_approval_decides_only_the_offices_part(alice, haikou, offices, city_reviewer, units):
    onboarded(alice, haikou, city_reviewer)
    ok(city_reviewer.api.patch(f"/eport/authorities/{offices.city.id}", {"auto_approve": True}))
    filing = ok(change(alice, haikou, {}), 201)
    out = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert out["status"] == "declared"
    assert states(out)["office"] == "approved"
    assert out["history"][-1]["auto"] is True
    for kind in ("customs", "forex"):
        decide(units[kind], out["id"], "approve", "同意。")
    final = decide(units["commerce"], out["id"], "approve", "同意。")
    assert final["status"] == "approved"
    assert final["auto_approved"] is False


def test_auto_approval_covers_the_units_the_office_stands_in_for(
    alice, haikou, offices, city_reviewer
):
    onboarded(alice, haikou, city_reviewer)
    ok(city_reviewer.api.patch(f"/eport/authorities/{offices.city.id}", {"auto_approve": True}))
    filing = ok(change(alice, haikou, {}), 201)
    out = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert out["status"] == "approved"
    assert out["auto_approved"] is True
    assert set(states(out).values()) == {"approved"}
    assert [(h["action"], h["auto"]) for h in out["history"]][-4:] == [
        ("unit_approved", True),
        ("unit_approved", True),
        ("unit_approved", True),
        ("approved", True),
    ]
