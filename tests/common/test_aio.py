"""run_sync: pyHanko's coroutines driven from sync code (issue 17, asyncio.run in a main thread)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator

import pytest

from portsign.common.aio import run_sync


class _Result:
    """A coroutine's result that counts how often it is formatted with repr()."""

    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "_Result()"


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """The main thread with Python's own SIGINT handler: where asyncio.run puts its own in
    place and takes it out again (CPython 3.11 asyncio/runners.py, Runner.run)."""
    assert threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_the_result_is_returned_and_never_formatted(default_sigint):
    # Under plain asyncio.run the result is formatted twice (the repr of the finished task,
    # inside a ValueError that signal._int_to_enum discards): for a signed PDF's bytes that
    # cost time in proportion to its size.
    result = _Result()

    async def give() -> _Result:
        await asyncio.sleep(0)
        return result

    assert run_sync(give) is result
    assert result.reprs == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_exception_of_the_coroutine_is_raised(default_sigint):
    async def fail() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match=r"^bad input$"):
        run_sync(fail)


def test_inside_a_running_loop_the_coroutine_runs_in_a_thread_of_its_own():
    result = _Result()
    threads: list[threading.Thread] = []

    async def give() -> _Result:
        threads.append(threading.current_thread())
        return result

    async def caller() -> _Result:
        return run_sync(give)

    assert asyncio.run(caller()) is result  # this asyncio.run formats it, run_sync did not
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
