"""PAdES signing engine: visible approval signatures (B-T), archiving (B-LTA) and verification.

Public API: `sign_approval`, `archive`, `verify`, with `Mark`, `Report`, `SignatureReport`
and `SigningError` (one `code` per kind of bad input; never a bare pyHanko exception).

* `sign_approval` adds ONE approval signature per call (no certification/DocMDP signature, so
  later parties can still add theirs): CAdES detached (/ETSI.CAdES.detached) with the
  signing-certificate-v2 attribute and a signature timestamp from our TSA, called in process
  (`_InProcessTimeStamper` hands the request to `services.timestamp`: no HTTP to ourselves).
* `archive` makes the document B-LTA: a DSS with every certificate, OCSP response (from our
  responder, in process) and CRL (`build_crl`) that the signatures and timestamps need, and a
  document timestamp over it, both in one incremental revision.
* `verify` reports each signature and document timestamp as pyHanko judges it against our root,
  offline: the DSS certificates plus revocation data our CA produces now. A signer certificate
  revoked or put on hold only after the time its signature timestamp proves, for a reason
  other than key compromise, leaves the signature valid (issue 14 point 3, E-Port cards held
  when lost, revoked when cancelled): `_revoked_after_signing`.

Marks, field and widgets: pades_fields.py (every mark is a widget of the party's one signature
field, a paging seal 骑缝章 one widget per page; each widget has /Parent and the field's /V,
which mupdf and poppler need: measured and explained there); images, the date stamp and the
appearance streams: appearances.py. tests/pki/test_pades_verifiers.py holds pyHanko, pdfsig,
mupdf and openssl to their exact verdicts on a two-party archived document and on an invisible
signature.

How: pyHanko's PdfSigner insists on one widget per field, so the field is built by
pades_fields.add_field and pyHanko's lower-level PdfCMSEmbedder writes the placeholder and the
byte-range digest; the CMS itself is assembled here from parts encoded once per signer
(`_cms_parts`), because asn1crypto re-encodes certificates and names every time pyHanko's
Signer puts them in a new structure.

Speed (bench/sign.py, 10-page PDF, visible seal, RSA-2048): ~9 ms a signature against ~215 ms
for stock pyHanko used as documented (ratio ~0.04). Keys come parsed from `signer_for`,
decoded images (by sha256 of the PNG) and rendered date stamps are cached per process, TSA
tokens reuse their certificate parts, and there is no size-estimation dry run: the reservation
is computed from the certificates' sizes, so one signature is one RSA signature and one token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypedDict

from asn1crypto import algos, cms, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.signers.cms_embedder import PdfCMSEmbedder, SigIOSetup, SigObjSetup
from pyhanko.sign.signers.pdf_byterange import SignatureObject
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError, ValidationInfoReadingError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portsign.common.aio import run_sync
from portsign.common.pdf import PDF_READ_ERRORS
from portsign.pki import services
from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.models import IssuedCertificate
from portsign.pki.pades_fields import Field, Mark, SigningError, add_field, check_field_name
from portsign.pki.responders import Responder
from portsign.pki.revocation import build_crl
from portsign.pki.signer import TokenSigner, VaultSigner, signer_for, to_asn1, token_signer

__all__ = [
    "Mark",
    "Report",
    "SignatureReport",
    "SigningError",
    "archive",
    "sign_approval",
    "timestamper",
    "verify",
]

logger = logging.getLogger(__name__)

MD_ALGORITHM = "sha256"
# Room for the CMS container, whose size is only known after signing: its certificates (known),
# a TSA token (about its certificate plus as much again: measured 1.2 kB for ECDSA P-256, 1.8
# kB for RSA-2048, 2.2 kB for RSA-3072) and the signed attributes and signature, plus margin.
# Tight on purpose: readers (pyHanko too) parse /Contents as hex, ~2 ms per kB.
RESERVE_MARGIN = 2048


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    kind: str  # "approval", "certification" or "timestamp" (a document timestamp)
    signer: str  # the certificate's common name (the TSA's, for a document timestamp)
    organisation: str
    organisation_identifier: str  # ETSI organizationIdentifier, e.g. "NTRCN-<USCC>"
    signed_at: dt.datetime | None  # as claimed by the signer (/M)
    timestamp: dt.datetime | None  # from the TSA: the signature's or the document timestamp
    certificate_status: str  # now: "good", "revoked" (on hold too) or "untrusted"
    revoked_at: dt.datetime | None
    covers_whole_document: bool
    intact: bool  # the signed bytes are unchanged and the signature matches them
    # The certificate chains to our root and is not revoked; for a signature revoked after
    # signing (below): was not revoked at the time its timestamp proves.
    trusted: bool
    modification_level: str  # what later revisions did: "none", "lta_updates", ... "other"
    valid: bool  # pyHanko's bottom line: all of the above, and any timestamp, are fine
    # The signer's certificate is revoked (or on hold) now, but only since after the signature
    # timestamp, and not for key compromise: the signature stays valid.
    revoked_after_signing: bool = False
    # RFC 5280 CRLReason of a revocation, as asn1crypto names it ("certificate_hold",
    # "cessation_of_operation", "key_compromise", ...); "" when not revoked.
    revocation_reason: str = ""


@dataclass(frozen=True)
class Report:
    intact: bool  # every signature's bytes are intact
    valid: bool  # every signature is valid
    signatures: tuple[SignatureReport, ...]

    @property
    def approvals(self) -> tuple[SignatureReport, ...]:
        return tuple(s for s in self.signatures if s.kind != "timestamp")

    @property
    def timestamps(self) -> tuple[SignatureReport, ...]:
        return tuple(s for s in self.signatures if s.kind == "timestamp")


class _InProcessTimeStamper(TimeStamper):
    """pyHanko's TSA client, answered by our own TSA function instead of over HTTP."""

    def __init__(self, responder: Responder) -> None:
        super().__init__(include_nonce=True)
        self._responder = responder
        self.token_size_bound = 2 * len(
            responder.certificate.public_bytes(serialization.Encoding.DER)
        )

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        answer = services.timestamp(req.dump(), tsa=self._responder)
        return tsp.TimeStampResp.load(answer)


def timestamper() -> _InProcessTimeStamper:
    """A pyHanko TimeStamper backed by PortSign's TSA in this process (one DB read)."""
    return _InProcessTimeStamper(services.responder(Role.TSA))


# --- reading input ---------------------------------------------------------------------------


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise SigningError(_("The file is not a PDF document."), code="pdf_invalid")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # Read the page tree now, so a broken file fails here and not deep in pyHanko.
        pages = int(writer.root["/Pages"]["/Count"])
    except PDF_READ_ERRORS as exc:
        raise SigningError(
            _("The PDF document cannot be read: %(error)s") % {"error": exc},
            code="pdf_invalid",
        ) from exc
    if pages < 1:
        raise SigningError(_("The PDF document has no pages."), code="pdf_invalid")
    if writer.prev.security_handler is not None:
        raise SigningError(
            _("The PDF document is encrypted; PortSign handles unprotected documents only."),
            code="pdf_encrypted",
        )
    return writer


def _reader(pdf: bytes) -> PdfFileReader:
    return _writer(pdf).prev


# --- signing ---------------------------------------------------------------------------------


def _check_certificate(certificate_id: str) -> None:
    """Only a valid, unexpired certificate signs: `signer_for` caches keys, not statuses."""
    row = (
        IssuedCertificate.objects.filter(pk=certificate_id)
        .values("status", "not_before", "not_after")
        .first()
    )
    if row is None:
        raise SigningError(_("Unknown certificate."), code="certificate_unknown")
    if row["status"] != IssuedCertificate.Status.VALID:
        raise SigningError(
            _("The certificate is %(status)s and cannot sign.") % {"status": row["status"]},
            code="certificate_not_valid",
        )
    if not row["not_before"] <= timezone.now() < row["not_after"]:
        raise SigningError(
            _("The certificate is outside its validity period."), code="certificate_expired"
        )


def sign_approval(
    pdf: bytes,
    *,
    certificate_id: str,
    marks: list[Mark],
    field_name: str,
    reason: str = "",
    location: str = "",
    signer_name: str = "",
    token_sign: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """`pdf` with one more PAdES B-T approval signature by issued certificate `certificate_id`,
    shown by `marks` (none: an invisible signature). Raises SigningError on bad input.

    *token_sign* signs with a key that stays on a PKCS#11 token (an E-Port card): it gets the
    DER of the signed attributes and returns RSA PKCS#1 v1.5 SHA-256 made on the token; without
    it, the certificate's key comes from the vault."""
    _check_certificate(certificate_id)
    writer = _writer(pdf)
    check_field_name(writer.prev, field_name)
    field = add_field(writer, field_name, marks)
    signer: VaultSigner | TokenSigner
    if token_sign is None:
        signer = signer_for(certificate_id)
    else:
        signer = token_signer(certificate_id, token_sign)
    stamper = timestamper()
    return run_sync(
        lambda: _sign(
            writer,
            field,
            signer,
            stamper,
            field_name=field_name,
            reason=reason,
            location=location,
            signer_name=signer_name,
        )
    )


async def _sign(
    writer: IncrementalPdfFileWriter,
    field: Field,
    signer: VaultSigner | TokenSigner,
    stamper: _InProcessTimeStamper,
    *,
    field_name: str,
    reason: str,
    location: str,
    signer_name: str,
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    # pyHanko's PdfSigner insists on a single widget per field, so the field is built by
    # add_field and pyHanko's lower-level embedder fills it: placeholder, byte-range digest,
    # CMS. The embedder sets the field's /V; link_value gives each widget the same.
    embedder = PdfCMSEmbedder().write_cms(field_name=field_name, writer=writer)
    next(embedder)
    signature_ref = embedder.send(
        SigObjSetup(
            sig_placeholder=SignatureObject(
                timestamp=now,
                subfilter=SigSeedSubFilter.PADES,
                name=signer_name or None,
                location=location or None,
                reason=reason or None,
                # Hex digits: two per byte of DER.
                bytes_reserved=2
                * (
                    len(_cms_parts(signer).certificates.dump())
                    + stamper.token_size_bound
                    + RESERVE_MARGIN
                ),
            )
        )
    )
    field.link_value(signature_ref)  # before the revision is written out
    prepared, output = embedder.send(SigIOSetup(md_algorithm=MD_ALGORITHM))
    signed_data = await _cms_signature(prepared.document_digest, signer, stamper)
    try:
        embedder.send(signed_data)
    except PyHankoSigningError as exc:  # pragma: no cover -- reserve sized for RSA-3072
        raise SigningError(_("The signature does not fit its reserved space.")) from exc
    result: bytes = output.getvalue()
    return result


@dataclass(frozen=True)
class _CmsParts:
    """What is the same in every CMS signature of one signer, encoded once: asn1crypto
    re-encodes certificates and names each time they are put in a new structure (tens of ms
    per signature inside pyHanko's Signer.async_sign); parsed-from-DER values are copied as is."""

    digest_algorithm: Any
    signature_algorithm: Any
    sid: Any
    certificates: Any
    fixed_attributes: tuple[Any, ...]


def _reparsed(value: Any) -> Any:
    return value.__class__.load(value.dump())


def _cms_parts(signer: VaultSigner | TokenSigner) -> _CmsParts:
    # A token signer is made for one use and holds that use's PIN: never kept in a cache.
    return _vault_parts(signer) if isinstance(signer, VaultSigner) else _build_parts(signer)


@lru_cache(maxsize=1024)
def _vault_parts(signer: VaultSigner) -> _CmsParts:
    return _build_parts(signer)


def _build_parts(signer: VaultSigner | TokenSigner) -> _CmsParts:
    certificate = signer.signing_cert
    assert certificate is not None  # signer_for always sets it
    digest_algorithm = algos.DigestAlgorithm({"algorithm": MD_ALGORITHM})
    signature_algorithm = algos.SignedDigestAlgorithm(signer.cms_algorithm())
    chain = [certificate, *(c for c in signer.cert_registry if c.sha256 != certificate.sha256)]
    issuer_serial = {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
    attributes = [
        {"type": "content_type", "values": ["data"]},
        {
            # ETSI EN 319 122-1 5.2.2.3 (PAdES baseline): binds the signer's certificate.
            # hashAlgorithm is left out: its DEFAULT is sha256, which DER must omit.
            "type": "signing_certificate_v2",
            "values": [
                {
                    "certs": [
                        {
                            "cert_hash": hashlib.sha256(certificate.dump()).digest(),
                            "issuer_serial": {
                                "issuer": [
                                    asn1_x509.GeneralName({"directory_name": certificate.issuer})
                                ],
                                "serial_number": certificate.serial_number,
                            },
                        }
                    ]
                }
            ],
        },
        {
            # RFC 6211: stops a verifier being tricked into another algorithm.
            "type": "cms_algorithm_protection",
            "values": [
                {
                    "digest_algorithm": digest_algorithm,
                    "signature_algorithm": signature_algorithm,
                }
            ],
        },
    ]
    return _CmsParts(
        digest_algorithm=_reparsed(digest_algorithm),
        signature_algorithm=_reparsed(signature_algorithm),
        sid=_reparsed(cms.SignerIdentifier({"issuer_and_serial_number": issuer_serial})),
        certificates=_reparsed(
            cms.CertificateSet([cms.CertificateChoices(name="certificate", value=c) for c in chain])
        ),
        fixed_attributes=tuple(_reparsed(cms.CMSAttribute(a)) for a in attributes),
    )


async def _cms_signature(
    digest: bytes, signer: VaultSigner | TokenSigner, stamper: _InProcessTimeStamper
) -> bytes:
    """A CAdES detached SignedData (PAdES B-T) over the byte-range digest: content-type,
    message-digest, signing-certificate-v2 and algorithm protection signed; the signature
    timestamp token (RFC 3161 over the signature value) unsigned. No signing-time: PAdES
    takes the claimed time from the signature dictionary's /M."""
    parts = _cms_parts(signer)
    signed_attrs = cms.CMSAttributes(
        [*parts.fixed_attributes, {"type": "message_digest", "values": [digest]}]
    )
    # RFC 5652 5.4: the signature covers the attributes as a SET (asn1crypto's default tag).
    signature = signer.sign_sha256(signed_attrs.dump())
    token = await stamper.async_timestamp(hashlib.sha256(signature).digest(), MD_ALGORITHM)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",  # v1: the signer is named by issuer and serial number
            "sid": parts.sid,
            "digest_algorithm": parts.digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": parts.signature_algorithm,
            "signature": signature,
            "unsigned_attrs": [{"type": "signature_time_stamp_token", "values": [token]}],
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [parts.digest_algorithm],
            "encap_content_info": {"content_type": "data"},  # detached: no content
            "certificates": parts.certificates,
            "signer_infos": [signer_info],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der


# --- validation data -------------------------------------------------------------------------


def _certificates_of(signed_data: cms.SignedData) -> Iterable[asn1_x509.Certificate]:
    """Certificates in a CMS SignedData, including those of its signature timestamp tokens."""
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            yield choice.chosen
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == "signature_time_stamp_token":
                for token in attribute["values"]:
                    yield from _certificates_of(token["content"])


def _document_certificates(reader: PdfFileReader) -> list[asn1_x509.Certificate]:
    found: dict[bytes, asn1_x509.Certificate] = {}
    for embedded in reader.embedded_signatures:
        for cert in (embedded.signer_cert, *_certificates_of(embedded.signed_data)):
            found.setdefault(cert.sha256, cert)
    try:
        for cert in DocumentSecurityStore.read_dss(reader).load_certs():
            found.setdefault(cert.sha256, cert)
    except ValidationInfoReadingError:  # no DSS yet
        pass
    return list(found.values())


@dataclass(frozen=True)
class _RevocationData:
    root: asn1_x509.Certificate  # the trust anchor
    certificates: list[asn1_x509.Certificate]
    ocsps: list[asn1_ocsp.OCSPResponse]
    crls: list[asn1_crl.CertificateList]


def _revocation_data(document_certs: list[asn1_x509.Certificate]) -> _RevocationData:
    """Our CA's current word on every certificate it issued that the document relies on:
    an OCSP answer per end-entity certificate of the issuing CA, and both CAs' CRLs (the root's
    covers the issuing CA and the TSA)."""
    issuing_ca, root_ca = authority(Role.ISSUING), authority(Role.ROOT)
    issuing = certificate_of(issuing_ca)
    ocsp_responder = certificate_of(authority(Role.OCSP))
    tsa = certificate_of(authority(Role.TSA))
    ours = [to_asn1(c) for c in (certificate_of(root_ca), issuing, ocsp_responder, tsa)]
    issuing_name = to_asn1(issuing).subject
    ocsps = []
    for cert in document_certs:
        if cert.issuer == issuing_name and cert.sha256 != ours[2].sha256:
            request = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(
                    x509.load_der_x509_certificate(cert.dump()), issuing, hashes.SHA256()
                )
                .build()
            )
            der = services.ocsp(request.public_bytes(serialization.Encoding.DER))
            ocsps.append(asn1_ocsp.OCSPResponse.load(der))
    crls = [asn1_crl.CertificateList.load(build_crl(ca)) for ca in (root_ca, issuing_ca)]
    certificates = {c.sha256: c for c in (*ours, *document_certs)}
    return _RevocationData(ours[0], list(certificates.values()), ocsps, crls)


def _validation_context(
    data: _RevocationData, *, moment: dt.datetime | None = None
) -> ValidationContext:
    """Validation now, or with `moment` as at that past time (pyHanko's point-in-time
    validation). Our CRLs and OCSP answers are made now, after `moment`: retroactive_revinfo
    lets pyHanko use them anyway, and it then counts a revocation only if its date (CRL entry,
    OCSP revokedInfo) is before `moment`."""
    return ValidationContext(
        trust_roots=[data.root],
        other_certs=data.certificates,
        ocsps=data.ocsps,
        crls=data.crls,
        allow_fetching=False,  # everything needed is supplied; never touch the network
        revocation_mode="hard-fail",
        moment=moment,
        retroactive_revinfo=moment is not None,
    )


# --- archiving (B-LTA) -----------------------------------------------------------------------


def archive(pdf: bytes) -> bytes:
    """`pdf` made PAdES B-LTA: DSS (certificates, OCSP, CRLs for every signature and timestamp
    in it) and a document timestamp, in one incremental revision. May be repeated later to
    extend the archive before the last timestamp's certificate expires."""
    writer = _writer(pdf)
    if not writer.prev.embedded_signatures:
        raise SigningError(_("The document has no signature to archive."), code="not_signed")
    data = _revocation_data(_document_certificates(writer.prev))
    stamper = timestamper()
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=data.certificates, ocsps=data.ocsps, crls=data.crls
    )
    return run_sync(lambda: _document_timestamp(writer, stamper))


async def _document_timestamp(
    writer: IncrementalPdfFileWriter, stamper: _InProcessTimeStamper
) -> bytes:
    output = await PdfTimeStamper(stamper).async_timestamp_pdf(
        writer, MD_ALGORITHM, bytes_reserved=2 * (stamper.token_size_bound + RESERVE_MARGIN)
    )
    result: bytes = output.getvalue()
    return result


# --- verification ----------------------------------------------------------------------------


def verify(pdf: bytes) -> Report:
    """How every signature and document timestamp in `pdf` validates against our root, with
    the revocation data our CA gives now (no network); a signer revoked after its signature
    timestamp, other than for key compromise, as at that time (`_revoked_after_signing`).
    Raises SigningError if not a PDF."""
    reader = _reader(pdf)
    try:  # only the reading: an error in our own code below must stay a 500, not a 400
        embedded = reader.embedded_signatures
        certificates = _document_certificates(reader)
    except PDF_READ_ERRORS as exc:  # a broken signature dictionary
        raise SigningError(
            _("A signature in the document cannot be read: %(error)s") % {"error": exc},
            code="signature_unreadable",
        ) from exc
    data = _revocation_data(certificates)
    signatures = run_sync(lambda: _verify_all(embedded, data))
    return Report(
        intact=bool(signatures) and all(s.intact for s in signatures),
        valid=bool(signatures) and all(s.valid for s in signatures),
        signatures=tuple(signatures),
    )


async def _verify_all(
    embedded: list[EmbeddedPdfSignature], data: _RevocationData
) -> list[SignatureReport]:
    return [await _verify_one(signature, data) for signature in embedded]


async def _verify_one(embedded: EmbeddedPdfSignature, data: _RevocationData) -> SignatureReport:
    # One context per signature: pyHanko caches path results in it.
    context = _validation_context(data)
    kind = _kind(embedded)
    status: Any
    signing_time: dt.datetime | None = None  # set when judged as at the signature timestamp
    try:
        if kind == "timestamp":
            status = await async_validate_pdf_timestamp(embedded, validation_context=context)
            tsa_time = status.timestamp
            trusted = status.trusted
            valid = status.valid and status.intact and status.trusted
            valid = valid and status.docmdp_ok is not False
        else:
            status = await async_validate_pdf_signature(
                embedded, signer_validation_context=context, ts_validation_context=context
            )
            validity = status.timestamp_validity
            tsa_time = validity.timestamp if validity else None
            judged = status
            signing_time = _revoked_after_signing(status)
            if signing_time is not None:
                # Only for a signer revoked now, so the others cost nothing more: the signer
                # judged as at the timestamp's time, the token itself (its TSA) still now.
                judged = await async_validate_pdf_signature(
                    embedded,
                    signer_validation_context=_validation_context(data, moment=signing_time),
                    ts_validation_context=context,
                )
            trusted = judged.trusted
            valid = judged.bottom_line
    except (SignatureValidationError, PdfError, ValueError, RecursionError) as exc:
        return _unverifiable(embedded, kind, exc)
    details = status.revocation_details
    level = status.modification_level
    return SignatureReport(
        field_name=str(embedded.field_name),
        kind=kind,
        **_names(status.signing_cert),
        signed_at=embedded.self_reported_timestamp,
        timestamp=tsa_time,
        certificate_status=_certificate_status(status),
        revoked_at=details.revocation_date if details else None,
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        intact=bool(status.intact and status.valid),
        trusted=bool(trusted),
        modification_level=level.name.lower() if level is not None else "unknown",
        valid=bool(valid),
        revoked_after_signing=signing_time is not None and bool(valid),
        revocation_reason=str(details.revocation_reason.native) if details else "",
    )


# Reasons that condemn every signature of the key whenever it was made: whoever held the key
# (or the CA's) could have made one since and had it time-stamped with any content; a timestamp
# proves when a signature existed, not who made it (RFC 5280 5.3.1). pyHanko's point-in-time
# validation makes no such exception, hence this check before it. Of these, our CA only ever
# gives key_compromise (issuance.REASONS); the others are refused on principle.
_COMPROMISED = frozenset({"key_compromise", "ca_compromise", "aa_compromise"})


def _revoked_after_signing(status: Any) -> dt.datetime | None:
    """The time proven by the signature's timestamp, if the signer's own certificate was
    revoked or put on hold only after it, for a reason other than compromise: the signature
    is then judged as at that time. None otherwise (not revoked, a CA revoked, no trustworthy
    timestamp, revoked at or before its time, or the key compromised)."""
    details, stamp = status.revocation_details, status.timestamp_validity
    if details is None or details.ca_revoked or stamp is None:
        return None
    if details.revocation_reason.native in _COMPROMISED:
        return None
    if not (stamp.intact and stamp.valid and stamp.trusted):
        return None
    signing_time: dt.datetime = stamp.timestamp
    return signing_time if details.revocation_date > signing_time else None


def _certificate_status(status: Any) -> str:
    if status.revocation_details is not None:
        return "revoked"
    # Judged on the certificate alone (a path to our root, no trust problem), so a tampered
    # document still shows whether its signer's certificate is good.
    if status.validation_path is not None and status.trust_problem_indic is None:
        return "good"
    return "untrusted"


class _Names(TypedDict):
    signer: str
    organisation: str
    organisation_identifier: str


def _names(certificate: asn1_x509.Certificate) -> _Names:
    subject = certificate.subject.native

    def first(key: str) -> str:
        value = subject.get(key, "")
        return str(value[0] if isinstance(value, list) else value)

    return {
        "signer": first("common_name"),
        "organisation": first("organization_name"),
        "organisation_identifier": first("organization_identifier"),
    }


def _unverifiable(embedded: EmbeddedPdfSignature, kind: str, error: Exception) -> SignatureReport:
    """A signature pyHanko could not even evaluate (e.g. a mangled CMS): reported as invalid."""
    logger.warning("signature %s cannot be validated: %s", embedded.field_name, error)
    try:
        names = _names(embedded.signer_cert)
    except (ValueError, KeyError, TypeError):
        names = _Names(signer="", organisation="", organisation_identifier="")
    return SignatureReport(
        field_name=str(embedded.field_name),
        kind=kind,
        **names,
        signed_at=None,
        timestamp=None,
        certificate_status="untrusted",
        revoked_at=None,
        covers_whole_document=False,
        intact=False,
        trusted=False,
        modification_level="unknown",
        valid=False,
    )


def _kind(embedded: EmbeddedPdfSignature) -> str:
    if embedded.sig_object_type == "/DocTimeStamp":
        return "timestamp"
    return "certification" if embedded.docmdp_level is not None else "approval"
