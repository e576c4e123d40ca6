"""Public PKI endpoints (API.md "PKI endpoints"): CA certificates, CRLs, OCSP and the TSA.

Plain Django views, not the JSON API: relying parties speak the RFC wire formats.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import cast

from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from portsign.pki import responders
from portsign.pki.ca import Role, authority, ca_cert_url, certificate_of, crl_url
from portsign.pki.models import CertificateAuthority
from portsign.pki.revocation import build_crl, status_of_serial
from portsign.pki.vault import load_private_key

MAX_REQUEST = 64 * 1024  # OCSP and time-stamp requests are a few hundred bytes


def _ca_or_404(name: str) -> CertificateAuthority:
    ca = CertificateAuthority.objects.filter(pk=name).first()
    if ca is None:
        raise Http404
    return ca


@require_GET
def ca_list(request: HttpRequest) -> JsonResponse:
    items = [
        {
            "name": ca.name,
            "role": ca.role,
            "pem_url": ca_cert_url(ca.name),
            **({"crl_url": crl_url(ca.name)} if ca.role in (Role.ROOT, Role.ISSUING) else {}),
        }
        for ca in CertificateAuthority.objects.order_by("created_at")
    ]
    return JsonResponse(items, safe=False)


@require_GET
def ca_pem(request: HttpRequest, name: str) -> HttpResponse:
    return HttpResponse(_ca_or_404(name).certificate_pem, content_type="application/x-pem-file")


@require_GET
def crl(request: HttpRequest, name: str) -> HttpResponse:
    ca = _ca_or_404(name)
    if ca.role not in (Role.ROOT, Role.ISSUING):
        raise Http404
    return HttpResponse(build_crl(ca), content_type="application/pkix-crl")


def _responder(role: str) -> responders.Responder:
    ca = authority(role)
    key = cast(CertificateIssuerPrivateKeyTypes, load_private_key(ca.key_id))
    return responders.Responder(certificate=certificate_of(ca), key=key)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ocsp(request: HttpRequest, encoded: str = "") -> HttpResponse:
    if request.method == "POST":
        body = request.body[: MAX_REQUEST + 1]
    else:
        try:
            body = responders.ocsp_request_from_get(encoded)
        except ValueError:
            body = b""
    issuing = authority(Role.ISSUING)
    answer = responders.ocsp_response(
        body if len(body) <= MAX_REQUEST else b"",
        issuer=certificate_of(issuing),
        responder=_responder(Role.OCSP),
        lookup=lambda serial: status_of_serial(issuing, serial),
        now=dt.datetime.now(dt.UTC),
    )
    return HttpResponse(answer, content_type="application/ocsp-response")


# Time-stamp serials must be unique and should increase (issue 4 §4): the high bits are the
# time in milliseconds, the low 20 bits a per-process counter seeded at random, so several
# worker processes do not collide and later tokens carry larger serials.
_counter = itertools.count(int.from_bytes(os.urandom(2), "big"))


def _tsa_serial() -> int:
    millis = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    return (millis << 20) | (next(_counter) & 0xFFFFF)


@csrf_exempt
@require_http_methods(["POST"])
def tsa(request: HttpRequest) -> HttpResponse:
    if request.content_type != "application/timestamp-query":
        return HttpResponse("expected application/timestamp-query", status=415)
    answer = responders.timestamp_response(
        request.body[:MAX_REQUEST],
        responder=_responder(Role.TSA),
        serial=_tsa_serial(),
        now=dt.datetime.now(dt.UTC),
        policy_oid=settings.PKI_TSA_POLICY,
    )
    return HttpResponse(answer, content_type="application/timestamp-reply")
