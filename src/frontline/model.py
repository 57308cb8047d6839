"""Domain types: what flows pass around, independent of any vendor."""

from __future__ import annotations

import enum
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Triage's handled versions start with this; older ones (an updated_at) predate re-triage on change.
CONTENT_VERSION_PREFIX = "text:"


# A number a JSON layer or a spreadsheet wrote: ASCII digits, perhaps with ".0" (42, "42", "42.0", 42.0).
_NUMBER_ID = re.compile(r"([0-9]+)(?:\.0+)?", re.ASCII)


def normalise_id(value: object) -> str:
    """Return an id in one form: ``4``, ``4.0``, ``"4.0"`` and ``" 4 "`` are all ``"4"``.

    Only ASCII digits with an optional ``.0`` are canonicalised (the trailing zeros dropped, nothing
    else: ``007`` stays ``007``); any other id is kept as written, surrounding whitespace aside, so
    ``007`` and ``7``, ``1_000`` and ``1000``, ``\u0663`` and ``3`` stay different tickets. An empty
    id, a bool, and a float that is not a whole number are refused (ValueError).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a ticket id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        raise ValueError(f"{value!r} is not a ticket id")
    text = str(value).strip()
    if not text:
        raise ValueError("empty ticket id")
    number = _NUMBER_ID.fullmatch(text)
    return number.group(1) if number else text


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``2024-05-01T09:30:00Z``) as an aware UTC-based datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Author(enum.StrEnum):
    """Who wrote a message on a ticket."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


@dataclass(frozen=True, slots=True)
class Message:
    """One message in a ticket's thread."""

    author: Author
    body: str
    created_at: datetime | None = None
    public: bool = True


@dataclass(frozen=True, slots=True)
class Company:
    """The customer's organisation, with what it is worth."""

    name: str
    plan: str | None = None
    mrr: float | None = None
    lifecycle: str | None = None


@dataclass(frozen=True, slots=True)
class Requester:
    """The person who opened the ticket."""

    name: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Ticket:
    """A helpdesk ticket with its thread and customer context."""

    id: str
    subject: str
    description: str
    requester: Requester = field(default_factory=Requester)
    company: Company | None = None
    messages: tuple[Message, ...] = ()
    tags: tuple[str, ...] = ()
    priority: str | None = None
    status: str = "new"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source: str = "local"
    # Due times the helpdesk's own SLA policies set (Zendesk's breach_at), as (metric, when):
    # metric is first_response or resolution. Frontline computes its own only where none is given.
    policy_due: tuple[tuple[str, datetime], ...] = ()
    # When the requester last changed the ticket (Zendesk's requester_updated_at), where a listing gives
    # it without the thread: a cheap sign that the customer wrote again (frontline.flows.retriage).
    customer_updated_at: datetime | None = None

    @property
    def text(self) -> str:
        """Subject and description, the text a classifier reads."""
        if self.subject:
            return f"{self.subject}\n{self.description}"
        return self.description

    @property
    def version(self) -> str:
        """A stable token for this ticket's state, used in idempotency keys."""
        return self.updated_at.isoformat() if self.updated_at else "0"

    @property
    def content_version(self) -> str:
        """What the customer wrote, as a token: a new subject or body is a new version to triage again.

        Tags, priority, status and notes are left out on purpose: triage's own write-back changes them.
        """
        digest = hashlib.sha256(f"{self.subject}\n{self.description}".encode("utf-8", "replace"))
        return f"{CONTENT_VERSION_PREFIX}{digest.hexdigest()[:24]}"

    def inputs_hash(self) -> str:
        """Hash of what the decision depends on (text and customer value)."""
        digest = hashlib.sha256()
        digest.update(self.text.encode("utf-8", "replace"))
        if self.company:
            digest.update(f"|{self.company.plan}|{self.company.mrr}".encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a conversation: a message, a note, or an event such as closing or reopening it."""

    author: Author
    body: str
    created_at: datetime | None = None
    kind: str = "comment"  # comment | note | open | close | assignment | other
    author_name: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    """A customer conversation (Intercom's, or the embedded one's) with its parts and customer context."""

    id: str
    title: str
    parts: tuple[Part, ...]
    contact: Requester = field(default_factory=Requester)
    company: Company | None = None
    state: str = "open"  # open | closed | snoozed
    created_at: datetime | None = None
    updated_at: datetime | None = None
    reopened: int = 0
    url: str = ""
    source: str = "local"
    # Why company data is missing when it is (a scope the token lacks, no company on the contact).
    company_note: str = ""

    def customer_messages(self) -> list[Part]:
        """What the customer wrote, oldest first: not agents, bots, notes or events."""
        return [p for p in self.parts if p.author is Author.CUSTOMER and p.kind == "comment" and p.body.strip()]

    @property
    def text(self) -> str:
        """Title and everything the customer wrote, for the classifier."""
        said = "\n".join(p.body for p in self.customer_messages())
        return f"{self.title}\n{said}" if self.title else said

    def as_ticket(self) -> Ticket:
        """The conversation seen as a ticket (for the category classifier)."""
        messages = self.customer_messages()
        return Ticket(id=self.id, subject=self.title, description="\n".join(p.body for p in messages),
                      requester=self.contact, company=self.company, status=self.state, created_at=self.created_at,
                      updated_at=self.updated_at, source=self.source,
                      messages=tuple(Message(p.author, p.body, p.created_at) for p in messages))


@dataclass(frozen=True, slots=True)
class Triage:
    """A classification decision for one ticket."""

    category: str
    severity: str
    summary: str
    suggested_reply: str
    confidence: float
    classifier: str
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    # The severity before business impact weighed on it (None: not weighed yet), so it can be weighed
    # again when more is known (an incident's size) without raising twice.
    base_severity: str | None = None

    def with_changes(self, **changes: Any) -> Triage:
        """Return a copy with some fields replaced."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Triage(**values)


@dataclass(frozen=True, slots=True)
class Signal:
    """One explainable escalation signal that fired: its name, the weight it adds, and why."""

    name: str
    weight: float
    detail: str


@dataclass(frozen=True, slots=True)
class Sentiment:
    """How the customer's messages read, first and last compared (negativity from 0 to 1)."""

    label: str  # frustrated | negative | neutral | positive
    first: float
    last: float

    @property
    def trend(self) -> float:
        """Positive when the customer got more negative over the conversation."""
        return self.last - self.first


@dataclass(frozen=True, slots=True)
class CustomerValue:
    """What the customer is worth to the business, as an escalation priority with its reason."""

    priority: str  # P0 | P1
    reason: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """The escalation decision for one conversation."""

    score: float
    signals: tuple[Signal, ...]
    escalate: bool
    value: CustomerValue
    sentiment: Sentiment | None = None
    category: str | None = None

    @property
    def priority(self) -> str:
        """P0 or P1."""
        return self.value.priority


@dataclass(frozen=True, slots=True)
class IssueDraft:
    """A tracker issue to create: title, markdown body, and where it belongs."""

    title: str
    body: str
    marker: str
    labels: tuple[str, ...] = ()
    project: str | None = None
    priority: str = "P1"


@dataclass(frozen=True, slots=True)
class IssueRef:
    """A tracker issue that exists: its id, human identifier (ENG-123) and URL."""

    id: str
    identifier: str
    url: str


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge-base article found for a ticket."""

    title: str
    url: str
    snippet: str = ""
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A chat alert: plain-text fallback plus Slack Block Kit blocks."""

    text: str
    blocks: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class WriteBack:
    """What frontline writes to a ticket: tags added, priority, a private note."""

    ticket_id: str
    add_tags: tuple[str, ...]
    priority: str | None
    note: str
    marker: str
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    # A helpdesk's native problem/incident link (Zendesk's ticket type and problem_id); others ignore them.
    ticket_type: str | None = None
    problem_id: str | None = None
    # Tags of an earlier decision a re-triage replaces (auto_severity:P3 when it is P1 now).
    remove_tags: tuple[str, ...] = ()


class EffectStatus(enum.StrEnum):
    """Lifecycle of a side effect in the ledger."""

    PLANNED = "planned"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Effect:
    """One external side effect with its idempotency key."""

    key: str
    flow: str
    item_id: str
    kind: str
    target: str
    status: EffectStatus = EffectStatus.PLANNED
    remote_ref: str | None = None
    error: str | None = None


def effect_key(flow: str, item_id: str, kind: str, version: str) -> str:
    """Idempotency key derived from (flow, item, effect, item version)."""
    raw = f"{flow}|{item_id}|{kind}|{version}"
    return f"fl-{hashlib.sha256(raw.encode()).hexdigest()[:20]}"
