"""Anchors of the audit log: RFC 3161 time-stamps of its head by our TSA, kept in file storage.

The chain (common/audit.py) proves rows were not edited by someone without the audit key; the
anchors prove how long the log was and how it ended at each moment one was made, from outside
the database. A tail deleted with its head rewound, a rewrite by someone with the key, or a
wiped table no longer agrees with the anchors. `cleanup` (hourly) anchors the head when it
moved; `manage.py audit anchor` does it at once. Rows written after the newest anchor are
vouched for by the chain alone, so the anchoring interval bounds what can vanish unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from portsign.common.audit import Anchor, ChainReport, verify_chain
from portsign.common.models import AuditHead
from portsign.pki import services
from portsign.pki.models import CertificateAuthority


class AnchorInvalid(Exception):
    """An anchor file that is not what our TSA time-stamped."""


def _digest(seq: int, link: str) -> bytes:
    return hashlib.sha256(f"portsign-audit-anchor:{seq}:{link}".encode()).digest()


def _name(seq: int) -> str:
    return f"{settings.AUDIT_ANCHOR_PREFIX}{seq:012d}.json"


def anchor_head() -> int:
    """Time-stamp the head unless it is empty or already anchored; 1 if an anchor was made."""
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.last_seq == 0 or default_storage.exists(_name(head.last_seq)):
        return 0
    if not CertificateAuthority.objects.filter(role=CertificateAuthority.Role.TSA).exists():
        return 0  # `manage.py pki init` has not run: no TSA yet
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": _digest(head.last_seq, head.last_hash),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    )
    answer = tsp.TimeStampResp.load(services.timestamp(request.dump()))
    if answer["status"]["status"].native != "granted":
        raise AnchorInvalid("our TSA refused to time-stamp the audit head")
    token: cms.ContentInfo = answer["time_stamp_token"]
    record = {
        "seq": head.last_seq,
        "hash": head.last_hash,
        "at": _verify_token(token, _digest(head.last_seq, head.last_hash)),
        "token": base64.b64encode(token.dump()).decode(),
    }
    default_storage.save(_name(head.last_seq), ContentFile(json.dumps(record).encode()))
    return 1


def load_anchors() -> list[Anchor]:
    """Every anchor in storage, each checked as genuine; AnchorInvalid names a bad one."""
    folder = settings.AUDIT_ANCHOR_PREFIX.rstrip("/")
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    anchors = []
    for file in sorted(f for f in files if f.endswith(".json")):
        with default_storage.open(f"{folder}/{file}") as handle:
            anchors.append(_checked(file, handle.read()))
    return anchors


def verify_log() -> ChainReport:
    """The chain held against every anchor: what `audit verify` and evidence reports say."""
    try:
        anchors = load_anchors()
    except AnchorInvalid as exc:
        return ChainReport(False, 0, None, str(exc))
    return verify_chain(anchors)


def _checked(file: str, raw: bytes) -> Anchor:
    try:
        record = json.loads(raw)
        seq, link = int(record["seq"]), str(record["hash"])
        token = cms.ContentInfo.load(base64.b64decode(record["token"], validate=True))
        at = _verify_token(token, _digest(seq, link))
    except AnchorInvalid as exc:
        raise AnchorInvalid(f"anchor {file} is not genuine: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorInvalid(f"anchor {file} is unreadable: {exc}") from None
    return Anchor(seq=seq, hash=link, at=at)


def _verify_token(token: cms.ContentInfo, digest: bytes) -> str:
    """Check *token* is our TSA's signature over *digest*; its time (ISO 8601)."""
    signed = token["content"]
    content = signed["encap_content_info"]["content"]
    info = content.parsed
    imprint = info["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256" or (
        imprint["hashed_message"].native != digest
    ):
        raise AnchorInvalid("it time-stamps another head than the one it names")
    signer_info = signed["signer_infos"][0]
    certificate = _signer_certificate(signed, signer_info)
    algorithm = signer_info["digest_algorithm"]["algorithm"].native
    digest_ok, signature_ok = validate_sig_integrity(
        signer_info, certificate, "tst_info", hashlib.new(algorithm, content.contents).digest()
    )
    if not (digest_ok and signature_ok):
        raise AnchorInvalid("its time-stamp signature does not verify")
    return str(info["gen_time"].native.isoformat())


def _signer_certificate(
    signed: cms.SignedData, signer_info: cms.SignerInfo
) -> asn1_x509.Certificate:
    """The token's signing certificate, which must be issued by one of our CAs."""
    sid = signer_info["sid"].chosen
    for choice in signed["certificates"] or ():
        candidate = choice.chosen
        named = (candidate.issuer, candidate.serial_number) == (
            sid["issuer"],
            sid["serial_number"].native,
        )
        if named and _issued_by_us(x509.load_der_x509_certificate(candidate.dump())):
            return candidate
    raise AnchorInvalid("it is not signed by a time-stamping certificate of our CA")


def _issued_by_us(certificate: x509.Certificate) -> bool:
    for ca in CertificateAuthority.objects.filter(
        role__in=[CertificateAuthority.Role.ROOT, CertificateAuthority.Role.ISSUING]
    ):
        issuer = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue  # issued by another CA, or not signed by this one
        return True
    return False
