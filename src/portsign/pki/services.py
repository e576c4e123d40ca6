"""PortSign's own OCSP responder and TSA as plain functions of a DER request.

The HTTP endpoints (pki/views.py) and in-process callers (pki/pades.py signs and archives
without HTTP to ourselves) go through these, so the choice of responder key, TSA serial, clock
and policy lives in one place. Nothing here opens a transaction: the only database work is
reading the CA rows and certificate statuses.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from functools import lru_cache
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from django.conf import settings

from portsign.pki import responders
from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.revocation import status_of_serial
from portsign.pki.vault import load_private_key


@lru_cache(maxsize=16)
def _responder_for(key_id: str, certificate_pem: str) -> responders.Responder:
    # Keyed by key record and certificate, so a re-created hierarchy never gets a stale pair.
    key = cast(CertificateIssuerPrivateKeyTypes, load_private_key(key_id))
    return responders.Responder(
        certificate=x509.load_pem_x509_certificate(certificate_pem.encode()), key=key
    )


def responder(role: str) -> responders.Responder:
    """The certificate and key that answer for *role* (Role.OCSP or Role.TSA)."""
    ca = authority(role)
    return _responder_for(ca.key_id, ca.certificate_pem)


# Time-stamp serials must be unique and should increase (issue 4 §4): the high bits are the
# time in milliseconds, the low 20 bits a per-process counter seeded at random, so several
# worker processes do not collide and later tokens carry larger serials.
_counter = itertools.count(int.from_bytes(os.urandom(2), "big"))


def next_tsa_serial() -> int:
    millis = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    return (millis << 20) | (next(_counter) & 0xFFFFF)


def timestamp(request_der: bytes, *, tsa: responders.Responder | None = None) -> bytes:
    """Our TSA's DER TimeStampResp to a DER TimeStampReq (RFC 3161), with a fresh serial.

    `tsa` is `responder(Role.TSA)` looked up beforehand by callers that must not touch the
    database at this point (pyHanko calls us from inside its event loop).
    """
    return responders.timestamp_response(
        request_der,
        responder=tsa or responder(Role.TSA),
        serial=next_tsa_serial(),
        now=dt.datetime.now(dt.UTC),
        policy_oid=settings.PKI_TSA_POLICY,
    )


def ocsp(request_der: bytes) -> bytes:
    """Our OCSP responder's DER OCSPResponse for certificates of the issuing CA (RFC 6960)."""
    issuing = authority(Role.ISSUING)
    return responders.ocsp_response(
        request_der,
        issuer=certificate_of(issuing),
        responder=responder(Role.OCSP),
        lookup=lambda serial: status_of_serial(issuing, serial),
        now=dt.datetime.now(dt.UTC),
    )
