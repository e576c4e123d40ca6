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


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The result of the coroutine ``make()`` makes, run to completion.

    asyncio.run refuses to start while this thread already runs an event loop (an async view,
    Playwright's sync API in a test, a notebook): then the coroutine runs in a helper thread
    of its own, as it would in a server thread. ``make`` is a factory so the coroutine is
    created in the thread that awaits it."""
    if not _loop_running():
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
