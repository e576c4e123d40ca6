"""Template fields filled in by a signing party (issue 6 §1): after sending, before anyone
signs; drawn into the PDF as a version of their own; then the contract signs like any other
and both verifiers accept it."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.contracts.domain import documents, fills
from portsign.contracts.models import Contract, PartyFill, Version
from portsign.contracts.template_models import TemplateContract
from tests.contracts.conftest import contract_seal, give_certificate
from tests.contracts.template_helpers import (
    create_template,
    definition,
    make_template,
    pdf_text,
)
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import assert_isolated, error_code, outbox
from tests.verifiers import assert_verifiers_accept

PARTNER = {"role": "乙方", "account": "13800000002", "enterprise_name": "Globex Tally Co., Ltd."}
SENDER_VALUES = {"vessel": "演示轮 V.2026F", "teu": 80}


def _party_field(key: str, label: str, role: str, **changes) -> dict:
    return {
        "key": key,
        "label": label,
        "kind": "text",
        "required": True,
        "filled_by": "party",
        "role": role,
        "max_length": 40,
        "page": 1,
        "x": 0.1,
        "y": 0.6,
        "width": 0.5,
        "height": 0.03,
        **changes,
    }


def _with_party_fields(*extra: dict, **changes) -> dict:
    spec = definition(**changes)
    spec["fields"] = [
        *spec["fields"],
        _party_field("contact", "乙方联系人", "乙方"),
        _party_field(
            "bank_ok", "已核对账户", "乙方", kind="checkbox", required=False, y=0.7, width=0.04
        ),
        *extra,
    ]
    return spec


def _send(alice, template_id: str, **changes):
    body = {
        "template_id": template_id,
        "fields": SENDER_VALUES,
        "parties": [PARTNER],
        "send": True,
        **changes,
    }
    return alice.api.post("/contracts", body)


def _fill(person, contract_id: str, acting_as: str, values: dict):
    return person.api.post(
        f"/contracts/{contract_id}/fill", {"acting_as": acting_as, "fields": values}
    )


def _signature_fields(pdf: bytes) -> list[str]:
    reader = PdfFileReader(io.BytesIO(pdf))
    return [s.field_name for s in reader.embedded_regular_signatures]


def test_a_party_field_names_its_role(alice, acme):
    spec = _with_party_fields()
    spec["fields"][-1]["role"] = ""
    response = create_template(alice, acme, spec)
    assert response.status_code == 400, response.content
    assert error_code(response) == "field_filled_by"
    assert response.json()["error"]["fields"] == {
        "fields.5.role": "Choose the role whose party fills this field in."
    }
    created = make_template(alice, acme, _with_party_fields())
    assert [(f["key"], f["filled_by"], f["role"]) for f in created["fields"]] == [
        ("vessel", "sender", None),
        ("teu", "api", None),
        ("start", "sender", None),
        ("hazardous", "sender", None),
        ("contact", "party", "乙方"),
        ("bank_ok", "party", "乙方"),
    ]


def test_the_party_fills_in_then_everyone_signs_and_the_pdf_verifies(
    alice, bob, acme, globex, tmp_path
):
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    template_id = make_template(alice, acme, _with_party_fields())["id"]

    # The sender cannot give the party's values.
    refused = _send(alice, template_id, fields={**SENDER_VALUES, "contact": "张三"})
    assert refused.status_code == 400, refused.content
    assert error_code(refused) == "field_filled_by_party"
    assert refused.json()["error"]["fields"] == {"fields.contact": "乙方联系人由乙方在发送后填写。"}
    assert Contract.objects.count() == 0

    sent = _send(alice, template_id)
    assert sent.status_code == 201, sent.content
    contract_id = sent.json()["id"]
    assert [p["fill"] is not None for p in sent.json()["parties"]] == [True, False]
    shown = bob.api.get(f"/contracts/{contract_id}").json()
    assert [(p["name"], p["status"]) for p in shown["parties"]] == [
        (globex.name, "pending"),
        (acme.name, "waiting"),
    ]
    assert shown["parties"][0]["fill"] == {
        "role": "乙方",
        "fields": [
            {"key": "contact", "label": "乙方联系人", "kind": "text", "required": True},
            {"key": "bank_ok", "label": "已核对账户", "kind": "checkbox", "required": False},
        ],
        "filled_at": None,
        "values": {},
    }
    assert shown["parties"][1]["fill"] is None
    assert outbox("+8613800000002")[-1].data["event"] == "to_fill"
    assert "to_sign" not in [m.data.get("event") for m in outbox("+8613800000001")]

    # Nobody signs before the fill: the filler is told to fill, the sender is not its turn.
    early = bob.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": globex.id, "marks": _marks(seals["globex"])},
    )
    assert (early.status_code, error_code(early)) == (409, "fill_first")
    not_yet = alice.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": acme.id, "marks": _marks(seals["acme"])},
    )
    assert (not_yet.status_code, error_code(not_yet)) == (409, "party_not_pending")
    # Another enterprise's member acting for its own enterprise is not a party.
    wrong = _fill(alice, contract_id, acme.id, {"contact": "x"})
    assert (wrong.status_code, error_code(wrong)) == (409, "party_not_pending")

    # Bad values change nothing.
    missing = _fill(bob, contract_id, globex.id, {"bank_ok": True})
    assert (missing.status_code, error_code(missing)) == (400, "field_required")
    assert missing.json()["error"]["fields"] == {"fields.contact": "乙方联系人 为必填项。"}
    too_long = _fill(bob, contract_id, globex.id, {"contact": "长" * 41})
    assert (too_long.status_code, error_code(too_long)) == (400, "field_invalid")
    unknown = _fill(bob, contract_id, globex.id, {"contact": "李四", "vessel": "改"})
    assert (unknown.status_code, error_code(unknown)) == (400, "field_unknown")
    assert list(Version.objects.filter(contract_id=contract_id).values_list("kind", flat=True)) == [
        "prepared"
    ]

    filled = _fill(bob, contract_id, globex.id, {"contact": "李四 138-0000-0009", "bank_ok": "on"})
    assert filled.status_code == 200, filled.content
    body = filled.json()
    assert [(v["number"], v["kind"]) for v in body["versions"]] == [(1, "prepared"), (2, "filled")]
    assert [(p["name"], p["status"]) for p in body["parties"]] == [
        (globex.name, "pending"),
        (acme.name, "waiting"),
    ]
    assert body["parties"][0]["fill"]["values"] == {
        "contact": "李四 138-0000-0009",
        "bank_ok": True,
    }
    assert body["parties"][0]["fill"]["filled_at"] is not None
    assert outbox("+8613800000002")[-1].data["event"] == "to_sign"
    assert TemplateContract.objects.get(contract_id=contract_id).values == {
        "vessel": "演示轮 V.2026F",
        "teu": "80",
        "contact": "李四 138-0000-0009",
        "bank_ok": True,
    }
    text = pdf_text(bob.api.get(f"/contracts/{contract_id}/document.pdf").content)
    for printed in ("演示轮 V.2026F", "80", "李四 138-0000-0009", "√"):
        assert printed in text
    again = _fill(bob, contract_id, globex.id, {"contact": "王五"})
    assert (again.status_code, error_code(again)) == (409, "nothing_to_fill")

    first = _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    assert first.status_code == 200, first.content
    done = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert done.json()["status"] == "completed"
    assert [v["kind"] for v in done.json()["versions"]] == [
        "prepared",
        "filled",
        "signed",
        "signed",
        "archived",
    ]
    signed = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    assert "李四 138-0000-0009" in pdf_text(signed)
    names = _signature_fields(signed)
    assert len(names) == 2
    assert_verifiers_accept(signed, tmp_path, names)
    trail = alice.api.get(f"/contracts/{contract_id}/trail").json()
    filled_rows = [t for t in trail if t["action"] == "contract.fields_filled"]
    assert len(filled_rows) == 1


def test_parallel_fills_each_draw_onto_the_other(alice, bob, charlie, acme, globex):
    spec = _with_party_fields(
        _party_field("witness", "丙方意见", "丙方", y=0.8),
        roles=[
            {"name": "乙方", "order": 1},
            {"name": "丙方", "order": 1},
            {"name": "甲方", "order": 2, "is_sender": True},
        ],
        ordering="parallel",
    )
    template_id = make_template(alice, acme, spec)["id"]
    parties = [PARTNER, {"role": "丙方", "kind": "person", "account": "charlie@example.cn"}]
    sent = _send(alice, template_id, parties=parties)
    assert sent.status_code == 201, sent.content
    contract_id = sent.json()["id"]
    assert [p["status"] for p in sent.json()["parties"]] == ["pending", "pending", "waiting"]

    # A reminder asks the parties to fill in, not to sign.
    assert alice.api.post(f"/contracts/{contract_id}/remind").json() == {"count": 2}
    reminder = outbox("charlie@example.cn")[-1]
    assert reminder.data["event"] == "reminder"
    assert reminder.subject == "提醒：有一份合同等待您填写"

    one = _fill(charlie, contract_id, "personal", {"witness": "同意"})
    assert one.status_code == 200, one.content
    # Charlie is done and waits; the contract still waits for 乙方.
    assert [p["status"] for p in one.json()["parties"]] == ["pending", "waiting", "waiting"]
    assert fills.waiting_for(Contract.objects.get(pk=contract_id)) == ["乙方"]
    two = _fill(bob, contract_id, globex.id, {"contact": "李四"})
    assert two.status_code == 200, two.content
    # Everyone filled in: signing starts in parallel, as the template says.
    assert [p["status"] for p in two.json()["parties"]] == ["pending", "pending", "pending"]
    assert [v["kind"] for v in two.json()["versions"]] == ["prepared", "filled", "filled"]
    text = pdf_text(alice.api.get(f"/contracts/{contract_id}/document.pdf").content)
    assert "同意" in text
    assert "李四" in text


def test_a_fill_drawn_on_a_stale_version_is_drawn_again(alice, bob, acme, globex):
    template_id = make_template(alice, acme, _with_party_fields())["id"]
    contract_id = _send(alice, template_id).json()["id"]
    contract = Contract.objects.get(pk=contract_id)
    pending = PartyFill.objects.get(contract=contract)
    stale = documents.store_pdf(documents.read_document(contract.current))
    # The contract has moved on (another party's fill) since this draw began: nothing is stored.
    assert (
        fills._record(bob, contract_id, pending.pk, "not-the-current-document", stale, {"x": 1})
        is False
    )
    pending.refresh_from_db()
    assert (pending.filled_at, pending.values) == (None, {})
    assert Version.objects.filter(contract=contract).count() == 1


def test_fills_are_the_partys_own(alice, bob, charlie, acme, globex):
    template_id = make_template(alice, acme, _with_party_fields())["id"]
    contract_id = _send(alice, template_id).json()["id"]
    # Someone with no part in the contract finds nothing; the party fills in.
    assert_isolated(
        bob,
        charlie,
        "POST",
        f"/contracts/{contract_id}/fill",
        {"acting_as": globex.id, "fields": {"contact": "李四"}},
    )


def test_a_filler_may_reject_and_a_draft_keeps_its_filler(alice, bob, acme, globex):
    template_id = make_template(alice, acme, _with_party_fields())["id"]
    draft = _send(alice, template_id, send=False).json()
    filler = draft["parties"][0]["id"]
    kept = alice.api.delete(f"/contracts/{draft['id']}/parties/{filler}")
    assert (kept.status_code, error_code(kept)) == (409, "party_fills_fields")

    contract_id = _send(alice, template_id).json()["id"]
    rejected = bob.api.post(
        f"/contracts/{contract_id}/reject", {"acting_as": globex.id, "reason": "联系人待定"}
    )
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["status"] == "rejected"
    late = _fill(bob, contract_id, globex.id, {"contact": "李四"})
    assert (late.status_code, error_code(late)) == (409, "not_signing")


@pytest.mark.parametrize("column", ["contact", "乙方联系人"])
def test_bulk_sheets_leave_party_fields_to_the_parties(alice, acme, column):
    template_id = make_template(alice, acme, _with_party_fields())["id"]
    sample = alice.api.get(f"/templates/{template_id}/bulk-sends/sample.csv")
    assert sample.status_code == 200, sample.content
    header = sample.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert "contact" not in header
    assert "bank_ok" not in header
    assert header[:2] == ["vessel", "teu"]
    assert column not in header
