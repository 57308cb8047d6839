"""Slack's per-channel posting pace: about one message per second per channel, channels in parallel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ChannelPacer:
    """Spaces posts to one channel ``interval`` seconds apart without making other channels wait.

    Each post reserves the channel's next free slot before it sleeps, so concurrent posts to one
    channel queue up in order while a post to another channel goes at once. The clock is monotonic
    and, like ``sleep``, injectable so tests measure spacing without waiting.
    """

    def __init__(self, interval: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = max(0.0, interval)
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}

    @staticmethod
    def key(channel: str) -> str:
        """``#Engineering`` and ``engineering`` are one channel."""
        return channel.strip().lstrip("#").lower()

    async def wait(self, channel: str) -> float:
        """Wait for ``channel``'s next slot; returns the seconds waited."""
        key = self.key(channel)
        now = self._clock()
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + self.interval
        delay = slot - now
        if delay > 0:
            await self._sleep(delay)
        return delay

    def penalise(self, channel: str, seconds: float) -> None:
        """Slack answered 429 for ``channel``: nothing is posted there for ``seconds``."""
        key = self.key(channel)
        self._next[key] = max(self._next.get(key, 0.0), self._clock() + max(0.0, seconds))
