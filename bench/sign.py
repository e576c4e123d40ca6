"""One PAdES B-T signature with a visible seal on a 10-page PDF: PortSign's engine vs stock pyHanko.

    PORTSIGN_DATA_DIR=$(mktemp -d) .venv/bin/python bench/sign.py [rounds]

Sets up Django against a throwaway SQLite database in PORTSIGN_DATA_DIR, migrates, creates the
CA hierarchy and issues one enterprise certificate, then times, in the same run and interleaved:

* ours:  `pades.sign_approval` (cached key and chain, seal decoded once, CMS assembled from
  once-encoded parts, TSA in process, fixed signature reservation);
* stock: pyHanko as its documentation shows it, per call: `SimpleSigner.load` from PEM files,
  `PdfSigner` with a `StaticStampStyle` whose background is `PdfImage(<seal.png>)`, a new
  `SigFieldSpec` box, PAdES subfilter, and a fresh TimeStamper. The TimeStamper is the same
  in-process one ours uses instead of an `HTTPTimeStamper` (no HTTP on either side); being
  fresh per call, like an HTTPTimeStamper made per call, it answers pyHanko's size-estimation
  dry run with one extra token (pyHanko caches that per instance).

Prints figures only: medians in ms and their ratio (the issue's target: ratio <= 0.25).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from django.core.management import call_command  # noqa: E402
from pyhanko.pdf_utils.images import PdfImage  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.stamp import StaticStampStyle  # noqa: E402
from tests.pki.pdf_samples import A4, make_pdf  # noqa: E402

from portsign.pki import issuance, pades  # noqa: E402
from portsign.pki.ca import Role, authority, init_hierarchy  # noqa: E402
from portsign.pki.models import IssuedCertificate  # noqa: E402
from portsign.pki.vault import load_private_key  # noqa: E402
from portsign.seals.render import round_seal  # noqa: E402

# The seal: 42 mm wide, its top-left corner at 60 % across and 70 % down page 1.
X, Y, WIDTH = 0.6, 0.7, 42 / 210


def _setup(workdir: Path) -> tuple[IssuedCertificate, bytes, dict[str, Path]]:
    call_command("migrate", verbosity=0)
    init_hierarchy()
    issued = issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )
    seal = round_seal(name="示例港务有限公司", kind_text="合同专用章").png
    key = load_private_key(issued.key_id)
    files = {
        "key": workdir / "key.pem",
        "cert": workdir / "cert.pem",
        "chain": workdir / "issuing.pem",
        "seal": workdir / "seal.png",
    }
    files["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files["cert"].write_text(issued.certificate_pem)
    files["chain"].write_text(authority(Role.ISSUING).certificate_pem)
    files["seal"].write_bytes(seal)
    return issued, seal, files


def _ours(pdf: bytes, issued: IssuedCertificate, seal: bytes) -> bytes:
    return pades.sign_approval(
        pdf,
        certificate_id=issued.id,
        field_name="Sig1",
        marks=[pades.Mark(page=1, x=X, y=Y, width=WIDTH, png=seal)],
    )


def _stock(pdf: bytes, files: dict[str, Path]) -> bytes:
    signer = signers.SimpleSigner.load(
        str(files["key"]), str(files["cert"]), ca_chain_files=(str(files["chain"]),)
    )
    width = WIDTH * A4[0]
    left, top = X * A4[0], A4[1] - Y * A4[1]
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name="Sig1", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=signer,
        timestamper=pades.timestamper(),
        stamp_style=StaticStampStyle(
            background=PdfImage(str(files["seal"])), border_width=0, background_opacity=1.0
        ),
        new_field_spec=fields.SigFieldSpec(
            "Sig1", on_page=0, box=(left, top - width, left + width, top)
        ),
    )
    output = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return output.getvalue()


def _time_ms(function: Callable[[], bytes]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as workdir:
        issued, seal, files = _setup(Path(workdir))
        pdf = make_pdf(10)
        ours: list[float] = []
        stock: list[float] = []
        for function in (lambda: _ours(pdf, issued, seal), lambda: _stock(pdf, files)):
            function()  # warm-up: imports, first key load, seal decoding (cached for ours)
        for _ in range(rounds):
            ours.append(_time_ms(lambda: _ours(pdf, issued, seal)))
            stock.append(_time_ms(lambda: _stock(pdf, files)))
    ours_ms, stock_ms = statistics.median(ours), statistics.median(stock)
    print(f"PDF: 10 pages, {len(pdf)} bytes; B-T signature with a visible seal; {rounds} rounds")
    print(f"ours   median {ours_ms:8.2f} ms  (min {min(ours):.2f}, max {max(ours):.2f})")
    print(f"stock  median {stock_ms:8.2f} ms  (min {min(stock):.2f}, max {max(stock):.2f})")
    print(f"ratio  ours/stock {ours_ms / stock_ms:.3f}  (target <= 0.25; long-run goal <= 5 ms)")


if __name__ == "__main__":
    main()
