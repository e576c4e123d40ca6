"""Issue 16 §6: an enterprise's required business field (业务字段) must not break the other ways a
contract is made. A contract from a template and a bulk send carry business values through the
rule a plain draft uses; a void statement (作废声明) demands none."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portsign.contracts.models import BusinessField, Contract
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.contracts.template_helpers import make_template, sheet
from tests.contracts.test_signing import _marks, _sign
from tests.helpers import error_code

GLOBEX = "Globex Tally Co., Ltd."
PARTNER = {"role": "乙方", "account": "13800000002", "enterprise_name": GLOBEX}
VALUES = {"vessel": "演示轮 V.2026E", "teu": 120}


@pytest.fixture
def booking(alice, acme) -> None:
    """Acme asks for a booking number (订舱号) on every contract, through the API."""
    added = alice.api.post(
        f"/enterprises/{acme.id}/business-fields",
        {"key": "booking", "label": "订舱号", "required": True},
    )
    assert added.status_code == 201, added.content


def _from_template(person, template_id: str, **changes):
    body = {"template_id": template_id, "fields": VALUES, "parties": [PARTNER], **changes}
    return person.api.post("/contracts", body)


# -- a contract from a template ----------------------------------------------------------------


def test_template_contract_takes_business_fields(alice, acme, globex, booking):
    template_id = make_template(alice, acme)["id"]
    made = _from_template(alice, template_id, business_fields={"booking": "BK-001"})
    assert made.status_code == 201, made.content
    assert made.json()["business_fields"] == {"booking": "BK-001"}
    assert Contract.objects.get().business_fields == {"booking": "BK-001"}


def test_a_business_key_among_the_values_is_a_business_value(alice, acme, globex, booking):
    """As in a bulk-send sheet, where one row holds both: not "this template has no field"."""
    template_id = make_template(alice, acme)["id"]
    made = _from_template(alice, template_id, fields={**VALUES, "booking": "BK-002"})
    assert made.status_code == 201, made.content
    assert made.json()["business_fields"] == {"booking": "BK-002"}


def test_template_contract_without_the_required_value_names_it(alice, acme, globex, booking):
    template_id = make_template(alice, acme)["id"]
    refused = _from_template(alice, template_id)
    assert refused.status_code == 400, refused.content
    assert error_code(refused) == "business_field"  # the code a plain draft gives
    assert "订舱号" in refused.json()["error"]["fields"]["fields.booking"]
    unknown = _from_template(alice, template_id, business_fields={"booking": "B", "colour": "red"})
    assert (unknown.status_code, error_code(unknown)) == (400, "business_field")
    assert "colour" in unknown.json()["error"]["fields"]["fields"]
    # Values are checked first, both before anything is stored.
    bad_value = _from_template(alice, template_id, fields={"teu": 5})
    assert error_code(bad_value) == "field_required"
    assert Contract.objects.count() == 0


def test_a_template_field_still_feeds_the_business_field_of_its_key(alice, acme, globex):
    BusinessField.objects.create(enterprise=acme, key="vessel", label="船名", required=True)
    template_id = make_template(alice, acme)["id"]
    made = _from_template(alice, template_id)
    assert made.status_code == 201, made.content
    assert made.json()["business_fields"] == {"vessel": "演示轮 V.2026E"}
    # business_fields, when given, says what the contract's business value is.
    told = _from_template(alice, template_id, business_fields={"vessel": "MSC TEST"})
    assert told.json()["business_fields"] == {"vessel": "MSC TEST"}


# -- bulk send ---------------------------------------------------------------------------------


@pytest.fixture
def _inline(settings):
    settings.BULK_SEND_RUNNER = "inline"


def _bulk(person, template_id: str, rows: list[list[str]]):
    return person.api.client.post(
        f"/api/v1/templates/{template_id}/bulk-sends",
        {"file": SimpleUploadedFile("rows.csv", sheet(rows))},
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


@pytest.mark.usefixtures("_inline")
def test_bulk_send_carries_a_business_column_row_by_row(alice, acme, globex, booking):
    alice.user.language = "en"  # row errors are written in the sender's language
    alice.user.save(update_fields=["language"])
    template_id = make_template(alice, acme)["id"]
    sample = alice.api.get(f"/templates/{template_id}/bulk-sends/sample.csv")
    assert "booking" in sample.content.decode("utf-8-sig").splitlines()[0].split(",")
    rows = [
        ["vessel", "teu", "booking", "乙方.enterprise", "乙方.account", "title"],
        ["演示轮 V.001", "12", "BK-001", GLOBEX, "13800000002", "理货协议 001"],
        ["演示轮 V.002", "20", "", GLOBEX, "13800000002", "理货协议 002"],
        ["演示轮 V.003", "30", "BK-003", GLOBEX, "13800000002", "理货协议 003"],
    ]
    response = _bulk(alice, template_id, rows)
    assert response.status_code == 202, response.content
    job = response.json()
    assert (job["status"], job["done"], job["failed"]) == ("finished", 2, 1)
    assert job["errors"] == [{"row": 3, "code": "business_field", "message": "订舱号 is required."}]
    assert sorted((c.title, c.business_fields["booking"]) for c in Contract.objects.all()) == [
        ("理货协议 001", "BK-001"),
        ("理货协议 003", "BK-003"),
    ]


@pytest.mark.usefixtures("_inline")
def test_bulk_send_without_a_required_business_column_is_refused(alice, acme, globex, booking):
    template_id = make_template(alice, acme)["id"]
    rows = [
        ["vessel", "teu", "乙方.enterprise", "乙方.account"],
        ["演示轮 V.001", "12", GLOBEX, "13800000002"],
    ]
    refused = _bulk(alice, template_id, rows)
    assert refused.status_code == 400, refused.content
    assert error_code(refused) == "bulk_columns"
    assert "booking" in refused.json()["error"]["fields"]["file"]
    assert Contract.objects.count() == 0


# -- void statements ---------------------------------------------------------------------------


def _completed(alice, bob, acme, globex, **fields) -> tuple[str, dict[str, str]]:
    """A contract Acme sent to Globex, signed by both."""
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    contract_id = create_draft(alice, acting_as=acme.id, **fields)["id"]
    for account, enterprise in (("13800000002", globex), ("13800000001", acme)):
        alice.api.post(
            f"/contracts/{contract_id}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    assert alice.api.post(f"/contracts/{contract_id}/send").status_code == 200
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    done = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert done.json()["status"] == "completed"
    return contract_id, seals


def _void(person, contract_id: str, acting_as: str):
    return person.api.post(
        f"/contracts/{contract_id}/void", {"acting_as": acting_as, "reason": "业务取消"}
    )


def test_the_sender_voids_a_contract_that_has_business_values(alice, bob, acme, globex, booking):
    contract_id, _seals = _completed(alice, bob, acme, globex, fields='{"booking": "BK-001"}')
    proposed = _void(alice, contract_id, acme.id)
    assert proposed.status_code == 201, proposed.content
    statement = proposed.json()
    assert (statement["status"], statement["voids"]) == ("signing", contract_id)
    # The statement is about the same business: it carries the voided contract's values.
    assert statement["business_fields"] == {"booking": "BK-001"}


def test_a_field_made_required_after_sending_does_not_block_voiding(alice, bob, acme, globex):
    contract_id, _seals = _completed(alice, bob, acme, globex)
    BusinessField.objects.create(enterprise=acme, key="booking", label="订舱号", required=True)
    proposed = _void(alice, contract_id, acme.id)
    assert proposed.status_code == 201, proposed.content
    assert proposed.json()["business_fields"] == {}


def test_a_party_with_its_own_required_field_may_propose_voiding(alice, bob, acme, globex):
    contract_id, _seals = _completed(alice, bob, acme, globex)
    BusinessField.objects.create(enterprise=globex, key="job", label="作业单号", required=True)
    proposed = _void(bob, contract_id, globex.id)
    assert proposed.status_code == 201, proposed.content
    assert proposed.json()["business_fields"] == {}
