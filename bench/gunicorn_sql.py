"""Gunicorn config for bench/flow.py: counts the SQL statements and request CPU of the server.

    gunicorn -c bench/gunicorn_sql.py portsign.wsgi ...   (FLOWBENCH_COUNTERS=<a directory>)

Nothing of it is in the product: it is a gunicorn config file holding only server hooks, so
the application, its settings and its middleware are the ones `make run` serves.

- `post_fork`, in each worker: creates `<FLOWBENCH_COUNTERS>/worker-<pid>.counters`, maps it
  into memory (mmap, shared with whoever reads the file) and counts what Django's
  `assertNumQueries` and `connection.queries` count, from any thread of the worker (those
  serving requests and any background thread, slot OUTSIDE): each `CursorWrapper.execute` and
  `executemany` (one for a whole executemany; `CursorDebugWrapper` calls these through
  `super()`, so DEBUG counts once too) and each BEGIN, COMMIT and ROLLBACK that Django issues
  through the driver (`debug_transaction` in `django.db.backends.base.base`). So SQLite's
  `BEGIN IMMEDIATE` (a cursor statement) and PostgreSQL's BEGIN (psycopg's, on leaving
  autocommit) count alike. Not counted: connection set-up (SQLite's init_command PRAGMAs) and
  the health check's `SELECT 1`, which go to the driver directly. Wrapping the classes and not
  `connection.execute_wrapper`, which is per connection and per thread.
- `pre_request` / `post_request` (gunicorn calls both in the thread that serves the request):
  the request's slot is its `X-Flow-Step` header (the bench's step number; no header: slot
  UNTAGGED), its statements go there, and so do its count and the thread CPU it took from
  pre_request to post_request. `in_flight` is what pre_request started and post_request has
  not yet ended: post_request runs after the response is sent, so a reader waits for
  `in_flight == 0` before it trusts the counts of the last requests.

The counters are cumulative since the worker started; a reader takes two snapshots and uses the
difference, so setup and warm-up never count. Each worker writes only its own file, one
8-byte aligned store per update under the worker's lock: a reader sees every value whole.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIRECTORY_VARIABLE = "FLOWBENCH_COUNTERS"
STEP_HEADER = "X-Flow-Step"
SLOTS = 16
OUTSIDE = 0  # statements of a thread that is not serving a request (background work)
UNTAGGED = 1  # requests without the header
FIRST_STEP = 2  # step number k of the header is slot FIRST_STEP + k


class Counters(ctypes.Structure):
    _fields_ = (
        ("in_flight", ctypes.c_int64),
        ("statements", ctypes.c_uint64 * SLOTS),
        ("requests", ctypes.c_uint64 * SLOTS),
        ("cpu_ns", ctypes.c_uint64 * SLOTS),
    )


# -- in each gunicorn worker ---------------------------------------------------------------------

_lock = threading.Lock()
_current = threading.local()  # .slot and .cpu_ns while the thread serves a request
_worker: dict[str, Any] = {}  # the mmap and the Counters over it, kept alive for the worker


def _count_statement() -> None:
    counters: Counters = _worker["counters"]
    slot = getattr(_current, "slot", OUTSIDE)
    with _lock:
        counters.statements[slot] += 1


def _counted(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count_statement()
        return method(self, *args, **kwargs)

    return execute


def _counted_transaction(
    original: Callable[[Any, str], AbstractContextManager[None]],
) -> Callable[[Any, str], AbstractContextManager[None]]:
    @contextmanager
    def debug_transaction(connection: Any, sql: str) -> Iterator[None]:
        _count_statement()
        with original(connection, sql):
            yield

    return debug_transaction


def post_fork(server: Any, worker: Any) -> None:
    install()


def install() -> None:
    """Count this process's statements into its own file under FLOWBENCH_COUNTERS (a worker
    process other than gunicorn's, started for the bench, may call it too)."""
    from django.db.backends.base import base
    from django.db.backends.utils import CursorWrapper

    path = Path(os.environ[DIRECTORY_VARIABLE]) / f"worker-{os.getpid()}.counters"
    with path.open("wb") as handle:
        handle.write(bytes(ctypes.sizeof(Counters)))
    with path.open("r+b") as handle:
        memory = mmap.mmap(handle.fileno(), ctypes.sizeof(Counters))
    _worker.update(memory=memory, counters=Counters.from_buffer(memory))
    CursorWrapper.execute = _counted(CursorWrapper.execute)  # type: ignore[method-assign]
    CursorWrapper.executemany = _counted(CursorWrapper.executemany)  # type: ignore[method-assign]
    base.debug_transaction = _counted_transaction(base.debug_transaction)  # type: ignore[attr-defined]


def _slot(req: Any) -> int:
    for name, value in req.headers:
        if name.lower() == STEP_HEADER.lower():
            try:
                slot = FIRST_STEP + int(value)
            except ValueError:
                break
            return slot if FIRST_STEP <= slot < SLOTS else UNTAGGED
    return UNTAGGED


def pre_request(worker: Any, req: Any) -> None:
    counters: Counters = _worker["counters"]
    with _lock:
        counters.in_flight += 1
    _current.slot = _slot(req)
    _current.cpu_ns = time.thread_time_ns()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    counters: Counters = _worker["counters"]
    slot = getattr(_current, "slot", UNTAGGED)
    cpu = time.thread_time_ns() - getattr(_current, "cpu_ns", time.thread_time_ns())
    with _lock:
        counters.requests[slot] += 1
        counters.cpu_ns[slot] += cpu
        counters.in_flight -= 1
    _current.slot = OUTSIDE  # the thread serves no request until the next pre_request


# -- in the bench --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """All workers' counters, summed (the files of exited workers included)."""

    in_flight: int
    statements: tuple[int, ...]
    requests: tuple[int, ...]
    cpu_ns: tuple[int, ...]

    @staticmethod
    def per_worker(directory: Path) -> list[Snapshot]:
        """Each worker's counters, one snapshot a worker process."""
        snapshots = []
        for path in sorted(directory.glob("worker-*.counters")):
            counters = Counters.from_buffer_copy(path.read_bytes())
            snapshots.append(
                Snapshot(
                    counters.in_flight,
                    tuple(counters.statements),
                    tuple(counters.requests),
                    tuple(counters.cpu_ns),
                )
            )
        return snapshots

    @staticmethod
    def read(directory: Path) -> Snapshot:
        workers = Snapshot.per_worker(directory)
        return Snapshot(
            sum(w.in_flight for w in workers),
            tuple(sum(w.statements[i] for w in workers) for i in range(SLOTS)),
            tuple(sum(w.requests[i] for w in workers) for i in range(SLOTS)),
            tuple(sum(w.cpu_ns[i] for w in workers) for i in range(SLOTS)),
        )

    @staticmethod
    def settled(directory: Path, timeout: float = 10.0) -> Snapshot:
        """A snapshot once no request is between pre_request and post_request."""
        give_up = time.monotonic() + timeout
        while (snapshot := Snapshot.read(directory)).in_flight and time.monotonic() < give_up:
            time.sleep(0.01)
        if snapshot.in_flight:
            raise RuntimeError(f"{snapshot.in_flight} requests still in flight after {timeout} s")
        return snapshot

    def since(self, before: Snapshot) -> Snapshot:
        def minus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(x - y for x, y in zip(a, b, strict=True))

        return Snapshot(
            self.in_flight,
            minus(self.statements, before.statements),
            minus(self.requests, before.requests),
            minus(self.cpu_ns, before.cpu_ns),
        )
