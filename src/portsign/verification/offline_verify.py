#!/usr/bin/env python3
"""Stand-alone verifier of a PortSign evidence package (证据包离线验证).

    python verify.py evidence-<contract>.zip      (or an unpacked directory; default: here)
    python verify.py --root portsign-root.pem evidence-<contract>.zip

Needs only Python 3.11+, pyHanko, pyhanko-certvalidator and asn1crypto: no PortSign server,
database or network (every validation context has allow_fetching=False and holds only the
package's own certificates, CRLs and OCSP answers). Prints one line per check and a verdict;
exits 0 when every check passed, 1 when any failed, 2 when the package cannot be read at all.

Why a changed byte in any file is caught:

* ``manifest.json`` lists the SHA-256 of every other file (the ``files`` check: a file missing,
  altered or not listed fails by name);
* ``manifest-timestamp.der`` is an RFC 3161 token over manifest.json from PortSign's TSA;
* ``manifest.sig`` is the raw signature of PortSign's platform certificate over manifest.json
  followed by manifest-timestamp.der. Those two files are covered by it byte for byte and the
  signature file is nothing but the signature value, so no byte of the three escapes. The
  token dates the signature: the platform certificate is judged at the token's time, with the
  revocation data of that moment, and must carry the platform's own subject.

Every signature and document timestamp of the PDFs is validated by pyHanko at the time of the
PDF's newest document timestamp (the B-LTA archive time, proven by that token), against the
package's root, with the CRLs and OCSP answers stored when the PDF was archived: the validation
data of the same moment, which stays conclusive after it has expired. A signer certificate that
data shows revoked or on hold only since after the signature's own timestamp, for a reason
other than key compromise, is judged as at that timestamp instead, and the signature stays
valid (PortSign's rule, as in its pades.verify: E-Port cards are held when lost and revoked
when cancelled; signatures made before stay valid).

Trust: a forger could build a consistent package under a root of their own, so the root's
SHA-256 fingerprint is printed; compare it with PortSign's published root, or pass ``--root``
with the root certificate obtained from PortSign, and the package's root must be that one.

The audit trail (``audit/events.json``) is chained publicly: hash_i = SHA-256(hash_{i-1} ||
canonical JSON of entry_i), the previous link as its 64 hex characters, from 64 zeros; the head
must be the one in the signed manifest.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import io
import json
import sys
import warnings
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, pem, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

# pyHanko imports cryptography's DSA classes, which recent cryptography releases deprecate at
# import; this verifier never meets a DSA key, and its reader should see only its answer.
warnings.filterwarnings("ignore", message="DSA is deprecated")
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp  # noqa: E402
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data  # noqa: E402
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature  # noqa: E402
from pyhanko.sign.validation.status import SignatureCoverageLevel  # noqa: E402
from pyhanko_certvalidator import CertificateValidator, ValidationContext  # noqa: E402
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator  # noqa: E402

VALID, INVALID, UNREADABLE = 0, 1, 2
FORMAT = "portsign-evidence-package/1"
MANIFEST = "manifest.json"
# Files the manifest cannot list (they protect it); everything else must be listed.
SEAL_FILES = ("manifest-timestamp.der", "manifest.sig")
# The subject of PortSign's platform certificate (pki/platform.py): only it seals packages.
PLATFORM_COMMON_NAME = "港签 PortSign 平台"
PLATFORM_ORGANIZATION = "PortSign"
GENESIS = "0" * 64


class Unreadable(Exception):
    """The package (or its manifest) cannot be read at all."""


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    failed: bool = False

    def ok(self, text: str) -> None:
        self.lines.append(f"OK    {text}")

    def fail(self, text: str) -> None:
        self.failed = True
        self.lines.append(f"FAIL  {text}")

    def note(self, text: str) -> None:
        self.lines.append(text)


@dataclass
class Material:
    """The package's trust root, certificates and revocation data."""

    root: asn1_x509.Certificate
    certificates: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    ocsps: list[asn1_ocsp.OCSPResponse]

    def context(
        self, moment: dt.datetime | None, *, retroactive: bool = False
    ) -> ValidationContext:
        """As at *moment*; *retroactive*: revocation data issued after it is used too (a
        revocation then counts only if dated before *moment*)."""
        return ValidationContext(
            trust_roots=[self.root],
            other_certs=self.certificates,
            crls=self.crls,
            ocsps=self.ocsps,
            allow_fetching=False,  # offline: only what the package holds
            revocation_mode="hard-fail",
            moment=moment,
            retroactive_revinfo=retroactive,
        )


# -- reading ------------------------------------------------------------------------------------


def read_package(path: Path) -> dict[str, bytes]:
    """Every file of the zip or directory, by its path inside the package."""
    if path.is_dir():
        return {
            p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*"))
            if p.is_file()
        }
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            if len(names) != len(set(names)):
                raise Unreadable(f"{path.name}: the zip holds two files of the same name")
            return {name: archive.read(name) for name in names}
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise Unreadable(f"{path.name}: not a readable zip file or directory ({exc})") from exc


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def read_json(files: dict[str, bytes], name: str) -> Any:
    """A JSON file that must be in canonical form (so its bytes are its only encoding)."""
    try:
        value = json.loads(files[name].decode("utf-8"))
    except KeyError:
        raise ValueError(f"{name}: missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{name}: not valid JSON ({exc})") from exc
    if canonical(value) != files[name]:
        raise ValueError(f"{name}: not in canonical JSON form")
    return value


def read_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    if MANIFEST not in files:
        raise Unreadable(f"{MANIFEST}: missing, this is not an evidence package")
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"{MANIFEST}: unreadable, not valid JSON ({exc})") from exc
    required = ("format", "files", "root", "revocation", "timestamps", "audit", "signature")
    if not isinstance(manifest, dict) or any(key not in manifest for key in required):
        raise Unreadable(f"{MANIFEST}: unreadable, a required entry is missing")
    if manifest["format"] != FORMAT:
        raise Unreadable(f"{MANIFEST}: unknown format {manifest['format']!r}")
    return manifest


def certificates_in(data: bytes) -> list[asn1_x509.Certificate]:
    found = [asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, True)]
    for certificate in found:
        certificate.native  # parse it all now: a damaged certificate fails here  # noqa: B018
    return found


def load_material(
    files: dict[str, bytes], manifest: dict[str, Any], result: Result
) -> Material | None:
    """Certificates, CRLs and OCSP answers; a damaged one is a failure naming its file. None
    without a readable root: then nothing can be validated, only hashes compared."""
    certificates: dict[bytes, asn1_x509.Certificate] = {}
    root: asn1_x509.Certificate | None = None
    for name in sorted(n for n in files if n.startswith("certificates/") and n.endswith(".pem")):
        try:
            found = certificates_in(files[name])
        except (ValueError, TypeError) as exc:
            result.fail(f"{name}: unreadable certificate ({exc})")
            continue
        for certificate in found:
            certificates.setdefault(certificate.sha256, certificate)
        if name == manifest["root"] and found:
            root = found[0]
    if root is None:
        result.fail(f"{manifest['root']}: no readable root certificate, nothing can be validated")
        return None
    crls, ocsps = [], []
    for name in manifest["revocation"].get("crls", []):
        crls += _revocation(files, name, asn1_crl.CertificateList, result)
    for name in manifest["revocation"].get("ocsps", []):
        ocsps += _revocation(files, name, asn1_ocsp.OCSPResponse, result)
    return Material(root, list(certificates.values()), crls, ocsps)


def _revocation(files: dict[str, bytes], name: str, kind: Any, result: Result) -> list[Any]:
    try:
        value = kind.load(files[name], strict=True)
        value.native  # noqa: B018 -- parse it all now
        return [value]
    except (KeyError, ValueError, TypeError) as exc:
        result.fail(f"{name}: unreadable revocation data ({exc})")
        return []


def _utc(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fingerprint(certificate: asn1_x509.Certificate) -> str:
    return certificate.sha256.hex()


# -- time-stamp tokens --------------------------------------------------------------------------


def _tst_info(signed: cms.SignedData) -> tsp.TSTInfo:
    info = signed["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("not an RFC 3161 time-stamp token")
    return info


def _load_token(data: bytes) -> tuple[cms.SignedData, tsp.TSTInfo]:
    token = cms.ContentInfo.load(data, strict=True)
    if token["content_type"].native != "signed_data":
        raise ValueError("not a CMS SignedData")
    return token["content"], _tst_info(token["content"])


async def check_token(
    data: bytes, material: Material, expected: Callable[[str], bytes]
) -> tuple[bool, str, dt.datetime]:
    """(imprint matches, problem or "", time) of a token, validated at its own time."""
    signed, info = _load_token(data)
    moment = info["gen_time"].native
    algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    if expected(algorithm) != info["message_imprint"]["hashed_message"].native:
        return False, "", moment
    status = await validate_tst_signed_data(signed, material.context(moment), expected)
    if not (status["intact"] and status["valid"]):
        return True, "the TSA's signature does not match the token", moment
    if status["trust_problem_indic"] is not None:
        return True, f"the TSA certificate is not trusted ({status['trust_problem_indic']})", moment
    return True, "", moment


def _tsa_name(data: bytes) -> str:
    signed, _info = _load_token(data)
    names = [c.chosen.subject.native.get("common_name", "") for c in signed["certificates"] or ()]
    return str(names[0]) if names else "?"


# -- the manifest's seal ------------------------------------------------------------------------


async def check_manifest_timestamp(
    files: dict[str, bytes], material: Material, result: Result
) -> dt.datetime | None:
    name, manifest = SEAL_FILES[0], files[MANIFEST]
    try:
        matches, problem, moment = await check_token(
            files[name], material, lambda algo: hashlib.new(algo, manifest).digest()
        )
    except Exception as exc:  # a verifier reports, never crashes, on hostile input
        result.fail(f"{name}: unreadable time-stamp token ({type(exc).__name__}: {exc})")
        return None
    if not matches:
        result.fail(f"{MANIFEST}: its SHA-256 is not the one time-stamped in {name}")
    elif problem:
        result.fail(f"{name}: {problem}")
    else:
        result.ok(
            f"{name}: RFC 3161 token over {MANIFEST} by {_tsa_name(files[name])} at {_utc(moment)}"
        )
        return moment
    return None


def _platform_certificate(material: Material, data: bytes) -> asn1_x509.Certificate:
    leaf = certificates_in(data)[0]
    subject = leaf.subject.native
    if (subject.get("common_name"), subject.get("organization_name")) != (
        PLATFORM_COMMON_NAME,
        PLATFORM_ORGANIZATION,
    ):
        raise ValueError(f"signed by {leaf.subject.human_friendly}, not by the PortSign platform")
    return leaf


async def check_manifest_signature(
    files: dict[str, bytes],
    manifest: dict[str, Any],
    material: Material,
    moment: dt.datetime | None,
    result: Result,
) -> None:
    spec = manifest["signature"]
    name, sealed = SEAL_FILES[1], files[MANIFEST] + files.get(SEAL_FILES[0], b"")
    try:
        leaf = _platform_certificate(material, files[spec["certificate"]])
        DefaultSignatureValidator().validate_signature(
            files[name],
            sealed,
            leaf.public_key,
            algos.SignedDigestAlgorithm({"algorithm": spec["algorithm"]}),
        )
    except Exception as exc:  # a verifier reports, never crashes, on hostile input
        result.fail(
            f"{name}: the platform signature over {MANIFEST} and {SEAL_FILES[0]} does not "
            f"verify ({type(exc).__name__}: {exc})"
        )
        return
    try:
        validator = CertificateValidator(
            leaf, material.certificates, validation_context=material.context(moment)
        )
        await validator.async_validate_usage(set())
    except Exception as exc:
        result.fail(f"{spec['certificate']}: the platform certificate is not valid ({exc})")
        return
    result.ok(
        f"{name}: {MANIFEST} and {SEAL_FILES[0]} signed by {PLATFORM_COMMON_NAME}, certificate "
        f"valid at {_utc(moment)}"
    )


async def check_seal(
    files: dict[str, bytes], manifest: dict[str, Any], material: Material, result: Result
) -> None:
    """The manifest's token, then the platform's signature over the manifest and the token."""
    moment = await check_manifest_timestamp(files, material, result)
    await check_manifest_signature(files, manifest, material, moment, result)


# -- files and the audit chain --------------------------------------------------------------------


def check_files(files: dict[str, bytes], manifest: dict[str, Any], result: Result) -> None:
    listed: dict[str, str] = manifest["files"]
    for name in sorted(set(files) | set(listed)):
        if name == MANIFEST or name in SEAL_FILES:
            continue
        if name not in files:
            result.fail(f"{name}: listed in {MANIFEST} but missing")
        elif name not in listed:
            result.fail(f"{name}: not listed in {MANIFEST}")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            result.fail(f"{name}: SHA-256 differs from {MANIFEST}: the file was altered")
        else:
            result.ok(f"{name}: SHA-256 matches {MANIFEST}")


def chain_link(previous: str, entry: Any) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical(entry)).hexdigest()


def check_audit_chain(files: dict[str, bytes], manifest: dict[str, Any], result: Result) -> None:
    spec = manifest["audit"]
    name = spec["file"]
    try:
        chained = read_json(files, name)
        link = spec.get("genesis", GENESIS)
        for number, item in enumerate(chained, start=1):
            link = chain_link(link, item["entry"])
            if item["hash"] != link:
                seq = item["entry"].get("seq", "?")
                result.fail(
                    f"{name}: entry {number} (record #{seq}) does not match its chain hash: "
                    "the entry was altered, removed or reordered"
                )
                return
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        result.fail(f"{name}: unreadable audit trail ({exc})")
        return
    if link != spec["head"] or len(chained) != spec["entries"]:
        result.fail(f"{name}: the chain ends at {link}, not at the head signed in {MANIFEST}")
        return
    result.ok(f"{name}: hash chain of {len(chained)} entries intact, head {link}")


def check_intents(files: dict[str, bytes], manifest: dict[str, Any], result: Result) -> None:
    name = manifest.get("intents", "intents/intents.json")
    try:
        records = read_json(files, name)
        methods = sorted({str(r["method"]) for r in records})
    except (ValueError, KeyError, TypeError) as exc:
        result.fail(f"{name}: unreadable intent records ({exc})")
        return
    counts = ", ".join(f"{m} {sum(r['method'] == m for r in records)}" for m in methods)
    used = sum(1 for r in records if r.get("used_at"))
    result.ok(f"{name}: {len(records)} intent verifications ({counts}), {used} used to sign")


# -- the PDFs -------------------------------------------------------------------------------------


def _archive_time(signatures: list[EmbeddedPdfSignature]) -> dt.datetime | None:
    stamps = [s for s in signatures if s.sig_object_type == "/DocTimeStamp"]
    if not stamps:
        return None
    moment: dt.datetime = _tst_info(stamps[-1].signed_data)["gen_time"].native
    return moment


def _signer(embedded: EmbeddedPdfSignature) -> str:
    subject = embedded.signer_cert.subject.native
    return str(subject.get("common_name") or embedded.signer_cert.subject.human_friendly)


# Revocation reasons that condemn every signature of the key whenever it was made: whoever held
# the key (or the CA's) could have made and time-stamped one since (RFC 5280 5.3.1).
COMPROMISED = frozenset({"key_compromise", "ca_compromise", "aa_compromise"})


def _revoked_after_signing(status: Any) -> dt.datetime | None:
    """The time proven by the signature's timestamp, if the signer's own certificate was
    revoked or put on hold only after it, for a reason other than compromise. None otherwise
    (not revoked, a CA revoked, no trustworthy timestamp, revoked at or before its time, or
    the key compromised)."""
    details, stamp = status.revocation_details, status.timestamp_validity
    if details is None or details.ca_revoked or stamp is None:
        return None
    if details.revocation_reason.native in COMPROMISED:
        return None
    if not (stamp.intact and stamp.valid and stamp.trusted):
        return None
    signing_time: dt.datetime = stamp.timestamp
    return signing_time if details.revocation_date > signing_time else None


async def _check_signature(
    pdf_name: str, embedded: EmbeddedPdfSignature, material: Material, moment: dt.datetime
) -> tuple[bool, str]:
    field_name = embedded.field_name
    context = material.context(moment)
    after = ""
    if embedded.sig_object_type == "/DocTimeStamp":
        status: Any = await async_validate_pdf_timestamp(embedded, validation_context=context)
        ok = status.valid and status.intact and status.trusted and status.docmdp_ok is not False
        what = f'document timestamp "{field_name}" at {_utc(status.timestamp)}'
    else:
        status = await async_validate_pdf_signature(
            embedded, signer_validation_context=context, ts_validation_context=context
        )
        stamped = status.timestamp_validity.timestamp if status.timestamp_validity else None
        what = f'signature "{field_name}" by {_signer(embedded)}, time-stamped {_utc(stamped)}'
        signing_time = _revoked_after_signing(status)
        if signing_time is not None:
            # The signer judged as at its timestamp (the revocation data is from the archive
            # time, later: retroactive), the token itself still at the archive time.
            details = status.revocation_details
            status = await async_validate_pdf_signature(
                embedded,
                signer_validation_context=material.context(signing_time, retroactive=True),
                ts_validation_context=context,
            )
            after = (
                f" (certificate revoked at {_utc(details.revocation_date)} for "
                f"{details.revocation_reason.native}, after its timestamp)"
            )
        ok = status.bottom_line
    if ok:
        return True, f"{pdf_name}: {what}: valid{after}"
    problems = f"intact={status.intact}, valid={status.valid}, trusted={status.trusted}"
    return False, f"{pdf_name}: {what}: NOT valid ({problems})"


async def check_pdf(name: str, files: dict[str, bytes], material: Material, result: Result) -> None:
    try:
        pdf = files[name]
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        moment = _archive_time(signatures)
    except Exception as exc:  # a verifier reports, never crashes, on hostile input
        result.fail(f"{name}: unreadable PDF ({type(exc).__name__}: {exc})")
        return
    if not signatures or moment is None:
        result.fail(f"{name}: no signature with a document timestamp (not PAdES B-LTA)")
        return
    result.note(f"      {name}: validated as at its archive time {_utc(moment)}")
    for embedded in signatures:
        try:
            ok, line = await _check_signature(name, embedded, material, moment)
        except Exception as exc:
            ok, line = False, f'{name}: "{embedded.field_name}" cannot be validated ({exc})'
        (result.ok if ok else result.fail)(line)
    last = signatures[-1]
    if last.evaluate_signature_coverage() != SignatureCoverageLevel.ENTIRE_FILE:
        result.fail(f"{name}: bytes after the last document timestamp are not covered")


def _stamped(pdf: bytes, embedded: EmbeddedPdfSignature, stamps: str) -> Callable[[str], bytes]:
    if stamps == "document":
        _start, first, second, length = embedded.byte_range
        covered = pdf[:first] + pdf[second : second + length]
        return lambda algo: hashlib.new(algo, covered).digest()
    value = embedded.signer_info["signature"].native
    return lambda algo: hashlib.new(algo, value).digest()


async def check_tokens(
    files: dict[str, bytes], manifest: dict[str, Any], material: Material, result: Result
) -> None:
    readers: dict[str, dict[str, EmbeddedPdfSignature]] = {}
    for spec in manifest["timestamps"]:
        name, pdf_name = spec["file"], spec["pdf"]
        what = f'the {spec["stamps"]} "{spec["field"]}" in {pdf_name}'
        try:
            if pdf_name not in readers:
                reader = PdfFileReader(io.BytesIO(files[pdf_name]))
                readers[pdf_name] = {str(s.field_name): s for s in reader.embedded_signatures}
            embedded = readers[pdf_name][spec["field"]]
            expected = _stamped(files[pdf_name], embedded, spec["stamps"])
            matches, problem, moment = await check_token(files[name], material, expected)
        except Exception as exc:  # a verifier reports, never crashes, on hostile input
            result.fail(f"{name}: cannot be checked against {what} ({type(exc).__name__}: {exc})")
            continue
        if not matches:
            result.fail(f"{name}: its imprint is not {what}")
        elif problem:
            result.fail(f"{name}: {problem}")
        else:
            result.ok(f"{name}: RFC 3161 token of {_utc(moment)} over {what}")


# -- the whole ------------------------------------------------------------------------------------


async def verify_files(files: dict[str, bytes], trusted_root: bytes | None = None) -> Result:
    result = Result()
    manifest = read_manifest(files)
    contract = manifest.get("contract", {})
    result.note(f"contract: {contract.get('id', '?')} {contract.get('title', '')}".rstrip())
    material = load_material(files, manifest, result)
    if material is not None:
        check_root(manifest, material, trusted_root, result)
        await check_seal(files, manifest, material, result)
    check_files(files, manifest, result)
    check_audit_chain(files, manifest, result)
    check_intents(files, manifest, result)
    if material is not None:
        for name in manifest.get("pdfs", []):
            await check_pdf(name, files, material, result)
        await check_tokens(files, manifest, material, result)
    return result


def check_root(
    manifest: dict[str, Any], material: Material, trusted_root: bytes | None, result: Result
) -> None:
    result.note(f"root: {material.root.subject.human_friendly}")
    result.note(f"root SHA-256: {_fingerprint(material.root)}")
    if trusted_root is None:
        return
    try:
        pinned = (certificates_in(trusted_root) or [None])[0]
    except (ValueError, TypeError):
        pinned = None
    if pinned is None:
        raise Unreadable("--root: not a PEM certificate")
    if pinned.sha256 != material.root.sha256:
        result.fail(f"{manifest['root']}: not the root certificate given with --root")
    else:
        result.ok(f"{manifest['root']}: the root certificate given with --root")


def _verified(files: dict[str, bytes], trusted_root: bytes | None) -> Result:
    """verify_files run to completion; in a helper thread when this thread already runs an
    event loop, which asyncio.run refuses (this file stands alone, so it cannot share
    portsign.common.aio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(verify_files(files, trusted_root))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(verify_files(files, trusted_root))).result()


def run_files(files: dict[str, bytes], trusted_root: bytes | None = None) -> tuple[int, list[str]]:
    """(exit code, lines) of verifying a package's files (without the header line)."""
    try:
        result = _verified(files, trusted_root)
    except Unreadable as exc:
        return UNREADABLE, [f"FAIL  {exc}", "VERDICT: UNREADABLE (无法读取)"]
    if result.failed:
        return INVALID, [*result.lines, "VERDICT: INVALID (验证未通过)"]
    return VALID, [*result.lines, "VERDICT: VALID (验证通过)"]


def run(path: Path, trusted_root: Path | None = None) -> tuple[int, list[str]]:
    """(exit code, lines) of verifying the package at *path* (a zip or a directory)."""
    header = f"PortSign evidence package verifier: {path.resolve().name}"
    try:
        files = read_package(path)
        root = trusted_root.read_bytes() if trusted_root else None
    except (Unreadable, OSError) as exc:
        return UNREADABLE, [header, f"FAIL  {exc}", "VERDICT: UNREADABLE (无法读取)"]
    code, lines = run_files(files, root)
    return code, [header, *lines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a PortSign evidence package offline.")
    parser.add_argument(
        "package",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="the .zip, or the directory it was unpacked to (default: this script's directory)",
    )
    parser.add_argument("--root", type=Path, help="PortSign's root certificate (PEM) to pin")
    options = parser.parse_args(argv)
    code, lines = run(options.package, options.root)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
