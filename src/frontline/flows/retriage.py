"""Re-triage: a handled ticket the customer wrote to again is decided again, and only a change is acted on.

Called by the triage flow (:mod:`frontline.flows.triage`) for tickets it lists or is handed that it
has handled already with the same subject and body:

1. :meth:`RetriageStep.select` keeps those the customer wrote to after the last decision: more
   public customer messages than that decision saw (the embedded helpdesk lists its threads), or a
   later ``customer_updated_at`` (Zendesk's ``requester_updated_at``, sideloaded with the listing,
   so an agent's reply or frontline's own note costs no request). An agent's reply and a private
   note never count.
2. :meth:`RetriageStep.recheck` reads the thread where the listing had none, decides again on the
   whole text (subject, description and the customer's later messages: category, severity weighed
   again, links and incidents, language, route) and compares the decision with the stored one
   (category, team, severity and priority, incident, language, review).

   *Changed*: a reply in the original alert's thread (never a new top-level post; without an
   earlier alert there is nothing to reply to, and the note still says it), then the write-back
   (tags, the old decision's tags removed, priority, fields, a short private note saying what
   changed and why). *Unchanged*: nothing is written or posted.

   Either way a decision is recorded with a ``retriage`` entry (when, how many customer messages,
   what changed), so the same message is not checked again and ``frontline state show`` lists the
   history. The effects' keys carry the decision they revise and the count of customer messages:
   a run that crashes repeats none of them, and a later message is checked again with new keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from frontline.config import Settings
from frontline.engine.ledger import Ledger
from frontline.errors import describe
from frontline.flows.sla import due_fields, expectation
from frontline.model import Author, Message, Ticket, Triage, WriteBack, parse_timestamp
from frontline.ports import Chat, Helpdesk
from frontline.render import Renderer
from frontline.store.related import RelatedStore, RelatedTicket
from frontline.store.state import Decided, Decision, StateStore

# What a re-triage compares, in the order a note lists the changes, with the name it shows.
COMPARED = (("severity", "Severity"), ("priority", "Priority"), ("category", "Category"), ("channel", "Team"),
            ("incident", "Incident"), ("language", "Language"), ("review", "Review"))
EXCERPT = 300  # characters of the customer's latest message shown in the note and the reply


def followups(ticket: Ticket) -> list[Message]:
    """The customer's public messages after the ticket's description, oldest first (agents' and notes left out)."""
    return [m for m in ticket.messages[1:] if m.author is Author.CUSTOMER and m.public and m.body.strip()]


def whole_text(ticket: Ticket) -> Ticket:
    """``ticket`` with the customer's later messages after its description: what a re-triage classifies."""
    later = [m.body.strip() for m in followups(ticket)]
    return replace(ticket, description="\n\n".join([ticket.description, *later])) if later else ticket


def seen(decided: Decided) -> int:
    """How many later customer messages the decision was made with."""
    value = decided.fields.get("customer_messages")
    return value if isinstance(value, int) else 0


def wants_recheck(ticket: Ticket, decided: Decided) -> bool:
    """True when the customer may have written since ``decided`` (a new message listed, or a later update)."""
    if len(followups(ticket)) > seen(decided):
        return True
    at = ticket.customer_updated_at
    if at is None:
        return False
    recorded = parse_timestamp(decided.fields.get("customer_at"))
    return recorded is None or at > recorded  # none recorded (an older decision): the thread is read once


@dataclass(frozen=True, slots=True)
class Redecided:
    """A ticket decided again by the triage flow's own steps (classify, weigh, link, route)."""

    ticket: Ticket  # the whole text, as classified
    triage: Triage
    channel: str
    review: bool
    language: str | None
    incident: str | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """One compared value that differs: its label, before, after."""

    label: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.label} {self.before} → {self.after}"


@dataclass
class Rechecked:
    """What one re-check did: the changes (none: unchanged), references, problems; failed when not recorded."""

    ticket_id: str
    changes: list[Change] = field(default_factory=list)
    alert_ref: str | None = None
    writeback_ref: str | None = None
    problems: list[str] = field(default_factory=list)
    failed: str | None = None


def compared(category: str | None, severity: str | None, channel: object, incident: object, language: object,
             review: object, settings: Settings) -> dict[str, str]:
    """The values a re-triage compares, as text (``none`` for a missing one)."""
    priority = settings.priority_for(severity) if severity in settings.severities else None
    values = {"severity": severity, "priority": priority, "category": category, "channel": channel,
              "incident": incident, "language": language, "review": "yes" if review else "no"}
    return {name: str(value) if value not in (None, "") else "none" for name, value in values.items()}


def changes(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    """The compared values that differ, in :data:`COMPARED` order."""
    return [Change(label, before[name], after[name]) for name, label in COMPARED if before[name] != after[name]]


def excerpt(text: str) -> str:
    """The start of a message on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT - 1] + "…"


class RetriageStep:
    """Re-triage for one triage pass (see the module docstring)."""

    def __init__(self, *, settings: Settings, store: StateStore, helpdesk: Helpdesk, chat: Chat, renderer: Renderer,
                 ledger: Ledger, flow: str, decide: Callable[[list[Ticket]], Awaitable[list[Redecided]]],
                 tags: Callable[[str, str, bool, str | None], tuple[str, ...]]) -> None:
        self.settings = settings
        self.store = store
        self.helpdesk = helpdesk
        self.chat = chat
        self.renderer = renderer
        self.ledger = ledger
        self.flow = flow
        self.decide = decide
        self.tags = tags

    def select(self, tickets: Sequence[Ticket]) -> list[tuple[Ticket, Decided]]:
        """Those of ``tickets`` (handled, unchanged) the customer may have written to, with their decision."""
        if not tickets:
            return []
        decided = self.store.latest_decisions(self.flow, [t.id for t in tickets])
        return [(t, decided[t.id]) for t in tickets if t.id in decided and wants_recheck(t, decided[t.id])]

    async def recheck(self, pairs: Sequence[tuple[Ticket, Decided]]) -> list[Rechecked]:
        """Decide each ticket again; act on a changed decision; record both (see the module docstring)."""
        results: list[Rechecked] = []
        todo: list[tuple[Ticket, Ticket, Decided]] = []  # (as listed, with its thread, decision)
        for listed, decided in pairs:
            ticket = listed
            if len(followups(listed)) <= seen(decided):  # the listing carries no thread: read it
                try:
                    ticket = await self.helpdesk.get(listed.id)
                except Exception as error:
                    results.append(Rechecked(listed.id, failed=f"could not read the ticket's new messages: "
                                                                f"{describe(error)}"))
                    continue
            if len(followups(ticket)) > seen(decided):
                todo.append((listed, ticket, decided))
            # else: the requester changed something without writing (a CC, a field): nothing to decide
        if not todo:
            return results
        # Read before linking again: a decision older than re-triage kept its incident and thread only here.
        earlier = RelatedStore(self.store.engine).get(self.flow, [ticket.id for _, ticket, _ in todo])
        redecided = await self.decide([whole_text(ticket) for _, ticket, _ in todo])
        decisions = []
        for (listed, ticket, decided), again in zip(todo, redecided, strict=True):
            result, decision = await self._settle(listed, ticket, decided, again, earlier.get(ticket.id))
            results.append(result)
            if decision is not None:
                decisions.append(decision)
        self.store.complete(decisions)
        return results

    async def _settle(self, listed: Ticket, ticket: Ticket, decided: Decided, again: Redecided,
                      related: RelatedTicket | None) -> tuple[Rechecked, Decision | None]:
        fields = decided.fields
        incident = fields.get("incident", related.incident_id if related else None)
        before = compared(decided.category, decided.severity, fields.get("channel"), incident,
                          fields.get("language"), fields.get("review"), self.settings)
        triage = again.triage
        after = compared(triage.category, triage.severity, again.channel, again.incident, again.language,
                         again.review, self.settings)
        count = len(followups(ticket))
        result = Rechecked(ticket.id, changes(before, after), problems=list(again.problems))
        # The decision it revises and the messages it read: a crash redoes these keys, a later message makes new ones.
        version = f"d{decided.decision_id}:m{count}"
        latest = followups(ticket)[-1].body
        sla = None
        if result.changes:
            sla = expectation(ticket, triage.severity, self.settings, result.problems)
            why = self._why(result.changes, triage, fields, latest)
            # The thread the ticket's alert is in: its own, or the incident's or first duplicate's it replied in.
            thread = fields.get("alert_thread") or (related.alert_ref if related else None) or fields.get("alert_ref")
            await self._reply(ticket, fields, thread, result, version, why, latest)
            written = await self._write_back(ticket, decided, again, result, version, why, sla)
            if not written:
                return result, None
        entry = {"at": datetime.now(UTC).isoformat(), "customer_messages": count, "message": excerpt(latest),
                 "changed": [{"field": c.label, "before": c.before, "after": c.after} for c in result.changes],
                 "alert_ref": result.alert_ref, "writeback_ref": result.writeback_ref, "problems": result.problems}
        new_fields: dict[str, Any] = {**fields, "customer_messages": count, "retriage": entry,
                                      "customer_at": ticket.customer_updated_at.isoformat()
                                      if ticket.customer_updated_at else fields.get("customer_at")}
        category, severity = decided.category, decided.severity
        if result.changes:
            category, severity = triage.category, triage.severity
            new_fields.update(summary=triage.summary, flags=list(triage.flags), reasons=list(triage.reasons),
                              channel=again.channel, review=again.review, incident=again.incident,
                              language=again.language, sla=sla.as_fields() if sla else None)
        # Recorded under the version the ticket was handled with (its subject and body), so the pass goes on
        # treating it as handled; the inputs hash is the whole text's.
        decision = Decision(flow=self.flow, item_id=ticket.id, version=listed.content_version,
                            inputs_hash=again.ticket.inputs_hash(), classifier=triage.classifier,
                            confidence=triage.confidence, category=category, severity=severity, fields=new_fields)
        return result, decision

    @staticmethod
    def _why(found: list[Change], triage: Triage, fields: dict[str, Any], latest: str) -> str:
        """What changed and why, in one line: ``Severity P3 → P1: outage: keywords data loss``."""
        old = set(fields.get("reasons") or ())
        new = [r for r in triage.reasons if r not in old]
        because = "; ".join(new[:2]) or f"the customer wrote \"{excerpt(latest)[:120]}\""
        return f"{', '.join(str(c) for c in found)}: {because}"

    async def _reply(self, ticket: Ticket, fields: dict[str, Any], thread: object, result: Rechecked, version: str,
                     why: str, latest: str) -> None:
        """The change as a reply in the original alert's thread, once; never a new top-level post."""
        if not isinstance(thread, str) or not thread:
            result.problems.append("no earlier alert to reply to: the change is in the ticket's note only")
            return
        channel = str(fields.get("channel") or self.settings.routing.fallback)
        try:
            message = self.renderer.chat_message(
                "retriage_text.j2", "retriage_blocks.json.j2", ticket_id=ticket.id, subject=ticket.subject,
                changes=[str(c) for c in result.changes], why=why, message=excerpt(latest))
        except Exception as error:
            result.problems.append(f"re-triage alert not rendered: {describe(error)}")
            return

        async def find(key: str) -> str | None:
            return await self.chat.find_posted(key, thread=thread)

        async def post(key: str) -> tuple[str, str]:
            return await self.chat.post(channel, message, key, thread=thread), channel

        try:
            result.alert_ref = await self.ledger.once(ticket.id, "retriage_alert", version, channel, find=find,
                                                      do=post)
        except Exception as error:
            result.problems.append(f"re-triage alert failed: {describe(error)}")

    async def _write_back(self, ticket: Ticket, decided: Decided, again: Redecided, result: Rechecked, version: str,
                          why: str, sla: Any) -> bool:
        """Tags (the old decision's replaced), priority, fields and a short note, once; False when it failed."""
        triage, fields = again.triage, decided.fields
        added = self.tags(triage.category, triage.severity, again.review, again.language)
        old = self.tags(decided.category or "", decided.severity or "", bool(fields.get("review")),
                        fields.get("language"))
        templates = {**self.settings.writeback.custom_fields, **self.helpdesk.field_templates}
        custom = {name: value.format(category=triage.category, severity=triage.severity)
                  for name, value in templates.items() if not (again.review and "{category}" in value)}

        def update(key: str) -> WriteBack:
            try:
                note = self.renderer.render("retriage_note.md.j2", why=why, changes=[str(c) for c in result.changes],
                                            reasons=list(triage.reasons), problems=result.problems, marker=key,
                                            alert=result.alert_ref)
            except Exception as error:  # the write-back always goes: a plain note rather than none
                note = f"frontline re-triage: {why}\nNote template failed: {describe(error)}\n[{key}]\n"
            return WriteBack(ticket_id=ticket.id, add_tags=added, priority=self.settings.priority_for(triage.severity),
                             note=note, marker=key, custom_fields=custom | due_fields(sla, self.settings),
                             remove_tags=tuple(t for t in old if t not in added))

        async def find(ticket_id: str, key: str) -> str | None:
            try:
                return await self.helpdesk.find_marker(ticket_id, key)
            except Exception as error:
                result.problems.append(f"could not check for an earlier re-triage note: {describe(error)}")
                return None

        async def write(pending: Sequence[tuple[str, str]]) -> list[str | BaseException | None]:
            answers = await self.helpdesk.write_back([update(key) for _, key in pending])
            return [a.remote_ref if a.error is None else a.error for a in answers]

        done = await self.ledger.many([(ticket.id, version)], "retriage_writeback", self.helpdesk.name, find=find,
                                      do=write)
        answer = done[ticket.id]
        if isinstance(answer, BaseException):
            result.failed = f"re-triage write-back failed: {describe(answer)}"
            return False
        result.writeback_ref = answer
        return True


__all__ = ["Change", "Rechecked", "Redecided", "RetriageStep", "changes", "compared", "followups",
           "wants_recheck", "whole_text"]
