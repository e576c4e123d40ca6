"""A tenancy sweep generated from the OpenAPI (issue 11): every operation whose path names an
object, called with tenant A's real ids by three other tenants, answers exactly the 404 of a
missing object — and changes nothing.

Tenant A is Acme (alice its main administrator, dave an approver) plus alice's own objects: a
second enterprise still in verification, personal drafts, a signature, a personal certificate,
API and login-certificate bindings, and E-Port filings (a draft with a document, a declared one)
and an operator, reviewed by the Shanghai office. The intruders are bob acting as Globex's main
administrator, charlie (real-name verified, no enterprise, a reviewer of another authority) and
frank (a plain member of Initech); bob also
tries A's inner ids under his own outer object (/enterprises/{globex}/members/{acme's}, ...).
The ids are substituted from the schema's path templates, so a new endpoint joins the sweep by
itself, and one whose path parameter names nothing known here fails the test until it is added.
Writes carry a body built from the operation's request schema (required fields filled with
plausible values, A's ids where a field names one), so ninja's validation (422) is passed and
the answer is the object lookup's. Afterwards every row of every tenant's objects, the outbox
and the audit log are as before the sweep.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.utils import timezone

from portsign.accounts.models import ApiToken, PersonVerification
from portsign.api import api
from portsign.archive.models import ArchivedContract
from portsign.backoffice.models import Review
from portsign.billing.models import Invoice, Order, PaymentNotice, Usage, Wallet
from portsign.common.ids import new_id
from portsign.common.models import AuditEvent, Conversion, Notification, SandboxMessage
from portsign.contracts.models import (
    ApprovalRule,
    Attachment,
    BusinessField,
    Contract,
    ContractType,
    Involvement,
    Party,
    SealApproval,
    SigningBatch,
    SigningIntent,
    Version,
)
from portsign.contracts.template_models import (
    BulkSend,
    BulkSendRow,
    PartyFill,
    Template,
    TemplateArea,
    TemplateField,
    TemplateRole,
)
from portsign.enterprises.domain import invitations
from portsign.enterprises.models import (
    DepositVerification,
    Enterprise,
    Invitation,
    JoinRequest,
    LegalRepVerification,
    Membership,
    Role,
)
from portsign.eport.domain import cards as eport_cards
from portsign.eport.domain import filings as eport_filings
from portsign.eport.domain import reviews as eport_reviews
from portsign.eport.domain.authorities import add_reviewer, create_authority
from portsign.eport.models import (
    AgreementEvent,
    Authority,
    AutoConfirmation,
    District,
    Entrustment,
    EntrustmentEvent,
    Filing,
    FilingDocument,
    FilingEvent,
    JointReview,
    Operator,
    PaperlessAgreement,
    Reviewer,
)
from portsign.integrations.domain import keys
from portsign.integrations.domain.clients import register_client
from portsign.integrations.models import ApiKey, Binding
from portsign.pki.models import (
    CertificateApplication,
    CertificateAuthorization,
    CertificateMaterial,
    IssuedCertificate,
    LoginCertificate,
)
from portsign.seals.models import Seal, SealGrant, SealScan, SealUse
from portsign.webhooks.models import Delivery, Endpoint
from tests.accounts.test_certificate_login import issued, new_key
from tests.contracts.conftest import create_draft, give_certificate, pdf_bytes, upload
from tests.contracts.template_helpers import make_template
from tests.helpers import (
    Person,
    error_code,
    last_code,
    make_enterprise,
    make_person,
    synthetic_id_number,
    verify_person,
)
from tests.seals.conftest import add_member, seal_png
from tests.seals.test_extract import _scan, _stamp

PREFIX = "/api/v1"
PARAM = re.compile(r"\{(\w+)\}")
SCHEMA = api.get_openapi_schema()
COMPONENTS = SCHEMA["components"]["schemas"]

# Operations with an id in the path that are not a cross-tenant 404 by design. Each is named
# with its reason; the test checks that this list names operations that exist.
OUT_OF_SCOPE = {
    # Anyone signed in (and real-name verified) may apply to join a verified enterprise: the
    # enterprise id is found through GET /enterprises/search, which lists verified ones.
    ("POST", "/enterprises/{enterprise_id}/join-requests"): "open to every signed-in person",
    # A filing kind's form is the same for everybody: the path names a kind, not an object.
    ("GET", "/eport/forms/{kind}"): "names no object: the same form for everyone",
}

# Operations swept whose answer to an intruder is, by design, not a 404. The invitation's path
# holds no object id but the secret token sent to one address (a capability, like the public
# verification by token): whoever holds the link may open it, and a signed-in holder who is not
# the addressee is told which (masked) address to sign in with. A missing token is a 404.
BY_DESIGN = {
    ("POST", "/invitations/{token}/accept"): (409, "invitation_not_yours"),
}

# What a write needs in its body to get past ninja's validation (422) to the object lookup,
# for operations that read a body the schema does not describe.
UNDOCUMENTED_BODIES = {
    ("POST", "/enterprises/{enterprise_id}/seals"): ("json", {"type": "contract"}),
    ("POST", "/seals/{seal_id}/image"): ("multipart", {"file": "png"}),
    ("POST", "/enterprises/{enterprise_id}/seal-scans"): (
        "multipart",
        {"file": "jpeg", "type": "contract"},
    ),
}

# Optional body fields filled in all the same: without them the body is refused (400) before the
# object is looked up, for a missing id as well, and the probe would prove nothing.
REACH = {"acting_as", "member_ids", "comment"}

# Cross-tenant answers other than 404 found by this sweep and not yet fixed: (intruder, method,
# path template, status). Listed so the test fails until each is fixed (then delete the entry).
KNOWN_LEAKS: set[tuple[str, str, str, int]] = set()

# GETs the owner answers with something else than 2xx, with the reason (so the sweep's ids are
# known to name real objects everywhere else).
OWNER_GET_NOT_2XX: dict[tuple[str, str], int] = {
    # Acme was verified by a transfer: it has no letter and no legal-representative check (the
    # enterprise in verification has both, and is swept with them).
    ("/enterprises/{enterprise_id}/verification/letter", ""): 404,
    ("/enterprises/{enterprise_id}/verification/legal-rep", ""): 404,
    # Nor a manual review, which needs a failed method; the enterprise in verification has its
    # letter under review, which a manual review would not be asked beside.
    ("/enterprises/{enterprise_id}/verification/manual-review", ""): 404,
    ("/enterprises/{enterprise_id}/verification/manual-review", "enterprise in verification"): 404,
    # The evidence report exists once a contract is completed.
    ("/contracts/{contract_id}/evidence.pdf", ""): 409,
    ("/contracts/{contract_id}/evidence.pdf", "draft"): 409,
    ("/contracts/{contract_id}/evidence.pdf", "personal draft"): 409,
    # So does the offline evidence package.
    ("/contracts/{contract_id}/evidence-package", ""): 409,
    ("/contracts/{contract_id}/evidence-package", "draft"): 409,
    ("/contracts/{contract_id}/evidence-package", "personal draft"): 409,
    # A palette is the acting party's, while the contract is being signed.
    ("/contracts/{contract_id}/palette", "completed"): 409,
    ("/contracts/{contract_id}/palette", "draft"): 409,
    ("/contracts/{contract_id}/palette", "personal draft"): 409,
    # A card's courier form exists once the office has mailed the card.
    ("/eport/cards/{card_id}/courier-form.pdf", ""): 409,
}


# -- tenant A ------------------------------------------------------------------------------------


@dataclass
class Intruder:
    label: str
    person: Person
    acting_as: str  # an enterprise id, or "personal"
    own: dict[str, str] = field(default_factory=dict)  # path parameter → the caller's object


@dataclass
class TenantA:
    ids: dict[str, str]  # path parameter → the primary object of that kind
    alternatives: list[tuple[str, dict[str, str]]]  # further objects of the same kinds
    owner: Person


def _files() -> dict[str, tuple[str, bytes]]:
    out = io.StringIO()
    csv.writer(out).writerows(
        [["vessel", "箱量", "乙方.account"], ["演示轮 V.009", "many", "dave@example.cn"]]
    )
    jpeg = io.BytesIO()
    _stamp().convert("RGB").save(jpeg, format="JPEG")
    return {
        "png": ("probe.png", seal_png()),
        "jpeg": ("probe.jpg", jpeg.getvalue()),
        "pdf": ("probe.pdf", pdf_bytes(1, label="Probe")),
        "csv": ("rows.csv", out.getvalue().encode()),
    }


def _post_files(person: Person, path: str, **fields: Any):
    return person.api.client.post(
        PREFIX + path, fields, headers={"Authorization": f"Bearer {person.token}"}
    )


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.content
    return response.json() if response.content else {}


def build_tenant_a(alice: Person) -> TenantA:
    acme = make_enterprise(alice, "Acme Port Logistics Co., Ltd.", 1)
    pending = make_enterprise(alice, "Acme Draft Warehousing Co., Ltd.", 9, verified=False)
    dave = make_person("+8613800000004", "Dave Test")
    dave_member = add_member(acme, dave, "approver")
    erin = verify_person(make_person("+8613800000005", "Erin Test"), 5)
    join = _ok(erin.api.post(f"/enterprises/{acme.id}/join-requests", {"reason": "I work here"}))
    role = _ok(
        alice.api.post(
            f"/enterprises/{acme.id}/roles", {"name": "Clerk", "permissions": ["view_contracts"]}
        )
    )
    _invitation, invitation_token = invitations.invite_member(
        actor=alice.user, enterprise_id=acme.id, account="+8613800000008"
    )

    # The enterprise still in verification: materials, the letter under review, a transfer and
    # a legal-representative check under way, so that every verification GET finds something.
    files = _files()
    _ok(
        alice.api.client.post(
            f"{PREFIX}/enterprises/{pending.id}/materials",
            {
                "licence": SimpleUploadedFile(*files["png"]),
                "id_front": SimpleUploadedFile(*files["png"]),
                "id_back": SimpleUploadedFile(*files["jpeg"]),
                "legal_rep_id_number": synthetic_id_number(90),
            },
            headers={"Authorization": f"Bearer {alice.token}"},
        ),
        200,
    )
    _ok(
        alice.api.client.post(
            f"{PREFIX}/enterprises/{pending.id}/verification/letter",
            {"letter": SimpleUploadedFile(*files["pdf"])},
            headers={"Authorization": f"Bearer {alice.token}"},
        )
    )
    _ok(
        alice.api.post(
            f"/enterprises/{pending.id}/verification",
            {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": "62220000990001"},
        ),
        200,
    )
    _ok(
        alice.api.post(
            f"/enterprises/{pending.id}/verification/legal-rep",
            {
                "method": "carrier3",
                "legal_rep_id_number": synthetic_id_number(90),
                "phone": "+8613800000077",
            },
        )
    )
    pending_member = Membership.objects.get(enterprise=pending, user=alice.user)
    pending_role = Role.objects.get(enterprise=pending, key="member")

    # Certificates, seals and a scan.
    acme_certificate = give_certificate(alice, acme)
    personal_certificate = give_certificate(alice)
    seal = _ok(alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "contract"}))["id"]
    _ok(alice.api.post(f"/seals/{seal}/holders", {"member_ids": [dave_member.id]}), 200)
    signature = _ok(alice.api.post("/me/signatures", {"source": "generate"}))["id"]
    scan = _ok(
        upload(alice, f"/enterprises/{acme.id}/seal-scans", _scan(_stamp()), "f.jpg", type="hr"),
        202,
    )["id"]
    _ok(alice.api.post(f"/enterprises/{acme.id}/certificate-authorizations"))

    # Catalogue: a contract type and a business field; a webhook that sees what follows.
    contract_type = _ok(
        alice.api.post(f"/enterprises/{acme.id}/contract-types", {"name": "理货合同"})
    )["id"]
    business_field = _ok(
        alice.api.post(
            f"/enterprises/{acme.id}/business-fields", {"key": "po", "label": "PO number"}
        )
    )["id"]
    endpoint = _ok(
        alice.api.post(f"/enterprises/{acme.id}/webhooks", {"url": "http://127.0.0.1:9/hook"})
    )["id"]

    # Contracts: a draft (with an attachment), a personal draft, and one sent with Acme first,
    # its signing intent asked for, then its seal put under approval and the approval asked; and
    # one Acme alone signed (completed, before the approval rule).
    draft = create_draft(alice, acting_as=acme.id)["id"]
    draft_party = _ok(
        alice.api.post(f"/contracts/{draft}/parties", {"kind": "person", "account": "13800000004"})
    )["id"]
    _ok(
        _post_files(
            alice,
            f"/contracts/{draft}/attachments",
            file=SimpleUploadedFile(*files["pdf"]),
            name="附件",
        )
    )
    personal = create_draft(alice)["id"]
    personal_party = _ok(
        alice.api.post(
            f"/contracts/{personal}/parties", {"kind": "person", "account": "dave@example.cn"}
        )
    )["id"]
    marks = [{"seal_id": seal, "page": 1, "x": 0.6, "y": 0.7, "width": 0.2}]
    completed = create_draft(alice, acting_as=acme.id)["id"]
    completed_party = _ok(
        alice.api.post(
            f"/contracts/{completed}/parties",
            {"kind": "enterprise", "account": "13800000001", "enterprise_name": acme.name},
        )
    )["id"]
    _ok(alice.api.post(f"/contracts/{completed}/send"), 200)
    _ok(
        alice.api.post(
            f"/contracts/{completed}/sign/codes", {"acting_as": acme.id, "marks": marks}
        ),
        202,
    )
    signed = alice.api.post(
        f"/contracts/{completed}/sign",
        {"acting_as": acme.id, "marks": marks, "code": last_code(alice.account)},
    )
    assert _ok(signed, 200)["status"] == "completed"
    sent = create_draft(alice, acting_as=acme.id)["id"]
    _ok(
        alice.api.post(
            f"/contracts/{sent}/parties",
            {"kind": "enterprise", "account": "13800000001", "enterprise_name": acme.name},
        )
    )
    sent_party = _ok(
        alice.api.post(f"/contracts/{sent}/parties", {"kind": "person", "account": "13800000004"})
    )["id"]
    _ok(alice.api.post(f"/contracts/{sent}/send"), 200)
    intent = _ok(
        alice.api.post(f"/contracts/{sent}/sign/codes", {"acting_as": acme.id, "marks": marks}),
        202,
    )["intent_id"]
    rule = _ok(alice.api.post(f"/enterprises/{acme.id}/approval-rules", {"seal_id": seal}))["id"]
    approval = _ok(
        alice.api.post(
            f"/contracts/{sent}/approvals",
            {"acting_as": acme.id, "seal_id": seal, "note": "请审批"},
        )
    )["id"]
    delivery = Delivery.objects.filter(endpoint_id=endpoint).order_by("created_at").first()
    assert delivery is not None, "the webhook saw no event"

    # A template and a bulk send from it (its one row refused, so nothing more is sent).
    template = make_template(alice, acme)["id"]
    job = _ok(
        alice.api.client.post(
            f"{PREFIX}/templates/{template}/bulk-sends",
            {"file": SimpleUploadedFile(*files["csv"])},
            headers={"Authorization": f"Bearer {alice.token}"},
        ),
        202,
    )["id"]

    # E-Port: Acme (Shanghai, 310000) files with the Shanghai office, reviewed by hank: a draft
    # 三证合一 with a document, a declared customs filing, and an operator in the register.
    national = create_authority(kind="office", code="100000", name="数据中心", parent=None)
    shanghai = create_authority(kind="office", code="310000", name="上海分中心", parent=national)
    hank = make_person("+8613800000011", "Hank Test")
    add_reviewer(authority=shanghai, user=hank.user)
    eport_draft = eport_filings.create(
        actor=alice.user, enterprise_id=acme.id, kind="enterprise_info", data={}
    )
    eport_document = _ok(
        _post_files(
            alice,
            f"/eport/filings/{eport_draft.id}/documents",
            file=SimpleUploadedFile(*files["png"]),
            type="business_licence",
        )
    )["id"]
    eport_declared = eport_filings.create(
        actor=alice.user, enterprise_id=acme.id, kind="customs", data={"customs_code": "2201960001"}
    )
    eport_filings.declare(actor=alice.user, filing_id=eport_declared.id)
    operator_data = {
        "card_medium": "ikey",
        "name": "张三丰",
        "sex": "male",
        "id_type": "resident_id",
        "id_number": synthetic_id_number(70, birth="19880512"),
        "birth_date": "1988-05-12",
        "nationality": "中国",
        "position": "报关主管",
        "household_address": "上海市浦东新区1号",
        "user_address": "上海市浦东新区1号",
        "postcode": "200120",
        "email": "operator@example.cn",
        "phone": "021-66000001",
    }
    operator_filing = eport_filings.create(
        actor=alice.user, enterprise_id=acme.id, kind="operator", data=operator_data
    )
    eport_filings.declare(actor=alice.user, filing_id=operator_filing.id)
    eport_reviews.decide(
        actor=hank.user, filing_id=operator_filing.id, approve=True, opinion="同意"
    )
    assert Operator.objects.filter(enterprise=acme).count() == 1
    # Its onboarding approved (rows only: the sweep needs the card, not the review), and its
    # legal-person card, issued by hank on a token.
    for kind in ("enterprise_info", "customs", "forex", "commerce"):
        Filing.objects.create(
            enterprise=acme,
            kind=kind,
            status="approved",
            authority=shanghai,
            created_by=alice.user,
            decided_at=timezone.now(),
        )
    card = eport_cards.issue(actor=hank.user, enterprise_id=acme.id, holder="legal_person")
    # A paperless agreement of Acme's with 青岛海关 and a declaration entrustment to the other
    # enterprise (rows only, with the agreement's PDF in storage: the sweep needs ids).
    qingdao, _made = District.objects.get_or_create(code="4200", defaults={"name": "青岛海关"})
    agreement = PaperlessAgreement.objects.create(
        enterprise=acme,
        district=qingdao,
        status="sent_to_customs",
        card=card,
        signed_by=alice.user,
        path=default_storage.save(f"eport/agreements/{new_id()}.pdf", ContentFile(pdf_bytes(1))),
        sha256="0" * 64,
        size=1,
    )
    entrustment = Entrustment.objects.create(
        number="4200202612040000001",
        consignor=acme,
        broker=pending,
        initiator="consignor",
        district=qingdao,
        valid_until=timezone.localdate() + dt.timedelta(days=30),
        status="awaiting_confirmation",
        contract=Contract.objects.get(pk=completed),
        created_by=alice.user,
        initiator_card=card,
    )

    # Alice's own API token and login certificate.
    _ok(alice.api.post("/auth/tokens", {"name": "ci"}))
    token = ApiToken.objects.get(user=alice.user, name="ci").id
    binding = issued(alice, new_key())["id"]
    # A Word conversion of hers (its row is all a lookup needs).
    conversion = Conversion.objects.create(owner=alice.user, name="a.docx", source_path="x").id
    # A signing area on her draft, and a batch of hers waiting for its code.
    area = _ok(
        alice.api.post(
            f"/contracts/{draft}/areas",
            {
                "party_id": draft_party,
                "kind": "seal",
                "page": 1,
                "x": 0.6,
                "y": 0.7,
                "width": 0.2,
                "height": 0.12,
            },
        )
    )["id"]
    batch = SigningBatch.objects.create(
        user=alice.user,
        acting_as=acme.id,
        items=[],
        digest="0" * 64,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    ).id

    # An API key of Acme's and a platform binding of alice's (issue 16).
    api_key = keys.create_key(
        actor=alice.user, enterprise_id=acme.id, name="sweep", scopes=["contracts:read"]
    )[0]
    platform = register_client(name="EDI", redirect_uris=["https://edi.example.cn/cb"])
    binding = Binding.objects.create(
        user=alice.user, enterprise=acme, application=platform.application, scopes=["binding"]
    )

    # A contract of Acme's signed outside PortSign, in its archive cabinet (issue 16).
    archived = ArchivedContract.objects.create(
        enterprise=acme,
        uploaded_by=alice.user,
        title="纸质堆存协议",
        counterparties=["演示堆场"],
        counterparty_text="演示堆场",
        signed_on=timezone.localdate(),
        document=Contract.objects.get(pk=completed).body,
    )

    # Departments of Acme's and of the pending enterprise, each with a member (issue 16).
    from portsign.enterprises.models import Department

    department = Department.objects.create(enterprise=acme, name="操作部")
    department.members.add(dave_member)
    pending_department = Department.objects.create(enterprise=pending, name="操作部")
    pending_department.members.add(pending_member)

    # A recharge order of Acme's (issue 16 point 3).
    from portsign.billing.domain import orders as billing_orders
    from portsign.billing.domain.catalogue import ensure_default_packages

    ensure_default_packages()
    order = billing_orders.create_order(
        actor=alice.user, package_id="corporate-10", enterprise_id=acme.id
    )

    ids = {
        "enterprise_id": acme.id,
        "order_id": order.id,
        "department_id": department.id,
        "member_id": dave_member.id,
        "role_id": role["id"],
        "request_id": join["id"],
        "token": invitation_token,
        "application_id": acme_certificate.id,
        "seal_id": seal,
        "scan_id": scan,
        "contract_id": sent,
        "party_id": sent_party,
        "intent_id": intent,
        "page": "1",
        "approval_id": approval,
        "rule_id": rule,
        "type_id": contract_type,
        "field_id": business_field,
        "endpoint_id": endpoint,
        "delivery_id": delivery.id,
        "template_id": template,
        "job_id": job,
        "token_id": token,
        "binding_id": binding,
        "conversion_id": conversion,
        "filing_id": eport_draft.id,
        "document_id": eport_document,
        "authority_id": shanghai.id,
        "area_id": area,
        "batch_id": batch,
        "card_id": card.id,
        "agreement_id": agreement.id,
        "entrustment_id": entrustment.id,
        "key_id": api_key.id,
        "platform_binding_id": binding.id,
        "item_id": archived.id,
    }
    alternatives = [
        (
            "enterprise in verification",
            {
                "enterprise_id": pending.id,
                "member_id": pending_member.id,
                "role_id": pending_role.id,
                "department_id": pending_department.id,
            },
        ),
        ("draft", {"contract_id": draft, "party_id": draft_party}),
        ("completed", {"contract_id": completed, "party_id": completed_party}),
        ("personal draft", {"contract_id": personal, "party_id": personal_party}),
        ("personal signature", {"seal_id": signature}),
        ("personal certificate", {"application_id": personal_certificate.id}),
        ("declared filing", {"filing_id": eport_declared.id}),
    ]
    return TenantA(ids=ids, alternatives=alternatives, owner=alice)


def build_intruders(bob: Person, charlie: Person) -> list[Intruder]:
    globex = make_enterprise(bob, "Globex Tally Co., Ltd.", 2)
    grace = make_person("+8613800000007", "Grace Test")
    initech = make_enterprise(grace, "Initech Shipping Agency Co., Ltd.", 7)
    frank = verify_person(make_person("+8613800000006", "Frank Test"), 6)
    add_member(initech, frank, "member")
    verify_person(charlie, 3)
    # charlie reviews for another authority (Hainan): a reviewer, but not of Acme's filings.
    hainan = create_authority(
        kind="office", code="460000", name="海南分中心", parent=Authority.objects.get(code="100000")
    )
    add_reviewer(authority=hainan, user=charlie.user)
    own = {
        "filing_id": eport_filings.create(
            actor=bob.user, enterprise_id=globex.id, kind="forex", data={}
        ).id,
        "enterprise_id": globex.id,
        "contract_id": create_draft(bob, acting_as=globex.id)["id"],
        "endpoint_id": _ok(
            bob.api.post(f"/enterprises/{globex.id}/webhooks", {"url": "http://127.0.0.1:9/b"})
        )["id"],
    }
    return [
        Intruder("globex-admin", bob, globex.id, own),
        Intruder("personal", charlie, "personal"),
        Intruder("initech-member", frank, initech.id),
    ]


# -- requests generated from the schema ---------------------------------------------------------


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:  # Optional[X]: the first non-null choice
        choices = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _resolve(choices[0])
    return schema


def _value(name: str, schema: dict, ids: dict[str, str], intruder: Intruder) -> Any:
    """A plausible value for a body field: tenant A's ids where the field names one (so a
    broken check would act on A's objects), otherwise something of the right type."""
    schema = _resolve(schema)
    plausible = {
        "acting_as": intruder.acting_as,
        "to_member_id": ids["member_id"],
        "member_id": ids["member_id"],
        "seal_id": ids["seal_id"],
        "code": "123456",
        "account": "+8613800000099",
        "amount": "0.01",
        "method": "carrier3",
        "kind": "person",
        "legal_rep_id_number": synthetic_id_number(99),
        "deadline": "2099-12-31T18:00:00+08:00",
        "url": "http://127.0.0.1:9/probe",
        "permissions": ["view_contracts"],
        "reason": "Tenancy probe",
        "comment": "Tenancy probe",
        "member_ids": [ids["member_id"]],
    }
    if name in plausible:
        return plausible[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return "2099-12-31T18:00:00+08:00" if schema.get("format") == "date-time" else "Probe"
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}[kind]


def _body(method: str, template: str, operation: dict, ids: dict[str, str], intruder: Intruder):
    """("json" | "multipart" | None, fields) for the operation's request body."""
    if (method, template) in UNDOCUMENTED_BODIES:
        assert "requestBody" not in operation, (method, template, "documented now")
        return UNDOCUMENTED_BODIES[method, template]
    content = operation.get("requestBody", {}).get("content", {})
    for kind, media in (("json", "application/json"), ("multipart", "multipart/form-data")):
        if media in content:
            schema = _resolve(content[media]["schema"])
            properties = schema.get("properties", {})
            wanted = set(schema.get("required", [])) | (REACH & set(properties))
            fields = {}
            for name in sorted(wanted):
                prop = _resolve(properties[name])
                if prop.get("format") == "binary":
                    fields[name] = "csv" if template.endswith("/bulk-sends") else "png"
                else:
                    fields[name] = _value(name, prop, ids, intruder)
            return kind, fields
    assert not content, (method, template, sorted(content))
    return None, None


def _query(operation: dict, intruder: Intruder) -> str:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    required = [
        p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and p["required"]
    ]
    assert set(required) <= {"acting_as"}, (operation["operationId"], required)
    if "acting_as" in names and intruder.acting_as != "personal":
        return f"?acting_as={intruder.acting_as}"
    return ""


def _call(person: Person, method: str, path: str, body, files: dict[str, tuple[str, bytes]]):
    kind, fields = body
    if kind == "multipart":
        data = {
            name: SimpleUploadedFile(*files[value])
            if isinstance(value, str) and value in files
            else value
            for name, value in fields.items()
        }
        assert method == "POST"
        return person.api.client.post(
            PREFIX + path, data, headers={"Authorization": f"Bearer {person.token}"}
        )
    return person.api.request(method, path, fields if kind == "json" else None)


def _code(response) -> str | None:
    if response["Content-Type"].startswith("application/json"):
        return error_code(response) if response.status_code >= 400 else None
    return None


def _operations() -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path.removeprefix(PREFIX), operation)
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
    ]


# -- A's state, to compare before and after -------------------------------------------------------

SNAPSHOT: list[type[Model]] = [
    Wallet,
    Order,
    Invoice,
    Usage,
    PaymentNotice,
    Enterprise,
    Role,
    Membership,
    JoinRequest,
    Invitation,
    DepositVerification,
    LegalRepVerification,
    Review,
    PersonVerification,
    CertificateApplication,
    CertificateAuthorization,
    CertificateMaterial,
    IssuedCertificate,
    LoginCertificate,
    Seal,
    SealGrant,
    SealUse,
    SealScan,
    ContractType,
    BusinessField,
    ApprovalRule,
    Contract,
    Party,
    Attachment,
    Version,
    Involvement,
    SigningIntent,
    SealApproval,
    PartyFill,
    Template,
    TemplateRole,
    TemplateField,
    TemplateArea,
    BulkSend,
    BulkSendRow,
    Endpoint,
    Delivery,
    Authority,
    Reviewer,
    Filing,
    FilingDocument,
    FilingEvent,
    JointReview,
    Operator,
    District,
    PaperlessAgreement,
    AgreementEvent,
    Entrustment,
    EntrustmentEvent,
    AutoConfirmation,
    ApiKey,
    Binding,
    ArchivedContract,
]


def snapshot(owner: Person) -> dict[str, Any]:
    state: dict[str, Any] = {
        model.__name__: list(model.objects.order_by("pk").values()) for model in SNAPSHOT
    }
    state["ApiToken"] = list(
        ApiToken.objects.filter(user=owner.user).order_by("pk").values("id", "name", "revoked_at")
    )
    state["messages"] = SandboxMessage.objects.count()
    state["notifications"] = Notification.objects.count()
    return copy.deepcopy(state)


# -- the sweep ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.BULK_SEND_RUNNER = "inline"


@dataclass
class Sweep:
    files: dict[str, tuple[str, bytes]]
    probes: int = 0
    answers: list[str] = field(default_factory=list)  # every answer that was not the expected one
    found: set[tuple[str, str, str, int]] = field(default_factory=set)

    def probe(self, intruder: Intruder, method: str, template: str, operation: dict, ids, label):
        body = _body(method, template, operation, ids, intruder)
        query = _query(operation, intruder)
        response = _call(intruder.person, method, _fill(template, ids) + query, body, self.files)
        self.probes += 1
        expected = BY_DESIGN.get((method, template), (404, "not_found"))
        if (response.status_code, _code(response)) == expected:
            return
        # Would a missing object get the same answer? Then the probe stopped before the lookup
        # (and must be made to reach it); otherwise the answer tells A's object exists.
        missing_ids = {name: new_id() for name in ids} | {"page": "1"}
        path = _fill(template, missing_ids) + query
        missing = _call(intruder.person, method, path, body, self.files)
        same = (missing.status_code, missing.content) == (response.status_code, response.content)
        self.found.add((intruder.label, method, template, response.status_code))
        self.answers.append(
            f"{intruder.label} {method} {template} [{label or 'primary'}] → "
            f"{response.status_code} {response.content[:200].decode(errors='replace')} "
            f"({'the same for a missing id' if same else f'a missing id: {missing.status_code}'})"
        )


def test_every_operation_with_an_id_is_a_404_to_every_other_tenant(alice, bob, charlie):
    operations = _operations()
    assert len(operations) == 252
    with_ids = [(m, p, o) for m, p, o in operations if PARAM.search(p)]
    assert len(with_ids) == 189
    # Public operations (no security) would be out of scope; none of them names an object.
    assert [(m, p) for m, p, o in with_ids if not o.get("security")] == []
    assert set(OUT_OF_SCOPE) | set(BY_DESIGN) | set(UNDOCUMENTED_BODIES) <= {
        (m, p) for m, p, _o in with_ids
    }
    swept = [(m, p, o) for m, p, o in with_ids if (m, p) not in OUT_OF_SCOPE]
    assert len(swept) == 187

    tenant = build_tenant_a(alice)
    intruders = build_intruders(bob, charlie)
    unknown = sorted({n for _m, p, _o in swept for n in PARAM.findall(p)} - set(tenant.ids))
    assert unknown == [], f"path parameters naming no object of tenant A: {unknown}"

    # Every GET finds its objects for their owner: the 404s below are not of missing things.
    owner_odd = {}
    for method, template, operation in swept:
        if method != "GET":
            continue
        for label, values in [("", {}), *_applicable(template, tenant)]:
            path = _fill(template, {**tenant.ids, **values}) + _owner_query(operation, tenant)
            response = tenant.owner.api.get(path)
            if not 200 <= response.status_code < 300:
                owner_odd[template, label] = response.status_code
    assert owner_odd == OWNER_GET_NOT_2XX

    before, audit_before = snapshot(tenant.owner), AuditEvent.objects.count()
    sweep, sweeps = Sweep(files=_files()), Counter()
    for method, template, operation in swept:
        for label, values in [("", {}), *_applicable(template, tenant)]:
            sweeps[label or "primary"] += 1
            for intruder in intruders:
                sweep.probe(intruder, method, template, operation, {**tenant.ids, **values}, label)
        # The intruder's own enterprise, contract or webhook around A's member, role, party,
        # signing intent or delivery: the outer id is the caller's, the inner one still A's.
        names = [n for n in PARAM.findall(template) if n != "page"]
        for intruder in intruders:
            if len(names) > 1 and names[0] in intruder.own:
                sweeps["own outer object"] += 1
                ids = {**tenant.ids, names[0]: intruder.own[names[0]]}
                sweep.probe(intruder, method, template, operation, ids, "own outer object")

    assert sweep.found == KNOWN_LEAKS, "\n".join(sweep.answers)
    assert sweeps == {
        "primary": 187,
        "enterprise in verification": 65,
        "draft": 29,
        "completed": 29,
        "personal draft": 29,
        "personal signature": 9,
        "personal certificate": 7,
        "declared filing": 7,
        "own outer object": 16,
    }
    assert sweep.probes == (187 + 65 + 29 + 29 + 29 + 9 + 7 + 7) * 3 + 16 == 1102
    # Nothing of anybody changed: no row of any tenant's objects, no message, no audit event.
    after = snapshot(tenant.owner)
    assert [name for name in before if before[name] != after[name]] == []
    assert AuditEvent.objects.count() == audit_before


def _applicable(template: str, tenant: TenantA) -> list[tuple[str, dict[str, str]]]:
    """The further objects an operation is swept with: those naming all its parameters."""
    params = set(PARAM.findall(template)) - {"page"}
    return [(label, alt) for label, alt in tenant.alternatives if params <= set(alt)]


def _fill(template: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda match: str(ids[match.group(1)]), template)


def _owner_query(operation: dict, tenant: TenantA) -> str:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    return f"?acting_as={tenant.ids['enterprise_id']}" if "acting_as" in names else ""
