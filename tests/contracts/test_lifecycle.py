"""Parties, sending, the status machine (D2–D3), boxes (D4), previews and the trail."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from portsign.common.models import AuditEvent
from portsign.contracts.domain.contracts import expire_overdue
from portsign.contracts.models import Contract, ContractType, Party
from tests.contracts.conftest import create_draft, pdf_bytes, upload
from tests.helpers import assert_isolated, error_code, outbox
from tests.seals.conftest import add_member


def _party(person, contract_id, **body):
    response = person.api.post(f"/contracts/{contract_id}/parties", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def sent(alice, bob, acme, globex):
    """Acme (alice) sends to Globex (bob), then signs itself second."""
    contract = create_draft(alice, acting_as=acme.id)
    _party(
        alice,
        contract["id"],
        kind="enterprise",
        account="+8613800000002",
        enterprise_name=globex.name,
    )
    _party(
        alice,
        contract["id"],
        kind="enterprise",
        account="+8613800000001",
        enterprise_name=acme.name,
    )
    response = alice.api.post(f"/contracts/{contract['id']}/send")
    assert response.status_code == 200, response.content
    return response.json()


def test_parties_are_validated(verified_alice, bob):
    contract_id = create_draft(verified_alice)["id"]
    person = _party(verified_alice, contract_id, kind="person", account="13800000002")
    assert (person["kind"], person["name"], person["account"], person["order"]) == (
        "person",
        "Bob Test",
        "+86138****0002",
        1,
    )
    assert (person["needs_signature"], person["needs_seal"]) == (True, False)
    for body, status, code in (
        ({"kind": "robot", "account": "13800000009"}, 400, "party_kind"),
        ({"kind": "enterprise", "account": "13800000009"}, 400, "enterprise_name_required"),
        ({"kind": "person", "account": "12345"}, 400, "phone_invalid"),
        ({"kind": "person", "account": "13800000002"}, 409, "party_exists"),
        (
            {
                "kind": "enterprise",
                "account": "13800000009",
                "enterprise_name": "X 公司",
                "needs_seal": False,
            },
            400,
            "party_requirements",
        ),
    ):
        response = verified_alice.api.post(f"/contracts/{contract_id}/parties", body)
        assert response.status_code == status, (body, response.content)
        assert error_code(response) == code
    # Someone else cannot change a draft they cannot see.
    assert (
        bob.api.post(
            f"/contracts/{contract_id}/parties", {"kind": "person", "account": "13800000003"}
        ).status_code
        == 404
    )


def test_send_sequential_activates_the_first_party_and_notifies(sent, globex):
    assert sent["status"] == "signing"
    assert [(p["name"], p["status"]) for p in sent["parties"]] == [
        (globex.name, "pending"),
        ("Acme Port Logistics Co., Ltd.", "waiting"),
    ]
    note = outbox("+8613800000002")[-1]
    assert note.data["event"] == "to_sign"
    assert note.data["url"].endswith(f"/console/contracts/{sent['id']}/")
    assert "集装箱理货协议" in note.text
    assert [v["kind"] for v in sent["versions"]] == ["prepared"]
    deadline = dt.datetime.fromisoformat(sent["deadline"])
    assert dt.timedelta(days=13, hours=23) < deadline - timezone.now() <= dt.timedelta(days=14)


def test_parallel_activates_everyone(verified_alice, verified_bob, charlie):
    contract_id = create_draft(verified_alice, ordering="parallel")["id"]
    _party(verified_alice, contract_id, kind="person", account="13800000002")
    _party(verified_alice, contract_id, kind="person", account="charlie@example.cn")
    body = verified_alice.api.post(f"/contracts/{contract_id}/send").json()
    assert [p["status"] for p in body["parties"]] == ["pending", "pending"]
    assert outbox("charlie@example.cn")[-1].data["event"] == "to_sign"


def test_attachments_are_appended_when_sent(verified_alice):
    contract_id = create_draft(verified_alice)["id"]
    upload(verified_alice, f"/contracts/{contract_id}/attachments", pdf_bytes(3, label="Annex"))
    _party(verified_alice, contract_id, kind="person", account="13800000002")
    body = verified_alice.api.post(f"/contracts/{contract_id}/send").json()
    assert body["pages"] == 5
    assert body["versions"][0]["pages"] == 5


def test_illegal_transitions_are_409(verified_alice, sent, alice):
    assert (
        error_code(verified_alice.api.post(f"/contracts/{create_draft(verified_alice)['id']}/send"))
        == "no_parties"
    )
    again = alice.api.post(f"/contracts/{sent['id']}/send")
    assert again.status_code == 409
    assert error_code(again) == "not_draft"
    assert (
        alice.api.post(f"/contracts/{sent['id']}/revoke", {"reason": "条款有误"}).status_code == 200
    )
    twice = alice.api.post(f"/contracts/{sent['id']}/revoke", {})
    assert twice.status_code == 409
    assert error_code(twice) == "illegal_transition"
    assert (
        "Revoked" in twice.json()["error"]["message"] or "撤销" in twice.json()["error"]["message"]
    )
    party = alice.api.post(
        f"/contracts/{sent['id']}/parties", {"kind": "person", "account": "13800000009"}
    )
    assert party.status_code == 409


def test_revoke_is_for_the_sender_and_notifies_everyone(sent, alice, bob):
    refused = bob.api.post(f"/contracts/{sent['id']}/revoke", {})
    assert refused.status_code == 403
    assert error_code(refused) == "not_sender"
    body = alice.api.post(f"/contracts/{sent['id']}/revoke", {"reason": "条款有误"}).json()
    assert (body["status"], body["reason"]) == ("revoked", "条款有误")
    assert outbox("+8613800000002")[-1].data["event"] == "revoked"


def test_reject_by_the_pending_party(sent, alice, bob, globex):
    no_reason = bob.api.post(
        f"/contracts/{sent['id']}/reject", {"acting_as": globex.id, "reason": ""}
    )
    assert no_reason.status_code == 400
    assert error_code(no_reason) == "reason_required"
    # Acme's turn has not come (sequential): it cannot reject yet.
    early = alice.api.post(
        f"/contracts/{sent['id']}/reject",
        {"acting_as": Contract.objects.get().sender_enterprise_id, "reason": "不同意"},
    )
    assert early.status_code == 409
    assert error_code(early) == "party_not_pending"
    personal = bob.api.post(
        f"/contracts/{sent['id']}/reject", {"acting_as": "personal", "reason": "不同意"}
    )
    assert personal.status_code == 403
    assert error_code(personal) == "not_a_party"
    body = bob.api.post(
        f"/contracts/{sent['id']}/reject", {"acting_as": globex.id, "reason": "费率不对"}
    ).json()
    assert (body["status"], body["reason"]) == ("rejected", "费率不对")
    assert body["parties"][0]["status"] == "rejected"
    assert outbox("+8613800000001")[-1].data["event"] == "rejected"


def test_expired_deadline_turns_the_contract_expired_without_anyone(sent, alice):
    Contract.objects.filter(pk=sent["id"]).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    body = alice.api.get(f"/contracts/{sent['id']}").json()  # any access expires it
    assert body["status"] == "expired"
    assert AuditEvent.objects.filter(object_id=sent["id"], action="contract.expired").count() == 1
    assert expire_overdue() == 0
    late = alice.api.post(f"/contracts/{sent['id']}/revoke", {})
    assert late.status_code == 409


def test_reading_one_contract_expires_only_that_one(sent, alice, acme, globex):
    """A read looks at the row it loaded; it no longer sweeps every contract (issue 17)."""
    other = create_draft(alice, acting_as=acme.id)["id"]
    _party(alice, other, kind="enterprise", account="+8613800000002", enterprise_name=globex.name)
    assert alice.api.post(f"/contracts/{other}/send").status_code == 200
    past = timezone.now() - dt.timedelta(minutes=1)
    Contract.objects.filter(pk__in=[sent["id"], other]).update(deadline=past)
    with CaptureQueriesContext(connection) as queries:
        assert alice.api.get(f"/contracts/{other}").json()["status"] == "expired"
    assert Contract.objects.get(pk=sent["id"]).status == "signing"  # cleanup or its own read
    sweeps = [q["sql"] for q in queries if 'ORDER BY "contracts_contract"."deadline"' in q["sql"]]
    assert sweeps == []


def test_cleanup_command_expires_too(sent):
    from django.core.management import call_command

    Contract.objects.filter(pk=sent["id"]).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    call_command("cleanup")
    assert Contract.objects.get(pk=sent["id"]).status == "expired"


def test_other_enterprises_get_404(sent, charlie):
    from tests.helpers import make_enterprise

    make_enterprise(charlie, "Initech Forwarding Co., Ltd.", 3)
    for path in ("", "/pages/1.png", "/document.pdf", "/trail"):
        response = charlie.api.get(f"/contracts/{sent['id']}{path}")
        assert response.status_code == 404, path
    assert_isolated(charlie, charlie, "GET", "/contracts/doesnotexist", owner_status=404)


def test_party_members_see_it_and_previews_render(sent, bob):
    assert bob.api.get(f"/contracts/{sent['id']}").status_code == 200
    preview = bob.api.get(f"/contracts/{sent['id']}/pages/1.png")
    assert preview.status_code == 200
    image = Image.open(io.BytesIO(preview.content))
    assert image.size == (794, 1123)  # A4 at 96 dpi
    assert bob.api.get(f"/contracts/{sent['id']}/pages/3.png").status_code == 400
    pdf = bob.api.get(f"/contracts/{sent['id']}/document.pdf")
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["X-Content-SHA256"] == sent["versions"][0]["sha256"]


def test_trail_lists_who_did_what(sent, alice, acme):
    trail = alice.api.get(f"/contracts/{sent['id']}/trail").json()
    assert [t["action"] for t in trail] == [
        "contract.created",
        "contract.party_added",
        "contract.party_added",
        "contract.signing",
    ]
    assert {t["actor"] for t in trail} == {"Alice Test"}
    assert trail[-1]["acting_as"] == acme.name


def _box(person, box, acting_as="personal", **params):
    query = "&".join(f"{k}={v}" for k, v in {"box": box, "acting_as": acting_as, **params}.items())
    response = person.api.get(f"/contracts?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_boxes_for_each_identity(sent, alice, bob, acme, globex):
    assert [c["id"] for c in _box(bob, "to_sign", globex.id)["items"]] == [sent["id"]]
    assert _box(bob, "to_sign")["total"] == 0  # not personally
    assert _box(alice, "to_sign", acme.id)["total"] == 0  # Acme's turn is second
    assert [c["id"] for c in _box(alice, "others_to_sign", acme.id)["items"]] == [sent["id"]]
    assert _box(alice, "sent", acme.id)["total"] == 1
    assert _box(alice, "due_soon", acme.id)["total"] == 0
    Contract.objects.filter(pk=sent["id"]).update(deadline=timezone.now() + dt.timedelta(days=1))
    assert _box(bob, "due_soon", globex.id)["total"] == 1
    draft = create_draft(alice, acting_as=acme.id)
    assert [c["id"] for c in _box(alice, "drafts", acme.id)["items"]] == [draft["id"]]
    bad = alice.api.get("/contracts?box=everything")
    assert bad.status_code == 400
    assert error_code(bad) == "box"


def test_filters_and_paging(alice, acme):
    kind = ContractType.objects.create(enterprise=acme, name="港口作业合同")
    for number in range(25):
        draft = create_draft(alice, acting_as=acme.id, title=f"合同 {number:02d}")
        if number % 5 == 0:
            Contract.objects.filter(pk=draft["id"]).update(contract_type=kind)
    first = _box(alice, "drafts", acme.id, page_size=10)
    assert (first["total"], len(first["items"]), first["page"]) == (25, 10, 1)
    assert first["items"][0]["title"] == "合同 24"  # newest first
    last = _box(alice, "drafts", acme.id, page_size=10, page=3)
    assert [c["title"] for c in last["items"]] == [f"合同 {n:02d}" for n in range(4, -1, -1)]
    typed = _box(alice, "drafts", acme.id, type="港口作业合同")
    assert typed["total"] == 5
    assert _box(alice, "drafts", acme.id, status="signing")["total"] == 0
    assert alice.api.get(f"/contracts?box=drafts&acting_as={acme.id}&page=0").status_code == 400


def test_party_filter(sent, alice, acme):
    assert _box(alice, "others_to_sign", acme.id, party="Globex")["total"] == 1
    assert _box(alice, "others_to_sign", acme.id, party="Initech")["total"] == 0


def test_list_query_count_does_not_grow_with_the_page(alice, acme):
    def queries(n: int) -> int:
        Contract.objects.all().delete()
        for number in range(n):
            draft = create_draft(alice, acting_as=acme.id, title=f"c{number}")
            for account in ("13800000011", "13800000012"):
                alice.api.post(
                    f"/contracts/{draft['id']}/parties", {"kind": "person", "account": account}
                )
        with CaptureQueriesContext(connection) as captured:
            _box(alice, "drafts", acme.id)
        return len(captured.captured_queries)

    assert queries(2) == queries(12)


def test_enterprise_member_without_view_permission_sees_no_enterprise_box(sent, dave, globex):
    add_member(globex, dave, "member")  # members may view contracts
    assert _box(dave, "others_to_sign", globex.id)["total"] == 0
    assert _box(dave, "to_sign", globex.id)["total"] == 1
    assert Party.objects.filter(contract_id=sent["id"]).count() == 2


def test_unregistered_parties_sign_after_joining(verified_alice, charlie, dave):
    """A person invited by an address that has no account yet, and an enterprise that is not
    on PortSign yet, find the contract once they register and verify."""
    from portsign.accounts.models import User
    from tests.helpers import make_enterprise, make_person

    contract_id = create_draft(verified_alice)["id"]
    _party(verified_alice, contract_id, kind="person", account="newcomer@example.cn")
    _party(
        verified_alice,
        contract_id,
        kind="enterprise",
        account="13800000099",
        enterprise_name="Newport Shipping Co., Ltd.",
    )
    body = verified_alice.api.post(f"/contracts/{contract_id}/send").json()
    assert body["status"] == "signing"
    assert outbox("newcomer@example.cn")[-1].data["event"] == "to_sign"
    assert Party.objects.filter(user__isnull=True).count() == 2
    newcomer = make_person("newcomer@example.cn", "Newcomer Test")
    assert [c["id"] for c in _box(newcomer, "to_sign")["items"]] == [contract_id]
    owner = make_person("+8613800000099", "Newport Admin")
    newport = make_enterprise(owner, "Newport Shipping Co., Ltd.", 9)
    assert _box(owner, "others_to_sign", newport.id)["total"] == 1  # linked, waiting its turn
    assert (
        Party.objects.get(enterprise_name="Newport Shipping Co., Ltd.").enterprise_id == newport.id
    )
    assert User.objects.filter(email="newcomer@example.cn").exists()
