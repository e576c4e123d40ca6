"""`manage.py pki init` creates the CA hierarchy (idempotent); `pki rotate-kek` re-wraps keys."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portsign.pki.ca import certificate_of, init_hierarchy
from portsign.pki.vault import rotate_kek


class Command(BaseCommand):
    help = "PKI tools: `init` creates PortSign's CA hierarchy; `rotate-kek` re-wraps every key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["init", "rotate-kek"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate-kek":
            count = rotate_kek(os.urandom(32))
            self.stdout.write(f"key-encryption key rotated: {count} keys re-wrapped")
            return
        for ca in init_hierarchy():
            cert = certificate_of(ca)
            self.stdout.write(
                f"{ca.name:8} {cert.subject.rfc4514_string()} "
                f"(until {cert.not_valid_after_utc:%Y-%m-%d})"
            )
