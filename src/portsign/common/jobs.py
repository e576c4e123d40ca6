"""Where background jobs run (DESIGN "jobs"): one place for every kind of job.

A job is a function of one id that can safely run again (it claims its row, and a second run of
a finished job does nothing). Its *runner* says where it runs:
- "celery": sent by task name to a worker, so a domain module never imports its tasks module
  (tasks import the domain, not the other way round);
- "thread": a background thread pool of this process, one pool per job kind with its own
  size (embedded mode: the request returns at once and progress can be followed);
- "inline": right here, inside the request (tests, tools).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from django.db import connections

log = logging.getLogger(__name__)

RUNNERS = ("celery", "thread", "inline")

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()
_running: set[Future[None]] = set()


def submit(
    task: str,
    job_id: str,
    *,
    run: Callable[[str], object],
    runner: str,
    threads: int = 1,
) -> None:
    """Run `run(job_id)` where *runner* says; *task* is the Celery task's name."""
    if runner == "celery":
        from celery import current_app

        current_app.send_task(task, kwargs={"job_id": job_id})
    elif runner == "thread":
        with _lock:
            pool = _pools.get(task)
            if pool is None:
                pool = _pools[task] = ThreadPoolExecutor(
                    max_workers=threads, thread_name_prefix=task
                )
            future = pool.submit(_in_thread, task, run, job_id)
            _running.add(future)
        future.add_done_callback(_running.discard)
    else:
        run(job_id)


def _in_thread(task: str, run: Callable[[str], object], job_id: str) -> None:
    try:
        run(job_id)
    except Exception:
        log.exception("%s %s stopped", task, job_id)
    finally:
        connections.close_all()  # this thread's own connections


def wait_idle(timeout: float) -> bool:
    """Wait for this process's background jobs (tests, and a clean shutdown)."""
    _done, not_done = wait_futures(list(_running), timeout=timeout)
    return not not_done
