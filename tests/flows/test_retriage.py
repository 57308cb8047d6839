"""Re-triage on the embedded helpdesk: a handled ticket the customer wrote to again is decided again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from frontline.cli import cli
from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.model import ChatMessage
from frontline.store.state import StateStore
from tests.flows.test_triage import outbox, seed, triage
from tests.helpers import run

TICKET: dict[str, Any] = {"id": "1", "subject": "Export question", "description": "How do I export my projects to CSV?",
                          "company": "Acme", "plan": "starter"}
AGENT = {"author": "agent", "body": "Use the export button in Settings → Data."}
DATA_LOSS = {"author": "customer",
             "body": "The export crashed and now all our data is gone. Data loss in production, nobody can work!"}
NUDGE = {"author": "customer", "body": "Thanks, could you send me the link to the page?"}


def write(helpdesk: LocalHelpdesk, *messages: dict[str, str]) -> None:
    """The ticket's thread now holds ``messages`` after its description (as an import or POST /tickets sends it)."""
    helpdesk.upsert([{**TICKET, "messages": list(messages)}])


def replies(settings: Settings) -> list[dict[str, Any]]:
    return [e for e in outbox(settings) if e.get("thread_ts")]


def retriage_notes(helpdesk: LocalHelpdesk) -> list[str]:
    return [n["body"] for n in helpdesk.notes("1") if "re-triage" in n["body"]]


@pytest.fixture
def handled(settings: Settings) -> LocalHelpdesk:
    """Ticket 1, a how-to question, triaged once (P3, one top-level alert, one note)."""
    helpdesk = seed(settings, [TICKET])
    summary = triage(settings)
    assert summary.handled == 1 and summary.by_severity["P3"] == 1
    return helpdesk


def test_a_changed_decision_is_written_back_and_replied_in_the_alerts_thread_once(
        settings: Settings, handled: LocalHelpdesk) -> None:
    alert = outbox(settings)[0]
    write(handled, AGENT, DATA_LOSS)
    summary = triage(settings)
    assert (summary.retriaged, summary.rechecked, summary.handled, summary.failures) == (1, 0, 0, [])
    [reply] = replies(settings)
    assert reply["thread_ts"] == alert["ts"] and reply["channel"] == alert["channel"]  # never a new top-level post
    assert "Severity P3 → P0" in reply["text"] and "data loss" in reply["text"]
    [note] = retriage_notes(handled)
    assert note.startswith("frontline re-triage after the customer's new message: Severity P3 → P0")
    ticket = run(handled.get("1"))
    assert ticket.priority == "urgent"
    assert "auto_severity:P0" in ticket.tags and "auto_severity:P3" not in ticket.tags  # replaced, not added to
    write(handled, AGENT, DATA_LOSS, NUDGE | {"author": "agent"})  # listed again, with nothing new from the customer
    again = triage(settings)
    assert (again.retriaged, again.rechecked, again.skipped) == (0, 0, 1)
    assert len(replies(settings)) == 1 and len(retriage_notes(handled)) == 1 and len(outbox(settings)) == 2


def test_an_unchanged_decision_writes_and_posts_nothing_and_is_not_checked_again(
        settings: Settings, handled: LocalHelpdesk) -> None:
    write(handled, NUDGE)
    summary = triage(settings)
    assert (summary.retriaged, summary.rechecked, summary.failures) == (0, 1, [])
    assert len(outbox(settings)) == 1 and len(handled.notes("1")) == 1
    assert run(handled.get("1")).priority == "low"
    write(handled, NUDGE, AGENT)  # listed again: the message already checked is not checked again
    again = triage(settings)
    assert (again.retriaged, again.rechecked, again.skipped) == (0, 0, 1)


def test_an_agents_reply_does_not_trigger_a_retriage(settings: Settings, handled: LocalHelpdesk) -> None:
    write(handled, {"author": "agent", "body": "Data loss? Nobody can work? Production is down for everyone!"})
    summary = triage(settings)
    assert (summary.retriaged, summary.rechecked, summary.skipped) == (0, 0, 1)
    assert len(outbox(settings)) == 1 and len(handled.notes("1")) == 1


def test_a_second_customer_message_is_checked_again(settings: Settings, handled: LocalHelpdesk) -> None:
    write(handled, NUDGE)
    assert triage(settings).rechecked == 1
    write(handled, NUDGE, DATA_LOSS)
    summary = triage(settings)
    assert (summary.retriaged, summary.rechecked) == (1, 0)
    assert len(replies(settings)) == 1 and len(retriage_notes(handled)) == 1


def test_state_show_lists_the_retriage_history(settings: Settings, handled: LocalHelpdesk, workspace: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(handled, NUDGE)
    triage(settings)
    write(handled, NUDGE, DATA_LOSS)
    triage(settings)
    monkeypatch.chdir(workspace)
    shown = CliRunner().invoke(cli, ["state", "show", "1", "--json"], catch_exceptions=False)
    history = json.loads(shown.output)["retriage"]
    assert [h["customer_messages"] for h in history] == [1, 2]
    assert history[0]["changed"] == []
    assert {"field": "Severity", "before": "P3", "after": "P0"} in history[1]["changed"]
    assert history[1]["at"] and history[1]["alert_ref"] and history[1]["writeback_ref"]
    assert "Data loss in production" in history[1]["message"]


class Crash(BaseException):
    """The process dies here (a BaseException: nothing in the flow catches it)."""


def test_a_crash_after_the_thread_reply_does_not_post_it_twice(settings: Settings, handled: LocalHelpdesk) -> None:
    write(handled, DATA_LOSS)

    def dies_after_replying(chat: Any) -> Any:
        post = chat.post

        async def posted_then_killed(channel: str, message: ChatMessage, key: str, thread: str | None = None) -> str:
            await post(channel, message, key, thread=thread)
            raise Crash  # the reply landed; the ledger never heard of it, nothing was written back

        chat.post = posted_then_killed
        return chat

    with pytest.raises(Crash):
        triage(settings, replace={"chat": dies_after_replying})
    assert len(replies(settings)) == 1 and retriage_notes(handled) == []
    summary = triage(settings)
    assert (summary.retriaged, summary.failures) == (1, [])
    assert len(replies(settings)) == 1 and len(retriage_notes(handled)) == 1  # found by its key, not posted again
    history = [d["fields"].get("retriage") for d in StateStore.open(settings.state_url).item_state("1")["decisions"]]
    assert history[-1]["alert_ref"] == replies(settings)[0]["ts"]
