"""Configuration: defaults, precedence, and clear errors for unknown keys and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.config import load_settings
from frontline.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "frontline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_taxonomy_support_teams_use(tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, dotenv=None)
    assert list(settings.categories) == ["bug", "billing", "how_to", "account_issue", "feature_request"]
    assert [settings.priority_for(s) for s in ("P0", "P1", "P2", "P3")] == ["urgent", "high", "normal", "low"]
    assert settings.channel_for("bug") == "#engineering"
    assert settings.channel_for("billing") == "#billing"
    assert settings.channel_for("feature_request") == "#product-feedback"
    assert settings.channel_for("how_to") == "#support-triage"
    assert settings.routing.kb_categories == ("bug", "how_to", "account_issue")
    assert settings.writeback.tags == ("auto_category:{category}", "auto_severity:{severity}", "triaged_by_agent")


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "[routing]\nchanels = {}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}, dotenv=None)
    message = str(caught.value)
    assert str(path) in message and "routing.chanels" in message and "channels" in message


def test_bad_value_says_what_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, '[severities.P0]\npriority = "now"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}, dotenv=None)
    assert "severities.P0.priority" in str(caught.value) and "'urgent'" in str(caught.value)


def test_channel_for_unknown_category_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, '[routing.channels]\nbugs = "#eng"\n')
    with pytest.raises(ConfigError, match="unknown category 'bugs'"):
        load_settings(path, environ={}, dotenv=None)


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[routing\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={}, dotenv=None)


def test_missing_explicit_config_fails(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={}, dotenv=None)


def test_custom_taxonomy_replaces_categories(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories.outage]\ndescription = "down"\nkeywords = ["down"]\n'
                           '[categories.question]\ndescription = "q"\n'
                           '[routing]\nchannels = {outage = "#ops"}\nkb_categories = ["question"]\n')
    settings = load_settings(path, environ={}, dotenv=None)
    assert list(settings.categories) == ["outage", "question"]
    assert settings.channel_for("outage") == "#ops"


def test_one_severity_can_be_tuned_without_restating_the_others(tmp_path: Path) -> None:
    path = write(tmp_path, '[severities.P1]\nkeywords = ["blocker"]\n')
    settings = load_settings(path, environ={}, dotenv=None)
    assert settings.severities["P1"].keywords == ("blocker",)
    assert settings.severities["P1"].priority == "high"
    assert settings.severities["P0"].priority == "urgent"


def test_precedence_flag_over_environment_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[classifier]\nkind = "model"\n')
    assert load_settings(path, environ={}, dotenv=None).classifier.kind == "model"
    env = {"FRONTLINE_CLASSIFIER": "rules"}
    assert load_settings(path, environ=env, dotenv=None).classifier.kind == "rules"
    flagged = load_settings(path, environ=env, dotenv=None, overrides={("classifier", "kind"): "llm"})
    assert flagged.classifier.kind == "llm"


def test_bad_environment_value_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"classifier\.kind"):
        load_settings(None, environ={"FRONTLINE_CLASSIFIER": "magic"}, dotenv=None)


def test_dotenv_supplies_secrets_without_overriding_the_environment(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPENROUTER_API_KEY=from-file\nFRONTLINE_LLM_MODEL=file/model\n", encoding="utf-8")
    settings = load_settings(None, environ={"FRONTLINE_LLM_MODEL": "env/model"}, dotenv=dotenv)
    assert settings.llm.model == "env/model"
    assert settings.env["OPENROUTER_API_KEY"] == "from-file"


def test_abstain_above_confidence_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "[thresholds]\nconfidence = 0.4\nabstain = 0.5\n")
    with pytest.raises(ConfigError, match="abstain"):
        load_settings(path, environ={}, dotenv=None)


def test_vendor_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[zendesk]\nsubdomain = "acme"\nplan_field = "tier"\n')
    settings = load_settings(path, environ={"NOTION_DB_ID": "https://www.notion.so/Help-0123456789abcdef0123456789abcdef",
                                            "SLACK_BASE_URL": "http://127.0.0.1:9/api"}, dotenv=None)
    assert settings.zendesk.api_root == "https://acme.zendesk.com" and settings.zendesk.plan_field == "tier"
    assert settings.notion.database_id == "0123456789abcdef0123456789abcdef"
    assert settings.slack.base_url == "http://127.0.0.1:9/api/"
    eu = load_settings(path, environ={"ZENDESK_BASE_URL": "https://acme.zendesk.eu.example/"}, dotenv=None)
    assert eu.zendesk.api_root == "https://acme.zendesk.eu.example"


def test_a_bad_subdomain_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"zendesk.subdomain.*acme for acme.zendesk.com"):
        load_settings(write(tmp_path, '[zendesk]\nsubdomain = "acme corp"\n'), environ={}, dotenv=None)


def test_teams_override_sections_and_keep_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '[routing]\nfallback = "#triage"\n'
        '[teams.payments]\nconnectors = { helpdesk = "zendesk" }\nzendesk = { subdomain = "pay" }\n'
        'routing = { channels = { billing = "#payments-oncall" } }\n'
        '[teams.mobile.routing]\nfallback = "#mobile-triage"\n'
    ))
    settings = load_settings(path, environ={}, dotenv=None, overrides={("connectors", "chat"): "slack"})
    assert settings.team_names == ["payments", "mobile"]
    payments, mobile = settings.for_team("payments"), settings.for_team("mobile")
    assert payments.team == "payments" and payments.connectors.helpdesk == "zendesk"
    assert payments.channel_for("billing") == "#payments-oncall" and payments.routing.fallback == "#triage"
    assert payments.channel_for("bug") == "#triage"  # the team's channel map replaced the top-level one
    assert mobile.routing.fallback == "#mobile-triage" and mobile.channel_for("bug") == "#engineering"
    assert payments.connectors.chat == mobile.connectors.chat == "slack"  # a flag wins over every team
    with pytest.raises(ConfigError, match="unknown team 'web'"):
        settings.for_team("web")


def test_a_teams_bad_key_names_the_team(tmp_path: Path) -> None:
    path = write(tmp_path, '[teams.payments.routing]\nchanels = { bug = "#x" }\n')
    with pytest.raises(ConfigError, match=r"`teams.payments.routing.chanels` is not a known setting"):
        load_settings(path, environ={}, dotenv=None)


def test_without_teams_there_is_one_default_team(tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, dotenv=None)
    assert settings.team_names == ["default"] and settings.for_team("default") is settings


def test_relative_paths_in_a_file_are_resolved_beside_that_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = write(folder, 'templates_dir = "tpl"\ndatabase_url = "sqlite:///state/frontline.db"\n'
                         '[local]\nworkspace = "ws"\n[teams.emea.local]\nworkspace = "emea"\n'
                         '[teams.emea]\ntemplates_dir = "../shared-tpl"\n')
    monkeypatch.chdir(elsewhere)  # the current directory must not matter
    settings = load_settings(Path("..") / "conf" / "frontline.toml", environ={}, dotenv=None)
    assert Path(settings.templates_dir or "") == folder.resolve() / "tpl"
    assert settings.workspace == folder.resolve() / "ws"
    # files inside the workspace stay relative to the workspace
    assert settings.model_file == folder.resolve() / "ws" / "model.joblib"
    assert settings.path(settings.local.kb_dir) == folder.resolve() / "ws" / "kb"
    assert settings.state_url == f"sqlite:///{(folder.resolve() / 'state' / 'frontline.db').as_posix()}"
    emea = settings.for_team("emea")
    assert emea.workspace == folder.resolve() / "emea"
    assert Path(emea.templates_dir or "") == (folder.resolve() / ".." / "shared-tpl")
    assert path.is_file()


def test_paths_from_the_environment_and_defaults_keep_their_meaning(tmp_path: Path) -> None:
    path = write(tmp_path, '[classifier]\nkind = "rules"\n')
    assert load_settings(path, environ={}, dotenv=None).workspace == Path(".frontline")
    settings = load_settings(path, environ={"FRONTLINE_WORKSPACE": "from-env"}, dotenv=None)
    assert settings.workspace == Path("from-env")  # typed in a shell: relative to where it was typed
    absolute = (tmp_path / "abs").as_posix()
    assert load_settings(write(tmp_path, f'[local]\nworkspace = "{absolute}"\n'), environ={},
                         dotenv=None).workspace == Path(absolute)
