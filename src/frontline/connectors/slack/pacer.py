"""Slack's per-channel posting pace: about one message per second per channel, channels in parallel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from frontline.runtime.budgets import TimeSource, TokenBucket

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ChannelPacer:
    """Spaces posts to one channel ``interval`` seconds apart without making other channels wait.

    One :class:`~frontline.runtime.budgets.TokenBucket` per channel (a token every ``interval``
    seconds, no burst): each post books the channel's next free slot before it sleeps, so
    concurrent posts to one channel queue up in order while a post to another channel goes at
    once. The clock is monotonic and, like ``sleep``, injectable so tests measure spacing without
    waiting. This is the chat's pace when no process-wide budget is given (see ``SlackChat``).
    """

    def __init__(self, interval: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = max(0.0, interval)
        self._time = TimeSource(clock=clock, sleep=sleep)
        self._buckets: dict[str, TokenBucket] = {}

    @staticmethod
    def key(channel: str) -> str:
        """``#Engineering`` and ``engineering`` are one channel."""
        return channel.strip().lstrip("#").lower()

    def _bucket(self, channel: str) -> TokenBucket:
        key = self.key(channel)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = 1.0 / self.interval if self.interval > 0 else float("inf")
            bucket = self._buckets[key] = TokenBucket(f"slack:post:{key}", rate, 1.0, time=self._time)
        return bucket

    async def wait(self, channel: str) -> float:
        """Wait for ``channel``'s next slot; returns the seconds waited."""
        return await self._bucket(channel).take()

    def penalise(self, channel: str, seconds: float) -> None:
        """Slack answered 429 for ``channel``: nothing is posted there for ``seconds``."""
        self._bucket(channel).penalise(seconds)
