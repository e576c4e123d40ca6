"""Drafts are edited and deleted by their sender (issue 16 point 5, SPEC D1): reproduced first
(PATCH and DELETE answered 405), then every field, the file and the refusals."""

from __future__ import annotations

from portsign.common.models import AuditEvent
from portsign.contracts.models import Contract
from tests.contracts.conftest import create_draft, pdf_bytes, upload
from tests.helpers import error_code


def test_the_sender_edits_every_field_of_a_draft(alice, acme):
    draft = create_draft(alice, acting_as=acme.id)
    edited = alice.api.patch(
        f"/contracts/{draft['id']}",
        {
            "title": "港口作业合同（修订）",
            "deadline": "2099-12-31T18:00:00+08:00",
            "valid_until": "2099-06-30",
            "ordering": "parallel",
        },
    )
    assert edited.status_code == 200, edited.content
    body = edited.json()
    assert (body["title"], body["ordering"]) == ("港口作业合同（修订）", "parallel")
    contract = Contract.objects.get(pk=draft["id"])
    assert contract.deadline.isoformat() == "2099-12-31T10:00:00+00:00"
    assert contract.valid_until.isoformat() == "2099-06-30"
    # Only what is given changes; null clears the validity.
    alice.api.patch(f"/contracts/{draft['id']}", {"valid_until": None})
    contract.refresh_from_db()
    assert (contract.title, contract.valid_until) == ("港口作业合同（修订）", None)
    actions = AuditEvent.objects.filter(object_id=draft["id"]).values_list("action", flat=True)
    assert list(actions).count("contract.draft_edited") == 2


def test_bad_values_are_refused_with_the_field(alice, acme):
    draft = create_draft(alice, acting_as=acme.id)
    cases = {
        "title": {"title": "  "},
        "deadline": {"deadline": "2020-01-01T00:00:00+08:00"},
        "ordering": {"ordering": "random"},
        "type": {"type": "不存在的类型"},
    }
    answers = {k: alice.api.patch(f"/contracts/{draft['id']}", v) for k, v in cases.items()}
    assert {k: (r.status_code, error_code(r)) for k, r in answers.items()} == {
        "title": (400, "title_required"),
        "deadline": (400, "deadline_past"),
        "ordering": (400, "ordering"),
        "type": (400, "contract_type"),
    }
    assert Contract.objects.get(pk=draft["id"]).title == "集装箱理货协议"


def test_the_file_is_replaced_while_a_draft(alice, acme):
    draft = create_draft(alice, acting_as=acme.id)
    before = Contract.objects.get(pk=draft["id"]).body.sha256
    replaced = upload(alice, f"/contracts/{draft['id']}/file", pdf_bytes(3, label="Revised"))
    assert replaced.status_code == 200, replaced.content
    contract = Contract.objects.get(pk=draft["id"])
    assert (contract.body.pages, contract.body_id == contract.current_id) == (3, True)
    assert contract.body.sha256 != before


def test_a_draft_is_deleted_and_a_sent_contract_is_not(alice, acme, globex):
    draft = create_draft(alice, acting_as=acme.id)
    assert alice.api.delete(f"/contracts/{draft['id']}").status_code == 204
    assert not Contract.objects.filter(pk=draft["id"]).exists()
    assert alice.api.get(f"/contracts/{draft['id']}").status_code == 404
    sent = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{sent['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    assert alice.api.post(f"/contracts/{sent['id']}/send").status_code == 200
    for answer in (
        alice.api.delete(f"/contracts/{sent['id']}"),
        alice.api.patch(f"/contracts/{sent['id']}", {"title": "改名"}),
        upload(alice, f"/contracts/{sent['id']}/file", pdf_bytes(1)),
    ):
        assert (answer.status_code, error_code(answer)) == (409, "not_draft")


def test_only_the_sender_edits_and_strangers_get_404(alice, acme, bob):
    draft = create_draft(alice, acting_as=acme.id)
    assert bob.api.patch(f"/contracts/{draft['id']}", {"title": "x"}).status_code == 404
    assert bob.api.delete(f"/contracts/{draft['id']}").status_code == 404
    assert Contract.objects.filter(pk=draft["id"]).exists()
