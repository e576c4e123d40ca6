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

Then two figures of issue 17's "plain bugs", each beside its floor from the same run:

* key load: the first use of a signer in a process parses its key from the vault
  (`vault.load_private_key`: row, DEK unwrap, AES-GCM, parse without RSA key validation)
  against cryptography's validating parse of the same DER and the bare unvalidated parse;
* a large PDF (10 pages and a 4 MB scan-like image): `pades.sign_approval` and `pades.archive`
  in the main thread (management commands, this script, Celery prefork workers) against a
  worker thread (the floor: asyncio.run takes no SIGINT handler there), and plain
  `asyncio.run` of a coroutine returning the signed bytes against `run_sync`.

Prints figures only: medians in ms and their ratio (the issue's target: ratio <= 0.25).
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from django.core.management import call_command  # noqa: E402
from pyhanko.pdf_utils import generic  # noqa: E402
from pyhanko.pdf_utils.images import PdfImage  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.stamp import StaticStampStyle  # noqa: E402
from tests.pki.pdf_samples import A4, make_pdf  # noqa: E402

from portsign.common.aio import run_sync  # noqa: E402
from portsign.pki import issuance, pades, vault  # noqa: E402
from portsign.pki.ca import Role, authority, init_hierarchy  # noqa: E402
from portsign.pki.models import IssuedCertificate  # noqa: E402
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
    key = vault.load_private_key(issued.key_id)
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


def _time_ms(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def _in_worker(function: Callable[[], object]) -> float:
    """*function* timed in a thread of its own, as a server thread runs it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_time_ms, function).result()


def _line(label: str, times: list[float], note: str = "") -> str:
    return f"  {label:34s} median {statistics.median(times):8.2f} ms  {note}".rstrip()


def _key_loads(issued: IssuedCertificate, rounds: int) -> None:
    der = vault.load_private_key(issued.key_id).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    def from_vault() -> object:
        vault.load_private_key.cache_clear()
        return vault.load_private_key(issued.key_id)

    validating, shipped, floor = [], [], []
    for _ in range(rounds):
        validating.append(_time_ms(lambda: serialization.load_der_private_key(der, None)))
        shipped.append(_time_ms(from_vault))
        floor.append(
            _time_ms(
                lambda: serialization.load_der_private_key(
                    der, None, unsafe_skip_rsa_key_validation=True
                )
            )
        )
    print(f"key load ({issued.key.algorithm}, a signer's first use in a process); {rounds} rounds")
    print(_line("validating parse", validating, "(cryptography's default)"))
    print(_line("vault.load_private_key", shipped, "(row, unwrap, AES-GCM, parse)"))
    print(_line("parse without validation", floor, "(floor)"))
    ratio = statistics.median(shipped) / statistics.median(validating)
    print(f"  ratio vault/validating {ratio:.3f}")


def _large_pdf(size: int) -> bytes:
    """10 pages and, on page 1, an image XObject of *size* random bytes (a scan does not
    compress either): repr() of such bytes is 4 characters a byte."""
    writer = IncrementalPdfFileWriter(io.BytesIO(make_pdf(10)))
    side = int((size / 3) ** 0.5)
    image = writer.add_object(
        generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Image"),
                generic.pdf_name("/Width"): generic.NumberObject(side),
                generic.pdf_name("/Height"): generic.NumberObject(side),
                generic.pdf_name("/ColorSpace"): generic.pdf_name("/DeviceRGB"),
                generic.pdf_name("/BitsPerComponent"): generic.NumberObject(8),
            },
            stream_data=os.urandom(side * side * 3),
        )
    )
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Resources"][generic.pdf_name("/XObject")] = generic.DictionaryObject(
        {generic.pdf_name("/Im0"): image}
    )
    writer.update_container(page)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


async def _give(data: bytes) -> bytes:
    return data


def _threads(issued: IssuedCertificate, seal: bytes, rounds: int) -> None:
    pdf = _large_pdf(4 * 1024 * 1024)
    signed = _ours(pdf, issued, seal)
    cases: dict[str, Callable[[], object]] = {
        "sign_approval": lambda: _ours(pdf, issued, seal),
        "archive": lambda: pades.archive(signed),
        "asyncio.run, signed bytes": lambda: asyncio.run(_give(signed)),
        "run_sync, signed bytes": lambda: run_sync(lambda: _give(signed)),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for _ in range(rounds):
        for name, function in cases.items():
            times[name][0].append(_time_ms(function))
            times[name][1].append(_in_worker(function))
    print(f"large PDF: {len(pdf)} bytes, main thread vs a worker thread (floor); {rounds} rounds")
    for name, (main_thread, worker) in times.items():
        ratio = statistics.median(main_thread) / statistics.median(worker)
        print(_line(f"{name}, main", main_thread, f"x{ratio:.2f} the worker thread"))
        print(_line(f"{name}, worker", worker))


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
    _key_loads(issued, rounds)
    _threads(issued, seal, max(5, rounds // 3))


if __name__ == "__main__":
    main()
