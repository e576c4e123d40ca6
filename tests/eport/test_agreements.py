"""通关无纸化三方协议: signed per direct customs with the legal-person card (a PAdES signature
made on the card's token), received and approved by that customs, terminated without review."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from asn1crypto import cms
from django.core.files.storage import default_storage
from django.db import connection
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.eport.domain import agreements
from portsign.eport.models import AgreementEvent, PaperlessAgreement
from portsign.pki.models import IssuedCertificate
from tests.eport.card_helpers import card_session, change_pin
from tests.eport.conftest import ok
from tests.eport.customs_helpers import (
    NANJING,
    QINGDAO,
    customs_reviewers,
    legal_person_session,
    sign,
)
from tests.helpers import error_code, outbox
from tests.verifiers import assert_verifiers_accept

pytestmark = pytest.mark.usefixtures("district_table")


@pytest.fixture
def customs(world):
    return customs_reviewers()


class _Recording:
    """The real storage, noting what is written and removed, and how many atomic blocks were
    open at each write."""

    def __init__(self):
        self.saved, self.deleted, self.depths = [], [], []

    def save(self, name, content):
        self.depths.append(len(connection.atomic_blocks))
        self.saved.append(default_storage.save(name, content))
        return self.saved[-1]

    def delete(self, name):
        self.deleted.append(name)
        default_storage.delete(name)


def _codes(rows) -> list[str]:
    return [row["code"] for row in rows]


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_one_agreement_per_district_signed_on_the_card(world, customs, tmp_path):
    card, session = legal_person_session(world)
    enterprise = world.enterprise
    offered = ok(session.get(f"/eport/enterprises/{enterprise.id}/paperless-agreements/districts"))
    assert _codes(offered) == [NANJING, QINGDAO]
    made = ok(sign(session, enterprise.id, [QINGDAO, NANJING]), 201)
    assert [(a["district"], a["status"], a["card_number"]) for a in made] == [
        (QINGDAO, "sent_to_customs", card["number"]),
        (NANJING, "sent_to_customs", card["number"]),
    ]
    assert made[0]["status_label"] == "签约已发往海关"
    # A district already signed is no longer offered.
    assert (
        ok(session.get(f"/eport/enterprises/{enterprise.id}/paperless-agreements/districts")) == []
    )
    pdf = session.get(f"/eport/paperless-agreements/{made[0]['id']}/document.pdf").content
    assert_verifiers_accept(pdf, tmp_path, [f"PortSign-agreement-{QINGDAO}"])
    text = _pdf_text(pdf, tmp_path)
    for expected in (enterprise.name, enterprise.uscc, "青岛海关", "关区代码 4200", card["number"]):
        assert expected in text
    # Signed by the card's certificate, whose key is on the token only.
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    signer = signature.signer_cert
    issued = IssuedCertificate.objects.get(serial=format(signer.serial_number, "x"))
    assert issued.key_id is None
    assert issued.id == world.enterprise.eport_cards.get().certificate_id
    signed_data = signature.signed_data
    assert isinstance(signed_data, cms.SignedData)
    unsigned = signed_data["signer_infos"][0]["unsigned_attrs"]
    assert [a["type"].native for a in unsigned] == ["signature_time_stamp_token"]


def test_customs_receives_then_approves_and_every_move_is_in_the_history(world, customs):
    _card, session = legal_person_session(world)
    made = ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]
    queue = ok(customs.qingdao.api.get("/eport/customs/paperless-agreements"))
    assert [(a["id"], a["status"]) for a in queue["items"]] == [(made["id"], "sent_to_customs")]
    assert ok(customs.nanjing.api.get("/eport/customs/paperless-agreements"))["total"] == 0
    # Approving before receiving, or receiving twice, is not a move.
    early = customs.qingdao.api.post(f"/eport/paperless-agreements/{made['id']}/approve", {})
    assert (early.status_code, error_code(early)) == (409, "agreement_state")
    received = ok(customs.qingdao.api.post(f"/eport/paperless-agreements/{made['id']}/receive"))
    assert (received["status"], received["status_label"]) == ("received", "海关入库成功")
    again = customs.qingdao.api.post(f"/eport/paperless-agreements/{made['id']}/receive")
    assert (again.status_code, error_code(again)) == (409, "agreement_state")
    approved = ok(
        customs.qingdao.api.post(
            f"/eport/paperless-agreements/{made['id']}/approve", {"opinion": "同意。"}
        )
    )
    assert (approved["status"], approved["status_label"]) == ("approved", "签约海关审批通过")
    assert [(h["action"], h["status"]) for h in approved["history"]] == [
        ("sign", "sent_to_customs"),
        ("receive", "received"),
        ("approve", "approved"),
    ]
    assert agreements.has_approved(world.enterprise.id, "4201")  # an office of 青岛海关
    assert not agreements.has_approved(world.enterprise.id, NANJING)
    listed = ok(session.get(f"/eport/enterprises/{world.enterprise.id}/paperless-agreements"))
    assert [(a["district"], a["status"]) for a in listed["items"]] == [(QINGDAO, "approved")]
    # The customs reviewer heard of the signature, the signer of each decision.
    assert [m.text for m in outbox(customs.qingdao.user.phone) if "青岛海关" in m.text] == [
        f"【PortSign】{world.enterprise.name}签署了青岛海关的通关无纸化三方协议。"
    ]
    signer = [m.text for m in outbox(world.admin.user.phone) if "青岛海关" in m.text]
    assert len(signer) == 2  # received, approved


def test_a_return_needs_an_opinion_and_frees_the_district(world, customs):
    _card, session = legal_person_session(world)
    made = ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]
    url = f"/eport/paperless-agreements/{made['id']}"
    ok(customs.qingdao.api.post(f"{url}/receive"))
    blank = customs.qingdao.api.post(f"{url}/return", {"opinion": "  "})
    assert (blank.status_code, error_code(blank)) == (400, "opinion_required")
    returned = ok(customs.qingdao.api.post(f"{url}/return", {"opinion": "企业名称与备案不符。"}))
    assert (returned["status"], returned["opinion"]) == ("returned", "企业名称与备案不符。")
    after = customs.qingdao.api.post(f"{url}/approve", {})
    assert (after.status_code, error_code(after)) == (409, "agreement_state")
    offered = ok(
        session.get(f"/eport/enterprises/{world.enterprise.id}/paperless-agreements/districts")
    )
    assert QINGDAO in _codes(offered)
    assert ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]["status"] == "sent_to_customs"


def test_termination_needs_no_review_and_the_card(world, customs):
    _card, session = legal_person_session(world)
    made = ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]
    url = f"/eport/paperless-agreements/{made['id']}"
    ok(customs.qingdao.api.post(f"{url}/receive"))
    ok(customs.qingdao.api.post(f"{url}/approve", {}))
    # The main administrator with a password is not the legal-person card; customs may not.
    by_password = world.admin.api.post(f"{url}/terminate")
    assert (by_password.status_code, error_code(by_password)) == (403, "legal_person_card_required")
    by_customs = customs.qingdao.api.post(f"{url}/terminate")
    assert by_customs.status_code == 404
    ended = ok(session.post(f"{url}/terminate"))
    assert ended["status"] == "terminated"
    assert ended["terminated_at"] is not None
    assert not agreements.has_approved(world.enterprise.id, QINGDAO)
    twice = session.post(f"{url}/terminate")
    assert (twice.status_code, error_code(twice)) == (409, "agreement_state")
    assert QINGDAO in _codes(
        ok(session.get(f"/eport/enterprises/{world.enterprise.id}/paperless-agreements/districts"))
    )


def test_only_the_legal_person_card_signs(world, customs):
    legal, session = legal_person_session(world)
    operator = world.issue_operator_card()
    ok(change_pin(world.operator_person, operator["id"]))
    refusals = {
        "password": sign(world.admin.api, world.enterprise.id, [QINGDAO]),
        "operator card": sign(card_session(operator["number"]), world.enterprise.id, [QINGDAO]),
        "terms": sign(session, world.enterprise.id, [QINGDAO], accept_terms=False),
        "wrong pin": sign(session, world.enterprise.id, [QINGDAO], pin="13572468"),
    }
    assert {k: (r.status_code, error_code(r)) for k, r in refusals.items()} == {
        "password": (403, "legal_person_card_required"),
        "operator card": (403, "legal_person_card_required"),
        "terms": (400, "terms_not_accepted"),
        "wrong pin": (400, "pin_incorrect"),
    }
    assert refusals["wrong pin"].json()["error"]["fields"]["remaining"] == 4
    assert PaperlessAgreement.objects.count() == 0
    # A lost card cannot sign.
    ok(world.reviewer.api.post(f"/eport/cards/{legal['id']}/report-loss"))
    lost = sign(session, world.enterprise.id, [QINGDAO])
    assert (lost.status_code, error_code(lost)) == (403, "legal_person_card_required")
    assert PaperlessAgreement.objects.count() == 0


def test_districts_must_be_direct_assigned_and_not_signed(world, customs):
    _card, session = legal_person_session(world)
    enterprise_id = world.enterprise.id
    results = {
        "office": sign(session, enterprise_id, ["4201"]),
        "unknown": sign(session, enterprise_id, ["4400"]),
        "unassigned": sign(session, enterprise_id, ["0100"]),
        "none": sign(session, enterprise_id, []),
    }
    assert {k: (r.status_code, error_code(r)) for k, r in results.items()} == {
        "office": (400, "district_not_direct"),
        "unknown": (404, "not_found"),
        "unassigned": (409, "district_unassigned"),
        "none": (400, "districts_required"),
    }
    ok(sign(session, enterprise_id, [QINGDAO]), 201)
    twice = sign(session, enterprise_id, [QINGDAO, NANJING])
    assert (twice.status_code, error_code(twice)) == (409, "district_signed")
    assert PaperlessAgreement.objects.count() == 1  # nothing of the second request was kept


def test_a_double_click_that_passes_the_check_still_signs_once(world, customs, monkeypatch):
    _card, session = legal_person_session(world)
    ok(sign(session, world.enterprise.id, [QINGDAO]), 201)
    # The second request read the offered districts before the first one committed.
    offered = agreements.signable_districts
    monkeypatch.setattr(
        agreements,
        "signable_districts",
        lambda enterprise: [
            *offered(enterprise),
            *agreements.districts.direct_districts().filter(code=QINGDAO),
        ],
    )
    recording = _Recording()
    monkeypatch.setattr(agreements, "default_storage", recording)
    late = sign(session, world.enterprise.id, [QINGDAO])
    assert (late.status_code, error_code(late)) == (409, "district_signed")
    assert PaperlessAgreement.objects.count() == 1
    assert AgreementEvent.objects.count() == 1
    # The second request's PDF was stored before its insert failed, and removed again.
    assert len(recording.saved) == 1
    assert recording.deleted == recording.saved
    assert not default_storage.exists(recording.saved[0])


def test_the_pdfs_are_stored_outside_the_transaction(world, customs, monkeypatch):
    _card, session = legal_person_session(world)
    recording = _Recording()
    monkeypatch.setattr(agreements, "default_storage", recording)
    ok(sign(session, world.enterprise.id, [QINGDAO, NANJING]), 201)
    # Each save ran at the test's own depth of atomic blocks: none of `sign` was open.
    assert recording.depths == [len(connection.atomic_blocks)] * 2
    assert sorted(PaperlessAgreement.objects.values_list("path", flat=True)) == sorted(
        recording.saved
    )


def test_another_enterprise_and_another_customs_see_nothing(world, customs, bob, sanya):
    _card, session = legal_person_session(world)
    made = ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]
    url = f"/eport/paperless-agreements/{made['id']}"
    for path in (url, f"{url}/document.pdf"):
        assert bob.api.get(path).status_code == 404
        assert customs.nanjing.api.get(path).status_code == 404
    assert customs.qingdao.api.get(f"{url}/document.pdf").status_code == 200
    assert customs.nanjing.api.post(f"{url}/receive").status_code == 404
    assert bob.api.post(f"{url}/receive").status_code == 404
    assert (
        bob.api.get(f"/eport/enterprises/{world.enterprise.id}/paperless-agreements").status_code
        == 404
    )
    assert sign(bob.api, world.enterprise.id, [NANJING]).status_code == 404
    assert world.admin.api.post(f"{url}/receive").status_code == 403  # its own, but not customs


def test_webhooks_hear_every_move(world, customs):
    from portsign.webhooks.models import Delivery

    _card, session = legal_person_session(world)
    hook = ok(
        world.admin.api.post(
            f"/enterprises/{world.enterprise.id}/webhooks",
            {
                "url": "https://hooks.example.cn/eport",
                "events": ["eport.agreement.signed", "eport.agreement.approved"],
            },
        ),
        201,
    )
    made = ok(sign(session, world.enterprise.id, [QINGDAO]), 201)[0]
    url = f"/eport/paperless-agreements/{made['id']}"
    ok(customs.qingdao.api.post(f"{url}/receive"))
    ok(customs.qingdao.api.post(f"{url}/approve", {}))
    deliveries = list(Delivery.objects.filter(endpoint_id=hook["id"]).order_by("created_at", "id"))
    assert [d.event for d in deliveries] == ["eport.agreement.signed", "eport.agreement.approved"]
    body = json.loads(deliveries[-1].payload)
    assert body["event"] == "eport.agreement.approved"
    assert body["agreement"]["status"] == "approved"
    assert body["agreement"]["district"] == {"code": "4200", "name": "青岛海关"}
    assert body["agreement"]["enterprise"]["id"] == world.enterprise.id
