"""Digest alerts: on a large backlog, a channel's low-severity tickets go out as one message.

Slack takes about one post a second per channel, so a backlog of 2,000 tickets routed to a few
channels takes the better part of an hour to alert one by one. When a batch holds at least
``[runner] digest_threshold`` alerts for one channel (0, the default, never), the tickets among
them whose severity is in ``[runner] digest_severities`` (P3 by default) are listed in one Block Kit
digest message for that channel (up to :data:`DIGEST_MAX` a message); the others keep their own
alert. Every ticket still gets its private note with the full triage.

**Exactly once.** The digest has an idempotency key of its own, derived from the channel and its
tickets (:func:`digest_key`), carried in the message metadata like an alert's. Before it is sent
each member ticket's alert effect in the ledger is pointed at it (target ``digest:KEY #channel``,
:func:`digest_target`); after it is sent every member's alert effect is done with the digest's
message reference. After a crash a member still planned is checked against the chat under both its
own key and the digest's (:func:`digest_of`), so a digest that landed is never sent again and a
ticket that was in one never gets a second alert; one that did not land is sent again, possibly in
a new digest.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from frontline.model import ChatMessage, Ticket, Triage, effect_key
from frontline.render import SEVERITY_EMOJI, Renderer

DIGEST_MAX = 200  # tickets in one digest message (Slack: 50 blocks of at most 3,000 characters)
SECTION_CHARS = 2900
_TARGET = re.compile(r"^digest:(?P<key>fl-[0-9a-f]+) (?P<channel>.+)$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One ticket in a digest."""

    ticket: Ticket
    triage: Triage
    review: bool = False


def plan_digests(pending: Sequence[tuple[str, str, str]], *, threshold: int, severities: Sequence[str]
                 ) -> list[tuple[str, list[str]]]:
    """Which pending alerts, given as (item id, channel, severity), go out in digests: [(channel, ids)].

    A channel with at least ``threshold`` pending alerts gets digests of its tickets whose severity
    is in ``severities`` (at least two, at most :data:`DIGEST_MAX` each); ``threshold`` 0 means never.
    """
    if threshold <= 0:
        return []
    by_channel: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item_id, channel, severity in pending:
        by_channel[channel].append((item_id, severity))
    wanted = set(severities)
    groups: list[tuple[str, list[str]]] = []
    for channel, items in by_channel.items():
        if len(items) < threshold:
            continue
        members = [item_id for item_id, severity in items if severity in wanted]
        if len(members) < 2:
            continue
        for start in range(0, len(members), DIGEST_MAX):
            chunk = members[start:start + DIGEST_MAX]
            if len(chunk) >= 2:
                groups.append((channel, chunk))
    return groups


def digest_key(flow: str, channel: str, item_ids: Sequence[str]) -> str:
    """The digest's idempotency key: the same channel and tickets give the same key."""
    members = hashlib.sha256("\n".join(sorted(item_ids)).encode()).hexdigest()[:20]
    return effect_key(flow, f"digest:{channel}", "digest", members)


def digest_target(key: str, channel: str) -> str:
    """A member's alert target while its digest is being sent: it points at the digest."""
    return f"digest:{key} {channel}"


def digest_of(target: str | None) -> tuple[str, str] | None:
    """(digest key, channel) when an alert target points at a digest."""
    found = _TARGET.match(target or "")
    return (found.group("key"), found.group("channel")) if found else None


def digest_message(renderer: Renderer, channel: str, entries: Sequence[Entry], *, backlog: int,
                   severities: Sequence[str]) -> ChatMessage:
    """The Block Kit digest listing ``entries``, with its text fallback (templates ``digest_*``)."""
    lines = []
    for entry in entries:
        company = entry.ticket.company.name if entry.ticket.company and entry.ticket.company.name else ""
        lines.append(renderer.render("digest_line.j2", ticket=entry.ticket, triage=entry.triage, review=entry.review,
                                     company=company,
                                     severity_emoji=SEVERITY_EMOJI.get(entry.triage.severity, "")).strip())
    sections: list[str] = []
    for line in lines:
        line = line[:SECTION_CHARS]
        if sections and len(sections[-1]) + 1 + len(line) <= SECTION_CHARS:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    shown = sorted({e.triage.severity for e in entries}) or list(severities)
    context = {"channel": channel, "count": len(entries), "backlog": backlog, "severities": shown,
               "tickets": [e.ticket for e in entries], "sections": sections}
    return renderer.chat_message("digest_text.j2", "digest_blocks.json.j2", **context)
