"""The evidence report (出证报告, issue 6 §6): what a court needs, in one PDF signed by PortSign.

It states the contract's hashes (original and final), each party with the basis on which
PortSign knew who they were (method and time; ID numbers masked), the certificates used with
their serials and current status, every timestamp found in the final document, the full signing
trail, and the contract's position in the hash-chained audit log. The report is itself signed
with the platform certificate, so it verifies like any contract.
"""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.cn_ids import mask_id_number
from portsign.common.errors import Conflict
from portsign.common.models import AuditEvent
from portsign.contracts.domain import documents
from portsign.contracts.domain.contracts import visible_contract
from portsign.contracts.domain.pdftext import Line, render
from portsign.contracts.enums import ContractStatus, PartyKind
from portsign.contracts.models import Contract, Party
from portsign.pki import pades
from portsign.pki.anchors import verify_log
from portsign.pki.models import IssuedCertificate
from portsign.pki.platform import PLATFORM_NAME, platform_certificate_id

REPORTABLE = (ContractStatus.COMPLETED, ContractStatus.VOIDED)


def _when(moment: object) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")  # type: ignore[arg-type]


def _party_lines(party: Party) -> list[Line]:
    lines = []
    if party.kind == PartyKind.ENTERPRISE and party.enterprise is not None:
        enterprise = party.enterprise
        lines.append(Line(f"企业：{enterprise.name}（统一社会信用代码 {enterprise.uscc}）", 18))
        lines.append(
            Line(
                f"    企业认证：{enterprise.verification_method or '—'}，认证时间 "
                f"{_when(enterprise.verified_at)}",
                16,
            )
        )
    signer: User | None = party.signed_by
    if signer is not None:
        id_number = mask_id_number(signer.id_number) if signer.id_number else "—"
        lines.append(Line(f"    签署人：{signer.name}（身份证号 {id_number}）", 16))
        lines.append(
            Line(
                f"    实名认证：{signer.real_name_method or '—'}，认证时间 "
                f"{_when(signer.real_name_verified_at)}",
                16,
            )
        )
    lines.append(Line(f"    签署完成时间：{_when(party.signed_at)}", 16))
    return lines


def _certificates(contract: Contract) -> list[Line]:
    ids: list[str] = []
    for event in AuditEvent.objects.filter(
        object_type="contract", object_id=contract.id, action="contract.party_signed"
    ).order_by("seq"):
        ids += [i for i in str(event.data.get("certificates", "")).split(",") if i]
    lines = []
    for certificate in IssuedCertificate.objects.filter(pk__in=ids).order_by("created_at"):
        lines.append(
            Line(
                f"证书序列号 {certificate.serial}：{certificate.subject}；当前状态 "
                f"{certificate.status}；有效期至 {_when(certificate.not_after)}",
                15,
            )
        )
    return lines or [Line("—", 15)]


def _signature_lines(pdf: bytes) -> list[Line]:
    report = pades.verify(pdf)
    lines = []
    for signature in report.signatures:
        kind = "文档时间戳" if signature.kind == "timestamp" else "签名"
        lines.append(
            Line(
                f"{kind} {signature.field_name}：{signature.signer} {signature.organisation}；"
                f"签署时间 {_when(signature.signed_at)}；时间戳 {_when(signature.timestamp)}；"
                f"证书状态 {signature.certificate_status}；"
                f"有效 {'是' if signature.valid else '否'}",
                15,
            )
        )
    lines.append(
        Line(f"全部签名有效且文件未被修改：{'是' if report.valid and report.intact else '否'}", 16)
    )
    return lines


def _trail(contract: Contract) -> tuple[list[Line], AuditEvent | None]:
    events = list(
        AuditEvent.objects.filter(object_type="contract", object_id=contract.id).order_by("seq")
    )
    names = dict(User.objects.filter(pk__in={e.actor_id for e in events}).values_list("id", "name"))
    lines = [
        Line(
            f"#{e.seq} {_when(e.at)} {e.action} {names.get(e.actor_id, '平台')} "
            f"IP {e.ip or '—'} {json.dumps(e.data, ensure_ascii=False)[:160]}",
            14,
            gap=6,
        )
        for e in events
    ]
    return lines, (events[-1] if events else None)


def report_lines(contract: Contract) -> list[Line]:
    """The report's content, section by section."""
    final = documents.read_document(contract.current)
    parties = list(contract.parties.select_related("enterprise", "signed_by"))
    trail, last = _trail(contract)
    chain = verify_log()
    head = AuditEvent.objects.order_by("-seq").first()
    lines = [
        Line("电子合同出证报告", 36, bold=True, gap=24),
        Line(f"报告生成时间：{_when(timezone.now())}　出具方：{PLATFORM_NAME}", 16),
        Line(""),
        Line("一、合同信息", 22, gap=14),
        Line(f"合同编号：{contract.id}", 16),
        Line(f"合同标题：{contract.title}", 16),
        Line(
            f"状态：{contract.get_status_display()}；发起时间 {_when(contract.sent_at)}；"
            f"完成时间 {_when(contract.completed_at)}",
            16,
        ),
        Line(f"原始文件 SHA-256：{contract.body.sha256}", 16),
        Line(f"最终文件 SHA-256：{contract.current.sha256}", 16),
        Line(""),
        Line("二、签署方及身份核验依据", 22, gap=14),
    ]
    for party in parties:
        lines += _party_lines(party)
    lines += [Line(""), Line("三、数字证书", 22, gap=14), *_certificates(contract)]
    lines += [
        Line(""),
        Line("四、签名与时间戳（对最终文件的校验结果）", 22, gap=14),
        *_signature_lines(final),
    ]
    lines += [Line(""), Line("五、签署轨迹", 22, gap=14), *trail]
    lines += [
        Line(""),
        Line("六、审计链", 22, gap=14),
        Line(
            f"本合同最后一条审计记录：#{last.seq if last else '—'}，"
            f"哈希 {last.hash if last else '—'}",
            15,
        ),
        Line(
            f"报告生成时审计链头：#{head.seq if head else '—'}，哈希 {head.hash if head else '—'}；"
            f"审计链完整性校验：{'通过' if chain.ok else '未通过'}",
            15,
        ),
    ]
    return lines


def report_pdf(*, actor: User, contract_id: str) -> bytes:
    """Build the report, sign it with the platform certificate, audit, and return it."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    if contract.status not in REPORTABLE:
        raise Conflict(
            _("An evidence report is made once the contract is completed."), code="not_completed"
        )
    pages = render(report_lines(contract), footer=f"{PLATFORM_NAME} 出证报告 {contract.id}")
    # Written out once more by PDFium: signing appends to a clean cross-reference table.
    unsigned = documents.merge(pages, [])
    signed = pades.sign_approval(
        unsigned,
        certificate_id=platform_certificate_id(),
        marks=[],
        field_name="PortSign-Evidence",
        reason=_("Evidence report for contract %(id)s") % {"id": contract.id},
        signer_name=PLATFORM_NAME,
    )
    record_event(
        action="contract.evidence_report",
        actor_id=actor.id,
        object_type="contract",
        object_id=contract.id,
        data={"final_sha256": contract.current.sha256},
    )
    return signed
