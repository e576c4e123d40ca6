"""Contract files as downloads (issue 13 items 7 and 14): each named after its contract,
`<title>-<number>.pdf`, and completed contracts together in one zip.

A title may hold anything a person types (slashes, quotes, line breaks, a name of 100
characters); a file name may not, so it is cleaned for the file systems people unpack on
(Windows is the strictest). Browsers read the UTF-8 name from `filename*` (RFC 5987/6266)
and the few that cannot fall back to an ASCII `filename`.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import IO
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.contracts.domain import boxes
from portsign.contracts.domain.contracts import visible_to
from portsign.contracts.enums import ContractStatus
from portsign.contracts.models import Contract

MAX_ZIP_CONTRACTS = 100
# Bytes of UTF-8 a cleaned title keeps (50 Chinese characters): with the number, a suffix and
# ".pdf" the name stays under the 255 bytes file systems allow.
MAX_STEM_BYTES = 150
# Characters Windows refuses in a name, control characters, and the separators of paths.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_SPACES = re.compile(r"\s+")


def clean_stem(text: str) -> str:
    """*text* as the stem of a file name: unsafe characters as "_", one space at most, no dot
    or space at either end (Windows drops them), at most MAX_STEM_BYTES in UTF-8 (cut
    between characters)."""
    cleaned = _SPACES.sub(" ", _UNSAFE.sub("_", unicodedata.normalize("NFC", text)))
    cut = cleaned.encode()[:MAX_STEM_BYTES].decode(errors="ignore")
    return cut.strip(" .")


def _ascii(text: str) -> str:
    """*text* in printable ASCII for the `filename` fallback: accents dropped, the rest left
    out (a Chinese title leaves nothing but its number)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._ -]+", "", folded).strip(" .-_")


def pdf_name(contract: Contract, *, evidence: bool = False) -> str:
    """`<title>-<number>.pdf`; the evidence report (出证报告) says so after the number, so it
    does not take the place of the contract in a downloads folder."""
    stem = f"{clean_stem(contract.title) or _('contract')}-{contract.number}"
    if evidence:
        stem = f"{stem}-{clean_stem(_('evidence report'))}"
    return f"{stem}.pdf"


def attachment(name: str) -> str:
    """A Content-Disposition header that downloads a file as *name*."""
    stem, dot, extension = name.rpartition(".")
    fallback = _ascii(stem if dot else name) or "download"
    if dot:
        fallback = f"{fallback}.{_ascii(extension) or 'bin'}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def zip_name() -> str:
    return f"{clean_stem(_('contracts'))}-{timezone.localtime():%Y%m%d-%H%M}.zip"


def _unique(name: str, taken: set[str]) -> str:
    """*name*, or *name* with " (2)", " (3)"… before its extension, whichever is free (names
    compared as Windows does, ignoring case)."""
    stem, _dot, extension = name.rpartition(".")
    candidate, copy = name, 1
    while candidate.casefold() in taken:
        copy += 1
        candidate = f"{stem} ({copy}).{extension}"
    taken.add(candidate.casefold())
    return candidate


def build_zip(contracts: Iterable[Contract]) -> IO[bytes]:
    """One zip of each contract's current (signed) PDF, written to a temporary file one PDF at
    a time and copied in chunks, so memory stays flat whatever their size. The file is open at
    its start; it disappears when closed."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller's response closes it)
    taken: set[str] = set()
    # Stored, not deflated: signed PDFs are compressed streams already.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for contract in contracts:
            entry = _unique(pdf_name(contract), taken)
            with (
                default_storage.open(contract.current.path) as source,
                archive.open(entry, "w", force_zip64=True) as target,
            ):
                shutil.copyfileobj(source, target, 1 << 20)
    out.seek(0)
    return out


def _too_many(count: int) -> Invalid:
    message = _(
        "That is %(count)d contracts; one download holds at most %(max)d. Narrow the search "
        "or the filters, or choose fewer."
    ) % {"count": count, "max": MAX_ZIP_CONTRACTS}
    return Invalid(message, code="too_many_contracts", fields={"ids": message})


def chosen(*, actor: User, ids: Iterable[str]) -> list[Contract]:
    """The completed contracts of *ids*, in that order, for a zip. One the actor may not see
    makes the whole request a 404 (nothing says which, or that it exists)."""
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not wanted:
        message = _("Choose the completed contracts to download.")
        raise Invalid(message, code="ids", fields={"ids": message})
    if len(wanted) > MAX_ZIP_CONTRACTS:
        raise _too_many(len(wanted))
    found = {
        c.pk: c
        for c in Contract.objects.filter(visible_to(actor), pk__in=wanted)
        .select_related("current")
        .distinct()
    }
    if len(found) != len(wanted):
        raise NotFound()
    open_ones = [c.title for c in found.values() if c.status != ContractStatus.COMPLETED]
    if open_ones:
        raise Conflict(
            _("Only completed contracts are downloaded together; not yet: %(titles)s.")
            % {"titles": ", ".join(open_ones)},
            code="not_completed",
        )
    return [found[pk] for pk in wanted]


def completed_in_box(
    *, actor: User, box: str, acting_as: str, filters: boxes.Filters
) -> list[Contract]:
    """Every completed contract of a box and its filters (newest first), up to
    MAX_ZIP_CONTRACTS; past that an error with their number, and nothing is built."""
    narrowed = dataclasses.replace(filters, status=ContractStatus.COMPLETED)
    page = boxes.list_box(
        actor=actor,
        box=box,
        acting_as=acting_as,
        filters=narrowed,
        page_size=MAX_ZIP_CONTRACTS,
    )
    if page.total > MAX_ZIP_CONTRACTS:
        raise _too_many(page.total)
    if not page.items:
        raise Invalid(_("No completed contracts match."), code="ids")
    return page.items
