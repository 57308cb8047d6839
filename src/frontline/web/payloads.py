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

**What is kept.** Every id and text field a parser returns is one the store can hold as sent: an id
is a scalar (string or number), valid Unicode without NUL, at most MAX_ID (200) characters, the
width of the store's id columns; short fields kept with a delivery (a timestamp, a user id, an event
type) are at most MAX_TEXT (200). A field that is not is refused with a PayloadError naming it
(``field``), never written out as ``str()`` of an object nor left to fail its batch in the store.
A ticket's text (``POST /tickets``) is kept as sent but for NUL, which is dropped as an import drops it.
In front of Zendesk or Intercom (``connectors.helpdesk``, ``connectors.conversations``) a ticket or
conversation id must also be one of their numbers (:func:`zendesk_ticket`, :func:`intercom_conversation`),
in a webhook and in frontline's Slack buttons alike: another id could only be settled later as gone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs

from frontline.connectors.intercom.payloads import conversation_number
from frontline.connectors.local.importer import normalise_record
from frontline.connectors.zendesk.payloads import zendesk_id
from frontline.model import normalise_id
from frontline.storable import MAX_ID, json_problem, text_problem

MAX_TICKETS = 1000
MAX_TEXT = 200  # a short field kept with a delivery (a timestamp, a user id, an event type)
RESOLVE_ACTION = "frontline:resolve"
CATEGORY_ACTION = "frontline:category"
MENU = "actions[].selected_option.value"


class IdReader(Protocol):
    """Reads one id from a payload: the value, what it is (for the error), the field's path if other."""

    def __call__(self, value: Any, what: str, field: str | None = None) -> str:
        """The id, or PayloadError naming the field."""


class PayloadError(ValueError):
    """A verified body that is not what the receiver expects (answered 400); ``field`` names the part at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def text(value: Any, what: str, field: str | None = None, *, limit: int | None = None) -> str:
    """A string field the store can hold as sent (UTF-8, no NUL, at most ``limit`` characters);
    PayloadError naming ``what`` (its path ``field``, if other) otherwise."""
    if not isinstance(value, str):
        raise PayloadError(f"{what} is not a string", field or what)
    problem = text_problem(value, limit=limit)
    if problem is not None:
        raise PayloadError(f"{what} {problem}", field or what)
    return value


def optional_text(value: Any, what: str, *, limit: int | None = None) -> str | None:
    """:func:`text`, or None when the field is absent (None); a field of another type is refused."""
    return None if value is None else text(value, what, limit=limit)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None


def item_id(value: Any, what: str, field: str | None = None) -> str:
    """A ticket or conversation id from a payload, normalised (``7``, ``7.0``, ``"7"``: ``"7"``), short, no
    placeholder left; PayloadError naming ``what`` otherwise.

    An id is a scalar (an object or a list is refused, never written out as one), valid Unicode without
    NUL, at most MAX_ID (200) characters, the width of the store's id columns, and printable. ``field``
    (``what`` if not given) is the path the error names.
    """
    field = field or what
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{what} is missing or not a string or number", field)
    if isinstance(value, float) and not math.isfinite(value):
        raise PayloadError(f"{what} is not a valid id", field)
    if isinstance(value, str):
        text(value, what, field)  # normalise_id must never see what the store cannot hold
        if len(value.strip()) > MAX_ID:
            raise PayloadError(f"{what} is longer than {MAX_ID} characters", field)
    try:
        ident = normalise_id(value)
    except ValueError:
        raise PayloadError(f"{what} is empty or a number that is not whole", field) from None
    if "{{" in ident:
        raise PayloadError(f"{what} is an unexpanded placeholder ({ident[:40]}): check the trigger's JSON body", field)
    if len(ident) > MAX_ID:
        raise PayloadError(f"{what} is longer than {MAX_ID} characters", field)
    if not ident.isprintable():
        raise PayloadError(f"{what} holds a control or other unprintable character", field)
    return ident


def zendesk_ticket(value: Any, what: str, field: str | None = None) -> str:
    """A Zendesk ticket id from a payload (:func:`item_id`, and a whole number Zendesk could have issued).

    ``"abc"``, ``"12x"``, ``"007"`` or ``"-1"`` name no Zendesk ticket: recorded, such a delivery would
    only be settled later as a ticket that is gone, so it is refused here, naming ``field`` (else ``what``).
    """
    ident = item_id(value, what, field)
    if zendesk_id(ident) is None:
        raise PayloadError(f"{what} {ident[:40]!r} is not a Zendesk ticket number (Zendesk numbers its tickets "
                           f"1, 2, 3, …)", field or what)
    return ident


def intercom_conversation(value: Any, what: str, field: str | None = None) -> str:
    """An Intercom conversation id from a payload (:func:`item_id`, and ASCII digits as Intercom issues them)."""
    ident = item_id(value, what, field)
    if conversation_number(ident) is None:
        raise PayloadError(f"{what} {ident[:40]!r} is not an Intercom conversation number", field or what)
    return ident


# -- Zendesk --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ZendeskEvent:
    """A Zendesk delivery: the ticket it is about (None for events frontline ignores)."""

    ticket_id: str | None
    kind: str
    event_id: str | None = None
    updated_at: str | None = None


def zendesk_event(body: bytes, *, ticket: IdReader = item_id) -> ZendeskEvent:
    """Read a Zendesk webhook body (a trigger's JSON, or a Zendesk event envelope); ``ticket`` reads its
    ticket id (:func:`zendesk_ticket` in front of Zendesk, where an id is a Zendesk ticket number)."""
    data = _json(body)
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith("zen:event-type:"):
        kind = text(kind, "type", limit=MAX_TEXT)
        event_id = optional_text(data.get("id"), "id", limit=MAX_ID) or None
        if not kind.startswith("zen:event-type:ticket."):
            return ZendeskEvent(None, kind, event_id)
        detail = data.get("detail")
        if not isinstance(detail, dict):
            raise PayloadError("a ticket event without a detail object", "detail")
        return ZendeskEvent(ticket(detail.get("id"), "detail.id"), kind, event_id,
                            _stamp(detail.get("updated_at"), "detail.updated_at"))
    raw = data.get("ticket_id")
    where = "ticket_id"
    if raw is None and isinstance(data.get("ticket"), dict):
        raw, where = data["ticket"].get("id"), "ticket.id"
    if raw is None:
        raise PayloadError('no "ticket_id": set the trigger\'s JSON body to {"ticket_id": "{{ticket.id}}"}',
                           "ticket_id")
    return ZendeskEvent(ticket(raw, where), "trigger", None, _stamp(data.get("updated_at"), "updated_at"))


def _stamp(value: Any, what: str) -> str | None:
    """A Zendesk ``updated_at`` as sent: a string is kept (refused if unstorable), anything else ignored."""
    return text(value, what, limit=MAX_TEXT) if isinstance(value, str) else None


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


def slack_request(body: bytes, content_type: str, *, tickets: IdReader = item_id,
                  conversations: IdReader = item_id) -> SlackRequest:
    """Read a Slack request: an interaction payload (form-encoded) or an Events API envelope (JSON).

    ``tickets`` and ``conversations`` read the ids in frontline's menus and buttons (:func:`zendesk_ticket`
    and :func:`intercom_conversation` in front of Zendesk and Intercom).
    """
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
    user = data.get("user")
    user_id = (optional_text(user.get("id"), "user.id", limit=MAX_TEXT) if isinstance(user, dict) else None) or ""
    actions = data.get("actions")
    found = tuple(action for raw in (actions if isinstance(actions, list) else [])
                  if (action := _slack_action(raw, user_id, tickets, conversations)) is not None)
    if not found:
        return SlackRequest("ignored", "block_actions without a frontline action")
    trigger = data.get("trigger_id")
    if isinstance(trigger, str):
        text(trigger, "trigger_id")
    delivery = trigger if isinstance(trigger, str) and 0 < len(trigger) <= 150 else None
    return SlackRequest("interaction", kind, delivery=delivery, actions=found)


def _slack_action(raw: Any, user: str, tickets: IdReader, conversations: IdReader) -> SlackAction | None:
    if not isinstance(raw, dict):
        return None
    action_id = raw.get("action_id")
    if action_id not in (RESOLVE_ACTION, CATEGORY_ACTION):
        return None
    stamp = text(raw["action_ts"], "actions[].action_ts", limit=MAX_TEXT) if isinstance(raw.get("action_ts"), str) \
        else None
    if action_id == RESOLVE_ACTION:
        conversation = conversations(raw.get("value"), "the button's value", "actions[].value")
        return SlackAction("resolve_escalation", conversation, None, user, stamp)
    if action_id == CATEGORY_ACTION:
        option = raw.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str) or "/" not in value:
            raise PayloadError("the category menu's value is not <ticket id>/<category>", MENU)
        item, _, category = value.rpartition("/")
        if not category.strip():
            raise PayloadError("the category menu's value names no category", MENU)
        ticket = tickets(item, "the menu's ticket id", MENU)
        return SlackAction("correct_category", ticket, category.strip(), user, stamp)
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
            # Text is kept as sent, but NUL is dropped (as an import does): refuse what no store can hold.
            if (found := json_problem(item, "", nul=True)) is not None:
                raise PayloadError(f"{found[0]} {found[1]}", found[0])
            record, _ = normalise_record(item)
            record["id"] = item_id(record["id"], "id")
        except ValueError as exc:  # PayloadError is one too
            ident = item.get("id", item.get("ticket_id"))
            error = {"index": index, "id": ident if isinstance(ident, str | int) else None, "error": str(exc)}
            if getattr(exc, "field", None):  # a PayloadError's or the importer's RowError's
                error["field"] = exc.field  # type: ignore[attr-defined]
            batch.errors.append(error)
            continue
        if record["id"] in seen:  # the later copy wins, as in an import
            batch.records[seen[record["id"]]] = record
            continue
        seen[record["id"]] = len(batch.records)
        batch.records.append(record)
    return batch
