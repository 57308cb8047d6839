"""Digest alerts on a backlog: one message per channel for its low-severity tickets, exactly once, crash or not."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from frontline.config import Settings
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.outbox import OutboxChat
from frontline.engine.services import open_flow
from frontline.flows.digest import DIGEST_MAX, plan_digests
from frontline.flows.triage import RunSummary, TriageServices, run_triage
from frontline.model import ChatMessage, EffectStatus, effect_key
from frontline.store.state import StateStore
from tests.fakes.slack import _valid_blocks
from tests.helpers import make_settings, run

IDEAS = [{"id": f"{n}", "subject": f"Idea {n}", "description": f"Feature request: it would be great to have {thing}"}
         for n, thing in enumerate(("dark mode", "an API", "emoji", "exports to PDF", "SSO for guests",
                                    "a mobile app"), start=1)]
URGENT_IDEA = {"id": "7", "subject": "Idea 7",
               "description": "Feature request, urgent: it would be great to have audit logs"}
BUG = {"id": "8", "subject": "Export crashes", "description": "The CSV export crashes with an error every time"}
TICKETS = [*IDEAS, URGENT_IDEA, BUG]
# Seven requests written from one template read as one problem reported by seven customers, an incident
# whose alert these digest counts would take for a ticket's; incidents have tests of their own.
NO_INCIDENTS = "[incidents]\nenabled = false\n"
P3_IDEAS = {t["id"] for t in IDEAS}


class Killed(BaseException):
    """The process dies (nothing after this point runs)."""


@pytest.fixture
def digest_settings(workspace: Path) -> Settings:
    """Rules classifier; a channel with 3 or more alerts in a batch gets its P3 tickets as one digest."""
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n'
                                        '[runner]\ndigest_threshold = 3\ndigest_severities = ["P3"]\n' + NO_INCIDENTS)
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    return settings


def triage(settings: Settings, *, die: str | None = None) -> RunSummary:
    """One run; ``die`` "before" or "after" kills it around the digest's post."""
    async def go() -> RunSummary:
        async with open_flow("triage", settings) as services:
            if die is not None:
                _die_at_digest(services, die)
            return await run_triage(services)

    return run(go())


def _die_at_digest(services: TriageServices, when: str) -> None:
    real = services.chat.post
    alert_keys = {effect_key(services.flow, t["id"], "alert", "1") for t in TICKETS}

    async def post(channel: str, message: ChatMessage, key: str) -> str:
        if key in alert_keys:
            return await real(channel, message, key)
        if when == "before":
            raise Killed
        await real(channel, message, key)
        raise Killed

    services.chat.post = post  # type: ignore[method-assign]


def outbox(settings: Settings) -> list[dict[str, Any]]:
    return OutboxChat(settings.path(settings.local.outbox)).entries()


def digests(settings: Settings) -> list[dict[str, Any]]:
    return [e for e in outbox(settings) if "in one digest" in e["text"]]


def alerts_per_ticket(settings: Settings) -> Counter[str]:
    """How many messages name each ticket: its own alert, or a digest listing it."""
    counts: Counter[str] = Counter()
    for entry in outbox(settings):
        if "in one digest" in entry["text"]:
            counts.update(re.findall(r"#(\d+)", entry["text"].split(":", 1)[1]))
        else:
            counts[entry["text"].split("#", 2)[-1].split()[0]] += 1
    return counts


def alert_effects(settings: Settings) -> dict[str, tuple[str, str | None]]:
    store = StateStore.open(settings.state_url)
    try:
        keys = {effect_key("triage", t["id"], "alert", "1"): t["id"] for t in TICKETS}
        return {keys[k]: (e.status.value, e.remote_ref) for k, e in store.effects_by_key(keys).items()}
    finally:
        store.close()


def assert_once_each(settings: Settings) -> None:
    """Every ticket named by exactly one message; the P3 ideas by the one digest, whose ref their effects hold."""
    assert alerts_per_ticket(settings) == Counter({t["id"]: 1 for t in TICKETS})
    [digest] = digests(settings)
    assert digest["channel"] == "#product-feedback"
    assert set(re.findall(r"#(\d+)", digest["text"].split(":", 1)[1])) == P3_IDEAS
    effects = alert_effects(settings)
    assert all(status == EffectStatus.DONE.value for status, _ in effects.values())
    assert {ref for ticket, (_, ref) in effects.items() if ticket in P3_IDEAS} == {digest["ts"]}
    helpdesk = LocalHelpdesk.from_settings(settings)
    assert all(len(helpdesk.notes(t["id"])) == 1 for t in TICKETS)


def test_a_backlog_s_low_severity_alerts_go_out_as_one_digest_per_channel(digest_settings: Settings) -> None:
    summary = triage(digest_settings)
    assert summary.handled == len(TICKETS) and not summary.failures
    assert_once_each(digest_settings)
    [digest] = digests(digest_settings)
    assert _valid_blocks(digest["blocks"])  # what Slack accepts: ≤ 50 blocks, texts within their limits
    singles = {e["text"].split("#", 2)[-1].split()[0]: e["channel"] for e in outbox(digest_settings)
               if "in one digest" not in e["text"]}
    assert singles == {"7": "#product-feedback", "8": "#engineering"}  # P1 in the same channel stays alone
    again = triage(digest_settings)
    assert again.handled == 0 and len(outbox(digest_settings)) == 3


def test_below_the_threshold_every_ticket_keeps_its_own_alert(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[runner]\ndigest_threshold = 50\n'
                             + NO_INCIDENTS)
    LocalHelpdesk.from_settings(settings).upsert(TICKETS)
    triage(settings)
    assert digests(settings) == [] and len(outbox(settings)) == len(TICKETS)


def test_a_digest_posted_just_before_a_crash_is_found_not_posted_again(digest_settings: Settings) -> None:
    with pytest.raises(Killed):
        triage(digest_settings, die="after")
    assert len(digests(digest_settings)) == 1
    summary = triage(digest_settings)
    assert summary.handled == len(TICKETS) and not summary.failures
    assert_once_each(digest_settings)


def test_a_digest_that_never_left_is_sent_once_after_a_crash(digest_settings: Settings) -> None:
    with pytest.raises(Killed):
        triage(digest_settings, die="before")
    assert digests(digest_settings) == []
    summary = triage(digest_settings)
    assert summary.handled == len(TICKETS) and not summary.failures
    assert_once_each(digest_settings)


def test_a_ticket_in_a_digest_that_landed_gets_no_alert_of_its_own_when_digests_are_off_after_a_crash(
        digest_settings: Settings, workspace: Path) -> None:
    with pytest.raises(Killed):
        triage(digest_settings, die="after")
    config = workspace / "frontline.toml"
    config.write_text(config.read_text().replace("digest_threshold = 3", "digest_threshold = 0"))
    settings = make_settings(workspace, config.read_text().split("\n[local]")[0])
    summary = triage(settings)
    assert summary.handled == len(TICKETS) and not summary.failures
    assert_once_each(settings)  # the members' planned alerts pointed at the digest: found under its key


def test_digests_group_only_busy_channels_and_listed_severities() -> None:
    pending = [(f"b{n}", "#billing", "P3") for n in range(5)] + [("e1", "#eng", "P3"), ("e2", "#eng", "P3")]
    pending += [("b-urgent", "#billing", "P0")]
    assert plan_digests(pending, threshold=6, severities=["P3"]) == [("#billing", [f"b{n}" for n in range(5)])]
    assert plan_digests(pending, threshold=0, severities=["P3"]) == []
    many = [(f"t{n}", "#triage", "P2") for n in range(DIGEST_MAX + 3)]
    groups = plan_digests(many, threshold=10, severities=["P2"])
    assert [len(ids) for _, ids in groups] == [DIGEST_MAX, 3]
