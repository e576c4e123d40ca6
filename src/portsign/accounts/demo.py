"""Demo accounts for `make run`. Fictional people and reserved-looking numbers only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from portsign.accounts.models import User
from portsign.common.audit import record_event

DEMO_PASSWORD = "Demo#2026port"  # noqa: S105 - printed on start; demo data only


@dataclass(frozen=True)
class DemoAccount:
    account: str
    name: str
    staff: bool = False


DEMO_ACCOUNTS = [
    DemoAccount("+8613800000001", "演示-港务经办人"),
    DemoAccount("+8613800000002", "演示-理货公司经办人"),
    DemoAccount("reviewer@portsign.example.cn", "演示-后台审核员", staff=True),
    DemoAccount("eport@portsign.example.cn", "演示-电子口岸审核员"),  # eport/demo.py
]


def seed_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; leave existing ones untouched."""
    for demo in DEMO_ACCOUNTS:
        field = "email" if "@" in demo.account else "phone"
        if User.objects.filter(**{field: demo.account}).exists():
            continue
        with transaction.atomic():
            user = User.objects.create_user(
                password=DEMO_PASSWORD, name=demo.name, is_staff=demo.staff, **{field: demo.account}
            )
            record_event(action="demo.user_created", object_type="user", object_id=user.id)
    return DEMO_ACCOUNTS
