"""Doing an external effect once: planned in the store, looked for after a crash, done with its reference.

The key is derived from (flow, item, effect, version). A key already done returns its reference and
does nothing; a key planned (or failed) before is first looked for at the remote (the marker in a
note, the message metadata, the issue's marker) and only redone when it is not there.

Every flow's effects go through one :class:`Ledger`: :meth:`Ledger.once` for one effect at a time,
:meth:`Ledger.many` for a batch done in one vendor call (triage's write-backs, one bulk update per
page), :meth:`Ledger.each` for a batch of effects each done on its own (the escalation protocol's
issues of a page), and the batched primitives (:meth:`Ledger.known`, :meth:`Ledger.plan`, :meth:`Ledger.finish`)
for effects a flow groups itself (triage's alerts, some of which go out as one digest): one
database round trip per page instead of one per item, which the triage benchmark needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from frontline.errors import describe
from frontline.model import Effect, EffectStatus, effect_key
from frontline.store.state import StateStore

Find = Callable[[str], Awaitable[str | None]]
Do = Callable[[str], Awaitable[tuple[str, str]]]
FindOne = Callable[[str, str], Awaitable[str | None]]  # (item id, key) → the earlier effect's reference
T = TypeVar("T")
DoMany = Callable[[Sequence[tuple[str, str]]], Awaitable[Sequence[str | BaseException | None]]]


class Ledger:
    """Exactly-once effects for one flow."""

    def __init__(self, store: StateStore, flow: str) -> None:
        self.store = store
        self.flow = flow

    def key(self, item_id: str, kind: str, version: str) -> str:
        """The idempotency key of one effect."""
        return effect_key(self.flow, item_id, kind, version)

    def effect(self, key: str, item_id: str, kind: str, target: str, status: EffectStatus = EffectStatus.PLANNED,
               ref: str | None = None, error: str | None = None) -> Effect:
        """One ledger row of this flow."""
        return Effect(key, self.flow, item_id, kind, target, status, ref, error)

    # -- batched primitives ------------------------------------------------------------------------
    def known(self, keys: Iterable[str]) -> dict[str, Effect]:
        """The ledger's rows for ``keys`` that exist."""
        return self.store.effects_by_key(keys)

    def plan(self, effects: Sequence[Effect]) -> None:
        """Record effects as planned, before they are attempted (a known key counts another attempt)."""
        self.store.plan(effects)

    def finish(self, effects: Sequence[Effect]) -> None:
        """Record effects as done (with their reference) or failed (with the error)."""
        self.store.finish(effects)

    async def many(self, items: Sequence[tuple[str, str]], kind: str, target: str, *, find: FindOne,
                   do: DoMany) -> dict[str, str | BaseException | None]:
        """:meth:`once` for a batch done in one call: each item's reference, or why its effect failed.

        ``items`` are (item id, version). A key done before returns its reference; a key planned or
        failed before is looked for first (``find(item_id, key)``, which handles its own errors and
        answers None when it cannot tell); the rest are planned together and done by one
        ``do([(item_id, key), …])``, which returns a reference or an error per item, in order (an
        error it raises fails them all).
        """
        keys = {item_id: self.key(item_id, kind, version) for item_id, version in items}
        known = self.known(keys.values())
        results: dict[str, str | BaseException | None] = {}
        pending: list[tuple[str, str]] = []
        for item_id, key in keys.items():
            row = known.get(key)
            if row is not None and row.status is EffectStatus.DONE:
                results[item_id] = row.remote_ref
                continue
            found = await find(item_id, key) if row is not None else None
            if found:
                results[item_id] = found
                self.finish([self.effect(key, item_id, kind, row.target if row else target, EffectStatus.DONE,
                                         found)])
            else:
                pending.append((item_id, key))
        if not pending:
            return results
        self.plan([self.effect(key, item_id, kind, target) for item_id, key in pending])
        try:
            answers: Sequence[str | BaseException | None] = await do(pending)
        except Exception as error:
            answers = [error] * len(pending)
        finished = []
        for (item_id, key), answer in zip(pending, answers, strict=True):
            results[item_id] = answer
            if isinstance(answer, BaseException):
                finished.append(self.effect(key, item_id, kind, target, EffectStatus.FAILED, error=describe(answer)))
            else:
                finished.append(self.effect(key, item_id, kind, target, EffectStatus.DONE, answer))
        self.finish(finished)
        return results

    async def each(self, items: Sequence[str], kind: str, version: str, target: str, *, find: Find, do: Do,
                   always_find: bool = False) -> dict[str, str | Exception]:
        """:meth:`once` for several items, each effect done on its own: each item's reference, or why it failed.

        The same steps as :meth:`once` — a key done before returns its reference, a known key (or
        every key, ``always_find``) is looked for first, the rest are planned, done and recorded —
        but the ledger is read, planned and finished once for all of them (a page's urgent tickets),
        and the remote calls run concurrently. A ``find`` that fails leaves its item unplanned, as
        :meth:`once` does.
        """
        keys = {item_id: self.key(item_id, kind, version) for item_id in items}
        known = self.known(keys.values())
        results: dict[str, str | Exception] = {}
        looking: list[str] = []
        for item_id, key in keys.items():
            row = known.get(key)
            if row is not None and row.status is EffectStatus.DONE and row.remote_ref:
                results[item_id] = row.remote_ref
            elif row is not None or always_find:
                looking.append(item_id)
        found = dict(zip(looking, await asyncio.gather(*(_attempt(find(keys[i])) for i in looking)), strict=True))
        planned: list[str] = []
        for item_id in keys:
            if item_id in results:
                continue
            answer = found.get(item_id)
            if isinstance(answer, Exception):
                results[item_id] = answer
            else:
                planned.append(item_id)
        self.store.plan([Effect(keys[i], self.flow, i, kind, target) for i in planned])
        todo = [i for i in planned if not found.get(i)]
        done = dict(zip(todo, await asyncio.gather(*(_attempt(do(keys[i])) for i in todo)), strict=True))
        finished: list[Effect] = []
        for item_id in planned:
            key = keys[item_id]
            earlier = found.get(item_id)
            outcome = (earlier, target) if isinstance(earlier, str) and earlier else done[item_id]
            if isinstance(outcome, Exception):
                results[item_id] = outcome
                finished.append(Effect(key, self.flow, item_id, kind, target, EffectStatus.FAILED,
                                       error=f"{type(outcome).__name__}: {outcome}"[:2000]))
            else:
                ref, used = outcome
                results[item_id] = ref
                finished.append(Effect(key, self.flow, item_id, kind, used, EffectStatus.DONE, ref))
        self.store.finish(finished)
        return results

    async def once(self, item_id: str, kind: str, version: str, target: str, *, find: Find, do: Do,
                   always_find: bool = False) -> str:
        """The effect's remote reference, doing it only if it was not done before.

        ``find(key)`` looks for the effect at the remote; ``do(key)`` performs it and returns
        (reference, target actually used). ``always_find`` looks before a first attempt too (the
        tracker: an issue may exist from before frontline's own ledger). Raises what ``do`` raises,
        after recording the failure.
        """
        key = self.key(item_id, kind, version)
        known = self.store.effects_by_key([key]).get(key)
        if known is not None and known.status is EffectStatus.DONE and known.remote_ref:
            return known.remote_ref
        seen = () if known is None else (key,)
        if known is not None or always_find:
            found = await find(key)
            if found:
                self.store.plan([Effect(key, self.flow, item_id, kind, target)], existing=seen)
                self.store.finish([Effect(key, self.flow, item_id, kind, target, EffectStatus.DONE, found)])
                return found
        self.store.plan([Effect(key, self.flow, item_id, kind, target)], existing=seen)
        try:
            ref, used = await do(key)
        except Exception as error:
            self.store.finish([Effect(key, self.flow, item_id, kind, target, EffectStatus.FAILED,
                                      error=f"{type(error).__name__}: {error}"[:2000])])
            raise
        self.store.finish([Effect(key, self.flow, item_id, kind, used, EffectStatus.DONE, ref)])
        return ref


async def _attempt(call: Awaitable[T]) -> T | Exception:
    """What ``call`` returns, or the error it raised (anything graver than an Exception goes on up)."""
    try:
        return await call
    except Exception as error:
        return error
