"""Demo contract for `make run`: both demo enterprises get a certificate and a contract seal,
and a container tally agreement (written for this project) waits in 待我签署 for the first demo
account, acting for 演示港务集团有限公司 — so a newcomer signs within a minute."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from portsign.contracts.domain import contracts
from portsign.contracts.models import Contract, Template
from portsign.enterprises.models import Enterprise
from portsign.pki import issuance
from portsign.pki.applications import signing_certificate
from portsign.pki.models import CertificateApplication
from portsign.seals.domain.seals import create_generated_seal
from portsign.seals.models import Seal
from portsign.seals.render import SERIF_FONT, font

DEMO_TITLE = "集装箱理货协议（演示）"

AGREEMENT = [
    ("集装箱理货协议", 40),
    ("", 20),
    ("甲方（委托方）：演示港务集团有限公司", 22),
    ("乙方（理货方）：演示外轮理货有限公司", 22),
    ("", 16),
    ("第一条  委托事项", 24),
    ("甲方委托乙方对其码头装卸的进出口集装箱进行理货，包括箱号核对、铅封检查、", 20),
    ("箱体残损记录及理货单证的制作与交接。", 20),
    ("第二条  作业要求", 24),
    ("乙方应按船舶作业计划派员到场，理货数据在作业结束后两小时内通过电子口岸", 20),
    ("报送甲方；发现残损或铅封异常时，应当场拍照并书面通知甲方值班调度。", 20),
    ("第三条  费用与结算", 24),
    ("理货费按每标准箱人民币十五元计收，按月结算。甲方收到乙方对账单后十个", 20),
    ("工作日内核对确认并支付。", 20),
    ("第四条  责任", 24),
    ("因乙方理货差错造成甲方损失的，乙方按实际损失承担赔偿责任，但每箱以理货", 20),
    ("费的二十倍为限。", 20),
    ("第五条  期限", 24),
    ("本协议自双方电子签署之日起生效，有效期一年。双方以可靠电子签名签署，", 20),
    ("依《中华人民共和国电子签名法》第十四条，与手写签名或者盖章具有同等效力。", 20),
    ("", 40),
    ("甲方（盖章）：                         乙方（盖章）：", 22),
    ("", 90),
    ("日期：                                 日期：", 22),
]


def agreement_pdf() -> bytes:
    """A one-page A4 agreement rendered with Noto Serif CJK at 150 dpi."""
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    y = 150
    for text, size in AGREEMENT:
        if text:
            face = font(SERIF_FONT, size)
            x = (page.width - draw.textlength(text, font=face)) / 2 if size >= 40 else 150
            draw.text((x, y), text, font=face, fill="black")
        y += size + 22
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    return out.getvalue()


def ensure_certificate(enterprise: Enterprise) -> None:
    """The enterprise's cloud certificate, as after an approved application."""
    if signing_certificate(enterprise_id=enterprise.id) is not None:
        return
    certificate = issuance.issue_certificate(
        subject=issuance.enterprise_name(name=enterprise.name, uscc=enterprise.uscc)
    )
    CertificateApplication.objects.create(
        applicant=enterprise.main_admin,
        enterprise=enterprise,
        status=CertificateApplication.Status.ISSUED,
        certificate=certificate,
        decided_at=timezone.now(),
    )


def ensure_contract_seal(enterprise: Enterprise) -> None:
    if Seal.objects.filter(
        enterprise=enterprise, kind="contract", deleted_at__isnull=True
    ).exists():
        return
    create_generated_seal(actor=enterprise.main_admin, enterprise_id=enterprise.id, kind="contract")


def seed_contract(port: Enterprise, tally: Enterprise) -> Contract:
    """The tally company sends the agreement; the port group signs first."""
    for enterprise in (port, tally):
        ensure_certificate(enterprise)
        ensure_contract_seal(enterprise)
    existing = Contract.objects.filter(title=DEMO_TITLE, sender_enterprise=tally).first()
    if existing is not None:
        return existing
    sender = tally.main_admin
    draft = contracts.create_draft(
        actor=sender,
        upload=SimpleUploadedFile("agreement.pdf", agreement_pdf()),
        title=DEMO_TITLE,
        acting_as=tally.id,
        deadline=timezone.now() + timedelta(days=30),
    )
    for enterprise in (port, tally):
        contracts.add_party(
            actor=sender,
            contract_id=draft.id,
            kind="enterprise",
            account=enterprise.main_admin.phone or "",
            enterprise_name=enterprise.name,
        )
    return contracts.send(actor=sender, contract_id=draft.id)


def seed_templates(port: Enterprise, tally: Enterprise) -> list[Template]:
    """The three demo templates (集装箱理货协议 for the tally company, 港口作业合同 and 货运代理协议
    for the port group) and the port trade kit (集装箱设备交接单, 港口作业委托单 and 提货单 for the
    port group, 代理报关委托书 and 委托报关协议 for the tally company), created once: an existing
    live template of the same name is kept."""
    from portsign.contracts.demo_templates import DEMO_TEMPLATES, render
    from portsign.contracts.domain import templates
    from portsign.contracts.trade_kit import TRADE_KIT

    owners = {"port": port, "tally": tally}
    seeded = []
    for demo in (*DEMO_TEMPLATES, *TRADE_KIT):
        owner = owners[demo.owner]
        existing = Template.objects.filter(
            enterprise=owner, name=demo.name, archived_at__isnull=True
        ).first()
        if existing is None:
            pdf, definition = render(demo)
            existing = templates.create_template(
                actor=owner.main_admin,
                acting_as=owner.id,
                upload=SimpleUploadedFile(f"{demo.name}.pdf", pdf),
                name=demo.name,
                definition=definition,
            )
        seeded.append(existing)
    return seeded
