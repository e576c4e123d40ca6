"""`portsign verify FILE.pdf`: print the verification report as JSON; exit 1 when any
signature is invalid or the document was modified, 2 when the file cannot be read.

`portsign verify evidence-<id>.zip` (or an unpacked package directory) runs the stand-alone
package verifier (verification/offline_verify.py, the package's own verify.py) instead and
prints its lines. Both run in this process with no server and no network: a PDF is judged
against the root and revocation data of this installation's database (pades.verify), a
package against the root and revocation data it holds (pin a root with --root).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portsign.common.errors import DomainError
from portsign.verification import offline_verify
from portsign.verification.report import report


class Command(BaseCommand):
    help = (
        "Verify the signatures of a PDF (JSON report) or an evidence package (.zip or "
        "directory, checked offline); exit non-zero unless all valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--root",
            type=Path,
            default=None,
            help="for a package: the root certificate (PEM) it must be under",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.is_dir() or zipfile.is_zipfile(path):
            self._package(path, options["root"])
            return
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

    def _package(self, path: Path, root: Path | None) -> None:
        code, lines = offline_verify.run(path, root)
        self.stdout.write("\n".join(lines))
        if code:
            raise SystemExit(code)
