"""The feedback flow: a person's correction from a chat (Slack buttons and menus) recorded as a decision.

It lists nothing: its work arrives as inbox entries (``serve``'s Slack receiver), each recorded as a
decision of the ``feedback`` flow (classifier ``human:slack:<user>``) next to the decision it
corrects. Every entry is its own item, so two clicks on one alert are both kept.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frontline.flows.base import Context, Flow, FlowRun, Handled, Output
from frontline.store.state import Decision, StateStore


@dataclass
class FeedbackServices:
    """The feedback flow needs only the state store."""

    store: StateStore
    flow: str = "feedback"
    cursor_key: str = "feedback"


class FeedbackFlow(Flow):
    """Records people's corrections; it takes inbox entries only."""

    name = "feedback"
    item = dict
    order = 90
    claims = False  # each entry is its own item: nobody else can hold it
    webhooks = ("slack",)  # Slack's buttons and menus on frontline's messages

    def services(self, context: Context) -> FeedbackServices:
        """Only the store."""
        return FeedbackServices(context.store)

    def key(self, entry: Any) -> str:
        """Each entry is an item of its own."""
        return str(entry.id)

    async def read(self, services: Any, entry: Any) -> Any:
        """The entry itself: what the person did is all in it."""
        return entry

    def start(self, services: Any, *, dry_run: bool = False, limit: int | None = None, output: Output | None = None,
              quiet: bool = False, now: Callable[[], datetime] | None = None) -> FlowRun:
        """Feedback lists nothing to run over."""
        raise NotImplementedError("the feedback flow takes inbox entries only")

    async def handle(self, services: FeedbackServices, items: Sequence[Any], *, owner: str,
                     claim_seconds: float) -> Handled:
        """Record each entry's correction as one decision."""
        services.store.complete([feedback_decision(entry) for entry in items])
        return Handled({self.key(entry) for entry in items}, counts=Counter(handled=len(items)))


def feedback_decision(entry: Any) -> Decision:
    """The ``feedback`` decision an inbox entry from a chat's buttons or menus records."""
    payload: dict[str, Any] = entry.payload if isinstance(entry.payload, dict) else {}
    kind = str(payload.get("kind") or "unknown")
    user = str(payload.get("user") or "unknown")
    return Decision(
        flow="feedback", item_id=entry.item_id, version=str(payload.get("action_ts") or entry.delivery)[:100],
        inputs_hash=hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest(),
        classifier=f"human:{entry.source}:{user}"[:60], confidence=1.0,
        category=payload.get("category") if kind == "correct_category" else None, severity=None,
        fields={"kind": kind, "user": user, "source": entry.source, "delivery": entry.delivery,
                "corrects": "triage" if kind == "correct_category" else "escalate"},
    )
