"""`portsign verify FILE.pdf`: print the verification report as JSON; exit 1 when any
signature is invalid or the document was modified, 2 when the file cannot be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portsign.common.errors import DomainError
from portsign.verification.report import report


class Command(BaseCommand):
    help = "Verify the signatures of a PDF; print a JSON report; exit non-zero unless all valid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from exc
        try:
            result = report(data)
        except DomainError as exc:
            self.stdout.write(json.dumps({"error": exc.code, "message": str(exc.message)}))
            raise SystemExit(2) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        if not (result["intact"] and result["valid"]):
            raise SystemExit(1)
