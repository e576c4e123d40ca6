"""GET /api/v1/contracts/{id}/evidence-package: the offline evidence package (证据包) of a
completed contract, as a zip (contracts/domain/evidence_package.py says what it holds)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.contracts.domain.evidence_package import Package, build_package

router = Router(tags=["contracts"], auth=AUTH)


@router.get(
    "/{contract_id}/evidence-package",
    summary="The offline evidence package (证据包) of a completed contract",
    description=(
        "A zip with the signed PDF, the signed evidence report, the contract's audit events as "
        "hash-chained canonical JSON, every RFC 3161 token, the certificate chains, the CRLs "
        "and OCSP answers, the intent verifications (accounts masked), manifest.json with the "
        "SHA-256 of every file, sealed by PortSign's signature and a timestamp, and verify.py: "
        "`python verify.py evidence-<id>.zip` checks it all offline (exit 0 valid, 1 invalid, "
        "2 unreadable). Another enterprise's contract is a 404; one not yet completed is a 409 "
        "with the code `not_completed`. Each download is audited."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "The package, as evidence-<contract id>.zip",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def evidence_package(request: HttpRequest, contract_id: str) -> HttpResponse:
    return download(build_package(actor=signed_in_user(request), contract_id=contract_id))


def download(package: Package) -> HttpResponse:
    """The package as a zip download (the API's and the console's)."""
    response = HttpResponse(package.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{package.filename}"'
    response["X-Manifest-SHA256"] = package.manifest_sha256
    return response
