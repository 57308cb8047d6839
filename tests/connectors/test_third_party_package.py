"""A connector package from outside frontline (tests/fixtures/acme_helpdesk) works with no change to frontline.

The fixture declares a helpdesk ``acme``, its own ``[acme]`` section, its key variable ACME_TOKEN and
a rate limit, by entry points only; `make .venv/.installed` installs it into the test environment.
Here `doctor`, `run triage` and `worker --once` pick it up, its limit lands in the budget book, and
its section is validated like frontline's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# Importing the command modules registers their commands on `cli`.
from frontline.cli import cli, doctor, run, worker  # noqa: F401
from frontline.config import load_settings, secret_variables
from frontline.connectors.registry import packages
from frontline.errors import ConfigError
from frontline.store.budgets import BudgetTable
from frontline.store.state import StateStore
from tests.fakes.acme import TOKEN, FakeAcme
from tests.fakes.base import serve

NOT_INSTALLED = ("the fixture connector package is not installed in this environment: run `make .venv/.installed` "
                 "(or pip install --no-deps tests/fixtures/acme_helpdesk)")
TICKETS = [
    {"id": 1, "subject": "Charged twice", "body": "My invoice shows a double charge on my card", "status": "open",
     "updated_at": "2026-01-05T10:00:00+00:00"},
    {"id": 2, "subject": "App crashes", "body": "The app crashes with an error when I export", "status": "new",
     "updated_at": "2026-01-05T11:00:00+00:00"},
    {"id": 3, "subject": "Thanks", "body": "All good now", "status": "solved",
     "updated_at": "2026-01-05T12:00:00+00:00"},
]


@pytest.fixture(autouse=True)
def _installed() -> None:
    assert "acme" in packages(), NOT_INSTALLED


@pytest.fixture
def acme() -> Iterator[tuple[FakeAcme, str]]:
    """The fake Acme Desk on a loopback port, holding three tickets (one solved)."""
    fake = FakeAcme([dict(ticket) for ticket in TICKETS])
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, acme: tuple[FakeAcme, str]) -> Path:
    """A folder whose frontline.toml sends triage to Acme Desk, as the current directory, ACME_TOKEN set."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "billing.md").write_text("---\ntitle: Refunds\n---\nA double charge is refunded.\n", encoding="utf-8")
    (tmp_path / "frontline.toml").write_text(
        f'[connectors]\nhelpdesk = "acme"\n\n[acme]\nbase_url = "{acme[1]}"\nrequests_per_minute = 90\n\n'
        f'[local]\nworkspace = "ws"\nkb_dir = "{kb.as_posix()}"\necho = false\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRONTLINE_CLASSIFIER", "rules")
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    for name in ("FRONTLINE_DATABASE_URL", "FRONTLINE_WORKSPACE", "FRONTLINE_HELPDESK"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_doctor_names_the_package_s_missing_key_variable(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_TOKEN")
    result = invoke("doctor")
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if "helpdesk acme" in line]
    assert "✗" in line and "Acme" in line
    assert "Set ACME_TOKEN" in result.output and "Traceback" not in result.output


def test_doctor_accepts_the_package_once_its_key_is_set(project: Path) -> None:
    result = invoke("doctor")
    [line] = [line for line in result.output.splitlines() if "helpdesk acme" in line]
    assert "✓" in line and "credential from environment" in line, result.output
    assert TOKEN not in result.output


def test_run_triage_reads_and_writes_back_through_the_package(project: Path, acme: tuple[FakeAcme, str]) -> None:
    fake, _ = acme
    result = invoke("run", "triage")
    assert result.exit_code == 0, result.output
    assert "2 handled" in result.output
    assert set(fake.notes) == {"1", "2"}  # the solved ticket is not triaged
    assert all(note["marker"] and note["tags"] for notes in fake.notes.values() for note in notes)
    assert "0 handled" in invoke("run", "triage").output  # handled once, then skipped


def test_worker_once_triages_through_the_package(project: Path, acme: tuple[FakeAcme, str]) -> None:
    fake, _ = acme
    result = invoke("worker", "--once", "--flow", "triage")
    assert result.exit_code == 0, result.output
    assert set(fake.notes) == {"1", "2"}
    assert all(len(notes) == 1 for notes in fake.notes.values())


def test_the_package_s_rate_limit_is_in_the_budget_book(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_BUDGETS", "on")
    assert invoke("run", "triage").exit_code == 0
    store = StateStore.open(load_settings(None, environ={}, dotenv=None).state_url)
    try:
        # The shared bucket of the [acme] section's limit: the run drew on it for every request to Acme.
        assert BudgetTable(store.engine).read("acme:127.0.0.1:account") is not None
    finally:
        store.close()


def test_the_package_s_key_variable_is_masked_like_frontline_s_own() -> None:
    assert "ACME_TOKEN" in secret_variables()


def test_the_package_s_variables_set_its_section(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"ACME_BASE_URL": "https://eu.acme-desk.example/"}, dotenv=None)
    assert settings.section("acme").base_url == "https://eu.acme-desk.example"


def test_an_unknown_key_in_the_package_s_section_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[acme]\nrequests_per_hour = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, dotenv=None)
    assert str(caught.value) == (f"{config}: `acme.requests_per_hour` is not a known setting; allowed here: "
                                 "base_url, requests_per_minute, statuses")


def test_a_bad_value_in_the_package_s_section_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[acme]\nrequests_per_minute = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`acme.requests_per_minute` is invalid: .*greater than or equal to 1"):
        load_settings(config, environ={}, dotenv=None)


def test_a_section_no_package_declares_is_still_refused(project: Path) -> None:
    with (project / "frontline.toml").open("a", encoding="utf-8") as config:
        config.write("\n[acmee]\nbase_url = \"https://typo.example\"\n")
    result = invoke("run", "triage")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "`acmee` is not a known setting" in errors[0] and "acme," in errors[0]
    assert "Traceback" not in result.output
