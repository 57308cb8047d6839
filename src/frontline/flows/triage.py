"""The triage flow: fetch → skip handled → classify → link (duplicates, incidents) → KB search → route → alert
→ write back (last).

Within a page a ticket's alert goes out as soon as its own KB search is done, so the chat's budget
and the knowledge base's are spent at the same time; alerts never hold the flow's concurrency slots
(they wait on the chat's budget, not on other tickets). On a large backlog a channel's low-severity
alerts may go out as one digest (:mod:`frontline.flows.digest`). Linking duplicates and incidents is a
step of its own (:mod:`frontline.flows.incidents`): a linked ticket's alert is a reply in a thread. A
handled ticket the customer wrote to again is decided again (:mod:`frontline.flows.retriage`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from frontline.config import Settings
from frontline.decide.language import Language
from frontline.decide.language import detect as detect_language
from frontline.decide.severity import SentimentReading, sentiment_for
from frontline.decide.signals import EscalationScorer
from frontline.decide.sla import Expectation
from frontline.decide.ticket_sentiment import TicketSentiment, ticket_sentiment
from frontline.decide.triage import RulesClassifier, fit_reply, weigh
from frontline.engine.cursor import walk
from frontline.engine.ledger import Ledger
from frontline.engine.requeue import take_requeued
from frontline.errors import FrontlineError, describe
from frontline.flows.base import Context, Flow, Handled, Output, post_with_fallback
from frontline.flows.digest import Entry, digest_key, digest_message, digest_of, digest_target, plan_digests
from frontline.flows.incidents import IncidentStep
from frontline.flows.protocol import EscalationProtocol
from frontline.flows.retriage import Redecided, RetriageStep, followups
from frontline.flows.sla import due_fields, expectation, note_view
from frontline.model import (
    CONTENT_VERSION_PREFIX,
    Article,
    ChatMessage,
    Effect,
    EffectStatus,
    Ticket,
    Triage,
    WriteBack,
    effect_key,
)
from frontline.ports import Chat, Classifier, Helpdesk, KnowledgeBase, Tracker
from frontline.render import Renderer
from frontline.runtime import owners
from frontline.store.state import Decision, StateStore

FLOW = "triage"
# A ticket is triaged once per *episode*, and its effect keys carry the episode, not the ticket's
# updated_at (a landed write-back changes that and must keep the same keys). The first episode is
# "1", as it always was; a forgotten ticket (`frontline state forget`) or one whose subject or body
# changed gets the next number, so its new alert and note are not mistaken for the old ones.
TRIAGE_VERSION = "1"
CLOSED = ("solved", "closed")  # a ticket in these states needs no alert any more


@dataclass
class TicketOutcome:
    """What triage did for one ticket."""

    ticket: Ticket
    triage: Triage
    channel: str
    articles: list[Article] = field(default_factory=list)
    alert_ref: str | None = None
    writeback_ref: str | None = None
    problems: list[str] = field(default_factory=list)
    review: bool = False
    completed: bool = False
    sla: Expectation | None = None  # due times (frontline.flows.sla)
    language: Language | None = None  # None: detection is off
    sentiment: TicketSentiment | None = None
    tone: SentimentReading | None = None  # the tone severity weighed (decide.severity.sentiment_for)
    thread: str | None = None  # the thread its alert was posted in (a duplicate's, an incident member's)


@dataclass
class RunSummary:
    """The closing summary of a run."""

    handled: int = 0
    skipped: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    review: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    problems: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    dry_run: bool = False
    busy: int = 0  # tickets another worker was triaging at that moment (handle)
    retriaged: int = 0  # handled tickets decided again after a customer's message, and changed
    rechecked: int = 0  # … and unchanged


class Reporter(Protocol):
    """Receives progress as the flow goes."""

    def start(self, total: int | None) -> None:
        """The run begins; ``total`` when the source can count."""

    def ticket(self, outcome: TicketOutcome) -> None:
        """One ticket is done (or failed)."""

    def finish(self, summary: RunSummary) -> None:
        """The run is over."""


class SilentReporter:
    """Reports nothing."""

    def start(self, total: int | None) -> None:
        """Nothing."""

    def ticket(self, outcome: TicketOutcome) -> None:
        """Nothing."""

    def finish(self, summary: RunSummary) -> None:
        """Nothing."""


@dataclass
class TriageServices:
    """Everything the triage flow talks to."""

    settings: Settings
    store: StateStore
    helpdesk: Helpdesk
    kb: KnowledgeBase
    chat: Chat
    classifier: Classifier
    renderer: Renderer
    team: str = "default"
    scorer: EscalationScorer | None = field(default=None, repr=False)  # built on first use, kept for every batch

    def tone(self) -> EscalationScorer:
        """The escalation flow's text signals with this team's settings, which read each ticket's customer."""
        if self.scorer is None:
            self.scorer = EscalationScorer(self.settings)
        return self.scorer
    tracker: Tracker | None = None  # the escalation protocol's issues (none: urgent tickets get no issue)
    # The duplicate finder (a decide.duplicates.SimilarFinder); None: the incidents step builds it from the
    # store on first use, and it is kept here for the next pass.
    finder: Any = None

    @property
    def cursor_key(self) -> str:
        """Where this team's helpdesk position is saved."""
        return f"{FLOW}:{self.team}:{self.helpdesk.name}"

    @property
    def flow(self) -> str:
        """The name handled items, decisions and effects are stored under: one per team."""
        return FLOW if self.team == "default" else f"{FLOW}@{self.team}"


class TriageRun:
    """One pass of the triage flow over everything new since the saved cursor."""

    def __init__(self, services: TriageServices, *, dry_run: bool = False, limit: int | None = None,
                 reporter: Reporter | None = None) -> None:
        self.s = services
        self.flow = services.flow
        self.settings = services.settings
        self.dry_run = dry_run
        self.limit = limit
        self.reporter = reporter or SilentReporter()
        self.summary = RunSummary(dry_run=dry_run)
        self._slots = asyncio.Semaphore(self.settings.runner.concurrency)
        self._rules = RulesClassifier(self.settings)
        self.ledger = Ledger(services.store, self.flow)
        self.protocol = EscalationProtocol(self.settings, services.store, services.tracker, services.renderer,
                                           self.ledger)
        # Who holds the per-ticket claims taken by `handle`; a worker sets its own id.
        self.owner = owners.this_process(id(self))
        self.claim_seconds = 300.0
        self._episodes: dict[str, str] = {}  # ticket id → the episode this run triages it in
        self._taken: set[str] = set()  # tickets this run already triaged (a requeued one listed again)
        self.incidents = IncidentStep(settings=self.settings, store=services.store, chat=services.chat,
                                      tracker=services.tracker, renderer=services.renderer, ledger=self.ledger,
                                      flow=self.flow, finder=services.finder, helpdesk=services.helpdesk)
        self.retriage = RetriageStep(settings=self.settings, store=services.store, helpdesk=services.helpdesk,
                                     chat=services.chat, renderer=services.renderer, ledger=self.ledger,
                                     flow=self.flow, decide=self._redecide, tags=self._tag_names)

    async def run(self) -> RunSummary:
        """Handle every new and open ticket once; returns the summary."""
        started = time.perf_counter()
        store, helpdesk = self.s.store, self.s.helpdesk
        total = helpdesk.count_changed(store.get_cursor(self.s.cursor_key))
        if total is not None and self.limit is not None:
            total = min(total, self.limit)
        self.reporter.start(total)
        await self._requeued()

        async def page(listed: Sequence[Ticket]) -> tuple[bool, int]:
            tickets = [t for t in listed if t.id not in self._taken]
            todo = self._pending(tickets)
            again = self._rechecks(tickets, todo)
            self.summary.skipped += len(tickets) - len(todo) - len(again)
            # Claimed like a worker's batch, so `run` next to workers or a webhook never doubles.
            work = todo + [t for t, _ in again]
            return (await self.handle(work) if work else True), len(work)

        await walk(store, self.s.cursor_key, helpdesk.list_changed, page, batch=self.settings.runner.batch_size,
                   limit=self.limit, dry_run=self.dry_run, failures=self.summary.failures)
        self.summary.elapsed = time.perf_counter() - started
        self.reporter.finish(self.summary)
        return self.summary

    def _pending(self, tickets: Sequence[Ticket]) -> list[Ticket]:
        """Those of ``tickets`` to triage now: never handled, forgotten, or changed since (subject or body).

        Each one's episode is noted in ``self._episodes``. A ticket handled before versions were
        recorded by content (its version is an updated_at) counts as unchanged.
        """
        history = self.s.store.history(self.flow, [t.id for t in tickets])
        todo: list[Ticket] = []
        for ticket in tickets:
            decided, version = history.get(ticket.id, (0, None))
            if version is not None and (version == ticket.content_version
                                        or not version.startswith(CONTENT_VERSION_PREFIX)):
                continue
            self._episodes[ticket.id] = TRIAGE_VERSION if decided == 0 else str(decided + 1)
            todo.append(ticket)
        return todo

    def _rechecks(self, tickets: Sequence[Ticket], todo: Sequence[Ticket]) -> list[tuple[Ticket, Any]]:
        """Those of ``tickets`` handled and not in ``todo`` that the customer wrote to since (re-triage)."""
        if self.dry_run:
            return []
        pending = {t.id for t in todo}
        return self.retriage.select([t for t in tickets if t.id not in pending])

    def _key(self, ticket_id: str, kind: str) -> str:
        return effect_key(self.flow, ticket_id, kind, self._episodes.get(ticket_id, TRIAGE_VERSION))

    async def _requeued(self) -> None:
        """Triage tickets a person asked to redo (`frontline state forget`), even behind the cursor.

        The engine reads them again and keeps the queue (:mod:`frontline.engine.requeue`); what is
        triage's own: a ticket handled again since (by a worker or a webhook) is skipped, and one
        taken here is not triaged a second time when a page lists it again.
        """

        async def again(tickets: list[Ticket]) -> None:
            todo = self._pending(tickets)
            self.summary.skipped += len(tickets) - len(todo)  # handled again since, by a worker or a webhook
            self._taken.update(t.id for t in tickets)
            if todo:
                await self._page(todo)

        used = await take_requeued(self.s.store, self.flow, self.s.helpdesk.get, again, dry_run=self.dry_run,
                                   limit=self.limit, failures=self.summary.failures)
        if self.limit is not None:
            self.limit = max(0, self.limit - used)

    async def handle(self, tickets: Sequence[Ticket]) -> bool:
        """Triage these tickets now (a worker's batch, a webhook's ticket) with the same page logic.

        Each ticket is claimed first (``self.owner``, for ``self.claim_seconds``), so two workers — or
        a worker and a webhook — never triage one ticket at once; tickets already handled are skipped,
        and those someone else holds right now are counted ``busy`` and left alone. True when every
        ticket given is handled now.
        """
        unique = list({t.id: t for t in tickets}.values())
        store = self.s.store
        ids = [t.id for t in unique]
        claimed = set(ids) if self.dry_run else store.claim_or_take_over(self.flow, ids, self.owner,
                                                                         self.claim_seconds, dead=owners.gone)
        try:
            mine = [t for t in unique if t.id in claimed]
            todo = self._pending(mine)
            again = self._rechecks(mine, todo)
            self.summary.skipped += len(mine) - len(todo) - len(again)
            self.summary.busy += len(unique) - len(claimed)
            ok = await self._page(todo) if todo else True
            if again:
                ok = await self._recheck(again) and ok
        finally:
            if not self.dry_run:
                store.release_many(self.flow, sorted(claimed), self.owner)
        return ok and len(claimed) == len(unique)

    async def _classify(self, tickets: Sequence[Ticket]) -> list[Triage]:
        try:
            return await self.s.classifier.classify(tickets)
        except Exception as error:  # a classifier bug must not stop triage: fall back to rules
            fallback = await self._rules.classify(tickets)
            reason = f"classifier {self.s.classifier.name} failed ({describe(error)}); used keyword rules"
            return [t.with_changes(flags=(*t.flags, "classifier_failed"), reasons=(*t.reasons, reason))
                    for t in fallback]

    async def _decide(self, tickets: list[Ticket]) -> list[TicketOutcome]:
        """Classify, weigh, route and link (duplicates, incidents) each ticket."""
        triages = await self._classify(tickets)
        outcomes = [self._route(t, tr) for t, tr in zip(tickets, triages, strict=True)]
        if not self.dry_run and self.incidents.enabled:
            await self._link(outcomes)
        return outcomes

    async def _redecide(self, tickets: list[Ticket]) -> list[Redecided]:
        """Tickets decided again for :class:`~frontline.flows.retriage.RetriageStep`, by the same steps."""
        outcomes = await self._decide(tickets)
        return [Redecided(o.ticket, o.triage, o.channel, o.review, o.language.code if o.language else None,
                          self._incident(o.ticket.id), tuple(o.problems)) for o in outcomes]

    def _incident(self, ticket_id: str) -> str | None:
        links = self.incidents.links.get(ticket_id)
        return links.incident if links else None

    async def _recheck(self, pairs: list[tuple[Ticket, Any]]) -> bool:
        """Re-triage handled tickets the customer wrote to; True when each was settled."""
        results = await self.retriage.recheck(pairs)
        for result in results:
            if result.failed:
                self.summary.failures.append((result.ticket_id, result.failed))
            elif result.changes:
                self.summary.retriaged += 1
            else:
                self.summary.rechecked += 1
        return not any(r.failed for r in results)

    async def _page(self, tickets: list[Ticket]) -> bool:
        """Triage one page of tickets; True when every ticket completed."""
        outcomes = await self._decide(tickets)
        searches = {o.ticket.id: asyncio.ensure_future(self._search(o)) for o in outcomes}
        try:
            if not self.dry_run:
                # Urgent tickets get their tracker issue first, so their alert links it.
                await self.protocol.start([(o.ticket, o.triage) for o in outcomes],
                                          {o.ticket.id: o.problems for o in outcomes})
                await self._alerts(outcomes, searches)
            await asyncio.gather(*searches.values())
        finally:
            for search in searches.values():
                search.cancel()  # only when the alerts failed: nothing waits for these any more
        if self.dry_run:
            for outcome in outcomes:
                self._count(outcome)
            return True
        finished = self.protocol.finish_all([(o.ticket, o.triage, o.alert_ref) for o in outcomes])
        for outcome, triage in zip(outcomes, finished, strict=True):  # then SLA due times from the final severity
            outcome.triage = triage
            outcome.sla = expectation(outcome.ticket, outcome.triage.severity, self.settings, outcome.problems)
        await self._write_backs(outcomes)
        completed = [o for o in outcomes if o.completed]
        self.s.store.complete([self._decision(o) for o in completed])
        for outcome in outcomes:
            self._count(outcome)
        return len(completed) == len(outcomes)

    async def _link(self, outcomes: list[TicketOutcome]) -> None:
        """Duplicates and incidents (:mod:`frontline.flows.incidents`): links, severity, the incidents' effects."""
        step = self.incidents
        try:
            step.link([(o.ticket, o.channel) for o in outcomes])
            self.s.finder = step.finder
            for outcome in outcomes:
                outcome.triage = step.adjust(outcome.ticket.id, outcome.triage, partial(
                    self._reweigh, outcome))
            await step.effects()
        except Exception as error:  # linking is an extra: a failure leaves each ticket triaged alone
            for outcome in outcomes:
                outcome.problems.append(f"linking related tickets failed: {describe(error)}")
        for outcome in outcomes:
            outcome.problems.extend(step.problems.pop(outcome.ticket.id, []))

    def _reweigh(self, outcome: TicketOutcome, triage: Triage, incident_size: int) -> Triage:
        """``triage`` weighed again with the size of the ticket's incident (and the tone read at routing)."""
        return weigh(triage, outcome.ticket, self.settings, sentiment=outcome.tone, incident_size=incident_size)

    def _route(self, ticket: Ticket, triage: Triage) -> TicketOutcome:
        # Business impact: the classifier weighed the customer's value; the ticket's tone counts too. Severity
        # reads the tone without the cues that only state a problem (calibrated in config/urgency.py); the
        # note shows the escalation scorer's full reading.
        tone = sentiment_for(ticket, self.settings)
        triage = weigh(triage, ticket, self.settings, sentiment=tone)
        review = "abstained" in triage.flags
        routing = self.settings.routing
        channel = routing.fallback if review else self.settings.channel_for(triage.category)
        language = detect_language(ticket.text) if routing.detect_language else None
        if language is not None and language.code in routing.languages:
            channel = routing.languages[language.code]  # its readers, even for a review
        return TicketOutcome(ticket=ticket, triage=triage, channel=channel, review=review, language=language,
                             sentiment=ticket_sentiment(ticket, self.s.tone()), tone=tone)

    async def _search(self, outcome: TicketOutcome) -> None:
        """Find the ticket's help articles, then fit its suggested reply to what was found.

        A ticket sent for review is searched whatever its guessed category: the person reviewing it
        should see what might answer it.
        """
        routing = self.settings.routing
        if outcome.review or outcome.triage.category in routing.kb_categories:
            query = outcome.triage.summary or outcome.ticket.subject
            async with self._slots:
                try:
                    outcome.articles = await self.s.kb.search(query, routing.kb_results)
                except Exception as error:
                    outcome.problems.append(f"KB search failed: {describe(error)}")
        outcome.triage = fit_reply(outcome.triage, outcome.ticket, self.settings, articles=bool(outcome.articles),
                                   review=outcome.review)

    # -- alerts --------------------------------------------------------------------------------
    async def _alerts(self, outcomes: list[TicketOutcome],
                      searches: Mapping[str, Awaitable[None]] | None = None) -> None:
        """Alert every ticket once: alone when its KB search is done, or in its channel's digest."""
        keys = {o.ticket.id: self._key(o.ticket.id, "alert") for o in outcomes}
        ledger = self.ledger.known(keys.values())
        self.ledger.plan([self.ledger.effect(keys[o.ticket.id], o.ticket.id, "alert", o.channel) for o in outcomes])
        pending: list[TicketOutcome] = []
        for outcome in outcomes:
            known = ledger.get(keys[outcome.ticket.id])
            if known is not None and known.status is EffectStatus.DONE:
                outcome.alert_ref = known.remote_ref
                thread = self.incidents.thread_hint(outcome.ticket.id)
                self.incidents.alerted(outcome.ticket.id, known.remote_ref, thread)
            else:
                pending.append(outcome)
        # Tickets that may reply in a thread are recovered after the others: their thread may be a recovered alert.
        recovering = [o for o in pending if keys[o.ticket.id] in ledger]
        recovered = []
        for wave in ([o for o in recovering if not self.incidents.threaded(o.ticket.id)],
                     [o for o in recovering if self.incidents.threaded(o.ticket.id)]):
            recovered += [e for e in await asyncio.gather(*(
                self._recover(o, keys[o.ticket.id], ledger[keys[o.ticket.id]]) for o in wave)) if e is not None]
        settled = {e.item_id for e in recovered}
        todo = [o for o in pending if o.ticket.id not in settled]
        runner = self.settings.runner
        incidents = self.incidents
        groups = plan_digests([(o.ticket.id, o.channel, o.triage.severity) for o in todo
                               # an urgent ticket is never folded into a digest; a linked one replies in its thread
                               if not self.protocol.is_urgent(o.ticket.id) and not incidents.threaded(o.ticket.id)],
                              threshold=runner.digest_threshold, severities=runner.digest_severities)
        by_id = {o.ticket.id: o for o in todo}
        grouped = {item_id for _, ids in groups for item_id in ids}
        backlog = {channel: sum(1 for o in todo if o.channel == channel) for channel, _ in groups}
        incidents.expect([o.ticket.id for o in todo])
        try:
            results = await asyncio.gather(
                *(self._digest(channel, [by_id[i] for i in ids], keys, backlog[channel]) for channel, ids in groups),
                *(self._alert(o, keys[o.ticket.id], searches) for o in todo if o.ticket.id not in grouped))
        finally:
            incidents.release()
        self.ledger.finish([*recovered, *(e for result in results for e in result)])
        if incidents.enabled:
            incidents.record_alerts()

    async def _recover(self, outcome: TicketOutcome, key: str, known: Effect) -> Effect | None:
        """Planned before a crash: was it posted after all, alone (its key) or in a digest (the digest's)?"""
        candidates = [(key, outcome.channel)]
        digest = digest_of(known.target)
        if digest is not None:
            candidates.append(digest)
        thread = self.incidents.thread_hint(outcome.ticket.id)
        for candidate, channel in candidates:
            try:
                # A reply is looked for in its thread, then at the top level: the thread known now may be one
                # the crashed run did not know yet (it posted at the top level then).
                ref = await self.s.chat.find_posted(candidate, thread=thread) if thread and candidate == key \
                    else None
                ref = ref or await self.s.chat.find_posted(candidate)
            except Exception as error:
                outcome.problems.append(f"could not check for an earlier alert: {describe(error)}")
                continue
            if ref:
                outcome.alert_ref = ref
                self.incidents.alerted(outcome.ticket.id, ref, thread if candidate == key else None)
                return self.ledger.effect(key, outcome.ticket.id, "alert", channel, EffectStatus.DONE, ref)
        return None

    async def _post(self, outcome_problems: list[list[str]], channel: str, message: ChatMessage, key: str,
                    thread: str | None = None) -> tuple[str | None, str]:
        """Post to ``channel`` (in ``thread``), else the fallback; (reference or None, where it went).

        Problems go to each list.
        """
        return await post_with_fallback(self.s.chat, channel, self.settings.routing.fallback, message, key,
                                        outcome_problems, thread=thread)

    async def _alert(self, outcome: TicketOutcome, key: str,
                     searches: Mapping[str, Awaitable[None]] | None) -> list[Effect]:
        try:
            return await self._alert_once(outcome, key, searches)
        finally:
            self.incidents.alerted(outcome.ticket.id, outcome.alert_ref, outcome.thread)

    async def _alert_once(self, outcome: TicketOutcome, key: str,
                          searches: Mapping[str, Awaitable[None]] | None) -> list[Effect]:
        if searches is not None and outcome.ticket.id in searches:
            await searches[outcome.ticket.id]  # the alert lists the ticket's help articles
        try:
            message = self.s.renderer.alert(outcome.ticket, outcome.triage, outcome.articles, review=outcome.review)
            message = self.protocol.mark(outcome.ticket.id, message)
        except FrontlineError as error:
            outcome.problems.append(f"alert not rendered: {error}")
            return [self.ledger.effect(key, outcome.ticket.id, "alert", outcome.channel, EffectStatus.FAILED,
                                       error=str(error))]
        message = self.incidents.decorate(outcome.ticket.id, message)
        outcome.thread = await self.incidents.thread_for(outcome.ticket.id)
        ref, channel = await self._post([outcome.problems], outcome.channel, message, key, outcome.thread)
        if ref is None:
            return [self.ledger.effect(key, outcome.ticket.id, "alert", outcome.channel, EffectStatus.FAILED,
                                       error="; ".join(outcome.problems[-2:]))]
        outcome.alert_ref = ref
        outcome.channel = channel
        return [self.ledger.effect(key, outcome.ticket.id, "alert", channel, EffectStatus.DONE, ref)]

    async def _digest(self, channel: str, members: list[TicketOutcome], keys: Mapping[str, str],
                      backlog: int) -> list[Effect]:
        """One digest message for ``members``; each member's alert effect ends with the digest's reference."""
        try:
            return await self._digest_once(channel, members, keys, backlog)
        finally:
            for member in members:  # a duplicate of a member replies in the digest's thread
                self.incidents.alerted(member.ticket.id, member.alert_ref, None)

    async def _digest_once(self, channel: str, members: list[TicketOutcome], keys: Mapping[str, str],
                           backlog: int) -> list[Effect]:
        ledger = self.ledger
        key = digest_key(self.flow, channel, [m.ticket.id for m in members])
        digest_item = f"digest:{channel}"
        # Point every member at the digest before it is sent: after a crash its key is looked for too.
        ledger.finish([ledger.effect(keys[m.ticket.id], m.ticket.id, "alert", digest_target(key, channel))
                       for m in members])
        ledger.plan([ledger.effect(key, digest_item, "digest", channel)])

        def each(status: EffectStatus, where: str, ref: str | None = None, error: str | None = None) -> list[Effect]:
            return [*(ledger.effect(keys[m.ticket.id], m.ticket.id, "alert", where, status, ref, error)
                      for m in members), ledger.effect(key, digest_item, "digest", where, status, ref, error)]

        try:
            message = digest_message(self.s.renderer, channel, [Entry(m.ticket, m.triage, m.review) for m in members],
                                     backlog=backlog, severities=self.settings.runner.digest_severities)
        except FrontlineError as error:
            for member in members:
                member.problems.append(f"digest not rendered: {error}")
            return each(EffectStatus.FAILED, channel, error=str(error))
        ref, where = await self._post([m.problems for m in members], channel, message, key)
        if ref is None:
            return each(EffectStatus.FAILED, channel, error="; ".join(members[0].problems[-2:]))
        for member in members:
            member.alert_ref = ref
            member.channel = where
        return each(EffectStatus.DONE, where, ref)

    # -- write-back (last, always) ---------------------------------------------------------------
    def _tags(self, triage: Triage, review: bool, language: Language | None = None) -> tuple[str, ...]:
        return self._tag_names(triage.category, triage.severity, review, language.code if language else None)

    def _tag_names(self, category: str, severity: str, review: bool, language: str | None) -> tuple[str, ...]:
        settings = self.settings
        tags = []
        for pattern in settings.writeback.tags:
            if review and "{category}" in pattern:
                continue  # an abstained guess must not trip routing triggers built on the category
            tags.append(pattern.format(category=category, severity=severity))
        if review:
            tags.append(settings.writeback.review_tag)
        if language and settings.writeback.language_tag:
            tags.append(settings.writeback.language_tag.format(language=language))
        return tuple(tags)

    def _update(self, outcome: TicketOutcome, key: str) -> WriteBack:
        triage = outcome.triage
        try:
            note = self.s.renderer.note(
                outcome.ticket, triage, outcome.articles, review=outcome.review, marker=key, problems=outcome.problems,
                language=outcome.language.describe() if outcome.language else None,
                sentiment=outcome.sentiment.describe() if outcome.sentiment else None,
                sla=note_view(outcome.sla, self.settings))
        except FrontlineError as error:
            # The write-back always runs: fall back to a plain note rather than skip it.
            note = (f"frontline triage: {triage.category} {triage.severity} ({triage.confidence:.2f}). "
                    f"Note template failed: {error}\n[{key}]\n")
        note = self.incidents.annotate_note(outcome.ticket.id, note, key)
        # A helpdesk may ask for fields of its own (Zendesk: [zendesk.custom_fields], keyed by field id).
        # Like the category tags, those naming the category are left alone for a guess sent to review;
        # abstaining is about the category only, so severity and priority are written all the same.
        templates = {**self.settings.writeback.custom_fields, **self.s.helpdesk.field_templates}
        fields = {
            name: value.format(category=triage.category, severity=triage.severity)
            for name, value in templates.items() if not (outcome.review and "{category}" in value)
        } | due_fields(outcome.sla, self.settings)
        native = self.incidents.native_link(outcome.ticket.id)
        return WriteBack(
            ticket_id=outcome.ticket.id,
            add_tags=self._tags(triage, outcome.review, outcome.language),
            priority=self.settings.priority_for(triage.severity),
            note=note,
            marker=key,
            custom_fields=fields,
            ticket_type=native[0],
            problem_id=native[1],
        )

    async def _write_backs(self, outcomes: list[TicketOutcome]) -> None:
        """Write every ticket back once, in one bulk update; an earlier write-back is found by its marker."""
        helpdesk = self.s.helpdesk
        by_id = {o.ticket.id: o for o in outcomes}

        async def find(ticket_id: str, key: str) -> str | None:
            try:
                return await helpdesk.find_marker(ticket_id, key)
            except Exception as error:
                by_id[ticket_id].problems.append(f"could not check for an earlier write-back: {describe(error)}")
                return None

        async def write(pending: Sequence[tuple[str, str]]) -> list[str | BaseException | None]:
            results = await helpdesk.write_back([self._update(by_id[ticket_id], key) for ticket_id, key in pending])
            return [result.remote_ref if result.error is None else result.error for result in results]

        items = [(o.ticket.id, self._episodes.get(o.ticket.id, TRIAGE_VERSION)) for o in outcomes]
        done = await self.ledger.many(items, "writeback", helpdesk.name, find=find, do=write)
        for outcome in outcomes:
            answer = done[outcome.ticket.id]
            if isinstance(answer, BaseException):
                outcome.problems.append(f"write-back failed: {describe(answer)}")
            else:
                outcome.writeback_ref = answer
                outcome.completed = True

    # -- bookkeeping -------------------------------------------------------------------------------
    def _decision(self, outcome: TicketOutcome) -> Decision:
        triage = outcome.triage
        return Decision(
            flow=self.flow, item_id=outcome.ticket.id, version=outcome.ticket.content_version,
            inputs_hash=outcome.ticket.inputs_hash(), classifier=triage.classifier,
            confidence=triage.confidence, category=triage.category, severity=triage.severity,
            fields={
                "summary": triage.summary, "suggested_reply": triage.suggested_reply,
                "flags": list(triage.flags), "reasons": list(triage.reasons), "channel": outcome.channel,
                "review": outcome.review, "articles": [{"title": a.title, "url": a.url} for a in outcome.articles],
                "alert_ref": outcome.alert_ref, "writeback_ref": outcome.writeback_ref,
                "problems": outcome.problems,
                "sla": outcome.sla.as_fields() if outcome.sla else None,
                # What a re-triage compares with and replies under (frontline.flows.retriage).
                "alert_thread": outcome.thread, "incident": self._incident(outcome.ticket.id),
                "customer_messages": len(followups(outcome.ticket)),
                "customer_at": outcome.ticket.customer_updated_at.isoformat()
                if outcome.ticket.customer_updated_at else None,
                **self._reading(outcome),
            },
        )

    @staticmethod
    def _reading(outcome: TicketOutcome) -> dict[str, object]:
        """The ticket's language (None when unsure or too short, and why) and its customer's sentiment."""
        reading: dict[str, object] = {}
        if outcome.language is not None:
            reading.update(language=outcome.language.code, language_confidence=outcome.language.confidence)
            if outcome.language.code is None:
                reading["language_reason"] = outcome.language.reason
        if outcome.sentiment is not None:
            reading["sentiment"] = outcome.sentiment.to_dict()
        return reading

    def _count(self, outcome: TicketOutcome) -> None:
        summary = self.summary
        if outcome.completed or self.dry_run:
            summary.handled += 1
            summary.by_category[outcome.triage.category] += 1
            summary.by_severity[outcome.triage.severity] += 1
            summary.review += outcome.review
            summary.problems += bool(outcome.problems)
            summary.flags.update(outcome.triage.flags)
        else:
            summary.failures.append((outcome.ticket.id, "; ".join(outcome.problems) or "not completed"))
        self.reporter.ticket(outcome)


async def run_triage(services: TriageServices, *, dry_run: bool = False, limit: int | None = None,
                     reporter: Reporter | None = None) -> RunSummary:
    """Run the triage flow once."""
    return await TriageRun(services, dry_run=dry_run, limit=limit, reporter=reporter).run()


class TriageFlow(Flow):
    """The triage flow as the engine runs it: new and open tickets from the helpdesk."""

    name = "triage"
    item = Ticket
    ports = ("helpdesk", "kb", "chat", "tracker")
    source_port = "helpdesk"
    settings_section = "routing"
    webhooks = ("zendesk", "tickets")  # Zendesk's ticket events, and POST /tickets for the embedded helpdesk
    order = 10

    def services(self, context: Context) -> TriageServices:
        """The helpdesk, knowledge base and chat opened, with the configured classifier."""
        ports = context.ports
        return TriageServices(settings=context.settings, store=context.store, helpdesk=ports["helpdesk"],
                              kb=ports["kb"], chat=ports["chat"], classifier=context.classifier(),
                              renderer=Renderer(context.settings), team=context.settings.team,
                              tracker=ports.get("tracker"))

    def wanted(self, item: Ticket) -> bool:
        """A ticket solved or closed before it was reached needs no alert now."""
        return item.status not in CLOSED

    def start(self, services: TriageServices, *, dry_run: bool = False, limit: int | None = None,
              output: Output | None = None, quiet: bool = False, now: Callable[[], datetime] | None = None
              ) -> TriageRun:
        """A pass over every new and open ticket, one line per ticket on ``output``."""
        from frontline.flows.triage_report import TriageReporter

        reporter = TriageReporter(output, quiet=quiet) if output is not None else None
        return TriageRun(services, dry_run=dry_run, limit=limit, reporter=reporter)

    async def handle(self, services: TriageServices, items: Sequence[Ticket], *, owner: str,
                     claim_seconds: float) -> Handled:
        """Triage the batch once (tickets handled already are skipped); finished: those handled now."""
        run = TriageRun(services)
        run.owner, run.claim_seconds = owner, claim_seconds
        await run.handle(items)
        failed = {item_id for item_id, _ in run.summary.failures}  # a re-triage that failed is handled all the same
        finished = services.store.handled_among(run.flow, [t.id for t in items]) - failed
        return Handled(finished, dict(run.summary.failures),
                       Counter(handled=run.summary.handled, skipped=run.summary.skipped))

    def idle(self, summary: RunSummary) -> bool:
        """Nothing handled and nothing failed."""
        return not (summary.handled or summary.failures)

    def print_summary(self, summary: RunSummary, output: Output, *, title: str) -> None:
        """Handled, per category and severity, failures, elapsed."""
        from frontline.flows.triage_report import print_summary

        print_summary(summary, output, title=title)
