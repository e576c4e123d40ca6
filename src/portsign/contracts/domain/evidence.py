"""The evidence report (出证报告, issue 6 §6; issue 13 item 13): what a court needs, in one PDF
signed by PortSign.

It states the contract, each party with the basis on which PortSign knew who they were (method
and time; ID numbers masked), the certificates used with their serials, issuers and current
status, every signature and timestamp found in the final document, the SHA-256 of every
version of the document, the contract's audit trail in words (trail.describe) and its position
in the hash-chained audit log. Every code is shown in words of the report's language; no raw
audit data. evidence_pdf draws it as a text PDF; it is then signed with the platform
certificate and given a document timestamp (pades.archive), so it verifies like any contract.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.cn_ids import mask_id_number
from portsign.common.errors import Conflict
from portsign.common.models import AuditEvent
from portsign.common.text_pdf import Document, Grid, Section
from portsign.contracts.domain import documents, trail
from portsign.contracts.domain.contracts import visible_contract
from portsign.contracts.domain.evidence_pdf import render
from portsign.contracts.enums import ContractStatus, PartyKind
from portsign.contracts.models import Contract, Party, Version
from portsign.pki import pades
from portsign.pki.anchors import verify_log
from portsign.pki.models import IssuedCertificate
from portsign.pki.platform import PLATFORM_NAME, platform_certificate_id

REPORTABLE = (ContractStatus.COMPLETED, ContractStatus.VOIDED)
FIELD_NAME = "PortSign-Evidence"

ENTERPRISE_METHODS: dict[str, Promise] = {
    "micro_deposit": pgettext_lazy("verification method", "Micro-deposit to the corporate account"),
    "reverse_deposit": pgettext_lazy("verification method", "Payment from the corporate account"),
    "legal_rep_carrier3": pgettext_lazy(
        "verification method", "Legal representative's mobile carrier check"
    ),
    "legal_rep_face": pgettext_lazy(
        "verification method", "Legal representative's face recognition"
    ),
    "authorization_letter": pgettext_lazy(
        "verification method", "Stamped authorization letter (manual review)"
    ),
    "manual_review": pgettext_lazy("verification method", "Manual review of the materials"),
}
PERSON_METHODS: dict[str, Promise] = {
    "carrier3": pgettext_lazy("verification method", "Mobile carrier check"),
    "bank4": pgettext_lazy("verification method", "Bank card check"),
    "face": pgettext_lazy("verification method", "Face recognition"),
}
CERTIFICATE_STATUSES: dict[str, Promise] = {
    "valid": pgettext_lazy("certificate status", "Good"),
    "good": pgettext_lazy("certificate status", "Good"),
    "suspended": pgettext_lazy("certificate status", "Suspended"),
    "revoked": pgettext_lazy("certificate status", "Revoked"),
    "untrusted": pgettext_lazy("certificate status", "Untrusted"),
}
SIGNATURE_KINDS: dict[str, Promise] = {
    "approval": pgettext_lazy("signature kind", "Signature"),
    "certification": pgettext_lazy("signature kind", "Certification signature"),
    "timestamp": pgettext_lazy("signature kind", "Document timestamp"),
}
VERSION_KINDS: dict[str, Promise] = {
    Version.Kind.PREPARED: pgettext_lazy("version", "As sent for signing"),
    Version.Kind.FILLED: pgettext_lazy("version", "Fields filled in"),
    Version.Kind.SIGNED: pgettext_lazy("version", "Signed"),
    Version.Kind.ARCHIVED: pgettext_lazy("version", "Archived (validation data and timestamp)"),
}


def _words(table: dict[str, Promise], code: str) -> str:
    """A code in words; an unknown code as itself (nothing hidden), none as a dash."""
    if not code:
        return "—"
    label = table.get(code)
    return str(label) if label is not None else code


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


def _party_name(party: Party) -> str:
    if party.kind == PartyKind.ENTERPRISE:
        return party.enterprise.name if party.enterprise else party.enterprise_name
    return party.signed_by.name if party.signed_by else (party.user.name if party.user else "")


def _contract_section(contract: Contract) -> Section:
    sender = contract.sender_enterprise.name if contract.sender_enterprise else contract.sender.name
    rows = [
        (pgettext("evidence report", "Contract number"), contract.number),
        (pgettext("evidence report", "Contract ID"), contract.id),
        (pgettext("evidence report", "Contract title"), contract.title),
        (pgettext("evidence report", "Sent by"), sender),
        (pgettext("evidence report", "Status"), contract.get_status_display()),
        (pgettext("evidence report", "Sent at"), _when(contract.sent_at)),
        (pgettext("evidence report", "Completed at"), _when(contract.completed_at)),
        (pgettext("evidence report", "SHA-256 of the original document"), contract.body.sha256),
        (pgettext("evidence report", "SHA-256 of the final document"), contract.current.sha256),
    ]
    for attachment in contract.attachments.select_related("document").order_by("position"):
        rows.append(
            (
                pgettext("evidence report", "SHA-256 of attachment “%(name)s”")
                % {"name": attachment.name},
                attachment.document.sha256,
            )
        )
    return Section(pgettext("evidence report", "1. The contract"), [Grid(rows)])


def _party_grid(party: Party) -> Grid:
    rows = [
        (
            pgettext("evidence report", "Signing order"),
            f"{party.position}（{party.get_kind_display()}）",
        )
    ]
    if party.kind == PartyKind.ENTERPRISE:
        enterprise = party.enterprise
        rows.append((pgettext("evidence report", "Enterprise"), _party_name(party)))
        if enterprise is not None:
            rows += [
                (pgettext("evidence report", "Unified social credit code"), enterprise.uscc),
                (
                    pgettext("evidence report", "Enterprise verified by"),
                    _words(ENTERPRISE_METHODS, enterprise.verification_method),
                ),
                (
                    pgettext("evidence report", "Enterprise verified at"),
                    _when(enterprise.verified_at),
                ),
            ]
    signer: User | None = party.signed_by
    if signer is not None:
        rows += [
            (pgettext("evidence report", "Signed by"), signer.name),
            (
                pgettext("evidence report", "ID number"),
                mask_id_number(signer.id_number) if signer.id_number else "—",
            ),
            (
                pgettext("evidence report", "Real name verified by"),
                _words(PERSON_METHODS, signer.real_name_method),
            ),
            (
                pgettext("evidence report", "Real name verified at"),
                _when(signer.real_name_verified_at),
            ),
        ]
    rows += [
        (pgettext("evidence report", "Status"), party.get_status_display()),
        (pgettext("evidence report", "Signed at"), _when(party.signed_at)),
    ]
    return Grid(rows)


def _certificate_ids(events: list[AuditEvent]) -> list[str]:
    ids: list[str] = []
    for event in events:
        if event.action in ("contract.party_signed", "contract.party_signed_act"):
            ids += [i for i in str(event.data.get("certificates", "")).split(",") if i]
    return ids


def _common_name(name: x509.Name) -> str:
    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else name.rfc4514_string()


def _certificates_section(events: list[AuditEvent]) -> Section:
    rows = []
    ids = _certificate_ids(events)
    for certificate in IssuedCertificate.objects.filter(pk__in=ids).order_by("created_at"):
        parsed = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
        rows.append(
            (
                certificate.serial,
                _common_name(parsed.subject),
                _common_name(parsed.issuer),
                _words(CERTIFICATE_STATUSES, certificate.status),
                f"{_when(certificate.not_before)}\n{_when(certificate.not_after)}",
            )
        )
    if not rows:
        return Section(
            pgettext("evidence report", "3. Certificates"),
            [pgettext("evidence report", "No certificate was used.")],
        )
    header = (
        pgettext("evidence report", "Serial number"),
        pgettext("evidence report", "Holder"),
        pgettext("evidence report", "Issuer"),
        pgettext("evidence report", "Status"),
        pgettext("evidence report", "Validity period"),
    )
    grid = Grid(rows, widths=(0.36, 0.2, 0.18, 0.08, 0.18), header=header)
    return Section(pgettext("evidence report", "3. Certificates"), [grid])


def _signatures_section(final: bytes) -> Section:
    report = pades.verify(final)
    blocks: list[Grid | str] = []
    for signature in report.signatures:
        names = dict.fromkeys(p for p in (signature.signer, signature.organisation) if p)
        signer = " ".join(names)  # a name once, when the organisation is the signer
        blocks.append(
            Grid(
                [
                    (pgettext("evidence report", "Kind"), _words(SIGNATURE_KINDS, signature.kind)),
                    (pgettext("evidence report", "Signature field"), signature.field_name),
                    (pgettext("evidence report", "Signer"), signer or "—"),
                    (
                        pgettext("evidence report", "Signing time claimed"),
                        _when(signature.signed_at),
                    ),
                    (pgettext("evidence report", "Trusted timestamp"), _when(signature.timestamp)),
                    (
                        pgettext("evidence report", "Certificate status"),
                        _words(CERTIFICATE_STATUSES, signature.certificate_status),
                    ),
                    (pgettext("evidence report", "Valid"), _yes(signature.valid)),
                ]
            )
        )
    blocks.append(
        pgettext(
            "evidence report", "Every signature is valid and the document is unchanged: %(answer)s"
        )
        % {"answer": _yes(report.valid and report.intact)}
    )
    return Section(
        pgettext("evidence report", "4. Signatures and timestamps in the final document"), blocks
    )


def _versions_section(contract: Contract) -> Section:
    rows = []
    for version in contract.versions.select_related("document", "party__enterprise", "party__user"):
        what = _words(VERSION_KINDS, version.kind)
        if version.party is not None:
            what = f"{what}：{_party_name(version.party)}"
        rows.append((str(version.number), what, _when(version.created_at), version.document.sha256))
    header = (
        pgettext("evidence report", "No."),
        pgettext("evidence report", "Version"),
        pgettext("evidence report", "Made at"),
        "SHA-256",
    )
    return Section(
        pgettext("evidence report", "5. Every version of the document"),
        [Grid(rows, widths=(0.06, 0.24, 0.15, 0.55), header=header)],
    )


def _trail_section(events: list[AuditEvent]) -> Section:
    rows = [
        (f"#{event.seq}", _when(line.at), line.who, line.what, line.ip or "—")
        for event, line in zip(events, trail.describe(events), strict=True)
    ]
    header = (
        pgettext("evidence report", "Record"),
        pgettext("evidence report", "Time"),
        pgettext("evidence report", "Who"),
        pgettext("evidence report", "What"),
        "IP",
    )
    grid = Grid(rows, widths=(0.09, 0.15, 0.33, 0.28, 0.15), header=header)
    return Section(pgettext("evidence report", "6. Signing trail"), [grid])


def _chain_section(last: AuditEvent | None) -> Section:
    chain = verify_log()
    head = AuditEvent.objects.order_by("-seq").first()
    return Section(
        pgettext("evidence report", "7. Audit chain"),
        [
            Grid(
                [
                    (
                        pgettext("evidence report", "This contract's last record"),
                        f"#{last.seq}" if last else "—",
                    ),
                    (pgettext("evidence report", "Its hash"), last.hash if last else "—"),
                    (
                        pgettext("evidence report", "Head of the chain now"),
                        f"#{head.seq}" if head else "—",
                    ),
                    (pgettext("evidence report", "Its hash"), head.hash if head else "—"),
                    (
                        pgettext("evidence report", "Integrity of the chain"),
                        pgettext("evidence report", "Passed")
                        if chain.ok
                        else pgettext("evidence report", "Failed"),
                    ),
                ]
            )
        ],
    )


def build_report(contract: Contract) -> Document:
    """The report's content, section by section, in the current language."""
    events = list(
        AuditEvent.objects.filter(object_type="contract", object_id=contract.id).order_by("seq")
    )
    parties = list(contract.parties.select_related("enterprise", "signed_by", "user"))
    party_blocks: list[Grid | str] = [_party_grid(p) for p in parties]
    return Document(
        title=pgettext("evidence report", "Evidence report of an electronic contract"),
        preamble=[
            pgettext(
                "evidence report",
                "Issued by %(platform)s at %(time)s. All times are Beijing time (UTC+8).",
            )
            % {"platform": PLATFORM_NAME, "time": _when(timezone.now())},
            pgettext(
                "evidence report",
                "This report is signed by %(platform)s and carries a document timestamp.",
            )
            % {"platform": PLATFORM_NAME},
        ],
        sections=[
            _contract_section(contract),
            Section(
                pgettext("evidence report", "2. Parties and how their identities were verified"),
                party_blocks,
            ),
            _certificates_section(events),
            _signatures_section(documents.read_document(contract.current)),
            _versions_section(contract),
            _trail_section(events),
            _chain_section(events[-1] if events else None),
        ],
        footer=pgettext("evidence report", "%(platform)s evidence report %(id)s")
        % {"platform": PLATFORM_NAME, "id": contract.number},
        author=PLATFORM_NAME,
    )


def report_pdf(*, actor: User, contract_id: str) -> bytes:
    """Build the report, sign it with the platform certificate, give it a document timestamp,
    audit, and return it."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    if contract.status not in REPORTABLE:
        raise Conflict(
            _("An evidence report is made once the contract is completed."), code="not_completed"
        )
    signed = pades.sign_approval(
        render(build_report(contract)),
        certificate_id=platform_certificate_id(),
        marks=[],
        field_name=FIELD_NAME,
        reason=_("Evidence report for contract %(id)s") % {"id": contract.id},
        signer_name=PLATFORM_NAME,
    )
    archived = pades.archive(signed)  # validation data and an RFC 3161 document timestamp
    record_event(
        action="contract.evidence_report",
        actor_id=actor.id,
        object_type="contract",
        object_id=contract.id,
        data={"final_sha256": contract.current.sha256},
    )
    return archived
