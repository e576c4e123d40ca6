"""`manage.py audit verify`: check the audit hash chain; exit 1 naming the first broken row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portsign.common.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `verify` walks the hash chain and reports the first broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"audit chain BROKEN at row {report.broken_seq}: {report.reason}")
        self.stdout.write(f"audit chain OK: {report.checked} events verified")
