"""Completed two-party contracts per second through the HTTP API, on SQLite or PostgreSQL.

    PYTHONPATH=src .venv/bin/python bench/flow.py [--contracts N] [--workers W]
    scripts/with-postgres.sh .venv/bin/python bench/flow.py [--contracts N] [--workers W]

Without PORTSIGN_DATABASE_URL the run uses SQLite (WAL) in a throw-away DATA_DIR. With it (as
scripts/with-postgres.sh sets it) a scratch database is created on that server and dropped
afterwards, so the bench never writes into the database it is pointed at.

Setup, in this process with the product's own domain functions: migrate, `pki init`, and
pairs of verified enterprises (admin real-name verified, micro-deposit confirmed), each with a
cloud certificate, a contract seal and an API token for its admin. Each client thread has pairs
of its own, because an intent code goes to the signer's phone and asking for a new one retires
the previous one: one person cannot confirm two contracts at the same moment. It uses them in
turn, and has as many as keep every phone under the sandbox SMS gateway's flow control
(20 SMS a number an hour; a throttled code would never arrive).

Then gunicorn (`portsign.wsgi`, 2 workers, 4 threads, as `make run`) serves the same database
on a free loopback port, and W client threads drive N contracts over HTTP only: enterprise A
uploads the PDF, adds B then A as parties, sends; B then A each ask for an intent code, read it
from the sandbox outbox and sign; A's signature completes the contract (B-LTA). Untimed
contracts warm the server first, until each gunicorn worker has served every kind of request.
Every contract must end `completed` with versions prepared, signed, signed, archived, or the
run fails.

gunicorn runs with bench/gunicorn_sql.py as its config file: server hooks only (the product,
its settings and middleware are untouched), which count in each worker the SQL statements
Django sends (as `assertNumQueries` counts them) and each request's thread CPU, per step (the
bench tags its requests with an `X-Flow-Step` header). Snapshots before and after the timed
contracts give the figures of those contracts alone.

Prints figures only: wall time, contracts/second, median and p95 ms per step, against two
baselines measured in the same run: an authenticated `GET /api/v1/me` (the HTTP + auth floor)
and, after the server has stopped, the signing engine alone in process (`pades.sign_approval`
for one party's marks, `pades.archive` for B-LTA) on the same documents. The last line is issue
17's figures, `flow: cpu_ratio=… sql_per_contract=… contracts_per_s=…`:
- cpu_ratio: server CPU per completed contract (gunicorn's, plus PostgreSQL's when it runs on
  this machine) over the engine's CPU for the same contract (2 x sign_approval + archive);
- sql_per_contract: the statements the server executed during the timed contracts, over their
  number: all their requests and anything the server's other threads did meanwhile;
- both leave out the bench's outbox reads (a stand-in for the signer's phone, not the
  contract's work; their statements and request CPU are printed beside);
- contracts_per_s: completed contracts over the timed run's wall time.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, LiteralString
from urllib.parse import quote, urlparse, urlunparse

from gunicorn_sql import DIRECTORY_VARIABLE, FIRST_STEP, OUTSIDE, STEP_HEADER, UNTAGGED, Snapshot

if TYPE_CHECKING:
    from portsign.accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

HOST = "127.0.0.1"
LOCAL = ("", "127.0.0.1", "localhost", "::1")
SERVER_WORKERS = 2
SERVER_THREADS = 4
STARTUP_SECONDS = 30
ENGINE_ROUNDS = 5
WARM_UP_ROUNDS = 5  # at most; each round is one contract per client thread
FLOOR_ROUNDS = 20
SMS_PER_CONTRACT = 3

# The steps of one contract, in the order they are printed.
STEPS = (
    "create (upload PDF)",
    "add party",
    "send",
    "ask intent code",
    "read code (outbox)",
    "sign, first party",
    "sign, completing (+B-LTA)",
    "whole contract",
)


# -- environment ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _configure_environment(data_dir: Path, port: int) -> None:
    """PORTSIGN_* for this process and for gunicorn (which inherits os.environ)."""
    os.environ["PORTSIGN_DATA_DIR"] = str(data_dir)
    os.environ["PORTSIGN_PORT"] = str(port)
    os.environ["PORTSIGN_PUBLIC_URL"] = f"http://{HOST}:{port}"
    os.environ["PORTSIGN_MODE"] = "embedded"  # the sandbox outbox is where the codes are read
    os.environ.setdefault("PORTSIGN_LOG_LEVEL", "WARNING")
    # The abuse limits are per phone number and per client address: by default one signer
    # may get a code every 60 s and 10 a day, and 127.0.0.1 30 codes an hour. A bench signs
    # far faster than a person, from one address, so lift them for this throw-away instance.
    os.environ["PORTSIGN_CODE_RESEND_SECONDS"] = "0"
    os.environ["PORTSIGN_CODE_DAILY_LIMIT"] = "1000000"
    os.environ["PORTSIGN_CODE_IP_HOURLY_LIMIT"] = "1000000"
    # The server must import this branch's code, not whatever the venv's editable install
    # points at.
    paths = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _admin_sql(url: str, template: LiteralString, database: str) -> None:
    """CREATE/DROP DATABASE: outside a transaction, the name quoted as an identifier."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL(template).format(sql.Identifier(database)))


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database beside PORTSIGN_DATABASE_URL's, dropped afterwards;
    nothing (SQLite) when the variable is unset."""
    url = os.environ.get("PORTSIGN_DATABASE_URL", "").strip()
    if not url:
        yield ""
        return
    name = f"portsign_flowbench_{secrets.token_hex(4)}"
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


# -- seeding (product domain functions, as `manage.py demo` does) -------------------------------


@dataclass(frozen=True)
class Signer:
    """An enterprise's admin: signs for it with its contract seal."""

    phone: str
    token: str
    enterprise_id: str
    enterprise_name: str
    seal_id: str


@dataclass(frozen=True)
class Pair:
    sender: Signer  # uploads and sends, signs last
    partner: Signer  # signs first


@dataclass
class Lane:
    """A client thread's own enterprise pairs, used in turn (never by another thread)."""

    pairs: list[Pair]
    used: int = 0

    def next_pair(self) -> Pair:
        pair = self.pairs[self.used % len(self.pairs)]
        self.used += 1
        return pair


def contracts_per_pair() -> int:
    """How many contracts one pair may go through before its phones hit the sandbox SMS
    gateway's flow control (SANDBOX_SMS_HOURLY_LIMIT a number an hour, as vendors do)."""
    from portsign.common.notify.sandbox import SANDBOX_SMS_HOURLY_LIMIT

    # Each signer gets 3 SMS a contract: "to sign", its intent code, "completed". A throttled
    # code is never delivered (the request still answers 202), so the pair must stay below.
    return SANDBOX_SMS_HOURLY_LIMIT // SMS_PER_CONTRACT


def _phone(sequence: int) -> str:
    return f"+86139{sequence:08d}"


def _verified_admin(sequence: int) -> User:
    from portsign.accounts.domain.realname import verify_person
    from portsign.accounts.models import User
    from portsign.enterprises.demo import demo_id_number

    phone = _phone(sequence)
    user = User.objects.create_user(
        password=secrets.token_urlsafe(16), name=f"基准经办人{sequence}", phone=phone
    )
    verify_person(
        user=user,
        method="carrier3",
        name=user.name,
        id_number=demo_id_number(sequence),
        phone=phone,
    )
    user.refresh_from_db()
    return user


def _paid_amount(bank_account: str) -> str:
    """Read the micro-deposit from the sandbox bank, as the admin would from a statement."""
    from portsign.common.models import SandboxMessage

    payout = SandboxMessage.objects.filter(to=bank_account, channel="bank").order_by("-id").first()
    if payout is None:
        raise RuntimeError(f"the sandbox bank paid nothing into {bank_account}")
    return str(payout.data["amount"])


def seed_signer(sequence: int) -> Signer:
    from portsign.accounts.domain.tokens import issue_token
    from portsign.contracts.demo import ensure_certificate, ensure_contract_seal
    from portsign.enterprises.demo import demo_id_number, demo_uscc, submit_sample_materials
    from portsign.enterprises.domain import deposits, enterprises
    from portsign.seals.models import Seal

    admin = _verified_admin(sequence)
    enterprise = enterprises.create_enterprise(
        actor=admin,
        name=f"基准测试第{sequence}港务有限公司",
        uscc=demo_uscc(sequence),
        legal_rep_name="基准法人",
    )
    # Every verification method wants the licence and both sides of the ID card first.
    submit_sample_materials(
        actor=admin, enterprise=enterprise, legal_rep_id_number=demo_id_number(sequence + 500)
    )
    bank_account = f"62220000{sequence:08d}"
    deposits.start_deposit(
        actor=admin,
        enterprise_id=enterprise.id,
        method="micro_deposit",
        bank_name="基准银行",
        bank_account=bank_account,
    )
    deposits.confirm_amount(
        actor=admin, enterprise_id=enterprise.id, amount=_paid_amount(bank_account)
    )
    enterprise.refresh_from_db()
    ensure_certificate(enterprise)
    ensure_contract_seal(enterprise)
    seal = Seal.objects.get(enterprise=enterprise, kind="contract", deleted_at__isnull=True)
    _token, raw = issue_token(user=admin, name="flow bench")
    return Signer(_phone(sequence), raw, enterprise.id, enterprise.name, seal.id)


def prepare(workers: int, contracts: int) -> list[Lane]:
    """One lane per client thread, with enough pairs for its warm-up and timed contracts."""
    from django.core.management import call_command

    per_pair = contracts_per_pair()
    # Thread i drives contracts i, i + W, i + 2W, ..., and up to WARM_UP_ROUNDS before them.
    sizes = [
        math.ceil((WARM_UP_ROUNDS + len(range(i, contracts, workers))) / per_pair)
        for i in range(workers)
    ]
    sequences = iter(range(101, 1000))  # synthetic ID numbers repeat after 1000 (demo_id_number)
    if 2 * sum(sizes) > 899:
        raise SystemExit(
            f"{contracts} contracts would need {sum(sizes)} enterprise pairs; 449 at most"
        )
    call_command("migrate", verbosity=0)
    call_command("pki", "init", stdout=io.StringIO())  # it lists the CAs; not a figure
    lanes = [
        Lane(
            [Pair(seed_signer(next(sequences)), seed_signer(next(sequences))) for _ in range(size)]
        )
        for size in sizes
    ]
    return lanes


# -- the server ---------------------------------------------------------------------------------


def start_server(port: int, log_path: Path, counters: Path) -> subprocess.Popen[bytes]:
    """gunicorn as `make run` starts it, plus bench/gunicorn_sql.py: server hooks only, which
    count the SQL statements and request CPU of each worker into files under *counters*."""
    counters.mkdir()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "portsign.wsgi",
        "--config",
        str(Path(__file__).with_name("gunicorn_sql.py")),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(SERVER_WORKERS),
        "--threads",
        str(SERVER_THREADS),
        "--graceful-timeout",
        "5",
    ]
    with log_path.open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, DIRECTORY_VARIABLE: str(counters)},
        )


def wait_until_serving(server: subprocess.Popen[bytes], client: Client, log_path: Path) -> None:
    give_up = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < give_up:
        if server.poll() is not None:
            break
        try:
            if client.request("GET", "/me")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer; its log:\n{log_path.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # SIGTERM: gunicorn's graceful shutdown
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process, of its live descendants and of its children that have exited
    (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    total = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # u/s time, cu/cs time
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with suppress(OSError):  # it may have exited just now
            total += tree_cpu_seconds(int(child))
    return total


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process when it runs on this machine and we may read its
    data directory (as under scripts/with-postgres.sh); None otherwise, and for SQLite, which
    works inside the server's own processes."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql" or connection.settings_dict["HOST"] not in LOCAL:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            data_directory = cursor.fetchone()[0]
        return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    except (DatabaseError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far by gunicorn, PostgreSQL and this script; None: unknown."""

    server: float | None
    database: float | None
    client: float

    @staticmethod
    def now(server_pid: int, database_pid: int | None) -> Cpu:
        return Cpu(_cpu_of(server_pid), _cpu_of(database_pid), time.process_time())

    def since(self, before: Cpu) -> Cpu:
        return Cpu(
            _minus(self.server, before.server),
            _minus(self.database, before.database),
            self.client - before.client,
        )


def _cpu_of(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return tree_cpu_seconds(pid)
    except OSError:
        return None


def _minus(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


# -- HTTP ---------------------------------------------------------------------------------------


class ApiError(RuntimeError):
    pass


@dataclass(frozen=True)
class Client:
    """A bearer-token client for /api/v1; one connection per request, as simple clients do."""

    port: int
    token: str

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}
        step = getattr(_step, "number", None)
        if step is not None:  # the server's hooks count this request's SQL under its step
            headers[STEP_HEADER] = str(step)
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            connection.request(method, "/api/v1" + path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None

    def call(self, method: str, path: str, payload: Any = None, *, expect: int = 200) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        status, answer = self.request(method, path, body, "application/json" if body else "")
        if status != expect:
            raise ApiError(f"{method} {path}: {status} {answer}")
        return answer

    def upload(self, path: str, fields: dict[str, str], filename: str, content: bytes) -> Any:
        boundary = "flowbench" + secrets.token_hex(8)
        head = f"--{boundary}\r\nContent-Disposition: form-data; "
        parts = [
            f'{head}name="{name}"\r\n\r\n{value}\r\n'.encode() for name, value in fields.items()
        ]
        parts.append(
            f'{head}name="file"; filename="{filename}"'
            "\r\nContent-Type: application/pdf\r\n\r\n".encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        content_type = f"multipart/form-data; boundary={boundary}"
        status, answer = self.request("POST", path, b"".join(parts), content_type)
        if status != 201:
            raise ApiError(f"POST {path}: {status} {answer}")
        return answer


# -- the flow -----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Milliseconds per step, appended to from several client threads."""

    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, ms: float) -> None:
        with self.lock:
            self.steps[step].append(ms)


# The step a client thread's requests belong to (its number in STEPS), sent with each request
# as X-Flow-Step so that bench/gunicorn_sql.py counts the SQL and CPU per step.
_step = threading.local()


def timed(timings: Timings | None, step: str, action: Callable[[], Any]) -> Any:
    _step.number = STEPS.index(step)
    start = time.perf_counter()
    try:
        result = action()
    finally:
        _step.number = None
    if timings is not None:
        timings.add(step, (time.perf_counter() - start) * 1000)
    return result


def marks(seal_id: str) -> list[dict[str, Any]]:
    """The contract seal over the signature line and a date stamp under it, on page 1."""
    return [
        {"seal_id": seal_id, "page": 1, "x": 0.6, "y": 0.7, "width": 0.2},
        {"date": True, "page": 1, "x": 0.62, "y": 0.92, "width": 0.16},
    ]


def read_code(client: Client, phone: str) -> str:
    """The newest signing code in the sandbox outbox (notifications arrive there too)."""
    items = client.call("GET", f"/sandbox/outbox?to={quote(phone)}&limit=5")
    for item in items:  # newest first
        if item["data"].get("purpose") == "sign" and "code" in item["data"]:
            return str(item["data"]["code"])
    raise ApiError(f"no signing code for {phone} in the outbox")


def sign_as(client: Client, signer: Signer, contract_id: str, step: str, t: Timings | None) -> Any:
    body = {"acting_as": signer.enterprise_id, "marks": marks(signer.seal_id)}
    path = f"/contracts/{contract_id}/sign"
    timed(t, "ask intent code", lambda: client.call("POST", path + "/codes", body, expect=202))
    code = timed(t, "read code (outbox)", lambda: read_code(client, signer.phone))
    return timed(t, step, lambda: client.call("POST", path, {**body, "code": code}))


def add_party(client: Client, contract_id: str, signer: Signer) -> Any:
    party = {
        "kind": "enterprise",
        "account": signer.phone,
        "enterprise_name": signer.enterprise_name,
    }
    return client.call("POST", f"/contracts/{contract_id}/parties", party, expect=201)


def one_contract(pair: Pair, port: int, pdf: bytes, number: int, t: Timings | None) -> str:
    sender, partner = Client(port, pair.sender.token), Client(port, pair.partner.token)
    start = time.perf_counter()
    fields = {"title": f"集装箱理货协议 #{number}", "acting_as": pair.sender.enterprise_id}
    draft = timed(
        t, "create (upload PDF)", lambda: sender.upload("/contracts", fields, "tally.pdf", pdf)
    )
    contract_id = draft["id"]
    for signer in (pair.partner, pair.sender):  # B signs first, then A
        timed(t, "add party", partial(add_party, sender, contract_id, signer))
    timed(t, "send", lambda: sender.call("POST", f"/contracts/{contract_id}/send"))
    first = sign_as(partner, pair.partner, contract_id, "sign, first party", t)
    if first["status"] != "signing":
        raise ApiError(f"{contract_id} after the first signature: {first['status']}")
    done = sign_as(sender, pair.sender, contract_id, "sign, completing (+B-LTA)", t)
    if done["status"] != "completed":
        raise ApiError(f"{contract_id} after the last signature: {done['status']}")
    if t is not None:
        t.add("whole contract", (time.perf_counter() - start) * 1000)
    return str(contract_id)


def drive(
    lanes: list[Lane], port: int, pdf: bytes, count: int, timings: Timings | None
) -> tuple[dict[str, Pair], float]:
    """*count* contracts spread over one client thread per lane: each contract's pair, and
    the wall time."""

    def worker(lane: Lane, index: int) -> dict[str, Pair]:
        done = {}
        for number in range(index, count, len(lanes)):
            pair = lane.next_pair()
            done[one_contract(pair, port, pdf, number, timings)] = pair
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        parts = [*pool.map(worker, lanes, range(len(lanes)))]
    return {cid: pair for part in parts for cid, pair in part.items()}, time.perf_counter() - start


def warm_up(lanes: list[Lane], port: int, pdf: bytes, counters: Path) -> int:
    """Untimed contracts, one per client thread a round, until every gunicorn worker has served
    each kind of request at least once (WARM_UP_ROUNDS at most); how many. The kernel, not the
    bench, picks the worker that accepts a connection, and a worker's first request of a kind
    pays for imports and caches (hundreds of ms) that no later contract pays again."""
    done = 0
    for _ in range(WARM_UP_ROUNDS):
        drive(lanes, port, pdf, len(lanes), None)
        done += len(lanes)
        workers = Snapshot.per_worker(counters)
        if len(workers) >= SERVER_WORKERS and all(
            w.requests[slot(step)] for w in workers for step in REQUEST_STEPS
        ):
            break
    return done


def check_completed(contracts: dict[str, Pair], port: int, count: int) -> None:
    """Every contract completed, with exactly the expected versions (read back, untimed)."""
    if len(contracts) != count:
        raise ApiError(f"{count} contracts were driven, {len(contracts)} came back")
    expected = ["prepared", "signed", "signed", "archived"]
    for contract_id, pair in contracts.items():
        body = Client(port, pair.sender.token).call("GET", f"/contracts/{contract_id}")
        kinds = [v["kind"] for v in body["versions"]]
        if body["status"] != "completed" or kinds != expected:
            raise ApiError(f"{contract_id}: {body['status']} with versions {kinds}")


def floor_ms(client: Client) -> list[float]:
    return [
        timed_ms(lambda: client.call("GET", "/me"))
        for _ in range(FLOOR_ROUNDS)  # a signed-in request doing almost nothing
    ]


def timed_ms(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


# -- the engine alone ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Medians of wall-clock and CPU milliseconds."""

    wall: float
    cpu: float


def measure(action: Callable[[], Any], rounds: int = ENGINE_ROUNDS) -> Cost:
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return Cost(statistics.median(walls), statistics.median(cpus))


@dataclass(frozen=True)
class Engine:
    approval: Cost  # pades.sign_approval: one party's seal and date stamp
    archive: Cost  # pades.archive: B-LTA at completion


def engine_costs(contract_id: str, partner: Signer) -> Engine:
    """The same signing work in process, without HTTP or the database's part in it: the
    partner's approval signature on the prepared PDF, and B-LTA on the twice-signed one."""
    from django.utils import timezone

    from portsign.contracts.domain import documents
    from portsign.contracts.models import Contract
    from portsign.pki import pades
    from portsign.pki.applications import signing_certificate
    from portsign.seals.models import Seal

    contract = Contract.objects.get(pk=contract_id)
    versions = {v.number: v for v in contract.versions.select_related("document", "party")}
    prepared, twice_signed = (documents.read_document(versions[n].document) for n in (1, 3))
    certificate = signing_certificate(enterprise_id=partner.enterprise_id)
    seal = Seal.objects.get(pk=partner.seal_id)
    with seal_png(seal) as png:
        today = timezone.localdate().isoformat()
        engine_marks = [
            pades.Mark(page=1, x=0.6, y=0.7, width=0.2, png=png),
            pades.Mark(page=1, x=0.62, y=0.92, width=0.16, png=None, text=today),
        ]
        if certificate is None:
            raise RuntimeError(f"{partner.enterprise_name} has no signing certificate")
        approval = measure(
            lambda: pades.sign_approval(
                prepared,
                certificate_id=certificate.id,
                marks=engine_marks,
                field_name="Bench-E",
                reason="bench",
                signer_name="bench",
            )
        )
    return Engine(approval, measure(lambda: pades.archive(twice_signed)))


@contextmanager
def seal_png(seal: Any) -> Iterator[bytes]:
    from django.core.files.storage import default_storage

    with default_storage.open(seal.image_path) as handle:
        yield handle.read()


# -- report -------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Totals:
    """The timed run as a whole."""

    completed: int
    warm_ups: int  # contracts before it, not counted
    wall: float  # seconds
    cpu: Cpu  # spent during the timed run
    counted: Snapshot  # what the server's hooks counted during it (bench/gunicorn_sql.py)
    load: tuple[float, float, float]


# Requests the bench makes only because the sandbox has no phone: the server's work for them is
# not the contract's, so SQL and CPU per contract leave them out (and say how much they were).
NOT_THE_CONTRACTS = ("read code (outbox)",)
REQUEST_STEPS = tuple(s for s in STEPS if s != "whole contract")


def slot(step: str) -> int:
    return FIRST_STEP + STEPS.index(step)


def check_counted(counted: Snapshot, timings: Timings) -> None:
    """The hooks saw each of the bench's timed requests under its step, and no other request."""
    seen = {step: counted.requests[slot(step)] for step in REQUEST_STEPS}
    sent = {step: len(timings.steps[step]) for step in REQUEST_STEPS}
    if seen != sent or sum(counted.requests) != sum(sent.values()):
        raise RuntimeError(f"the server counted requests {counted.requests}; the bench sent {sent}")


@dataclass(frozen=True)
class Figures:
    """The last line's figures (issue 17, "Targets"), and what they are made of."""

    sql_per_contract: float  # all statements of the timed run, but the outbox reads', over n
    sql_aside: float  # the outbox reads' statements, per contract
    server_cpu: float | None  # ms per contract: gunicorn + PostgreSQL (if local) - aside
    cpu_aside: float  # ms per contract: the outbox reads' request-thread CPU
    engine_cpu: float  # ms per contract: 2 x sign_approval + archive, in process
    contracts_per_s: float

    @staticmethod
    def of(totals: Totals, engine: Engine) -> Figures:
        n, counted, cpu = totals.completed, totals.counted, totals.cpu
        aside = [slot(step) for step in NOT_THE_CONTRACTS]
        sql_aside = sum(counted.statements[i] for i in aside)
        cpu_aside = sum(counted.cpu_ns[i] for i in aside) / 1e6 / n
        server = None
        if cpu.server is not None:
            server = (cpu.server + (cpu.database or 0.0)) * 1000 / n - cpu_aside
        return Figures(
            sql_per_contract=(sum(counted.statements) - sql_aside) / n,
            sql_aside=sql_aside / n,
            server_cpu=server,
            cpu_aside=cpu_aside,
            engine_cpu=2 * engine.approval.cpu + engine.archive.cpu,
            contracts_per_s=n / totals.wall,
        )

    @property
    def cpu_ratio(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.engine_cpu

    def last_line(self) -> str:
        ratio = "n/a" if self.cpu_ratio is None else f"{self.cpu_ratio:.2f}"
        return (
            f"flow: cpu_ratio={ratio} sql_per_contract={self.sql_per_contract:.1f} "
            f"contracts_per_s={self.contracts_per_s:.2f}"
        )


def report(
    *,
    database: str,
    args: argparse.Namespace,
    totals: Totals,
    timings: Timings,
    floor: list[float],
    engine: Engine,
) -> None:
    n = totals.completed
    figures = Figures.of(totals, engine)
    counted = totals.counted
    floor_median = statistics.median(floor)
    contained = {
        "sign, first party": engine.approval.wall,
        "sign, completing (+B-LTA)": engine.approval.wall + engine.archive.wall,
    }
    print(f"\n{database}; gunicorn {SERVER_WORKERS} workers x {SERVER_THREADS} threads; ", end="")
    print(f"{args.workers} client threads; {os.cpu_count()} CPUs")
    print("load average before:  {:.2f} {:.2f} {:.2f}".format(*totals.load))
    print(f"contracts completed:  {n} (+{totals.warm_ups} warm-up, not counted)")
    print(f"wall time:            {totals.wall:.2f} s")
    print(f"contracts/second:     {figures.contracts_per_s:.2f}")
    cpu = totals.cpu
    for label, seconds in (
        ("gunicorn", cpu.server),
        ("PostgreSQL", cpu.database),
        ("this script", cpu.client),
    ):
        if seconds is not None:
            print(f"CPU/contract, {label + ':':12} {seconds / n * 1000:5.0f} ms")
    print()
    print(
        f"{'step':28} {'n':>4} {'median ms':>10} {'p95 ms':>9} {'x floor':>8} {'x engine':>9}"
        f" {'SQL':>6} {'CPU ms':>7}"
    )
    for step in STEPS:
        values = timings.steps[step]
        median = statistics.median(values)
        vs_engine = f"{median / contained[step]:9.2f}" if step in contained else " " * 9
        if step in REQUEST_STEPS:  # per request, from the server's hooks
            requests = max(1, counted.requests[slot(step)])
            sql = counted.statements[slot(step)] / requests
            cpu_ms = counted.cpu_ns[slot(step)] / 1e6 / requests
        else:  # per contract, without the outbox reads, as the last line
            mine = [slot(s) for s in REQUEST_STEPS if s not in NOT_THE_CONTRACTS]
            sql = sum(counted.statements[i] for i in mine) / n
            cpu_ms = sum(counted.cpu_ns[i] for i in mine) / 1e6 / n
        print(
            f"{step:28} {len(values):4d} {median:10.1f} {p95(values):9.1f} "
            f"{median / floor_median:8.1f} {vs_engine} {sql:6.1f} {cpu_ms:7.1f}"
        )
    print("  (SQL: statements the server executed per request, through Django's cursor;")
    print("   CPU ms: the serving thread's CPU from gunicorn's pre_request to post_request)")
    outside = counted.statements[OUTSIDE] / n
    untagged = counted.statements[UNTAGGED] / n
    print(
        f"SQL/contract:         {figures.sql_per_contract:.1f} statements (its requests"
        f" {figures.sql_per_contract - outside - untagged:.1f}, other threads of the server"
        f" {outside:.1f}); the outbox reads' {figures.sql_aside:.1f} left out"
    )
    print()
    print("baselines, same run (medians):")
    print(f"  floor, GET /api/v1/me over HTTP:  {floor_median:7.1f} ms wall (n={len(floor)})")
    for name, cost in (("sign_approval", engine.approval), ("archive (B-LTA)", engine.archive)):
        print(
            f"  engine in process, {name + ':':17} {cost.wall:5.1f} ms wall, {cost.cpu:5.1f} ms CPU"
        )
    print(f"  engine CPU per contract (2 approvals + archive): {figures.engine_cpu:.0f} ms")
    print("  (x engine: the step's median over the engine work it contains, both wall)")
    if figures.server_cpu is not None and cpu.server is not None:
        # Server CPU is the service's: on SQLite the database works inside gunicorn, so on
        # PostgreSQL its server's CPU (when it runs here, as under with-postgres.sh) counts too.
        database_part, alone = "", ""
        if cpu.database is not None:
            database_part = f" + PostgreSQL {cpu.database / n * 1000:.0f}"
            gunicorn_alone = cpu.server * 1000 / n - figures.cpu_aside
            alone = f"; gunicorn alone {gunicorn_alone / figures.engine_cpu:.2f}"
        print(
            f"cpu_ratio: (gunicorn {cpu.server / n * 1000:.0f}{database_part}"
            f" - outbox reads {figures.cpu_aside:.0f}) / engine {figures.engine_cpu:.0f}"
            f" ms per contract{alone}"
        )
    print()
    print(figures.last_line())


# -- main ---------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=20, help="contracts to time")
    parser.add_argument("--workers", type=int, default=2, help="concurrent client threads")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    if args.contracts < 1 or args.workers < 1:
        parser.error("--contracts and --workers are at least 1")
    return args


def run(args: argparse.Namespace, data_dir: Path, port: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")
    django.setup()
    from django.db import connections

    from portsign.contracts.demo import agreement_pdf

    print(f"setting up in {data_dir} ...", flush=True)
    started = time.perf_counter()
    lanes = prepare(args.workers, args.contracts)
    pairs = sum(len(lane.pairs) for lane in lanes)
    print(f"{pairs} enterprise pairs ready in {time.perf_counter() - started:.1f} s", flush=True)
    database, database_pid = database_label(), postmaster_pid()
    connections.close_all()  # idle until the engine baseline; the server has the database
    pdf = agreement_pdf()  # the demo's one-page container tally agreement
    log_path, counters = data_dir / "gunicorn.log", data_dir / "counters"
    server = start_server(port, log_path, counters)
    try:
        probe = Client(port, lanes[0].pairs[0].sender.token)
        wait_until_serving(server, probe, log_path)
        print(f"gunicorn on {HOST}:{port}; warming up, then {args.contracts} contracts ...")
        warm_ups = warm_up(lanes, port, pdf, counters)
        timings = Timings()
        load = os.getloadavg()  # other work on the machine skews every figure: say so
        counted_before = Snapshot.settled(counters)
        before = Cpu.now(server.pid, database_pid)
        contracts, wall = drive(lanes, port, pdf, args.contracts, timings)
        # The last responses are out before gunicorn's post_request has counted them: wait for
        # it (microseconds), then read the CPU and the counters over the same window.
        counted = Snapshot.settled(counters).since(counted_before)
        spent = Cpu.now(server.pid, database_pid).since(before)
        check_counted(counted, timings)
        floor = floor_ms(probe)
        check_completed(contracts, port, args.contracts)
    except ApiError:
        print(f"gunicorn log: {log_path}", file=sys.stderr)
        raise
    finally:
        stop_server(server)
    totals = Totals(
        completed=len(contracts),
        wall=wall,
        warm_ups=warm_ups,
        cpu=spent,
        counted=counted,
        load=load,
    )
    contract_id, pair = next(iter(contracts.items()))
    engine = engine_costs(contract_id, pair.partner)
    report(database=database, args=args, totals=totals, timings=timings, floor=floor, engine=engine)


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="portsign-flowbench-"))
    port = _free_port()
    _configure_environment(data_dir, port)
    keep = args.keep
    try:
        with scratch_database():
            try:
                run(args, data_dir, port)
            except BaseException:
                keep = True  # the server log and the files are what explains the failure
                raise
            finally:
                from django.db import connections

                connections.close_all()  # before the scratch database is dropped
    finally:
        if keep:
            print(f"kept {data_dir}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
