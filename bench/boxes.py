"""Contract lists (SPEC D4) at scale: `boxes.list_box` against N synthetic contracts.

    PYTHONPATH=src .venv/bin/python bench/boxes.py [--contracts 1000000] [--runs 5]
    scripts/with-postgres.sh .venv/bin/python bench/boxes.py [--contracts 1000000]

Without PORTSIGN_DATABASE_URL the run uses SQLite (WAL) in a throw-away DATA_DIR. With it (as
scripts/with-postgres.sh sets it) a scratch database is created on that server and dropped
afterwards.

Setup: migrate, then minimal valid rows straight through the ORM (50 verified enterprises, each
with an admin, a role and four contract types; 2,000 people; one shared Document), then N
contracts with two parties each and their Involvement rows (who has the contract in their
boxes, with the contract's filtered columns: what domain/involvement.py keeps), written in
batches (executemany on SQLite, COPY on PostgreSQL), then ANALYZEd (VACUUM ANALYZE on
PostgreSQL, as autovacuum leaves tables at rest, so index-only counts need not visit the heap).
The spread: 5% of contracts involve the busy enterprise (E00), the rest two of the 49 others,
or one of them and a person (25%), or two people (5%, sent personally); the person measured
(P0000) is in about 0.2%. Statuses are mostly completed, some signing, draft, expired,
revoked, rejected and voided; created/sent/completed times spread over three years. Signing
contracts have future deadlines, so `expire_overdue` (run by every `list_box`) finds nothing
to change.

Then, for the busy enterprise (acting as it) and the person (personal), every box, page 1 and a
deep page, without and with each filter (type, status, sent range, party name): median ms of
`list_box` (which also counts, and runs its per-call housekeeping, timed apart too) and the
number of queries. The slowest queries are EXPLAINed (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).
The totals of the boxes read from Involvement are checked against a recount from contracts and
parties (the query those boxes used before), so a loader that wrote other rows than the app
would is caught. Finally candidate indexes are created with raw SQL in the bench database and
the cases above 150 ms timed again, one index at a time and all together (--no-indexes skips
that). Prints figures only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

ENTERPRISES = 50
PEOPLE = 2000
BUSY_SHARE = 0.05  # of all contracts involve the busy enterprise
PERSON_SHARE = 0.002  # of all contracts involve the measured person
TYPES = ("采购合同", "销售合同", "劳动合同", "租赁合同")
BATCH = 10_000
PAGE_SIZE = 20
DEEP_PAGE = 250  # offset 4,980, or the last page when there are fewer
SLOW_MS = 150.0  # the target for page 1 of any box
YEARS = 3

# (status, weight); party statuses follow from the contract's.
STATUSES = (
    ("completed", 80),
    ("signing", 8),
    ("draft", 4),
    ("expired", 3),
    ("revoked", 2),
    ("rejected", 2),
    ("voided", 1),
)


# -- environment (as bench/flow.py) ------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _admin_sql(url: str, template: LiteralString, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL(template).format(sql.Identifier(database)))


@contextmanager
def scratch_database() -> Iterator[str]:
    url = os.environ.get("PORTSIGN_DATABASE_URL", "").strip()
    if not url:
        yield ""
        return
    name = f"portsign_boxbench_{secrets.token_hex(4)}"
    _admin_sql(url, "CREATE DATABASE {}", name)
    os.environ["PORTSIGN_DATABASE_URL"] = _with_database(url, name)
    try:
        yield name
    finally:
        os.environ["PORTSIGN_DATABASE_URL"] = url
        _admin_sql(url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (WAL)"


# -- seeding -------------------------------------------------------------------------------------


@dataclass
class World:
    enterprises: list[Any]  # Enterprise, E00 the busy one
    admins: list[Any]  # each enterprise's admin (User)
    people: list[Any]  # User, P0000 the measured person
    types: dict[str, list[str]]  # enterprise id → contract type ids
    document_id: str
    now: dt.datetime


def seed_world() -> World:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portsign.accounts.models import User
    from portsign.contracts.models import ContractType, Document
    from portsign.enterprises.enums import EnterpriseStatus, Permission
    from portsign.enterprises.models import Enterprise, Membership, Role

    now = timezone.now()
    password = make_password(None)
    admins = User.objects.bulk_create(
        User(phone=f"+8613800{i:06d}", name=f"Admin {i:02d}", password=password)
        for i in range(ENTERPRISES)
    )
    people = User.objects.bulk_create(
        User(phone=f"+8613900{i:06d}", name=f"Person {i:04d}", password=password)
        for i in range(PEOPLE)
    )
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            name=f"Enterprise {i:02d} Co., Ltd.",
            uscc=f"91310000{i:010d}",
            legal_rep_name=admin.name,
            status=EnterpriseStatus.VERIFIED,
            main_admin=admin,
            materials_deadline=now,
            verified_at=now,
        )
        for i, admin in enumerate(admins)
    )
    roles = Role.objects.bulk_create(
        Role(enterprise=e, key="admin", name="Admin", builtin=True, permissions=Permission.values)
        for e in enterprises
    )
    Membership.objects.bulk_create(
        Membership(enterprise=e, user=a, role=r)
        for e, a, r in zip(enterprises, admins, roles, strict=True)
    )
    contract_types = ContractType.objects.bulk_create(
        ContractType(enterprise=e, name=name) for e in enterprises for name in TYPES
    )
    types: dict[str, list[str]] = {}
    for ct in contract_types:
        types.setdefault(ct.enterprise_id, []).append(ct.id)
    document = Document.objects.create(sha256="0" * 64, path="bench.pdf", pages=1, size=1)
    return World(enterprises, admins, people, types, document.id, now)


CONTRACT_COLUMNS = (
    "id",
    "title",
    "contract_type_id",
    "sender_id",
    "sender_enterprise_id",
    "status",
    "ordering",
    "deadline",
    "business_fields",
    "body_id",
    "current_id",
    "reason",
    "created_at",
    "sent_at",
    "completed_at",
    "closed_at",
    "busy_until",
    "reminded_at",
    "valid_until",
    "voids_id",
    "number",
)
PARTY_COLUMNS = (
    "id",
    "contract_id",
    "position",
    "kind",
    "account",
    "user_id",
    "enterprise_name",
    "enterprise_id",
    "needs_seal",
    "needs_legal_rep_seal",
    "needs_signature",
    "status",
    "signed_at",
    "signed_by_id",
    "reason",
    "auto_reminded_at",
    "applied_kinds",
)


def party_statuses(status: str, rng: random.Random) -> tuple[str, str]:
    if status in ("completed", "voided"):
        return "signed", "signed"
    if status == "signing":
        return ("pending", "waiting") if rng.random() < 0.5 else ("signed", "pending")
    if status == "rejected":
        return "signed", "rejected"
    return "waiting", "waiting"  # draft, expired, revoked


def generate(world: World, n: int, seed: int = 7) -> Iterator[tuple[tuple, tuple, tuple]]:
    """(contract, party 1, party 2) rows, oldest first; datetimes are aware (UTC)."""
    rng = random.Random(seed)  # noqa: S311  (synthetic data, reproducible on purpose)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    start = world.now - dt.timedelta(days=365 * YEARS)
    span = (world.now - start).total_seconds() - 86_400 * 2
    enterprises, admins, people = world.enterprises, world.admins, world.people
    busy, others = 0, range(1, ENTERPRISES)
    person_share = PERSON_SHARE / 0.30  # the measured person among person parties
    admin_of = {e.id: admins[k] for k, e in enumerate(enterprises)}
    for i in range(n):
        created = start + dt.timedelta(seconds=span * i / n)
        status = rng.choices(statuses, weights)[0]
        shape = rng.random()
        if rng.random() < BUSY_SHARE:
            a, b = busy, rng.choice(others)
            if rng.random() < 0.5:
                a, b = b, a
        else:
            a, b = rng.sample(others, 2)
        sender = admins[a]
        sender_enterprise: Any = enterprises[a]
        contract_type = rng.choice(world.types[sender_enterprise.id])
        person = people[0] if rng.random() < person_share else rng.choice(people)
        # parties: (kind, user, enterprise)
        if shape < 0.70:
            parties = [("enterprise", None, enterprises[b]), ("enterprise", None, enterprises[a])]
        elif shape < 0.95:
            parties = [("person", person, None), ("enterprise", None, enterprises[a])]
        else:  # a person sends personally to another person
            other = rng.choice(people)
            sender, sender_enterprise, contract_type = person, None, None
            parties = [("person", other, None), ("person", person, None)]
        sent = None if status == "draft" else created + dt.timedelta(minutes=rng.randint(1, 600))
        completed = deadline = closed = valid_until = None
        if sent is not None:
            deadline = sent + dt.timedelta(days=30)
        if status in ("completed", "voided"):
            completed = sent + dt.timedelta(hours=rng.randint(1, 24 * 20))
            valid_until = (completed + dt.timedelta(days=rng.choice((365, 730)))).date()
            if status == "voided":
                closed = completed + dt.timedelta(days=rng.randint(1, 60))
        elif status == "signing":  # in the future: expire_overdue must find nothing
            deadline = world.now + dt.timedelta(hours=rng.randint(1, 24 * 60))
        elif status != "draft":
            closed = sent + dt.timedelta(days=rng.randint(1, 30))
        cid = f"C{i:025d}"
        contract = (
            cid,
            f"Contract {i}",
            contract_type,
            sender.id,
            sender_enterprise.id if sender_enterprise else None,
            status,
            "sequential",
            deadline,
            "{}",
            world.document_id,
            world.document_id,
            "",
            created,
            sent,
            completed,
            closed,
            None,
            None,
            valid_until,
            None,
            f"PS-{created.year}-{i:07d}",  # wider than real numbers: never collides with them
        )
        rows = []
        for position, ((kind, user, enterprise), pstatus) in enumerate(
            zip(parties, party_statuses(status, rng), strict=True), start=1
        ):
            account = user.phone if user else admin_of[enterprise.id].phone
            signed = completed if pstatus == "signed" else None
            signer = (user or admin_of[enterprise.id]) if signed else None
            rows.append(
                (
                    f"P{i:024d}{position}",
                    cid,
                    position,
                    kind,
                    account,
                    user.id if user else None,
                    enterprise.name if enterprise else "",
                    enterprise.id if enterprise else None,
                    kind == "enterprise",
                    False,
                    kind == "person",
                    pstatus,
                    signed,
                    signer.id if signer else None,
                    "",
                    None,
                    "",
                )
            )
        yield contract, rows[0], rows[1]


INVOLVEMENT_COLUMNS = (
    "identity",
    "contract_id",
    "sender_id",
    "status",
    "created_at",
    "contract_type_id",
    "sent_at",
    "completed_at",
    "valid_until",
)


def involvement_rows(contract: tuple, parties: tuple[tuple, ...]) -> list[tuple]:
    """The Involvement rows the app keeps for this contract (domain/involvement): its sender
    identity and each linked party's, once each, with the contract's filtered columns."""
    column = dict(zip(CONTRACT_COLUMNS, contract, strict=True))
    sender_id, sender_enterprise_id = column["sender_id"], column["sender_enterprise_id"]
    sender = f"e:{sender_enterprise_id}" if sender_enterprise_id else f"u:{sender_id}"
    identities = {sender}
    for party in parties:
        kind, user_id, enterprise_id = party[3], party[5], party[7]
        if kind == "person" and user_id:
            identities.add(f"u:{user_id}")
        elif kind == "enterprise" and enterprise_id:
            identities.add(f"e:{enterprise_id}")
    return [
        (
            identity,
            column["id"],
            sender_id if identity == sender else None,
            column["status"],
            column["created_at"],
            column["contract_type_id"],
            column["sent_at"],
            column["completed_at"],
            column["valid_until"],
        )
        for identity in sorted(identities)
    ]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def load(world: World, n: int) -> float:
    from django.db import connection, transaction

    from portsign.contracts.models import Contract, Involvement, Party

    started = time.perf_counter()
    contract_table, party_table = Contract._meta.db_table, Party._meta.db_table
    involvement_table = Involvement._meta.db_table
    rows = generate(world, n)
    postgres = connection.vendor == "postgresql"
    done = 0
    while done < n:
        contracts, parties, involvements = [], [], []
        for contract, first, second in rows:
            contracts.append(contract)
            parties += (first, second)
            involvements += involvement_rows(contract, (first, second))
            if len(contracts) == BATCH:
                break
        tables = (
            (contract_table, CONTRACT_COLUMNS, contracts),
            (party_table, PARTY_COLUMNS, parties),
            (involvement_table, INVOLVEMENT_COLUMNS, involvements),
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                raw = cursor.cursor
                for table, columns, batch in tables:
                    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
            else:
                for table, columns, batch in tables:
                    marks = ", ".join("?" * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                        [tuple(map(_sqlite_value, row)) for row in batch],
                    )
        done += len(contracts)
        if done % 100_000 == 0 or done == n:
            print(f"  {done:,} contracts, {time.perf_counter() - started:.0f} s", flush=True)
    analyze()
    return time.perf_counter() - started


def analyze() -> None:
    """Statistics, and on PostgreSQL the visibility map too (VACUUM), as autovacuum leaves a
    table at rest: without it an index-only count still visits the heap."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# -- timing ----------------------------------------------------------------------------------------


@dataclass
class Case:
    who: str  # "enterprise" or "person"
    box: str
    filter: str  # label
    page: int
    ms: float = 0.0
    total: int = 0
    queries: int = 0
    sql: tuple[str, ...] = ()  # the count and page queries, as run


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        if i == 0 and times[0] > 3000:  # a very slow case: three runs are enough
            runs = min(runs, 3)
        if i + 1 >= runs:
            break
    return statistics.median(times)


def filter_sets(world: World, person: bool) -> dict[str, Any]:
    from portsign.contracts.domain.boxes import Filters

    year_ago = world.now - dt.timedelta(days=365)
    return {
        "none": Filters(),
        "type": Filters(contract_type=TYPES[1]),
        "status=completed": Filters(status="completed"),
        "sent 1 quarter": Filters(sent_from=year_ago, sent_to=year_ago + dt.timedelta(days=91)),
        "party name": Filters(party="Person 01" if person else "Enterprise 07"),
    }


def time_case(case: Case, actor: Any, acting_as: str, filters: Any, runs: int) -> Case:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portsign.contracts.domain.boxes import list_box

    def call() -> Any:
        return list_box(
            actor=actor,
            box=case.box,
            acting_as=acting_as,
            filters=filters,
            page=case.page,
            page_size=PAGE_SIZE,
        )

    with CaptureQueriesContext(connection) as captured:
        page = call()
    case.total, case.queries = page.total, len(captured.captured_queries)
    case.sql = tuple(
        q["sql"]
        for q in captured.captured_queries
        if re.search('"contracts_(contract|involvement)"', q["sql"].split(" FROM ", 1)[-1][:40])
        and "FOR UPDATE" not in q["sql"]
        and 'deadline" < ' not in q["sql"]
    )
    case.ms = _median_ms(call, runs)
    return case


def deep_page(total: int) -> int:
    return max(1, min(DEEP_PAGE, -(-total // PAGE_SIZE)))


def run_cases(world: World, runs: int, boxes: list[str]) -> list[Case]:
    from portsign.contracts.enums import Box

    identities = (
        ("enterprise", world.admins[0], world.enterprises[0].id),
        ("person", world.people[0], "personal"),
    )
    cases: list[Case] = []
    for who, actor, acting_as in identities:
        print(f"\n{who} ({'E00 as ' + actor.name if who == 'enterprise' else actor.name})")
        print(f"{'box':<15} {'filter':<17} {'total':>8} {'page 1 ms':>10} {'deep ms':>9} q")
        for box in boxes or Box.values:
            for label, filters in filter_sets(world, who == "person").items():
                first = time_case(Case(who, box, label, 1), actor, acting_as, filters, runs)
                cases.append(first)
                deep_ms = ""
                page = deep_page(first.total)
                if page > 1:
                    deep = time_case(Case(who, box, label, page), actor, acting_as, filters, runs)
                    cases.append(deep)
                    deep_ms = f"{deep.ms:7.1f}@{page}"
                print(
                    f"{box:<15} {label:<17} {first.total:>8,} {first.ms:>10.1f} "
                    f"{deep_ms:>9} {first.queries}",
                    flush=True,
                )
    return cases


def housekeeping(world: World, runs: int) -> None:
    """What every list_box call runs before its own queries."""
    from portsign.contracts.domain.contracts import (
        claim_invitations,
        expire_overdue,
        link_enterprise_parties,
    )

    parts = {
        "expire_overdue()": expire_overdue,
        "link_enterprise_parties(E00)": lambda: link_enterprise_parties(world.enterprises[0]),
        "claim_invitations(P0000)": lambda: claim_invitations(world.people[0]),
    }
    print("\nper-call housekeeping inside list_box (median ms)")
    for label, fn in parts.items():
        print(f"  {label:<30} {_median_ms(fn, runs):8.1f}")


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(f"{'  ' * _depth(row, cursor)}{row[3]}" for row in cursor.fetchall())


_parents: dict[int, int] = {}


def _depth(row: tuple, cursor: Any) -> int:
    node, parent = row[0], row[1]
    _parents[node] = _parents.get(parent, -1) + 1
    return _parents[node]


def show_plans(cases: list[Case], count: int) -> None:
    slowest = sorted((c for c in cases if c.page == 1), key=lambda c: -c.ms)[:count]
    for case in slowest:
        print(f"\n--- {case.who} / {case.box} / {case.filter}: {case.ms:.0f} ms")
        for sql in case.sql:
            print(f"SQL: {shorten(sql)}")
            _parents.clear()
            print(explain(sql))


def shorten(sql: str) -> str:
    sql = re.sub(r'SELECT "contracts_contract"\."id", .*? FROM', "SELECT contract.* … FROM", sql)
    return re.sub(r"\s+", " ", sql)


# -- candidate indexes ---------------------------------------------------------------------------

CANDIDATES: tuple[tuple[str, str], ...] = (
    (
        # The party-name filter probes each listed contract's parties: from this index alone.
        "party_contract_names",
        'CREATE INDEX party_contract_names ON "contracts_party" '
        '("contract_id", "enterprise_name", "user_id", "account")',
    ),
)


def try_indexes(world: World, cases: list[Case], runs: int) -> None:
    from django.db import connection

    # Page 1 of the slowest cases (at most a dozen, to keep the run short).
    slow = sorted((c for c in cases if c.ms > SLOW_MS and c.page == 1), key=lambda c: -c.ms)[:12]
    if not slow:
        print(f"\nno case above {SLOW_MS:.0f} ms: no index to try")
        return
    actors = {
        "enterprise": (world.admins[0], world.enterprises[0].id),
        "person": (world.people[0], "personal"),
    }

    def retime() -> list[float]:
        out = []
        for c in slow:
            actor, acting_as = actors[c.who]
            filters = filter_sets(world, c.who == "person")[c.filter]
            again = time_case(Case(c.who, c.box, c.filter, c.page), actor, acting_as, filters, runs)
            out.append(again.ms)
        return out

    columns = {"before": [c.ms for c in slow]}
    for name, ddl in CANDIDATES:
        with connection.cursor() as cursor:
            cursor.execute(ddl)
            cursor.execute("ANALYZE")
        columns[f"+{name}"] = retime()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {name}")
    with connection.cursor() as cursor:
        for _name, ddl in CANDIDATES:
            cursor.execute(ddl)
        cursor.execute("ANALYZE")
    columns["+all"] = retime()
    print(f"\nslow cases (> {SLOW_MS:.0f} ms) with each candidate index alone, then all (ms)")
    header = " ".join(f"{k:>12.12}" for k in columns)
    print(f"{'case':<44} {header}")
    for i, c in enumerate(slow):
        label = f"{c.who[:3]} {c.box} {c.filter} p{c.page}"
        print(f"{label:<44} " + " ".join(f"{v[i]:>12.1f}" for v in columns.values()))
    for name, ddl in CANDIDATES:
        print(f"  {name}: {ddl}")


# -- the involvement boxes against the query they replace ------------------------------------


def check_totals(world: World) -> None:
    """Totals of the boxes read from Involvement, recounted from contracts and parties as the
    boxes were before (a party of it OR its sender): the synthetic Involvement rows must be
    what the app would have written, or the timings above mean nothing."""
    from django.db.models import Q

    from portsign.contracts.domain.boxes import _mine, list_box
    from portsign.contracts.models import Contract, Party

    print("\ninvolvement boxes, total vs recounted from contracts and parties")
    identities = (
        ("enterprise", world.admins[0], world.enterprises[0].id, world.enterprises[0].id),
        ("person", world.people[0], "personal", None),
    )
    for who, actor, acting_as, enterprise_id in identities:
        party_q, sent_q = _mine(actor, enterprise_id)
        mine = Party.objects.filter(party_q).values("contract_id")
        involved = Q(pk__in=mine) | sent_q
        pending = Q(pk__in=mine.filter(status="pending"))
        expected = {
            "completed": Contract.objects.filter(involved, status="completed"),
            "voided": Contract.objects.filter(involved, status="voided"),
            "others_to_sign": Contract.objects.filter(involved, ~pending, status="signing"),
            "sent": Contract.objects.filter(sent_q, sender=actor).exclude(status="draft"),
        }
        for box, rows in expected.items():
            want = rows.count()
            got = list_box(actor=actor, box=box, acting_as=acting_as, page_size=1).total
            verdict = "ok" if got == want else "MISMATCH"
            print(f"  {who:<10} {box:<15} {got:>8,} {want:>8,} {verdict}")


# -- main ------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="median of this many calls")
    parser.add_argument("--plans", type=int, default=4, help="EXPLAIN the N slowest page-1 cases")
    parser.add_argument("--box", action="append", default=[], help="only these boxes")
    parser.add_argument("--no-indexes", action="store_true", help="skip the candidate indexes")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    if args.contracts < 1 or args.runs < 1:
        parser.error("--contracts and --runs are at least 1")
    return args


def run(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(database_label())
    world = seed_world()
    print(f"loading {args.contracts:,} contracts ({2 * args.contracts:,} parties) ...", flush=True)
    seconds = load(world, args.contracts)
    print(f"loaded and analyzed in {seconds:.1f} s ({args.contracts / seconds:,.0f} contracts/s)")
    load_average = os.getloadavg()
    print(f"load average before timing: {load_average[0]:.2f}")
    housekeeping(world, args.runs)
    cases = run_cases(world, args.runs, args.box)
    show_plans(cases, args.plans)
    check_totals(world)
    if not args.no_indexes:
        try_indexes(world, cases, args.runs)


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="portsign-boxbench-"))
    os.environ["PORTSIGN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("PORTSIGN_LOG_LEVEL", "WARNING")
    try:
        with scratch_database():
            try:
                run(args)
            finally:
                from django.db import connections

                connections.close_all()
    finally:
        if args.keep:
            print(f"kept {data_dir}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
