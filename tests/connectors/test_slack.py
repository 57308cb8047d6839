"""The Slack chat against a stateful fake Web API over loopback sockets, every request checked by the spec."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from frontline.config import Settings, load_settings
from frontline.connectors.slack.chat import SlackChat, channels_of, verbatim
from frontline.connectors.slack.pacer import ChannelPacer
from frontline.credentials import Credential
from frontline.errors import AuthError, ChannelRefusedError, RateLimitedError, UnavailableError
from frontline.model import ChatMessage, Company, Ticket, Triage
from frontline.ports import Chat, Check, Diagnosable
from frontline.render import Renderer
from tests.fakes.base import serve
from tests.fakes.slack import SlackFake
from tests.helpers import make_settings, run

T = TypeVar("T")
CHANNELS = ("#engineering", "#billing", "#product-feedback", "#support-triage")
KEY = "fl-0123456789abcdef0123"
ALERT = ChatMessage(text="[P2] billing · #7 Charged twice",
                    blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "*Charged twice*"}},))


class Tokens:
    """A credentials provider handing out ``token``, and ``fresh`` when asked to refresh."""

    name = "test"

    def __init__(self, token: str = "xoxb-test", fresh: str | None = None) -> None:
        self.token = token
        self.fresh = fresh
        self.asked: list[bool] = []

    async def get(self, connector: str, *, refresh: bool = False) -> Credential:
        assert connector == "slack"
        self.asked.append(refresh)
        return Credential(self.fresh if refresh and self.fresh else self.token)


class FakeClock:
    """A monotonic clock that only moves when told; ``sleep`` records the wait and moves nothing."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    """A workspace with the four routed channels, the bot in each; no request may break the spec."""
    workspace = SlackFake()
    for name in CHANNELS:
        workspace.add_channel(name)
    yield workspace
    assert workspace.violations == []
    assert workspace.unknown == []


def on_slack(fake: SlackFake, scenario: Callable[[SlackChat], Awaitable[T]], *, tokens: Tokens | None = None,
             **options: Any) -> T:
    """Run ``scenario`` with a SlackChat pointed at ``fake`` served over loopback."""
    async def go(base: str) -> T:
        options.setdefault("interval", 0.0)
        chat = SlackChat(tokens or Tokens(), base_url=f"{base}/api/", channels=CHANNELS, **options)
        try:
            return await scenario(chat)
        finally:
            await chat.aclose()

    with serve(fake) as base:
        return run(go(base))


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text object's text in a Block Kit tree."""
    if isinstance(node, dict):
        own = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def posts(fake: SlackFake) -> int:
    return len(fake.sent("POST", r"/api/chat\.postMessage"))


# -- posting -----------------------------------------------------------------------------------------
def test_an_alert_posts_text_blocks_and_metadata_and_returns_the_channel_and_ts(fake: SlackFake,
                                                                               settings: Settings) -> None:
    ticket = Ticket("7", "Charged twice", "Our card was charged twice", company=Company("Acme", "pro", 250.0))
    message = Renderer(settings).alert(ticket, Triage("billing", "P2", "Double charge", "", 0.9, "rules"), [],
                                       review=False)
    ref = on_slack(fake, lambda chat: chat.post("#billing", message, KEY))
    [posted] = fake.posted("#billing")
    assert ref == f"{fake.named('billing').id}:{posted['ts']}"
    assert posted["text"] == message.text and "Charged twice" in posted["text"]
    assert posted["blocks"] == verbatim(list(message.blocks)) and posted["blocks"][0]["type"] == "header"
    assert posted["metadata"] == {"event_type": "frontline_alert", "event_payload": {"idempotency_key": KEY}}
    assert all(not m for c in ("#engineering", "#product-feedback", "#support-triage") for m in fake.posted(c))


def test_the_payload_is_the_one_the_outbox_writes(tmp_path: Path) -> None:
    from frontline.connectors.local.outbox import OutboxChat

    outbox = OutboxChat(tmp_path / "outbox.jsonl")
    run(outbox.post("#billing", ALERT, KEY))
    [entry] = outbox.entries()
    payload = SlackChat.payload("#billing", ALERT, KEY)
    for name in ("channel", "text", "metadata"):
        assert payload[name] == entry[name]
    assert payload["blocks"] == verbatim(entry["blocks"])


def test_posting_the_same_key_twice_posts_once(fake: SlackFake) -> None:
    async def twice(chat: SlackChat) -> tuple[str, str]:
        return await chat.post("#billing", ALERT, KEY), await chat.post("#billing", ALERT, KEY)

    first, second = on_slack(fake, twice)
    assert first == second and len(fake.posted("#billing")) == 1


def test_a_channel_without_the_bot_is_refused_naming_the_channel_and_the_invite(fake: SlackFake) -> None:
    fake.named("engineering").members.clear()
    with pytest.raises(ChannelRefusedError) as caught:
        on_slack(fake, lambda chat: chat.post("#engineering", ALERT, KEY))
    error = caught.value
    assert error.channel == "#engineering" and error.reason == "not_in_channel"
    assert "`/invite @frontline` in #engineering" in str(error)
    assert fake.posted("#engineering") == []


@pytest.mark.parametrize(("setup", "channel", "reason"), [
    (lambda fake: None, "#nowhere", "channel_not_found"),
    (lambda fake: fake.add_channel("secret", member=False, private=True), "#secret", "channel_not_found"),
    (lambda fake: setattr(fake.named("billing"), "archived", True), "#billing", "is_archived"),
])
def test_unknown_private_and_archived_channels_are_refused(fake: SlackFake, setup: Callable[[SlackFake], Any],
                                                           channel: str, reason: str) -> None:
    setup(fake)
    with pytest.raises(ChannelRefusedError) as caught:
        on_slack(fake, lambda chat: chat.post(channel, ALERT, KEY))
    assert caught.value.reason == reason and channel in str(caught.value) and "/invite @frontline" in str(caught.value)


# -- escaping -----------------------------------------------------------------------------------------
def test_ticket_text_cannot_ping_anyone_or_inject_markup(fake: SlackFake, settings: Settings) -> None:
    hostile = "@channel <!here> <script>alert(1)</script> <@U999> <!subteam^S1|devs> @everyone & co"
    ticket = Ticket("<!channel>", hostile, hostile, company=Company("<!everyone> Inc", "pro", 10.0))
    triage = Triage("bug", "P1", f"Summary: {hostile}", "", 0.8, "rules", reasons=(hostile,))
    message = Renderer(settings).alert(ticket, triage, [], review=True)
    on_slack(fake, lambda chat: chat.post("#engineering", message, KEY))
    [posted] = fake.posted("#engineering")
    assert fake.pings(posted) == []
    parsed = [posted["text"], *mrkdwn_texts(posted["blocks"])]  # where Slack reads markup (not plain_text)
    assert len(parsed) >= 5
    for raw in ("<!here>", "<!channel>", "<!everyone>", "<script>", "<@U999>", "<!subteam"):
        assert not any(raw in text for text in parsed)
    assert "&lt;!here&gt;" in posted["text"] and "&amp; co" in posted["text"]


def test_the_ping_check_does_catch_unescaped_mentions(fake: SlackFake) -> None:
    raw = ChatMessage(text="<!here> look", blocks=({"type": "section", "text": {"type": "mrkdwn", "verbatim": False,
                                                                             "text": "@channel <@U999>"}},))
    on_slack(fake, lambda chat: chat.post("#engineering", raw, KEY))
    assert sorted(fake.pings(fake.posted("#engineering")[0])) == ["!here", "@U999", "@channel"]


def test_bare_mentions_stay_text_even_in_a_user_template_without_verbatim(fake: SlackFake) -> None:
    custom = ChatMessage(text="@here new ticket",
                         blocks=({"type": "section", "text": {"type": "mrkdwn", "text": "@channel look"}},))
    on_slack(fake, lambda chat: chat.post("#engineering", custom, KEY))
    [posted] = fake.posted("#engineering")
    assert fake.pings(posted) == [] and posted["blocks"][0]["text"]["verbatim"] is True


# -- crash recovery ------------------------------------------------------------------------------------
def test_find_posted_finds_an_alert_posted_before_a_crash_and_none_otherwise(fake: SlackFake) -> None:
    ref = on_slack(fake, lambda chat: chat.post("#product-feedback", ALERT, KEY))

    async def after_restart(chat: SlackChat) -> tuple[str | None, str | None, str | None]:
        return await chat.find_posted(KEY), await chat.find_posted("fl-never-posted"), \
            await chat.find_posted("fl-also-never")

    found, missing, also_missing = on_slack(fake, after_restart)
    assert found == ref and missing is None and also_missing is None
    histories = fake.sent("GET", r"/api/conversations\.history")
    # one scan of each channel the bot is in answers every key: later misses read nothing again
    assert len(histories) == len(CHANNELS)
    assert all(r.url.params["include_all_metadata"] == "1" and r.url.params.get("oldest") for r in histories)


def test_find_posted_reads_no_further_back_than_its_page_bound(fake: SlackFake) -> None:
    billing = fake.named("billing")
    on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))  # the oldest message in the channel
    for number in range(450):
        billing.messages.append({"type": "message", "text": f"chatter {number}", "ts": fake._ts(),
                                 "user": "U0PERSON01"})
    found = on_slack(fake, lambda chat: chat.find_posted(KEY), recovery_pages=2)
    reads = [r for r in fake.sent("GET", r"/api/conversations\.history") if r.url.params["channel"] == billing.id]
    assert found is None and len(reads) == 2  # 400 newest messages read; the alert is 451st
    assert on_slack(fake, lambda chat: chat.find_posted(KEY), recovery_pages=3) is not None


def test_find_posted_skips_channels_the_bot_is_not_in(fake: SlackFake) -> None:
    fake.named("engineering").members.clear()
    assert on_slack(fake, lambda chat: chat.find_posted(KEY)) is None
    read = {r.url.params["channel"] for r in fake.sent("GET", r"/api/conversations\.history")}
    assert fake.named("engineering").id not in read and len(read) == len(CHANNELS) - 1


def test_a_later_scan_reads_only_what_is_newer_than_the_last_one(fake: SlackFake) -> None:
    clock = FakeClock()
    billing = fake.named("billing")
    on_slack(fake, lambda chat: chat.post("#billing", ALERT, "fl-earlier"))
    earlier = billing.messages[-1]["ts"]

    async def recover(chat: SlackChat) -> tuple[str | None, str | None]:
        before = await chat.find_posted(KEY)  # nothing yet: every channel read once
        await chat.api.call("chat.postMessage", partial(AsyncWebClient.chat_postMessage, channel="#billing",
                                                        text="from another worker",
                                                        metadata={"event_type": "frontline_alert",
                                                                  "event_payload": {"idempotency_key": KEY}}))
        clock.now += 31.0  # past RESCAN_SECONDS
        return before, await chat.find_posted(KEY)

    before, after = on_slack(fake, recover, clock=clock, sleep=clock.sleep)
    assert before is None and after == f"{billing.id}:{billing.messages[-1]['ts']}"
    reads = [r for r in fake.sent("GET", r"/api/conversations\.history") if r.url.params["channel"] == billing.id]
    assert len(reads) == 2 and reads[1].url.params["oldest"] == earlier  # from the newest message already read


def test_a_post_whose_answer_was_lost_is_found_instead_of_sent_again(fake: SlackFake) -> None:
    fake.lost_answers = 1
    ref = on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    [posted] = fake.posted("#billing")
    assert ref.endswith(posted["ts"]) and posts(fake) == 1


# -- pacing ----------------------------------------------------------------------------------------------
def test_the_pacer_spaces_one_channel_and_not_different_channels() -> None:
    clock = FakeClock()
    pacer = ChannelPacer(1.0, clock=clock, sleep=clock.sleep)

    async def burst() -> list[float]:
        return list(await asyncio.gather(pacer.wait("#billing"), pacer.wait("#billing"), pacer.wait("#Billing"),
                                         pacer.wait("#engineering")))

    assert run(burst()) == [0.0, 1.0, 2.0, 0.0]
    clock.now += 5.0  # long after the burst: no wait
    assert run(pacer.wait("billing")) == 0.0


def test_posts_to_one_channel_are_paced_while_other_channels_go_at_once(fake: SlackFake) -> None:
    clock = FakeClock()

    async def burst(chat: SlackChat) -> list[str]:
        return list(await asyncio.gather(*(chat.post("#billing", ALERT, f"fl-b{n}") for n in range(3)),
                                         chat.post("#engineering", ALERT, "fl-e0")))

    refs = on_slack(fake, burst, interval=1.0, clock=clock, sleep=clock.sleep)
    assert len(set(refs)) == 4 and len(fake.posted("#billing")) == 3 and len(fake.posted("#engineering")) == 1
    assert sorted(clock.slept) == [1.0, 2.0]  # the 2nd and 3rd #billing posts; #engineering did not wait


# -- failures ---------------------------------------------------------------------------------------------
def test_a_429_waits_its_retry_after_then_posts_once(fake: SlackFake) -> None:
    clock = FakeClock()
    fake.fail(429, headers={"Retry-After": "7"}, on=r"POST /api/chat\.postMessage")
    on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY), clock=clock, sleep=clock.sleep)
    assert posts(fake) == 2 and len(fake.posted("#billing")) == 1
    assert clock.slept == [7.0]  # the channel was held back for exactly Retry-After


def test_a_very_long_retry_after_is_not_waited_out(fake: SlackFake) -> None:
    fake.fail(429, headers={"Retry-After": "3600"}, on=r"POST /api/chat\.postMessage")
    with pytest.raises(RateLimitedError) as caught:
        on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    assert caught.value.retry_after == 3600 and posts(fake) == 1


def test_server_errors_are_retried_and_bounded(fake: SlackFake) -> None:
    fake.fail(503, on=r"POST /api/chat\.postMessage")
    on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    assert len(fake.posted("#billing")) == 1
    fake.fail(500, times=50)
    with pytest.raises(UnavailableError, match=r"server error on chat\.postMessage"):
        on_slack(fake, lambda chat: chat.post("#billing", ALERT, "fl-other"))


def test_a_revoked_token_is_an_auth_error_saying_how_to_fix_it(fake: SlackFake) -> None:
    fake.tokens["xoxb-test"] = "revoked"
    with pytest.raises(AuthError) as caught:
        on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))
    assert "token_revoked" in str(caught.value) and "SLACK_BOT_TOKEN" in str(caught.value)
    assert "reinstall" in str(caught.value) and fake.posted("#billing") == []


def test_a_rejected_token_is_refreshed_once_by_the_provider(fake: SlackFake) -> None:
    tokens = Tokens("xoxb-expired", fresh="xoxb-test")
    on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY), tokens=tokens)
    assert tokens.asked == [False, True] and len(fake.posted("#billing")) == 1


def test_a_missing_scope_is_an_auth_error_naming_it(fake: SlackFake) -> None:
    fake.scopes.discard("chat:write")
    with pytest.raises(AuthError, match="chat:write"):
        on_slack(fake, lambda chat: chat.post("#billing", ALERT, KEY))


def test_an_unreachable_slack_is_unavailable_not_a_crash() -> None:
    async def go() -> None:
        chat = SlackChat(Tokens(), base_url="http://127.0.0.1:9/api/", channels=CHANNELS, interval=0.0)
        try:
            await chat.post("#billing", ALERT, KEY)
        finally:
            await chat.aclose()

    with pytest.raises(UnavailableError, match="did not get through"):
        run(go())


# -- doctor ------------------------------------------------------------------------------------------------
def test_diagnose_reports_the_bot_and_each_channel_it_is_missing_from(fake: SlackFake) -> None:
    fake.named("engineering").members.clear()
    fake.scopes.discard("channels:history")
    checks = on_slack(fake, lambda chat: chat.diagnose())
    assert checks[0] == Check("chat slack", True, "ACTIVE: team Acme Support, bot @frontline (U0BOT00001)")
    by_detail = {c.detail: c for c in checks}
    missing = by_detail["bot not in #engineering"]
    assert not missing.ok and missing.fix == "/invite @frontline in #engineering"
    assert any(not c.ok and "channels:history" in c.detail for c in checks)
    assert [c.detail for c in checks if c.ok][1:] == ["bot is in #billing", "bot is in #product-feedback",
                                                      "bot is in #support-triage"]


def test_diagnose_never_raises_for_a_bad_token_or_a_missing_channel(fake: SlackFake) -> None:
    fake.tokens["xoxb-test"] = "inactive"
    [check] = on_slack(fake, lambda chat: chat.diagnose())
    assert not check.ok and "account_inactive" in check.detail and "SLACK_BOT_TOKEN" in check.fix
    fake.tokens["xoxb-test"] = "active"
    fake.channels.pop(fake.named("product-feedback").id)
    checks = on_slack(fake, lambda chat: chat.diagnose())
    assert any(not c.ok and c.detail == "no channel #product-feedback is visible to the bot" for c in checks)


# -- contract and wiring ------------------------------------------------------------------------------------
def test_the_contract_catches_a_wrong_argument_name() -> None:
    fake = SlackFake()
    fake.add_channel("billing")

    async def go(base: str) -> list[str]:
        async with aiohttp.ClientSession() as session:
            client = AsyncWebClient(token="xoxb-test", base_url=f"{base}/api/", session=session, retry_handlers=[])
            refused = []
            for call in (client.chat_postMessage(channel="#billing", text="hi", link_name=True),
                         client.conversations_history(channel="C000000001", oldest_ts="1"),
                         client.api_call("conversations.list", http_verb="GET", params={"limit": "many"})):
                try:
                    await call
                except SlackApiError as error:
                    refused.append(error.response.status_code)
            return refused

    with serve(fake) as base:
        assert run(go(base)) == [400, 400, 400]
    assert len(fake.violations) == 3
    assert re.search(r"link_name: not a property", fake.violations[0])
    assert "oldest_ts" in fake.violations[1] and "limit" in fake.violations[2]
    assert fake.posted("#billing") == []


def test_from_settings_reads_the_base_url_override_and_the_routed_channels(workspace: Path) -> None:
    make_settings(workspace, '[slack]\nchannel_interval_seconds = 0.25\n')
    settings = load_settings(workspace / "frontline.toml", dotenv=None,
                             environ={"SLACK_BASE_URL": "http://127.0.0.1:1234/api", "SLACK_BOT_TOKEN": "xoxb-x"})
    chat = SlackChat.from_settings(settings, credentials=Tokens(), http=object(), echo=None)
    assert chat.api.base_url == "http://127.0.0.1:1234/api/" and chat.pacer.interval == 0.25
    assert chat.channels == channels_of(settings) == CHANNELS
    assert isinstance(chat, Chat) and isinstance(chat, Diagnosable)
    run(chat.aclose())


def test_a_session_from_outside_is_used_and_left_open(fake: SlackFake) -> None:
    async def go(base: str) -> bool:
        async with aiohttp.ClientSession() as session:
            chat = SlackChat(Tokens(), base_url=f"{base}/api/", session=session, interval=0.0)
            await chat.post("#billing", ALERT, KEY)
            await chat.aclose()
            return session.closed

    with serve(fake) as base:
        assert run(go(base)) is False
    assert len(fake.posted("#billing")) == 1


def test_doctor_reaches_the_slack_lines_through_the_registered_connector(fake: SlackFake, workspace: Path) -> None:
    from frontline.doctor import diagnose

    fake.named("billing").members.clear()
    make_settings(workspace, '[classifier]\nkind = "rules"\n[connectors]\nchat = "slack"\n')
    with serve(fake) as base:
        settings = load_settings(workspace / "frontline.toml", dotenv=None,
                                 environ={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_BASE_URL": f"{base}/api"})
        checks = [c for c in run(diagnose(settings)) if c.connector == "chat slack"]
    assert checks[0].ok and checks[0].detail.startswith("ACTIVE: team Acme Support")
    failed = [(c.detail, c.fix) for c in checks if not c.ok]
    assert failed == [("bot not in #billing", "/invite @frontline in #billing")]


# -- Scalekit tools ------------------------------------------------------------------------------------
def test_a_configured_scalekit_tool_posts_the_same_arguments_and_its_errors_mean_the_same(fake: SlackFake) -> None:
    ran: list[tuple[str, dict[str, Any]]] = []

    async def tool(name: str, arguments: Any) -> dict[str, Any]:
        ran.append((name, dict(arguments)))
        if arguments["channel"] == "#billing":
            return {"ok": False, "error": "not_in_channel"}
        return {"ok": True, "channel": "C000000001", "ts": "1700000000.000100"}

    async def scenario(chat: SlackChat) -> tuple[str, BaseException | None]:
        ref = await chat.post("#engineering", ALERT, KEY)
        try:
            await chat.post("#billing", ALERT, "fl-other")
        except ChannelRefusedError as error:
            return ref, error
        return ref, None

    ref, refused = on_slack(fake, scenario, tool=("slack_send_message", tool))
    assert ref == "C000000001:1700000000.000100" and posts(fake) == 0  # nothing went through the Web API
    name, arguments = ran[0]
    assert name == "slack_send_message" and arguments["channel"] == "#engineering"
    assert f'"idempotency_key": "{KEY}"' in arguments["metadata"] and arguments["text"] == ALERT.text
    assert isinstance(refused, ChannelRefusedError) and "/invite @frontline" in str(refused)


def test_the_tool_is_only_used_when_configured_for_a_scalekit_provider(workspace: Path) -> None:
    class ScalekitLike(Tokens):
        async def execute_tool(self, connector: str, tool: str, params: Any) -> dict[str, Any]:
            return {"ok": True, "connector": connector, "tool": tool}

    plain = make_settings(workspace)
    assert SlackChat.from_settings(plain, credentials=ScalekitLike())._tool is None
    configured = make_settings(workspace, '[scalekit.tools]\n"slack.post_message" = "slack_send_message"\n')
    chat = SlackChat.from_settings(configured, credentials=ScalekitLike())
    assert chat._tool is not None and chat._tool[0] == "slack_send_message"
    assert run(chat._tool[1]("slack_send_message", {})) == {"ok": True, "connector": "slack",
                                                             "tool": "slack_send_message"}
    run(chat.aclose())
