"""Several teams in one configuration: their own connectors, channels and state, one state store."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from frontline.cli import cli, run  # noqa: F401  (importing run registers the command)
from frontline.config import load_settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.store.state import StateStore
from tests.flows.test_triage import TICKETS, triage


def two_teams(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.md").write_text("# Reset your password\n\nUse Forgot password.\n", encoding="utf-8")
    config = tmp_path / "frontline.toml"
    config.write_text(
        f'database_url = "sqlite:///{(tmp_path / "state.db").as_posix()}"\n'
        f'[classifier]\nkind = "rules"\n'
        f'[local]\nworkspace = "{(tmp_path / "shared").as_posix()}"\nkb_dir = "{kb.as_posix()}"\necho = false\n'
        f'[teams.payments]\nlocal = {{ workspace = "{(tmp_path / "payments").as_posix()}" }}\n'
        f'routing = {{ channels = {{ billing = "#payments-oncall" }} }}\n'
        f'[teams.mobile]\nlocal = {{ workspace = "{(tmp_path / "mobile").as_posix()}" }}\n',
        encoding="utf-8",
    )
    return config


def test_each_team_handles_its_own_tickets_even_with_the_same_ids(tmp_path: Path) -> None:
    settings = load_settings(two_teams(tmp_path), environ={}, dotenv=None)
    payments, mobile = settings.for_team("payments"), settings.for_team("mobile")
    for team in (payments, mobile):
        LocalHelpdesk.from_settings(team).upsert(TICKETS)  # both helpdesks have tickets 1–5
    assert triage(payments).handled == 5
    assert triage(mobile).handled == 5  # same ids, another team: not "already handled"
    assert triage(payments).handled == 0 and triage(mobile).handled == 0
    billing = [e["channel"] for e in OutboxChat(payments.path("outbox.jsonl")).entries() if "billing" in e["text"]]
    assert billing == ["#payments-oncall"]
    mobile_billing = [e["channel"] for e in OutboxChat(mobile.path("outbox.jsonl")).entries()
                      if "billing" in e["text"]]
    assert mobile_billing == ["#billing"]
    store = StateStore.open(settings.state_url)
    try:
        assert store.counts("triage@payments")["handled"] == 5 and store.counts("triage@mobile")["handled"] == 5
        assert store.counts("triage")["handled"] == 0
    finally:
        store.close()


def test_run_handles_every_team_or_the_one_asked_for(tmp_path: Path) -> None:
    config = two_teams(tmp_path)
    settings = load_settings(config, environ={}, dotenv=None)
    for name in ("payments", "mobile"):
        LocalHelpdesk.from_settings(settings.for_team(name)).upsert(TICKETS[:2])
    runner = CliRunner()
    only = runner.invoke(cli, ["--config", str(config), "run", "triage", "--team", "mobile", "-q"])
    assert only.exit_code == 0, only.output
    assert "team mobile" in only.output and "team payments" not in only.output
    both = runner.invoke(cli, ["--config", str(config), "run", "triage", "-q"])
    assert "Triage · team payments: 2 handled" in both.output
    assert "Triage · team mobile: 0 handled" in both.output  # its cursor is past both tickets
    unknown = runner.invoke(cli, ["--config", str(config), "run", "triage", "--team", "web"])
    assert unknown.exit_code == 2 and "unknown team 'web'" in unknown.output
