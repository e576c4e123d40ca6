"""Demo enterprises for `make run`: fictional, verified, each with a demo administrator."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from portsign.accounts.models import User
from portsign.common.cn_ids import id_number_check_char, org_code_check_char, uscc_check_char
from portsign.common.models import SandboxMessage
from portsign.enterprises.domain import deposits, enterprises, materials
from portsign.enterprises.models import DepositVerification, Enterprise


@dataclass(frozen=True)
class DemoEnterprise:
    admin_phone: str
    name: str
    legal_rep: str
    sequence: int


DEMO_ENTERPRISES = [
    DemoEnterprise("+8613800000001", "演示港务集团有限公司", "演示法人甲", 901),
    DemoEnterprise("+8613800000002", "演示外轮理货有限公司", "演示法人乙", 902),
]


def demo_id_number(sequence: int) -> str:
    body = f"32070119850101{sequence % 1000:03d}"
    return body + id_number_check_char(body)


def demo_uscc(sequence: int) -> str:
    org = f"MA{sequence:06d}"
    body = f"91320700{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


def seed_enterprises() -> list[Enterprise]:
    """Verify the demo people and their enterprises, skipping whatever already exists."""
    from portsign.accounts.domain.realname import verify_person

    seeded = []
    for demo in DEMO_ENTERPRISES:
        admin = User.objects.get(phone=demo.admin_phone)
        if not admin.is_real_name_verified:
            verify_person(
                user=admin,
                method="carrier3",
                name=admin.name,
                id_number=demo_id_number(demo.sequence),
                phone=demo.admin_phone,
            )
            admin.refresh_from_db()
        existing = Enterprise.objects.filter(uscc=demo_uscc(demo.sequence)).first()
        seeded.append(existing or _verified_enterprise(admin, demo))
    return seeded


def _picture(name: str, colour: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def submit_sample_materials(
    *, actor: User, enterprise: Enterprise, legal_rep_id_number: str
) -> Enterprise:
    """Blank pictures standing in for the business licence and both sides of the legal
    representative's ID card: every verification method needs them first. For the demo and
    for tests, never for a real enterprise."""
    return materials.submit_materials(
        actor=actor,
        enterprise_id=enterprise.id,
        licence=_picture("licence.png", "#f4e3c1"),
        id_front=_picture("id-front.png", "#dbe8f5"),
        id_back=_picture("id-back.png", "#e8f0d8"),
        legal_rep_id_number=legal_rep_id_number,
    )


def _verified_enterprise(admin: User, demo: DemoEnterprise) -> Enterprise:
    enterprise = enterprises.create_enterprise(
        actor=admin, name=demo.name, uscc=demo_uscc(demo.sequence), legal_rep_name=demo.legal_rep
    )
    submit_sample_materials(
        actor=admin, enterprise=enterprise, legal_rep_id_number=demo_id_number(demo.sequence + 50)
    )
    account = f"62220000{demo.sequence:08d}"
    attempt = deposits.start_deposit(
        actor=admin,
        enterprise_id=enterprise.id,
        method="micro_deposit",
        bank_name="演示银行连云港分行",
        bank_account=account,
    )
    deposits.confirm_amount(actor=admin, enterprise_id=enterprise.id, amount=_paid_amount(attempt))
    enterprise.refresh_from_db()
    return enterprise


def _paid_amount(attempt: DepositVerification) -> str:
    """The demo reads the sandbox bank statement of the account, as a person would."""
    payout = (
        SandboxMessage.objects.filter(to=attempt.bank_account, channel="bank")
        .order_by("-id")
        .first()
    )
    if payout is None:
        raise RuntimeError("the sandbox bank has no payout for the demo account")
    return str(payout.data["amount"])
