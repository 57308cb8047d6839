"""The ``[sla]`` section: documented defaults, a team's own business hours, one sentence for a bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.config import load_settings
from frontline.config.sla import sla_settings
from frontline.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "frontline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_documented_targets() -> None:
    options = sla_settings(load_settings(None, environ={}, dotenv=None))
    assert options.time_zone == "UTC" and options.hours == "09:00-17:00" and options.around_the_clock == ("P0",)
    assert {name: (t.first_response, t.resolution) for name, t in options.targets.items()} == {
        "P0": ("1h", "8h"), "P1": ("4h", "2d"), "P2": ("8h", "3d"), "P3": ("1d", "5d")}
    assert options.plans["enterprise"]["P0"].first_response == "30m"


def test_a_file_naming_one_severity_keeps_the_others_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[sla.targets]\nP2 = { first_response = "2h", resolution = "1d" }\n')
    options = sla_settings(load_settings(path, environ={}, dotenv=None))
    assert options.targets["P2"].first_response == "2h" and options.targets["P0"].first_response == "1h"


def test_each_team_has_its_own_business_hours(tmp_path: Path) -> None:
    path = write(tmp_path, '[sla]\ntime_zone = "Europe/London"\nholidays = "GB"\n\n'
                           '[teams.apac.sla]\ntime_zone = "Asia/Tokyo"\nholidays = "JP"\n\n[teams.emea]\n')
    settings = load_settings(path, environ={}, dotenv=None)
    assert sla_settings(settings.for_team("apac")).time_zone == "Asia/Tokyo"
    assert sla_settings(settings.for_team("emea")).time_zone == "Europe/London"


@pytest.mark.parametrize(("toml", "key", "words"), [
    ('time_zone = "Mars/Olympus"', "sla.time_zone", "IANA time zone"),
    ('hours = "17:00-09:00"', "sla.hours", "end after it starts"),
    ('hours = "9 to 5"', "sla.hours", "09:00-17:00"),
    ('working_days = ["mon", "funday"]', "sla.working_days", "funday"),
    ('holidays = "XX"', "sla.holidays", "US, DE or GB"),
    ('holiday_region = "CA"', "sla.holiday_region", "needs holidays"),
    ('holidays = "US"\nholiday_region = "ZZ"', "sla.holiday_region", "no region of US"),
    ('warn_before = "1d"', "sla.warn_before", "hours or minutes"),
    ('alert_late_breaches = "later"', "sla.alert_late_breaches", "30m, 4h"),
    ('warn_fraction = 2', "sla.warn_fraction", "1"),
    ('around_the_clock = ["P9"]', "sla.around_the_clock", "P9"),
    ('targets = { P9 = { first_response = "1h" } }', "sla.targets", "unknown severities P9"),
    ('targets = { P1 = { first_response = "soon" } }', "sla.targets.P1.first_response", "30m, 4h, 2d"),
    ('plans = { gold = { P1 = { resolution = "forever" } } }', "sla.plans.gold.P1.resolution", "30m, 4h"),
    ('due_feild = "123"', "sla.due_feild", "due_field"),
])
def test_a_bad_sla_setting_is_one_sentence_naming_the_key(tmp_path: Path, toml: str, key: str, words: str) -> None:
    path = write(tmp_path, f"[sla]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}, dotenv=None)
    message = str(caught.value)
    assert f"`{key}`" in message and words in message and str(path) in message
    assert "\n" not in message
