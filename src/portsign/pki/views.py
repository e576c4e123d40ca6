"""Public PKI endpoints (API.md "PKI endpoints"): CA certificates, CRLs, OCSP and the TSA.

Plain Django views, not the JSON API: relying parties speak the RFC wire formats.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from portsign.pki import responders, services
from portsign.pki.ca import Role, ca_cert_url, crl_url
from portsign.pki.models import CertificateAuthority
from portsign.pki.revocation import build_crl

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
    answer = services.ocsp(body if len(body) <= MAX_REQUEST else b"")
    return HttpResponse(answer, content_type="application/ocsp-response")


@csrf_exempt
@require_http_methods(["POST"])
def tsa(request: HttpRequest) -> HttpResponse:
    if request.content_type != "application/timestamp-query":
        return HttpResponse("expected application/timestamp-query", status=415)
    answer = services.timestamp(request.body[:MAX_REQUEST])
    return HttpResponse(answer, content_type="application/timestamp-reply")
