"""Pure protocol responders of PortSign's CA: OCSP (RFC 6960) and time-stamping (RFC 3161).

They take DER requests and the responder's certificate and key, and return DER answers.
Storage and HTTP live elsewhere (pki/views.py); keeping these pure makes them testable with
`openssl ocsp` and `openssl ts` against keys made in the test.

Public API:

* `ocsp_response(request_der, *, issuer, responder, lookup, now, validity)` -> DER OCSPResponse
* `ocsp_request_from_get(path_component)` -> DER OCSPRequest from the RFC 6960 GET form
* `timestamp_response(request_der, *, responder, serial, now, policy_oid, accuracy_seconds)`
  -> DER TimeStampResp

Bad requests are answered in-protocol (malformedRequest, rejection) because clients expect a
protocol answer, not an exception. Bad *arguments* from our own code (naive datetimes, a TSA
certificate without the mandatory EKU, an unsupported key type) raise, because they are bugs
or misconfiguration that no answer to the client can fix.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from asn1crypto import cms, tsp
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID


@dataclass(frozen=True)
class CertStatus:
    """What the CA knows of one serial number."""

    status: str  # "good" | "revoked" | "unknown"
    revoked_at: datetime | None = None
    reason: x509.ReasonFlags | None = None


@dataclass(frozen=True)
class Responder:
    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes


def _utc(moment: datetime, what: str) -> datetime:
    # A naive datetime would silently be read as UTC by cryptography and rejected by asn1crypto;
    # refusing it avoids answers that are off by the server's UTC offset.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def _certificate_parts(certificate: x509.Certificate) -> Any:
    # asn1crypto keeps the original encoding of every field, so names and key bits are hashed
    # and copied byte for byte as the CA signed them rather than re-encoded by cryptography.
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


# --- OCSP (RFC 6960) -------------------------------------------------------------------------


def ocsp_request_from_get(path_component: str) -> bytes:
    """Decode the RFC 6960 appendix A.1 GET form: URL-encoded base64 of the DER request.

    Percent-decoding twice is harmless (base64 has no "%"), so it is safe to pass a path that
    Django has already unquoted. "+" is kept literal: in a path it is not a space.
    """
    try:
        text = unquote(path_component, errors="strict")
        # validate=True refuses stray characters instead of silently skipping them.
        der = base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError("OCSP GET request is not URL-encoded base64") from exc
    if not der:
        raise ValueError("empty OCSP GET request")
    return der


def ocsp_response(
    request_der: bytes,
    *,
    issuer: x509.Certificate,
    responder: Responder,
    lookup: Callable[[int], CertStatus],
    now: datetime,
    validity: timedelta = timedelta(hours=1),
) -> bytes:
    """Answer one DER OCSPRequest for certificates issued by `issuer`, signed by `responder`.

    `responder` is normally a delegated signer (EKU OCSPSigning) issued by `issuer`; the CA's
    own certificate and key work too. Requests for another CA get `unauthorized`.
    """
    now = _utc(now, "now")
    if validity <= timedelta(0):
        raise ValueError("validity must be positive")
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        nonce = _ocsp_nonce(request)
    except ValueError:
        # Includes requests listing several certificates, which cryptography refuses to parse.
        return _ocsp_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not _names_issuer(request, issuer):
        # RFC 6960 2.3: a responder not authoritative for the CA answers "unauthorized";
        # "unknown" would wrongly suggest we know that CA's serial numbers.
        return _ocsp_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    builder = _add_single_response(
        ocsp.OCSPResponseBuilder(), request, lookup(request.serial_number), now, validity
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
    # Clients can only check a delegated signer's EKU and chain if we send its certificate.
    builder = builder.certificates([responder.certificate])
    if nonce is not None:
        # Echoing the nonce lets the client tell this answer was made for its request (replay).
        builder = builder.add_extension(nonce, critical=False)
    signed = builder.sign(responder.key, _ocsp_signature_hash(responder.key))
    return signed.public_bytes(serialization.Encoding.DER)


def _ocsp_unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def _ocsp_nonce(request: ocsp.OCSPRequest) -> x509.OCSPNonce | None:
    """The request's nonce; ValueError for a critical extension we do not understand."""
    nonce: x509.OCSPNonce | None = None
    for extension in request.extensions:  # parsing a broken extension raises ValueError
        if isinstance(extension.value, x509.OCSPNonce):
            nonce = extension.value
        elif extension.critical:
            # RFC 6960 4.4: unrecognised extensions are ignored unless marked critical.
            raise ValueError(f"unsupported critical extension {extension.oid.dotted_string}")
    return nonce


# The CertID hashes OCSPResponseBuilder can echo; SHA-1 stays because clients still default to it
# and a CertID only needs second-preimage resistance.
_CERT_ID_HASHES = (hashes.SHA1, hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)


def _names_issuer(request: ocsp.OCSPRequest, issuer: x509.Certificate) -> bool:
    """Whether the request's CertID hashes designate `issuer` (RFC 6960 4.1.1)."""
    try:
        algorithm = request.hash_algorithm
    except UnsupportedAlgorithm:
        # We cannot recompute the hashes, so we cannot claim to be authoritative.
        return False
    if not isinstance(algorithm, _CERT_ID_HASHES):
        return False  # recognised by the parser but not echoable by OCSPResponseBuilder
    parts = _certificate_parts(issuer)["tbs_certificate"]
    name_der: bytes = parts["subject"].dump()
    # issuerKeyHash covers the BIT STRING's value only (not the SubjectPublicKeyInfo); the
    # first content octet is the unused-bits count, always 0 for keys.
    key_bits: bytes = parts["subject_public_key_info"]["public_key"].contents[1:]
    return (
        _digest(algorithm, name_der) == request.issuer_name_hash
        and _digest(algorithm, key_bits) == request.issuer_key_hash
    )


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    hasher = hashes.Hash(algorithm)
    hasher.update(data)
    return hasher.finalize()


def _add_single_response(
    builder: ocsp.OCSPResponseBuilder,
    request: ocsp.OCSPRequest,
    status: CertStatus,
    now: datetime,
    validity: timedelta,
) -> ocsp.OCSPResponseBuilder:
    cert_status, revoked_at, reason = _ocsp_status(status)
    # The CertID is echoed with the request's own hash algorithm so that clients match it.
    return builder.add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=request.hash_algorithm,
        cert_status=cert_status,
        this_update=now,
        next_update=now + validity,
        revocation_time=revoked_at,
        revocation_reason=reason,
    )


def _ocsp_status(
    status: CertStatus,
) -> tuple[ocsp.OCSPCertStatus, datetime | None, x509.ReasonFlags | None]:
    if status.status == "good":
        return ocsp.OCSPCertStatus.GOOD, None, None
    if status.status == "unknown":
        return ocsp.OCSPCertStatus.UNKNOWN, None, None
    if status.status == "revoked":
        if status.revoked_at is None:
            raise ValueError("a revoked CertStatus needs revoked_at")
        return ocsp.OCSPCertStatus.REVOKED, _utc(status.revoked_at, "revoked_at"), status.reason
    raise ValueError(f"unknown certificate status {status.status!r}")


def _ocsp_signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    # EdDSA has its hash built in and cryptography requires None for it.
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return hashes.SHA256()


# --- Time-stamping (RFC 3161, RFC 5816) ------------------------------------------------------

# SHA-1 is refused: a collision would let one token vouch for two documents.
_TSA_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


def timestamp_response(
    request_der: bytes,
    *,
    responder: Responder,
    serial: int,
    now: datetime,
    policy_oid: str,
    accuracy_seconds: int = 1,
) -> bytes:
    """Answer one DER TimeStampReq with a DER TimeStampResp.

    `serial` must be unique per token (RFC 3161 2.4.2); the caller allocates it.
    `responder.certificate` must carry a critical EKU of exactly id-kp-timeStamping.
    """
    now = _utc(now, "now")
    if serial <= 0:
        raise ValueError("serial must be positive")
    if accuracy_seconds < 1:
        raise ValueError("accuracy_seconds must be at least 1")
    _check_tsa_certificate(responder.certificate)
    signature_algorithm = cms_signature_algorithm(responder.key)  # fail before any answer
    request = _parse_timestamp_request(request_der)
    if request is None:
        return _ts_rejection("bad_request", "malformed TimeStampReq")
    problem = _timestamp_request_problem(request, policy_oid)
    if problem is not None:
        return _ts_rejection(*problem)
    tst_info = _tst_info(request, responder, serial, now, policy_oid, accuracy_seconds)
    token = _signed_token(
        tst_info,
        responder,
        now,
        signature_algorithm,
        # RFC 3161 2.4.1: the certificate MUST be sent if certReq is true, MUST NOT otherwise.
        include_certificate=bool(request["cert_req"].native),
    )
    response = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
    der: bytes = response.dump()
    return der


def _check_tsa_certificate(certificate: x509.Certificate) -> None:
    # RFC 3161 2.3: exactly id-kp-timeStamping, critical. Verifiers (openssl ts -verify)
    # refuse tokens otherwise, so issuing them would only produce worthless timestamps.
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise ValueError("TSA certificate needs a critical EKU of exactly timeStamping")


def _parse_timestamp_request(request_der: bytes) -> Any:
    """The parsed TimeStampReq, or None when it is not valid DER of one."""
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        # asn1crypto parses lazily; walking .native forces every field to be decoded now.
        request.native  # noqa: B018
    except (ValueError, TypeError, KeyError, OverflowError):
        return None
    return request


def _timestamp_request_problem(request: Any, policy_oid: str) -> tuple[str, str] | None:
    """(PKIFailureInfo bit, statusString) of the first reason to refuse, or None."""
    if request["version"].native != "v1":
        return "bad_request", "unsupported TimeStampReq version"
    imprint = request["message_imprint"]
    algorithm: str = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in _TSA_DIGEST_SIZES:
        return "bad_alg", f"unsupported hash algorithm {algorithm}; use sha256, sha384 or sha512"
    if len(imprint["hashed_message"].native) != _TSA_DIGEST_SIZES[algorithm]:
        return "bad_data_format", f"hashedMessage has the wrong length for {algorithm}"
    requested = request["req_policy"]
    if requested.native is not None and requested.dotted != policy_oid:
        return "unaccepted_policy", f"policy {requested.dotted} is not offered"
    if request["extensions"].native is not None:
        # RFC 3161 2.4.1: unrecognised extensions, critical or not, must be refused.
        return "unaccepted_extensions", "request extensions are not supported"
    return None


def _ts_rejection(fail_info: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": [text], "fail_info": {fail_info}}
    )
    # RFC 3161 makes timeStampToken OPTIONAL (absent on rejection), but asn1crypto 1.5 declares
    # it mandatory and refuses to encode without it: wrap the status in the SEQUENCE by hand.
    der: bytes = asn1_core.Sequence(contents=status.dump()).dump()
    return der


def _tst_info(
    request: Any,
    responder: Responder,
    serial: int,
    now: datetime,
    policy_oid: str,
    accuracy_seconds: int,
) -> Any:
    fields: dict[str, Any] = {
        "version": "v1",
        "policy": policy_oid,
        "message_imprint": request["message_imprint"].copy(),
        "serial_number": serial,
        # asn1crypto writes UTC with "Z" and drops trailing zeros of the fraction (RFC 3161).
        "gen_time": now,
        "accuracy": {"seconds": accuracy_seconds},
        # ordering is left out: DER omits a DEFAULT FALSE.
        # Naming the TSA lets verifiers check the signer is the TSA the token claims.
        "tsa": _tsa_parts(responder.certificate).tsa_name,
    }
    if request["nonce"].native is not None:
        fields["nonce"] = request["nonce"].native
    return tsp.TSTInfo(fields)


def _signed_token(
    tst_info: Any,
    responder: Responder,
    now: datetime,
    signature_algorithm: dict[str, Any],
    *,
    include_certificate: bool,
) -> Any:
    """The TimeStampToken: CMS SignedData over the TSTInfo with one SignerInfo (RFC 5652)."""
    parts = _tsa_parts(responder.certificate)
    econtent: bytes = tst_info.dump()
    signed_attrs = _signed_attributes(econtent, parts, now)
    # RFC 5652 5.4: the signature covers the attributes DER-encoded as a SET (tag 0x31), not
    # with the [0] IMPLICIT tag they carry inside SignerInfo. asn1crypto sorts the SET OF on
    # dump, in the same order it will use when re-tagging it inside SignerInfo.
    signature = cms_sign(responder.key, signed_attrs.dump())
    signer_info = cms.SignerInfo(
        {
            "version": "v1",  # v1 because the signer is named by issuer and serial number
            "sid": parts.sid,
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        # v3 because the encapsulated content is not id-data (RFC 5652 5.1).
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": tst_info},
        "signer_infos": [signer_info],
    }
    if include_certificate:
        signed_data["certificates"] = [parts.certificate]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


@dataclass(frozen=True)
class _TsaParts:
    """What every token of one TSA certificate shares, encoded once and parsed back: asn1crypto
    re-encodes a name each time it is copied into a new structure, which cost ~10 ms a token;
    values parsed from DER are written out as they are."""

    certificate: Any  # CertificateChoices
    tsa_name: Any  # GeneralName of the TSA's subject
    sid: Any  # SignerIdentifier: issuer and serial number
    signing_certificate: Any  # the signing-certificate-v2 attribute


def _reparsed(value: Any) -> Any:
    return value.__class__.load(value.dump())


def _tsa_parts(certificate: x509.Certificate) -> _TsaParts:
    return _tsa_parts_of(certificate.public_bytes(serialization.Encoding.DER))


@lru_cache(maxsize=16)
def _tsa_parts_of(certificate_der: bytes) -> _TsaParts:
    parsed = asn1_x509.Certificate.load(certificate_der)
    tbs = parsed["tbs_certificate"]
    issuer_serial = {"issuer": tbs["issuer"], "serial_number": tbs["serial_number"].native}
    ess_cert_id = {
        # hashAlgorithm is left out: its DEFAULT is sha256, which DER must omit.
        "cert_hash": hashlib.sha256(certificate_der).digest(),
        "issuer_serial": {
            "issuer": [asn1_x509.GeneralName({"directory_name": tbs["issuer"]})],
            "serial_number": issuer_serial["serial_number"],
        },
    }
    return _TsaParts(
        certificate=_reparsed(cms.CertificateChoices(name="certificate", value=parsed)),
        tsa_name=_reparsed(asn1_x509.GeneralName({"directory_name": tbs["subject"]})),
        sid=_reparsed(cms.SignerIdentifier({"issuer_and_serial_number": issuer_serial})),
        # RFC 5816: binds the signer certificate, so it cannot be swapped for another one
        # with the same key; openssl ts -verify requires it.
        signing_certificate=_reparsed(
            cms.CMSAttribute(
                {"type": "signing_certificate_v2", "values": [{"certs": [ess_cert_id]}]}
            )
        ),
    )


def _signed_attributes(econtent: bytes, parts: _TsaParts, now: datetime) -> Any:
    return cms.CMSAttributes(
        [
            # content-type and message-digest are mandatory with signed attributes (RFC 5652).
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(econtent).digest()]},
            {"type": "signing_time", "values": [_cms_time(now)]},
            parts.signing_certificate,
        ]
    )


def _cms_time(moment: datetime) -> Any:
    # RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime outside that range.
    if 1950 <= moment.year <= 2049:
        return cms.Time({"utc_time": moment.replace(microsecond=0)})
    return cms.Time({"generalized_time": moment})


def sha256_signature_algorithm(key_algorithm: str) -> dict[str, Any]:
    """The CMS signatureAlgorithm of SHA-256 signatures by a key of *key_algorithm*, named as
    asn1crypto names a public key's ("rsa", "ec"): the one place for every signer of ours (the
    responders here, the vault's and the cards' signers in pki/signer.py)."""
    if key_algorithm == "rsa":
        # sha256WithRSAEncryption carries explicit NULL parameters (RFC 4055 5).
        return {"algorithm": "sha256_rsa", "parameters": asn1_core.Null()}
    if key_algorithm == "ec":
        return {"algorithm": "sha256_ecdsa"}  # parameters absent (RFC 5758 3.2)
    raise TypeError(f"keys must be RSA or ECDSA, not {key_algorithm}")


def cms_signature_algorithm(key: CertificateIssuerPrivateKeyTypes) -> dict[str, Any]:
    """The CMS signatureAlgorithm for SHA-256 signatures by `key` (also used by pki/pades.py)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return sha256_signature_algorithm("rsa")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return sha256_signature_algorithm("ec")
    raise TypeError(f"TSA keys must be RSA or ECDSA, not {type(key).__name__}")


def cms_sign(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    """A SHA-256 signature of `data` in the encoding CMS expects (RSA PKCS#1 v1.5 or ECDSA)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # cryptography returns the DER Ecdsa-Sig-Value that CMS expects.
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise TypeError(f"TSA keys must be RSA or ECDSA, not {type(key).__name__}")
