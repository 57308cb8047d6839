"""What the receivers read from a verified body: pure parsers, no I/O.

Each parser takes the raw bytes (already authenticated) and returns a small value, or raises
:class:`PayloadError` with a reason the caller answers 400 with. They never raise anything else,
whatever the bytes: the property tests feed them arbitrary input.

**Zendesk.** A webhook's body is whatever the trigger says; frontline expects, for a trigger on
"ticket is created" or "ticket is updated", a JSON body such as::

    {"ticket_id": "{{ticket.id}}", "updated_at": "{{ticket.updated_at_with_timestamp}}"}

(``ticket_id`` is the only required key; ``{"ticket": {"id": …}}`` works too). A webhook
subscribed to Zendesk *events* sends Zendesk's own envelope; ``zen:event-type:ticket.*`` events
are read from their ``detail.id``, other event types are acknowledged and ignored.

**Slack.** Interactivity arrives form-encoded as ``payload=<json>``; the Events API sends JSON
(``url_verification`` carries the ``challenge`` to echo). frontline acts on two Block Kit actions:

- ``action_id: "frontline:resolve"`` (a button): ``value`` is the conversation id whose escalation
  a person marks resolved;
- ``action_id: "frontline:category"`` (a static select): ``selected_option.value`` is
  ``<ticket id>/<category>``, a person's correction of the category triage chose.

Other actions, shortcuts, slash commands and events are acknowledged and ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from frontline.connectors.local.importer import normalise_record
from frontline.model import normalise_id

MAX_ID = 200  # the inbox's item_id column
MAX_TICKETS = 1000
RESOLVE_ACTION = "frontline:resolve"
CATEGORY_ACTION = "frontline:category"


class PayloadError(ValueError):
    """A verified body that is not what the receiver expects (answered 400)."""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None


def item_id(value: Any, what: str) -> str:
    """A ticket or conversation id from a payload, normalised (``7``, ``7.0``, ``"7"``: ``"7"``), short, no
    placeholder left; PayloadError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{what} is missing or not a string or number")
    if isinstance(value, float) and not math.isfinite(value):
        raise PayloadError(f"{what} is not a valid id")
    try:
        text = normalise_id(value)
    except ValueError:
        raise PayloadError(f"{what} is empty or not a valid id") from None
    if "{{" in text:
        raise PayloadError(f"{what} is an unexpanded placeholder ({text[:40]}): check the trigger's JSON body")
    if len(text) > MAX_ID or not text.isprintable():
        raise PayloadError(f"{what} is longer than {MAX_ID} characters or not printable")
    return text


# -- Zendesk --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ZendeskEvent:
    """A Zendesk delivery: the ticket it is about (None for events frontline ignores)."""

    ticket_id: str | None
    kind: str
    event_id: str | None = None
    updated_at: str | None = None


def zendesk_event(body: bytes) -> ZendeskEvent:
    """Read a Zendesk webhook body (a trigger's JSON, or a Zendesk event envelope)."""
    data = _json(body)
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith("zen:event-type:"):
        event_id = data.get("id") if isinstance(data.get("id"), str) else None
        if not kind.startswith("zen:event-type:ticket."):
            return ZendeskEvent(None, kind, event_id)
        detail = data.get("detail")
        if not isinstance(detail, dict):
            raise PayloadError("a ticket event without a detail object")
        updated = detail.get("updated_at")
        return ZendeskEvent(item_id(detail.get("id"), "detail.id"), kind, event_id,
                            updated if isinstance(updated, str) else None)
    raw = data.get("ticket_id")
    if raw is None and isinstance(data.get("ticket"), dict):
        raw = data["ticket"].get("id")
    if raw is None:
        raise PayloadError('no "ticket_id": set the trigger\'s JSON body to {"ticket_id": "{{ticket.id}}"}')
    updated = data.get("updated_at")
    return ZendeskEvent(item_id(raw, "ticket_id"), "trigger", None, updated if isinstance(updated, str) else None)


# -- Slack ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SlackAction:
    """One frontline button or menu a person used in Slack."""

    kind: Literal["resolve_escalation", "correct_category"]
    item_id: str
    category: str | None
    user: str
    action_ts: str | None


@dataclass(frozen=True, slots=True)
class SlackRequest:
    """What a Slack request asks: echo a challenge, record actions, or nothing."""

    kind: Literal["url_verification", "interaction", "ignored"]
    detail: str
    challenge: str | None = None
    delivery: str | None = None
    actions: tuple[SlackAction, ...] = ()


def slack_request(body: bytes, content_type: str) -> SlackRequest:
    """Read a Slack request: an interaction payload (form-encoded) or an Events API envelope (JSON)."""
    if "json" in content_type.lower():
        data = _json(body)
        if not isinstance(data, dict):
            raise PayloadError("the body is not a JSON object")
        kind = str(data.get("type") or "")
        if kind == "url_verification":
            challenge = data.get("challenge")
            if not isinstance(challenge, str) or not challenge:
                raise PayloadError("url_verification without a challenge")
            return SlackRequest("url_verification", kind, challenge=challenge)
        return SlackRequest("ignored", kind or "no type")  # frontline subscribes to no events
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("the body is not form-encoded UTF-8") from None
    if "payload" not in form:
        return SlackRequest("ignored", "command" if "command" in form else "no payload")
    data = _json(form["payload"][0].encode())
    if not isinstance(data, dict):
        raise PayloadError("the payload is not a JSON object")
    kind = str(data.get("type") or "")
    if kind != "block_actions":
        return SlackRequest("ignored", kind or "no type")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    actions = data.get("actions")
    found = tuple(action for raw in (actions if isinstance(actions, list) else [])
                  if (action := _slack_action(raw, user_id)) is not None)
    if not found:
        return SlackRequest("ignored", "block_actions without a frontline action")
    trigger = data.get("trigger_id")
    delivery = trigger if isinstance(trigger, str) and 0 < len(trigger) <= 150 else None
    return SlackRequest("interaction", kind, delivery=delivery, actions=found)


def _slack_action(raw: Any, user: str) -> SlackAction | None:
    if not isinstance(raw, dict):
        return None
    action_id = raw.get("action_id")
    stamp = raw.get("action_ts") if isinstance(raw.get("action_ts"), str) else None
    if action_id == RESOLVE_ACTION:
        return SlackAction("resolve_escalation", item_id(raw.get("value"), "the button's value"), None, user, stamp)
    if action_id == CATEGORY_ACTION:
        option = raw.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str) or "/" not in value:
            raise PayloadError("the category menu's value is not <ticket id>/<category>")
        item, _, category = value.rpartition("/")
        if not category.strip():
            raise PayloadError("the category menu's value names no category")
        return SlackAction("correct_category", item_id(item, "the menu's ticket id"), category.strip(), user, stamp)
    return None


# -- POST /tickets ----------------------------------------------------------------------------------
@dataclass
class TicketBatch:
    """Validated ticket records, or the reason each bad one was refused."""

    records: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def ticket_batch(body: bytes) -> TicketBatch:
    """One ticket (a JSON object) or a list of them, each validated as an import row would be."""
    data = _json(body)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise PayloadError("the list holds no tickets")
    if len(items) > MAX_TICKETS:
        raise PayloadError(f"at most {MAX_TICKETS} tickets per request (got {len(items)})")
    batch = TicketBatch([], [])
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            batch.errors.append({"index": index, "error": "is not a JSON object"})
            continue
        try:
            record, _ = normalise_record(item)
            record["id"] = item_id(record["id"], "id")
        except ValueError as exc:  # PayloadError is one too
            ident = item.get("id", item.get("ticket_id"))
            batch.errors.append({"index": index, "id": ident if isinstance(ident, str | int) else None,
                                 "error": str(exc)})
            continue
        if record["id"] in seen:  # the later copy wins, as in an import
            batch.records[seen[record["id"]]] = record
            continue
        seen[record["id"]] = len(batch.records)
        batch.records.append(record)
    return batch
