"""The embedding cache: sentence-encoder vectors in the state store, computed once per item version.

A row holds one vector of one item's text (``kind``: a ticket's summary, its full text …) as
little-endian float32 bytes, with the version it was computed for (a hash of the text and the
encoder's name, :func:`frontline.decide.retrieval.version`). A vector whose version differs is a
miss, so an edited ticket or a change of encoder is encoded again; writes replace. It implements
:class:`frontline.decide.retrieval.VectorCache`. Portable SQL only (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import Engine, and_, select

from frontline.store.portable import upsert
from frontline.store.schema import embeddings

# Ids per SELECT: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
CHUNK = 500


class EmbeddingCache:
    """The ``embeddings`` rows of one state store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_many(self, kind: str, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The stored vectors of the ids whose stored version is the one asked for."""
        found: dict[str, np.ndarray] = {}
        ids = list(versions)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                rows = conn.execute(select(embeddings.c.item_id, embeddings.c.version, embeddings.c.vector).where(
                    and_(embeddings.c.kind == kind, embeddings.c.item_id.in_(chunk))))
                for item_id, stored, vector in rows:
                    if versions.get(item_id) == stored:
                        found[item_id] = np.frombuffer(bytes(vector), dtype="<f4").astype(np.float32)
        return found

    def put_many(self, kind: str, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (id, version, vector) rows in one transaction, replacing other versions of those items."""
        if not rows:
            return
        values = [{"kind": kind, "item_id": item_id, "version": item_version,
                   "vector": np.asarray(vector, dtype="<f4").tobytes()}
                  for item_id, item_version, vector in {r[0]: r for r in rows}.values()]
        with self.engine.begin() as conn:
            for start in range(0, len(values), CHUNK):
                upsert(conn, embeddings, values[start:start + CHUNK], ["kind", "item_id"],
                       lambda excluded: {"version": excluded.version, "vector": excluded.vector})

    def forget(self, item_ids: Sequence[str]) -> int:
        """Drop every vector of these items (all kinds); how many rows went."""
        if not item_ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(embeddings.delete().where(embeddings.c.item_id.in_(list(item_ids))))
            return int(result.rowcount or 0)
