"""The ``[sla]`` section: targets per severity and plan, the team's business hours, the scheduled check.

Defaults (each can be set in ``frontline.toml``, and per team under ``[teams.NAME.sla]``)::

    [sla]
    time_zone = "UTC"                 # an IANA name: "Europe/Berlin", "America/New_York"
    working_days = ["mon", "tue", "wed", "thu", "fri"]
    hours = "09:00-17:00"             # "00:00-24:00": the whole day
    holidays = ""                     # a country for the holidays package: "US", "DE", "GB"…
    holiday_region = ""               # its state or province: "CA", "BY"…
    days_off = []                     # the company's own: ["2026-12-24"]
    around_the_clock = ["P0"]         # severities measured in calendar time, not business hours
    warn_before = "30m"               # alert this long before a due time…
    warn_fraction = 0.2               # …or this share of the whole time allowed, if that is less
    alert_late_breaches = "24h"       # a breach first seen longer after its due time is counted, not alerted
    channel = ""                      # where the check alerts; "" = the channel the ticket was routed to
    due_field = ""                    # helpdesk custom field (Zendesk: its numeric id) for the first-response due time
    resolution_field = ""             # and one for the resolution due time
    helpdesk_policies = true          # use the helpdesk's own SLA due times (Zendesk breach_at) when it has them

    [sla.targets]                     # first response / resolution; d = working days
    P0 = { first_response = "1h", resolution = "8h" }
    P1 = { first_response = "4h", resolution = "2d" }
    P2 = { first_response = "8h", resolution = "3d" }
    P3 = { first_response = "1d", resolution = "5d" }

    [sla.plans.enterprise]            # a plan's own targets (matched without regard to case)
    P0 = { first_response = "30m", resolution = "4h" }
    P1 = { first_response = "2h", resolution = "1d" }
    P2 = { first_response = "4h", resolution = "2d" }
    P3 = { first_response = "8h", resolution = "3d" }

A plan's table replaces the defaults only for the severities it names.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator

from frontline.config.base import Strict
from frontline.decide.sla import (
    FIRST_RESPONSE,
    RESOLUTION,
    BusinessCalendar,
    Rule,
    Span,
    around_the_clock,
)

SECTION = "sla"
SEVERITIES = ("P0", "P1", "P2", "P3")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Target(Strict):
    """One severity's targets: time to the first response and to resolution (``"4h"``, ``"2d"``)."""

    first_response: str | None = None
    resolution: str | None = None

    @field_validator("first_response", "resolution")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value is not None:
            Span.parse(value)
        return value

    def spans(self) -> dict[str, Span]:
        """The metrics this target sets, parsed."""
        found = {FIRST_RESPONSE: self.first_response, RESOLUTION: self.resolution}
        return {metric: Span.parse(text) for metric, text in found.items() if text}


def _targets(first: str, resolution: str) -> Target:
    return Target(first_response=first, resolution=resolution)


def default_targets() -> dict[str, Target]:
    """The targets of every plan without its own."""
    return {"P0": _targets("1h", "8h"), "P1": _targets("4h", "2d"), "P2": _targets("8h", "3d"),
            "P3": _targets("1d", "5d")}


def default_plans() -> dict[str, dict[str, Target]]:
    """Tighter targets for enterprise customers."""
    return {"enterprise": {"P0": _targets("30m", "4h"), "P1": _targets("2h", "1d"), "P2": _targets("4h", "2d"),
                           "P3": _targets("8h", "3d")}}


def _known_severities(value: dict[str, Target]) -> dict[str, Target]:
    unknown = [name for name in value if name not in SEVERITIES]
    if unknown:
        raise ValueError(f"names unknown severities {', '.join(unknown)} (known: {', '.join(SEVERITIES)})")
    return value


class SlaSettings(Strict):
    """SLA expectations: targets per severity and plan, in the team's business hours; the scheduled check."""

    enabled: bool = True
    time_zone: str = "UTC"
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    hours: str = "09:00-17:00"
    holidays: str = ""
    holiday_region: str = ""
    days_off: tuple[date, ...] = ()
    around_the_clock: tuple[str, ...] = ("P0",)
    warn_before: str = "30m"
    warn_fraction: float = Field(default=0.2, gt=0.0, le=1.0)
    # A backlog triaged long after its due times, or a check that was down for a day, would otherwise
    # post one breach alert per ticket at once: those are counted (and in the ledger) but not posted.
    alert_late_breaches: str = "24h"
    channel: str = ""
    due_field: str = ""
    resolution_field: str = ""
    helpdesk_policies: bool = True
    targets: dict[str, Target] = Field(default_factory=default_targets)
    plans: dict[str, dict[str, Target]] = Field(default_factory=default_plans)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Berlin or America/New_York") from None
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        days = tuple(day.strip().lower()[:3] for day in value)
        unknown = [day for day, short in zip(value, days, strict=True) if short not in WEEKDAYS]
        if unknown:
            raise ValueError(f"names unknown days {', '.join(unknown)} (use {', '.join(WEEKDAYS)})")
        if not days:
            raise ValueError("needs at least one working day")
        return days

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        _minutes(value)
        return value

    @field_validator("warn_before", "alert_late_breaches")
    @classmethod
    def _lead(cls, value: str) -> str:
        if Span.parse(value).days:
            raise ValueError("must be in hours or minutes such as 30m or 2h")
        return value

    @field_validator("around_the_clock")
    @classmethod
    def _clock_severities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _known_severities(dict.fromkeys(value, Target()))
        return value

    @field_validator("targets")
    @classmethod
    def _complete(cls, value: dict[str, Target]) -> dict[str, Target]:
        # A file naming some severities keeps the defaults of the others.
        return {**default_targets(), **_known_severities(value)}

    @field_validator("plans")
    @classmethod
    def _plans(cls, value: dict[str, dict[str, Target]]) -> dict[str, dict[str, Target]]:
        for targets in value.values():
            _known_severities(targets)
        return {name.strip().lower(): targets for name, targets in value.items()}

    @field_validator("holidays")
    @classmethod
    def _country_known(cls, value: str) -> str:
        if value:
            try:
                _country(value, None)
            except NotImplementedError:
                raise ValueError("names no country the holidays package has a calendar for; use a code such as "
                                 "US, DE or GB") from None
        return value

    @field_validator("holiday_region")
    @classmethod
    def _region_known(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        country = info.data.get("holidays")
        if not country:
            raise ValueError("needs holidays to name the country the region belongs to")
        try:
            _country(country, value)
        except NotImplementedError:
            raise ValueError(f"names no region of {country} the holidays package knows") from None
        return value

    # -- what the rules are built from -------------------------------------------------------------
    def calendar(self) -> BusinessCalendar:
        """The team's business hours."""
        start, end = _minutes(self.hours)
        days: frozenset[date] = frozenset(self.days_off)
        if self.holidays:
            return BusinessCalendar(ZoneInfo(self.time_zone), frozenset(WEEKDAYS.index(d) for d in self.working_days),
                                    start, end, _Holidays(_country(self.holidays, self.holiday_region or None), days))
        return BusinessCalendar(ZoneInfo(self.time_zone), frozenset(WEEKDAYS.index(d) for d in self.working_days),
                                start, end, days)

    def rule(self, severity: str, plan: str | None) -> tuple[Rule, str | None]:
        """The targets for ``severity`` on ``plan``, and the plan whose own targets applied (None: the defaults)."""
        key = (plan or "").strip().lower()
        own = self.plans.get(key, {}).get(severity)
        target = own or self.targets.get(severity) or Target()
        calendar = around_the_clock(ZoneInfo(self.time_zone)) if severity in self.around_the_clock \
            else self.calendar()
        lead = Span.parse(self.warn_before).length(timedelta(0))
        return Rule(target.spans(), calendar, lead, self.warn_fraction), key if own else None

    @property
    def late(self) -> timedelta:
        """How long after a due time a breach first seen is still alerted."""
        return Span.parse(self.alert_late_breaches).length(timedelta(0))


def _minutes(text: str) -> tuple[int, int]:
    """``"09:00-17:00"`` as minutes after midnight; ValueError saying what is wrong."""
    found = _HOURS.match(text)
    if not found:
        raise ValueError("must be a range such as 09:00-17:00")
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 1440:
        raise ValueError("must be times of a day between 00:00 and 24:00")
    if end <= start:
        raise ValueError("must end after it starts (an overnight shift is two teams)")
    return start, end


@cache
def _country(code: str, region: str | None) -> Any:
    """The ``holidays`` calendar of a country (and region); NotImplementedError when it has none."""
    import holidays

    try:
        return holidays.country_holidays(code.upper(), subdiv=region)
    except (KeyError, ValueError) as error:
        raise NotImplementedError(str(error)) from None


class _Holidays:
    """A holiday calendar with the company's own days off."""

    def __init__(self, calendar: Any, extra: frozenset[date]) -> None:
        self.calendar = calendar
        self.extra = extra

    def __contains__(self, day: object) -> bool:
        return day in self.extra or day in self.calendar


def sla_settings(settings: Any) -> SlaSettings:
    """The ``[sla]`` section of ``settings`` (a team's own when the settings are a team's)."""
    found: SlaSettings = settings.section(SECTION)
    return found
