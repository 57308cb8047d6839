"""Urgency settings: how business impact raises a ticket's severity, and when the escalation protocol fires.

``[urgency]`` weighs four facts about a ticket in points; every whole point raises the severity one
level, at most ``max_raise`` levels (P0 stays P0). The defaults: a high-value customer (a plan in
``thresholds.high_value_plans``, or MRR above ``thresholds.high_value_mrr``) is one point, and MRR
at or above ``critical_mrr`` one and a half; a frustrated message one point, a negative one half; an
incident of ``scope_min`` customers one point, of ``scope_major`` two. So a frustrated enterprise
customer's how-to question (P3) is P1, a calm free customer's stays P3, and an angry free customer
alone is one level up.

``[escalation_protocol]`` says which tickets are urgent and what happens at once: the on-call Slack
user group is mentioned in the alert, a tracker issue is filed and the ticket enters the escalation
queue. Urgent is P0 by default (``severities``): a high-value customer's P1 is P0 already, as the
customer's value raised it. ``high_value_severities`` makes more levels urgent for high-value
customers, counted after that raise (``["P1"]``: a high-value customer's P2 bug is P1, so urgent;
on the demo's customer mix that is three tickets in ten).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from frontline.config.base import Strict

LEVELS = ("P0", "P1", "P2", "P3")
USER_GROUP = re.compile(r"^S[A-Z0-9]{2,30}$")


def _levels(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [name for name in value if name not in LEVELS]
    if unknown:
        raise ValueError(f"names unknown severities {', '.join(unknown)} (known: {', '.join(LEVELS)})")
    return value


class UrgencySettings(Strict):
    """Points each business-impact fact adds to a ticket's severity (one level per whole point)."""

    tier: float = Field(default=1.0, ge=0.0, le=4.0)  # a plan in thresholds.high_value_plans
    revenue: float = Field(default=1.0, ge=0.0, le=4.0)  # MRR above thresholds.high_value_mrr
    critical_mrr: float = Field(default=10_000.0, ge=0.0)
    critical_revenue: float = Field(default=1.5, ge=0.0, le=4.0)  # MRR at or above critical_mrr
    frustrated: float = Field(default=1.0, ge=0.0, le=4.0)  # the ticket reads frustrated
    negative: float = Field(default=0.5, ge=0.0, le=4.0)  # the ticket reads negative
    # On the tone-only reading (decide.severity.read_sentiment): plain problem statements score 0.3 to 0.45,
    # "why does it not work?" about 0.85, "still waiting, third time, unacceptable" above 0.9.
    frustrated_at: float = Field(default=0.9, ge=0.0, le=1.0)  # negativity at or above: frustrated
    negative_at: float = Field(default=0.75, ge=0.0, le=1.0)  # negativity at or above: negative
    scope_min: int = Field(default=5, ge=2)  # customers in the ticket's incident
    scope: float = Field(default=1.0, ge=0.0, le=4.0)
    scope_major: int = Field(default=20, ge=2)
    major_scope: float = Field(default=2.0, ge=0.0, le=4.0)
    max_raise: int = Field(default=2, ge=0, le=3)

    @model_validator(mode="after")
    def _ordered(self) -> UrgencySettings:
        if self.negative_at > self.frustrated_at:
            raise ValueError("negative_at must not be above frustrated_at")
        if self.scope_major < self.scope_min:
            raise ValueError("scope_major must not be below scope_min")
        return self


class EscalationProtocolSettings(Strict):
    """Which tickets are urgent, and whom the alert mentions."""

    enabled: bool = True
    severities: tuple[str, ...] = ("P0",)
    high_value_severities: tuple[str, ...] = ()  # urgent too for a customer on a high-value plan or MRR
    # The on-call Slack user group's ID (S0123…), mentioned as <!subteam^ID> in an urgent ticket's alert.
    oncall: str = ""
    labels: tuple[str, ...] = ("frontline", "urgent")

    _known = field_validator("severities", "high_value_severities")(_levels)

    @field_validator("oncall")
    @classmethod
    def _user_group(cls, value: str) -> str:
        value = value.strip()
        if value and not USER_GROUP.match(value):
            raise ValueError(f"must be a Slack user group ID such as S0123ABCD (got {value!r}); find it in the "
                             "group's profile in Slack, or with usergroups.list")
        return value
