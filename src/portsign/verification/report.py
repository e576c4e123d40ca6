"""Verifying a signed PDF for anyone (SPEC D6): the public page, `POST /api/v1/verify` and the
`portsign verify` command share this one report.

The checks themselves live in pki/pades.py; this module turns them into the API.md shape, and
limits how often one address may ask (each check costs real CPU).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from portsign.common import ratelimit
from portsign.common.errors import Conflict
from portsign.pki import pades
from portsign.pki.models import CertificateAuthority
from portsign.pki.pades import SigningError

WINDOW_SECONDS = 3600


def check_rate(ip: str) -> None:
    """A fixed one-hour window per client address, counted for all workers together."""
    ratelimit.enforce(
        scope="verify",
        key=ip,
        limit=settings.VERIFY_IP_HOURLY_LIMIT,
        window_seconds=WINDOW_SECONDS,
        message=_("Too many verifications from your address. Try again later."),
        code="verify_rate_limited",
    )


def report(pdf: bytes) -> dict[str, Any]:
    """API.md: {"intact", "valid", "signatures": [...]} for *pdf*."""
    try:
        result = pades.verify(pdf)
    except CertificateAuthority.DoesNotExist as exc:  # `manage.py pki init` has not run
        raise Conflict(
            _("The certificate authority is not set up yet, so nothing can be verified."),
            code="pki_not_ready",
        ) from exc
    except SigningError as exc:
        raise SigningError(_unreadable(pdf, exc), code=exc.code, fields=exc.fields) from exc
    return {
        "intact": result.intact,
        "valid": result.valid and bool(result.signatures),
        "signatures": [
            {
                "kind": s.kind,
                "signer": s.signer,
                "enterprise": s.organisation,
                "enterprise_id": s.organisation_identifier.removeprefix("NTRCN-"),
                "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                "timestamp": s.timestamp.isoformat() if s.timestamp else None,
                "certificate_status": s.certificate_status,
                "covers_whole_document": s.covers_whole_document,
                "intact": s.intact,
                "modification_level": s.modification_level,
                "valid": s.valid,
            }
            for s in result.signatures
        ],
    }


def _unreadable(pdf: bytes, error: SigningError) -> str:
    """What to tell anyone whose file cannot be verified: a sentence in their language, never
    the PDF library's own (English, technical) message, which pades puts in some errors."""
    if error.code == "pdf_encrypted":
        return _("This is not a PDF file that can be verified: it is password-protected.")
    if error.code == "signature_unreadable":
        return _("A signature in this PDF is damaged and cannot be read.")
    if pdf.lstrip()[:5] != b"%PDF-":
        return _("This is not a PDF file that can be verified: the file is not a PDF document.")
    return _("This is not a PDF file that can be verified: the file is damaged or incomplete.")
