"""A generated conversation being written: who says what, and when.

``Thread`` keeps the parts of one conversation on a clock that only moves forward: customers
write in their own voice (terse, non-native, by email with greetings and quoted replies),
the bot answers within seconds, agents answer in staffed hours, and a customer reply to a
closed conversation reopens it, as in Intercom. Scenarios in ``conversations`` drive it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from frontline.demo import phrasebook as say
from frontline.demo.generator import (
    INTENTS,
    Customer,
    Intent,
    Slots,
    add_typos,
    rephrase_non_native,
)

EMAIL_SHARE = 0.2  # email conversations: HTML bodies, greetings, sign-offs, quoted replies
HOW_TO = ("how_to.",)
_TOPICS = ("billing.", "account.")
# Intents whose text belongs to one scenario (a cancellation is never a generic opener).
_OWN_SCENARIO = frozenset({"billing.cancel", "billing.refund"})
_GREETING_GLUE = ("! ", ", ", "\n", " - ")
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six")
_ORDINALS = ("first", "first", "second", "third", "fourth", "fifth", "sixth", "seventh")



class Draft(NamedTuple):
    """A part as it is written: plain text, before the record's timestamps and HTML."""

    author: str  # customer | agent | bot
    name: str
    kind: str  # comment | note | open | close
    body: str
    at: datetime


@cache
def _intent_table(families: tuple[str, ...], plan: str) -> tuple[list[Intent], list[float]]:
    """Intents named in (or under a prefix in) ``families`` that fit ``plan``, with weights."""
    chosen = [i for i in INTENTS if i.key in families or i.key.startswith(families)]
    fitting = [i for i in chosen if plan in i.plans and i.key not in _OWN_SCENARIO]
    return fitting, list(accumulate(i.weight for i in fitting))


@dataclass(frozen=True, slots=True)
class Voice:
    """How one customer writes: style, channel and carelessness."""

    style: str  # plain | terse | non_native
    email: bool
    typo_rate: float


class _Slots(Slots):
    """The ticket generator's slots plus the conversation ones (agent, competitor, …)."""

    def __missing__(self, key: str) -> str:
        maker = say.SLOT_MAKERS.get(key)
        if maker is None:
            return super().__missing__(key)
        value = maker(self)
        self[key] = value
        return value


class Thread:
    """A conversation being written: parts on a clock that only moves forward."""

    def __init__(self, rng: random.Random, customer: Customer, contact: tuple[str, str],
                 start: datetime) -> None:
        self.rng = rng
        self.clock = start
        self.slots = _Slots(rng, customer, contact)
        self.contact = contact
        style = rng.choices(("plain", "terse", "non_native"), weights=(62, 18, 20))[0]
        self.voice = Voice(style, rng.random() < EMAIL_SHARE, 0.3 if style == "terse" else 0.08)
        first, last = rng.choice(say.AGENTS)
        self.agent_name = f"{first} {last}"
        self.slots["agent"] = first
        self.slots["first"] = contact[0].split()[0]
        renewal = start + timedelta(days=rng.randint(6, 45))
        self.slots["renewal_date"] = f"{renewal:%B} {renewal.day}"
        self.title = ""
        self.topic = "bug"  # bug | billing | account: which of support's answers fit
        self.parts: list[Draft] = []
        self.first_asked: datetime | None = None
        self.escalated_at: datetime | None = None
        self.said = 0
        self.closed = False
        self.snoozed = False

    # ---- the clock

    def wait(self, low: float, high: float) -> None:
        """Let ``low`` to ``high`` minutes pass."""
        self.clock += timedelta(minutes=self.rng.uniform(low, high))

    def later(self, low: int, high: int) -> None:
        """Jump ``low`` to ``high`` days ahead, to a time people are at work."""
        day = self.clock + timedelta(days=self.rng.randint(low, high))
        moment = day.replace(hour=self.rng.randint(7, 18), minute=self.rng.randrange(60))
        self.clock = max(moment, self.clock + timedelta(minutes=30))

    def _agent_wait(self) -> None:
        """How long support takes to answer, snapped to staffed hours (weekdays 06–22 UTC)."""
        roll = self.rng.random()
        self.wait(*((2, 40) if roll < 0.55 else (40, 300) if roll < 0.85 else (300, 1200)))
        if self.clock.hour < 6 or self.clock.hour >= 22:
            ahead = self.clock + timedelta(days=1) if self.clock.hour >= 22 else self.clock
            self.clock = ahead.replace(hour=6, minute=0) + timedelta(
                minutes=self.rng.uniform(5, 150))
        if self.clock.weekday() >= 5 and self.rng.random() < 0.7:
            monday = self.clock + timedelta(days=7 - self.clock.weekday())
            self.clock = monday.replace(hour=6, minute=0) + timedelta(
                minutes=self.rng.uniform(5, 180))

    def span(self) -> str:
        """How long the conversation has run, in words."""
        hours = (self.clock - self.parts[0].at).total_seconds() / 3600
        if hours < 1:
            return "under an hour"
        if hours < 24:
            return f"{round(hours)} hours" if hours >= 1.5 else "about an hour"
        return f"{round(hours / 24)} days" if hours >= 36 else "a day"

    # ---- parts

    def _add(self, author: str, name: str, kind: str, body: str) -> None:
        """Append a part; two parts never share a second."""
        if self.parts and self.clock <= self.parts[-1].at:
            self.clock = self.parts[-1].at + timedelta(seconds=self.rng.randint(1, 40))
        self.parts.append(Draft(author, name, kind, body.strip(), self.clock))

    def fill(self, template: str) -> str:
        """The template with this conversation's slots filled in, capitalised."""
        text = template.format_map(self.slots).strip()
        return text[:1].upper() + text[1:]

    def customer(self, template: str, level: int = 0, *, greet: bool = False) -> None:
        """The customer writes; level 2 or more marks the moment escalation is warranted."""
        if self.closed:  # a reply to a closed conversation reopens it, as in Intercom
            self._add("customer", self.contact[0], "open", "")
            self.closed = False
        self.said += 1
        self._moment_slots()
        body = self.fill(template)
        if self.voice.style == "terse":
            body = body[:1].lower() + body[1:] if self.rng.random() < 0.5 else body
            body = body.rstrip(".")
        elif self.voice.style == "non_native" and (self.said == 1 or level):
            # The rephrasings fit questions and complaints ("Kindly…"), not a closing thanks.
            body = rephrase_non_native(body, self.rng)
        if self.voice.email:
            body = self._as_email(body, greet or self.rng.random() < 0.5)
        elif greet:
            body = self._greeted(body)
        if self.rng.random() < self.voice.typo_rate:
            body = add_typos(body, self.rng)
        self._add("customer", self.contact[0], "comment", body)
        if level >= 2 and self.escalated_at is None:
            self.escalated_at = self.parts[-1].at

    def _greeted(self, body: str) -> str:
        """A chat message with a hello in front, the way people type them."""
        hello = self.rng.choice(say.GREETINGS_CHAT)
        if not hello:
            return body
        glue = self.rng.choice(_GREETING_GLUE)
        if glue == ", " and not body.startswith(("I ", "I'")):
            body = body[:1].lower() + body[1:]
        return hello + glue + body

    def _as_email(self, body: str, greet: bool) -> str:
        """Wrap a customer message the way a mail client sends it, sometimes quoting support."""
        text = body
        if greet:
            hellos = say.GREETINGS_EMAIL + (("Hi {agent},",) if self.said > 1 else ())
            text = f"{self.fill(self.rng.choice(hellos))}\n\n{body}"
        text += f"\n\n{self.rng.choice(say.SIGN_OFFS)}\n{self.slots['first']}"
        previous = self.parts[-1] if self.parts else None
        if previous and (previous.author, previous.kind) == ("agent", "comment") \
                and self.rng.random() < 0.3:
            # Mail clients quote the message answered: support's words inside the customer's.
            quoted = "\n".join(f"> {line}" for line in previous.body.splitlines() if line)
            text += f"\n\nOn {previous.at:%A}, {previous.name} <support@beacon.example> wrote:\n"
            text += quoted
        return text

    def _moment_slots(self) -> None:
        """Slots that depend on when the customer writes: how long they have waited, etc."""
        if self.first_asked is None:
            self.first_asked = self.clock
        first = self.first_asked
        days = (self.clock.date() - first.date()).days
        if days == 0:
            asked = "this morning" if first.hour < 12 else "earlier today"
        else:
            asked = ("yesterday" if days == 1 else f"on {first:%A}" if days < 7
                     else "last week" if days < 14 else "weeks ago")
        hours = (self.clock - first).total_seconds() / 3600
        if hours < 1:
            waited = f"{max(5, int(hours * 12) * 5)} minutes"
        elif hours < 20:
            waited = "an hour" if hours < 1.5 else f"{round(hours)} hours"
        else:
            waited = ("a whole day" if days <= 1 else f"{_NUMBERS[days]} days" if days < 7
                      else "over a week")
        ahead = self.rng.choice((1, 2, 3))
        deadline = "tomorrow" if ahead == 1 else f"{self.clock + timedelta(days=ahead):%A}"
        self.slots.update(first_asked=asked, waited=waited, nth=_ORDINALS[min(self.said, 7)],
                          deadline_day=deadline)

    def agent(self, *pools: tuple[str, ...], greet: bool = False) -> None:
        """An agent replies after a realistic wait, one sentence drawn from each pool."""
        self._agent_wait()
        text = " ".join(filter(None, (self.fill(self.rng.choice(p)) for p in pools)))
        if greet or self.voice.email:
            hello = self.fill(self.rng.choice(say.AGENT_GREETINGS))
            text = f"{hello}\n\n{text}" if hello else text
        if self.voice.email:
            text += f"\n\nBest,\n{self.slots['agent']}\nBeacon Support"
        self._add("agent", self.agent_name, "comment", text)

    def note(self, pool: tuple[str, ...] = say.NOTES) -> None:
        """An internal note: the team's words, never the customer's."""
        self.wait(1, 20)
        self._add("agent", self.agent_name, "note", self.fill(self.rng.choice(pool)))

    def maybe_note(self, chance: float = 0.25, pool: tuple[str, ...] = say.NOTES) -> None:
        """Sometimes an internal note."""
        if self.rng.random() < chance:
            self.note(pool)

    def bot(self, pool: tuple[str, ...]) -> None:
        """The bot answers within seconds."""
        self.clock += timedelta(seconds=self.rng.randint(3, 40))
        self._add("bot", say.BOT_NAME, "comment", self.fill(self.rng.choice(pool)))

    def close(self, by: str = "agent") -> None:
        """Close the conversation: an agent shortly after the last message, the bot days later."""
        if by == "bot":
            self.clock += timedelta(days=int(self.slots["idle_days"]))
            self.bot(say.BOT_AUTOCLOSE)
        else:
            self.wait(0.5, 30)
        self._add(by, say.BOT_NAME if by == "bot" else self.agent_name, "close", "")
        self.closed = True

    # ---- openings and composite messages

    def open_with(self, families: tuple[str, ...], level: int = 0, extra: str = "") -> Intent:
        """The customer's first message about one of the ticket generator's intents."""
        intents, cumulative = _intent_table(families, self.slots.customer.plan)
        if not intents:
            intents, cumulative = _intent_table(HOW_TO, self.slots.customer.plan)
        intent = self.rng.choices(intents, cum_weights=cumulative)[0]
        self.topic = intent.key.split(".")[0] if intent.key.startswith(_TOPICS) else "bug"
        if intent.key in say.ARTICLE_FOR:
            self.slots["article_url"] = say.HELP_CENTRE + say.ARTICLE_FOR[intent.key]
        body, fitting = self.rng.choice(intent.variants)
        use_fitting = fitting and (not intent.subjects or self.rng.random() < 0.75)
        self.title = self.fill(self.rng.choice(fitting if use_fitting else intent.subjects))
        self.ask(f"{body} {extra}", level, titled=True)
        return intent

    def ask(self, question: str, level: int = 0, *, titled: bool = False,
            greet: bool = True) -> None:
        """The first customer message, then the bot's greeting (or its out-of-hours notice)."""
        self.customer(question, level, greet=greet)
        if not titled:
            self.title = _title_from(self.fill(question))
        if not self.voice.email and self.rng.random() < 0.3:
            self.title = ""  # Messenger conversations often have no title
        weekend = self.clock.weekday() >= 5
        if weekend or self.clock.hour < 6 or self.clock.hour >= 22:
            self.slots["back_when"] = "on Monday morning" if weekend else "at 6am UTC"
            self.bot(say.BOT_OFFLINE)
        elif not self.voice.email and self.rng.random() < 0.55:
            self.bot(say.BOT_GREETINGS)

    def upset(self, level: int, threat: str | None = None,
              openings: tuple[str, ...] = say.UPSET_OPENINGS) -> None:
        """An upset follow-up: an opening, a feeling, maybe a demand and a threat."""
        sentences = [self.rng.choice(openings)]
        if level >= 2 or self.rng.random() < 0.5:
            sentences.append(self.rng.choice(say.UPSET_FEELINGS))
        sentences.append(self.rng.choice(say.UPSET_DEMANDS))
        if threat:
            sentences.append(self.rng.choice(say.THREATS[threat]))
        if self.rng.random() < 0.25:
            self.rng.shuffle(sentences)
        self.customer(" ".join(filter(None, sentences)), level)


def _title_from(text: str) -> str:
    """A subject line made from a first message: its first sentence, at most ~70 characters."""
    line = text.strip().splitlines()[0]
    for stop in ("? ", ". ", "! "):
        line = line.split(stop)[0]
    title = ""
    for word in line.split():
        if len(title) + len(word) > 70:
            break
        title = f"{title} {word}".strip()
    return title.rstrip(".")
