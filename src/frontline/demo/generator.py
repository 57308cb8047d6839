"""Seeded generator of realistic support tickets for Beacon, the demo's fictional SaaS.

Beacon is a project-management and invoicing product (web app, mobile apps, API, SSO,
Slack / GitHub / QuickBooks integrations, workspaces, seats, plans). A ticket is composed
from an intent (what the customer wants) × slot fillers × a tone, so a trained classifier
does well but not perfectly and keyword rules do noticeably worse: some intents are
genuinely ambiguous, and their labels are split the way different agents would split them.
"""

from __future__ import annotations

import csv
import json
import random
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from os import PathLike
from typing import Any

__all__ = [
    "CATEGORIES",
    "CATEGORY_SHARES",
    "DEFAULT_START",
    "INTENTS",
    "PAID",
    "PLANS",
    "SEVERITIES",
    "Customer",
    "Intent",
    "Slots",
    "add_typos",
    "as_utc",
    "companies",
    "generate_history",
    "generate_tickets",
    "iso_utc",
    "rephrase_non_native",
    "to_html",
    "write_csv",
    "write_jsonl",
]

CATEGORIES = ("bug", "billing", "how_to", "account_issue", "feature_request")
CATEGORY_SHARES = (0.30, 0.20, 0.22, 0.16, 0.12)
SEVERITIES = ("P0", "P1", "P2", "P3")
PLANS = ("free", "starter", "pro", "business", "enterprise")
DEFAULT_START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LIVE_WINDOW = timedelta(days=14)
HISTORY_WINDOW = timedelta(days=180)
# The company pool has its own seed so live tickets and history share the same customers.
COMPANY_SEED = 20261120

PAID = ("starter", "pro", "business", "enterprise")


# --------------------------------------------------------------------------- companies


@dataclass(frozen=True, slots=True)
class Customer:
    """A company in the demo pool with a stable plan, seat count and MRR."""

    name: str
    domain: str
    plan: str
    seats: int
    mrr: float
    currency: str
    contacts: tuple[tuple[str, str], ...]


_COMPANY_NAMES = (
    "Kestrel Logistics", "Harbor & Pine Studio", "Bluefin Creative", "Oakline Builders",
    "Tandem Legal", "Brightwater Dental", "Copperleaf Accounting", "Northgate Robotics",
    "Saltmarsh Media", "Fernhill Architects", "Quillstone Publishing", "Redwing Events",
    "Larkspur Wellness", "Ironbark Engineering", "Meridian Freight", "Sunfield Solar",
    "Blue Heron Consulting", "Driftwood Marketing", "Granite Peak IT", "Lumen & Co",
    "Silverline Staffing", "Mapleworks Agency", "Hollow Oak Games", "Cobalt Street Labs",
    "Brackenridge Property", "Pinecrest Clinics", "Tidewater Imports", "Vantage Point Surveys",
    "Cedar & Sage Interiors", "Orchard Lane Bakery", "Starling Analytics",
    "Westbrook Manufacturing", "Foxglove Design", "Riverbend Accounting",
    "Amberline Translation", "Highwater Film", "Nimbus Ops", "Parkside Veterinary",
    "Greystone Capital Partners", "Juniper Health", "Wavecrest Travel", "Ashford Legal Group",
    "Coldspring Brewing", "Bramble & Birch", "Halcyon Software", "Tallgrass Farms Co-op",
    "Keystone Facilities", "Openfield Research", "Marigold Nonprofit Network",
    "Sparrowhawk Security", "Velvet Rope Productions", "Stonebridge Construction",
    "Lighthouse Tutoring", "Pebble Bay Apps", "Crescent Moon Yoga", "Ridgeline Outfitters",
    "Fathom Data", "Thistle & Thorn Florists", "Quayside Shipping", "Evergreen Home Care",
)
_FIRST_NAMES = (
    "Maria", "Tom", "Aisha", "Wei", "Priya", "João", "Fatima", "Kenji", "Olga", "Samuel",
    "Emma", "Lucas", "Chloé", "David", "Ana", "Rahul", "Grace", "Noah", "Isabella", "Mateo",
    "Hannah", "Yusuf", "Mei", "Sofia", "Ethan", "Zara", "Daniel", "Laura", "Pedro", "Nadia",
    "Ines", "Bjorn", "Amara", "Carlos", "Julia", "Tariq", "Sarah", "Mikael", "Lena", "Kwame",
)
_LAST_NAMES = (
    "Gonzalez", "Becker", "Khan", "Li", "Nair", "Silva", "Al-Sayed", "Tanaka", "Petrova",
    "Okafor", "Larsen", "Moreau", "Martin", "Cohen", "Kovač", "Sharma", "Mensah", "Fischer",
    "Rossi", "Fernández", "Schmidt", "Demir", "Lin", "Nowak", "Brooks", "Ahmed", "Kim",
    "Jensen", "Alves", "Haddad", "O'Brien", "Murphy", "Novak", "Andersson", "Dubois", "Walsh",
)
# Share of companies per plan; ticket volume per company then grows with plan size.
_PLAN_COMPANY_COUNTS = {"free": 6, "starter": 20, "pro": 18, "business": 11, "enterprise": 5}
_PLAN_TICKET_WEIGHT = {"free": 0.7, "starter": 1.0, "pro": 1.2, "business": 1.3, "enterprise": 1.5}
# (min seats, max seats, price per seat low, high, MRR floor, MRR ceiling)
_PLAN_PRICING = {
    "free": (1, 3, 0.0, 0.0, 0.0, 0.0),
    "starter": (2, 15, 10.0, 10.0, 20.0, 150.0),
    "pro": (10, 40, 15.0, 15.0, 150.0, 600.0),
    "business": (20, 120, 25.0, 25.0, 500.0, 3000.0),
    "enterprise": (90, 800, 22.0, 32.0, 2000.0, 25000.0),
}


def _ascii(text: str) -> str:
    """Return ``text`` folded to lowercase ASCII letters, for email addresses."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@cache
def companies() -> tuple[Customer, ...]:
    """Return the fixed pool of demo companies (same for every ticket seed)."""
    rng = random.Random(COMPANY_SEED)
    plans = [plan for plan, count in _PLAN_COMPANY_COUNTS.items() for _ in range(count)]
    rng.shuffle(plans)
    pool = []
    for name, plan in zip(_COMPANY_NAMES, plans, strict=True):
        low, high, p_low, p_high, floor, ceiling = _PLAN_PRICING[plan]
        seats = rng.randint(int(low), int(high))
        mrr = min(max(seats * rng.uniform(p_low, p_high), floor), ceiling)
        domain = "-".join(_ascii(word) for word in name.split() if _ascii(word)) + ".example"
        contacts = []
        for _ in range(rng.randint(1, 4)):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            local = rng.choice((f"{_ascii(first)}.{_ascii(last)}", _ascii(first),
                                f"{_ascii(first)[0]}{_ascii(last)}"))
            contacts.append((f"{first} {last}", f"{local}@{domain}"))
        currency = rng.choices(("$", "€", "£"), weights=(65, 20, 15))[0]
        pool.append(Customer(name, domain, plan, seats, round(mrr, 2), currency,
                             tuple(contacts)))
    return tuple(pool)


# --------------------------------------------------------------------------- intents

_Variant = tuple[str, tuple[str, ...]]
# The intent table is data, not code: one [[intent]] per thing a customer writes in about.
INTENTS_FILE = "data/intents.toml"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a customer writes in about, with its label split and severity odds."""

    key: str
    labels: Mapping[str, float]
    severities: Mapping[str, float]
    weight: float
    subjects: tuple[str, ...]
    variants: tuple[_Variant, ...]
    shorts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    plans: tuple[str, ...] = PLANS


def _intent(entry: Mapping[str, Any]) -> Intent:
    """One ``[[intent]]`` of the table; a variant's own subjects fit its body alone."""
    return Intent(
        key=entry["key"], labels=dict(entry["labels"]), severities=dict(entry["severities"]),
        weight=entry["weight"], subjects=tuple(entry.get("subjects", ())),
        variants=tuple((v["body"], tuple(v.get("subjects", ()))) for v in entry.get("variant", ())),
        shorts=tuple(entry.get("shorts", ())), tags=tuple(entry.get("tags", ())),
        plans=tuple(entry.get("plans", PLANS)),
    )


def load_intents(text: str | None = None) -> tuple[Intent, ...]:
    """The intents of ``text`` (TOML), by default the table shipped in ``frontline/demo/data/intents.toml``."""
    if text is None:
        text = resources.files("frontline.demo").joinpath(INTENTS_FILE).read_text(encoding="utf-8")
    return tuple(_intent(entry) for entry in tomllib.loads(text)["intent"])


INTENTS = load_intents()


# --------------------------------------------------------------------------- slot fillers

_FEATURES = (
    "the task board", "the Gantt view", "timesheets", "client invoices", "the projects list",
    "the reports dashboard", "the calendar view", "expenses", "the time tracker", "estimates",
    "the client portal", "project templates", "recurring tasks", "the workload view",
    "custom fields", "milestones", "the inbox", "search",
)
_ACTIONS = (
    "save a task", "open a project", "send an invoice", "log time", "add a comment",
    "upload a file", "create an estimate", "approve a timesheet", "move a card on the board",
    "edit a milestone",
)
_BUTTONS = (
    "Save", "Send invoice", "Export", "Create task", "Submit timesheet", "Apply",
    "Duplicate project", "Mark as paid", "Start timer",
)
_ERRORS = (
    "Error 500", "Something went wrong (code E{d4})", "502 Bad Gateway",
    "Request failed with status code 422", "Oops! We couldn't load this page",
    "ERR_CONNECTION_RESET", "timeout of 30000ms exceeded",
    "Unexpected error, please try again later (ref {hex6})",
)
_JS_ERRORS = (
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "ChunkLoadError: Loading chunk 812 failed.", "Uncaught (in promise) Error: Network Error",
)
_BROWSERS = (
    "Chrome 131 on Windows 11", "Safari 18.1 on macOS", "Firefox 132", "Edge 130",
    "Chrome on a Chromebook", "Brave on Linux", "Safari on an iPad",
)
_DEVICES = (
    "iPhone 15 Pro (iOS 18.1)", "iPhone 12 (iOS 17.6)", "Pixel 8 (Android 15)",
    "Samsung Galaxy S23 (Android 14)", "iPad Air (iPadOS 18)", "OnePlus 11 (Android 14)",
)
_PROJECTS = (
    "Website redesign", "Q4 close", "Client onboarding", "Mobile app v2", "Warehouse move",
    "Spring campaign", "Audit 2026", "Office fit-out", "Product launch", "Retainer - Ongoing",
)
_CLIENTS = (
    "Lumen Dental", "Carver & Sons", "Alder Retail", "Mosaic Health", "Peak Fitness",
    "Greenway Foods", "Atlas Realty", "Blue Door Cafe",
)
_WISHES = (
    "dark mode", "task dependencies in the Gantt view", "a Xero integration",
    "Microsoft Teams notifications", "custom fields on client invoices",
    "bulk editing of tasks", "PDF export for reports", "multiple currencies per client",
    "a native desktop app for Windows", "deeper sub-task nesting",
    "time rounding rules for invoices", "SCIM user provisioning", "an exportable audit log",
    "an API endpoint for timesheet approvals", "a Jira importer",
    "client approval for estimates", "read-only share links for projects",
    "Google Drive attachments", "workload planning by hours", "an Apple Watch timer",
    "two-way sync with Outlook calendar", "recurring invoices with variable amounts",
)
_WISH_REASONS = (
    "Half our team already lives in Microsoft Teams.", "Our clients keep asking for it.",
    "We bill in 15-minute increments.", "Our accountant needs it for audits.",
    "Our old tool had this and people miss it.",
    "We run 40+ projects at once and it's hard to keep track.",
    "It would save me about an hour every Friday.", "",
)
_MISSING = (
    "set a dependency between two tasks so one can't start before the other finishes",
    "show the calendar in two time zones", "split one invoice across two clients",
    "lock a project so nobody can edit it after it's closed",
    "add a custom status column to the board", "email a report automatically every Monday",
    "set different hourly rates per task", "hide the budget from project members",
    "change the assignee on 200 tasks at once", "export a Gantt chart to PDF",
    "add a signature field to estimates", "make a task repeat every other weekday",
)
_WHEN = (
    "since this morning", "since yesterday", "for about a week", "since the last update",
    "on and off for two days", "since Monday", "since last Friday",
)
_QB_ERRORS = (
    ("QB-6000", "QB-6000 Duplicate Document Number Error"),
    ("QB-2500", "QB-2500 Invalid Reference Id: customer not found"),
    ("QB-610", "QB-610 Object Not Found"),
    ("QB-6210", "QB-6210 The account period has closed"),
    ("QB-6430", "QB-6430 Tax code is not mapped"),
)
_SAML_ERRORS = (
    "SAML response signature is invalid", "InResponseTo does not match any request",
    "NameID is missing from the assertion", "Audience restriction failed",
    "Assertion expired (clock skew)", "User is not assigned to this application",
)
_DECLINES = (
    "card_declined", "insufficient funds", "do_not_honor", "3-D Secure authentication failed",
    "expired card",
)
_CURRENCY_NAMES = {"$": "USD", "€": "EUR", "£": "GBP"}
_MONTHS = ("August", "September", "October", "November")

_SlotMaker = Callable[["Slots"], str]


class Slots(dict[str, str]):
    """Per-ticket slot values, filled lazily so subject and body agree on each slot."""

    def __init__(self, rng: random.Random, customer: Customer, contact: tuple[str, str]):
        super().__init__()
        self.rng = rng
        self.customer = customer
        self.contact = contact

    def __missing__(self, key: str) -> str:
        value = _SLOT_MAKERS[key](self)
        self[key] = value
        return value

    def money(self, value: float) -> str:
        """Format an amount in the customer's currency."""
        return f"{self.customer.currency}{value:,.2f}"


def _steps(s: Slots) -> str:
    """Numbered reproduction steps, the way customers paste them."""
    lines = [f"Open {s['feature']}", f"Go to {s['project']}", f'Click "{s["button"]}"']
    if s.rng.random() < 0.5:
        lines.insert(0, "Log in")
    lines.append(f'See "{s["error"]}"')
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _other_plan(s: Slots) -> str:
    """A plan the customer could move to (never Free)."""
    return s.rng.choice([p for p in PAID if p != s.customer.plan]).capitalize()


_SLOT_MAKERS: dict[str, _SlotMaker] = {
    "feature": lambda s: s.rng.choice(_FEATURES),
    "action": lambda s: s.rng.choice(_ACTIONS),
    "button": lambda s: s.rng.choice(_BUTTONS),
    "error": lambda s: s.rng.choice(_ERRORS).format(
        d4=s.rng.randint(1000, 9999), hex6=f"{s.rng.getrandbits(24):06x}"),
    "js_error": lambda s: s.rng.choice(_JS_ERRORS),
    "req_id": lambda s: f"req_{s.rng.getrandbits(48):012x}",
    "browser": lambda s: s.rng.choice(_BROWSERS),
    "browser2": lambda s: s.rng.choice(_BROWSERS),
    "device": lambda s: s.rng.choice(_DEVICES),
    "app_version": lambda s: s.rng.choice(("4.12.1", "4.12.0", "4.11.3", "5.0.2")),
    "project": lambda s: s.rng.choice(_PROJECTS),
    "client": lambda s: s.rng.choice(_CLIENTS),
    "steps": _steps,
    "when": lambda s: s.rng.choice(_WHEN),
    "when_short": lambda s: s.rng.choice(("this morning", "yesterday", "about an hour ago")),
    "date": lambda s: f"{s.rng.choice(('October', 'November'))} {s.rng.randint(1, 19)}",
    "month": lambda s: s.rng.choice(_MONTHS),
    "time": lambda s: f"{s.rng.randint(6, 11)}:{s.rng.choice(('00', '15', '30', '45'))} am",
    "weekday": lambda s: s.rng.choice(("Monday", "Wednesday", "Friday")),
    "integration": lambda s: s.rng.choice(
        ("Slack", "GitHub", "QuickBooks Online", "Google Calendar", "Zapier")),
    "channel": lambda s: s.rng.choice(("#ops-alerts", "#project-updates", "#finance", "#dev")),
    "repo": lambda s: f"{s.customer.domain.split('.')[0]}/{s.rng.choice(('web', 'api'))}",
    "n3": lambda s: str(s.rng.randint(12, 980)),
    "n_small": lambda s: str(s.rng.randint(2, 9)),
    "n_big": lambda s: str(max(s.customer.seats, 12)),
    "n_tasks": lambda s: str(s.rng.choice((40, 120, 300, 850, 2000))),
    "hours": lambda s: str(s.rng.choice((2, 3.5, 6, 7.25, 11))),
    "rows": lambda s: str(s.rng.choice((80, 450, 1200, 5000))),
    "tax_rate": lambda s: str(s.rng.choice((7, 8.25, 13, 19, 20, 21))),
    "money": lambda s: s.money(s.rng.uniform(120, 9000)),
    "money2": lambda s: s.money(s.rng.uniform(100, 8000)),
    "amount": lambda s: s.money(s.customer.mrr),
    "amount_part": lambda s: s.money(s.customer.mrr * s.rng.uniform(0.1, 0.6)),
    "amount_year": lambda s: s.money(s.customer.mrr * 12 * 0.85),
    "seats": lambda s: str(s.customer.seats),
    "seats_less": lambda s: str(max(1, s.customer.seats - s.rng.randint(1, 6))),
    "plan_name": lambda s: s.customer.plan.capitalize(),
    "other_plan": _other_plan,
    "currency_name": lambda s: s.rng.choice(("EUR", "GBP", "CAD", "AUD")),
    "card": lambda s: f"{s.rng.choice(('Visa', 'Mastercard', 'Amex'))} ending "
                      f"{s.rng.randint(1000, 9999)}",
    "decline": lambda s: s.rng.choice(_DECLINES),
    "beacon_invoice": lambda s: f"BCN-2026-{s.rng.randint(10000, 99999)}",
    "beacon_invoice2": lambda s: f"BCN-2026-{s.rng.randint(10000, 99999)}",
    "client_invoice": lambda s: f"INV-{s.rng.randint(100, 2400):04d}",
    "tax_id": lambda s: s.rng.choice(("DE", "FR", "NL", "IE")) + str(s.rng.randint(10**8, 10**9)),
    "po_number": lambda s: f"PO-{s.rng.randint(40000, 49999)}",
    "address": lambda s: f"{s.rng.randint(2, 240)} {s.rng.choice(('Harbour', 'Mill', 'King'))}"
                         f" Street, Suite {s.rng.randint(1, 30)}",
    "qb_code": lambda s: s["qb_pair"].split("|")[0],
    "qb_error": lambda s: s["qb_pair"].split("|")[1],
    "qb_pair": lambda s: "|".join(s.rng.choice(_QB_ERRORS)),
    "idp": lambda s: s.rng.choice(("Okta", "Azure AD", "Google Workspace", "OneLogin")),
    "saml_error": lambda s: s.rng.choice(_SAML_ERRORS),
    "city": lambda s: s.rng.choice(("Lagos", "Bucharest", "Sao Paulo", "Jakarta", "Minsk")),
    "person": lambda s: f"{s.rng.choice(_FIRST_NAMES)} {s.rng.choice(_LAST_NAMES)}",
    "email": lambda s: s.contact[1],
    "domain": lambda s: s.customer.domain,
    "workspace": lambda s: s.customer.domain.split(".")[0],
    "endpoint": lambda s: s.rng.choice(
        ("/v2/tasks", "/v2/invoices", "/v2/time_entries", "/v2/projects?page=3")),
    "recurring_name": lambda s: s.rng.choice(("Weekly status report", "Payroll prep",
                                              "Backup check", "Team standup notes")),
    "timezone": lambda s: s.rng.choice(("Berlin", "New York", "Sydney", "Toronto", "London")),
    "date_format": lambda s: s.rng.choice(("DD/MM/YYYY", "YYYY-MM-DD")),
    "import_source": lambda s: s.rng.choice(("Trello", "Asana", "Jira", "a Harvest export",
                                             "an Excel spreadsheet")),
    "wish": lambda s: s.rng.choice(_WISHES),
    "wish_reason": lambda s: s.rng.choice(_WISH_REASONS),
    "missing": lambda s: s.rng.choice(_MISSING),
}


# --------------------------------------------------------------------------- tone

_TONES = ("polite", "terse", "angry", "long", "non_native")
_TONE_WEIGHTS = (38, 18, 12, 14, 18)
_GREETINGS = {
    "polite": ("Hi,", "Hello Beacon team,", "Hi there,", "Good morning,", "Hey folks,",
               "Dear Support,"),
    "angry": ("Hi,", "Hello,", ""),
    "long": ("Hi there, hope you're well!", "Hello Beacon team,", "Hi all,"),
    "non_native": ("Dear Sir/Madam,", "Hello Team,", "Dear Beacon Support,", "Hi Sir,"),
}
_OPENERS = (
    "We've been using Beacon at {company} for a few years now and generally really like it, "
    "so apologies for the long message.",
    "I'm the office manager at {company} and I look after our Beacon account along with a "
    "hundred other things, so bear with me.",
    "First of all, thanks for a great product. Second, I have a bit of a situation.",
    "I've been going back and forth on this for a couple of days before writing in, and I've "
    "read what I could find in the help centre.",
)
# (sentence, slot it uses): product details only make sense on product tickets.
_DETAILS = (
    ("We're on the {plan_name} plan.", "plan_name"), ("Workspace: {workspace}", "workspace"),
    ("I've attached a screenshot.", ""), ("Happy to jump on a call if that's easier.", ""),
    ("My colleague {person} is cc'd.", "person"), ("Our account email is {email}.", "email"),
)
_PRODUCT_DETAILS = (
    *_DETAILS, ("I'm using {browser}.", "browser"), ("This is for the {project} project.",
                                                       "project"),
)
_IMPACT = {
    "P0": ("This is affecting every single user in our company.",
           "We are losing money every minute this is down.", "Please escalate immediately."),
    "P1": ("This is blocking our whole team.", "We can't do our work until this is fixed.",
           "This is holding up our month-end close.",
           "Need this sorted today please, it's blocking me.",
           "I have a client deadline tomorrow and can't get anything done."),
    "P2": ("Not the end of the world, but it's slowing us down.",
           "We have a workaround for now.", "It's annoying more than anything.",
           "Would appreciate a fix this week."),
    "P3": ("No rush on this.", "Whenever you have a moment.", "Just curious really.",
           "Not urgent."),
}
_ANGRY = (
    "This is the third time I'm writing about this.",
    "Honestly, for what we pay, this is not acceptable.", "I expect a reply today.",
    "If this isn't sorted soon we'll have to look at other tools.", "Very frustrating.",
    "Why is this so hard??",
)
_CLOSINGS = {
    "polite": ("Thanks!", "Thanks in advance,", "Cheers,", "Best regards,", "Kind regards,",
               "Many thanks,"),
    "terse": ("", "", "thx", "Thanks"),
    "angry": ("", "Regards,", "Thanks."),
    "long": ("Sorry for the essay, I just wanted to give you all the context. Thanks so much!",
             "Let me know if you need anything else from me: screenshots, logs, whatever "
             "helps.\n\nBest,"),
    "non_native": ("Please do the needful.\n\nRegards,",
                   "Kindly revert back at the earliest.\n\nThanks & Regards,",
                   "Waiting for your positive reply.\n\nBest Regards,",
                   "Please help us to solve this issue.\n\nThanks,"),
}
# (plain phrase, how a non-native writer might phrase it)
_NON_NATIVE = (
    ("I can't", "I am not able to"), ("can't", "cannot"), ("doesn't", "is not"),
    ("don't", "do not"), ("Please", "Kindly"), ("I've", "I have"), ("What's", "What is"),
    ("How do I", "How I can"), ("Is there a way to", "Is there any way for"),
    ("It started", "This issue is started"), ("Thanks", "Thanks in advance"),
)
_TITLES = ("Operations Manager", "Office Manager", "CTO", "Finance Lead", "Project Manager",
           "Founder", "IT Admin", "Bookkeeper")


def add_typos(text: str, rng: random.Random) -> str:
    """Introduce one to three human typos (swapped, dropped or doubled letters)."""
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) < 5 or not word.isalpha():
            continue
        j = rng.randrange(1, len(word) - 2)
        kind = rng.random()
        if kind < 0.4:
            word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
        elif kind < 0.7:
            word = word[:j] + word[j + 1:]
        else:
            word = word[:j] + word[j] + word[j:]
        words[i] = word
    return " ".join(words)


def rephrase_non_native(text: str, rng: random.Random) -> str:
    """Rephrase a few idioms the way a non-native English writer might."""
    for plain, phrased in _NON_NATIVE:
        if plain in text and rng.random() < 0.6:
            text = text.replace(plain, phrased, 1)
    if rng.random() < 0.4:
        text = text.replace(" the ", " ", 1)
    return text


def to_html(text: str, rng: random.Random) -> str:
    """Render plain text the way an email helpdesk stores an HTML message."""
    apostrophe = rng.choice(("&#39;", "&rsquo;", "'"))
    parts = []
    for paragraph in text.split("\n\n"):
        escaped = (paragraph.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace('"', "&quot;").replace("'", apostrophe).replace("\n", "<br>"))
        parts.append(f"<p>{escaped}</p>")
    if rng.random() < 0.5:
        # Mail clients often put a non-breaking space after the greeting.
        parts[0] = parts[0].replace(",</p>", ",&nbsp;</p>", 1)
    html = "".join(parts) + ("<br>" if rng.random() < 0.6 else "")
    return f'<div dir="ltr">{html}</div>' if rng.random() < 0.3 else html


def _capitalise(text: str) -> str:
    """Upper-case the first letter (slots such as ``{feature}`` may open a sentence)."""
    return text[:1].upper() + text[1:]


def _compose(intent: Intent, severity: str, slots: Slots) -> tuple[str, str]:
    """Write the subject and description of one ticket."""
    rng = slots.rng
    main, fitting = rng.choice(intent.variants)
    if fitting and (not intent.subjects or rng.random() < 0.75):
        subject = _capitalise(rng.choice(fitting).format_map(slots))
    else:
        subject = _capitalise(rng.choice(intent.subjects).format_map(slots))
    if intent.shorts and rng.random() < 0.07:
        # Very short tickets: one line, no greeting, sometimes a phone signature.
        body = rng.choice(intent.shorts).format_map(slots)
        if rng.random() < 0.3:
            body += "\n\nSent from my iPhone"
        return (body if rng.random() < 0.4 else subject), body
    tone = rng.choices(_TONES, weights=_TONE_WEIGHTS)[0]
    paragraphs: list[str] = []
    greeting = rng.choice(_GREETINGS.get(tone, ("",)))
    if greeting:
        paragraphs.append(greeting)
    if tone == "long":
        paragraphs.append(rng.choice(_OPENERS).format(company=slots.customer.name))
    main = _capitalise(main.format_map(slots))
    # Skip details whose slot the body already used: nobody gives their email twice.
    pool = _PRODUCT_DETAILS if intent.key.startswith(("bug", "how_to")) else _DETAILS
    fresh = [sentence for sentence, slot in pool if slot not in slots]
    count = rng.choice((0, 0, 1, 1, 2)) + (tone == "long")
    extra = [sentence.format_map(slots) for sentence in rng.sample(fresh, count)]
    if rng.random() < (0.9 if severity == "P0" else 0.55):
        extra.append(rng.choice(_IMPACT[severity]))
    if tone == "angry":
        extra.append(rng.choice(_ANGRY))
    paragraphs.append(" ".join([main, *extra]) if "\n" not in main else main)
    if "\n" in main and extra:
        paragraphs.append(" ".join(extra))
    closing = rng.choice(_CLOSINGS[tone])
    name = slots.contact[0] if rng.random() < 0.5 else slots.contact[0].split()[0]
    if tone != "terse" and rng.random() < 0.2:
        name += f"\n{rng.choice(_TITLES)}, {slots.customer.name}"
    if tone != "terse" or closing:
        paragraphs.append(f"{closing}\n{name}" if closing else name)
    body = "\n\n".join(paragraphs)
    if tone == "non_native":
        body = rephrase_non_native(body, rng)
        subject = rng.choice(("Regarding ", "Issue - ", "")) + subject
    elif tone == "angry":
        subject = rng.choice(("URGENT: {}", "{}!!!", "{}", "{} - AGAIN")).format(subject)
        subject = subject.upper() if rng.random() < 0.2 else subject
    elif tone == "terse":
        subject = subject.lower() if rng.random() < 0.4 else subject
        body = body[0].lower() + body[1:] if rng.random() < 0.5 else body
    if rng.random() < (0.3 if tone == "terse" else 0.1):
        body = add_typos(body, rng)
    if rng.random() < 0.04:
        subject = "Re: " + subject
    return subject, body


# --------------------------------------------------------------------------- records


def _category_tables() -> dict[str, tuple[list[Intent], list[float]]]:
    """For each category, the intents that can carry it and their cumulative weights."""
    tables: dict[str, tuple[list[Intent], list[float]]] = {}
    for category in CATEGORIES:
        intents, cumulative, total = [], [], 0.0
        for intent in INTENTS:
            share = intent.labels.get(category, 0.0)
            if share:
                total += intent.weight * share
                intents.append(intent)
                cumulative.append(total)
        tables[category] = (intents, cumulative)
    return tables


_TABLES = _category_tables()
_CATEGORY_CUM = [sum(CATEGORY_SHARES[: i + 1]) for i in range(len(CATEGORIES))]


@cache
def _customer_pool(plans: tuple[str, ...]) -> tuple[list[Customer], list[float]]:
    """Companies on ``plans`` with cumulative weights: bigger plans write in a bit more often."""
    pool = [c for c in companies() if c.plan in plans]
    cumulative, total = [], 0.0
    for customer in pool:
        total += _PLAN_TICKET_WEIGHT[customer.plan]
        cumulative.append(total)
    return pool, cumulative


def iso_utc(moment: datetime) -> str:
    """Format a UTC datetime as ISO 8601 with a trailing Z, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_ticket(rng: random.Random, end: datetime, window: timedelta,
                history: bool) -> tuple[datetime, str, str, dict[str, object]]:
    """Generate one record (id still empty) with its creation time, category and severity."""
    category = rng.choices(CATEGORIES, cum_weights=_CATEGORY_CUM)[0]
    intents, cumulative = _TABLES[category]
    intent = rng.choices(intents, cum_weights=cumulative)[0]
    severity = rng.choices(list(intent.severities), weights=list(intent.severities.values()))[0]
    pool, cumulative_weights = _customer_pool(intent.plans)
    customer = rng.choices(pool, cum_weights=cumulative_weights)[0]
    contact = rng.choice(customer.contacts)
    slots = Slots(rng, customer, contact)
    subject, body = _compose(intent, severity, slots)
    html = rng.random() < 0.15
    if html:
        body = to_html(body, rng)

    tags: list[str] = []
    if customer.plan == "enterprise" and rng.random() < 0.6:
        tags.append("vip")
    tags.extend(tag for tag in intent.tags if rng.random() < 0.5)
    if rng.random() < 0.06:
        tags.append(rng.choice(("renewal", "churn-risk", "trial", "follow-up", "q4")))

    urgent = severity in ("P0", "P1")
    priority = rng.choices((None, "normal", "high", "urgent", "low"),
                           weights=(40, 45, 12 if urgent else 6, 6 if urgent else 2, 3))[0]

    offset = rng.uniform(0, window.total_seconds())
    created = end - timedelta(seconds=offset)
    if (created.hour < 7 or created.hour > 20) and rng.random() < 0.6:
        # Most tickets arrive in working hours; redraw most of the night-time ones.
        created = end - timedelta(seconds=rng.uniform(0, window.total_seconds()))
    if history:
        status = "solved"
        updated = created + timedelta(minutes=rng.uniform(30, 6 * 24 * 60))
    else:
        status = "new" if rng.random() < 0.65 else "open"
        minutes = rng.uniform(0, 20) if status == "new" else rng.uniform(10, 3 * 24 * 60)
        updated = created + timedelta(minutes=minutes)
    updated = min(updated, end)

    record: dict[str, object] = {
        "id": "",
        "subject": subject,
        "description": body,
        "requester_name": contact[0],
        "requester_email": contact[1],
        "company": customer.name,
        "plan": customer.plan,
        "mrr": customer.mrr,
        "tags": tags,
        "priority": priority,
        "status": status,
        "created_at": iso_utc(created),
        "updated_at": iso_utc(updated),
    }
    if html:  # declared, as an export from an email helpdesk would: the importer reduces only such bodies
        record["format"] = "html"
    return created, category, severity, record


def _generate(n: int, seed: int, end: datetime, window: timedelta, history: bool,
              id_prefix: str, labelled: bool) -> list[dict[str, object]]:
    """Generate ``n`` records ending at ``end``, ids assigned in creation order."""
    if n < 0:
        raise ValueError(f"cannot generate {n} tickets; pass n >= 0")
    rng = random.Random(seed)
    drafts = sorted((_one_ticket(rng, end, window, history) for _ in range(n)),
                    key=lambda pair: pair[0])
    records = []
    for number, (_, category, severity, record) in enumerate(drafts, start=1001):
        record["id"] = f"{id_prefix}{number}"
        if labelled:
            record["category"] = category
            record["severity"] = severity
        records.append(record)
    return records


def as_utc(start: datetime | None) -> datetime:
    """Return ``start`` as an aware UTC datetime (naive values are taken as UTC)."""
    if start is None:
        return DEFAULT_START
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def generate_tickets(n: int, *, seed: int = 7, start: datetime | None = None,
                     labelled: bool = False) -> list[dict[str, object]]:
    """Generate ``n`` live Beacon tickets (new/open) from the 14 days before ``start``."""
    return _generate(n, seed, as_utc(start), LIVE_WINDOW, history=False, id_prefix="",
                     labelled=labelled)


def generate_history(n: int, *, seed: int = 11) -> list[dict[str, object]]:
    """Generate ``n`` labelled, solved tickets from the 180 days before the live window."""
    end = DEFAULT_START - LIVE_WINDOW
    # A prefix keeps history ids apart from live ids when both land in one helpdesk.
    return _generate(n, seed, end, HISTORY_WINDOW, history=True, id_prefix="H",
                     labelled=True)


# --------------------------------------------------------------------------- files


def write_jsonl(records: Iterable[Mapping[str, object]], path: str | PathLike[str]) -> None:
    """Write records as JSON Lines (one object per line, UTF-8)."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_csv(records: Iterable[Mapping[str, object]], path: str | PathLike[str]) -> None:
    """Write records as CSV with a header; tags are joined with commas, None is empty."""
    rows = list(records)
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({
                key: ",".join(map(str, value)) if isinstance(value, list)
                else ("" if value is None else value)
                for key, value in row.items()
            })
