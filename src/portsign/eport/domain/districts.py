"""关区 customs districts (EPORT.md §4.3): the code table, its search, and which customs
authority acts for each direct customs.

The table is `eport/data/customs_districts.csv` (its provenance is in customs_districts.md
beside it), loaded by migration 0003 and again by `eport districts --load` when it changes.
A code is 4 digits: XX00 is the direct customs (直属海关), XX01… its offices. An office belongs
to the direct customs of its first two digits, and so does the customs authority deciding for
it: the back office assigns each direct customs to an authority of kind `customs`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Invalid, NotFound
from portsign.eport.enums import AuthorityKind
from portsign.eport.models import Authority, District

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "customs_districts.csv"
CODE = re.compile(r"\d{4}")
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Row:
    code: str
    name: str

    @property
    def is_direct(self) -> bool:
        return self.code.endswith("00")

    @property
    def direct_code(self) -> str:
        return self.code[:2] + "00"


def read_table(path: Path = DATA_FILE) -> list[Row]:
    """The table as the file has it, checked: 4-digit unique codes, every office under a direct
    customs that is in the table."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [Row(r["code"].strip(), r["name"].strip()) for r in csv.DictReader(handle)]
    codes = [row.code for row in rows]
    bad = [code for code in codes if not CODE.fullmatch(code)]
    if bad or len(set(codes)) != len(codes):
        raise ValueError(f"{path.name}: bad or repeated codes {bad[:5]}")
    orphans = [row.code for row in rows if row.direct_code not in set(codes)]
    if orphans:
        raise ValueError(f"{path.name}: offices without their direct customs {orphans[:5]}")
    return rows


def load(model: Any = District, path: Path = DATA_FILE) -> int:
    """Insert or rename every district of the table (assignments to authorities are kept);
    *model* is the migration's historical model when a migration calls it."""
    rows = read_table(path)
    with transaction.atomic():
        have = {d.code: d for d in model.objects.all()}
        new = [
            model(code=r.code, name=r.name, direct_id=None if r.is_direct else r.direct_code)
            for r in rows
            if r.code not in have
        ]
        # Direct customs first: an office's row points at its direct customs'.
        model.objects.bulk_create(sorted(new, key=lambda d: d.direct_id is not None))
        renamed = []
        for row in rows:
            if row.code in have and have[row.code].name != row.name:
                have[row.code].name = row.name
                renamed.append(have[row.code])
        model.objects.bulk_update(renamed, ["name"])
    return len(rows)


def direct_districts() -> QuerySet[District]:
    return District.objects.filter(direct__isnull=True)


def search(query: str = "", *, direct_only: bool = False) -> list[District]:
    """By code prefix or part of the name (`?q=42` → 4200, 4201 …; `?q=青岛`)."""
    found = direct_districts() if direct_only else District.objects.all()
    found = found.select_related("authority", "direct__authority")
    query = query.strip()[:50]
    if query:
        found = found.filter(Q(code__startswith=query) | Q(name__icontains=query))
    return list(found.order_by("code")[:SEARCH_LIMIT])


def district(code: str) -> District:
    found = District.objects.select_related("authority").filter(code=code).first()
    if found is None:
        raise NotFound(_("No customs district has code %(code)s.") % {"code": code})
    return found


def clean_direct_codes(raw: list[str]) -> list[str]:
    """Codes of direct customs districts (XX00), as given; at least one."""
    codes = list(dict.fromkeys(str(code).strip() for code in raw if str(code).strip()))
    if not codes:
        message = _("Choose at least one customs district.")
        raise Invalid(message, code="districts_required", fields={"districts": message})
    bad = [code for code in codes if not CODE.fullmatch(code) or not code.endswith("00")]
    if bad:
        message = _(
            "Agreements are signed per direct customs, whose code ends in 00: %(codes)s."
        ) % {"codes": ", ".join(bad)}
        raise Invalid(message, code="district_not_direct", fields={"districts": message})
    return codes


def assign(*, code: str, authority: Authority, by: User | None = None) -> District:
    """The customs *authority* acts for direct customs *code* and its offices (back office)."""
    if authority.kind != AuthorityKind.CUSTOMS:
        raise Invalid(_("Only a customs authority acts for a customs district."), code="kind")
    found = district(code)
    if found.direct_id is not None:
        raise Invalid(
            _("Assign the direct customs %(code)s; its offices follow it.")
            % {"code": found.direct_id},
            code="district_not_direct",
        )
    with transaction.atomic():
        District.objects.filter(pk=found.pk).update(authority=authority)
        found.authority = authority
        record_event(
            action="eport.district_assigned",
            actor_id=by.id if by else "",
            object_type="eport_authority",
            object_id=authority.id,
            data={"district": code},
        )
    return found


def reviewed_by(user: User) -> QuerySet[District]:
    """The direct customs districts *user* reviews for (through their customs authority)."""
    return direct_districts().filter(
        authority__kind=AuthorityKind.CUSTOMS, authority__reviewers__user=user
    )


def is_customs_reviewer(user: User, district_code: str) -> bool:
    return reviewed_by(user).filter(code=district_code).exists()
