"""An event loop on virtual time: whenever nothing is ready to run, its clock jumps to the next timer.

Sleeps, budget waits and the fakes' rate windows then take no real time, and every coroutine sees
one consistent clock (``loop.time()``). Only for in-memory I/O (``httpx.MockTransport``, blocking
SQLite calls): a loop waiting on a socket or a thread would jump past it.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` only moves when it jumps to the next scheduled callback."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual = 1000.0

    def time(self) -> float:
        """Virtual seconds."""
        return self._virtual

    def _run_once(self) -> None:
        scheduled: list[Any] = self._scheduled  # type: ignore[attr-defined]
        while scheduled and scheduled[0]._cancelled:
            heapq.heappop(scheduled)
            self._timer_cancelled_count -= 1  # type: ignore[attr-defined]
        if not self._ready and scheduled:  # type: ignore[attr-defined]
            self._virtual = max(self._virtual, scheduled[0]._when)
        super()._run_once()  # type: ignore[misc]


def now() -> float:
    """The running loop's (virtual) time."""
    return asyncio.get_running_loop().time()


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on virtual time."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
