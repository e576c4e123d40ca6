"""A verification result in words, for people: the public page and the 验签报告 (report PDF).

The API keeps its codes (`good`, `revoked`, ISO 8601 UTC times, API.md); only these readers
get Beijing time, status words and a verdict sentence. Both take the same `Facts`, so the page
and the report it offers to download cannot say different things.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from portsign.common.errors import Invalid

BEIJING = ZoneInfo("Asia/Shanghai")
TOKEN_SALT = "portsign.verification.report"  # noqa: S105 -- a namespace, not a secret
TOKEN_MAX_AGE = 3600  # seconds a page's "下载验签报告" button stays usable

# Every status pki/pades.py reports ("good", "revoked", "untrusted"), and those a revocation
# source may add later; an unknown code reads 未知 rather than leaking the code.
CERTIFICATE_STATUSES = {
    "good": pgettext_lazy("certificate status", "Good"),
    "revoked": pgettext_lazy("certificate status", "Revoked"),
    "suspended": pgettext_lazy("certificate status", "Suspended"),
    "on_hold": pgettext_lazy("certificate status", "Suspended"),
    "expired": pgettext_lazy("certificate status", "Expired"),
    "untrusted": pgettext_lazy("certificate status", "Untrusted"),
    "unknown": pgettext_lazy("certificate status", "Unknown"),
}
KINDS = {
    "approval": gettext_lazy("Signature"),
    "certification": gettext_lazy("Certification signature"),
    "timestamp": gettext_lazy("Time-stamp"),
}


@dataclass(frozen=True)
class SignatureFacts:
    kind: str  # the API code: "approval", "certification" or "timestamp"
    kind_text: str
    signer: str
    enterprise: str
    signed_at: str  # Beijing time in words, or "—"
    timestamp: str
    certificate_status: str  # the API code
    certificate_text: str
    covers_whole_document: bool
    valid: bool

    @property
    def is_timestamp(self) -> bool:
        return self.kind == "timestamp"


@dataclass(frozen=True)
class Facts:
    filename: str
    sha256: str
    verified_at: str  # Beijing time in words
    ok: bool  # every signature valid and the document unchanged
    verdict: str
    signatures: tuple[SignatureFacts, ...]


def beijing_time(value: str | dt.datetime | None) -> str:
    """*value* (ISO 8601 or a datetime; naive means UTC) in Asia/Shanghai, in words:
    "2026年12月03日 14:05:09（北京时间）", "3 December 2026, 14:05:09 (Beijing time)"."""
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(BEIJING)
    # Translators: a Django date format (see the `date` template filter), e.g. "Y年m月d日 H:i:s".
    text = dateformat.format(local, _("j F Y, H:i:s"))
    return _("%(time)s (Beijing time)") % {"time": text}


def certificate_text(code: str) -> str:
    return str(CERTIFICATE_STATUSES.get(code, CERTIFICATE_STATUSES["unknown"]))


def kind_text(code: str) -> str:
    return str(KINDS.get(code, KINDS["approval"]))


def verdict(report: dict[str, Any]) -> tuple[bool, str]:
    """(all good?, the sentence) for an API.md report."""
    if report["intact"] and report["valid"]:
        return True, _("All signatures are valid and the document is unchanged.")
    if not report["signatures"]:
        return False, _("This PDF has no digital signature.")
    return False, _("Warning: a signature is invalid or the document was changed after signing.")


def facts(report: dict[str, Any], *, filename: str, sha256: str, verified_at: str) -> Facts:
    """The words for *report* (API.md's shape), in the active language."""
    ok, sentence = verdict(report)
    return Facts(
        filename=filename,
        sha256=sha256,
        verified_at=beijing_time(verified_at),
        ok=ok,
        verdict=sentence,
        signatures=tuple(
            SignatureFacts(
                kind=s["kind"],
                kind_text=kind_text(s["kind"]),
                signer=s["signer"] or "—",
                enterprise=s["enterprise"] or "—",
                signed_at=beijing_time(s["signed_at"]),
                timestamp=beijing_time(s["timestamp"]),
                certificate_status=s["certificate_status"],
                certificate_text=certificate_text(s["certificate_status"]),
                covers_whole_document=bool(s["covers_whole_document"]),
                valid=bool(s["valid"]),
            )
            for s in report["signatures"]
        ),
    )


# --- the result, carried by the page to the report download ----------------------------------
# The uploaded file is never stored: the page holds the result it showed, signed with the
# server's key, and the download turns exactly that result into the PDF.


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def result_token(report: dict[str, Any], *, filename: str, sha256: str, verified_at: str) -> str:
    payload = {
        "filename": filename,
        "sha256": sha256,
        "verified_at": verified_at,
        "report": report,
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def facts_from_token(token: str) -> Facts:
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise Invalid(
            _("This verification result has expired. Verify the file again for its report."),
            code="verify_result_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise Invalid(
            _("This verification result cannot be read. Verify the file again."),
            code="verify_result_invalid",
        ) from exc
    return facts(
        payload["report"],
        filename=payload["filename"],
        sha256=payload["sha256"],
        verified_at=payload["verified_at"],
    )
