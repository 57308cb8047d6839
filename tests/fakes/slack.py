"""A stateful in-memory Slack Web API: channels with members, posted messages with metadata.

Shaped from Slack's published spec (``slack/web-api/slack_web_openapi_v2.json``, Swagger 2.0, 2020)
and its conventions: every method answers on GET and POST under ``/api/``, arguments arrive in the
query, a form or a JSON body (``slack_sdk`` sends ``chat.postMessage`` as JSON, reads as GET
queries), and failures are HTTP 200 with ``{"ok": false, "error": CODE}`` except 429 ``ratelimited``
with ``Retry-After``. Private channels are invisible to a bot that is not in them.

    fake = SlackFake()
    fake.add_channel("engineering", member=False)   # the bot was never invited
    with serve(fake) as base: ...                    # point base_url at f"{base}/api/"
    fake.posted("#billing")                          # what landed there (replies in threads too)
    fake.replies("#billing", ts)                     # the replies in one message's thread
    fake.pings(message)                              # who a message would notify
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from tests.contract import ContractViolation, OpenAPIContract
from tests.fakes.base import FakeAPI, json_response

SPEC = "slack/web-api/slack_web_openapi_v2.json"
DOCUMENTED_EXTRAS = {
    "metadata": "chat.postMessage `metadata` (message metadata, 2022) is newer than the 2020 spec snapshot",
    "include_all_metadata": "conversations.history `include_all_metadata` (2022) is newer than the 2020 snapshot",
}
# Replies in a thread are kept with the channel's messages but, as in Slack, conversations.history
# lists only the top level (a reply is not broadcast); conversations.replies lists one thread.
# Arguments Slack documents as "a JSON-based array … presented as a URL-encoded string": in a JSON
# body they are the array itself.
JSON_ENCODED = {"blocks", "attachments"}
SCOPES = ("chat:write", "channels:read", "channels:history", "groups:read", "groups:history")
BROADCAST = re.compile(r"<(!(?:channel|here|everyone|group)|!subteam\^[^>|]+|@[UWB][A-Z0-9]+)(?:\|[^>]*)?>")
BARE = re.compile(r"(?<![\w&])@(channel|here|everyone)\b")


class SlackContract(OpenAPIContract):
    """Slack's spec with Slack's calling conventions (any verb; query, form or JSON arguments)."""

    def __init__(self) -> None:
        super().__init__(SPEC, server_prefix="/api", documented_extras=DOCUMENTED_EXTRAS)

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The method's operation whichever verb the spec lists it under (Slack serves both)."""
        try:
            return super().operation(method, path)
        except ContractViolation:
            other = "POST" if method.upper() == "GET" else "GET"
            return super().operation(other, path)

    def _body_schema(self, operation: Any) -> dict[str, Any]:
        params = [self._resolve(p) for p in operation.get("parameters", [])]
        args = [p for p in params if p.get("in") in ("formData", "query") and p.get("name") != "token"]
        props = {p["name"]: {k: v for k, v in p.items() if k in ("type", "enum", "items")} for p in args}
        return {"type": "object", "properties": props, "required": [p["name"] for p in args if p.get("required")]}

    def check(self, request: Any) -> None:
        """Validate every argument of a request, wherever it travels, against the method's parameters."""
        _, operation = self.operation(request.method, request.url.path)
        declared = self._body_schema(operation)["properties"]
        sent = arguments(request)
        sent.pop("token", None)  # a token in the arguments is legacy but accepted
        typed = {name: _typed(name, value, declared.get(name, {}).get("type")) for name, value in sent.items()}
        self.validate(request.method, request.url.path, typed)


def arguments(request: httpx.Request) -> dict[str, Any]:
    """A request's arguments: the query, then the form or JSON body over it."""
    args: dict[str, Any] = dict(request.url.params.items())
    raw = request.content
    kind = request.headers.get("content-type", "")
    if raw and kind.startswith("application/json"):
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ContractViolation(f"{SPEC}: a JSON body must be an object, got {type(body).__name__}")
        args.update(body)
    elif raw:
        args.update(parse_qsl(raw.decode(), keep_blank_values=True))
    return args


def _typed(name: str, value: Any, kind: str | None) -> Any:
    """A text argument as the type the spec declares (form and query values are all text)."""
    if kind == "string" and name in JSON_ENCODED and isinstance(value, list | dict):
        return json.dumps(value)
    if not isinstance(value, str):
        return value
    if kind == "boolean" and value in ("1", "0", "true", "false"):
        return value in ("1", "true")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    return value


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true")


@dataclass
class FakeChannel:
    """One conversation: who is in it and what was posted (oldest first)."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    archived: bool = False
    private: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)


class SlackFake(FakeAPI):
    """An in-memory Slack workspace with one bot, answering the Web API methods the chat uses."""

    service = "Slack"
    bot_user = "U0BOT00001"
    bot_id = "B0BOT00001"
    bot_name = "frontline"
    team = "Acme Support"
    team_id = "T0ACME0001"

    def __init__(self, *, token: str = "xoxb-test", scopes: Iterable[str] = SCOPES, contract: bool = True) -> None:
        super().__init__(SlackContract() if contract else None)
        self.tokens: dict[str, str] = {token: "active"}  # token → active | revoked | inactive
        self.scopes = set(scopes)
        self.channels: dict[str, FakeChannel] = {}
        # The next N posts are stored but their answer is lost (a 503 after Slack kept the message).
        self.lost_answers = 0
        self._last_ts = 0.0
        handlers = {"auth.test": self._auth_test, "chat.postMessage": self._post,
                    "conversations.history": self._history, "conversations.list": self._list,
                    "conversations.info": self._info, "chat.update": self._update,
                    "conversations.replies": self._replies}
        for name, handler in handlers.items():
            for verb in ("GET", "POST"):
                self.route(verb, rf"/api/{re.escape(name)}", self._guarded(name, handler))

    # -- workspace ----------------------------------------------------------------------------------
    def add_channel(self, name: str, *, member: bool = True, archived: bool = False, private: bool = False
                    ) -> FakeChannel:
        """A channel called ``#name``; the bot is in it unless ``member`` is False."""
        channel = FakeChannel(f"C{len(self.channels) + 1:09d}", name.lstrip("#"), {self.bot_user} if member else set(),
                              archived, private)
        self.channels[channel.id] = channel
        return channel

    def named(self, name: str) -> FakeChannel:
        """The channel called ``#name``."""
        return next(c for c in self.channels.values() if c.name == name.lstrip("#"))

    def posted(self, name: str) -> list[dict[str, Any]]:
        """The messages in ``#name``, oldest first."""
        return list(self.named(name).messages)

    def top_level(self, name: str) -> list[dict[str, Any]]:
        """The messages in ``#name`` that are not replies in a thread, oldest first."""
        return [m for m in self.named(name).messages if m.get("thread_ts") in (None, m["ts"])]

    def replies(self, name: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of the message ``ts`` in ``#name``, oldest first."""
        return [m for m in self.named(name).messages if m.get("thread_ts") == ts and m["ts"] != ts]

    def all_posted(self) -> list[dict[str, Any]]:
        """Every message in the workspace."""
        return [m for c in self.channels.values() for m in c.messages]

    @staticmethod
    def pings(message: dict[str, Any]) -> list[str]:
        """Who ``message`` notifies beyond the channel: special mentions and user or group mentions.

        Slack parses ``<!here>``, ``<@U…>``… in the text and mrkdwn objects; a bare ``@channel`` only
        with ``link_names``/``parse=full`` (text) or in a mrkdwn object that is not ``verbatim``.
        """
        found = [m.group(1) for m in BROADCAST.finditer(str(message.get("text") or ""))]
        if message.get("_link_names"):
            found += [f"@{m.group(1)}" for m in BARE.finditer(str(message.get("text") or ""))]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "mrkdwn":
                    text = str(node.get("text") or "")
                    found.extend(m.group(1) for m in BROADCAST.finditer(text))
                    if not node.get("verbatim"):
                        found.extend(f"@{m.group(1)}" for m in BARE.finditer(text))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(message.get("blocks") or [])
        return found

    def _ts(self) -> str:
        stamp = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = stamp
        return f"{stamp:.6f}"

    # -- protocol -----------------------------------------------------------------------------------
    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Slack's shape for injected failures: 429 ``ratelimited``, 5xx ``fatal_error``."""
        if body is None:
            code = "ratelimited" if status == 429 else "fatal_error" if status >= 500 else "invalid_request"
            body = {"ok": False, "error": code}
        return json_response(status, body, headers)

    def _ok(self, **fields: Any) -> httpx.Response:
        return json_response(200, {"ok": True, **fields}, {"x-oauth-scopes": ",".join(sorted(self.scopes))})

    @staticmethod
    def _refuse(code: str, **fields: Any) -> httpx.Response:
        return json_response(200, {"ok": False, "error": code, **fields})

    def _guarded(self, method: str, handler: Any) -> Any:
        def run(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
            auth = request.headers.get("authorization", "")
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
            args = arguments(request)
            token = token or str(args.get("token") or "")
            if not token:
                return self._refuse("not_authed")
            state = self.tokens.get(token)
            if state is None:
                return self._refuse("invalid_auth")
            if state != "active":
                return self._refuse("token_revoked" if state == "revoked" else "account_inactive")
            result: httpx.Response = handler(args)
            return result

        return run

    def _scope(self, *needed: str) -> httpx.Response | None:
        missing = [scope for scope in needed if scope not in self.scopes]
        if missing:
            return self._refuse("missing_scope", needed=",".join(missing), provided=",".join(sorted(self.scopes)))
        return None

    def _visible(self, channel: FakeChannel) -> bool:
        return not channel.private or self.bot_user in channel.members

    def _resolve(self, value: Any) -> FakeChannel | None:
        text = str(value or "").strip()
        channel = self.channels.get(text) or next(
            (c for c in self.channels.values() if c.name == text.lstrip("#")), None)
        return channel if channel is not None and self._visible(channel) else None

    def _conversation(self, channel: FakeChannel) -> dict[str, Any]:
        return {"id": channel.id, "name": channel.name, "name_normalized": channel.name, "is_channel": True,
                "is_group": False, "is_im": False, "is_mpim": False, "is_private": channel.private,
                "is_archived": channel.archived, "is_general": False, "is_member": self.bot_user in channel.members,
                "created": 1_600_000_000, "num_members": len(channel.members)}

    # -- methods ------------------------------------------------------------------------------------
    def _auth_test(self, args: dict[str, Any]) -> httpx.Response:
        return self._ok(url="https://acme-support.slack.com/", team=self.team, user=self.bot_name,
                        team_id=self.team_id, user_id=self.bot_user, bot_id=self.bot_id, is_enterprise_install=False)

    def _post(self, args: dict[str, Any]) -> httpx.Response:
        refused = self._scope("chat:write")
        if refused is not None:
            return refused
        channel = self._resolve(args.get("channel"))
        if channel is None:
            return self._refuse("channel_not_found")
        if channel.archived:
            return self._refuse("is_archived")
        if self.bot_user not in channel.members:
            return self._refuse("not_in_channel")
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = str(args.get("text") or "")
        if not text and not blocks:
            return self._refuse("no_text")
        if len(text) > 40_000:
            return self._refuse("msg_too_long")
        if blocks is not None and not _valid_blocks(blocks):
            return self._refuse("invalid_blocks")
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = {"type": "message", "text": text, "ts": self._ts(), "user": self.bot_user, "bot_id": self.bot_id,
                   "blocks": blocks or [], "metadata": metadata,
                   "_link_names": _flag(args.get("link_names")) or args.get("parse") == "full"}
        thread_ts = str(args.get("thread_ts") or "")
        if thread_ts:
            parent = next((m for m in channel.messages if m["ts"] == thread_ts), None)
            if parent is None:
                return self._refuse("thread_not_found")
            message["thread_ts"] = parent.get("thread_ts") or thread_ts  # a reply to a reply joins the thread
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = int(parent.get("reply_count") or 0) + 1
        channel.messages.append(message)
        if self.lost_answers > 0:
            self.lost_answers -= 1
            return self.error(503, None, {})
        shown = {k: v for k, v in message.items() if k not in ("metadata", "_link_names")}
        return self._ok(channel=channel.id, ts=message["ts"], message=shown)

    def _history(self, args: dict[str, Any]) -> httpx.Response:
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._refuse("channel_not_found")
        refused = self._scope("groups:history" if channel.private else "channels:history")
        if refused is not None:
            return refused
        if self.bot_user not in channel.members:
            return self._refuse("not_in_channel")
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or time.time() + 3600)
        inclusive = _flag(args.get("inclusive"))
        window = [m for m in reversed(channel.messages) if m.get("thread_ts") in (None, m["ts"])
                  and (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"])) and float(m["ts"]) < latest]
        start = int(base64.b64decode(args["cursor"]).decode().removeprefix("offset:")) if args.get("cursor") else 0
        limit = min(int(args.get("limit") or 100), 999)
        page = window[start:start + limit]
        keep_metadata = _flag(args.get("include_all_metadata"))
        messages = [{k: v for k, v in m.items() if not k.startswith("_") and (keep_metadata or k != "metadata")}
                    for m in page]
        more = start + limit < len(window)
        extra = {"response_metadata": {"next_cursor": _cursor(start + limit)}} if more else {}
        return self._ok(messages=messages, has_more=more, pin_count=0, channel_actions_ts=None,
                        channel_actions_count=0, **extra)

    def _replies(self, args: dict[str, Any]) -> httpx.Response:
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._refuse("channel_not_found")
        refused = self._scope("groups:history" if channel.private else "channels:history")
        if refused is not None:
            return refused
        ts = str(args.get("ts") or "")
        thread = [m for m in channel.messages if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return self._refuse("thread_not_found")
        start = int(base64.b64decode(args["cursor"]).decode().removeprefix("offset:")) if args.get("cursor") else 0
        limit = min(int(args.get("limit") or 100), 999)
        keep_metadata = _flag(args.get("include_all_metadata"))
        messages = [{k: v for k, v in m.items() if not k.startswith("_") and (keep_metadata or k != "metadata")}
                    for m in thread[start:start + limit]]
        more = start + limit < len(thread)
        extra = {"response_metadata": {"next_cursor": _cursor(start + limit)}} if more else {}
        return self._ok(messages=messages, has_more=more, **extra)

    def _update(self, args: dict[str, Any]) -> httpx.Response:
        refused = self._scope("chat:write")
        if refused is not None:
            return refused
        channel = self._resolve(args.get("channel"))
        if channel is None:
            return self._refuse("channel_not_found")
        message = next((m for m in channel.messages if m["ts"] == str(args.get("ts") or "")), None)
        if message is None:
            return self._refuse("message_not_found")
        if message.get("user") != self.bot_user:
            return self._refuse("cant_update_message")
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if blocks is not None and not _valid_blocks(blocks):
            return self._refuse("invalid_blocks")
        if "text" in args:
            message["text"] = str(args.get("text") or "")
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user, "ts": self._ts()}
        shown = {k: v for k, v in message.items() if k not in ("metadata", "_link_names")}
        return self._ok(channel=channel.id, ts=message["ts"], text=message["text"], message=shown)

    def _list(self, args: dict[str, Any]) -> httpx.Response:
        types = set(str(args.get("types") or "public_channel").split(","))
        refused = self._scope("channels:read", *(["groups:read"] if "private_channel" in types else []))
        if refused is not None:
            return refused
        wanted = [c for c in self.channels.values()
                  if self._visible(c) and ("private_channel" if c.private else "public_channel") in types
                  and not (c.archived and _flag(args.get("exclude_archived")))]
        start = int(base64.b64decode(args["cursor"]).decode().removeprefix("offset:")) if args.get("cursor") else 0
        limit = min(int(args.get("limit") or 100), 1000)
        more = start + limit < len(wanted)
        return self._ok(channels=[self._conversation(c) for c in wanted[start:start + limit]],
                        response_metadata={"next_cursor": _cursor(start + limit) if more else ""})

    def _info(self, args: dict[str, Any]) -> httpx.Response:
        refused = self._scope("channels:read")
        if refused is not None:
            return refused
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._refuse("channel_not_found")
        return self._ok(channel=self._conversation(channel))


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _valid_blocks(blocks: Any) -> bool:
    """Slack's invalid_blocks checks that matter here: a list of typed blocks within the length limits."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return False
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return False
        text = block.get("text")
        if isinstance(text, dict):
            limit = 150 if block["type"] == "header" else 3000
            if text.get("type") not in ("plain_text", "mrkdwn") or not 1 <= len(str(text.get("text") or "")) <= limit:
                return False
            if block["type"] == "header" and text.get("type") != "plain_text":
                return False
            if "verbatim" in text and text.get("type") != "mrkdwn":
                return False
    return True
