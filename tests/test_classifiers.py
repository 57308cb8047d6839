"""Classifiers are found by name through entry points, the seam a third-party package uses too."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from frontline.app import build_classifier
from frontline.cli import cli, run, state, tickets  # noqa: F401  (registers `run`, `state`, `import`)
from frontline.config import load_settings
from frontline.config.classifier_names import GROUP, available, classifier_names
from frontline.decide.cascade import CascadeClassifier
from frontline.decide.triage import RulesClassifier
from frontline.errors import ConfigError
from tests.helpers import make_settings

PLUGIN = '''
"""A classifier from outside frontline: every ticket is a billing question, sure of itself."""

from frontline.model import Triage


class AlwaysBilling:
    name = "always-billing"

    async def classify(self, tickets):
        return [Triage("billing", "P3", "plugin", "", 0.99, "always-billing") for _ in tickets]


def factory(settings, http):
    return AlwaysBilling()
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A tiny installed distribution registering the classifier ``always-billing``."""
    site = tmp_path / "site"
    info = site / "frontline_always_billing-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "frontline_always_billing.py").write_text(PLUGIN, encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: frontline-always-billing\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nalways-billing = frontline_always_billing:factory\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    return "always-billing"


def test_the_built_in_classifiers_are_registered_as_entry_points() -> None:
    assert {"rules", "model", "llm", "cascade"} <= set(available())
    for entry in available().values():
        assert callable(entry.load())


def test_a_registered_classifier_is_used_by_run_triage(plugin: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "frontline.toml").write_text(
        f'[local]\nworkspace = "{(tmp_path / "ws").as_posix()}"\nkb_dir = "{(tmp_path / "kb").as_posix()}"\n'
        f'echo = false\n[classifier]\nkind = "{plugin}"\n', encoding="utf-8")
    (tmp_path / "tickets.jsonl").write_text('{"id": 1, "subject": "Locked out", "description": "I forgot my '
                                            'password"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["import", "tickets", "tickets.jsonl"]).exit_code == 0
    result = runner.invoke(cli, ["run", "triage"])
    assert result.exit_code == 0, result.output
    assert "#1 billing" in result.output and "always-billing 0.99" in result.output
    assert "Forgot 1" in runner.invoke(cli, ["state", "forget", "1"]).output
    ruled = runner.invoke(cli, ["run", "triage", "--classifier", "rules", "--dry-run"])
    assert "#1 account_issue" in ruled.output, ruled.output
    flagged = runner.invoke(cli, ["run", "triage", "--classifier", plugin, "--dry-run"])
    assert "#1 billing" in flagged.output, flagged.output


def test_the_registered_name_is_accepted_in_the_settings(plugin: str) -> None:
    assert plugin in classifier_names()
    settings = load_settings(None, environ={"FRONTLINE_CLASSIFIER": plugin}, dotenv=None)
    assert settings.classifier.kind == plugin


def test_an_unknown_name_is_one_sentence_listing_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"classifier\.kind.*cascade, llm, model, rules.*'magic'"):
        load_settings(None, environ={"FRONTLINE_CLASSIFIER": "magic"}, dotenv=None)
    (tmp_path / "frontline.toml").write_text('[classifier]\nkind = "magic"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "frontline.toml"), "run", "triage"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "magic" in result.output and "cascade, llm, model, rules" in result.output


def test_a_name_set_after_loading_is_checked_when_the_classifier_is_built(workspace: Path) -> None:
    settings = make_settings(workspace)
    changed = settings.model_copy(update={"classifier": settings.classifier.model_copy(update={"kind": "magic"})})
    with pytest.raises(ConfigError, match=r"'magic'.*cascade, llm, model, rules"):
        build_classifier(changed, httpx.AsyncClient())


def test_the_built_in_factories_build_what_build_classifier_built(workspace: Path) -> None:
    rules = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    assert isinstance(build_classifier(rules, httpx.AsyncClient()), RulesClassifier)
    cascade = make_settings(workspace, '[classifier]\nkind = "cascade"\n')
    assert isinstance(build_classifier(cascade, httpx.AsyncClient()), CascadeClassifier)
