"""Filings on the enterprise side: drafts, pre-fill, the state machine, forms, tenancy."""

from __future__ import annotations

import pytest

from portsign.eport.models import Filing, FilingEvent
from tests.eport.conftest import (
    FORMS,
    actions,
    decide,
    declared,
    enterprise_info,
    make_enterprise_in,
    new_filing,
    ok,
    operator_form,
)
from tests.helpers import error_code, make_person, synthetic_uscc
from tests.seals.conftest import add_member


def test_enterprise_info_is_prefilled_from_the_verified_enterprise(alice, haikou, offices):
    filing = new_filing(alice, haikou, "enterprise_info")
    assert filing["status"] == "draft"
    # The legal representative's ID came with the verification materials (issue 16 point 7).
    assert filing["data"] == {
        "name": "海口椰风国际贸易有限公司",
        "uscc": haikou.uscc,
        "legal_person_name": "Legal Rep",
        "legal_person_id_type": "resident_id",
        "legal_person_id_number": haikou.legal_rep_id_number,
    }
    assert filing["authority"]["code"] == "460100"
    assert filing["enterprise"] == {"id": haikou.id, "name": haikou.name, "uscc": haikou.uscc}
    assert actions(filing) == ["created"]
    assert filing["can_decide"] == []


def test_each_onboarding_filing_is_made_once(alice, haikou, offices):
    for kind in ("enterprise_info", "customs", "forex", "commerce"):
        new_filing(alice, haikou, kind, FORMS.get(kind, {}))
        again = alice.api.post(
            "/eport/filings", {"enterprise_id": haikou.id, "kind": kind, "data": {}}
        )
        assert again.status_code == 409, kind
        assert error_code(again) == "filing_exists"
    assert Filing.objects.filter(enterprise=haikou).count() == 4


def test_unknown_kind_and_unknown_fields_are_400(alice, haikou, offices):
    response = alice.api.post(
        "/eport/filings", {"enterprise_id": haikou.id, "kind": "visa", "data": {}}
    )
    assert response.status_code == 400
    assert error_code(response) == "filing_kind"
    assert list(response.json()["error"]["fields"]) == ["kind"]
    response = alice.api.post(
        "/eport/filings",
        {"enterprise_id": haikou.id, "kind": "customs", "data": {"colour": "blue"}},
    )
    assert response.status_code == 400
    assert error_code(response) == "unknown_field"
    assert list(response.json()["error"]["fields"]) == ["colour"]


def test_draft_declared_approved_and_the_illegal_moves(alice, haikou, city_reviewer):
    filing = new_filing(alice, haikou, "customs", FORMS["customs"])
    fid = filing["id"]
    # a draft cannot be approved or returned
    for verb in ("approve", "return"):
        response = city_reviewer.api.post(f"/eport/filings/{fid}/{verb}", {"opinion": "好"})
        assert response.status_code == 409, verb
        assert error_code(response) == "filing_state"
    out = ok(alice.api.post(f"/eport/filings/{fid}/declare"))
    assert out["status"] == "declared"
    assert out["declared_at"] is not None
    # declaring twice acts once
    again = alice.api.post(f"/eport/filings/{fid}/declare")
    assert again.status_code == 409
    assert error_code(again) == "filing_state"
    # a declared filing is read-only and cannot be deleted
    edit = alice.api.patch(f"/eport/filings/{fid}", {"data": FORMS["customs"]})
    assert edit.status_code == 409
    assert error_code(edit) == "filing_state"
    gone = alice.api.delete(f"/eport/filings/{fid}")
    assert gone.status_code == 409
    assert error_code(gone) == "filing_state"
    approved = decide(city_reviewer, fid, "approve", "同意备案。")
    assert approved["status"] == "approved"
    assert approved["opinion"] == "同意备案。"
    assert approved["auto_approved"] is False
    assert approved["can_decide"] == []
    # approving twice acts once
    twice = city_reviewer.api.post(f"/eport/filings/{fid}/approve", {"opinion": "同意。"})
    assert twice.status_code == 409
    assert error_code(twice) == "filing_state"
    assert actions(ok(alice.api.get(f"/eport/filings/{fid}"))) == [
        "created",
        "declared",
        "approved",
    ]
    for response in (
        alice.api.patch(f"/eport/filings/{fid}", {"data": FORMS["customs"]}),
        alice.api.post(f"/eport/filings/{fid}/declare"),
        alice.api.delete(f"/eport/filings/{fid}"),
        city_reviewer.api.post(f"/eport/filings/{fid}/return", {"opinion": "退回"}),
    ):
        assert response.status_code == 409
        assert error_code(response) == "filing_state"
    assert FilingEvent.objects.filter(filing_id=fid, action="approved").count() == 1
    assert FilingEvent.objects.filter(filing_id=fid, action="declared").count() == 1


def test_returned_edited_and_declared_again(alice, haikou, city_reviewer):
    filing = declared(alice, haikou, "forex", FORMS["forex"])
    returned = decide(city_reviewer, filing["id"], "return", "主管外汇局代码有误。")
    assert returned["status"] == "returned"
    assert returned["opinion"] == "主管外汇局代码有误。"
    # a returned filing may not be deleted, only edited
    gone = alice.api.delete(f"/eport/filings/{filing['id']}")
    assert gone.status_code == 409
    edited = ok(
        alice.api.patch(f"/eport/filings/{filing['id']}", {"data": {"forex_bureau_code": "460100"}})
    )
    assert edited["status"] == "draft"
    assert edited["data"] == {"forex_bureau_code": "460100"}
    again = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert again["status"] == "declared"
    assert again["opinion"] == ""
    assert again["decided_at"] is None
    assert actions(again) == ["created", "declared", "returned", "edited", "declared"]
    history = again["history"]
    assert history[2]["opinion"] == "主管外汇局代码有误。"
    assert history[2]["actor"] == "City Reviewer Test"


def test_a_returned_filing_may_be_declared_again_unchanged(alice, haikou, city_reviewer):
    filing = declared(alice, haikou, "forex", FORMS["forex"])
    decide(city_reviewer, filing["id"], "return", "请补充材料。")
    again = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert again["status"] == "declared"


def test_only_drafts_are_deleted(alice, haikou, offices):
    filing = new_filing(alice, haikou, "commerce", FORMS["commerce"])
    response = alice.api.delete(f"/eport/filings/{filing['id']}")
    assert response.status_code == 204
    assert not Filing.objects.filter(pk=filing["id"]).exists()
    assert alice.api.get(f"/eport/filings/{filing['id']}").status_code == 404
    # once deleted, the onboarding filing may be made again
    new_filing(alice, haikou, "commerce", FORMS["commerce"])


def test_declaring_needs_every_required_field(alice, haikou, offices):
    filing = new_filing(alice, haikou, "enterprise_info")
    response = alice.api.post(f"/eport/filings/{filing['id']}/declare")
    assert response.status_code == 400
    assert error_code(response) == "fields_required"
    assert sorted(response.json()["error"]["fields"]) == [
        "address",
        "aic_authority_code",
        "business_scope",
        "capital_unit",
        "enterprise_type",
        "registered_capital",
    ]
    assert Filing.objects.get(pk=filing["id"]).status == "draft"


def test_type_9_needs_its_free_text(alice, haikou, offices):
    data = enterprise_info(haikou, enterprise_type="9")
    filing = new_filing(alice, haikou, "enterprise_info", data)
    response = alice.api.post(f"/eport/filings/{filing['id']}/declare")
    assert response.status_code == 400
    assert error_code(response) == "fields_required"
    assert list(response.json()["error"]["fields"]) == ["enterprise_type_other"]
    data["enterprise_type_other"] = "农民专业合作社"
    ok(alice.api.patch(f"/eport/filings/{filing['id']}", {"data": data}))
    out = ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    assert out["data"]["enterprise_type_other"] == "农民专业合作社"
    # another type drops the free text
    other = new_filing(alice, haikou, "customs", FORMS["customs"])
    assert other["data"] == {"customs_code": "4601960001", "receipt_number": "HK2026-0001"}


@pytest.mark.parametrize(
    ("kind", "field", "value", "code"),
    [
        ("enterprise_info", "uscc", "91460100MA0000010", "uscc_length"),
        (
            "enterprise_info",
            "uscc",
            synthetic_uscc(31, region="460100")[:-1] + "0",
            "uscc_checksum",
        ),
        ("enterprise_info", "registered_capital", "很多", "amount_format"),
        ("enterprise_info", "registered_capital", "1e400", "amount_format"),
        ("enterprise_info", "registered_capital", "-5", "amount_format"),
        ("enterprise_info", "aic_authority_code", "４６０１００", "code_format"),
        ("enterprise_info", "enterprise_type", "10", "choice"),
        ("customs", "customs_code", "460196000", "customs_code"),
        ("customs", "customs_code", "46019600011", "customs_code"),
        ("customs", "customs_code", "A601960001", "customs_code"),
        ("forex", "forex_bureau_code", "46000", "code_format"),
        ("commerce", "commerce_authority_code", "46O1", "code_format"),
        ("operator", "postcode", "57010", "code_format"),
        ("operator", "postcode", "５７０１００", "code_format"),
        ("operator", "email", "operator.example.cn", "email_format"),
        ("operator", "phone", "call me", "phone_format"),
        ("operator", "birth_date", "1988-13-01", "date_format"),
        ("operator", "card_medium", "floppy", "choice"),
    ],
)
def test_a_bad_field_is_400_with_its_name(alice, haikou, offices, kind, field, value, code):
    response = alice.api.post(
        "/eport/filings", {"enterprise_id": haikou.id, "kind": kind, "data": {field: value}}
    )
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Filing.objects.exists()


def test_a_bad_resident_id_number_is_400_with_its_field(alice, haikou, offices):
    number = operator_form()["id_number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = alice.api.post(
        "/eport/filings",
        {"enterprise_id": haikou.id, "kind": "operator", "data": operator_form(id_number=wrong)},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["id_number"]
    response = alice.api.post(
        "/eport/filings",
        {
            "enterprise_id": haikou.id,
            "kind": "enterprise_info",
            "data": {"legal_person_id_type": "resident_id", "legal_person_id_number": wrong},
        },
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["legal_person_id_number"]
    # a passport number is free text
    passport = new_filing(
        alice,
        haikou,
        "enterprise_info",
        {"legal_person_id_type": "passport", "legal_person_id_number": "E12345678"},
    )
    assert passport["data"]["legal_person_id_number"] == "E12345678"


def test_the_birth_date_must_match_the_resident_id(alice, haikou, offices):
    response = alice.api.post(
        "/eport/filings",
        {
            "enterprise_id": haikou.id,
            "kind": "operator",
            "data": operator_form(birth_date="1988-05-13"),
        },
    )
    assert response.status_code == 400
    assert error_code(response) == "birth_date_mismatch"
    assert list(response.json()["error"]["fields"]) == ["birth_date"]
    filing = new_filing(alice, haikou, "operator", operator_form())
    assert filing["data"]["birth_date"] == "1988-05-12"


def test_values_are_normalized(alice, haikou, offices):
    filing = new_filing(
        alice, haikou, "customs", {"customs_code": " 46019a0001 ", "receipt_number": 12}
    )
    assert filing["data"] == {"customs_code": "46019A0001", "receipt_number": "12"}
    info = new_filing(
        alice,
        haikou,
        "enterprise_info",
        {"registered_capital": "1,200.50", "name": "  海口  椰风 "},
    )
    assert info["data"]["registered_capital"] == "1200.5"
    assert info["data"]["name"] == "海口 椰风"


def test_the_forms_are_described(alice):
    fields = ok(alice.api.get("/eport/forms/operator"))
    keys = [f["key"] for f in fields]
    assert keys[:3] == ["card_medium", "name", "sex"]
    medium = fields[0]
    assert medium["required"] is True
    assert [c["value"] for c in medium["choices"]] == ["ic", "ikey"]
    declarant = next(f for f in fields if f["key"] == "declarant_certificate")
    assert declarant["section"] == "declarant"
    assert [f["key"] for f in ok(alice.api.get("/eport/forms/forex"))] == ["forex_bureau_code"]
    english = alice.api.get("/eport/forms/forex", headers={"Accept-Language": "en"})
    assert english.json()[0]["label"] == "Competent forex bureau code"
    assert alice.api.get("/eport/forms/visa").status_code == 404


def test_an_optional_section_is_required_once_begun(alice, haikou, offices):
    filing = new_filing(alice, haikou, "operator", operator_form(declarant_barcode="BG0001"))
    response = alice.api.post(f"/eport/filings/{filing['id']}/declare")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["declarant_certificate"]


def test_lists_of_an_enterprises_filings(alice, haikou, offices):
    for kind in ("customs", "forex", "commerce"):
        new_filing(alice, haikou, kind, FORMS[kind])
    alice.api.post(f"/eport/filings/{new_filing(alice, haikou, 'operator')['id']}/declare")
    page = ok(alice.api.get(f"/eport/filings?enterprise_id={haikou.id}&page_size=2"))
    assert page["total"] == 4
    assert [f["kind"] for f in page["items"]] == ["operator", "commerce"]
    second = ok(alice.api.get(f"/eport/filings?enterprise_id={haikou.id}&page_size=2&page=2"))
    assert [f["kind"] for f in second["items"]] == ["forex", "customs"]
    only = ok(alice.api.get(f"/eport/filings?enterprise_id={haikou.id}&kind=forex"))
    assert [f["kind"] for f in only["items"]] == ["forex"]
    drafts = ok(alice.api.get(f"/eport/filings?enterprise_id={haikou.id}&status=draft"))
    assert drafts["total"] == 4
    bad = alice.api.get(f"/eport/filings?enterprise_id={haikou.id}&page_size=101")
    assert bad.status_code == 400
    assert error_code(bad) == "page_size"


def test_another_enterprises_filings_are_not_found(alice, bob, haikou, sanya, offices):
    filing = new_filing(alice, haikou, "customs", FORMS["customs"])
    fid = filing["id"]
    for method, path, body in (
        ("GET", f"/eport/filings/{fid}", None),
        ("PATCH", f"/eport/filings/{fid}", {"data": {}}),
        ("POST", f"/eport/filings/{fid}/declare", None),
        ("DELETE", f"/eport/filings/{fid}", None),
        ("GET", f"/eport/filings?enterprise_id={haikou.id}", None),
        ("GET", f"/eport/enterprises/{haikou.id}/operators", None),
    ):
        response = bob.api.request(method, path, body)
        assert response.status_code == 404, (method, path)
        assert error_code(response) == "not_found"
    response = bob.api.post(
        "/eport/filings", {"enterprise_id": haikou.id, "kind": "forex", "data": {}}
    )
    assert response.status_code == 404
    assert Filing.objects.get(pk=fid).status == "draft"


def test_members_read_and_only_the_main_admin_writes(alice, haikou, offices):
    filing = new_filing(alice, haikou, "customs", FORMS["customs"])
    fid = filing["id"]
    clerk = make_person("+8613800000025", "Clerk Test")
    add_member(haikou, clerk, "member")
    # a member without manage_enterprise: 403, as for every enterprise page of the role
    for method, path in (
        ("GET", f"/eport/filings/{fid}"),
        ("GET", f"/eport/filings?enterprise_id={haikou.id}"),
        ("POST", f"/eport/filings/{fid}/declare"),
    ):
        response = clerk.api.request(method, path)
        assert response.status_code == 403, (method, path)
        assert error_code(response) == "permission_denied"
    # another administrator reads, but only the main admin (the legal-person holder) writes
    deputy = make_person("+8613800000026", "Deputy Test")
    add_member(haikou, deputy, "admin")
    assert ok(deputy.api.get(f"/eport/filings/{fid}"))["id"] == fid
    for method, path, body in (
        ("POST", f"/eport/filings/{fid}/declare", None),
        ("PATCH", f"/eport/filings/{fid}", {"data": {}}),
        ("DELETE", f"/eport/filings/{fid}", None),
        ("POST", "/eport/filings", {"enterprise_id": haikou.id, "kind": "forex", "data": {}}),
    ):
        response = deputy.api.request(method, path, body)
        assert response.status_code == 403, (method, path)
        assert error_code(response) == "main_admin_only"
    assert Filing.objects.get(pk=fid).status == "draft"


def test_an_unverified_enterprise_cannot_file(alice, offices):
    from tests.helpers import make_enterprise

    pending = make_enterprise(alice, "待认证贸易有限公司", 33, verified=False)
    response = alice.api.post(
        "/eport/filings", {"enterprise_id": pending.id, "kind": "customs", "data": {}}
    )
    assert response.status_code == 409
    assert error_code(response) == "enterprise_not_verified"


def test_a_division_without_any_office_is_refused(alice):
    enterprise = make_enterprise_in(alice, "无审核单位有限公司", 34, "460100")
    response = alice.api.post(
        "/eport/filings", {"enterprise_id": enterprise.id, "kind": "customs", "data": {}}
    )
    assert response.status_code == 409
    assert error_code(response) == "no_authority"
