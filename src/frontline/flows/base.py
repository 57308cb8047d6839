"""What a flow is: the :class:`Flow` base the engine runs, and the pieces every flow shares.

A flow declares its name, the kind of item it works on, the ports it needs and its settings
section; it builds its services from the ports the engine opened, lists work after a cursor, reads
one item again, handles a batch of items and describes what it did. The engine
(:mod:`frontline.engine`) does the rest the same way for every flow: the cursor that only moves
past complete pages, requeued items, claims, the inbox consumer of ``serve`` and ``worker``, and the
summaries. Flows are found through the ``frontline.flows`` entry points
(:mod:`frontline.flows.registry`), so a new flow is a module and a line in ``pyproject.toml``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Protocol

import httpx
from pydantic import TypeAdapter, ValidationError

from frontline.config import Settings
from frontline.errors import ChannelRefusedError, describe
from frontline.model import ChatMessage
from frontline.ports import Chat, Classifier, Page
from frontline.store.state import StateStore

POLL = "poll"  # the inbox source of the entries the engine's fetcher made (they carry the item as listed)


class Progress(Protocol):
    """A progress display: called as ``progress(stage, done, total)``, closed at the end."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        """``done`` of ``total`` steps."""

    def close(self) -> None:
        """Take the display away."""


class Output(Protocol):
    """Where a flow describes what it does: the CLI's console, or nothing."""

    def line(self, text: str) -> None:
        """Show one line of Rich markup."""

    def safe(self, value: object) -> str:
        """``value`` (data: an id, a subject, a vendor's words) as markup that shows it literally."""

    def progress(self, label: str) -> Progress:
        """A progress display for a long run."""


class Silent:
    """An :class:`Output` that shows nothing (``serve``, ``worker``, tests)."""

    def line(self, text: str) -> None:
        """Nothing."""

    def safe(self, value: object) -> str:
        """The value as text."""
        return str(value)

    def progress(self, label: str) -> Progress:
        """A display that shows nothing."""
        return _NoProgress()


class _NoProgress:
    def __call__(self, stage: str, done: int, total: int) -> None:
        """Nothing."""

    def close(self) -> None:
        """Nothing."""


@dataclass
class Context:
    """What the engine opened for a flow: its settings, the store, the ports it asked for, and shared helpers.

    ``classifier()`` builds the configured classifier (a flow that needs none never calls it, so a
    missing LLM key cannot stop it).
    """

    settings: Settings
    store: StateStore
    ports: Mapping[str, Any]
    http: httpx.AsyncClient
    classifier: Callable[[], Classifier]


@dataclass
class Handled:
    """What a flow did with a batch the engine gave it: which items finished, which failed and why."""

    finished: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)  # e.g. handled, escalated, skipped


class FlowRun(Protocol):
    """One pass of a flow over everything new (``frontline run``, a poll cycle)."""

    async def run(self) -> Any:
        """Do the pass; returns the flow's summary (with a ``failures`` list of (item, reason))."""
        ...


class Flow(ABC):
    """A flow as the engine sees it. Subclasses set the class attributes and implement the abstract methods.

    ``services`` objects are the flow's own (built by :meth:`services`); the engine only passes
    them back. Each must have ``flow`` (the name its items, decisions and effects are stored under,
    ``triage@emea`` for a team), ``cursor_key`` and ``settings``.
    """

    name: ClassVar[str]
    item: ClassVar[Any]  # the item's type (Ticket, Conversation): entries carry it as JSON
    ports: ClassVar[tuple[str, ...]] = ()
    source_port: ClassVar[str | None] = None  # the port it lists work from; None: it only takes inbox entries
    # Its section of frontline.toml: one of frontline's own, or its own, whose model its package registers
    # under the `frontline.settings` entry points (read as `settings.section(name)`).
    settings_section: ClassVar[str | None] = None
    order: ClassVar[int] = 100  # where it comes in "every flow" (run and shown in this order)
    # The webhook sources whose deliveries it takes (`zendesk`, `intercom`, `slack`, `tickets` for
    # POST /tickets); `serve`'s receivers ask the registry, and one source goes to one flow.
    webhooks: ClassVar[tuple[str, ...]] = ()
    claims: ClassVar[bool] = True  # one process at a time per item (the engine claims before handle)
    default: ClassVar[bool] = True  # run by `poll`, `worker` and serve's poller unless flows are named

    @property
    def title(self) -> str:
        """Its name as a summary's title."""
        return self.name.capitalize()

    @property
    def lists(self) -> bool:
        """True when it lists work after a cursor (``run``, ``poll`` and the fetcher take it)."""
        return self.source_port is not None

    # -- services ----------------------------------------------------------------------------------
    @abstractmethod
    def services(self, context: Context) -> Any:
        """Everything the flow talks to, built from what the engine opened."""

    def source(self, services: Any) -> Any:
        """The port work is listed from and read again from."""
        assert self.source_port is not None
        return getattr(services, self.source_port)

    # -- work ---------------------------------------------------------------------------------------
    async def list_after(self, services: Any, cursor: str | None, size: int) -> Page[Any]:
        """The page of items changed after ``cursor``."""
        page: Page[Any] = await self.source(services).list_changed(cursor, size)
        return page

    async def get(self, services: Any, item_id: str) -> Any:
        """One item read again from its source (raises NotFoundError when it is gone)."""
        return await self.source(services).get(item_id)

    def key(self, entry: Any) -> str:
        """The item an inbox entry is about: entries with one key are handled as one item."""
        return str(entry.item_id)

    async def read(self, services: Any, entry: Any) -> Any:
        """The item an inbox entry names: the copy a poll entry carries, else read again from the source."""
        if entry.source == POLL:
            item = self.load(entry.payload)
            if item is not None:
                return item
        return await self.get(services, entry.item_id)

    def wanted(self, item: Any) -> bool:
        """False for an item read again that needs nothing now (a ticket solved before it was reached)."""
        return True

    def version(self, item: Any) -> str:
        """The item's version: a change makes a new inbox entry, an unchanged item is enqueued once."""
        return str(item.version)

    def dump(self, item: Any) -> Any:
        """The item as JSON for an inbox entry."""
        return _adapter(self.item).dump_python(item, mode="json")

    def load(self, payload: Any) -> Any | None:
        """The item an entry carries, or None (a webhook's entry, or one from an older version)."""
        if not isinstance(payload, dict) or "item" not in payload:
            return None
        try:
            return _adapter(self.item).validate_python(payload["item"])
        except ValidationError:
            return None

    def due(self, services: Any, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Items to read again at a time of their own (escalate's watch list), with that time."""
        return []

    def gone(self, services: Any, item_ids: Sequence[str]) -> None:  # noqa: B027 (most flows keep nothing)
        """These items no longer exist at the source: forget what waits on them."""

    @abstractmethod
    def start(self, services: Any, *, dry_run: bool = False, limit: int | None = None, output: Output | None = None,
              quiet: bool = False, now: Callable[[], datetime] | None = None) -> FlowRun:
        """A pass over everything new, reporting each item to ``output`` (unless ``quiet``)."""

    @abstractmethod
    async def handle(self, services: Any, items: Sequence[Any], *, owner: str, claim_seconds: float) -> Handled:
        """Handle items the engine read and claimed for ``owner`` (an inbox batch); never raises for one item."""

    # -- describing ---------------------------------------------------------------------------------
    def failed(self, summary: Any) -> bool:
        """True when an item of the pass failed (the command exits 1)."""
        return bool(summary.failures)

    def idle(self, summary: Any) -> bool:
        """True when the pass found nothing to do (a poll cycle then says "nothing new")."""
        return not summary.failures

    def print_summary(self, summary: Any, output: Output, *, title: str) -> None:
        """The closing summary of a pass."""
        output.line(f"\n[bold]{output.safe(title)}[/]: {len(summary.failures)} failed")


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    """One validator per item type: building one costs far more than using it."""
    return TypeAdapter(kind)


async def post_with_fallback(chat: Chat, channel: str, fallback: str, message: ChatMessage, key: str,
                             problems: Sequence[list[str]], *,
                             moves_on: tuple[type[Exception], ...] = (Exception,),
                             thread: str | None = None) -> tuple[str | None, str]:
    """Post to ``channel``, else to ``fallback``: (the message's reference or None, where it went).

    With ``thread`` the message is first tried as a reply in that thread; the fallback is a top-level post.

    Each refusal, and each failure of a kind in ``moves_on``, is added as one sentence to every list
    in ``problems`` and the next channel is tried; any other error is raised.
    """
    attempts: list[tuple[str, str | None]] = [(channel, thread)] if thread else []
    attempts += [(target, None) for target in dict.fromkeys((channel, fallback))]
    for target, parent in attempts:
        try:
            if parent is not None:
                return await chat.post(target, message, key, thread=parent), target
            return await chat.post(target, message, key), target
        except ChannelRefusedError as error:
            fix = f": {error.hint}" if error.hint else ""
            problem = f"alert refused in {target} ({error.reason}){fix}"
        except moves_on as error:
            problem = f"alert to {target} failed: {describe(error)}"
        for found in problems:
            found.append(problem)
    return None, channel
