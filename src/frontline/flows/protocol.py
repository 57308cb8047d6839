"""The escalation protocol: an urgent ticket is escalated at once, during its triage.

A ticket is urgent when its severity (business impact weighed) is one of
``escalation_protocol.severities``, or of ``high_value_severities`` for a high-value customer
(:func:`frontline.decide.severity.urgent`). Then, in this order:

1. a tracker issue (the Tracker port: Linear or the embedded tracker), through the ledger with the
   issue's marker looked for before **every** create, so a crash between the create and the
   ledger's record finds the issue instead of filing a second one;
2. the alert names the escalation and mentions the on-call Slack user group
   (``<!subteam^ID>``, ``escalation_protocol.oncall``) and links the issue; an urgent ticket is
   never folded into a digest;
3. an entry in the escalation queue (:mod:`frontline.store.escalations`), once per ticket, with
   the issue's and the alert's references; the reason is added to the triage's reasons, so the
   note says it too.

A step that fails is a problem on the ticket, like any other triage step: the alert goes out
without the issue link, and the next run's marker check settles the issue.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass

from frontline.config import Settings
from frontline.decide.severity import urgent
from frontline.engine.ledger import Ledger
from frontline.errors import describe
from frontline.model import ChatMessage, IssueDraft, IssueRef, Ticket, Triage
from frontline.ports import Tracker
from frontline.render import Renderer, slack_escape
from frontline.store.escalations import Entering, EscalationQueue
from frontline.store.state import StateStore

PREFIX = "escalation protocol"
# One issue per ticket, whatever its episode: a ticket triaged again (changed, forgotten, a new message)
# finds the issue it has instead of filing another; once that issue is closed, a new one may be filed.
ISSUE_VERSION = "urgent"


@dataclass
class Urgent:
    """One urgent ticket of this run: why, and the issue filed for it."""

    reason: str
    issue: IssueRef | None = None


def issue_ref(issue: IssueRef) -> str:
    """The ledger's and the queue's form of an issue: ``identifier|url|id``."""
    return f"{issue.identifier}|{issue.url}|{issue.id}"


def parse_issue_ref(ref: str) -> IssueRef:
    """An issue back from :func:`issue_ref`."""
    identifier, _, rest = ref.partition("|")
    url, _, issue_id = rest.partition("|")
    return IssueRef(issue_id or identifier, identifier, url)


class EscalationProtocol:
    """Files the issue, marks the alert and enters the queue for a triage run's urgent tickets."""

    def __init__(self, settings: Settings, store: StateStore, tracker: Tracker | None, renderer: Renderer,
                 ledger: Ledger) -> None:
        self.settings = settings
        self.tracker = tracker
        self.renderer = renderer
        self.ledger = ledger
        self.queue = EscalationQueue(store.engine)
        self.urgent: dict[str, Urgent] = {}

    def is_urgent(self, ticket_id: str) -> bool:
        """Whether :meth:`start` found this ticket urgent."""
        return ticket_id in self.urgent

    async def start(self, items: Sequence[tuple[Ticket, Triage]], problems: Mapping[str, MutableSequence[str]]
                    ) -> None:
        """Find the urgent ones among (ticket, triage) and file each one's tracker issue once."""
        todo = []
        for ticket, triage in items:
            reason = urgent(triage.severity, ticket.company, self.settings)
            if reason is not None:
                self.urgent[ticket.id] = Urgent(reason)
                todo.append((ticket, triage))
        if self.tracker is not None and todo:
            await self._issues(todo, problems)

    async def _issues(self, todo: Sequence[tuple[Ticket, Triage]], problems: Mapping[str, MutableSequence[str]]
                      ) -> None:
        """File each urgent ticket's issue once; the ledger is read and written once for the page."""
        tracker = self.tracker
        assert tracker is not None
        by_key = {self.ledger.key(ticket.id, "issue", ISSUE_VERSION): (ticket, triage) for ticket, triage in todo}

        async def find(key: str) -> str | None:
            found = await tracker.find_issue(key)
            return issue_ref(found) if found else None

        async def create(key: str) -> tuple[str, str]:
            ticket, triage = by_key[key]
            title, body = self.renderer.urgent_issue(ticket, triage, self.urgent[ticket.id].reason, key)
            project = self.settings.escalation.projects.get(triage.category)
            issue = await tracker.create_issue(IssueDraft(title, body, key, self.settings.escalation_protocol.labels,
                                                          project, triage.severity))
            return issue_ref(issue), tracker.name

        try:
            # Looked for before every create, not only after a crash: the issue may exist from a run
            # that died between creating it and recording it.
            refs: Mapping[str, str | Exception] = await self.ledger.each(
                [ticket.id for ticket, _ in todo], "issue", ISSUE_VERSION, tracker.name, find=find, do=create,
                always_find=True)
        except Exception as error:  # the ledger itself failed: no issue is known for any of them
            refs = {ticket.id: error for ticket, _ in todo}
        for ticket, _ in todo:
            ref = refs[ticket.id]
            if isinstance(ref, Exception):
                problems[ticket.id].append(f"escalation issue not filed: {describe(ref)}")
            else:
                self.urgent[ticket.id].issue = parse_issue_ref(ref)

    def mark(self, ticket_id: str, message: ChatMessage) -> ChatMessage:
        """An urgent ticket's alert with the on-call mention, the reason and the issue link on top."""
        entry = self.urgent.get(ticket_id)
        if entry is None:
            return message
        oncall = self.settings.escalation_protocol.oncall
        mention = f"<!subteam^{oncall}> " if oncall else ""
        issue = entry.issue
        link = ""
        if issue is not None:
            link = f" · issue <{issue.url.replace('>', '%3E')}|{slack_escape(issue.identifier)}>" if issue.url \
                else f" · issue {slack_escape(issue.identifier)}"
        line = f"{mention}:rotating_light: *Escalated*: {slack_escape(entry.reason)}{link}"
        block = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
        return ChatMessage(text=f"{mention}{message.text}", blocks=(block, *message.blocks))

    def finish(self, ticket: Ticket, triage: Triage, alert_ref: str | None) -> Triage:
        """Enter an urgent ticket in the escalation queue; its triage with the escalation among the reasons."""
        return self.finish_all([(ticket, triage, alert_ref)])[0]

    def finish_all(self, items: Sequence[tuple[Ticket, Triage, str | None]]) -> list[Triage]:
        """:meth:`finish` for a page of (ticket, triage, alert reference): the queue is written once for all."""
        entering = []
        for ticket, triage, alert_ref in items:
            entry = self.urgent.get(ticket.id)
            if entry is not None:
                entering.append(Entering(ticket.id, entry.reason, triage.severity,
                                         issue_ref(entry.issue) if entry.issue else None, alert_ref))
        self.queue.add_many(self.ledger.flow, entering)
        return [self._noted(ticket, triage) for ticket, triage, _ in items]

    def _noted(self, ticket: Ticket, triage: Triage) -> Triage:
        """An urgent ticket's triage with the escalation among its reasons (the note says it too)."""
        entry = self.urgent.get(ticket.id)
        if entry is None:
            return triage
        parts = [entry.reason]
        if entry.issue is not None:
            parts.append(f"issue {entry.issue.identifier}" + (f" {entry.issue.url}" if entry.issue.url else ""))
        if self.settings.escalation_protocol.oncall:
            parts.append(f"on-call {self.settings.escalation_protocol.oncall} mentioned")
        reasons = [r for r in triage.reasons if not r.startswith(PREFIX)]
        return triage.with_changes(reasons=(*reasons, f"{PREFIX}: " + "; ".join(parts)))
