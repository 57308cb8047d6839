"""The sla flow: the scheduled check of the due times triage set, alerting once before and once at a breach.

Triage computes each ticket's due times (first response, resolution; :mod:`frontline.decide.sla`)
and stores them with its decision (:func:`expectation`). This flow picks up every new triage
decision (its own cursor over the decisions table), watches the ticket until its next alert moment
(the store's watch list), and then reads the ticket again:

- solved or closed: nothing more to alert, it leaves the watch list;
- answered by an agent (a public reply): its first response is met (or late, already alerted);
- a due time within its lead time (``[sla] warn_before`` / ``warn_fraction``): one warning;
- a due time passed: one breach alert, counted (``frontline_sla_breaches`` on ``/metrics``); one
  first seen more than ``[sla] alert_late_breaches`` after it passed (a backlog triaged late, a
  check that was down) is counted and kept in the ledger without a post, so turning frontline on
  over a backlog does not flood the channel.

Each alert is an effect in the ledger keyed by (ticket, metric, stage, due time), so it goes out
exactly once across restarts and workers; a due time that changes (the ticket triaged again) is a
new one. The flow lists nothing by change: ``run``/``poll`` and the worker's fetcher come to it
through :meth:`SlaFlow.due`.
"""

from __future__ import annotations

import time as clock
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from frontline.config import Settings
from frontline.config.sla import SlaSettings, sla_settings
from frontline.decide.sla import FIRST_RESPONSE, METRICS, Due, Expectation, expect
from frontline.engine.ledger import Ledger
from frontline.engine.requeue import read_again
from frontline.errors import FrontlineError, describe
from frontline.flows.base import Context, Flow, Handled, Output, post_with_fallback
from frontline.model import Author, ChatMessage, EffectStatus, Ticket
from frontline.ports import Chat, Helpdesk, Page
from frontline.render import Renderer
from frontline.store.state import StateStore

FLOW = "sla"
TRIAGE = "triage"  # the flow whose decisions carry the due times
CLOSED = ("solved", "closed")
WARNING, BREACH = "warning", "breach"
METRIC_NAMES = {FIRST_RESPONSE: "first response", "resolution": "resolution"}
ENROL_PAGE = 1000


# -- at triage: the due times of one ticket -----------------------------------------------------------
def expectation(ticket: Ticket, severity: str, settings: Settings, problems: list[str] | None = None,
                now: datetime | None = None) -> Expectation | None:
    """The ticket's due times under the team's ``[sla]`` section (None when SLAs are turned off).

    The clock starts when the ticket was created (now, if the helpdesk does not say); the
    helpdesk's own policy due times are used where it has them and ``helpdesk_policies`` is on.
    A failure is added to ``problems`` (the ticket is triaged without due times), never raised.
    """
    options = sla_settings(settings)
    if not options.enabled or severity not in options.targets:
        return None
    plan = ticket.company.plan if ticket.company else None
    try:
        rule, applied = options.rule(severity, plan)
        policy = dict(ticket.policy_due) if options.helpdesk_policies else {}
        return expect(ticket.created_at or now or datetime.now(UTC), rule, severity, plan=applied, policy=policy)
    except (ValueError, OverflowError) as error:  # a calendar with no working time ahead
        if problems is not None:
            problems.append(f"SLA due times not set: {error}")
        return None


def note_view(sla: Expectation | None, settings: Settings) -> dict[str, Any] | None:
    """What the note template shows of an expectation: its source, plan and one line per due time (team's time)."""
    if sla is None:
        return None
    zone = ZoneInfo(sla_settings(settings).time_zone)
    lines = []
    for metric in METRICS:
        due = sla.due(metric)
        if due is not None:
            target = f", {due.target}" if due.target else ""
            lines.append(f"{METRIC_NAMES[metric]} due {local(due.at, zone)}{target}")
    return {"source": sla.source, "plan": sla.plan, "lines": lines}


def due_fields(sla: Expectation | None, settings: Settings) -> dict[str, str]:
    """The helpdesk custom fields ``[sla] due_field`` and ``resolution_field`` name, with the due times (UTC)."""
    options = sla_settings(settings)
    found: dict[str, str] = {}
    for name, metric in ((options.due_field, FIRST_RESPONSE), (options.resolution_field, "resolution")):
        due = sla.due(metric) if sla is not None else None
        if name and due is not None:
            found[name] = due.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return found


def local(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as a person in the team reads it: ``Mon 4 May 13:00 CEST``."""
    shown = moment.astimezone(zone)
    return f"{shown:%a} {shown.day} {shown:%b %H:%M} {shown.tzname()}"


def left(until: timedelta) -> str:
    """A short length of time: ``25 min``, ``3 h 10 min``."""
    minutes = max(0, int(until.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


# -- the scheduled check --------------------------------------------------------------------------
@dataclass
class SlaServices:
    """What the check talks to: the store, the helpdesk (to read tickets again) and the chat."""

    settings: Settings
    store: StateStore
    helpdesk: Helpdesk
    chat: Chat
    renderer: Renderer
    team: str = "default"

    @property
    def flow(self) -> str:
        """Effects and the watch list are kept under this name: one per team."""
        return FLOW if self.team == "default" else f"{FLOW}@{self.team}"

    @property
    def triage_flow(self) -> str:
        """The name this team's triage decisions are stored under."""
        return TRIAGE if self.team == "default" else f"{TRIAGE}@{self.team}"

    @property
    def cursor_key(self) -> str:
        """The number of the last triage decision picked up."""
        return f"{FLOW}:{self.team}:decisions"

    @property
    def options(self) -> SlaSettings:
        """The team's ``[sla]`` section."""
        return sla_settings(self.settings)


@dataclass
class SlaSummary:
    """What one check did."""

    enrolled: int = 0
    checked: int = 0
    warned: int = 0
    breached: int = 0
    closed: int = 0
    answered: int = 0
    late: int = 0  # breaches counted without an alert: first seen long after their due time
    failures: list[tuple[str, str]] = field(default_factory=list)
    by_metric: Counter[str] = field(default_factory=Counter)  # breaches this pass, by metric
    elapsed: float = 0.0
    dry_run: bool = False


class SlaRun:
    """One check: pick up new due times, then alert on those whose moment has come."""

    def __init__(self, services: SlaServices, *, dry_run: bool = False, limit: int | None = None,
                 now: Callable[[], datetime] | None = None, output: Output | None = None) -> None:
        self.s = services
        self.flow = services.flow
        self.dry_run = dry_run
        self.limit = limit
        self.now = now or (lambda: datetime.now(UTC))
        self.output = output
        self.ledger = Ledger(services.store, self.flow)
        self.summary = SlaSummary(dry_run=dry_run)

    async def run(self) -> SlaSummary:
        """Enrol new due times, then check every ticket whose next alert moment has come."""
        started = clock.perf_counter()
        now = self.now()
        enrolled = enrol(self.s, now, dry_run=self.dry_run)
        self.summary.enrolled = len(enrolled)
        ids = self.s.store.due(self.flow, now, limit=self.limit or 500)
        if self.dry_run:  # nothing was put on the watch list: show what would be due all the same
            ids = list(dict.fromkeys([*ids, *(item for item, at in enrolled if at is not None and at <= now)]))
        tickets, gone = await read_again(self.s.helpdesk.get, ids, self.summary.failures)
        if not self.dry_run:
            self.s.store.unwatch(self.flow, gone)
        await self.check(tickets)
        self.summary.elapsed = clock.perf_counter() - started
        return self.summary

    async def check(self, tickets: Sequence[Ticket]) -> set[str]:
        """Alert what is due for each ticket and watch it until its next moment; returns those that completed."""
        store = self.s.store
        stored = store.latest_fields(self.s.triage_flow, [t.id for t in tickets])
        done: set[str] = set()
        for ticket in tickets:
            self.summary.checked += 1
            sla = Expectation.from_fields(stored.get(ticket.id, {}).get("sla"))
            if sla is None or ticket.status in CLOSED:
                self.summary.closed += sla is not None
                if not self.dry_run:
                    store.unwatch(self.flow, [ticket.id])
                done.add(ticket.id)
                continue
            try:
                upcoming = await self._ticket(ticket, sla, stored[ticket.id])
            except Exception as error:  # one ticket's alert failing must not stop the others
                self.summary.failures.append((ticket.id, f"SLA alert failed: {describe(error)}"))
                continue  # still watched: the next check tries again
            if not self.dry_run:
                if upcoming is None:
                    store.unwatch(self.flow, [ticket.id])
                else:
                    store.watch(self.flow, ticket.id, upcoming)
            done.add(ticket.id)
        return done

    async def _ticket(self, ticket: Ticket, sla: Expectation, fields: dict[str, Any]) -> datetime | None:
        """Alert this ticket's due times whose moment has come; returns the next moment to look again, if any."""
        now = self.now()
        answered = any(m.author is Author.AGENT and m.public for m in ticket.messages)
        upcoming: list[datetime] = []
        for metric, due in sla.dues.items():
            if metric == FIRST_RESPONSE and answered:
                self.summary.answered += 1
                continue
            if now >= due.at:
                await self._alert(ticket, sla, metric, due, BREACH, fields)
                continue
            if due.warn_at is not None and now >= due.warn_at:
                await self._alert(ticket, sla, metric, due, WARNING, fields)
                upcoming.append(due.at)
            else:
                upcoming.append(due.warn_at or due.at)
        return min(upcoming, default=None)

    async def _alert(self, ticket: Ticket, sla: Expectation, metric: str, due: Due, stage: str,
                     fields: dict[str, Any]) -> None:
        """Post one alert through the ledger: exactly once per (ticket, metric, stage, due time)."""
        kind = f"sla_{stage}_{metric}"
        version = due.at.astimezone(UTC).isoformat()
        key = self.ledger.key(ticket.id, kind, version)
        known = self.ledger.known([key]).get(key)
        if known is not None and known.status is EffectStatus.DONE:
            return
        options = self.s.options
        channel = options.channel or str(fields.get("channel") or "") or self.s.settings.routing.fallback
        if self.dry_run:
            self._count(stage, metric, ticket, due)
            return
        if stage == BREACH and self.now() - due.at > options.late:
            self.ledger.plan([self.ledger.effect(key, ticket.id, kind, channel)])
            self.ledger.finish([self.ledger.effect(key, ticket.id, kind, channel, EffectStatus.DONE,
                                                   f"not posted: first seen {left(self.now() - due.at)} late")])
            self.summary.late += 1
            self._count(stage, metric, ticket, due)
            return
        message = self._message(ticket, sla, metric, due, stage)
        chat = self.s.chat

        async def find(found_key: str) -> str | None:
            return await chat.find_posted(found_key)

        async def do(new_key: str) -> tuple[str, str]:
            problems: list[str] = []
            ref, where = await post_with_fallback(chat, channel, self.s.settings.routing.fallback, message, new_key,
                                                  [problems])
            if ref is None:
                raise FrontlineError("; ".join(problems) or "the alert was not posted")
            return ref, where

        await self.ledger.once(ticket.id, kind, version, channel, find=find, do=do)
        self._count(stage, metric, ticket, due)

    def _count(self, stage: str, metric: str, ticket: Ticket | None = None, due: Due | None = None) -> None:
        if self.output is not None and ticket is not None and due is not None:
            output = self.output
            what = "[red]breached[/]" if stage == BREACH else "[yellow]due soon[/]"
            output.line(f"  #{output.safe(ticket.id)} {METRIC_NAMES.get(metric, metric)} {what} "
                        f"(due {output.safe(local(due.at, ZoneInfo(self.s.options.time_zone)))})")
        if stage == BREACH:
            self.summary.breached += 1
            self.summary.by_metric[metric] += 1
        else:
            self.summary.warned += 1

    def _message(self, ticket: Ticket, sla: Expectation, metric: str, due: Due, stage: str) -> ChatMessage:
        zone = ZoneInfo(self.s.options.time_zone)
        company = ticket.company
        customer = " · ".join(part for part in (company.name if company else ticket.requester.email,
                                                company.plan if company else None) if part) or "unknown customer"
        source = "the helpdesk's SLA policy" if due.source == "policy" else f"frontline's {due.target} target"
        return self.s.renderer.chat_message(
            "sla_alert_text.j2", "sla_alert_blocks.json.j2", ticket=ticket, breach=stage == BREACH,
            severity=sla.severity, metric_name=METRIC_NAMES.get(metric, metric), due_local=local(due.at, zone),
            left=left(due.at - self.now()), source_line=source, customer_line=customer)


def enrol(services: SlaServices, now: datetime, *, dry_run: bool = False) -> list[tuple[str, datetime | None]]:
    """Watch the tickets of triage decisions recorded since the last check until their first alert moment.

    A decision without due times (SLAs off, or a ticket triaged again without one) stops the watch.
    Returns each decision's ticket and first moment (None: not watched); a dry run records nothing.
    """
    store = services.store
    after = int(store.get_cursor(services.cursor_key) or 0)
    found: list[tuple[str, datetime | None]] = []
    while True:
        rows = store.decisions_after(services.triage_flow, after, ENROL_PAGE)
        for _, item_id, fields in rows:
            sla = Expectation.from_fields(fields.get("sla"))
            first = min((due.warn_at or due.at) for due in sla.dues.values()) if sla is not None else None
            found.append((item_id, first))
            if dry_run:
                continue
            if first is None:
                store.unwatch(services.flow, [item_id])
            else:
                store.watch(services.flow, item_id, first)
        if rows and not dry_run:
            store.set_cursor(services.cursor_key, str(rows[-1][0]))
        if len(rows) < ENROL_PAGE:
            return found
        after = rows[-1][0]


class SlaFlow(Flow):
    """The scheduled SLA check: alerts before and at each breach of the due times triage set."""

    name = "sla"
    item = Ticket
    ports = ("helpdesk", "chat")
    source_port = "helpdesk"
    settings_section = "sla"
    order = 30  # after triage, so a poll checks the due times it has just set

    @property
    def title(self) -> str:
        """Its name as a summary's title."""
        return "SLA"

    def services(self, context: Context) -> SlaServices:
        """The helpdesk and chat the engine opened."""
        ports = context.ports
        return SlaServices(context.settings, context.store, ports["helpdesk"], ports["chat"],
                           Renderer(context.settings), team=context.settings.team)

    async def list_after(self, services: Any, cursor: str | None, size: int) -> Page[Any]:
        """Nothing is listed by change: the tickets to check come from their due times (:meth:`due`)."""
        return Page(items=[], cursor=cursor, has_more=False)

    def due(self, services: Any, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """New due times picked up, then the tickets whose next alert moment has come."""
        moment = now or datetime.now(UTC)
        enrol(services, moment)
        return services.store.due_at(services.flow, moment)  # type: ignore[no-any-return]

    def start(self, services: SlaServices, *, dry_run: bool = False, limit: int | None = None,
              output: Output | None = None, quiet: bool = False, now: Callable[[], datetime] | None = None
              ) -> SlaRun:
        """One check over every due time whose moment has come."""
        return SlaRun(services, dry_run=dry_run, limit=limit, now=now, output=None if quiet else output)

    async def handle(self, services: SlaServices, items: Sequence[Ticket], *, owner: str,
                     claim_seconds: float) -> Handled:
        """Check the tickets the worker read again (their moment has come)."""
        run = SlaRun(services)
        done = await run.check(items)
        summary = run.summary
        return Handled(done, dict(summary.failures), Counter(checked=summary.checked, warned=summary.warned,
                                                             breached=summary.breached))

    def idle(self, summary: SlaSummary) -> bool:
        """Nothing alerted and nothing failed."""
        return not (summary.warned or summary.breached or summary.failures)

    def print_summary(self, summary: SlaSummary, output: Output, *, title: str) -> None:
        """Checked, warned, breached (by metric), failures."""
        by_metric = ", ".join(f"{METRIC_NAMES.get(m, m)} {n}" for m, n in sorted(summary.by_metric.items()))
        late = f"; {summary.late} first seen too late to alert" if summary.late else ""
        output.line(f"\n[bold]{output.safe(title)}[/]: {summary.checked} checked, {summary.warned} warned, "
                    f"{summary.breached} breached" + (f" ({by_metric}{late})" if by_metric else "")
                    + f", {len(summary.failures)} failed"
                    + (" (dry run: nothing posted)" if summary.dry_run else ""))
        for item, reason in summary.failures:
            output.line(f"  [red]✗[/] {output.safe(item)}: {output.safe(reason)}")
