"""Replies in a thread and updates of a post: the Slack chat against the fake, and the outbox alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontline.connectors.local.outbox import OutboxChat
from frontline.connectors.slack.chat import SlackChat
from frontline.errors import ChannelRefusedError
from frontline.model import ChatMessage
from tests.connectors.test_slack import ALERT, CHANNELS, KEY, on_slack
from tests.fakes.slack import SlackFake
from tests.helpers import run

REPLY = ChatMessage(text="#9 the same again", blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "x"}},))
NEWER = ChatMessage(text="Incident · 6 customers",
                    blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "*6 customers*"}},))
REPLY_KEY = "fl-reply0000000000000000"


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    """A workspace with the four routed channels, the bot in each; no request may break the spec."""
    workspace = SlackFake()
    for name in CHANNELS:
        workspace.add_channel(name)
    yield workspace
    assert workspace.violations == [] and workspace.unknown == []


def test_a_reply_goes_into_the_thread_of_the_first_post_in_its_channel(fake: SlackFake) -> None:
    async def go(chat: SlackChat) -> tuple[str, str]:
        first = await chat.post("#billing", ALERT, KEY)
        return first, await chat.post("#engineering", REPLY, REPLY_KEY, thread=first)

    first, reply = on_slack(fake, go)
    [top] = fake.top_level("#billing")
    [answer] = fake.replies("#billing", top["ts"])
    assert answer["text"] == REPLY.text and reply.endswith(answer["ts"]) and first.endswith(top["ts"])
    assert fake.posted("#engineering") == []  # a reply is where its parent is
    assert answer["metadata"]["event_payload"]["idempotency_key"] == REPLY_KEY


def test_a_reply_posted_before_a_crash_is_found_in_its_thread(fake: SlackFake) -> None:
    first = on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    reply = on_slack(fake, lambda chat: chat.post("#billing", REPLY, REPLY_KEY, thread=first))

    async def after_restart(chat: SlackChat) -> tuple[str | None, str | None, str | None]:
        return (await chat.find_posted(REPLY_KEY), await chat.find_posted(REPLY_KEY + "x", thread=first),
                await chat.find_posted(REPLY_KEY, thread=first))

    # The channel's history lists no reply (as in Slack): only the thread's replies find it.
    unthreaded, missing, found = on_slack(fake, after_restart)
    assert unthreaded is None and missing is None and found == reply


def test_a_reply_whose_answer_was_lost_is_found_in_the_thread_instead_of_sent_again(fake: SlackFake) -> None:
    first = on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    fake.lost_answers = 1
    reply = on_slack(fake, lambda chat: chat.post("#billing", REPLY, REPLY_KEY, thread=first))
    [top] = fake.top_level("#billing")
    [answer] = fake.replies("#billing", top["ts"])
    assert reply.endswith(answer["ts"])


def test_an_update_replaces_the_text_and_blocks_of_a_post(fake: SlackFake) -> None:
    async def go(chat: SlackChat) -> None:
        ref = await chat.post("#billing", ALERT, KEY)
        await chat.update(ref, NEWER)

    on_slack(fake, go)
    [post] = fake.posted("#billing")
    assert post["text"] == NEWER.text and post["blocks"][0]["text"]["text"] == "*6 customers*"
    assert post["blocks"][0]["text"]["verbatim"] is True and "edited" in post
    assert post["metadata"]["event_payload"]["idempotency_key"] == KEY  # still found after a crash


def test_the_outbox_writes_a_reply_with_its_thread_and_an_update_as_chat_update(tmp_path: Path) -> None:
    outbox = OutboxChat(tmp_path / "outbox.jsonl")
    first = run(outbox.post("#billing", ALERT, KEY))
    reply = run(outbox.post("#engineering", REPLY, REPLY_KEY, thread=first))
    run(outbox.update(first, NEWER))
    entries = outbox.entries()
    assert [e["thread_ts"] for e in entries if "thread_ts" in e] == [first]
    assert entries[1]["channel"] == "#billing" and entries[1]["ts"] == reply
    assert entries[0]["text"] == ALERT.text and outbox.current(first)["text"] == NEWER.text  # type: ignore[index]
    again = OutboxChat(tmp_path / "outbox.jsonl")  # a restarted process
    assert run(again.find_posted(REPLY_KEY, thread=first)) == reply
    assert run(again.post("#billing", REPLY, REPLY_KEY, thread=first)) == reply and len(again.entries()) == 2
    with pytest.raises(ChannelRefusedError):
        run(again.update("1.5", NEWER))


def test_the_incidents_channel_is_among_those_searched_after_a_crash(tmp_path: Path) -> None:
    from frontline.connectors.slack.chat import channels_of
    from tests.helpers import make_settings

    assert "#incidents" not in channels_of(make_settings(tmp_path))
    assert channels_of(make_settings(tmp_path, '[incidents]\nchannel = "#incidents"\n'))[-1] == "#incidents"
