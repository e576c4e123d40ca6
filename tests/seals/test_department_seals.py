"""Department seals (部门印章, seed 003): a seal of the enterprise held by one of its
departments, applied by that department's members; a department holding a seal stays."""

from __future__ import annotations

import pytest

from portsign.common.models import AuditEvent
from portsign.enterprises.models import Membership
from portsign.seals.domain import holders
from portsign.seals.models import Seal, SealUse
from tests.contracts.conftest import create_draft, give_certificate
from tests.helpers import Api, error_code, last_code, make_person
from tests.seals.conftest import add_member


def _department(person, enterprise, name: str = "操作部") -> str:
    response = person.api.post(f"/enterprises/{enterprise.id}/departments", {"name": name})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _join(person, enterprise, department_id: str, member: Membership) -> None:
    response = person.api.request(
        "PUT", f"/enterprises/{enterprise.id}/departments/{department_id}/members/{member.id}"
    )
    assert response.status_code == 200, response.content


def _give(person, seal_id: str, department_id: str):
    return person.api.patch(f"/seals/{seal_id}", {"department_id": department_id})


@pytest.fixture
def erin():
    return make_person("+8613800000005", "Erin Test")


@pytest.fixture
def setup(alice, bob, dave, erin, acme):
    """Acme's contract seal held by its operations department, which bob (a signer) and erin
    (a plain member) belong to; dave is a signer outside it."""
    seal = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "contract"}).json()["id"]
    # Only the department holds it: the creator's own grant is handed back.
    holders.remove(actor=alice.user, seal_id=seal, member_ids=[_admin(acme).id], role_ids=[])
    dept = _department(alice, acme)
    given = _give(alice, seal, dept)
    assert given.status_code == 200, given.content
    assert given.json()["department_id"] == dept
    bob_member = add_member(acme, bob, "signer")
    erin_member = add_member(acme, erin, "member")
    dave_member = add_member(acme, dave, "signer")
    for member in (bob_member, erin_member):
        _join(alice, acme, dept, member)
    return {"seal": seal, "dept": dept, "bob": bob_member, "erin": erin_member, "dave": dave_member}


def _admin(enterprise) -> Membership:
    return Membership.objects.get(enterprise=enterprise, user_id=enterprise.main_admin_id)


def test_the_department_and_its_seal(alice, acme, setup):
    listed = alice.api.get(f"/enterprises/{acme.id}/departments").json()
    held = {"id": setup["seal"], "name": "合同专用章", "type": "contract", "status": "active"}
    assert [(d["name"], d["member_count"], d["seals"]) for d in listed] == [("操作部", 2, [held])]
    assert Seal.objects.get(pk=setup["seal"]).department_id == setup["dept"]
    event = AuditEvent.objects.filter(action="seal.updated", object_id=setup["seal"]).get()
    assert event.data == {"department": setup["dept"]}


def test_members_of_the_department_with_use_seals_may_apply_it(acme, setup):
    seal = Seal.objects.get(pk=setup["seal"])
    bob, erin, dave = (Membership.objects.get(pk=setup[k].pk) for k in ("bob", "erin", "dave"))
    assert [s.id for s in holders.usable_seals(bob)] == [seal.id]
    assert holders.may_use(seal, bob) is True
    # In the department but not allowed to apply seals; allowed, but outside the department.
    assert (holders.may_use(seal, erin), list(holders.usable_seals(erin))) == (False, [])
    assert (holders.may_use(seal, dave), list(holders.usable_seals(dave))) == (False, [])
    # A disabled member stops holding it; so does one taken out of the department.
    Membership.objects.filter(pk=bob.pk).update(is_active=False)
    bob.refresh_from_db()
    assert holders.may_use(seal, bob) is False


def _contract(alice, acme) -> str:
    contract = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000001", "enterprise_name": acme.name},
    )
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    return contract["id"]


def _marks(seal_id: str) -> list[dict]:
    return [{"seal_id": seal_id, "page": 1, "x": 0.6, "y": 0.7, "width": 0.2}]


def test_a_department_member_signs_with_it_and_an_outsider_cannot(alice, bob, dave, acme, setup):
    give_certificate(alice, acme)
    contract_id = _contract(alice, acme)
    palette = bob.api.get(f"/contracts/{contract_id}/palette?acting_as={acme.id}").json()
    assert [item["id"] for item in palette] == [setup["seal"]]
    assert dave.api.get(f"/contracts/{contract_id}/palette?acting_as={acme.id}").json() == []

    outsider = Api(dave.token, language="en").post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": acme.id, "marks": _marks(setup["seal"])},
    )
    assert outsider.status_code == 400
    assert error_code(outsider) == "marks_invalid"
    assert outsider.json()["error"]["message"] == (
        f"You may not apply this seal or signature: {setup['seal']}."
    )

    marks = _marks(setup["seal"])
    asked = bob.api.post(
        f"/contracts/{contract_id}/sign/codes", {"acting_as": acme.id, "marks": marks}
    )
    assert asked.status_code == 202, asked.content
    signed = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "code": last_code(bob.account), "marks": marks},
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "completed"
    use = SealUse.objects.get(subject_id=contract_id)
    assert (use.seal_id, use.user_id) == (setup["seal"], bob.user.id)


def test_leaving_the_department_ends_the_holding(alice, acme, setup):
    response = alice.api.delete(
        f"/enterprises/{acme.id}/departments/{setup['dept']}/members/{setup['bob'].id}"
    )
    assert response.status_code == 204
    assert list(holders.usable_seals(Membership.objects.get(pk=setup["bob"].pk))) == []


def test_a_department_holding_a_seal_is_not_deleted(alice, acme, setup):
    en = Api(alice.token, language="en")
    path = f"/enterprises/{acme.id}/departments/{setup['dept']}"
    refused = en.delete(path)
    assert refused.status_code == 409
    assert error_code(refused) == "department_holds_seals"
    assert refused.json()["error"]["message"] == (
        "This department holds 1 seal(s). Give them to the enterprise or another department, "
        "or delete them, first."
    )
    # A disabled seal is still held.
    assert alice.api.patch(f"/seals/{setup['seal']}", {"status": "disabled"}).status_code == 200
    assert error_code(en.delete(path)) == "department_holds_seals"
    # Given back to the enterprise, the department goes.
    back = _give(alice, setup["seal"], "")
    assert back.json()["department_id"] is None
    assert en.delete(path).status_code == 204


def test_a_deleted_seal_no_longer_keeps_its_department(alice, acme, setup):
    assert alice.api.delete(f"/seals/{setup['seal']}").status_code == 204
    response = alice.api.delete(f"/enterprises/{acme.id}/departments/{setup['dept']}")
    assert response.status_code == 204


def test_only_a_department_of_the_seals_enterprise_holds_it(
    alice, bob, charlie, acme, globex, setup
):
    theirs = _department(bob, globex)
    en = Api(alice.token, language="en")
    response = en.patch(f"/seals/{setup['seal']}", {"department_id": theirs})
    assert response.status_code == 400
    assert error_code(response) == "department_invalid"
    assert response.json()["error"]["fields"] == {
        "department_id": "Choose a department of this enterprise."
    }
    assert Seal.objects.get(pk=setup["seal"]).department_id == setup["dept"]
    # A stranger to Acme reaches neither its seal nor its department.
    assert _give(charlie, setup["seal"], "").status_code == 404
    assert Seal.objects.get(pk=setup["seal"]).department_id == setup["dept"]


def test_giving_a_seal_to_a_department_takes_manage_seals(bob, acme, setup):
    response = _give(bob, setup["seal"], "")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert Seal.objects.get(pk=setup["seal"]).department_id == setup["dept"]


def test_a_personal_signature_has_no_department(alice, acme, setup):
    from tests.helpers import verify_person

    verify_person(alice, 1)
    signature = alice.api.post("/me/signatures", {"source": "generate"}).json()["id"]
    response = _give(alice, signature, setup["dept"])
    assert response.status_code == 400
    assert error_code(response) == "signature_not_shared"


# -- the department's own certificate ------------------------------------------------------------


def _department_certificate(alice, acme, department_id: str) -> dict:
    from portsign.pki.ca import init_hierarchy
    from tests.pki.certificate_helpers import apply

    init_hierarchy()
    response = apply(alice, acme, department_id=department_id)
    assert response.status_code == 201, response.content
    return response.json()


def _subject(application_id: str) -> list[tuple[str, str]]:
    from cryptography import x509

    from portsign.pki.models import CertificateApplication

    pem = CertificateApplication.objects.get(pk=application_id).certificate.certificate_pem
    subject = x509.load_pem_x509_certificate(pem.encode()).subject
    return [(a.rfc4514_attribute_name, str(a.value)) for a in subject]


def test_a_department_certificate_names_the_department(alice, acme, setup):
    from tests.helpers import verify_person

    verify_person(alice, 1)
    issued = _department_certificate(alice, acme, setup["dept"])
    assert (issued["status"], issued["department_id"]) == ("issued", setup["dept"])
    assert _subject(issued["id"]) == [
        ("C", "CN"),
        ("O", acme.name),
        ("OU", "操作部"),
        ("CN", acme.name),
        ("2.5.4.97", f"NTRCN-{acme.uscc}"),
    ]
    from portsign.pki.applications import signing_certificate

    # The enterprise's own certificate is never the department's, nor the reverse.
    assert signing_certificate(enterprise_id=acme.id) is None
    found = signing_certificate(enterprise_id=acme.id, department_id=setup["dept"])
    assert found is not None
    assert found.application.id == issued["id"]


def test_an_unknown_department_gets_no_certificate(alice, bob, acme, globex, setup):
    from tests.helpers import verify_person

    verify_person(alice, 1)
    theirs = _department(bob, globex)
    from tests.pki.certificate_helpers import apply

    response = apply(alice, acme, department_id=theirs)
    assert response.status_code == 400
    assert error_code(response) == "department_invalid"


def _signed_with(contract_id: str) -> list[str]:
    event = AuditEvent.objects.get(action="contract.party_signed", object_id=contract_id)
    return event.data["certificates"].split(",")


def test_a_department_seal_signs_with_the_department_certificate(alice, bob, acme, setup, api):
    from tests.helpers import verify_person

    verify_person(alice, 1)
    enterprise = give_certificate(alice, acme)
    department = _department_certificate(alice, acme, setup["dept"])
    # The department's seal and Acme's official seal in one act: one signature each.
    official = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "official"}).json()
    holders.grant(
        actor=alice.user, seal_id=official["id"], member_ids=[setup["bob"].id], role_ids=[]
    )
    contract_id = _contract(alice, acme)
    marks = [
        *_marks(setup["seal"]),
        {"seal_id": official["id"], "page": 2, "x": 0.6, "y": 0.7, "width": 0.2},
        {"date": True, "page": 1, "x": 0.62, "y": 0.92, "width": 0.16},
    ]
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": acme.id, "marks": marks})
    signed = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "code": last_code(bob.account), "marks": marks},
    )
    assert signed.status_code == 200, signed.content
    ids = _signed_with(contract_id)
    from portsign.pki.models import CertificateApplication

    department_cert = CertificateApplication.objects.get(pk=department["id"]).certificate_id
    assert ids == [enterprise.certificate_id, department_cert]

    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    report = api.client.post(
        "/api/v1/verify", {"file": SimpleUploadedFile("signed.pdf", pdf)}
    ).json()
    assert (report["intact"], report["valid"]) == (True, True)
    approvals = [s for s in report["signatures"] if s["kind"] != "timestamp"]
    assert [(s["enterprise"], s["valid"]) for s in approvals] == [
        (acme.name, True),
        (acme.name, True),
    ]


def test_without_its_own_certificate_a_department_seal_signs_with_the_enterprises(
    alice, bob, acme, setup
):
    enterprise = give_certificate(alice, acme)
    contract_id = _contract(alice, acme)
    marks = _marks(setup["seal"])
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": acme.id, "marks": marks})
    signed = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "code": last_code(bob.account), "marks": marks},
    )
    assert signed.status_code == 200, signed.content
    assert _signed_with(contract_id) == [enterprise.certificate_id]


def test_with_only_the_department_certificate_a_department_seal_still_signs(
    alice, bob, acme, setup
):
    from tests.helpers import verify_person

    verify_person(alice, 1)
    department = _department_certificate(alice, acme, setup["dept"])
    contract_id = _contract(alice, acme)
    marks = [*_marks(setup["seal"]), {"date": True, "page": 1, "x": 0.62, "y": 0.92, "width": 0.16}]
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": acme.id, "marks": marks})
    signed = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": acme.id, "code": last_code(bob.account), "marks": marks},
    )
    assert signed.status_code == 200, signed.content
    from portsign.pki.models import CertificateApplication

    assert _signed_with(contract_id) == [
        CertificateApplication.objects.get(pk=department["id"]).certificate_id
    ]
