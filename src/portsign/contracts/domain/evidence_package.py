"""The offline evidence package (证据包, issue 13 "Beyond the anchors"): one zip per completed
contract that a court, an auditor or the other party can check years later with no PortSign
server, database or network — only Python, pyHanko and asn1crypto.

What it holds (every path is fixed, so the stand-alone verifier knows where to look):

* ``contract.pdf`` — the signed document as it is now (B-LTA: DSS and a document timestamp);
* ``evidence-report.pdf`` — a fresh evidence report (出证报告), signed by the platform and
  time-stamped; issuing it is audited, so the package's log mentions it;
* ``audit/events.json`` — the contract's audit events as canonical JSON (sorted keys, UTF-8,
  no whitespace), each with a *public* hash chain: ``hash_i = SHA-256(hash_{i-1} ||
  canonical(entry_i))`` over the hex text of the previous link, from 64 zeros. The platform's
  own log is chained with an HMAC under a key outsiders never see (common/audit.py), so it
  cannot be recomputed offline; each entry keeps that log's ``seq`` and link so PortSign can
  still show the rows are in its log. Mobile numbers are masked (138****0000);
* ``intents/intents.json`` — every intent verification (意愿校验) of the signers: SMS/e-mail code
  or QR confirmation, the bound digest and marks, times, the account masked;
* ``timestamps/*.der`` — every RFC 3161 token in both PDFs (signature timestamps and document
  timestamps), each named in the manifest with what it stamps;
* ``certificates/*.pem`` — the root, and the full chain (leaf first) of every certificate the
  PDFs and the manifest rely on;
* ``revocation/*.crl``, ``revocation/*.ocsp`` — the CRLs and OCSP answers in the PDFs' DSS:
  the ones used when they were archived;
* ``verify.py`` — the stand-alone verifier (portsign/verification/offline_verify.py);
* ``manifest.json`` — the SHA-256 of every file above, the audit chain's head, and what each
  token stamps;
* ``manifest-timestamp.der`` — an RFC 3161 token from PortSign's TSA over manifest.json;
* ``manifest.sig`` — the platform certificate's raw signature over manifest.json followed by
  manifest-timestamp.der.

How the manifest itself is protected: its bytes and its token's bytes are all covered by the
platform's signature, and the signature file is nothing but the signature value, so a changed
byte anywhere in those three files makes the signature (or the token) fail; every other file
is held to its hash in the manifest. The token dates the manifest, so the platform certificate
is judged at that time with the revocation data of the same moment (from the evidence report's
DSS, made just before). The signer must be the platform's own certificate (its subject is
checked), under the package's root; since anyone can make a self-consistent package under a
root of their own, the verifier prints the root's fingerprint and accepts ``--root`` to pin
PortSign's published root. Finally the manifest's SHA-256 is written to PortSign's audit log
(``contract.evidence_package``), so PortSign can confirm later that it issued that package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import ValidationInfoReadingError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from portsign.accounts.models import User
from portsign.common.aio import run_sync
from portsign.common.audit import record_event
from portsign.common.errors import Conflict
from portsign.common.models import AuditEvent
from portsign.contracts.domain import documents, evidence
from portsign.contracts.domain.contracts import visible_contract
from portsign.contracts.enums import ContractStatus
from portsign.contracts.models import Contract, SigningIntent
from portsign.pki import pades
from portsign.pki.platform import platform_certificate_id
from portsign.pki.signer import root_certificate, signer_for

FORMAT = "portsign-evidence-package/1"
GENESIS = "0" * 64
MANIFEST = "manifest.json"
MANIFEST_TIMESTAMP = "manifest-timestamp.der"
MANIFEST_SIGNATURE = "manifest.sig"
CONTRACT_PDF = "contract.pdf"
REPORT_PDF = "evidence-report.pdf"
AUDIT_FILE = "audit/events.json"
INTENTS_FILE = "intents/intents.json"
ROOT_FILE = "certificates/root.pem"
VERIFIER = "verify.py"
MD = "sha256"

# A mainland mobile number on its own (not inside an id or a hash), with or without +86.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+86)?(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Package:
    filename: str
    content: bytes
    manifest_sha256: str


# -- encodings ----------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """The one encoding of a JSON value: sorted keys, UTF-8, no whitespace."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_link(previous: str, entry: Mapping[str, Any]) -> str:
    """The package's public audit chain: SHA-256 of the previous link's hex text and the
    entry's canonical JSON."""
    return hashlib.sha256(previous.encode("ascii") + canonical_json(entry)).hexdigest()


def mask_mobile(text: str) -> str:
    """Every mainland mobile number in *text* as 138****0000."""
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_mobile(value)
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def mask_account(address: str) -> str:
    """A phone as 138****0000, an e-mail as a***@example.cn."""
    if "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    national = address.removeprefix("+86")
    return f"{national[:3]}****{national[-4:]}" if len(national) >= 8 else "****"


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _pem(der: bytes) -> bytes:
    armored: bytes = pem.armor("CERTIFICATE", der)
    return armored


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "field"


# -- the audit log and the intents ----------------------------------------------------------------


def audit_entries(contract: Contract) -> list[dict[str, Any]]:
    """The contract's audit events, as the package states them."""
    events = AuditEvent.objects.filter(object_type="contract", object_id=contract.id)
    return [
        _masked(
            {
                "seq": event.seq,
                "at": _iso(event.at),
                "actor_id": event.actor_id,
                "acting_as": event.acting_as,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "data": event.data,
                "log_prev_hash": event.prev_hash,
                "log_hash": event.hash,
            }
        )
        for event in events.order_by("seq")
    ]


def audit_file(entries: list[dict[str, Any]]) -> tuple[bytes, str]:
    """audit/events.json and the head of its chain."""
    link, chained = GENESIS, []
    for entry in entries:
        link = chain_link(link, entry)
        chained.append({"entry": entry, "hash": link})
    return canonical_json(chained), link


def _intent_method(intent: SigningIntent) -> str:
    if intent.by_qr:
        return "qr"
    return "sms" if intent.user.phone else "email"


def intent_records(contract: Contract) -> list[dict[str, Any]]:
    """Every intent verification on the contract, accounts masked."""
    intents = SigningIntent.objects.filter(contract=contract).select_related("party", "user")
    return [
        {
            "intent_id": intent.id,
            "party_position": intent.party.position,
            "party_kind": intent.party.kind,
            "enterprise_id": intent.party.enterprise_id or "",
            "signer_id": intent.user_id,
            "signer_name": intent.user.name,
            "account": mask_account(intent.user.phone or intent.user.email or ""),
            "method": _intent_method(intent),
            "digest": intent.digest,
            "marks": intent.marks,
            "requested_at": _iso(intent.created_at),
            "confirmed_at": _iso(intent.confirmed_at),
            "used_at": _iso(intent.used_at),
            "expires_at": _iso(intent.expires_at),
        }
        for intent in intents.order_by("created_at", "id")
    ]


# -- what the PDFs hold -------------------------------------------------------------------------


@dataclass
class Material:
    """Certificates and revocation data gathered from the PDFs, each once."""

    certificates: dict[bytes, asn1_x509.Certificate] = field(default_factory=dict)
    crls: dict[str, bytes] = field(default_factory=dict)  # by SHA-256
    ocsps: dict[str, bytes] = field(default_factory=dict)

    def add_certificate(self, certificate: asn1_x509.Certificate) -> None:
        self.certificates.setdefault(certificate.sha256, certificate)


def _token_certificates(signed_data: cms.SignedData) -> Iterable[asn1_x509.Certificate]:
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            yield choice.chosen


def _signature_tokens(embedded: EmbeddedPdfSignature) -> list[cms.ContentInfo]:
    tokens: list[cms.ContentInfo] = []
    for attribute in embedded.signer_info["unsigned_attrs"] or ():
        if attribute["type"].native == "signature_time_stamp_token":
            tokens += list(attribute["values"])
    return tokens


def _streams(references: Iterable[Any], purpose: DecodePurpose) -> list[bytes]:
    return [bytes(ref.get_object().read_data(purpose)) for ref in references]


def collect_dss(reader: PdfFileReader, material: Material) -> None:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except ValidationInfoReadingError:  # not archived: nothing stored
        return
    for certificate in dss.load_certs():
        material.add_certificate(certificate)
    for der in _streams(dss.crls, DecodePurpose.CRL):
        material.crls.setdefault(hashlib.sha256(der).hexdigest(), der)
    for der in _streams(dss.ocsps, DecodePurpose.OCSP_RESPONSE):
        material.ocsps.setdefault(hashlib.sha256(der).hexdigest(), der)


def pdf_tokens(
    label: str, pdf_name: str, reader: PdfFileReader, material: Material
) -> tuple[dict[str, bytes], list[dict[str, str]]]:
    """Every RFC 3161 token of the PDF as a file, and what each stamps; certificates of the
    signatures and tokens go into *material*."""
    files: dict[str, bytes] = {}
    described: list[dict[str, str]] = []
    for index, embedded in enumerate(reader.embedded_signatures, start=1):
        name = str(embedded.field_name)
        material.add_certificate(embedded.signer_cert)
        if embedded.sig_object_type == "/DocTimeStamp":
            tokens = [
                cms.ContentInfo({"content_type": "signed_data", "content": embedded.signed_data})
            ]
            stamps = "document"
        else:
            tokens, stamps = _signature_tokens(embedded), "signature"
        for certificate in _token_certificates(embedded.signed_data):
            material.add_certificate(certificate)
        for number, token in enumerate(tokens, start=1):
            for certificate in _token_certificates(token["content"]):
                material.add_certificate(certificate)
            suffix = f"-{number}" if len(tokens) > 1 else ""
            # A document timestamp's field is named by a UUID: the manifest gives it.
            what = stamps if stamps == "document" else f"{_slug(name)}-{stamps}"
            path = f"timestamps/{label}-{index:02d}-{what}{suffix}.der"
            files[path] = token.dump()
            described.append({"file": path, "pdf": pdf_name, "field": name, "stamps": stamps})
    return files, described


def _chain(
    leaf: asn1_x509.Certificate, by_subject: dict[bytes, asn1_x509.Certificate]
) -> list[asn1_x509.Certificate]:
    chain = [leaf]
    while chain[-1].issuer.dump() != chain[-1].subject.dump() and len(chain) < 8:
        issuer = by_subject.get(chain[-1].issuer.dump())
        if issuer is None:
            break
        chain.append(issuer)
    return chain


def certificate_files(
    material: Material, root: asn1_x509.Certificate, platform: asn1_x509.Certificate
) -> tuple[dict[str, bytes], str]:
    """certificates/root.pem and one full chain (leaf first) per end-entity certificate, and
    the path of the platform's chain."""
    material.add_certificate(root)
    material.add_certificate(platform)
    by_subject = {c.subject.dump(): c for c in material.certificates.values()}
    files = {ROOT_FILE: _pem(root.dump())}
    for certificate in material.certificates.values():
        if certificate.ca:
            continue
        path = f"certificates/{certificate.serial_number:x}.pem"
        files[path] = b"".join(_pem(c.dump()) for c in _chain(certificate, by_subject))
    return files, f"certificates/{platform.serial_number:x}.pem"


def revocation_files(material: Material) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    files: dict[str, bytes] = {}
    for number, der in enumerate(sorted(material.crls.values()), start=1):
        files[f"revocation/{number:02d}.crl"] = der
    for number, der in enumerate(sorted(material.ocsps.values()), start=1):
        files[f"revocation/{number:02d}.ocsp"] = der
    listed = {
        "crls": sorted(p for p in files if p.endswith(".crl")),
        "ocsps": sorted(p for p in files if p.endswith(".ocsp")),
    }
    return files, listed


# -- the platform's seal on the manifest ----------------------------------------------------------


def seal_manifest(manifest: bytes) -> tuple[bytes, bytes]:
    """An RFC 3161 token over the manifest from our TSA, and the platform certificate's raw
    signature over the manifest followed by that token."""
    stamper = pades.timestamper()
    token = run_sync(lambda: stamper.async_timestamp(hashlib.sha256(manifest).digest(), MD))
    token_der: bytes = token.dump()
    signer = signer_for(platform_certificate_id())
    signature: bytes = signer.sign_raw(manifest + token_der, MD)
    return token_der, signature


def signature_algorithm() -> str:
    mechanism = signer_for(platform_certificate_id()).get_signature_mechanism_for_digest(MD)
    return str(mechanism["algorithm"].native)


# -- the package ----------------------------------------------------------------------------------


def _manifest(
    contract: Contract,
    files: Mapping[str, bytes],
    *,
    head: str,
    entries: int,
    timestamps: list[dict[str, str]],
    revocation: dict[str, list[str]],
    platform_chain: str,
    created_at: dt.datetime,
) -> bytes:
    return canonical_json(
        {
            "format": FORMAT,
            "created_at": _iso(created_at),
            "contract": {
                "id": contract.id,
                "title": contract.title,
                "status": contract.status,
                "completed_at": _iso(contract.completed_at),
                "sha256": contract.current.sha256,
            },
            "files": {path: hashlib.sha256(data).hexdigest() for path, data in files.items()},
            "pdfs": [CONTRACT_PDF, REPORT_PDF],
            "root": ROOT_FILE,
            "revocation": revocation,
            "timestamps": timestamps,
            "audit": {"file": AUDIT_FILE, "genesis": GENESIS, "head": head, "entries": entries},
            "intents": INTENTS_FILE,
            "signature": {
                "file": MANIFEST_SIGNATURE,
                "certificate": platform_chain,
                "algorithm": signature_algorithm(),
                "signs": [MANIFEST, MANIFEST_TIMESTAMP],
                "timestamp": MANIFEST_TIMESTAMP,
            },
        }
    )


def _zip(files: Mapping[str, bytes], moment: dt.datetime) -> bytes:
    stamp = moment.astimezone(dt.UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path])
    return out.getvalue()


def _pdf_files(
    contract_pdf: bytes, report_pdf: bytes, material: Material
) -> tuple[dict[str, bytes], list[dict[str, str]]]:
    files = {CONTRACT_PDF: contract_pdf, REPORT_PDF: report_pdf}
    timestamps: list[dict[str, str]] = []
    for label, name in (("contract", CONTRACT_PDF), ("report", REPORT_PDF)):
        reader = PdfFileReader(io.BytesIO(files[name]))
        tokens, described = pdf_tokens(label, name, reader, material)
        collect_dss(reader, material)
        files.update(tokens)
        timestamps += described
    return files, timestamps


def build_package(*, actor: User, contract_id: str) -> Package:
    """The evidence package of a completed contract the actor may see; audited."""
    contract = visible_contract(actor=actor, contract_id=contract_id)
    if contract.status != ContractStatus.COMPLETED:
        raise Conflict(
            _("An evidence package is made once the contract is completed."),
            code="not_completed",
        )
    report_pdf = evidence.report_pdf(actor=actor, contract_id=contract.id)  # audited first
    material = Material()
    files, timestamps = _pdf_files(documents.read_document(contract.current), report_pdf, material)
    platform = signer_for(platform_certificate_id()).signing_cert
    assert platform is not None  # signer_for always sets it
    certificates, platform_chain = certificate_files(material, root_certificate(), platform)
    revocation, listed = revocation_files(material)
    audit_bytes, head = audit_file(entries := audit_entries(contract))
    files |= certificates | revocation
    files[AUDIT_FILE] = audit_bytes
    files[INTENTS_FILE] = canonical_json(intent_records(contract))
    files[VERIFIER] = (
        resources.files("portsign.verification").joinpath("offline_verify.py").read_bytes()
    )
    created_at = dt.datetime.now(dt.UTC)
    manifest = _manifest(
        contract,
        files,
        head=head,
        entries=len(entries),
        timestamps=timestamps,
        revocation=listed,
        platform_chain=platform_chain,
        created_at=created_at,
    )
    token, signature = seal_manifest(manifest)
    files |= {MANIFEST: manifest, MANIFEST_TIMESTAMP: token, MANIFEST_SIGNATURE: signature}
    digest = hashlib.sha256(manifest).hexdigest()
    record_event(
        action="contract.evidence_package",
        actor_id=actor.id,
        object_type="contract",
        object_id=contract.id,
        data={"manifest_sha256": digest, "final_sha256": contract.current.sha256},
    )
    return Package(f"evidence-{contract.id}.zip", _zip(files, created_at), digest)
