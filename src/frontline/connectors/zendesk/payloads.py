"""Zendesk JSON ↔ frontline's domain types. Pure: no I/O, so every shape is testable on its own."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from frontline.model import Author, Company, Message, Requester, Ticket, WriteBack, normalise_id, parse_timestamp

SOURCE = "zendesk"
MONEY = re.compile(r"[^0-9.\-]")
MAX_ID = 2**63 - 1  # Zendesk's ids are signed 64-bit integers
MAX_DIGITS = len(str(MAX_ID))


def zendesk_id(value: object) -> int | None:
    """The numeric Zendesk id (ticket, user, organization) behind ``42``, ``42.0`` or ``"42"``, else None.

    Zendesk's ids are JSON integers, but JSON bridges (a tool layer) hand them over as ``42.0``.
    Anything else is no Zendesk id, even when Python could read a number from it: ``"007"``,
    ``"+7"``, ``"1_000"`` or the Arabic-Indic ``"\u0667"`` would be sent as another ticket's number.
    """
    try:
        text = normalise_id(value)
    except ValueError:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS or (text.startswith("0") and text != "0"):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def money(value: object) -> float | None:
    """An MRR organization field as a number: ``1200``, ``"1,200.50"`` and ``"$1200"`` all work."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    cleaned = MONEY.sub("", str(value))
    try:
        return float(cleaned) if cleaned else None
    except ValueError:
        return None


def listed_label(value: object, position: int) -> str:
    """How a listed entry is named when it cannot be read: its id as given, else its place on the page."""
    if value is None or isinstance(value, Mapping | list) or not str(value).strip():
        return f"position {position} on the page"
    return str(value).strip()[:60]


def sort_listed(entries: object, statuses: Iterable[str]) -> tuple[list[Mapping[str, Any]], list[tuple[str, str]]]:
    """An export page's tickets in ``statuses``, and ``(id or position, reason)`` for each entry that cannot be read.

    A ticket in another status is not wanted whatever else is wrong with it; an entry that is not
    an object, has no status, or has an id that is not a Zendesk ticket id is named, never dropped.
    """
    wanted: list[Mapping[str, Any]] = []
    unreadable: list[tuple[str, str]] = []
    allowed = set(statuses)
    again = "it is listed again next run"
    for position, entry in enumerate(entries if isinstance(entries, list) else (), start=1):
        if not isinstance(entry, Mapping):
            unreadable.append((listed_label(None, position),
                               f"Zendesk listed {type(entry).__name__} {str(entry)[:40]!r} instead of a ticket; "
                               f"{again} (check ZENDESK_BASE_URL if a proxy rewrites answers)"))
            continue
        status = entry.get("status")
        if isinstance(status, str) and status not in allowed:
            continue
        raw_id = entry.get("id")
        if raw_id is None:
            unreadable.append((listed_label(None, position), f"Zendesk listed a ticket without an id; {again}"))
        elif zendesk_id(raw_id) is None:
            unreadable.append((listed_label(raw_id, position),
                               f"Zendesk listed a ticket whose id {raw_id!r} is not a ticket number, so nothing "
                               f"can be written back to it; {again}"))
        elif not isinstance(status, str):
            unreadable.append((listed_label(zendesk_id(raw_id), position),
                               f"Zendesk listed the ticket without a status; {again}"))
        else:
            wanted.append(entry)
    return wanted, unreadable


@dataclass(frozen=True)
class Sideloads:
    """Users and organizations returned beside tickets (``include=users,organizations``), by id."""

    users: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    organizations: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    metric_sets: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)  # by ticket id, not their own

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Sideloads:
        """The sideloads of one response body."""
        return cls(_by_id(body.get("users")), _by_id(body.get("organizations")),
                   _by_id(body.get("metric_sets"), "ticket_id"))

    def user(self, user_id: object) -> Mapping[str, Any]:
        """The user ``user_id`` refers to (``7``, ``7.0`` or ``"7"``), or an empty mapping."""
        number = zendesk_id(user_id)
        return self.users.get(number, {}) if number is not None else {}

    def organization(self, org_id: object) -> Mapping[str, Any] | None:
        """The organization ``org_id`` refers to, or None."""
        number = zendesk_id(org_id)
        return self.organizations.get(number) if number is not None else None


def _by_id(items: object, key: str = "id") -> dict[int, Mapping[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {number: item for item in items
            if isinstance(item, Mapping) and (number := zendesk_id(item.get(key))) is not None}


@dataclass(frozen=True)
class TicketReader:
    """Builds :class:`Ticket` objects from Zendesk tickets and their sideloads."""

    plan_field: str = "plan"
    mrr_field: str = "mrr"

    def ticket(self, raw: Mapping[str, Any], sideloads: Sideloads,
               comments: Sequence[Mapping[str, Any]] | None = None) -> Ticket:
        """One ticket; ``comments`` (oldest first) make the thread, else the first comment alone.

        Raises ValueError when the ticket's id is not a Zendesk id (nothing could be written back to it).
        """
        number = zendesk_id(raw.get("id"))
        if number is None:
            raise ValueError(f"its id {raw.get('id')!r} is not a Zendesk ticket id")
        requester_id = zendesk_id(raw.get("requester_id"))
        user = sideloads.user(requester_id)
        created = parse_timestamp(raw.get("created_at"))
        # The ticket's description *is* its first comment, so listing needs no request per ticket.
        description = str(raw.get("description") or "")
        metric = m if isinstance(m := raw.get("metric_set"), Mapping) else sideloads.metric_sets.get(number, {})
        if comments:
            messages = tuple(self._message(c, requester_id) for c in comments)
        else:
            messages = (Message(Author.CUSTOMER, description, created),)
        return Ticket(
            id=str(number),
            subject=str(raw.get("subject") or raw.get("raw_subject") or ""),
            description=description,
            requester=Requester(name=str(user.get("name") or ""), email=str(user.get("email") or "")),
            company=self._company(raw, user, sideloads),
            messages=messages,
            tags=tuple(str(tag) for tag in raw.get("tags") or ()),
            priority=raw.get("priority") or None,
            status=str(raw.get("status") or "new"),
            created_at=created,
            updated_at=parse_timestamp(raw.get("updated_at")),
            source=SOURCE,
            policy_due=policy_due(raw.get("slas")),
            customer_updated_at=parse_timestamp(metric.get("requester_updated_at")),  # include=metric_sets
        )

    def _company(self, raw: Mapping[str, Any], user: Mapping[str, Any], sideloads: Sideloads) -> Company | None:
        org_id = raw.get("organization_id") or user.get("organization_id")
        org = sideloads.organization(org_id)
        if org is None:
            return None
        fields = org.get("organization_fields") or {}
        plan = fields.get(self.plan_field)
        return Company(name=str(org.get("name") or ""),
                       plan=str(plan).strip() if plan not in (None, "") else None,
                       mrr=money(fields.get(self.mrr_field)))

    @staticmethod
    def _message(comment: Mapping[str, Any], requester_id: int | None) -> Message:
        author = Author.CUSTOMER if requester_id is not None and zendesk_id(comment.get("author_id")) == requester_id \
            else Author.AGENT
        body = comment.get("plain_body") or comment.get("body") or ""
        return Message(author, str(body), parse_timestamp(comment.get("created_at")), bool(comment.get("public", True)))


# Zendesk's SLA policy metrics (``include=slas``) behind frontline's two, the first one found winning.
POLICY_METRICS = {
    "first_response": ("first_reply_time",),
    # Until solved: Zendesk's requester wait time counts new, open and on-hold; agent work time leaves
    # on-hold out.
    "resolution": ("total_resolution_time", "requester_wait_time", "agent_work_time"),
}


def policy_due(slas: object) -> tuple[tuple[str, datetime], ...]:
    """The due times of a ticket's ``slas.policy_metrics`` (``breach_at``) as (first_response | resolution, when).

    A metric without a ``breach_at`` (paused, or the ticket matches no policy) is left out, and so
    is anything of another shape: frontline then computes that due time itself.
    """
    metrics = slas.get("policy_metrics") if isinstance(slas, Mapping) else None
    found: dict[str, datetime] = {}
    for entry in metrics if isinstance(metrics, list) else ():
        if isinstance(entry, Mapping) and (at := parse_timestamp(entry.get("breach_at"))) is not None:
            found.setdefault(str(entry.get("metric")), at)
    due = []
    for ours, theirs in POLICY_METRICS.items():
        at = next((found[name] for name in theirs if name in found), None)
        if at is not None:
            due.append((ours, at))
    return tuple(due)


def ticket_changes(update: WriteBack) -> dict[str, Any]:
    """The ``ticket`` object of one update: tags added (never replaced), priority, fields, a private note."""
    changes: dict[str, Any] = {}
    if update.add_tags:
        # additional_tags appends; `tags` would replace what agents and triggers already set.
        changes["additional_tags"] = list(dict.fromkeys(update.add_tags))
    if update.remove_tags:
        changes["remove_tags"] = [tag for tag in dict.fromkeys(update.remove_tags) if tag not in update.add_tags]
    if update.priority:
        changes["priority"] = update.priority
    fields = custom_field_values(update.custom_fields)
    if fields:
        changes["custom_fields"] = fields
    if update.ticket_type:
        changes["type"] = update.ticket_type  # problem / incident: the native link of an incident's tickets
    if update.problem_id and update.problem_id.isdigit():
        changes["problem_id"] = int(update.problem_id)
    changes["comment"] = {"body": update.note, "public": False}
    return changes


def custom_field_values(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rendered write-back fields as Zendesk's ``[{id, value}]``; only numeric keys are Zendesk field ids."""
    found = []
    for key, value in values.items():
        text = str(key).strip()
        if text.isdigit():
            found.append({"id": int(text), "value": "" if value is None else str(value)})
    return found


def note_reference(body: Mapping[str, Any], ticket: int) -> str:
    """The new private note's reference from an Update Ticket answer (its comment id when shown)."""
    audit = body.get("audit") or {}
    for event in audit.get("events") or ():
        if isinstance(event, Mapping) and event.get("type") == "Comment" and event.get("id") is not None:
            return comment_reference(event["id"])
    if audit.get("id") is not None:
        return f"audit:{zendesk_id(audit['id']) or audit['id']}"
    return f"ticket:{ticket}"


def comment_reference(comment_id: object) -> str:
    """The reference frontline keeps for a private note: ``comment:ID`` (``comment:7``, never ``comment:7.0``)."""
    return f"comment:{zendesk_id(comment_id) or comment_id}"


def carries_marker(comment: Mapping[str, Any], marker: str) -> bool:
    """A private note (not a public reply) whose text holds ``marker``."""
    if comment.get("public", True):
        return False
    return any(marker in str(comment.get(key) or "") for key in ("body", "plain_body", "html_body"))


def job_outcomes(job: Mapping[str, Any], tickets: Iterable[int]) -> dict[int, tuple[bool, str]]:
    """Per ticket of a finished job: (updated, why not). A ticket the job does not mention failed."""
    results = job.get("results")
    by_id: dict[int, Mapping[str, Any]] = {}
    if isinstance(results, list):
        by_id = {number: r for r in results
                 if isinstance(r, Mapping) and (number := zendesk_id(r.get("id"))) is not None}
    status = job.get("status")
    outcomes: dict[int, tuple[bool, str]] = {}
    for ticket in tickets:
        result = by_id.get(ticket)
        if result is not None and result.get("success") is True:
            outcomes[ticket] = (True, "")
        elif result is not None:
            words = ": ".join(str(result[k]) for k in ("error", "details") if result.get(k))
            outcomes[ticket] = (False, words or "the update failed")
        else:
            said = f" ({job['message']})" if job.get("message") else ""
            outcomes[ticket] = (False, f"the job ended {status or 'without a status'}{said} and did not update it")
    return outcomes


def validation_details(body: object) -> str:
    """Zendesk's per-field reasons for refusing an update (``details``), in one line."""
    details = body.get("details") if isinstance(body, Mapping) else None
    if not isinstance(details, Mapping):
        return ""
    reasons = []
    for field_name, problems in details.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            text = problem.get("description") if isinstance(problem, Mapping) else problem
            if text:
                reasons.append(str(text) if field_name == "base" else f"{field_name}: {text}")
    return "; ".join(reasons)[:300]

