"""`manage.py audit verify|anchor`: check the audit log, or time-stamp its head now.

`verify` walks the keyed hash chain and holds it against every anchor; it exits 1 naming the
first row (or anchor) that does not fit.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portsign.pki.anchors import anchor_head, verify_log


class Command(BaseCommand):
    help = (
        "Audit log tools. `verify` checks the hash chain against its time-stamped anchors and "
        "reports the first broken row; `anchor` time-stamps the head now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "anchor"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "anchor":
            made = anchor_head()
            self.stdout.write("audit head anchored" if made else "audit head already anchored")
            return
        report = verify_log()
        if not report.ok:
            where = f"row {report.broken_seq}" if report.broken_seq is not None else "an anchor"
            raise CommandError(f"audit chain BROKEN at {where}: {report.reason}")
        self.stdout.write(
            f"audit chain OK: {report.checked} events verified against {report.anchors} anchors"
        )
