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
