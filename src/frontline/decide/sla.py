"""SLA expectations: business-time arithmetic and the due times of one ticket. Pure: no I/O.

A team works in one time zone on some weekdays between two times of day, and not on its holidays
(a ``holidays`` calendar and days of its own). A target of "4h" is four hours of that working time;
"2d" is two working days (twice the length of the working day); severities measured around the
clock (P0 by default) count every hour. The due time is added to when the ticket was created, so
a backlog triaged late gets the due times live triage would have given it.

When the helpdesk runs SLA policies of its own (Zendesk's ``breach_at``), their due times are used
instead of inventing one; only a metric the policy does not cover is computed here.

Libraries checked for the arithmetic: ``businesstimedelta`` (last release 2019) and
``business-calendar`` (2015) are unmaintained, ``workalendar`` brings its own calendars and no
intraday hours, pandas' ``CustomBusinessHour`` would bring pandas; the loop below is short and the
holiday calendars come from the well-kept ``holidays`` package.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
METRICS = (FIRST_RESPONSE, RESOLUTION)
FRONTLINE = "frontline"  # a due time computed here
POLICY = "policy"  # a due time the helpdesk's own SLA policy set
MAX_DAYS = 3 * 366  # a calendar that finds no working time in three years is refused, not looped on

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm])", re.IGNORECASE)
_WHOLE_SPAN = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[dhm]\s*)+$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A length of working time: days (working days), hours and minutes, as written ("1d 4h", "30m")."""

    days: float = 0.0
    minutes: float = 0.0  # hours and minutes together

    @classmethod
    def parse(cls, text: str) -> Span:
        """``"30m"``, ``"4h"``, ``"2d"``, ``"1d 4h"``; ValueError saying what is accepted otherwise."""
        if not isinstance(text, str) or not _WHOLE_SPAN.match(text):
            raise ValueError("must be a length such as 30m, 4h, 2d or 1d 4h (d: working days)")
        days = minutes = 0.0
        for amount, unit in _SPAN.findall(text):
            value = float(amount)
            if unit.lower() == "d":
                days += value
            else:
                minutes += value * (60 if unit.lower() == "h" else 1)
        if days == 0 and minutes == 0:
            raise ValueError("must be longer than nothing")
        return cls(days, minutes)

    def length(self, day: timedelta) -> timedelta:
        """The span in working time, a working day being ``day`` long."""
        return day * self.days + timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        parts = []
        if self.days:
            parts.append(f"{self.days:g}d")
        hours, minutes = divmod(self.minutes, 60)
        if hours:
            parts.append(f"{hours:g}h")
        if minutes:
            parts.append(f"{minutes:g}m")
        return " ".join(parts)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: a time zone, weekdays (0 is Monday), the hours of a day, and days off.

    ``end`` is minutes after midnight and may be 1440 (the whole day); ``holidays`` answers ``day in
    holidays`` for a local date (a ``holidays`` calendar, or a set of dates).
    """

    zone: ZoneInfo
    weekdays: frozenset[int]
    start: int  # minutes after midnight, local time
    end: int
    holidays: Container[date] = frozenset()

    @property
    def day(self) -> timedelta:
        """The length of one working day."""
        return timedelta(minutes=self.end - self.start)

    def working(self, day: date) -> bool:
        """True when ``day`` (a local date) is a working day."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working hours of ``day`` as UTC moments (a DST change makes that day's window shorter or longer)."""
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        opens = (midnight + timedelta(minutes=self.start)).astimezone(UTC)
        if self.end >= 1440:
            closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)
        else:
            closes = (midnight + timedelta(minutes=self.end)).astimezone(UTC)
        return opens, closes

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of working time after ``start`` (an aware datetime), in UTC.

        Nothing counts outside the working hours, on days off or on holidays: a ticket written on
        Friday evening with four hours allowed is due Monday at 13:00 (hours 09:00-17:00).
        """
        moment = start.astimezone(UTC)
        left = amount
        day = moment.astimezone(self.zone).date() - timedelta(days=1)  # a window may begin the day before in UTC
        for _ in range(MAX_DAYS):
            if self.working(day):
                opens, closes = self.window(day)
                begin = max(moment, opens)
                if begin < closes:
                    if left <= closes - begin:
                        return begin + left
                    left -= closes - begin
                    moment = closes
            day += timedelta(days=1)
        raise ValueError(f"the calendar has no working time in {MAX_DAYS} days")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two moments (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.working(day):
                opens, closes = self.window(day)
                begin, finish = max(start, opens), min(end, closes)
                if begin < finish:
                    total += finish - begin
            day += timedelta(days=1)
        return total


AROUND_THE_CLOCK_DAYS = frozenset(range(7))


def around_the_clock(zone: ZoneInfo) -> BusinessCalendar:
    """Every hour of every day counts (a P0 is not left waiting for Monday)."""
    return BusinessCalendar(zone, AROUND_THE_CLOCK_DAYS, 0, 1440)


@dataclass(frozen=True)
class Due:
    """One metric's due time: when, where it came from, the target it was computed from, when to warn."""

    at: datetime
    source: str  # FRONTLINE or POLICY
    target: str = ""  # "4h" for frontline's; empty for a policy's
    warn_at: datetime | None = None

    def as_fields(self) -> dict[str, str]:
        """The due time as JSON-ready fields (ISO 8601, UTC)."""
        fields = {"due": self.at.astimezone(UTC).isoformat(), "source": self.source}
        if self.target:
            fields["target"] = self.target
        if self.warn_at is not None:
            fields["warn"] = self.warn_at.astimezone(UTC).isoformat()
        return fields

    @classmethod
    def from_fields(cls, fields: object) -> Due | None:
        """A due time read back from stored fields, or None when they are not one."""
        if not isinstance(fields, Mapping):
            return None
        at, warn = _moment(fields.get("due")), _moment(fields.get("warn"))
        if at is None:
            return None
        return cls(at, str(fields.get("source") or FRONTLINE), str(fields.get("target") or ""), warn)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Expectation:
    """A ticket's SLA: each metric's due time (a metric may have none), and the rule that chose the targets."""

    dues: Mapping[str, Due]
    severity: str
    plan: str | None = None  # the plan whose targets applied, None for the defaults

    @property
    def source(self) -> str:
        """``policy``, ``frontline`` or ``policy+frontline`` when they share the metrics."""
        sources = sorted({due.source for due in self.dues.values()}, reverse=True)
        return "+".join(sources)

    def due(self, metric: str) -> Due | None:
        """One metric's due time, if it has one."""
        return self.dues.get(metric)

    def as_fields(self) -> dict[str, object]:
        """What the triage decision stores (and ``state show`` prints)."""
        fields: dict[str, object] = {metric: due.as_fields() for metric, due in self.dues.items()}
        fields["severity"] = self.severity
        if self.plan:
            fields["plan"] = self.plan
        return fields

    @classmethod
    def from_fields(cls, fields: object) -> Expectation | None:
        """An expectation read back from a decision's fields, or None."""
        if not isinstance(fields, Mapping):
            return None
        dues = {metric: due for metric in METRICS if (due := Due.from_fields(fields.get(metric))) is not None}
        if not dues:
            return None
        plan = fields.get("plan")
        return cls(dues, str(fields.get("severity") or ""), str(plan) if plan else None)


@dataclass(frozen=True)
class Rule:
    """The targets of one ticket and how to measure them."""

    targets: Mapping[str, Span]  # metric → span
    calendar: BusinessCalendar
    warn_before: timedelta
    warn_fraction: float


def warning(start: datetime, due: datetime, before: timedelta, fraction: float) -> datetime:
    """When to warn of a due time: ``before`` ahead, or ``fraction`` of the whole time allowed if that is less.

    A 30-minute target is not warned of the moment it starts: with 20% it is warned 6 minutes ahead.
    """
    allowed = max(due - start, timedelta(0))
    return due - min(before, allowed * fraction)


def expect(created: datetime, rule: Rule, severity: str, *, plan: str | None = None,
           policy: Mapping[str, datetime] | None = None) -> Expectation:
    """The due times of a ticket created at ``created``: the policy's where it has one, else the rule's."""
    dues: dict[str, Due] = {}
    for metric in METRICS:
        found = (policy or {}).get(metric)
        if found is not None:
            at, source, target = found.astimezone(UTC), POLICY, ""
        elif metric in rule.targets:
            span = rule.targets[metric]
            at, source, target = rule.calendar.add(created, span.length(rule.calendar.day)), FRONTLINE, str(span)
        else:
            continue
        dues[metric] = Due(at, source, target, warning(created, at, rule.warn_before, rule.warn_fraction))
    return Expectation(dues, severity, plan)
