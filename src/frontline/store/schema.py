"""Tables of the state store. Changes go through migrations in ``store/migrations/versions``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

cursors = Table(
    "cursors",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("value", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

handled = Table(
    "handled",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("version", String(100), nullable=False),
    Column("decision_id", Integer, nullable=True),
    Column("handled_at", DateTime(timezone=True), nullable=False),
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
    Column("created_at", DateTime(timezone=True), nullable=False),
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
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_effects_item", "flow", "item_id"),
    Index("ix_effects_status", "status"),
)

requeued = Table(
    "requeued",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

watch = Table(
    "watch",
    metadata,
    Column("flow", String(40), primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
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
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("source", "delivery", name="uq_inbox_delivery"),
    Index("ix_inbox_pending", "done_at", "available_at"),
)
