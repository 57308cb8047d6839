"""The escalate flow: fetch → skip escalated → score signals → customer value → issue → alert → note (last).

Each step is isolated: the tracker down means an alert without an issue link; a refused channel
means the fallback channel; the private note on the conversation is always written, and only a
written note marks the conversation handled. Every effect goes through the ledger, and one claim
per conversation keeps a webhook and the poller (or two workers) from acting on it at once, so a
conversation is escalated once per episode — a reopened conversation with new signals is a new
episode when ``escalation.reescalate`` is on, and `frontline state forget` forces one.

Conversations that do not escalate are not marked handled: each update brings them back. Those
still open are put on the watch list for the moment the hours-open signal would fire, since
nothing about them needs to change for that.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from frontline.config import Settings
from frontline.engine.cursor import walk
from frontline.engine.ledger import Ledger
from frontline.engine.requeue import read_again, take_requeued
from frontline.errors import ChannelRefusedError, FrontlineError, describe
from frontline.flows.base import Context, Flow, Handled, Output, post_with_fallback
from frontline.flows.protocol import issue_ref, parse_issue_ref
from frontline.model import Conversation, Escalation, IssueDraft, IssueRef
from frontline.ports import Chat, Classifier, Conversations, Tracker
from frontline.render import Renderer
from frontline.runtime import owners
from frontline.store.escalations import EscalationQueue
from frontline.store.state import Decision, StateStore

FLOW = "escalate"


class Scorer(Protocol):
    """Scores a conversation's signals and the customer's value (``decide/signals.py``)."""

    def score(self, conversation: Conversation, now: datetime) -> Escalation:
        """The escalation decision."""
        ...


@dataclass
class EscalationOutcome:
    """What the flow did for one conversation."""

    conversation: Conversation
    escalation: Escalation
    issue: IssueRef | None = None
    channel: str | None = None
    alert_ref: str | None = None
    note_ref: str | None = None
    problems: list[str] = field(default_factory=list)
    completed: bool = False


@dataclass
class EscalationSummary:
    """The closing summary of a run."""

    scored: int = 0
    escalated: int = 0
    skipped: int = 0
    busy: int = 0
    by_priority: Counter[str] = field(default_factory=Counter)
    by_signal: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    problems: int = 0
    elapsed: float = 0.0
    dry_run: bool = False


@dataclass
class EscalateServices:
    """Everything the escalate flow talks to."""

    settings: Settings
    store: StateStore
    conversations: Conversations
    tracker: Tracker
    chat: Chat
    scorer: Scorer
    renderer: Renderer
    classifier: Classifier | None = None
    team: str = "default"

    @property
    def flow(self) -> str:
        """Handled items, decisions and effects are stored under this name: one per team."""
        return FLOW if self.team == "default" else f"{FLOW}@{self.team}"

    @property
    def cursor_key(self) -> str:
        """Where this team's conversation position is saved."""
        return f"{FLOW}:{self.team}:{self.conversations.name}"


class EscalateRun:
    """One pass over conversations changed since the saved cursor (or a given batch, from a webhook)."""

    def __init__(self, services: EscalateServices, *, dry_run: bool = False, limit: int | None = None,
                 report: Callable[[EscalationOutcome], None] | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.s = services
        self.settings = services.settings
        self.flow = services.flow
        self.dry_run = dry_run
        self.limit = limit
        self.report = report or (lambda outcome: None)
        self.now = now or (lambda: datetime.now(UTC))
        self.summary = EscalationSummary(dry_run=dry_run)
        self.ledger = Ledger(services.store, self.flow)
        self.owner = owners.this_process(id(self))
        self._slots = asyncio.Semaphore(self.settings.runner.concurrency)
        # Each conversation counts once a run: the note an escalation writes changes the conversation,
        # so a later page (or a revisit and a page) can bring the same one back.
        self._scored: set[str] = set()
        self._escalated: set[str] = set()

    async def run(self) -> EscalationSummary:
        """Escalate everything that needs it among changed, requeued and due-for-a-look conversations."""
        started = time.perf_counter()
        store, source = self.s.store, self.s.conversations
        # A conversation a person forgot is escalated again even if handled since: a new episode.
        used = await take_requeued(store, self.flow, source.get,
                                   lambda found: self.handle(found, forced={c.id for c in found}),
                                   dry_run=self.dry_run, limit=self.limit, failures=self.summary.failures,
                                   gone=lambda ids: store.unwatch(self.flow, ids))
        if self.limit is not None:
            self.limit = max(0, self.limit - used)
        await self._due()

        async def page(batch: Sequence[Conversation]) -> tuple[bool, int]:
            return await self.handle(batch), len(batch)

        # The cursor only moves past pages whose every escalation completed: nothing is lost.
        await walk(store, self.s.cursor_key, source.list_changed, page, batch=self.settings.runner.batch_size,
                   limit=self.limit, dry_run=self.dry_run, failures=self.summary.failures)
        self.summary.elapsed = time.perf_counter() - started
        return self.summary

    async def _due(self) -> None:
        """Read again the watched conversations whose time signal is due; one gone is no longer watched."""
        if self.dry_run:
            return
        due = self.s.store.due(self.flow, self.now())
        if not due:
            return
        found, gone = await read_again(self.s.conversations.get, due, self.summary.failures)
        self.s.store.unwatch(self.flow, gone)
        await self.handle(found)

    async def handle(self, conversations: Sequence[Conversation], *, forced: frozenset[str] | set[str] = frozenset()
                     ) -> bool:
        """Score and escalate a batch (the webhook path calls this too); True when nothing failed."""
        store = self.s.store
        history = store.history(self.flow, [c.id for c in conversations])
        todo: list[tuple[Conversation, Escalation, str]] = []
        closed = [c.id for c in conversations if c.state == "closed"]
        store.unwatch(self.flow, closed)
        now = self.now()
        for conversation in conversations:
            if conversation.state == "closed":
                continue
            if self.dry_run and conversation.id in self._escalated:
                continue  # shown once already: a dry run records nothing that would skip it
            decided, handled = history.get(conversation.id, (0, None))
            if handled is not None and conversation.id not in forced and not self._reopened_since(conversation,
                                                                                                  handled):
                # Escalated earlier in this run and back only because of its own note: counted already.
                self.summary.skipped += conversation.id not in self._escalated
                continue
            escalation = self.s.scorer.score(conversation, now)
            self.summary.scored += conversation.id not in self._scored
            self._scored.add(conversation.id)
            if not escalation.escalate:
                self._watch(conversation, now)
                continue
            # Every escalation is an episode with keys of its own: a reopened conversation, or one a
            # person forgot, gets a new issue, alert and note instead of finding the old ones.
            todo.append((conversation, escalation, f"e{decided + 1}"))
        if not todo:
            return True
        todo = await self._categorise(todo)
        outcomes = await asyncio.gather(*(self._escalate(c, e, v) for c, e, v in todo))
        # One held elsewhere (None) is not done either: its holder may die before finishing it, so
        # the cursor must not move past it; the next pass finds it handled, or takes it over.
        return all(o is not None and o.completed for o in outcomes)

    def _reopened_since(self, conversation: Conversation, handled_version: str) -> bool:
        """True when re-escalation is on and the conversation reopened after its last escalation."""
        if not self.settings.escalation.reescalate:
            return False
        _, _, reopened = handled_version.rpartition(":r")
        return conversation.reopened > (int(reopened) if reopened.isdigit() else 0)

    def _watch(self, conversation: Conversation, now: datetime) -> None:
        """Come back when the hours-open signal would fire, if that is still ahead."""
        if self.dry_run or conversation.created_at is None:
            return
        due = conversation.created_at + timedelta(hours=self.settings.escalation.signals.hours_open.hours)
        if due > now:
            self.s.store.watch(self.flow, conversation.id, due + timedelta(minutes=1))
        else:
            self.s.store.unwatch(self.flow, [conversation.id])

    async def _categorise(self, todo: list[tuple[Conversation, Escalation, str]]
                          ) -> list[tuple[Conversation, Escalation, str]]:
        """Give each escalation the conversation's category (which picks the tracker project)."""
        if self.s.classifier is None:
            return todo
        try:
            triages = await self.s.classifier.classify([c.as_ticket() for c, _, _ in todo])
        except Exception:  # the project is a nicety: escalate without one
            return todo
        return [(c, _with_category(e, t.category), v) for (c, e, v), t in zip(todo, triages, strict=True)]

    async def _escalate(self, conversation: Conversation, escalation: Escalation, version: str
                        ) -> EscalationOutcome | None:
        outcome = EscalationOutcome(conversation, escalation)
        if self.dry_run:
            outcome.channel = self._channel(escalation)
            self._escalated.add(conversation.id)
            self._count(outcome, done=True)
            return outcome
        store = self.s.store
        if not self._claim(conversation.id):
            self.summary.busy += 1  # a webhook or another worker is on it right now
            return None
        try:
            async with self._slots:
                await self._issue(outcome, version)
                await self._alert(outcome, version)
                await self._note(outcome, version)
            if outcome.completed:
                # Into the escalation queue (once per conversation) before it counts as handled.
                EscalationQueue(store.engine).add(
                    self.flow, conversation.id, priority=escalation.priority,
                    reason=f"score {escalation.score:.2f}: {', '.join(s.name for s in escalation.signals)}",
                    tracker_ref=issue_ref(outcome.issue) if outcome.issue else None, alert_ref=outcome.alert_ref)
                store.complete([self._decision(outcome, version)])
                store.unwatch(self.flow, [conversation.id])
                self._escalated.add(conversation.id)
        finally:
            store.release(self.flow, conversation.id, self.owner)
        self._count(outcome, done=outcome.completed)
        return outcome

    def _claim(self, item_id: str) -> bool:
        """Claim the conversation; a claim left by a process of this machine that died is taken over."""
        return bool(self.s.store.claim_or_take_over(self.flow, [item_id], self.owner, 300.0, dead=owners.gone))

    def _channel(self, escalation: Escalation) -> str:
        routing = self.settings.escalation.routing
        return routing.P0 if escalation.priority == "P0" else routing.P1

    # -- the three effects ---------------------------------------------------------------------------
    async def _issue(self, outcome: EscalationOutcome, version: str) -> None:
        conversation, escalation = outcome.conversation, outcome.escalation
        tracker, settings = self.s.tracker, self.settings.escalation

        async def find(key: str) -> str | None:
            found = await tracker.find_issue(key)
            return issue_ref(found) if found else None

        async def create(key: str) -> tuple[str, str]:
            title, body = self.s.renderer.escalation_issue(conversation, escalation, key)
            project = settings.projects.get(escalation.category or "")
            # The priority travels as the tracker's own priority field, not as a label.
            issue = await tracker.create_issue(IssueDraft(title, body, key, settings.labels, project,
                                                          escalation.priority))
            return issue_ref(issue), tracker.name

        try:
            ref = await self.ledger.once(conversation.id, "issue", version, tracker.name, find=find, do=create,
                                         always_find=True)
            outcome.issue = parse_issue_ref(ref)
        except Exception as error:
            outcome.problems.append(f"tracker issue not created: {describe(error)}")

    async def _alert(self, outcome: EscalationOutcome, version: str) -> None:
        chat = self.s.chat
        channel = self._channel(outcome.escalation)
        fallback = self.settings.escalation.routing.fallback

        async def post(key: str) -> tuple[str, str]:
            message = self.s.renderer.escalation_alert(outcome.conversation, outcome.escalation, outcome.issue)
            # Only a refusal moves on to the fallback: any other error fails the alert, to be retried.
            ref, target = await post_with_fallback(chat, channel, fallback, message, key, [outcome.problems],
                                                   moves_on=())
            if ref is None:
                raise ChannelRefusedError(chat.name, " and ".join(dict.fromkeys((channel, fallback))),
                                          "every channel refused")
            return ref, target

        try:
            outcome.alert_ref = await self.ledger.once(outcome.conversation.id, "alert", version, channel,
                                                       find=chat.find_posted, do=post)
            outcome.channel = self._channel_of(outcome, channel, fallback)
        except Exception as error:
            outcome.problems.append(f"alert not posted: {describe(error)}")

    @staticmethod
    def _channel_of(outcome: EscalationOutcome, channel: str, fallback: str) -> str:
        return fallback if any(p.startswith(f"alert refused in {channel} ") for p in outcome.problems) else channel

    async def _note(self, outcome: EscalationOutcome, version: str) -> None:
        conversation = outcome.conversation
        source = self.s.conversations

        async def find(key: str) -> str | None:
            return await source.find_note(conversation.id, key)

        async def write(key: str) -> tuple[str, str]:
            try:
                body = self.s.renderer.escalation_note(conversation, outcome.escalation, outcome.issue,
                                                       channel=outcome.channel, problems=outcome.problems, marker=key)
            except FrontlineError as error:  # the note is always written: plain text if the template fails
                body = (f"frontline escalation {outcome.escalation.priority}, score {outcome.escalation.score:.2f}. "
                        f"Note template failed: {error}\n[{key}]\n")
            return await source.add_note(conversation.id, body, key), source.name

        try:
            outcome.note_ref = await self.ledger.once(conversation.id, "note", version, source.name, find=find,
                                                      do=write)
            outcome.completed = True
        except Exception as error:
            outcome.problems.append(f"note not written: {describe(error)}")

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _decision(self, outcome: EscalationOutcome, version: str) -> Decision:
        escalation, conversation = outcome.escalation, outcome.conversation
        sentiment = escalation.sentiment
        return Decision(
            flow=self.flow, item_id=conversation.id, version=f"{version}:r{conversation.reopened}",
            inputs_hash=conversation.as_ticket().inputs_hash(), classifier="signals", confidence=escalation.score,
            category=escalation.category, severity=escalation.priority,
            fields={
                "signals": [{"name": s.name, "weight": s.weight, "detail": s.detail} for s in escalation.signals],
                "value": escalation.value.reason, "episode": version, "reopened": conversation.reopened,
                "sentiment": None if sentiment is None else {"label": sentiment.label, "first": sentiment.first,
                                                             "last": sentiment.last},
                "issue": None if outcome.issue is None else {"identifier": outcome.issue.identifier,
                                                             "url": outcome.issue.url},
                "channel": outcome.channel, "alert_ref": outcome.alert_ref, "note_ref": outcome.note_ref,
                "problems": outcome.problems,
            },
        )

    def _count(self, outcome: EscalationOutcome, *, done: bool) -> None:
        summary = self.summary
        if done:
            summary.escalated += 1
            summary.by_priority[outcome.escalation.priority] += 1
            summary.by_signal.update(s.name for s in outcome.escalation.signals)
            summary.problems += bool(outcome.problems)
        else:
            summary.failures.append((outcome.conversation.id, "; ".join(outcome.problems) or "not completed"))
        self.report(outcome)


def _with_category(escalation: Escalation, category: str) -> Escalation:
    return Escalation(escalation.score, escalation.signals, escalation.escalate, escalation.value,
                      escalation.sentiment, category)


async def run_escalate(services: EscalateServices, *, dry_run: bool = False, limit: int | None = None,
                       report: Callable[[EscalationOutcome], None] | None = None,
                       now: Callable[[], datetime] | None = None) -> EscalationSummary:
    """Run the escalate flow once (``now``: the clock time-based signals are measured by)."""
    return await EscalateRun(services, dry_run=dry_run, limit=limit, report=report, now=now).run()


class EscalateFlow(Flow):
    """The escalate flow as the engine runs it: conversations changed at the source, and those due a look."""

    name = "escalate"
    item = Conversation
    ports = ("conversations", "tracker", "chat")
    source_port = "conversations"
    settings_section = "escalation"
    webhooks = ("intercom",)  # Intercom's conversation notifications
    order = 20

    def services(self, context: Context) -> EscalateServices:
        """The conversation source, tracker and chat opened; the classifier only when it can be built."""
        from frontline.decide.signals import EscalationScorer

        try:
            classifier: Classifier | None = context.classifier()
        except FrontlineError:
            classifier = None  # the category only picks a tracker project: escalate without it
        ports, settings = context.ports, context.settings
        return EscalateServices(settings=settings, store=context.store, conversations=ports["conversations"],
                                tracker=ports["tracker"], chat=ports["chat"], scorer=EscalationScorer(settings),
                                renderer=Renderer(settings), classifier=classifier, team=settings.team)

    def version(self, item: Conversation) -> str:
        """When it was updated, and how many parts it has."""
        stamp = item.updated_at.isoformat() if item.updated_at else "0"
        return f"{stamp}/{len(item.parts)}"

    def due(self, services: EscalateServices, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Watched conversations whose hours-open signal is due."""
        return services.store.due_at(services.flow, now)

    def gone(self, services: EscalateServices, item_ids: Sequence[str]) -> None:
        """Gone from the source: nothing to watch any more."""
        services.store.unwatch(services.flow, item_ids)

    def start(self, services: EscalateServices, *, dry_run: bool = False, limit: int | None = None,
              output: Output | None = None, quiet: bool = False, now: Callable[[], datetime] | None = None
              ) -> EscalateRun:
        """A pass over changed, requeued and due conversations, one line per escalation on ``output``."""
        from frontline.flows.escalate_report import EscalationReporter

        report = EscalationReporter(output, quiet=quiet) if output is not None else None
        return EscalateRun(services, dry_run=dry_run, limit=limit, report=report, now=now)

    async def handle(self, services: EscalateServices, items: Sequence[Conversation], *, owner: str,
                     claim_seconds: float) -> Handled:
        """Score and escalate the batch; finished: every one that did not fail."""
        run = EscalateRun(services)
        run.owner = owner
        await run.handle(items)
        failures = dict(run.summary.failures)
        return Handled({c.id for c in items if c.id not in failures}, failures,
                       Counter(escalated=run.summary.escalated, skipped=run.summary.skipped))

    def idle(self, summary: EscalationSummary) -> bool:
        """Nothing scored and nothing failed."""
        return not (summary.scored or summary.failures)

    def print_summary(self, summary: EscalationSummary, output: Output, *, title: str) -> None:
        """Scored, escalated by priority and signal, failures, elapsed."""
        from frontline.flows.escalate_report import print_escalation_summary

        print_escalation_summary(summary, output, title=title)
