"""The Slack Web API as the Slack chat sees it: the SDK's async client, bounded retries, errors with data.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": CODE}``; the SDK raises
``SlackApiError`` for them. Here they become the error tree, each saying what to do next:

- ``ratelimited`` (429) → ``RateLimitedError`` with ``Retry-After``, retried after exactly that wait;
- 5xx, ``fatal_error``, timeouts, dropped connections → ``UnavailableError``, retried with backoff;
- ``invalid_auth``/``token_revoked``/``account_inactive``/``not_authed`` → ``AuthError`` (a rejected
  token is first refreshed once: a rotated Scalekit token recovers, an environment token cannot);
- ``missing_scope`` → ``AuthError`` naming the scope Slack says is needed;
- ``not_in_channel``/``channel_not_found``/``is_archived`` on a post → ``ChannelRefusedError`` with
  the ``/invite @bot in #channel`` to type.

Retries are stamina's (bounded in attempts and time, instant in tests), not the SDK's handlers,
whose 429 wait adds up to a second of jitter, has no upper bound and cannot be made instant.

With a :class:`~frontline.connectors.http.Budget` every call first waits for its method's budget
(and a post for its channel's), matched on the request the call stands for
(:func:`frontline.connectors.slack.limits.slack_request`); a 429 pauses those budgets for Retry-After.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import aiohttp
import stamina
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from frontline.connectors.http import Budget
from frontline.errors import (
    AuthError,
    ChannelRefusedError,
    ConnectorError,
    FrontlineError,
    RateLimitedError,
    UnavailableError,
)

if TYPE_CHECKING:
    from frontline.credentials import Credentials

SERVICE = "Slack"
DEFAULT_BASE_URL = "https://slack.com/api/"
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
ATTEMPTS = 5
RETRY_TIMEOUT = 180.0
MAX_RETRY_AFTER = 120.0  # a longer 429 is not waited out inside one call: the run moves on
LIST_PAGE = 1000
LIST_PAGES = 20  # names are resolved from at most 20,000 channels

REFUSED = {"not_in_channel", "channel_not_found", "is_archived"}
BAD_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
REFRESHABLE = {"invalid_auth", "token_expired", "token_revoked"}
UNAVAILABLE = {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}
SCOPE_FOR = {"chat.postMessage": "chat:write", "conversations.list": "channels:read",
             "conversations.info": "channels:read", "conversations.history": "channels:history"}
TOKEN_HINT = ("Set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, under OAuth & Permissions), "
              "or reinstall the Slack app to the workspace; then run `frontline doctor`")

Call = Callable[[AsyncWebClient], Awaitable[AsyncSlackResponse]]


@dataclass(frozen=True, slots=True)
class SlackBot:
    """Who the token posts as (from ``auth.test``); ``scopes`` is None when Slack did not say."""

    user_id: str
    name: str
    team: str
    scopes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SlackChannel:
    """A conversation as the bot sees it."""

    id: str
    name: str
    member: bool
    archived: bool = False
    private: bool = False


def retry_on(error: Exception) -> bool | float:
    """stamina hook: seconds to wait before the next attempt, True to back off, False to give up."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return isinstance(error, UnavailableError)


def _retry_after(headers: Any) -> float:
    try:
        value = headers.get("Retry-After")
        return max(0.0, float(value)) if value is not None else 1.0
    except (AttributeError, TypeError, ValueError):
        return 1.0


def _code(response: Any) -> str:
    """Slack's error code (``not_in_channel``…) from a failed response, or empty."""
    data = getattr(response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


class SlackWebAPI:
    """The SDK's ``AsyncWebClient`` on an aiohttp session, opened on first use with the ``slack`` token."""

    def __init__(self, credentials: Credentials, *, base_url: str = DEFAULT_BASE_URL,
                 session: aiohttp.ClientSession | None = None, timeout: float = 30.0,
                 budget: Budget | None = None) -> None:
        self._credentials = credentials
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.budget = budget
        self._session = session
        self._own_session = session is None
        self._timeout = timeout
        self._client: AsyncWebClient | None = None
        self._bot: SlackBot | None = None
        self._listing: dict[str, SlackChannel] | None = None
        self._list_lock = asyncio.Lock()

    async def client(self) -> AsyncWebClient:
        """The SDK client, created with the token on first use."""
        if self._client is None:
            credential = await self._credentials.get("slack")
            if self._client is None:
                if self._session is None or self._session.closed:
                    self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
                    self._own_session = True  # opened here, so closed here
                self._client = AsyncWebClient(token=credential.secret, base_url=self.base_url, session=self._session,
                                              retry_handlers=[], user_agent_prefix="frontline")
        return self._client

    async def call(self, method: str, call: Call, *, retry: bool = True, channel: str | None = None
                   ) -> dict[str, Any]:
        """Run ``call`` (named ``method`` in errors); with ``retry``, bounded retries around it."""
        if not retry:
            return await self._once(method, call, channel)
        async for attempt in stamina.retry_context(on=retry_on, attempts=ATTEMPTS, timeout=RETRY_TIMEOUT):
            with attempt:
                return await self._once(method, call, channel)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def acquire(self, method: str, channel: str | None = None) -> None:
        """Wait for the budget of ``method`` (and of ``channel``, for a post), when there is one."""
        if self.budget is not None:
            from frontline.connectors.slack.limits import slack_request

            await self.budget.acquire(slack_request(method, channel, base_url=self.base_url))

    async def _once(self, method: str, call: Call, channel: str | None) -> dict[str, Any]:
        client = await self.client()
        refreshed = False
        while True:
            await self.acquire(method, channel if method == "chat.postMessage" else None)
            try:
                response = await call(client)
            except SlackApiError as error:
                code = _code(error.response)
                if code in REFRESHABLE and not refreshed and await self._refresh(client):
                    refreshed = True
                    continue
                raise await self._error(method, error.response, code, channel) from None
            except (aiohttp.ClientError, TimeoutError) as error:
                raise UnavailableError(
                    SERVICE, f"{method} did not get through to {self.base_url} ({type(error).__name__})",
                    hint="Check SLACK_BASE_URL and the network; the run retries it later") from None
            data = response.data
            return dict(data) if isinstance(data, dict) else {}

    async def _refresh(self, client: AsyncWebClient) -> bool:
        """Ask the credentials provider for a fresh token; False when it has no other one."""
        try:
            credential = await self._credentials.get("slack", refresh=True)
        except FrontlineError:
            return False
        if not credential.secret or credential.secret == client.token:
            return False
        client.token = credential.secret
        return True

    async def _error(self, method: str, response: Any, code: str, channel: str | None) -> ConnectorError:
        """The error a failed call stands for, with Slack's code and what to do next."""
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        shown = status if isinstance(status, int) and status != 200 else None
        if status == 429 or code in ("ratelimited", "rate_limited"):
            wait = _retry_after(getattr(response, "headers", None))
            if self.budget is not None:
                self.budget.penalise(wait)
            return RateLimitedError(SERVICE, wait, f"rate limited on {method}")
        if code in REFUSED and channel is not None:
            return ChannelRefusedError(SERVICE, channel, code, hint=await self._invite_hint(channel, code))
        if code == "missing_scope":
            data = getattr(response, "data", None)
            needed = (data.get("needed") if isinstance(data, dict) else None) or SCOPE_FOR.get(method, "chat:write")
            return AuthError(SERVICE, f"the token lacks the {needed} scope needed for {method}", status=shown,
                             hint=f"Add {needed} under OAuth & Permissions → Bot Token Scopes, then reinstall "
                                  "the app to the workspace")
        if code in BAD_TOKEN:
            return AuthError(SERVICE, f"the token was rejected on {method} ({code})", status=shown, hint=TOKEN_HINT)
        if (isinstance(status, int) and status >= 500) or code in UNAVAILABLE:
            return UnavailableError(SERVICE, f"server error on {method}" + (f" ({code})" if code else ""),
                                    status=shown, hint="Slack is having trouble; the run retries it later")
        if not code:
            return UnavailableError(SERVICE, f"answered {method} with something that is not Slack's JSON",
                                    status=shown, hint="Check SLACK_BASE_URL: a proxy or login page may be in the way")
        return ConnectorError(SERVICE, f"refused {method} ({code})", status=shown)

    async def error_for(self, method: str, code: str, channel: str | None) -> ConnectorError:
        """The error Slack's ``code`` stands for when it arrived some other way (a Scalekit tool's answer)."""
        return await self._error(method, None, code, channel)

    async def _invite_hint(self, channel: str, code: str) -> str:
        bot = await self.whoami()
        invite = f"`/invite @{bot.name if bot else 'yourbot'}` in {channel}"
        if code == "not_in_channel":
            return f"The bot is not a member: type {invite}, or route these alerts elsewhere in frontline.toml"
        if code == "is_archived":
            return f"{channel} is archived: unarchive it and type {invite}, or fix [routing] in frontline.toml"
        return (f"The bot cannot see {channel}: create it (a private channel needs {invite}) "
                "or fix [routing] channels in frontline.toml")

    async def whoami(self, *, strict: bool = False) -> SlackBot | None:
        """The bot behind the token (``auth.test``, cached); None when it cannot be told, unless ``strict``."""
        if self._bot is None:
            headers: list[Any] = []

            async def call(client: AsyncWebClient) -> AsyncSlackResponse:
                response = await client.auth_test()
                headers.append(response.headers)
                return response

            try:
                data = await self.call("auth.test", call)
            except FrontlineError:
                if strict:
                    raise
                return None
            # Slack lists the token's scopes in a header; a proxy may strip it, then scopes stay unknown.
            header = headers[-1].get("x-oauth-scopes") if headers and headers[-1] else None
            scopes = frozenset(s.strip() for s in str(header).split(",") if s.strip()) if header is not None else None
            self._bot = SlackBot(str(data.get("user_id") or ""), str(data.get("user") or "yourbot"),
                                 str(data.get("team") or ""), scopes)
        return self._bot

    # -- channels -------------------------------------------------------------------------------------
    async def channel(self, channel: str) -> SlackChannel | None:
        """The channel called ``#name`` (or with that id), from one cached ``conversations.list``."""
        listing = await self.channels()
        wanted = channel.strip()
        if CHANNEL_ID.match(wanted):
            return listing.get(wanted)
        return listing.get("#" + wanted.lstrip("#").lower())

    async def channels(self, *, fresh: bool = False) -> dict[str, SlackChannel]:
        """Every channel the bot can see, by id and by ``#name`` (read once, again when ``fresh``)."""
        async with self._list_lock:
            if self._listing is None or fresh:
                try:
                    self._listing = await self._list("public_channel,private_channel")
                except AuthError as error:
                    if "groups:read" not in error.message:
                        raise
                    self._listing = await self._list("public_channel")  # no scope to see private channels
            return self._listing

    async def _list(self, types: str) -> dict[str, SlackChannel]:
        found: dict[str, SlackChannel] = {}
        cursor: str | None = None
        for _ in range(LIST_PAGES):
            data = await self.call("conversations.list", partial(
                AsyncWebClient.conversations_list, types=types, exclude_archived=False, limit=LIST_PAGE, cursor=cursor))
            for raw in data.get("channels") or []:
                if not raw.get("id") or not raw.get("name"):
                    continue
                channel = SlackChannel(str(raw["id"]), str(raw["name"]), bool(raw.get("is_member")),
                                       bool(raw.get("is_archived")), bool(raw.get("is_private")))
                found[channel.id] = channel
                found["#" + channel.name.lower()] = channel
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        return found

    async def aclose(self) -> None:
        """Close the aiohttp session when it was opened here."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._own_session:
            self._session = None
        self._client = None
