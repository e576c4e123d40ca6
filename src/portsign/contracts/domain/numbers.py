"""Contract numbers for people (合同编号, issue 13 item 7): PS-<year>-<sequence>, e.g.
PS-2026-000123, the year of creation in Beijing time (settings.TIME_ZONE) and a sequence per
year from 1, six digits wide (wider past 999,999).

The sequence is one row per year (ContractNumberCounter) bumped with an UPDATE … SET last =
last + 1 in the creating transaction: PostgreSQL makes a second creator wait on that row lock
and then re-reads the row, SQLite's IMMEDIATE transactions take the database's write lock at
BEGIN, so two creations never read the same value; a creation that rolls back rolls its bump
back with it. Used by contracts.create_draft, which every way of creating a contract calls
(upload, template, bulk send, void statements, demo data).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portsign.contracts.models import ContractNumberCounter

PREFIX = "PS"
# What a search box takes for (the start of) a contract number: "PS-2026-0001", "ps-2026".
NUMBER_PREFIX = re.compile(r"PS-\d{0,4}(-\d*)?", re.IGNORECASE)


def format_number(year: int, sequence: int) -> str:
    return f"{PREFIX}-{year:04d}-{sequence:06d}"


def _bump(year: int) -> int:
    """The year's next sequence value, the counter row locked until the transaction ends."""
    if ContractNumberCounter.objects.filter(year=year).update(last=F("last") + 1) == 0:
        try:
            with transaction.atomic():  # a savepoint: another creator may make the row first
                ContractNumberCounter.objects.create(year=year, last=1)
                return 1
        except IntegrityError:
            ContractNumberCounter.objects.filter(year=year).update(last=F("last") + 1)
    return int(ContractNumberCounter.objects.get(year=year).last)


def next_number() -> str:
    """A new contract number; call it in the transaction that creates the contract."""
    with transaction.atomic():
        year = timezone.localtime().year
        return format_number(year, _bump(year))


def looks_like_number(term: str) -> bool:
    """Whether a search term is a contract number or its start (searched by prefix)."""
    return NUMBER_PREFIX.fullmatch(term.strip()) is not None
