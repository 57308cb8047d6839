"""The small interfaces flows depend on. Adapters in ``connectors/`` implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from frontline.model import Article, ChatMessage, Conversation, IssueDraft, IssueRef, Ticket, Triage, WriteBack

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of changed items and the cursor to resume after it.

    ``unreadable`` names each listed entry the adapter could not read — ``(its id, or its position
    when it has none, the reason)`` — so a flow reports it as failed instead of it vanishing, and
    keeps its cursor before the page so the entry is listed again next run.
    """

    items: Sequence[T]
    cursor: str | None
    has_more: bool
    unreadable: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Outcome of one write-back: the remote reference, or the error that stopped it."""

    ticket_id: str
    remote_ref: str | None = None
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One line of `frontline doctor`: a connector is usable, or what is wrong and how to fix it."""

    connector: str
    ok: bool
    detail: str
    fix: str = ""


@runtime_checkable
class Diagnosable(Protocol):
    """A connector that can check its own setup with cheap authenticated calls."""

    async def diagnose(self) -> list[Check]:
        """One or more checks; never raises for a setup problem (it becomes a failed check)."""
        ...


@runtime_checkable
class Helpdesk(Protocol):
    """Where tickets come from and decisions are written back to."""

    name: str
    # Fields this helpdesk wants written back from its own settings (Zendesk's custom fields), keyed as
    # its write-back takes them, each a template of {category} and {severity}; empty for most.
    field_templates: Mapping[str, str]

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Ticket]:
        """New and open tickets changed after ``cursor``, oldest first."""
        ...

    def count_changed(self, cursor: str | None) -> int | None:
        """How many tickets ``list_changed`` would give after ``cursor`` (a progress bar's total), or None
        when the source cannot count them cheaply."""
        ...

    async def get(self, ticket_id: str) -> Ticket:
        """One ticket with its thread and customer context."""
        ...

    async def write_back(self, updates: Sequence[WriteBack]) -> list[WriteResult]:
        """Add tags, set priority and add a private note; one result per update, in order."""
        ...

    async def find_marker(self, ticket_id: str, marker: str) -> str | None:
        """The reference of a note already carrying ``marker``, if one exists (crash recovery)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class KnowledgeBase(Protocol):
    """Help articles searchable by free text."""

    name: str

    async def search(self, query: str, k: int = 3) -> list[Article]:
        """The ``k`` best articles for ``query``, best first."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class Chat(Protocol):
    """Team chat where alerts are posted."""

    name: str

    async def post(self, channel: str, message: ChatMessage, key: str, thread: str | None = None) -> str:
        """Post ``message`` to ``channel`` and return a message reference.

        Raises ``ChannelRefusedError`` when the channel cannot be posted to.
        ``key`` is the idempotency key, carried with the message so a crash can be reconciled.
        ``thread`` is the reference of an earlier post: the message is a reply in its thread (in that
        post's channel), as a linked ticket's or an incident member's alert is.
        """
        ...

    async def update(self, ref: str, message: ChatMessage) -> None:
        """Replace the content of the posted message ``ref`` (an incident alert kept current).

        Idempotent by nature: updating twice with one content leaves one message.
        """
        ...

    async def find_posted(self, key: str, thread: str | None = None) -> str | None:
        """The reference of a message already posted with ``key``, if any (crash recovery).

        ``thread``: the parent it would have been posted under, where a reply is looked for.
        """
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class Classifier(Protocol):
    """Decides category, severity, summary and reply for a batch of tickets."""

    name: str

    async def classify(self, tickets: Sequence[Ticket]) -> list[Triage]:
        """One triage per ticket, in order. Never raises for a single bad ticket."""
        ...


@runtime_checkable
class Conversations(Protocol):
    """Where customer conversations come from and escalation notes go (Intercom, the embedded one)."""

    name: str

    async def list_changed(self, cursor: str | None, limit: int) -> Page[Conversation]:
        """Conversations updated after ``cursor``, oldest update first, with their parts and customer."""
        ...

    async def get(self, conversation_id: str) -> Conversation:
        """One conversation with its parts and customer context."""
        ...

    async def add_note(self, conversation_id: str, body: str, marker: str) -> str:
        """Add a private note (visible to the team only); returns its reference."""
        ...

    async def find_note(self, conversation_id: str, marker: str) -> str | None:
        """The reference of a note already carrying ``marker``, if any (crash recovery)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class Tracker(Protocol):
    """The engineering issue tracker (Linear, the embedded one)."""

    name: str

    async def create_issue(self, draft: IssueDraft) -> IssueRef:
        """Create an issue; its description carries ``draft.marker``."""
        ...

    async def find_issue(self, marker: str) -> IssueRef | None:
        """An open issue already carrying ``marker``, if any (never a second issue for one escalation)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...
