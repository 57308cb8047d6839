"""Zendesk's own SLA due times (``include=slas``) read into a ticket: ``slas.policy_metrics[].breach_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from frontline.connectors.zendesk.payloads import Sideloads, TicketReader, policy_due

RAW = {"id": 7, "subject": "Down", "description": "All down", "status": "new", "requester_id": 1,
       "created_at": "2026-12-01T10:00:00Z"}


def metric(name: str, breach_at: Any, stage: str = "active") -> dict[str, Any]:
    return {"breach_at": breach_at, "stage": stage, "metric": name, "days": 0, "hours": 1, "minutes": 0}


def test_first_reply_and_resolution_breach_times_become_the_tickets_policy_due_times() -> None:
    slas = {"policy_metrics": [metric("first_reply_time", "2026-12-01T11:00:00Z"),
                               metric("next_reply_time", "2026-12-01T12:00:00Z"),
                               metric("requester_wait_time", "2026-12-02T10:00:00Z")]}
    ticket = TicketReader().ticket({**RAW, "slas": slas}, Sideloads())
    assert ticket.policy_due == (("first_response", datetime(2026, 12, 1, 11, tzinfo=UTC)),
                                 ("resolution", datetime(2026, 12, 2, 10, tzinfo=UTC)))


def test_a_total_resolution_metric_wins_over_the_wait_times() -> None:
    slas = {"policy_metrics": [metric("agent_work_time", "2026-12-03T10:00:00Z"),
                               metric("total_resolution_time", "2026-12-04T10:00:00Z")]}
    assert dict(policy_due(slas))["resolution"] == datetime(2026, 12, 4, 10, tzinfo=UTC)


@pytest.mark.parametrize("slas", [None, {}, {"policy_metrics": None}, {"policy_metrics": "x"}, [],
                                  {"policy_metrics": [metric("first_reply_time", None, stage="paused")]},
                                  {"policy_metrics": [metric("first_reply_time", "not a time")]},
                                  {"policy_metrics": ["garbage", 3]}])
def test_no_usable_breach_time_leaves_the_due_times_to_frontline(slas: Any) -> None:
    assert TicketReader().ticket({**RAW, "slas": slas}, Sideloads()).policy_due == ()
