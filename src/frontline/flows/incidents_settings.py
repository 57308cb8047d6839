"""The ``[incidents]`` section: linking duplicates and opening incidents in the triage flow.

A light module of its own, registered under ``frontline.settings``: validating frontline.toml
loads this model and nothing of the flow.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IncidentSettings(BaseModel):
    """When tickets are linked, and when linked tickets from several customers make an incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    candidates: int = Field(default=10, ge=1, le=100)  # similar earlier tickets asked of the finder
    # The duplicate finder's sentence encoder: auto (the bundled MiniLM), off (BM25 alone), or a model folder.
    embeddings: str = "auto"
    # Scores are the duplicate finder's, as a share of a perfect match. A duplicate — listed in the note and
    # alert, its alert a reply in the first one's thread — scores at least `threshold`; a report of the same
    # problem in other words, counted towards an incident, at least `incident_threshold`. Unset: the
    # finder's defaults for its reading (decide/duplicates.py THRESHOLDS: 0.75 and 0.45 with the encoder,
    # 0.6 and 0.3 with BM25 alone, whose scores run lower).
    threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    incident_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    lookback_days: float = Field(default=14.0, gt=0.0)  # earlier tickets considered (open or recently solved)
    customers: int = Field(default=5, ge=2)  # distinct customers (companies, else requesters) that make an incident
    window_minutes: float = Field(default=60.0, gt=0.0)  # on the tickets' own creation times
    channel: str = ""  # where incident alerts go; empty: the channel of the ticket that opened it
    tracker: bool = True  # one tracker issue per incident
    raise_severity: bool = True  # an incident's members go up one severity level
    # A helpdesk's native link (Zendesk): an incident's first ticket becomes a problem, the others incidents
    # of it (type and problem_id); nothing is merged or closed. Helpdesks without such links ignore it.
    native_links: bool = False
