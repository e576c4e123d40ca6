"""The independent verifiers the suite runs on PortSign's PDFs: the pyHanko CLI, poppler's
pdfsig (with an NSS database trusting our root), mupdf's `mutool sign -v`, and openssl on each
signature's CMS (`openssl cms -verify` over the signed byte ranges, `openssl ts -verify` for
RFC 3161 tokens)."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def pyhanko_cli() -> str:
    beside = Path(sys.executable).with_name("pyhanko")  # installed in the same venv
    found = str(beside) if beside.exists() else shutil.which("pyhanko")
    if found is None:
        pytest.fail("the pyHanko CLI is missing: pip install pyhanko-cli")
    return found


def pyhanko(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [pyhanko_cli(), "sign", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def pyhanko_validate(path: Path, root: Path | str) -> subprocess.CompletedProcess[str]:
    """`pyhanko sign validate` trusting only our root; revocation checking is off because our
    certificates point at responders that are not running in the tests."""
    return pyhanko(
        "validate", "--trust", root, "--trust-replace", "--no-revocation-check",
        "--pretty-print", path,
    )  # fmt: skip


def cli_verdicts(output: str) -> dict[str, str]:
    """Field name -> "VALID"/"INVALID" from `--pretty-print` output."""
    fields = re.findall(r"^Field \d+: (.+)$", output, flags=re.MULTILINE)
    verdicts = re.findall(r"^The signature is judged (\w+)\.$", output, flags=re.MULTILINE)
    return dict(zip(fields, verdicts, strict=True))


def nss_database(root_pem: Path, directory: Path) -> str:
    directory.mkdir()
    database = f"sql:{directory}"
    for command in (
        ["certutil", "-N", "-d", database, "--empty-password"],
        [
            "certutil",
            "-A",
            "-n",
            "portsign-root",
            "-t",
            "CT,C,C",
            "-i",
            str(root_pem),
            "-d",
            database,
        ],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    return database


def pdfsig_signatures(pdf: bytes, root_pem: Path, tmp_path: Path) -> list[dict[str, str]]:
    """pdfsig's report, one dict per signature it lists, in its order: {"Signature Field Name":
    ..., "Signature Validation": ..., ...}; a line without a key (e.g. "The signature form
    field is not signed.") under "Note"."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    database = nss_database(root_pem, tmp_path / "nss")
    # pdfsig exits 0 even on a digest mismatch: only its report counts.
    output = subprocess.run(
        ["pdfsig", "-nssdir", database, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    signatures = []
    for block in re.split(r"^Signature #\d+:$", output, flags=re.MULTILINE)[1:]:
        lines = dict(re.findall(r"^  - ([^:\n]+): (.*)$", block, flags=re.MULTILINE))
        notes = re.findall(r"^  ([^-\s].*)$", block, flags=re.MULTILINE)
        if notes:
            lines["Note"] = " ".join(notes)
        signatures.append(lines)
    return signatures


def pdfsig(pdf: bytes, root_pem: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """Field name -> {"Signature Validation": ..., "Certificate Validation": ...}."""
    return {s["Signature Field Name"]: s for s in pdfsig_signatures(pdf, root_pem, tmp_path)}


# What mutool 1.21 prints for a good signature (pdfsign.c, verify_signature). Its certificate
# check trusts only the Adobe root compiled into mupdf and has no option to add one: a chain to
# any other root ends in X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, which it reports as
# "Unknown error." (pkcs7-openssl.c). The chain to OUR root is checked by openssl below.
MUPDF_CERTIFICATE_OK = ("Certificate is trusted.", "Certificate error: Unknown error.")
MUPDF_DIGEST_OK = (
    "The document is unchanged since signing.",  # the last revision is this signature's
    "The signature is valid but there have been edits since signing.",  # later revisions
)
MUPDF_DIGEST_BAD = "Digest error: Signature invalidated by change to document."
OPENSSL_CMS_OK = "CMS Verification successful"
OPENSSL_CMS_BAD = "CMS Verification failure"
OPENSSL_TS_OK = "Verification: OK"


def mutool_verify(pdf: bytes, tmp_path: Path) -> dict[int, tuple[str, ...]]:
    """Object number of each signature widget mupdf finds -> its verdict lines (certificate,
    then digest; or just "Signature is not signed."), the distinguished name left out."""
    path = tmp_path / "mupdf.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["mutool", "sign", "-v", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[int, tuple[str, ...]] = {}
    for number, block in re.findall(
        r"^Verifying signature (\d+):\n((?:\t.*\n?)*)", result.stdout, flags=re.MULTILINE
    ):
        lines = [line.strip() for line in block.splitlines()]
        report[int(number)] = tuple(
            line for line in lines if line and not line.startswith("Distinguished name:")
        )
    return report


def signature_widgets(pdf: bytes) -> dict[str, list[int]]:
    """Signature field name -> object numbers of its widgets (the field's own when merged)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    widgets: dict[str, list[int]] = {}
    for ref in reader.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/FT") != "/Sig":
            continue
        kids = field.get("/Kids")
        numbers = [kid.idnum for kid in kids] if kids else [ref.idnum]
        widgets[str(field["/T"])] = numbers
    return widgets


def _der(padded: bytes) -> bytes:
    """A DER value without the zero padding that fills the rest of /Contents."""
    length = padded[1]
    if length < 0x80:
        return padded[: 2 + length]
    size = length & 0x7F
    return padded[: 2 + size + int.from_bytes(padded[2 : 2 + size], "big")]


def _openssl(*args: str | Path) -> str:
    result = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    return result.stdout + result.stderr


def _verdict(output: str, good: str, bad: str) -> str:
    for line in output.splitlines():
        if line.strip() in (good, bad):
            return line.strip()
    return output.strip()  # neither: the whole message, so a test failure shows why


def openssl_cms_verify(pdf: bytes, root_pem: Path, tmp_path: Path) -> dict[str, tuple[str, ...]]:
    """Field name -> openssl's verdicts, each signature checked apart from any PDF library:
    an approval's CMS with `openssl cms -verify` over its byte ranges (our root as the only
    CA, purpose any), then its signature timestamp token with `openssl ts -verify` over the
    signature value; a document timestamp's token with `openssl ts -verify` over its ranges."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    folder = tmp_path / "openssl"
    folder.mkdir(exist_ok=True)
    reader = PdfFileReader(io.BytesIO(pdf))
    report: dict[str, tuple[str, ...]] = {}
    for index, embedded in enumerate(reader.embedded_signatures):
        start, first, second, length = embedded.byte_range
        data = folder / f"{index}-signed-bytes.bin"
        data.write_bytes(pdf[start : start + first] + pdf[second : second + length])
        container = folder / f"{index}-contents.der"
        container.write_bytes(_der(bytes(embedded.pkcs7_content)))
        if embedded.sig_object_type == "/DocTimeStamp":
            output = _openssl(
                "ts", "-verify", "-data", data, "-in", container, "-token_in",
                "-CAfile", root_pem,
            )  # fmt: skip
            report[str(embedded.field_name)] = (
                _verdict(output, OPENSSL_TS_OK, "Verification: FAILED"),
            )
            continue
        output = _openssl(
            "cms", "-verify", "-binary", "-inform", "DER", "-in", container, "-content", data,
            "-CAfile", root_pem, "-purpose", "any", "-out", folder / f"{index}-content.bin",
        )  # fmt: skip
        verdicts = [_verdict(output, OPENSSL_CMS_OK, OPENSSL_CMS_BAD)]
        for attribute in embedded.signer_info["unsigned_attrs"] or ():
            if attribute["type"].native != "signature_time_stamp_token":
                continue
            token = folder / f"{index}-signature-timestamp.der"
            token.write_bytes(attribute["values"][0].dump())
            signature_digest = hashlib.sha256(embedded.signer_info["signature"].native).hexdigest()
            output = _openssl(
                "ts", "-verify", "-digest", signature_digest, "-in", token, "-token_in",
                "-CAfile", root_pem,
            )  # fmt: skip
            verdicts.append(_verdict(output, OPENSSL_TS_OK, "Verification: FAILED"))
        report[str(embedded.field_name)] = tuple(verdicts)
    return report


def root_pem_file(directory: Path) -> Path:
    """Our root CA certificate as a PEM file, for the verifiers to trust."""
    from cryptography.hazmat.primitives import serialization

    from portsign.pki.ca import Role, authority, certificate_of

    path = directory / "portsign-root.pem"
    path.write_bytes(certificate_of(authority(Role.ROOT)).public_bytes(serialization.Encoding.PEM))
    return path


def assert_verifiers_accept(pdf: bytes, directory: Path, fields: list[str]) -> None:
    """pyHanko's CLI, pdfsig, mupdf and openssl all judge each named approval signature valid
    (mupdf on every widget of its field), and openssl every document timestamp."""
    root = root_pem_file(directory)
    path = directory / "checked.pdf"
    path.write_bytes(pdf)
    result = pyhanko_validate(path, root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli_verdicts(result.stdout) == dict.fromkeys(fields, "VALID")
    report = pdfsig(pdf, root, directory)
    for field in fields:
        assert report[field]["Signature Validation"] == "Signature is Valid.", report
    widgets = signature_widgets(pdf)
    mupdf = mutool_verify(pdf, directory)
    for field in fields:
        for number in widgets[field]:
            certificate, digest = mupdf[number]  # KeyError: mupdf does not see the widget
            assert certificate in MUPDF_CERTIFICATE_OK, (field, mupdf)
            assert digest in MUPDF_DIGEST_OK, (field, mupdf)
    openssl = openssl_cms_verify(pdf, root, directory)
    for field in fields:
        assert openssl[field] == (OPENSSL_CMS_OK, OPENSSL_TS_OK), openssl
    for name, verdicts in openssl.items():
        if name not in fields and len(verdicts) == 1:  # a document timestamp
            assert verdicts == (OPENSSL_TS_OK,), openssl


def assert_verifiers_reject(pdf: bytes, directory: Path, fields: list[str]) -> None:
    """Every verifier sees the tampering in every named signature."""
    root = root_pem_file(directory)
    path = directory / "tampered.pdf"
    path.write_bytes(pdf)
    result = pyhanko_validate(path, root)
    assert result.returncode != 0
    assert cli_verdicts(result.stdout) == dict.fromkeys(fields, "INVALID")
    report = pdfsig(pdf, root, directory)
    for field in fields:
        assert report[field]["Signature Validation"] == "Digest Mismatch.", report
    widgets = signature_widgets(pdf)
    mupdf = mutool_verify(pdf, directory)
    for field in fields:
        for number in widgets[field]:
            assert mupdf[number][-1] == MUPDF_DIGEST_BAD, (field, mupdf)
    openssl = openssl_cms_verify(pdf, root, directory)
    for field in fields:
        assert openssl[field][0] == OPENSSL_CMS_BAD, openssl
