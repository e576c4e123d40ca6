"""`manage.py pki init` creates the CA hierarchy (idempotent); `pki rotate-kek` re-wraps keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portsign.pki import kek
from portsign.pki.ca import certificate_of, init_hierarchy
from portsign.pki.vault import rotate_kek


class Command(BaseCommand):
    help = (
        "PKI tools: `init` creates the key-encryption key (PKCS#11 mode) and PortSign's CA "
        "hierarchy; `rotate-kek` re-wraps every key under a new key-encryption key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["init", "rotate-kek"])

    def handle(self, *args: Any, **options: Any) -> None:
        backend = kek.backend()
        if options["action"] == "rotate-kek":
            count = rotate_kek()
            self.stdout.write(f"key-encryption key rotated: {count} keys re-wrapped")
            if isinstance(backend, kek.Pkcs11Kek):
                label, kek_id = backend.current()
                self.stdout.write(f"current PKCS#11 key-encryption key: {label} ({kek_id})")
            return
        if isinstance(backend, kek.Pkcs11Kek):
            # Before the hierarchy: its keys are wrapped by this KEK.
            label, created = backend.ensure()
            state = "created" if created else "present"
            self.stdout.write(f"PKCS#11 key-encryption key {label}: {state}")
        for ca in init_hierarchy():
            cert = certificate_of(ca)
            self.stdout.write(
                f"{ca.name:8} {cert.subject.rfc4514_string()} "
                f"(until {cert.not_valid_after_utc:%Y-%m-%d})"
            )
