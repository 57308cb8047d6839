"""Triage's incidents step: link each ticket to earlier similar ones, and open incidents across customers.

Called by the triage flow (:mod:`frontline.flows.triage`) once per page, in four moments:

1. :meth:`IncidentStep.link`, after classifying and before any alert: each ticket, oldest first, is
   compared with earlier tickets (a :class:`~frontline.decide.duplicates.SimilarFinder`: by default the
   duplicate finder, sentence encoder plus BM25, with ``[incidents] embeddings``; the page's tickets
   are encoded in one batch and cached in the store). Those scoring the duplicate threshold or more
   are its *duplicates*; those scoring the incident threshold or more report the same problem,
   perhaps in other words (``[incidents] threshold`` and ``incident_threshold``, else the finder's
   defaults). When one of those is in an incident still current (its reports span the ticket's
   creation time, give or take the window) the ticket joins it; otherwise, when the ticket and those
   tickets created within ``window_minutes`` of it come from at least ``customers`` distinct
   customers, one incident opens with them all. Windows are measured on the tickets' own creation
   times, so a backlog triaged hours later finds the incidents live triage would have. A member's
   severity goes up one level.
2. :meth:`IncidentStep.effects`, before the page's alerts: each incident touched gets its tracker
   issue and its alert once (the engine's ledger, keyed by the incident), and an alert posted earlier
   is updated to the current members (``chat.update``: updating is idempotent by nature).
3. :meth:`IncidentStep.thread_for`, per alert: a member's alert is a reply in the incident alert's
   thread; a duplicate's goes into the thread of the first linked ticket's alert (waiting for it
   when that ticket is on the same page).
4. :meth:`IncidentStep.alerted` and :meth:`IncidentStep.record_alerts`: where each alert went, so a
   later duplicate finds its thread. Notes and alerts list the links (:meth:`annotate_note`,
   :meth:`decorate`).

**Exactly once.** Related tickets, incidents and members are stored before any effect, with
``ON CONFLICT DO NOTHING``: a page redone after a crash finds the same links and the same incident
(its id is made from the flow and its first member). The incident's alert and issue go through the
ledger; a member's alert keeps its own key, and a reply planned before a crash is looked for in its
thread (:meth:`thread_hint`) before it is posted again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from frontline.config import Settings
from frontline.decide import embeddings
from frontline.decide.duplicates import DuplicateIndex, IndexFinder, PageCache, SimilarFinder, TicketText
from frontline.decide.incident import customer_of, forms_incident, plan_mix, within
from frontline.engine.ledger import Ledger
from frontline.errors import describe
from frontline.flows.base import post_with_fallback
from frontline.flows.incidents_settings import IncidentSettings
from frontline.model import ChatMessage, IssueDraft, Ticket, Triage, WriteBack
from frontline.ports import Chat, Helpdesk, Tracker
from frontline.render import Renderer
from frontline.store.embeddings import EmbeddingCache
from frontline.store.related import IncidentRecord, Member, RelatedStore, RelatedTicket
from frontline.store.state import StateStore

SECTION = "incidents"
VERSION = "1"  # an incident has one alert and one issue; its updates are not separate effects


@dataclass(frozen=True, slots=True)
class Links:
    """What one ticket was linked to."""

    duplicates: tuple[tuple[str, float], ...] = ()
    parent: str | None = None  # the earliest linked ticket: its alert's thread is this one's
    incident: str | None = None
    incident_size: int = 0  # distinct customers in the incident
    incident_tickets: int = 0
    first: str | None = None  # the incident's first report


class IncidentStep:
    """Duplicates and incidents for one triage pass (see the module docstring)."""

    def __init__(self, *, settings: Settings, store: StateStore, chat: Chat, tracker: Tracker | None,
                 renderer: Renderer, ledger: Ledger, flow: str, finder: SimilarFinder | None = None,
                 helpdesk: Helpdesk | None = None) -> None:
        self.options: IncidentSettings = settings.section(SECTION)
        self.settings = settings
        self.related = RelatedStore(store.engine)
        self.chat = chat
        self.tracker = tracker
        self.helpdesk = helpdesk
        self.renderer = renderer
        self.ledger = ledger
        self.flow = flow
        self.finder = finder
        self.links: dict[str, Links] = {}
        self.problems: dict[str, list[str]] = {}  # ticket id → problems of its incident's effects
        self._touched: dict[str, str] = {}  # incident id → the channel of the ticket that opened or joined it
        self._refs: dict[str, str] = {}  # incident id → its alert's reference
        self._events: dict[str, asyncio.Event] = {}
        self._roots: dict[str, str] = {}  # ticket id → the thread its alert is in (or the alert itself)
        self._page: set[str] = set()  # the tickets of the page being linked: their own notes link their incident
        self._pending: dict[str, RelatedTicket] = {}  # this page's rows, stored together when it is linked

    @property
    def enabled(self) -> bool:
        """False when ``[incidents] enabled = false``."""
        return self.options.enabled

    # -- 1. linking ------------------------------------------------------------------------------
    def _finder(self, oldest: datetime) -> SimilarFinder:
        """The duplicate finder, built on first use from the tickets stored since ``oldest``, then kept."""
        if self.finder is None:
            encoder = embeddings.load_encoder(self.options.embeddings)
            finder = IndexFinder(DuplicateIndex(encoder, cache=PageCache(EmbeddingCache(self.related.engine))),
                                 duplicate=self.options.threshold, same=self.options.incident_threshold)
            finder.remember([TicketText(row.ticket_id, row.summary.split("\n", 1)[0], row.body, row.created_at)
                             for row in self.related.since(self.flow, oldest)])
            self.finder = finder
        return self.finder

    def link(self, tickets: Sequence[tuple[Ticket, str]]) -> None:
        """Link each ticket (with the channel it is routed to), oldest first; open or join incidents."""
        if not tickets:
            return
        options = self.options
        window = timedelta(minutes=options.window_minutes)
        lookback = timedelta(days=options.lookback_days)
        now = datetime.now(UTC)
        ordered = sorted(tickets, key=lambda pair: (pair[0].created_at or now, pair[0].id))
        finder = self._finder((ordered[0][0].created_at or now) - lookback)
        finder.prepare([ticket for ticket, _ in ordered])
        self._page = {ticket.id for ticket, _ in ordered}
        channels = dict((ticket.id, channel) for ticket, channel in ordered)
        for ticket, channel in ordered:
            created = ticket.created_at or now
            floor = min(finder.duplicate, finder.same)
            scored = [(i, s) for i, s in finder.similar(ticket, options.candidates) if s >= floor and i != ticket.id]
            rows = self._rows(i for i, _ in scored)
            alike = tuple((i, s) for i, s in scored if i in rows and rows[i].created_at >= created - lookback)
            found = tuple((i, s) for i, s in alike if s >= finder.duplicate)  # duplicates
            same = [(i, s) for i, s in alike if s >= finder.same]  # the same problem, maybe reworded
            customer = customer_of(ticket)
            incident = self._current(same, rows, created, window)
            if incident is not None:
                self.related.join(incident.id, self.flow, [Member(ticket.id, created, customer, noted=True)])
                self._joined(incident.id, [ticket.id])
            else:
                group = [Member(i, rows[i].created_at, rows[i].customer) for i, _ in same
                         if rows[i].incident_id is None and within(rows[i].created_at, created, window)]
                if forms_incident([customer, *(m.customer for m in group)], options.customers):
                    members = sorted([Member(ticket.id, created, customer, noted=True), *group],
                                     key=lambda m: (m.created_at, m.ticket_id))
                    first = rows[members[0].ticket_id].summary if members[0].ticket_id in rows else _summary(ticket)
                    incident = self.related.open(IncidentRecord(
                        f"{self.flow}/{members[0].ticket_id}", self.flow, "open", members[0].created_at,
                        members[-1].created_at, first, tuple(members)))
                    self._joined(incident.id, [m.ticket_id for m in members])
            company = ticket.company
            self._pending[ticket.id] = RelatedTicket(
                ticket.id, created, customer, company.plan if company else None, company.mrr if company else None,
                _summary(ticket), ticket.description.strip(), duplicates=found,
                incident_id=incident.id if incident else None)
            finder.add(ticket)
            size = tickets_in = 0
            first_report = None
            if incident is not None:
                current = self.related.incident(incident.id) or incident
                size, tickets_in = len({m.customer for m in current.members}), len(current.members)
                first_report = current.members[0].ticket_id if current.members else None
                self._touched.setdefault(incident.id, channel)
            parent = min(found, key=lambda pair: (rows[pair[0]].created_at, pair[0]))[0] if found else None
            self.links[ticket.id] = Links(found, parent, incident.id if incident else None, size, tickets_in,
                                          first_report)
        pending, self._pending = self._pending, {}
        self.related.record(self.flow, list(pending.values()))  # one statement for the page
        self._settle(channels)

    def _rows(self, ticket_ids: Iterable[str]) -> dict[str, RelatedTicket]:
        """The stored rows of these tickets, this page's own as linked so far."""
        wanted = list(ticket_ids)
        rows = self.related.get(self.flow, [i for i in wanted if i not in self._pending])
        rows.update((i, self._pending[i]) for i in wanted if i in self._pending)
        return rows

    def _joined(self, incident_id: str, ticket_ids: Sequence[str]) -> None:
        """This page's rows of these tickets are in the incident now (the stored ones were updated by the join)."""
        for ticket_id in ticket_ids:
            if ticket_id in self._pending:
                self._pending[ticket_id] = replace(self._pending[ticket_id], incident_id=incident_id)

    def _settle(self, channels: dict[str, str]) -> None:
        """Give every ticket of the page its incident as it stands after the whole page was linked.

        A ticket linked before the incident opened on this page (it was one of the reports that made
        it) is a member now: its alert, note and severity show the incident like the others'.
        """
        rows = self.related.get(self.flow, list(channels))
        sizes: dict[str, tuple[int, int, str | None]] = {}
        for ticket_id, row in rows.items():
            if row.incident_id is None or ticket_id not in self.links:
                continue
            if row.incident_id not in sizes:
                incident = self.related.incident(row.incident_id)
                members = incident.members if incident else ()
                sizes[row.incident_id] = (len({m.customer for m in members}), len(members),
                                          members[0].ticket_id if members else None)
                self.related.noted(row.incident_id, [m.ticket_id for m in members if m.ticket_id in channels])
            links = self.links[ticket_id]
            self.links[ticket_id] = Links(links.duplicates, links.parent, row.incident_id, *sizes[row.incident_id])
            self._touched.setdefault(row.incident_id, channels[ticket_id])

    def _current(self, found: Sequence[tuple[str, float]], rows: dict[str, RelatedTicket], created: datetime,
                 window: timedelta) -> IncidentRecord | None:
        """The incident of a linked ticket whose reports span ``created`` (give or take the window)."""
        for ticket_id, _ in found:
            incident_id = rows[ticket_id].incident_id
            if incident_id is None:
                continue
            incident = self.related.incident(incident_id)
            if incident is not None and incident.first_at - window <= created <= incident.latest_at + window:
                return incident
        return None

    def incident_size(self, ticket_id: str) -> int:
        """How many distinct customers are in the ticket's incident (0: none); urgency weighs it."""
        links = self.links.get(ticket_id)
        return links.incident_size if links else 0

    def adjust(self, ticket_id: str, triage: Triage, reweigh: Callable[[Triage, int], Triage]) -> Triage:
        """``triage`` weighed again with its incident's size when the ticket is in one (``raise_severity``).

        ``reweigh(triage, customers)`` is the severity's business-impact weighing
        (:func:`frontline.decide.triage.weigh`), so an incident's scope counts with the customer's value
        and tone in one place instead of raising a level on its own.
        """
        links = self.links.get(ticket_id)
        if links is None or links.incident is None or not self.options.raise_severity:
            return triage
        weighed = reweigh(triage, links.incident_size)
        reason = f"part of incident {links.incident}: {links.incident_size} customers, {links.incident_tickets} tickets"
        return weighed.with_changes(reasons=(*weighed.reasons, reason))

    # -- 2. the incidents' alert and issue -------------------------------------------------------------
    async def effects(self) -> None:
        """Each incident touched on this page: its tracker issue and alert once, an earlier alert updated."""
        touched, self._touched = self._touched, {}
        for incident_id, channel in touched.items():
            incident = self.related.incident(incident_id)
            if incident is None:
                continue
            problems: list[str] = []
            issue = await self._issue(incident, problems)
            message = self.message(incident, issue)
            posted_now: list[str] = []

            async def post(key: str, message: ChatMessage = message, channel: str = channel,
                           problems: list[str] = problems, posted_now: list[str] = posted_now) -> tuple[str, str]:
                ref, where = await post_with_fallback(self.chat, self.options.channel or channel,
                                                      self.settings.routing.fallback, message, key, [problems])
                if ref is None:
                    raise RuntimeError(problems[-1] if problems else "the incident alert was not posted")
                posted_now.append(ref)
                return ref, where

            try:
                ref = await self.ledger.once(incident_id, "incident_alert", VERSION, self.options.channel or channel,
                                             find=self.chat.find_posted, do=post)
                self._refs[incident_id] = ref
                if not posted_now:
                    await self.chat.update(ref, message)
            except Exception as error:
                problems.append(f"incident alert failed: {describe(error)}")
            await self._follow_ups(incident, problems)
            for member in incident.members:
                if problems:
                    self.problems.setdefault(member.ticket_id, []).extend(problems)

    async def _follow_ups(self, incident: IncidentRecord, problems: list[str]) -> None:
        """A note linking the incident on each member triaged before it opened (once, through the ledger)."""
        helpdesk = self.helpdesk
        pending = [m.ticket_id for m in incident.members if not m.noted and m.ticket_id not in self._page]
        if helpdesk is None or not pending:
            return
        ref = self._refs.get(incident.id)
        facts = self._facts(incident)

        async def find(ticket_id: str, key: str) -> str | None:
            try:
                return await helpdesk.find_marker(ticket_id, key)
            except Exception as error:
                problems.append(f"could not check for an earlier incident note: {describe(error)}")
                return None

        async def write(items: Sequence[tuple[str, str]]) -> list[str | BaseException | None]:
            first = incident.members[0].ticket_id
            notes = [WriteBack(ticket_id, (), None, (
                f"frontline: this ticket is part of incident {incident.id}: {facts['customers']} customers, "
                f"{facts['size']} tickets (first report {facts['first_at']}, latest {facts['latest_at']})"
                + (f"; incident alert {ref}" if ref else "") + f".\n[{key}]\n"), key, {},
                *self._native(ticket_id, first)) for ticket_id, key in items]
            results = await helpdesk.write_back(notes)
            return [result.remote_ref if result.error is None else result.error for result in results]

        done = await self.ledger.many([(ticket_id, incident.id) for ticket_id in pending], "incident_note",
                                      helpdesk.name, find=find, do=write)
        failed = [ticket_id for ticket_id, answer in done.items() if isinstance(answer, BaseException)]
        if failed:
            problems.append(f"incident note failed on {', '.join(failed)}")
        self.related.noted(incident.id, [ticket_id for ticket_id in done if ticket_id not in failed])

    def _native(self, ticket_id: str, first: str | None) -> tuple[str | None, str | None]:
        """(ticket type, problem id) of a member (``native_links``): the first a problem, the others its incidents."""
        if not self.options.native_links or first is None:
            return None, None
        if ticket_id == first:
            return "problem", None
        return "incident", first

    def native_link(self, ticket_id: str) -> tuple[str | None, str | None]:
        """(ticket type, problem id) of the ticket's write-back; (None, None) outside incidents or with links off."""
        links = self.links.get(ticket_id)
        if links is None or links.incident is None:
            return None, None
        return self._native(ticket_id, links.first)

    async def _issue(self, incident: IncidentRecord, problems: list[str]) -> str | None:
        """The incident's tracker issue (created once, found by its marker), as "ENG-1 url"; None without one."""
        tracker = self.tracker
        if tracker is None or not self.options.tracker:
            return None

        async def find(key: str) -> str | None:
            found = await tracker.find_issue(key)
            return f"{found.identifier} {found.url}".strip() if found else None

        async def create(key: str) -> tuple[str, str]:
            body = self.renderer.render("incident_issue.md.j2", marker=key, **self._facts(incident))
            title = f"Incident: {len({m.customer for m in incident.members})} customers report " \
                    f"{incident.summary.splitlines()[0][:120] if incident.summary else 'one problem'}"
            found = await tracker.create_issue(IssueDraft(title, body, key, ("incident",), None, "P1"))
            return f"{found.identifier} {found.url}".strip(), tracker.name

        try:
            return await self.ledger.once(incident.id, "incident_issue", VERSION, tracker.name, find=find, do=create,
                                          always_find=True)
        except Exception as error:
            problems.append(f"incident issue failed: {describe(error)}")
            return None

    def _facts(self, incident: IncidentRecord) -> dict[str, Any]:
        rows = self.related.get(self.flow, [m.ticket_id for m in incident.members])
        accounts: dict[str, RelatedTicket] = {}
        for member in incident.members:
            row = rows.get(member.ticket_id)
            if row is not None:
                accounts.setdefault(member.customer, row)
        mrr = sum(row.mrr or 0.0 for row in accounts.values())
        subject, _, body = incident.summary.partition("\n")
        return {"customers": len({m.customer for m in incident.members}), "size": len(incident.members),
                "accounts": [name.partition(":")[2] for name in accounts], "plan_mix": plan_mix(
                    [row.plan for row in accounts.values()]), "mrr": f"{mrr:,.0f}",
                "first_at": incident.first_at.strftime("%Y-%m-%d %H:%M UTC"),
                "latest_at": incident.latest_at.strftime("%Y-%m-%d %H:%M UTC"),
                "subject": subject, "summary": body or subject, "tickets": [m.ticket_id for m in incident.members]}

    def message(self, incident: IncidentRecord, issue: str | None = None) -> ChatMessage:
        """The incident alert: accounts affected, plan mix, MRR at risk, first and latest report, a report's text."""
        return self.renderer.chat_message("incident_text.j2", "incident_blocks.json.j2", issue=issue,
                                          **self._facts(incident))

    # -- 3. where each alert goes -------------------------------------------------------------------
    def expect(self, ticket_ids: Sequence[str]) -> None:
        """These tickets' alerts are about to go out: a duplicate on the same page waits for its parent's."""
        self._events = {ticket_id: asyncio.Event() for ticket_id in ticket_ids}

    def release(self) -> None:
        """Every alert of the page is settled (sent or failed): nobody waits any more."""
        for event in self._events.values():
            event.set()

    def thread_hint(self, ticket_id: str) -> str | None:
        """The thread the ticket's alert goes into, as far as is known now (crash recovery looks there)."""
        links = self.links.get(ticket_id)
        if links is None:
            return None
        if links.incident is not None and links.incident in self._refs:
            return self._refs[links.incident]
        if links.parent is None:
            return None
        if links.parent in self._roots:
            return self._roots[links.parent]
        row = self.related.get(self.flow, [links.parent]).get(links.parent)
        return row.alert_ref if row else None

    async def thread_for(self, ticket_id: str) -> str | None:
        """The thread the ticket's alert goes into: its incident's, else its first linked ticket's."""
        links = self.links.get(ticket_id)
        if links is None:
            return None
        if links.parent is not None and links.parent in self._events and links.incident not in self._refs:
            await self._events[links.parent].wait()
        return self.thread_hint(ticket_id)

    def threaded(self, ticket_id: str) -> bool:
        """True when the ticket's alert may go into a thread (so not into a digest)."""
        links = self.links.get(ticket_id)
        return links is not None and (links.incident is not None or links.parent is not None)

    # -- 4. where alerts went, and the links in notes and alerts ---------------------------------------
    def alerted(self, ticket_id: str, ref: str | None, thread: str | None) -> None:
        """The ticket's alert settled: in ``thread``, or at ``ref`` (None: it failed)."""
        root = thread or ref
        if root:
            self._roots[ticket_id] = root
        event = self._events.get(ticket_id)
        if event is not None:
            event.set()

    def record_alerts(self) -> None:
        """Store where this page's alerts went (a later duplicate replies in that thread)."""
        self.related.set_alerts(self.flow, dict(self._roots))

    def _lines(self, ticket_id: str) -> list[str]:
        links = self.links.get(ticket_id)
        if links is None:
            return []
        lines = []
        if links.duplicates:
            shown = ", ".join(f"#{i} ({s:.2f})" for i, s in links.duplicates)
            lines.append(f"Related tickets: {shown}")
        if links.incident is not None:
            lines.append(f"Incident {links.incident}: {links.incident_size} customers, {links.incident_tickets} "
                         f"tickets" + (f" (alert {self._refs[links.incident]})" if links.incident in self._refs
                                       else ""))
        return lines

    def decorate(self, ticket_id: str, message: ChatMessage) -> ChatMessage:
        """``message`` with the ticket's links as a context block and in its text."""
        lines = self._lines(ticket_id)
        if not lines:
            return message
        text = "\n".join(lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        block = {"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True, "text": text[:2900]}]}
        return ChatMessage(text=f"{message.text}\n{text}", blocks=(*message.blocks, block)[:50])

    def annotate_note(self, ticket_id: str, note: str, marker: str) -> str:
        """``note`` with the ticket's links added before its marker line."""
        lines = self._lines(ticket_id)
        if not lines:
            return note
        tail = f"[{marker}]"
        body = note.rstrip("\n")
        if body.endswith(tail):
            body = body[: -len(tail)].rstrip("\n")
        return "\n".join([body, *lines, tail]) + "\n"


def _summary(ticket: Ticket) -> str:
    """A ticket as an incident shows it: its subject, then the start of its body."""
    return f"{ticket.subject}\n{' '.join(ticket.description.split())[:300]}"
