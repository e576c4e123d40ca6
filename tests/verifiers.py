"""The independent verifiers the suite runs on PortSign's PDFs: the pyHanko CLI and poppler's
pdfsig (with an NSS database trusting our root)."""

from __future__ import annotations

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


def pdfsig(pdf: bytes, root_pem: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """Field name -> {"Signature Validation": ..., "Certificate Validation": ...}."""
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
    report: dict[str, dict[str, str]] = {}
    for block in re.split(r"^Signature #\d+:$", output, flags=re.MULTILINE)[1:]:
        lines = dict(re.findall(r"^  - ([^:\n]+): (.*)$", block, flags=re.MULTILINE))
        report[lines["Signature Field Name"]] = lines
    return report


def root_pem_file(directory: Path) -> Path:
    """Our root CA certificate as a PEM file, for the verifiers to trust."""
    from cryptography.hazmat.primitives import serialization

    from portsign.pki.ca import Role, authority, certificate_of

    path = directory / "portsign-root.pem"
    path.write_bytes(certificate_of(authority(Role.ROOT)).public_bytes(serialization.Encoding.PEM))
    return path


def assert_verifiers_accept(pdf: bytes, directory: Path, fields: list[str]) -> None:
    """pyHanko's CLI and pdfsig both judge each named approval signature valid."""
    root = root_pem_file(directory)
    path = directory / "checked.pdf"
    path.write_bytes(pdf)
    result = pyhanko(
        "validate", "--trust", root, "--trust-replace", "--no-revocation-check",
        "--pretty-print", path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli_verdicts(result.stdout) == dict.fromkeys(fields, "VALID")
    report = pdfsig(pdf, root, directory)
    for field in fields:
        assert report[field]["Signature Validation"] == "Signature is Valid.", report


def assert_verifiers_reject(pdf: bytes, directory: Path, fields: list[str]) -> None:
    """Both verifiers see the tampering in every named signature."""
    root = root_pem_file(directory)
    path = directory / "tampered.pdf"
    path.write_bytes(pdf)
    result = pyhanko(
        "validate", "--trust", root, "--trust-replace", "--no-revocation-check",
        "--pretty-print", path,
    )  # fmt: skip
    assert result.returncode != 0
    assert cli_verdicts(result.stdout) == dict.fromkeys(fields, "INVALID")
    report = pdfsig(pdf, root, directory)
    for field in fields:
        assert report[field]["Signature Validation"] == "Digest Mismatch.", report
