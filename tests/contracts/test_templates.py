"""Contract templates (issue 6 §1): CRUD and validation, tenancy, and a contract from a template
in one JSON call that carries its values in the PDF and signs like any other."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portsign.contracts.models import Contract, Template, TemplateContract
from tests.contracts.conftest import contract_seal, give_certificate
from tests.contracts.template_helpers import (
    DEFINITION,
    create_template,
    definition,
    make_template,
    pdf_text,
)
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import assert_isolated, error_code

PARTNER = {"role": "乙方", "account": "13800000002", "enterprise_name": "Globex Tally Co., Ltd."}
VALUES = {"vessel": "演示轮 V.2026E", "teu": 120, "start": "2026-05-01", "hazardous": True}


def _contract(person, **changes):
    body = {"template_id": "", "fields": VALUES, "parties": [PARTNER], **changes}
    return person.api.post("/contracts", body)


def test_create_read_list_update_delete(alice, acme):
    created = make_template(alice, acme)
    assert (created["name"], created["pages"], created["enterprise"]) == (
        "集装箱理货协议",
        2,
        acme.name,
    )
    assert [(r["name"], r["order"], r["is_sender"]) for r in created["roles"]] == [
        ("乙方", 1, False),
        ("甲方", 2, True),
    ]
    assert [(f["key"], f["kind"], f["required"], f["filled_by"]) for f in created["fields"]] == [
        ("vessel", "text", True, "sender"),
        ("teu", "number", True, "api"),
        ("start", "date", False, "sender"),
        ("hazardous", "checkbox", False, "sender"),
    ]
    assert (created["fields"][1]["min_value"], created["fields"][1]["max_value"]) == ("1", "10000")
    assert created["fields"][0]["max_length"] == 30
    assert [(a["role"], a["kind"], a["page"]) for a in created["areas"]] == [
        ("乙方", "seal", 2),
        ("甲方", "seal", 2),
        ("甲方", "date", 2),
    ]
    template_id = created["id"]
    assert alice.api.get(f"/templates/{template_id}").json() == created
    listed = alice.api.get(f"/templates?acting_as={acme.id}").json()
    assert [(t["id"], t["roles"], t["fields"]) for t in listed] == [
        (template_id, ["乙方", "甲方"], 4)
    ]

    changed = alice.api.request(
        "PUT",
        f"/templates/{template_id}",
        definition(name="港口作业合同", fields=DEFINITION["fields"][:1], areas=[]),
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], len(changed.json()["fields"]), changed.json()["areas"]) == (
        "港口作业合同",
        1,
        [],
    )
    page = alice.api.get(f"/templates/{template_id}/pages/1.png")
    assert (page.status_code, page["Content-Type"]) == (200, "image/png")

    assert alice.api.delete(f"/templates/{template_id}").status_code == 204
    assert alice.api.get(f"/templates/{template_id}").status_code == 404
    assert alice.api.get(f"/templates?acting_as={acme.id}").json() == []
    assert Template.objects.get(pk=template_id).archived_at is not None
    # The name is free again once archived.
    assert create_template(alice, acme, definition(name="港口作业合同")).status_code == 201


def _bad_field(**changes) -> dict:
    return definition(fields=[{**DEFINITION["fields"][0], **changes}], areas=[])


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        (definition(name=" "), "template_name", "name"),
        (definition(description="说" * 301), "template_description", "description"),
        (_bad_field(key="1vessel"), "template_field", "fields.0.key"),
        (_bad_field(kind="colour"), "template_field", "fields.0.kind"),
        (_bad_field(label=""), "template_field", "fields.0.label"),
        (_bad_field(max_length=0), "template_field", "fields.0.max_length"),
        (
            _bad_field(kind="number", min_value=5, max_value=1),
            "template_field",
            "fields.0.min_value",
        ),
        (
            _bad_field(kind="date", date_format="DD.MM.YYYY"),
            "template_field",
            "fields.0.date_format",
        ),
        (_bad_field(filled_by="乙方"), "field_filled_by", "fields.0.filled_by"),
        (_bad_field(page=3), "template_rect", "fields.0.page"),
        (_bad_field(x=0.9, width=0.2), "template_rect", "fields.0"),
        (_bad_field(height=0), "template_rect", "fields.0"),
        (
            definition(fields=DEFINITION["fields"] + [DEFINITION["fields"][0]], areas=[]),
            "template_field",
            "fields",
        ),
        (
            definition(
                roles=[{"name": "甲方", "is_sender": True}, {"name": "乙方", "is_sender": True}]
            ),
            "template_role",
            "roles",
        ),
        (
            definition(roles=[{"name": "甲方"}, {"name": "甲方"}], areas=[]),
            "template_role",
            "roles",
        ),
        (
            definition(areas=[{**DEFINITION["areas"][0], "role": "丙方"}]),
            "template_area",
            "areas.0.role",
        ),
        (definition(ordering="random"), "template_ordering", "ordering"),
        (definition(contract_type="租船合同"), "contract_type", "contract_type"),
    ],
)
def test_definition_errors(alice, acme, spec, code, field):
    template = make_template(
        alice, acme, definition(name="空白模板", roles=[], fields=[], areas=[])
    )
    response = alice.api.request("PUT", f"/templates/{template['id']}", spec)
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert field in response.json()["error"]["fields"]
    assert Template.objects.get(pk=template["id"]).name == "空白模板"  # nothing changed


def test_creation_errors(alice, bob, acme):
    missing_name = alice.api.request("PUT", "/templates/whatever", {"roles": []})
    assert (missing_name.status_code, error_code(missing_name)) == (422, "validation_failed")
    personal = alice.api.client.post(
        "/api/v1/templates",
        {"file": SimpleUploadedFile("t.pdf", b"%PDF-"), "name": "模板", "acting_as": "personal"},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert (personal.status_code, error_code(personal)) == (400, "acting_as_enterprise")
    not_pdf = alice.api.client.post(
        "/api/v1/templates",
        {"file": SimpleUploadedFile("t.txt", b"hello"), "name": "模板", "acting_as": acme.id},
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert (not_pdf.status_code, error_code(not_pdf)) == (400, "file_type")
    make_template(alice, acme)
    again = create_template(alice, acme)
    assert (again.status_code, error_code(again)) == (409, "template_name_taken")
    assert Template.objects.count() == 1


def test_templates_are_the_enterprises_own(alice, bob, acme, globex):
    template_id = make_template(alice, acme)["id"]
    assert_isolated(alice, bob, "GET", f"/templates/{template_id}")
    assert_isolated(alice, bob, "PUT", f"/templates/{template_id}", DEFINITION)
    assert_isolated(alice, bob, "GET", f"/templates/{template_id}/pages/1.png")
    assert_isolated(alice, bob, "GET", f"/templates/{template_id}/bulk-sends")
    assert_isolated(alice, bob, "POST", f"/templates/{template_id}/preview.pdf", {"fields": VALUES})
    listed = bob.api.get(f"/templates?acting_as={acme.id}")
    assert listed.status_code == 404
    assert bob.api.get(f"/templates?acting_as={globex.id}").json() == []
    stolen = _contract(bob, template_id=template_id, acting_as=globex.id)
    assert (stolen.status_code, error_code(stolen)) == (404, "not_found")
    # Acting for another identity finds nothing either, even for the owner.
    personal = _contract(alice, template_id=template_id, acting_as="personal")
    assert personal.status_code == 404
    assert_isolated(alice, bob, "DELETE", f"/templates/{template_id}", owner_status=204)
    assert Contract.objects.count() == 0


def test_contract_from_one_json_call_carries_the_values_and_signs(alice, bob, acme, globex, api):
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    template_id = make_template(alice, acme)["id"]

    response = _contract(alice, template_id=template_id, send=True, title="理货协议 V.2026E")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["title"], body["sender_enterprise"]) == (
        "signing",
        "理货协议 V.2026E",
        acme.name,
    )
    assert [(p["order"], p["name"], p["status"]) for p in body["parties"]] == [
        (1, globex.name, "pending"),
        (2, acme.name, "waiting"),
    ]
    # The sender's own role was filled in with the sender: Acme, notified at alice's number.
    assert Contract.objects.get().parties.get(position=2).account == "+8613800000001"
    assert [m["kind"] for m in body["parties"][0]["suggested_marks"]] == ["seal"]
    assert body["parties"][0]["suggested_marks"][0] == {
        "kind": "seal",
        "page": 2,
        "x": 0.55,
        "y": 0.7,
        "width": 0.25,
        "height": 0.15,
    }
    assert [m["kind"] for m in body["parties"][1]["suggested_marks"]] == ["seal", "date"]
    contract_id = body["id"]
    shown = bob.api.get(f"/contracts/{contract_id}").json()
    assert shown["parties"][0]["suggested_marks"] == body["parties"][0]["suggested_marks"]
    assert TemplateContract.objects.get(contract_id=contract_id).values == {
        "vessel": "演示轮 V.2026E",
        "teu": "120",
        "start": "2026-05-01",
        "hazardous": True,
    }

    sent_pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    text = pdf_text(sent_pdf)
    for printed in ("演示轮 V.2026E", "120", "2026年5月1日", "√"):
        assert printed in text

    first = _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    assert first.status_code == 200, first.content
    done = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert done.json()["status"] == "completed"
    signed = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    assert "演示轮 V.2026E" in pdf_text(signed)
    report = api.client.post(
        "/api/v1/verify", {"file": SimpleUploadedFile("signed.pdf", signed)}
    ).json()
    assert (report["intact"], report["valid"]) == (True, True)
    approvals = [s for s in report["signatures"] if s["kind"] != "timestamp"]
    assert [(s["enterprise"], s["covers_whole_document"]) for s in approvals] == [
        (globex.name, False),
        (acme.name, False),
    ]
    actions = [t["action"] for t in alice.api.get(f"/contracts/{contract_id}/trail").json()]
    assert actions[:3] == ["contract.created", "contract.party_added", "contract.party_added"]
    assert "contract.created_from_template" in actions


def test_a_draft_unless_sent_and_preview(alice, acme, globex):
    template_id = make_template(alice, acme)["id"]
    response = _contract(alice, template_id=template_id, deadline="2099-01-31T18:00:00+08:00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["title"], body["deadline"]) == (
        "draft",
        "集装箱理货协议",
        "2099-01-31T10:00:00Z",
    )
    assert alice.api.post(f"/contracts/{body['id']}/send").json()["status"] == "signing"
    preview = alice.api.post(f"/templates/{template_id}/preview.pdf", {"fields": VALUES})
    assert preview["Content-Type"] == "application/pdf"
    assert "演示轮 V.2026E" in pdf_text(preview.content)
    assert Contract.objects.count() == 1  # a preview creates nothing


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"fields": {"teu": 5}}, 400, "field_required", "fields.vessel"),
        ({"fields": {**VALUES, "teu": 0}}, 400, "field_invalid", "fields.teu"),
        ({"fields": {**VALUES, "teu": "12.5"}}, 400, "field_invalid", "fields.teu"),
        ({"fields": {**VALUES, "teu": "many"}}, 400, "field_invalid", "fields.teu"),
        ({"fields": {**VALUES, "start": "2026-02-30"}}, 400, "field_invalid", "fields.start"),
        ({"fields": {**VALUES, "hazardous": "maybe"}}, 400, "field_invalid", "fields.hazardous"),
        ({"fields": {**VALUES, "vessel": "x" * 31}}, 400, "field_invalid", "fields.vessel"),
        ({"fields": {**VALUES, "colour": "red"}}, 400, "field_unknown", "fields.colour"),
        ({"parties": []}, 400, "party_missing", "parties.乙方"),
        ({"parties": [{**PARTNER, "role": "丙方"}]}, 400, "party_role", "parties.0.role"),
        ({"parties": [PARTNER, PARTNER]}, 400, "party_role", "parties.1.role"),
        (
            {"parties": [{**PARTNER, "account": "not-a-phone"}]},
            400,
            "phone_invalid",
            "parties.乙方.account",
        ),
        ({"fields": "vessel"}, 422, "validation_failed", "fields"),
        ({"template_id": None}, 422, "validation_failed", "template_id"),
        ({"deadline": "2000-01-01T00:00:00+08:00"}, 400, "deadline_past", "deadline"),
    ],
)
def test_bad_values_create_nothing(alice, acme, changes, status, code, field):
    template_id = make_template(alice, acme)["id"]
    response = _contract(alice, **{"template_id": template_id, **changes})
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert field in response.json()["error"]["fields"]
    assert Contract.objects.count() == 0


def test_every_value_problem_is_reported_at_once(alice, acme):
    template_id = make_template(alice, acme)["id"]
    response = _contract(alice, template_id=template_id, fields={"teu": -1, "start": "soon"})
    assert error_code(response) == "field_required"
    assert sorted(response.json()["error"]["fields"]) == [
        "fields.start",
        "fields.teu",
        "fields.vessel",
    ]


def test_malformed_json_and_an_unready_template(alice, acme):
    bad = alice.api.post("/contracts", raw="{not json")
    assert (bad.status_code, error_code(bad)) == (400, "malformed_body")
    bare = make_template(alice, acme, definition(name="无角色", roles=[], areas=[]))
    response = _contract(alice, template_id=bare["id"])
    assert (response.status_code, error_code(response)) == (409, "template_not_ready")


def test_editing_a_template_leaves_its_contracts_alone(alice, acme):
    """A template edited later leaves contracts made from it as they were."""
    template_id = make_template(alice, acme)["id"]
    contract_id = _contract(alice, template_id=template_id).json()["id"]
    alice.api.request("PUT", f"/templates/{template_id}", definition(areas=[]))
    marks = alice.api.get(f"/contracts/{contract_id}").json()["parties"][0]["suggested_marks"]
    assert len(marks) == 1


def test_openapi_documents_both_bodies(api):
    schema = api.client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/contracts"]["post"]["requestBody"]["content"]
    assert sorted(body) == ["application/json", "multipart/form-data"]
    assert body["application/json"]["schema"]["required"] == ["template_id"]
    party = body["application/json"]["schema"]["properties"]["parties"]["items"]
    assert sorted(party["required"]) == ["account", "role"]
    assert {"/api/v1/templates/{template_id}", "/api/v1/bulk-sends/{job_id}"} <= set(
        schema["paths"]
    )
