"""Tables of the state store. Changes go through migrations in ``store/migrations/versions``.

Every table works on SQLite and PostgreSQL alike: portable types only, timestamps stored in UTC and
read back as aware UTC datetimes on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always holds and returns UTC.

    SQLite keeps no offset (so a value is written as UTC wall time and compared as text), and
    PostgreSQL answers in the session's time zone: both come back as aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware values are converted to UTC; naive ones are taken as UTC already."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """An aware UTC datetime whatever the backend returned."""
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


cursors = Table(
    "cursors",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("value", Text, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

handled = Table(
    "handled",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("version", String(100), nullable=False),
    Column("decision_id", Integer, nullable=True),
    Column("handled_at", UTCDateTime(), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", String(40), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("inputs_hash", String(64), nullable=False),
    Column("classifier", String(60), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("category", String(80), nullable=True),
    Column("severity", String(10), nullable=True),
    Column("fields", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_decisions_item", "flow", "item_id"),
)

effects = Table(
    "effects",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("flow", String(40), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("status", String(12), nullable=False),
    Column("remote_ref", String(400), nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_effects_item", "flow", "item_id"),
    Index("ix_effects_status", "status"),
)

requeued = Table(
    "requeued",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("requested_at", UTCDateTime(), nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

watch = Table(
    "watch",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Index("ix_watch_due", "flow", "due_at"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("delivery", String(200), nullable=False),
    Column("flow", String(40), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("payload", JSON, nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("available_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("done_at", UTCDateTime(), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("source", "delivery", name="uq_inbox_delivery"),
    Index("ix_inbox_pending", "done_at", "available_at"),
)

# Rate budgets shared by every process on one store (frontline.runtime.budgets.SharedBucket): the
# tokens a bucket held at ``updated_at`` (epoch seconds of the budgets' clock; in the future while
# a 429 pauses the bucket).
budgets = Table(
    "budgets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The escalation queue (frontline.store.escalations): one row per escalated item and source flow,
# open with no owner until the Escalation Manager (or a person) takes it.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("item_id", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("priority", String(10), nullable=False),
    Column("state", String(20), nullable=False, server_default="open"),
    Column("owner", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("tracker_ref", String(400), nullable=True),
    Column("alert_ref", String(400), nullable=True),
    UniqueConstraint("source", "item_id", name="uq_escalations_item"),
    Index("ix_escalations_state", "state", "created_at"),
)

# Tickets triage has seen, for linking later ones to them (duplicates) and for incidents: when the
# customer wrote (the ticket's own creation time), who the customer is and what they are worth, the
# terms the FTS-less similar finder compares, where the ticket's alert went, and what it was linked to.
related_tickets = Table(
    "related_tickets",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("ticket_id", String(200), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("customer", String(300), nullable=False),
    Column("plan", String(100), nullable=True),
    Column("mrr", Float, nullable=True),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),  # the description (capped): the finder re-reads it
    Column("alert_ref", String(400), nullable=True),
    Column("duplicates", JSON, nullable=False),
    Column("incident_id", String(200), nullable=True),
    Index("ix_related_created", "flow", "created_at"),
)

# An incident: similar tickets from several customers within a window. Its id is made from the flow
# and its first member, so a run redoing a page after a crash finds the same incident.
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("flow", String(40), nullable=False),
    Column("status", String(12), nullable=False),
    Column("first_at", UTCDateTime(), nullable=False),
    Column("latest_at", UTCDateTime(), nullable=False),
    Column("summary", Text, nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Index("ix_incidents_flow", "flow", "status"),
)

incident_members = Table(
    "incident_members",
    metadata,
    Column("incident_id", String(200), primary_key=True),
    Column("ticket_id", String(200), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("customer", String(300), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    # True once the member's own note links the incident (written at its triage, or a follow-up note
    # for a ticket triaged before the incident opened).
    Column("noted", Boolean, nullable=False, server_default=false()),
)

# Sentence-encoder vectors, computed once per item version (frontline.store.embeddings): ``kind``
# says which text of the item (a ticket's summary, its full text), ``version`` hashes that text and
# the encoder's name, so an edited ticket or a new encoder is encoded again.
embeddings = Table(
    "embeddings",
    metadata,
    Column("kind", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("vector", LargeBinary, nullable=False),
)
