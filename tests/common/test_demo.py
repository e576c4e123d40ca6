"""`manage.py demo` seeds verified people and enterprises, and is safe to repeat."""

from __future__ import annotations

import io

from django.core.management import call_command

from portsign.accounts.models import User
from portsign.common.audit import verify_chain
from portsign.enterprises.models import Enterprise


def test_demo_is_idempotent_and_verified():
    for _ in range(2):
        out = io.StringIO()
        call_command("demo", stdout=out)
    assert User.objects.count() == 3
    assert User.objects.filter(real_name_verified_at__isnull=False).count() == 2
    assert sorted(Enterprise.objects.values_list("name", "status")) == [
        ("演示外轮理货有限公司", "verified"),
        ("演示港务集团有限公司", "verified"),
    ]
    assert "Demo accounts (password Demo#2026port):" in out.getvalue()
    assert verify_chain().ok
