"""Doing an external effect once: planned in the store, looked for after a crash, done with its reference.

The key is derived from (flow, item, effect, version). A key already done returns its reference and
does nothing; a key planned (or failed) before is first looked for at the remote (the marker in a
note, the message metadata, the issue's marker) and only redone when it is not there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from frontline.model import Effect, EffectStatus, effect_key
from frontline.store.state import StateStore

Find = Callable[[str], Awaitable[str | None]]
Do = Callable[[str], Awaitable[tuple[str, str]]]


class Ledger:
    """Exactly-once effects for one flow."""

    def __init__(self, store: StateStore, flow: str) -> None:
        self.store = store
        self.flow = flow

    def key(self, item_id: str, kind: str, version: str) -> str:
        """The idempotency key of one effect."""
        return effect_key(self.flow, item_id, kind, version)

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
