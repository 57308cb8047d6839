"""Business-time arithmetic and a ticket's due times, on a virtual clock (fixed moments, no real time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontline.config.sla import SlaSettings
from frontline.decide.sla import (
    FIRST_RESPONSE,
    FRONTLINE,
    POLICY,
    RESOLUTION,
    BusinessCalendar,
    Expectation,
    Rule,
    Span,
    around_the_clock,
    expect,
    warning,
)

UTC_ZONE = ZoneInfo("UTC")
WEEKDAYS = frozenset(range(5))
NINE_TO_FIVE = (9 * 60, 17 * 60)


def calendar(zone: str = "UTC", holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
    return BusinessCalendar(ZoneInfo(zone), WEEKDAYS, *NINE_TO_FIVE, holidays)


def at(text: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_a_friday_afternoon_ticket_is_due_on_monday_not_over_the_weekend() -> None:
    # 2026-12-04 is a Friday: two hours left that day, two more on Monday morning.
    due = calendar().add(at("2026-12-04T15:00"), timedelta(hours=4))
    assert due == at("2026-12-07T11:00")


def test_a_ticket_written_on_saturday_starts_counting_on_monday_morning() -> None:
    assert calendar().add(at("2026-12-05T12:00"), timedelta(hours=1)) == at("2026-12-07T10:00")


def test_a_holiday_is_skipped_like_a_weekend() -> None:
    # Thanksgiving 2026 is Thursday 26 November: an hour on Wednesday, none on Thursday, an hour on Friday.
    options = SlaSettings(time_zone="America/New_York", holidays="US")
    due = options.calendar().add(at("2026-11-25T16:00", "America/New_York"), timedelta(hours=2))
    assert due == at("2026-11-27T10:00", "America/New_York")
    assert due == at("2026-11-27T15:00")  # the same moment in UTC


def test_the_companys_own_days_off_are_skipped_with_the_countrys_holidays() -> None:
    options = SlaSettings(holidays="US", days_off=(date(2026, 12, 24),))
    due = options.calendar().add(at("2026-12-23T16:00"), timedelta(hours=2))
    # 24th: the company's day off; 25th: Christmas; 26th and 27th: the weekend.
    assert due == at("2026-12-28T10:00")


def test_business_hours_are_the_teams_own_time_zone() -> None:
    # 07:30 UTC is 08:30 in Berlin, before the office opens at 09:00 (08:00 UTC).
    due = calendar("Europe/Berlin").add(at("2026-12-03T07:30"), timedelta(hours=1))
    assert due == at("2026-12-03T09:00")
    # The same ticket for a team in Tokyo (09:00-17:00 JST = 00:00-08:00 UTC): 16:30 JST, half an
    # hour left that day, the other half on the next working day.
    due = calendar("Asia/Tokyo").add(at("2026-12-03T07:30"), timedelta(hours=1))
    assert due == at("2026-12-04T09:30", "Asia/Tokyo")


def test_a_due_time_crosses_midnight_to_the_next_working_morning() -> None:
    assert calendar().add(at("2026-12-01T16:30"), timedelta(hours=2)) == at("2026-12-02T10:30")


def test_around_the_clock_counts_the_night_and_crosses_midnight() -> None:
    clock = around_the_clock(UTC_ZONE)
    assert clock.add(at("2026-12-05T23:30"), timedelta(hours=1)) == at("2026-12-06T00:30")  # a Saturday night


def test_the_week_a_clock_changes_counts_real_hours() -> None:
    # Berlin moves to summer time on Sunday 29 March 2026: Monday 09:00 is 07:00 UTC, not 08:00.
    due = calendar("Europe/Berlin").add(at("2026-03-27T16:00", "Europe/Berlin"), timedelta(hours=2))
    assert due == at("2026-03-30T10:00", "Europe/Berlin")
    assert due.astimezone(UTC) == at("2026-03-30T08:00")


def test_working_days_are_whole_working_days() -> None:
    span = Span.parse("2d")
    assert span.length(timedelta(hours=8)) == timedelta(hours=16)
    # Tuesday 10:00 + two working days = Thursday 10:00.
    assert calendar().add(at("2026-12-01T10:00"), span.length(calendar().day)) == at("2026-12-03T10:00")


def test_elapsed_working_time_leaves_nights_and_weekends_out() -> None:
    assert calendar().elapsed(at("2026-12-04T16:00"), at("2026-12-07T10:00")) == timedelta(hours=2)


@pytest.mark.parametrize(("text", "days", "minutes"), [("30m", 0, 30), ("4h", 0, 240), ("1d 4h", 1, 240),
                                                       ("1.5h", 0, 90)])
def test_spans_are_read_as_written(text: str, days: float, minutes: float) -> None:
    assert Span.parse(text) == Span(days, minutes)


@pytest.mark.parametrize("text", ["soon", "4", "0h", "4 hours", ""])
def test_a_span_that_is_not_one_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"30m, 4h, 2d|longer than nothing"):
        Span.parse(text)


def test_a_warning_comes_the_lead_time_ahead_or_a_share_of_a_short_target() -> None:
    start = at("2026-12-01T10:00")
    lead = timedelta(minutes=30)
    assert warning(start, start + timedelta(hours=8), lead, 0.2) == start + timedelta(hours=7, minutes=30)
    assert warning(start, start + timedelta(minutes=30), lead, 0.2) == start + timedelta(minutes=24)


def test_the_policys_due_time_is_used_and_only_the_rest_is_computed() -> None:
    created = at("2026-12-01T10:00")
    rule = Rule({FIRST_RESPONSE: Span.parse("1h"), RESOLUTION: Span.parse("8h")}, calendar(),
                timedelta(minutes=30), 0.2)
    policy = {FIRST_RESPONSE: at("2026-12-01T10:20")}
    sla = expect(created, rule, "P1", policy=policy)
    first, resolution = sla.due(FIRST_RESPONSE), sla.due(RESOLUTION)
    assert first is not None and first.at == at("2026-12-01T10:20") and first.source == POLICY
    assert resolution is not None and resolution.at == at("2026-12-02T10:00") and resolution.source == FRONTLINE
    assert sla.source == "policy+frontline"
    assert Expectation.from_fields(sla.as_fields()) == sla  # stored with the decision and read back


def test_enterprise_plans_get_their_own_tighter_targets() -> None:
    options = SlaSettings()
    rule, plan = options.rule("P1", "Enterprise")
    assert plan == "enterprise" and rule.targets[FIRST_RESPONSE] == Span.parse("2h")
    rule, plan = options.rule("P1", "starter")
    assert plan is None and rule.targets[FIRST_RESPONSE] == Span.parse("4h")
    rule, _ = options.rule("P0", None)
    assert rule.calendar.weekdays == frozenset(range(7))  # P0 runs around the clock
