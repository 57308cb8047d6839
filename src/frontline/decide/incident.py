"""Incidents as numbers: who a customer is, when linked tickets make an incident, what it raises.

Pure: tickets' facts in, decisions out. The flow (:mod:`frontline.flows.incidents`) stores and alerts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from frontline.model import Ticket


def customer_of(ticket: Ticket) -> str:
    """The customer a ticket counts for: its company, else its requester (email, else name), else itself."""
    if ticket.company is not None and ticket.company.name:
        return f"company:{ticket.company.name.strip().lower()}"
    requester = ticket.requester
    if requester.email or requester.name:
        return f"requester:{(requester.email or requester.name).strip().lower()}"
    return f"ticket:{ticket.id}"


def within(moment: datetime, other: datetime, window: timedelta) -> bool:
    """True when two creation times lie no further apart than ``window``."""
    return abs(moment - other) <= window


def forms_incident(customers: Sequence[str], threshold: int) -> bool:
    """True when ``customers`` (one per linked ticket) hold at least ``threshold`` distinct ones."""
    return len(set(customers)) >= threshold


def plan_mix(plans: Sequence[str | None]) -> str:
    """"3 enterprise, 2 pro, 1 unknown": each plan and how many accounts are on it, most first."""
    counts = Counter(plan or "unknown" for plan in plans)
    return ", ".join(f"{n} {plan}" for plan, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
