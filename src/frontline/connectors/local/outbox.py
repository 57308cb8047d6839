"""The embedded chat: alerts printed to the console and appended to a JSONL outbox.

Each line holds the exact ``chat.postMessage`` arguments (channel, text, blocks, metadata, and
``thread_ts`` for a reply in a thread), so the same payload can be posted to Slack later. An update
of a posted message (an incident alert kept current) is a line of ``chat.update`` arguments
(``"method": "chat.update"``, channel, ``ts``, text, blocks); :meth:`OutboxChat.entries` lists the
posts, :meth:`OutboxChat.current` a post as last updated.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frontline import private
from frontline.config import Settings
from frontline.errors import ChannelRefusedError
from frontline.model import ChatMessage
from frontline.ports import Check
from frontline.render import console_line
from frontline.terminal import inert

SERVICE = "Outbox"
# Slack channel names: lower-case letters, digits, hyphens, underscores; at most 80 characters.
CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9_\-]{0,79}$")
METADATA_EVENT = "frontline_alert"


class OutboxChat:
    """Writes each alert to the console and to a JSONL file."""

    name = "outbox"

    def __init__(self, path: Path, *, echo: Callable[[str], None] | None = None,
                 channels: tuple[str, ...] | None = None) -> None:
        self.path = path
        self._echo = echo
        self._channels = set(channels) if channels is not None else None
        private.folder(path.parent)
        self._posted: dict[str, str] | None = None
        self._where: dict[str, str] = {}  # ts → channel of each post (a reply goes to its parent's channel)
        self._fd: int | None = None
        self._count = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, echo: Callable[[str], None] | None = None,
                      **_: Any) -> OutboxChat:
        """The outbox file in the workspace; echo to the console when configured."""
        printer = echo if echo is not None else (_console if settings.local.echo else None)
        return cls(settings.path(settings.local.outbox), echo=printer, channels=settings.local.channels)

    def _load(self) -> dict[str, str]:
        if self._posted is None:
            self._posted = {}
            if self.path.exists():
                with self.path.open(encoding="utf-8", errors="replace") as handle:
                    for number, line in enumerate(handle, start=1):
                        try:
                            entry = json.loads(line)
                            key = entry["metadata"]["event_payload"]["idempotency_key"]
                        except (ValueError, KeyError, TypeError):
                            continue  # a torn last line after a crash is simply not a posted message
                        self._posted[key] = entry.get("ts") or f"line:{number}"
                        self._where[self._posted[key]] = str(entry.get("channel") or "")
                        self._count = number
        return self._posted

    async def post(self, channel: str, message: ChatMessage, key: str, thread: str | None = None) -> str:
        """Append the alert (a reply in ``thread``'s thread when given); refuse malformed channel names."""
        if thread is not None:
            channel = self._channel_of(thread) or channel  # a reply goes where its parent is, as in Slack
        if not CHANNEL_NAME.match(channel):
            raise ChannelRefusedError(SERVICE, channel, "channel_not_found: not a valid channel name")
        if self._channels is not None and channel not in self._channels:
            raise ChannelRefusedError(SERVICE, channel, "not_in_channel")
        posted = self._load()
        if key in posted:
            return posted[key]
        self._count += 1
        ts = f"{datetime.now(UTC).timestamp():.6f}"
        entry = {
            "channel": channel,
            "text": message.text,
            "blocks": list(message.blocks),
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"idempotency_key": key}},
            "ts": ts,
        }
        if thread is not None:
            entry["thread_ts"] = thread
        try:
            self._append((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        except OSError as error:
            raise private.unusable(self.path, error) from None
        posted[key] = ts
        self._where[ts] = channel
        if self._echo is not None:
            self._echo(f"{channel}  {console_line(message)}")
        return ts

    def _append(self, line: bytes) -> None:
        """Write one whole line, unbuffered: a failed write (a full disk) leaves nothing queued to retry later.

        After a failure the file is opened afresh for the next line, so the torn end a crash or a
        full disk left is closed with a newline first and the next entry stays parseable.
        """
        if self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    os.write(fd, b"\n")
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise

    async def diagnose(self) -> list[Check]:
        """Whether the outbox file can be written: its folder is a writable folder, the file not a folder."""
        folder = self.path.parent
        fix = "Move it away, or point the workspace at a folder this user can write to"
        if not folder.is_dir():
            return [Check("chat outbox", False, f"{self.path} cannot be written: {folder} is not a folder", fix)]
        if self.path.is_dir():
            return [Check("chat outbox", False, f"{self.path} is a folder, not a file", fix)]
        if not os.access(folder, os.W_OK | os.X_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            return [Check("chat outbox", False, f"{self.path} is not writable", "Fix the workspace's permissions")]
        limited = f"; posting only to {', '.join(sorted(self._channels))}" if self._channels is not None else ""
        return [Check("chat outbox", True, f"ACTIVE: alerts go to the console and {self.path}{limited}")]

    def _channel_of(self, ref: str) -> str | None:
        self._load()
        return self._where.get(ref)

    async def update(self, ref: str, message: ChatMessage) -> None:
        """Append a ``chat.update`` line replacing the text and blocks of the post ``ref``."""
        channel = self._channel_of(ref)
        if channel is None:
            raise ChannelRefusedError(SERVICE, ref, "message_not_found: no post with this reference in the outbox")
        entry = {"method": "chat.update", "channel": channel, "ts": ref, "text": message.text,
                 "blocks": list(message.blocks)}
        try:
            self._append((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        except OSError as error:
            raise private.unusable(self.path, error) from None

    async def find_posted(self, key: str, thread: str | None = None) -> str | None:
        """The ts of an alert already written with ``key`` (a reply is keyed like any post)."""
        return self._load().get(key)

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def entries(self) -> list[dict[str, Any]]:
        """Every alert posted to the outbox, as first posted (for tests and `frontline demo`)."""
        return [entry for entry in self._lines() if entry.get("method") != "chat.update"]

    def current(self, ref: str) -> dict[str, Any] | None:
        """The post ``ref`` with its latest update applied, or None when there is no such post."""
        found: dict[str, Any] | None = None
        for entry in self._lines():
            if entry.get("ts") != ref:
                continue
            if entry.get("method") == "chat.update":
                if found is not None:
                    found = {**found, "text": entry.get("text"), "blocks": entry.get("blocks")}
            else:
                found = entry
        return found

    async def aclose(self) -> None:
        """Close the file (every line is already written)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _console(line: str) -> None:
    # The line quotes the ticket (subject, requester, company): its control characters are shown, not obeyed.
    sys.stdout.write(f"  ↳ alert {inert(line)}\n")
