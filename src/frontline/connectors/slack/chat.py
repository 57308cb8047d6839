"""Slack as the chat: Block Kit alerts through the official SDK's async client (``slack_sdk``).

- ``post`` sends ``chat.postMessage`` with channel, text (the notification fallback), blocks and
  metadata carrying the idempotency key: the same arguments the outbox writes. Ticket text is
  escaped by the renderer (``&``, ``<``, ``>``); on top of that ``link_names`` is off and every
  mrkdwn text object is ``verbatim``, so a bare ``@channel`` in a ticket stays text.
- Pacing: Slack takes about one message per second per channel; with the process's rate budgets
  (``budget``, see :mod:`frontline.runtime.budgets`) each channel has a token bucket, shared by
  every worker, and each Web API method its tier's; without them :class:`ChannelPacer` spaces posts
  to one channel and lets other channels go at once. A 429 on a channel holds that channel back.
- A post that failed after it may have been sent (timeout, 5xx) is looked for in the channel
  before it is sent again, so a retry does not double an alert.
- ``post(..., thread=REF)`` replies in the thread of the post ``REF`` (``thread_ts``, in that post's
  channel); ``update`` edits a post (``chat.update``: an incident alert kept current).
- ``find_posted`` reads the routed channels' recent history for the key's metadata (bounded: see it);
  a reply is looked for in its thread (``conversations.replies``).
- ``diagnose`` checks the token (team, bot, scopes) and the bot's membership of every routed channel.

Calls, retries and the meaning of Slack's error codes live in :mod:`frontline.connectors.slack.api`.
The SDK runs on aiohttp, so the HTTP client handed in from outside is an ``aiohttp.ClientSession``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import aiohttp
import stamina
from slack_sdk.web.async_client import AsyncWebClient

from frontline.connectors.http import Budget
from frontline.connectors.local.outbox import METADATA_EVENT
from frontline.connectors.slack.api import (
    ATTEMPTS,
    DEFAULT_BASE_URL,
    MAX_RETRY_AFTER,
    RETRY_TIMEOUT,
    SlackBot,
    SlackChannel,
    SlackWebAPI,
    retry_on,
)
from frontline.connectors.slack.pacer import ChannelPacer, Clock, Sleep
from frontline.connectors.slack.package import SLACK
from frontline.errors import FrontlineError, RateLimitedError, UnavailableError
from frontline.model import ChatMessage
from frontline.ports import Check
from frontline.render import console_line

if TYPE_CHECKING:
    from frontline.config import Settings
    from frontline.credentials import Credentials
    from frontline.runtime.budgets import BudgetBook

CHECK = "chat slack"
HISTORY_PAGE = 200
RESCAN_SECONDS = 30.0  # one history scan of a channel answers every find_posted for this long
NEEDED_SCOPES = ("chat:write", "channels:read", "channels:history")


ToolRunner = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]
"""Runs a named Scalekit tool with arguments for this connector's account; returns its output."""

def reference(channel_id: str, ts: str) -> str:
    """A posted message's reference: ``CHANNEL_ID:TS``."""
    return f"{channel_id}:{ts}"


def parse_reference(ref: str) -> tuple[str, str] | None:
    """(channel id, ts) of a reference :func:`reference` made, or None for anything else (a digest's)."""
    channel, _, ts = ref.partition(":")
    return (channel, ts) if channel and ts else None


def verbatim(node: Any) -> Any:
    """A copy of Block Kit ``node`` with every mrkdwn text object ``verbatim`` unless it says otherwise.

    Verbatim text keeps Slack from turning a bare ``@channel`` or ``#name`` into a mention or link;
    escaped text and manual ``<url|label>`` links render as before.
    """
    if isinstance(node, Mapping):
        out = {key: verbatim(value) for key, value in node.items()}
        if out.get("type") == "mrkdwn" and "text" in out:
            out.setdefault("verbatim", True)
        return out
    if isinstance(node, list | tuple):
        return [verbatim(item) for item in node]
    return node


def channels_of(settings: Settings) -> tuple[str, ...]:
    """Every channel triage may post to: the routing map's channels, the fallback, and its incidents' channel."""
    try:
        incidents = str(getattr(settings.section("incidents"), "channel", "") or "")
    except FrontlineError:  # the section's package is not installed
        incidents = ""
    extra = (incidents,) if incidents else ()
    return tuple(dict.fromkeys((*settings.routing.channels.values(), settings.routing.fallback, *extra)))


def escalation_channels_of(settings: Settings) -> tuple[str, ...]:
    """Every channel the escalate flow may post to: P0, P1 and its fallback."""
    routing = settings.escalation.routing
    return tuple(dict.fromkeys((routing.P0, routing.P1, routing.fallback)))


def _failed(error: BaseException) -> Check:
    if isinstance(error, FrontlineError):
        hint = getattr(error, "hint", "")
        return Check(CHECK, False, str(error).removesuffix(f". {hint}") if hint else str(error), hint)
    return Check(CHECK, False, f"{type(error).__name__}: {error}")


class SlackChat:
    """Posts alerts to Slack channels with the Web API."""

    name = "slack"

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        channels: Iterable[str] = (),
        interval: float = 1.0,
        budget: Budget | None = None,
        session: aiohttp.ClientSession | None = None,
        recovery_hours: float = 72.0,
        recovery_pages: int = 3,
        echo: Callable[[str], None] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall: Clock = time.time,
        tool: tuple[str, ToolRunner] | None = None,
        also_searched: Iterable[str] = (),
    ) -> None:
        self.api = SlackWebAPI(credentials, base_url=base_url, session=session, budget=budget)
        self._tool = tool  # (tool name, runner): posts go through a Scalekit tool instead of the Web API
        self.channels = tuple(dict.fromkeys(channels))  # where find_posted looks and diagnose checks
        # find_posted also looks where the other flows post (escalation alerts): an alert posted there
        # before a crash must be found, not posted again.
        self._searched = tuple(dict.fromkeys((*self.channels, *also_searched)))
        self.pacer = ChannelPacer(interval, clock=clock, sleep=sleep)
        self._echo = echo
        self._clock = clock
        self._wall = wall
        self._window = recovery_hours * 3600.0
        self._pages = recovery_pages
        self._posted: dict[str, str] = {}  # idempotency key → reference: posted here or seen in a scan
        self._scanned: dict[str, float] = {}  # channel id → clock of its last full scan
        self._newest: dict[str, float] = {}  # channel id → newest ts a full scan read: where the next starts
        self._scan_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, credentials: Credentials,
                      session: aiohttp.ClientSession | None = None, echo: Callable[[str], None] | None = None,
                      budgets: BudgetBook | None = None, **_: Any) -> SlackChat:
        """The Web API at ``[slack] base_url`` (``SLACK_BASE_URL``) with the ``slack`` token.

        With ``budgets`` posts and calls wait for the workspace's budgets (per channel, per method).
        """
        slack = settings.slack
        tool = None
        tool_name = settings.scalekit.tools.get("slack.post_message")
        runner = getattr(credentials, "execute_tool", None)
        if tool_name and callable(runner):
            tool = (tool_name, partial(runner, "slack"))
        budget = SLACK.budget(budgets, slack) if budgets is not None else None
        return cls(credentials, base_url=slack.base_url, channels=channels_of(settings), budget=budget,
                   interval=slack.channel_interval_seconds, session=session, recovery_hours=slack.recovery_hours,
                   recovery_pages=slack.recovery_pages, echo=echo, tool=tool,
                   also_searched=escalation_channels_of(settings))

    # -- posting ---------------------------------------------------------------------------------
    @staticmethod
    def payload(channel: str, message: ChatMessage, key: str, thread_ts: str | None = None) -> dict[str, Any]:
        """The exact ``chat.postMessage`` arguments for one alert (a reply when ``thread_ts`` is given)."""
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        return {
            **extra,
            "channel": channel,
            "text": message.text,
            "blocks": verbatim(list(message.blocks)),
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"idempotency_key": key}},
            "link_names": False,  # a bare @channel or @name in ticket text must not become a mention
            "unfurl_links": False,  # links quoted from a ticket are not fetched and previewed
            "unfurl_media": False,
        }

    async def post(self, channel: str, message: ChatMessage, key: str, thread: str | None = None) -> str:
        """Post the alert to ``channel`` and return ``CHANNEL_ID:TS``; ChannelRefusedError when refused.

        With ``thread`` (a reference this adapter returned) the alert is a reply in that post's
        thread, in the post's channel.
        """
        if key in self._posted:
            return self._posted[key]
        parent = parse_reference(thread) if thread else None
        if parent is not None:
            channel = parent[0]
        thread_ts = parent[1] if parent is not None else None
        send = partial(AsyncWebClient.chat_postMessage, **self.payload(channel, message, key, thread_ts))
        started = self._wall()
        may_have_landed = False
        async for attempt in stamina.retry_context(on=retry_on, attempts=ATTEMPTS, timeout=RETRY_TIMEOUT):
            with attempt:
                if may_have_landed:  # the last try failed after sending: was it posted after all?
                    found = (await self._in_thread(parent[0], parent[1], key) if parent is not None
                             else await self._landed(channel, key, started))
                    if found is not None:
                        return found
                if self.api.budget is None:
                    await self.pacer.wait(channel)
                elif self._tool is not None:  # a Scalekit tool posts: the channel's budget still applies
                    await self.api.acquire("chat.postMessage", channel)
                try:
                    if self._tool is not None:
                        data = await self._post_with_tool(channel, message, key, thread_ts)
                    else:
                        data = await self.api.call("chat.postMessage", send, retry=False, channel=channel)
                except RateLimitedError as error:
                    # With a budget the Web API layer already paused the channel's bucket.
                    if error.retry_after <= MAX_RETRY_AFTER and self.api.budget is None:
                        self.pacer.penalise(channel, error.retry_after)
                    raise
                except UnavailableError:
                    may_have_landed = True
                    raise
                ref = reference(str(data.get("channel") or channel), str(data.get("ts") or ""))
                self._posted[key] = ref
                if self._echo is not None:
                    self._echo(f"{channel}  {console_line(message)}")
                return ref
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def _post_with_tool(self, channel: str, message: ChatMessage, key: str,
                              thread_ts: str | None = None) -> dict[str, Any]:
        """Post through the configured Scalekit tool; its answer is Slack's, errors mean what Slack's do."""
        assert self._tool is not None
        name, run = self._tool
        payload = self.payload(channel, message, key, thread_ts)
        # Tools take flat string arguments: the structured ones travel as JSON text, as Slack accepts them.
        arguments = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in payload.items()}
        data = await run(name, arguments)
        if data.get("ok") is False:
            raise await self.api.error_for("chat.postMessage", str(data.get("error") or ""), channel)
        return data

    async def _landed(self, channel: str, key: str, since: float) -> str | None:
        """The post carrying ``key`` in ``channel`` since ``since``, if it landed; None when unsure."""
        try:
            found = await self.api.channel(channel)
            if found is not None:
                await self._scan(found.id, since - 5.0, pages=1)
        except FrontlineError:
            return None  # cannot tell: sending again risks a duplicate rather than losing the alert
        return self._posted.get(key)

    async def update(self, ref: str, message: ChatMessage) -> None:
        """Replace the text and blocks of the post ``ref`` (``chat.update``; its metadata stays)."""
        found = parse_reference(ref)
        if found is None:
            raise ValueError(f"{ref!r} is not a Slack message reference (CHANNEL_ID:TS)")
        channel, ts = found
        await self.api.call("chat.update", partial(
            AsyncWebClient.chat_update, channel=channel, ts=ts, text=message.text,
            blocks=verbatim(list(message.blocks))))

    async def _in_thread(self, channel_id: str, thread_ts: str, key: str) -> str | None:
        """The reply carrying ``key`` in the thread of ``thread_ts``, if it landed; None when unsure."""
        try:
            cursor: str | None = None
            for _ in range(self._pages):
                data = await self.api.call("conversations.replies", partial(
                    AsyncWebClient.conversations_replies, channel=channel_id, ts=thread_ts, limit=HISTORY_PAGE,
                    include_all_metadata=True, cursor=cursor))
                self._remember(channel_id, data.get("messages") or [])
                cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
                if not data.get("has_more") or cursor is None:
                    break
        except FrontlineError:
            return None
        return self._posted.get(key)

    def _remember(self, channel_id: str, messages: Iterable[Mapping[str, Any]]) -> float:
        """Note the key of every frontline post among ``messages``; the newest ts seen."""
        newest = 0.0
        for message in messages:
            ts = str(message.get("ts") or "")
            try:
                newest = max(newest, float(ts))
            except ValueError:
                continue
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT:
                posted = (metadata.get("event_payload") or {}).get("idempotency_key")
                if isinstance(posted, str):
                    self._posted.setdefault(posted, reference(channel_id, ts))
        return newest

    # -- crash recovery ----------------------------------------------------------------------------
    async def find_posted(self, key: str, thread: str | None = None) -> str | None:
        """The reference of an earlier alert carrying ``key``, if any (crash recovery).

        Bounded: the candidates are the routing channels, the escalation channels and the fallbacks the
        bot is a member of;
        each is read newest first with ``conversations.history`` (``include_all_metadata``) back to
        ``[slack] recovery_hours`` ago, at most ``recovery_pages`` pages of 200 messages. Every key
        seen is remembered, so one scan answers all the keys of a recovering run: at most
        channels × pages history calls per ``RESCAN_SECONDS``, however many keys are asked, and a
        later scan reads only what is newer than the last one. Raises when the channels cannot be
        listed or one cannot be read (the flow then posts again rather than lose the alert).

        Needs ``channels:read`` and ``channels:history`` (``groups:*`` for private channels). Slack
        caps commercially distributed apps outside the Marketplace at 15 messages per history page,
        which shrinks the reach of ``recovery_pages`` accordingly.

        A reply (``thread``: its parent's reference) is looked for in that thread
        (``conversations.replies``), which the channel's history does not list.
        """
        if key in self._posted:
            return self._posted[key]
        parent = parse_reference(thread) if thread else None
        if parent is not None:
            return await self._in_thread(parent[0], parent[1], key)
        async with self._scan_lock:
            if key in self._posted:
                return self._posted[key]
            floor = self._wall() - self._window
            unread: FrontlineError | None = None
            for name in self._searched:
                found = await self.api.channel(name)
                if found is None or not found.member:
                    continue  # the bot cannot have posted where it is not
                last = self._scanned.get(found.id)
                if last is not None and self._clock() - last < RESCAN_SECONDS:
                    continue
                try:
                    newest = await self._scan(found.id, max(floor, self._newest.get(found.id, floor)),
                                              pages=self._pages)
                except FrontlineError as error:
                    unread = unread or error  # read the other channels; "not posted" would be a guess
                    continue
                self._scanned[found.id] = self._clock()
                self._newest[found.id] = max(self._newest.get(found.id, 0.0), newest)
                if key in self._posted:
                    return self._posted[key]
            if unread is not None:
                raise unread
        return self._posted.get(key)

    async def _scan(self, channel_id: str, oldest: float, *, pages: int) -> float:
        """Remember every frontline alert in ``channel_id`` newer than ``oldest`` (newest first, ``pages`` at most).

        Returns the newest ts read, where an incremental scan may start once this one read back to ``oldest``.
        """
        newest = oldest
        cursor: str | None = None
        for _ in range(pages):
            data = await self.api.call("conversations.history", partial(
                AsyncWebClient.conversations_history, channel=channel_id, oldest=f"{oldest:.6f}",
                limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor))
            newest = max(newest, self._remember(channel_id, data.get("messages") or []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not data.get("has_more") or cursor is None:
                break
        return newest

    # -- doctor ---------------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """``auth.test`` (team and bot), the token's scopes, and the bot's membership of every routed channel."""
        try:
            bot = await self.api.whoami(strict=True)
            assert bot is not None
        except Exception as error:  # a setup problem is a failed line, never a crash
            return [_failed(error)]
        checks = [Check(CHECK, True, f"ACTIVE: team {bot.team}, bot @{bot.name} ({bot.user_id})")]
        if bot.scopes is not None and "channels:read" not in bot.scopes:
            lacking = ", ".join(scope for scope in NEEDED_SCOPES if scope not in bot.scopes)
            # Channel membership cannot be listed without channels:read: one line says it all.
            return [*checks, Check(CHECK, False, f"the token lacks {lacking}: channels cannot be listed, so the "
                                   "bot's membership of the routed channels is unknown",
                                   f"Add {lacking} under OAuth & Permissions → Bot Token Scopes, then reinstall "
                                   "the app")]
        if bot.scopes is not None:
            missing = [scope for scope in NEEDED_SCOPES if scope not in bot.scopes]
            if missing:
                checks.append(Check(CHECK, False, f"the token lacks {', '.join(missing)} (chat:write posts alerts; "
                                    "channels:read and channels:history find them again after a crash)",
                                    f"Add {', '.join(missing)} under OAuth & Permissions → Bot Token Scopes, then "
                                    "reinstall the app"))
        try:
            await self.api.channels(fresh=True)
            for name in self.channels:
                checks.append(_membership(name, await self.api.channel(name), bot))
        except Exception as error:
            checks.append(_failed(error))
        return checks

    async def aclose(self) -> None:
        """Close the aiohttp session when this adapter opened it."""
        await self.api.aclose()


def _membership(name: str, channel: SlackChannel | None, bot: SlackBot) -> Check:
    invite = f"/invite @{bot.name} in {name}"
    if channel is None:
        return Check(CHECK, False, f"no channel {name} is visible to the bot",
                     f"Create {name} (a private channel needs {invite}) or fix [routing] channels")
    if channel.archived:
        return Check(CHECK, False, f"{name} is archived", f"Unarchive it and {invite}, or fix [routing] channels")
    if not channel.member:
        return Check(CHECK, False, f"bot not in {name}", invite)
    return Check(CHECK, True, f"bot is in {name}")
