"""Running pyHanko's async API from PortSign's sync code: the one place that knows how."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run of ``make()``, whose result never becomes the result of asyncio's task.

    In the main thread asyncio.run costs time in proportion to the size of the result (issue
    17: 54-64 ms for a signed 4 MB PDF). CPython 3.11 `asyncio/runners.py`, `Runner.run`, puts
    `functools.partial(self._on_sigint, main_task=task)` in place as the SIGINT handler, and
    in its `finally`, once the task has finished, calls `signal.getsignal` and `signal.signal`
    to put the default back. Both pass the handler they get to `signal._int_to_enum`, which
    tries `signal.Handlers(handler)`: `enum.Enum.__new__` formats `"%r is not a valid %s"`
    into a ValueError that `_int_to_enum` then discards, and `%r` of the partial is the
    repr of the finished task, which (`asyncio/base_futures.py`, `_future_repr_info`) is
    `reprlib.repr(result)`; reprlib's `repr_instance` calls `builtins.repr` on the whole
    bytes before cutting it short. Twice. Keeping the result out of the task (the task's
    result is None) leaves that repr a few dozen characters, and everything else about
    asyncio.run as it was: a fresh loop, Ctrl-C cancelling the task, async generators and
    the default executor shut down, the loop closed."""
    results: list[T] = []

    async def keep_result() -> None:
        results.append(await make())

    asyncio.run(keep_result())
    return results[0]


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The result of the coroutine ``make()`` makes, run to completion.

    asyncio.run refuses to start while this thread already runs an event loop (an async view,
    Playwright's sync API in a test, a notebook): then the coroutine runs in a helper thread
    of its own, as it would in a server thread. ``make`` is a factory so the coroutine is
    created in the thread that awaits it."""
    if not _loop_running():
        return _run(make)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_run, make).result()
