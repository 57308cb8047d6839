"""Seeded generator of realistic Beacon support conversations, labelled for escalation.

A conversation is a scripted scenario (a slow-burning billing complaint, a polite how-to, a
bug fixed and closed with thanks, …) played out on a clock: the bot greets, agents answer
in support hours, customers come back days later, conversations close and reopen. About a
fifth of the scenarios should escalate (the customer's frustration builds); the rest are
calm, and many of those are hard negatives that carry the escalation keywords in harmless
senses, in negations, or only in what agents and internal notes say.

Every record carries the generator's ground truth under ``label``, which the engine never
reads for deciding: it is there so tests and benchmarks can measure the detector.

The stories are always played out on the same clock, ending at ``DEFAULT_START``, and only
then moved so that moment falls on the ``now`` asked for: what is generated never depends on
the hour or the weekday it is generated at, so a demo built at night escalates exactly what
one built on a Sunday afternoon does. (Weekday names in the text are the fixed clock's.)
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate

from frontline.demo import phrasebook as say
from frontline.demo.generator import (
    COMPANY_SEED,
    DEFAULT_START,
    PAID,
    Customer,
    as_utc,
    companies,
    iso_utc,
    to_html,
    write_jsonl,
)
from frontline.demo.threads import HOW_TO, Thread

__all__ = [
    "ESCALATION_SHARE",
    "KINDS",
    "LIFECYCLES",
    "STATES",
    "generate_conversations",
    "write_jsonl",
]

STATES = ("open", "closed", "snoozed")
KINDS = ("comment", "note", "open", "close")
LIFECYCLES = ("trial", "onboarding", "active", "renewal-due", "churn-risk")
WINDOW = timedelta(days=14)
NO_COMPANY_SHARE = 0.07


# --------------------------------------------------------------------------- customers


@cache
def _lifecycles() -> dict[str, str]:
    """Each pool company's lifecycle stage, stable across seeds like the pool itself."""
    rng = random.Random(COMPANY_SEED + 1)
    stages = {}
    for company in companies():
        if company.plan == "free":
            stages[company.name] = rng.choice(("trial", "trial", "active"))
        else:
            stages[company.name] = rng.choices(LIFECYCLES[1:], weights=(10, 62, 14, 14))[0]
    return stages


@cache
def _company_table(hot: bool, paid: bool) -> tuple[list[Customer], list[float]]:
    """Companies and cumulative weights; unhappy scenarios lean to renewal-due and churn-risk."""
    bias = {"churn-risk": 3.0, "renewal-due": 2.5} if hot else {}
    pool = [c for c in companies() if not paid or c.plan in PAID]
    weights = [bias.get(_lifecycles()[c.name], 1.0) * (1.0 + c.seats / 400) for c in pool]
    return pool, list(accumulate(weights))


# Families of the ticket generator's intents that scenarios open with.
_URGENT = ("bug.outage", "bug.data_loss", "bug.security", "account.org_locked",
           "account.compromised")
_BUGS = ("bug.page_error", "bug.mobile", "bug.integration", "bug.quickbooks",
         "bug.client_invoice", "bug.export", "bug.notifications", "bug.slow", "bug.upload",
         "bug.api", "bug.recurring", "bug.ui", "bug.workflow_blocked")
_BILLING = ("billing.",)
_FEATURES = ("feature.", "how_to.maybe_feature")
_ACCOUNT = ("account.password", "account.two_factor", "account.locked", "account.sso",
            "account.owner_email", "account.remove_user", "account.invite", "account.merge")


# --------------------------------------------------------------------------- scenarios
# Each plays one story on a thread and returns the ground truth's "why".

_THREAT_WORDS = {
    "cancel": "a threat to cancel", "refund": "a refund demand",
    "manager": "a request for a manager", "legal": "a legal threat",
    "churn": "doubt about renewing", "quiet": "an angry last message without keywords",
}


def _first_reply(t: Thread) -> None:
    """Support's first answer to a problem: ask for details (and get them), or acknowledge."""
    if t.rng.random() < 0.55:
        t.agent(say.ASKS[t.topic], greet=True)
        t.wait(3, 60)
        t.customer(t.rng.choice(say.INFO[t.topic]))
        t.maybe_note()
    else:
        t.agent(say.ACKS[t.topic], greet=True)


def _slow_burn(t: Thread) -> str:
    t.open_with(_BILLING + _BUGS + _ACCOUNT)
    _first_reply(t)
    t.later(1, 3)
    t.customer(t.rng.choice(say.IMPATIENT), 1)
    if t.rng.random() < 0.6:
        t.agent(say.HOLDS[t.topic])
    t.later(1, 2)
    t.upset(2)
    if t.rng.random() < 0.5:
        t.agent(say.AGENT_APOLOGIES)
    t.later(0, 2)
    threat = t.rng.choices(list(_THREAT_WORDS), weights=(5, 2, 2, 0, 2, 3))[0]
    t.upset(3, threat)
    return (f"frustration builds over {t.said} customer messages in {t.span()}, "
            f"ending in {_THREAT_WORDS[threat]}")


def _ignored(t: Thread) -> str:
    t.open_with(_BUGS + _ACCOUNT)
    if t.rng.random() < 0.7:
        t.agent(say.ACKS[t.topic], greet=True)
    for level in (1, 1, 2, 2)[: t.rng.randint(3, 4)]:
        if t.rng.random() < 0.5:
            t.wait(180, 1500)
        else:
            t.later(1, 2)
        if level == 1:
            t.customer(t.rng.choice(say.IMPATIENT), 1)
        else:
            t.upset(2)
    if t.rng.random() < 0.5:
        t.later(0, 1)
        t.upset(3, "quiet" if t.rng.random() < 0.6 else "cancel")
    return f"{t.said} customer messages in {t.span()} with little answer; the tone hardens"


def _refund_demand(t: Thread) -> str:
    t.open_with(("billing.double_charge", "billing.checkout_error", "billing.renewal",
                 "billing.seats", "billing.payment_failed"))
    t.agent(say.AGENT_POLICIES, greet=True)
    t.wait(10, 300)
    t.upset(2, "refund")
    t.maybe_note(0.5, say.KEYWORD_NOTES)
    t.agent(say.HOLDS["billing"] if t.rng.random() < 0.5 else say.AGENT_POLICIES)
    if t.rng.random() < 0.6:
        t.later(1, 3)
        t.upset(3, t.rng.choice(("refund", "manager", "cancel")))
    return f"refund demanded and refused or stalled; {t.said} messages in {t.span()}"


def _manager_request(t: Thread) -> str:
    t.open_with(_BUGS + _BILLING + _ACCOUNT)
    t.agent(say.AGENT_DEFLECTIONS, greet=True)
    t.wait(5, 200)
    t.upset(2)
    t.agent(say.AGENT_DEFLECTIONS if t.rng.random() < 0.5 else say.HOLDS[t.topic])
    t.later(0, 2)
    t.upset(3, "manager")
    if t.rng.random() < 0.5:
        t.agent(say.AGENT_APOLOGIES)
    return "customer unhappy with the answers asks for a manager"


def _reopened_broken(t: Thread) -> str:
    t.open_with(_BUGS)
    _first_reply(t)
    t.later(1, 2)
    t.agent(say.FIXES[t.topic])
    if t.rng.random() < 0.4:
        t.wait(5, 120)
        t.customer(t.rng.choice(say.THANKS_FIXED))
    t.close()
    t.later(1, 3)
    twice = t.rng.random() < 0.45
    t.customer("It's happening again. " + t.rng.choice(say.UPSET_OPENINGS), 1 if twice else 2)
    t.agent(say.AGENT_APOLOGIES, say.ACKS[t.topic])
    if twice:
        t.later(1, 2)
        t.agent(say.FIXES[t.topic])
        t.close()
        t.later(0, 2)
        t.upset(3, t.rng.choice(("cancel", "quiet", "churn", "manager")))
    return f"closed as fixed, reopened {'twice' if twice else 'once'} because it is still broken"


def _urgent(t: Thread) -> str:
    intent = t.open_with(_URGENT, 2, extra=t.rng.choice(say.URGENT_FEELINGS))
    t.agent(say.ACKS[t.topic], greet=True)
    t.wait(10, 50)
    data_at_stake = intent.key in ("bug.data_loss", "bug.security", "account.compromised")
    if data_at_stake and t.rng.random() < 0.5:
        threat = "legal"
    else:
        threat = t.rng.choice(("quiet", "churn", "cancel", "manager"))
    t.upset(3, threat, openings=say.URGENT_FOLLOW_UPS)
    problem = intent.key.split(".")[1].replace("_", " ")
    return f"{problem} reported in anger, then {_THREAT_WORDS[threat]}"


def _churn_threat(t: Thread) -> str:
    t.open_with(_BUGS + _BILLING, extra=t.rng.choice(say.RENEWAL_WORRIES))
    t.agent(say.ACKS[t.topic], greet=True)
    t.later(1, 4)
    t.upset(2, "churn")
    t.maybe_note(0.4, say.KEYWORD_NOTES)
    return "unhappy customer near renewal says they may not renew"


def _quick_answer(t: Thread) -> str:
    t.open_with(HOW_TO)
    t.agent(say.AGENT_ANSWERS, greet=True)
    thanks_first = t.rng.random() < 0.7
    if thanks_first:
        t.wait(1, 30)
        t.customer(t.rng.choice(say.THANKS))
    if t.rng.random() < 0.85:
        t.close()
    if not thanks_first and t.rng.random() < 0.6:
        t.wait(5, 240)
        t.customer(t.rng.choice(say.THANKS))  # thanks after closing reopens it
        t.close()
    return "how-to question answered; the customer is happy"


def _bug_fixed(t: Thread) -> str:
    t.open_with(_BUGS if t.rng.random() < 0.9 else ("vague",))
    _first_reply(t)
    if t.rng.random() < 0.4:
        t.later(1, 3)
        t.customer(t.rng.choice(say.PATIENT))
    t.later(0, 3)
    t.agent(say.FIXES[t.topic])
    t.wait(10, 300)
    t.customer(t.rng.choice(say.THANKS_FIXED))
    t.close()
    return "bug reported calmly, fixed, closed with thanks"


def _paired(pairs: tuple[tuple[str, str], ...], why: str) -> Callable[[Thread], str]:
    """A scenario asking one of ``pairs``' questions, getting its answer, and saying thanks."""

    def play(t: Thread) -> str:
        question, answer = t.rng.choice(pairs)
        t.ask(question)
        t.agent((answer,), greet=True)
        t.maybe_note()
        t.wait(2, 60)
        t.customer(t.rng.choice(say.THANKS))
        if t.rng.random() < 0.85:
            t.close()
        return why

    return play


_NEGATED_OPENINGS = {
    "bug": (("bug.export", "bug.ui", "bug.client_invoice", "bug.page_error"), say.ASKS["bug"]),
    "how_to": (HOW_TO, say.AGENT_ANSWERS),
    "billing": (("billing.proration", "billing.seats", "billing.double_charge"),
                say.AGENT_BILLING[2:4]),
}


def _negated(t: Thread) -> str:
    topic = t.rng.choice(list(_NEGATED_OPENINGS))
    families, replies = _NEGATED_OPENINGS[topic]
    with_question, later = say.NEGATIONS[topic]
    t.open_with(families)
    early = t.rng.random() < 0.5
    if early:
        t.wait(0.3, 4)
        t.customer(t.rng.choice(with_question))
    t.agent(replies, greet=True)
    t.wait(5, 200)
    t.customer(t.rng.choice(later if not early or t.rng.random() < 0.5 else say.THANKS))
    t.close()
    return "keywords only negated or withdrawn (no need to cancel, not asking for a refund)"


def _agent_keywords(t: Thread) -> str:
    t.open_with(HOW_TO + _BUGS + ("billing.proration", "billing.plan_change"))
    t.note(say.KEYWORD_NOTES)
    t.agent(say.AGENT_APOLOGIES[:2] + say.AGENT_ANSWERS, greet=True)
    t.maybe_note(0.5, say.KEYWORD_NOTES)
    t.wait(5, 120)
    t.customer(t.rng.choice(say.THANKS))
    t.close()
    return "escalation keywords only in agent replies and internal notes"


def _long_open_calm(t: Thread) -> str:
    feature = t.rng.random() < 0.6
    t.open_with(_FEATURES if feature else ("bug.slow", "bug.ui", "bug.recurring"))
    t.agent(say.AGENT_PRODUCT_ACKS if feature else say.ACKS["bug"], greet=True)
    for _ in range(t.rng.randint(1, 2)):
        t.later(2, 5)
        t.customer(t.rng.choice(say.PATIENT[:5] if feature else say.PATIENT))
        if t.rng.random() < 0.7:
            t.agent(say.AGENT_PRODUCT_HOLDS if feature else say.HOLDS["bug"])
    t.snoozed = t.rng.random() < 0.4
    return f"open for {t.span()}, the customer patient throughout"


def _routine_refund(t: Thread) -> str:
    t.ask(t.rng.choice(say.ROUTINE_REFUNDS))
    t.agent(say.AGENT_BILLING[:2], greet=True)
    t.maybe_note(0.6, ("Refund processed in Stripe for {amount}.",))
    t.wait(5, 300)
    t.customer(t.rng.choice(say.THANKS))
    t.close()
    return "polite refund request handled promptly"


def _calm_cancellation(t: Thread) -> str:
    t.ask(f"{t.rng.choice(say.CALM_CANCELLATIONS)} {t.rng.choice(say.CALM_CANCEL_KIND)}")
    t.agent(say.AGENT_CANCEL_CONFIRMS, greet=True)
    t.wait(5, 300)
    t.customer(t.rng.choice(say.THANKS))
    t.close()
    return "planned, friendly cancellation; nothing in the thread to rescue"


def _chatty(t: Thread) -> str:
    t.ask(t.rng.choice(say.CHATTY_OPENERS), greet=False)
    t.title = ""
    t.slots["article_url"] = say.HELP_CENTRE + "request-a-feature"
    t.wait(0.1, 1)
    t.customer(t.rng.choice(say.CHATTY_QUESTIONS))
    more = sorted(t.rng.sample(range(len(say.CHATTY_MORE)), t.rng.randint(2, 4)))
    for index in more:
        t.wait(0.2, 3)
        t.customer(say.CHATTY_MORE[index])
    t.agent(say.AGENT_ANSWERS, greet=True)
    t.wait(1, 20)
    t.customer(t.rng.choice(say.THANKS))
    t.close()
    return f"{t.said} short messages in a row, all calm"


def _reopened_calm(t: Thread) -> str:
    t.open_with(HOW_TO + _BILLING)
    t.agent(say.AGENT_ANSWERS, greet=True)
    t.wait(2, 60)
    t.customer(t.rng.choice(say.THANKS))
    t.close()
    t.later(1, 4)
    t.customer(t.rng.choice(say.ONE_MORE))
    t.agent(say.AGENT_ANSWERS)
    if t.rng.random() < 0.5:
        t.wait(2, 60)
        t.customer(t.rng.choice(say.THANKS))
    t.close()
    return "reopened for a friendly follow-up question"


def _bot_resolved(t: Thread) -> str:
    t.open_with(HOW_TO + _FEATURES)
    t.bot(say.BOT_ARTICLES)
    if t.rng.random() < 0.6:
        t.wait(1, 10)
        t.customer(t.rng.choice(say.THANKS))
    t.close(by="bot")
    return "answered by the bot's article or left to auto-close"


def _billing_question(t: Thread) -> str:
    t.open_with(("billing.proration", "billing.plan_change", "billing.invoice_docs",
                 "billing.tax_pricing", "billing.seats", "billing.renewal"))
    t.agent(say.AGENT_BILLING[2:] + say.AGENT_ANSWERS, greet=True)
    t.later(1, 3)
    t.customer(t.rng.choice(say.ONE_MORE))
    t.agent(say.AGENT_ANSWERS)
    t.wait(2, 90)
    t.customer(t.rng.choice(say.THANKS))
    if t.rng.random() < 0.8:
        t.close()
    return "billing question over a few days, calm throughout"


@dataclass(frozen=True, slots=True)
class _Scenario:
    """One story: whether it should escalate, how often it happens, and how it plays."""

    name: str
    escalate: bool
    weight: float
    play: Callable[[Thread], str]
    paid: bool = False  # only companies that pay can be charged twice


_SCENARIOS = (
    _Scenario("slow_burn", True, 5.0, _slow_burn),
    _Scenario("ignored_follow_ups", True, 4.0, _ignored),
    _Scenario("refund_demand", True, 3.0, _refund_demand, paid=True),
    _Scenario("manager_request", True, 2.5, _manager_request),
    _Scenario("reopened_still_broken", True, 3.0, _reopened_broken),
    _Scenario("urgent_anger", True, 1.5, _urgent),
    _Scenario("renewal_threat", True, 1.5, _churn_threat, paid=True),
    _Scenario("quick_answer", False, 15.0, _quick_answer),
    _Scenario("bug_fixed_thanks", False, 10.0, _bug_fixed),
    _Scenario("cancel_how_to", False, 6.0, _paired(
        say.CANCEL_HOWTO, "calm how-to about cancelling something other than the plan")),
    _Scenario("negated_keyword", False, 4.0, _negated),
    _Scenario("role_or_legal_name", False, 6.0, _paired(
        say.ROLE_PHRASES, "'manager' or 'legal' only in a role, a title or a legal name")),
    _Scenario("agent_keywords", False, 5.0, _agent_keywords),
    _Scenario("long_open_calm", False, 6.0, _long_open_calm),
    _Scenario("routine_refund", False, 3.0, _routine_refund, paid=True),
    _Scenario("calm_cancellation", False, 1.5, _calm_cancellation, paid=True),
    _Scenario("chatty_calm", False, 5.0, _chatty),
    _Scenario("reopened_calm", False, 4.0, _reopened_calm),
    _Scenario("bot_resolved", False, 5.0, _bot_resolved),
    _Scenario("keyword_in_context", False, 3.0, _paired(
        say.IN_CONTEXT, "keyword about something else (a client, the wifi, a worst case)")),
    _Scenario("billing_question", False, 6.0, _billing_question, paid=True),
)
_SCENARIO_CUM = list(accumulate(s.weight for s in _SCENARIOS))
# The share of conversations that should escalate, in expectation (about 0.2).
ESCALATION_SHARE = sum(s.weight for s in _SCENARIOS if s.escalate) / _SCENARIO_CUM[-1]


# --------------------------------------------------------------------------- records


def _start(rng: random.Random, end: datetime) -> datetime:
    """When the customer first writes: within the window, mostly in the daytime."""
    start = end - timedelta(seconds=rng.uniform(0, WINDOW.total_seconds()))
    if (start.hour < 7 or start.hour > 20) and rng.random() < 0.6:
        start = end - timedelta(seconds=rng.uniform(0, WINDOW.total_seconds()))
    return start


def _one_conversation(rng: random.Random, end: datetime,
                      move: timedelta) -> tuple[datetime, dict[str, object]]:
    """Play one scenario up to ``end``; the record (id still empty) and its creation time, ``move``d."""
    scenario = _SCENARIOS[bisect(_SCENARIO_CUM, rng.random() * _SCENARIO_CUM[-1])]
    pool, cumulative = _company_table(scenario.escalate, scenario.paid)
    customer = rng.choices(pool, cum_weights=cumulative)[0]
    name, email = rng.choice(customer.contacts)
    has_company = rng.random() >= NO_COMPANY_SHARE
    if not has_company and rng.random() < 0.6:
        email = f"{email.split('@')[0]}@{rng.choice(say.FREEMAIL)}"
    thread = Thread(rng, customer, (name, email), _start(rng, end))
    why = scenario.play(thread)

    # Whole weeks back keep weekdays and times of day, so "I wrote on Monday" stays true on the
    # fixed clock; ``move`` then takes the whole story to the ``now`` asked for, unchanged.
    first, last = thread.parts[0], thread.parts[-1]
    shift = timedelta(0)
    while last.at - shift > end:
        shift += timedelta(days=7)
    shift -= move
    html = thread.voice.email  # Intercom stores email conversations' bodies as HTML
    parts = [{"author": p.author, "author_name": p.name, "kind": p.kind,
              "body": to_html(p.body, rng) if html and p.body else p.body,
              "created_at": iso_utc(p.at - shift)} for p in thread.parts]
    created = first.at - shift
    state = "closed" if thread.closed else "snoozed" if thread.snoozed else "open"
    record: dict[str, object] = {
        "id": "",
        "title": thread.title,
        "state": state,
        "created_at": iso_utc(created),
        "updated_at": iso_utc(last.at - shift),
        "contact": {"name": name, "email": email},
        "company": {"name": customer.name, "plan": customer.plan, "mrr": customer.mrr,
                    "lifecycle": _lifecycles()[customer.name]} if has_company else None,
        "parts": parts,
        "label": {
            "escalate": scenario.escalate,
            "scenario": scenario.name,
            "why": why,
            "at": iso_utc(thread.escalated_at - shift) if thread.escalated_at else None,
        },
    }
    if html:  # declared, so the importer reduces these bodies to text (and only these)
        record["format"] = "html"
    return created, record


def generate_conversations(n: int, *, seed: int = 13,
                           now: datetime | None = None) -> list[dict[str, object]]:
    """Generate ``n`` labelled Beacon conversations from the 14 days before ``now``, oldest first.

    The same ``n`` and ``seed`` give the same conversations whatever ``now`` is (None: the fixed
    ``DEFAULT_START``), only moved in time: ``now`` is taken to the second.
    """
    if n < 0:
        raise ValueError(f"cannot generate {n} conversations; pass n >= 0")
    rng = random.Random(seed)
    move = as_utc(now).replace(microsecond=0) - DEFAULT_START
    drafts = sorted((_one_conversation(rng, DEFAULT_START, move) for _ in range(n)),
                    key=lambda pair: pair[0])
    records = []
    for number, (_, record) in enumerate(drafts, start=50001):
        record["id"] = str(number)
        records.append(record)
    return records
