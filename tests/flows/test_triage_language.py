"""Triage reads each ticket's language and its customer's tone: a tag, a route, the note and the decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from frontline.cli import cli
from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.store.state import StateStore
from tests.flows.test_triage import outbox, seed, triage
from tests.helpers import make_settings, run

GERMAN = {"id": "11", "subject": "Rechnung doppelt abgebucht",
          "description": "Die Rechnung für März wurde zweimal von meiner Kreditkarte abgebucht, bitte erstatten."}
ENGLISH = {"id": "12", "subject": "Export crashes", "description": "The CSV export crashes with an error every time"}
CALM = {"id": "15", "subject": "Export", "description": "How do I export my invoices to CSV? Thanks!"}
SHORT = {"id": "13", "subject": "hi", "description": "ok"}
ANGRY = {"id": "14", "subject": "Still broken!!", "description": "Why is the export still not working?? Nobody "
         "answers and I have been waiting 3 days. This is unacceptable."}
LANGUAGES = '[routing.languages]\nde = "#support-de"\n'


def _fields(settings: Settings, ticket_id: str) -> dict[str, Any]:
    fields: dict[str, Any] = StateStore.open(settings.state_url).item_state(ticket_id)["decisions"][-1]["fields"]
    return fields


def _channels(settings: Settings) -> dict[str, str]:
    return {e["text"].split("#", 2)[-1].split()[0]: e["channel"] for e in outbox(settings)}


def test_each_ticket_is_tagged_with_its_language_and_a_short_one_is_not(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    helpdesk = seed(settings, [GERMAN, ENGLISH, SHORT])
    assert triage(settings).handled == 3
    assert "lang:de" in run(helpdesk.get("11")).tags
    assert "lang:en" in run(helpdesk.get("12")).tags
    assert not [tag for tag in run(helpdesk.get("13")).tags if tag.startswith("lang:")]
    assert _fields(settings, "11")["language"] == "de"
    short = _fields(settings, "13")
    assert short["language"] is None and short["language_reason"].startswith("too short")
    assert "Language: de (" in helpdesk.notes("11")[0]["body"]
    assert "Language: not tagged: too short" in helpdesk.notes("13")[0]["body"]


def test_a_ticket_in_a_routed_language_goes_to_that_languages_channel(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n' + LANGUAGES)
    seed(settings, [GERMAN, ENGLISH])
    triage(settings)
    channels = _channels(settings)
    assert channels["11"] == "#support-de"
    assert _fields(settings, "11")["review"] is True  # the keyword rules read no German: its reviewer must
    assert channels["12"] == "#engineering"  # English has no channel of its own: routed by category


def test_language_detection_can_be_turned_off(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[routing]\ndetect_language = false\n'
                             + LANGUAGES)
    helpdesk = seed(settings, [GERMAN])
    triage(settings)
    assert not [tag for tag in run(helpdesk.get("11")).tags if tag.startswith("lang:")]
    assert _channels(settings)["11"] != "#support-de"
    assert "language" not in _fields(settings, "11")


def test_the_customers_sentiment_is_stored_and_shown_in_the_note(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    helpdesk: LocalHelpdesk = seed(settings, [ANGRY, CALM])
    triage(settings)
    sentiment = _fields(settings, "14")["sentiment"]
    assert sentiment["label"] == "frustrated" and sentiment["score"] >= 0.7
    assert any(reason.startswith("keywords:") for reason in sentiment["reasons"])
    assert "Customer sentiment: frustrated (" in helpdesk.notes("14")[0]["body"]
    assert _fields(settings, "15")["sentiment"]["label"] in ("neutral", "positive")


def test_state_show_prints_the_language_with_the_decision(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    seed(settings, [GERMAN])
    triage(settings)
    result = CliRunner().invoke(cli, ["--config", str(workspace / "frontline.toml"), "state", "show", "11"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["decisions"][-1]["fields"]["language"] == "de"


def test_a_language_key_that_is_no_code_is_refused_in_one_sentence(workspace: Path) -> None:
    from frontline.errors import ConfigError

    try:
        make_settings(workspace, '[routing.languages]\nGerman = "#support-de"\n')
    except ConfigError as error:
        assert "routing.languages" in str(error) and "'German' is not a lower-case ISO 639" in str(error)
    else:
        raise AssertionError("a language name was accepted as a code")
