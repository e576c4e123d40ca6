"""`manage.py webhooks deliver`: send the webhook deliveries whose next attempt is due.

Embedded mode has no broker to hold a retry until its time, so failed attempts wait in the
table; run this every minute (cron, a systemd timer) or keep it running with `--every 10`.
`manage.py cleanup` does the same once. In production Celery schedules retries itself, and
this command only catches what a lost task left behind.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portsign.webhooks.domain.deliveries import deliver_due


class Command(BaseCommand):
    help = "Webhook tools. `deliver` sends every pending delivery whose next attempt is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["deliver"])
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="keep running, looking for due deliveries every SECONDS (default: once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = max(0, int(options["every"]))
        while True:
            count = deliver_due()
            self.stdout.write(f"webhooks: {count} due deliveries attempted")
            if not every:
                return
            time.sleep(every)
