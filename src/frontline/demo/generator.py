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
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from os import PathLike

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
SSO_PLANS = ("business", "enterprise")


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


def _v(body: str, *subjects: str) -> _Variant:
    """Pair a body with the subjects that fit it (an intent's generic subjects fit any body)."""
    return body, subjects


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


BUG = {"bug": 1.0}
INTENTS = (
    # ---- bugs
    Intent("bug.page_error", BUG, {"P2": 0.7, "P1": 0.3}, 3.0, (
        "Error when opening {feature}", "{feature} won't load", 'Getting "{error}" in {feature}',
        "{feature} page broken", "Something went wrong message", "{feature} keeps crashing",
    ), (
        _v('Every time I open {feature} I get "{error}". It started {when}. I\'ve tried logging '
           "out and back in and a different browser, same thing.\n\nSteps:\n{steps}"),
        _v("When I click on {project} in {feature} the page just spins and then shows "
           '"{error}". Other projects open fine. Request ID if it helps: {req_id}.',
           "Can't open {project} anymore", "{project} won't open"),
        _v("{feature} has been broken for us {when}. The page loads half way and then goes "
           "blank. The console shows: {js_error}", "Blank page in {feature}"),
        _v("The {feature} page throws an error for me when I {action}. Error: {error}"),
        _v("Since your last update {feature} doesn't load at all for me, just \"{error}\". "
           "A colleague on {browser2} says it works for her.", "{feature} broken since update"),
    ), ("{feature} gives {error}", "{feature} broken again", "error on {feature} page")),
    Intent("bug.mobile", BUG, {"P2": 0.75, "P1": 0.1, "P3": 0.15}, 2.5, (
        "Mobile app problem", "Beacon app issue", "Problem with the {device} app",
    ), (
        _v("The Beacon app on my {device} (version {app_version}) hasn't synced {when}. Tasks "
           'I create on the phone never appear in the web app and it says "Sync pending" at '
           "the top. I've pulled to refresh and reinstalled.",
           "Mobile app not syncing", "Tasks added on my phone don't show up on web",
           "App stuck on sync pending"),
        _v("App crashes right after the splash screen. {device}, app version {app_version}. "
           "Deleted and reinstalled, no luck.", "App crashes on launch", "iOS app crashing"),
        _v("Time I log with the timer in the mobile app doesn't make it to my timesheet on the "
           "web. Lost about {hours} hours this week because of it. Phone is a {device}.",
           "Mobile timer entries missing", "Timer on phone not syncing to timesheet"),
        _v("Whenever I open {project} in the app on my {device} it closes itself. Other "
           "projects are OK. Started after updating to {app_version}.",
           "App crashes when I open a project"),
        _v("The app logs me out every day and asks for my password again. {device}.",
           "Beacon app logs me out every day", "Keeps logging me out on mobile"),
        _v("Changes made on the web take ages to show up in the app, sometimes not at all "
           "until I sign out and sign back in. {device}.", "Mobile app not syncing"),
    ), ("app wont sync", "android app crashing", "iphone app keeps logging me out"),
        tags=("mobile",)),
    Intent("bug.integration", BUG, {"P2": 0.7, "P1": 0.15, "P3": 0.15}, 2.5, (
        "Integration problem", "Integration stopped working",
    ), (
        _v("Our Slack integration stopped posting updates to {channel} {when}. Nothing "
           "changed on our side as far as I know and the integrations page still says "
           "Connected.", "Slack notifications stopped", "Slack updates not posting to {channel}"),
        _v("Commits that mention the task key (e.g. BCN-{n3}) no longer show up on the tasks. "
           "It worked fine until {date}. The repo is {repo}.",
           "GitHub commits no longer linking to tasks", "GitHub integration not linking PRs"),
        _v("The {integration} connection keeps disconnecting itself. I reconnect it, it works "
           'for a day, then it shows "Authorization expired" again.',
           "{integration} keeps disconnecting", "{integration} integration not working"),
        _v("Every task due date shows up twice in Google Calendar now, and deleting one "
           "deletes both.", "Google Calendar sync duplicates events"),
        _v('The /beacon command in Slack replies with "dispatch_failed" for everyone on our '
           "team.", "/beacon command broken in Slack", "Slack command error"),
    ), ("slack integration broken", "github link not working anymore"),
        tags=("integration",)),
    Intent("bug.quickbooks", {"bug": 0.7, "how_to": 0.3}, {"P2": 0.6, "P1": 0.25, "P3": 0.15},
           1.6, ("QuickBooks sync failing", "QuickBooks error {qb_code}", "QBO sync problem"), (
        _v("Our client invoices stopped syncing to QuickBooks Online {when}. The sync log shows "
           '"{qb_error}" for {client_invoice} and a few others. Our accountant needs these for '
           "month-end.", "Invoices not syncing to QuickBooks",
           "QuickBooks sync error on {client_invoice}"),
        _v("Beacon says the QuickBooks sync completed but the payments we marked as paid in "
           "Beacon aren't in QBO. The invoices are there, just not the payments.",
           "Payments not showing in QBO"),
        _v("Getting {qb_error} when syncing. Not sure if we set up the tax codes wrong or if "
           "it's on your side. We use QuickBooks Online in {currency_name}."),
        _v('Every invoice to {client} fails to sync with "{qb_error}". Other clients sync '
           "fine.", "QuickBooks sync fails for one client"),
    ), ("quickbooks sync error {qb_code}", "QBO not syncing"), tags=("integration",),
        plans=PAID),
    Intent("bug.client_invoice", {"bug": 0.7, "billing": 0.3},
           {"P2": 0.6, "P1": 0.3, "P3": 0.1}, 1.5, ("Problem with invoice {client_invoice}",), (
        _v("Invoice {client_invoice} for {client} shows a total of {money} but the line items "
           "add up to {money2}. Looks like the {tax_rate}% tax is applied twice.",
           "Invoice totals wrong", "Tax calculated incorrectly on invoices"),
        _v("When I download the PDF of {client_invoice} the logo covers the address and the "
           "last line item is cut off. The preview in Beacon looks fine.",
           "Invoice PDF looks broken", "PDF invoice layout broken"),
        _v("We sent {client_invoice} to {client} from Beacon on {date} but they never got it, "
           "and the invoice still shows as Draft even though it said sent.",
           "Client didn't receive invoice {client_invoice}", "Invoice stuck in Draft"),
        _v("The 10% discount we set for {client} isn't applied when the invoice is generated "
           "from tracked time. I have to fix every invoice by hand.",
           "Discount not applied on invoice"),
    ), ("invoice total wrong", "tax wrong on invoices")),
    Intent("bug.export", BUG, {"P2": 0.75, "P3": 0.1, "P1": 0.15}, 1.3, (
        "Export not working", "Problem with export",
    ), (
        _v("I exported {project} to CSV and the file only has the header row, no tasks. There "
           "are definitely {n_tasks} tasks in it.", "CSV export empty"),
        _v('The workspace export has been stuck at "Preparing…" since {date}. I\'ve tried '
           "twice.", "Export stuck at 0%", "Workspace export never finishes"),
        _v('The export email arrives but the download link gives "{error}".',
           "Export link doesn't work"),
        _v("When I export timesheets for last month the CSV is missing everything logged "
           "after the 15th, and the dates are in US format although our workspace uses "
           "{date_format}.", "Timesheet export missing rows"),
    ), ("export not working", "csv export is empty")),
    Intent("bug.notifications", {"bug": 0.6, "how_to": 0.4}, {"P3": 0.4, "P2": 0.6}, 1.3, (
        "Not getting email notifications", "Notifications stopped",
    ), (
        _v("I stopped getting email notifications when someone assigns me a task or mentions "
           "me. Checked spam, nothing there. My settings say all notifications are on.",
           "No emails when tasks are assigned", "Mentions don't notify me"),
        _v("Half my team isn't receiving the daily digest email anymore. The other half still "
           "gets it. Is something wrong or do we need to change a setting?",
           "Daily digest not arriving"),
        _v("Push notifications on my {device} don't come through at all, but email ones do.",
           "No push notifications on phone"),
        _v("Nobody on the team got the due date reminder emails this week. Did something "
           "change?", "Due date reminders not sent"),
    ), ("no notifications", "not getting emails from beacon")),
    Intent("bug.slow", BUG, {"P2": 0.7, "P1": 0.3}, 1.1, (
        "Beacon is really slow", "Pages take forever to load", "Performance issues",
    ), (
        _v("{feature} takes 20-30 seconds to load for everyone in our team {when}. It used to "
           "be instant. We have about {n_tasks} tasks in that project, if that matters.",
           "{feature} very slow", "Performance issues in {feature}"),
        _v("Typing in task descriptions lags a couple of seconds per keystroke. {browser}.",
           "Typing lag in task editor"),
        _v("Search has become unusable: it either times out or returns results after a "
           "minute.", "Search is extremely slow", "Search times out"),
    ), ("beacon super slow today", "very slow")),
    Intent("bug.upload", BUG, {"P2": 0.8, "P3": 0.2}, 0.9, ("Attachment problem",), (
        _v('Uploading any file to a task fails at 100% with "Upload failed". PDFs, images, '
           "doesn't matter. Files are small (under 2 MB).", "Can't upload attachments",
           "File upload fails"),
        _v("Attachments uploaded before {date} open fine, newer ones show a broken image icon.",
           "Attachments won't open", "New attachments broken"),
        _v("Dragging files onto a task in {browser} does nothing. The paperclip button works.",
           "Drag and drop upload not working"),
    )),
    Intent("bug.api", {"bug": 0.85, "how_to": 0.15}, {"P2": 0.7, "P1": 0.2, "P3": 0.1}, 1.2, (
        "API problem", "API {endpoint} error",
    ), (
        _v("Calls to {endpoint} started returning 500 Internal Server Error {when}. The same "
           "request worked yesterday. Example request id: {req_id}.", "API returning 500"),
        _v("When paging through {endpoint} with per_page=100, pages 3 and 4 return some of the "
           "same records and some tasks never show up.", "API pagination returns duplicates"),
        _v("Our webhook endpoint hasn't received any task.updated events since {date}. The "
           "delivery log in Beacon shows nothing at all, not even failures.",
           "Webhooks not firing", "No webhook deliveries"),
        _v("We verify the X-Beacon-Signature header as described in the docs but it never "
           "matches for invoice.paid events. Task events validate fine.",
           "Webhook signature doesn't validate"),
        _v("We're getting 429 Too Many Requests although we make maybe 10 calls a minute.",
           "429 errors from API", "Rate limited for no reason"),
    ), ("api 500s", "webhooks stopped"), tags=("api",), plans=PAID),
    Intent("bug.recurring", BUG, {"P2": 0.7, "P3": 0.3}, 1.0, (), (
        _v('Our weekly recurring task "{recurring_name}" was created three times this Monday.',
           "Recurring tasks duplicated", "Recurring task created 3 times"),
        _v("The monthly recurring task for {project} didn't get created on the 1st like it "
           "should.", "Recurring task not created"),
        _v("When I create a project from our template, custom fields and assignees aren't "
           "copied, only the task names.", "Template missing fields",
           "Project template not copying assignees"),
        _v("A recurring invoice to {client} went out twice on {date}. They're confused and so "
           "am I.", "Recurring invoice sent twice"),
    )),
    Intent("bug.ui", BUG, {"P3": 0.5, "P2": 0.5}, 1.0, ("Display glitch in {feature}",), (
        _v('The "{button}" button doesn\'t do anything when I click it. No error, just '
           "nothing. {browser}.", "Button does nothing", '"{button}" not working'),
        _v("On {browser} the sidebar overlaps the task list so I can't see the first column.",
           "Layout broken", "Sidebar overlapping content"),
        _v("Due dates show one day earlier than what I set. I'm in {timezone} and the "
           "workspace is set to the same timezone.", "Dates show in wrong timezone",
           "Due dates off by one day"),
        _v("Dragging cards between columns on the board snaps them back to where they were.",
           "Can't drag cards on board"),
        _v("The calendar view shows week numbers off by one.", "Wrong week numbers"),
    )),
    Intent("bug.workflow_blocked", BUG, {"P1": 0.85, "P2": 0.15}, 1.3, (
        "Saving does not work", "Blocked - can't work",
    ), (
        _v('None of us can {action} since {when_short}. We click "{button}" and get "{error}". '
           "This is a core part of our day so please treat it as urgent.",
           "Can't {action}", "Nobody can {action}"),
        _v('Submitting timesheets fails for the whole team with "{error}". Payroll runs on '
           "{weekday} and we need these approved.", "Timesheet submission broken",
           "Nobody can submit timesheets"),
        _v("We can't send any invoices from Beacon today. The send dialog just closes and "
           "nothing goes out. We have {n_small} invoices due to clients this week.",
           "Can't send invoices"),
        _v('Saving changes to any task gives "{error}". Tried on {browser} and the mobile app, '
           "same result.", "Can't save tasks"),
    )),
    Intent("bug.outage", BUG, {"P0": 1.0}, 0.8, (
        "Beacon is down", "PRODUCTION DOWN - nothing loads", "Site down for our whole company",
        "Outage?",
    ), (
        _v('Beacon is completely down for our entire company. Every page returns "502 Bad '
           "Gateway\". {n_big} people can't work. Is there an outage? Nothing on the status "
           "page.", "502 errors everywhere"),
        _v("Production down. Web app, mobile and API all failing since {time}. Our client "
           "portal is dead too. Please respond ASAP."),
        _v("Nobody in our org can load anything in Beacon right now. Every request times out."),
        _v("The API returns 503 for every call and our billing system integration is down with "
           "it. This is affecting our own customers.", "API completely down"),
    ), ("beacon down??", "site is down for everyone")),
    Intent("bug.data_loss", BUG, {"P0": 1.0}, 0.5, ("Data loss", "Data missing!!"), (
        _v("About {n_tasks} tasks vanished from {project} overnight. Nobody deleted them, "
           "they're not in the trash and the activity log shows nothing. This is months of "
           "work.", "Tasks disappeared", "Project data missing"),
        _v("All invoices from {month} are gone from our account. We need these for our tax "
           "filing. Please restore them.", "All our invoices are gone"),
        _v("After the mobile app synced this morning every time entry for last week was wiped "
           "from our timesheets, for the whole team.", "Data loss after sync",
           "Timesheets wiped"),
        _v("A project shows as empty. Comments, attachments, everything gone. Please tell me "
           "you have backups.", "Project is empty"),
    )),
    Intent("bug.security", BUG, {"P0": 1.0}, 0.3, ("Security issue",), (
        _v("I opened the Reports page and it shows projects and client names that are not "
           "ours. Looks like another company's data. I took screenshots. This is a serious "
           "privacy issue.", "Seeing another company's data"),
        _v("Guests we invited to one project can see our private {project} project and all "
           "its files, including salary info.", "Private project visible to guests"),
        _v("The invoice PDF we downloaded has another company's logo and client on it.",
           "Wrong customer's invoice in our account"),
    )),
    # ---- billing
    Intent("billing.double_charge", {"billing": 1.0}, {"P1": 0.5, "P2": 0.5}, 2.0, (
        "Charged twice", "Double charge on my card",
    ), (
        _v("We were charged {amount} twice on {date} for the same subscription. Please refund "
           "the duplicate. Both charges are on our {card}."),
        _v("Our bank statement shows two Beacon charges this month, {amount} each. We only "
           "have one workspace.", "Two payments this month?"),
        _v("Looks like you billed us twice for {month}. Receipt numbers {beacon_invoice} and "
           "{beacon_invoice2}.", "Duplicate charge for {month}"),
    ), ("charged twice", "double charged pls refund"), plans=PAID),
    Intent("billing.payment_failed", {"billing": 1.0}, {"P1": 0.8, "P2": 0.2}, 2.0, (
        "Payment failed", "Card declined but card is fine",
    ), (
        _v("Got an email saying our payment failed ({decline}). The card works everywhere "
           "else. Now there's a red banner saying the workspace will become read-only.",
           "Workspace says payment overdue"),
        _v("Tried to update the card and pay {beacon_invoice} but it keeps failing with "
           '"{decline}". Our bank says they see no attempt.', "Can't pay invoice {beacon_invoice}"),
        _v("Our workspace went read-only this morning because of a failed payment. We updated "
           "the card yesterday! The team can't edit anything. Please unlock it.",
           "Account read-only after failed payment"),
        _v("Payment for our {plan_name} renewal failed. The 3-D Secure pop-up never appears, "
           "it just says authentication failed.", "3D Secure fails on renewal"),
    ), ("payment failed", "card declined??"), plans=PAID),
    Intent("billing.refund", {"billing": 1.0}, {"P2": 0.75, "P3": 0.25}, 1.8, (
        "Refund request",
    ), (
        _v("We cancelled on {date} but were still charged {amount} for the next month. Please "
           "refund it.", "Cancelled but still charged"),
        _v("We switched to annual by mistake, we meant to stay on monthly. Can we get the "
           "annual charge ({amount_year}) refunded and go back?", "Please refund annual plan"),
        _v("We downgraded from {plan_name} last week. Is there a refund for the unused part of "
           "the month?", "Refund for unused time"),
        _v("We removed {n_small} seats right after the renewal. Can we get a refund for "
           "those seats?", "Refund for unused seats"),
        _v("We barely used Beacon after the renewal. Requesting a refund of {amount} per your "
           "policy."),
    ), ("refund please", "want my money back"), plans=PAID),
    Intent("billing.invoice_docs", {"billing": 1.0}, {"P3": 0.8, "P2": 0.2}, 1.8, (
        "Invoice copy request", "Billing documents",
    ), (
        _v("Could you send us the invoice for {month}? Our finance team needs a PDF with our "
           "VAT ID ({tax_id}) on it.", "Need invoice with VAT number", "Receipt for {month}"),
        _v("Our company address changed. Can invoices from now on show {address}? And can "
           "{beacon_invoice} be reissued?", "Change billing address"),
        _v("I need receipts for the last 6 months for an expense audit. Is there a way to "
           "download them all at once?", "Where are my invoices?", "All receipts for audit"),
        _v("Please add our PO number {po_number} to future invoices. Our AP team rejects "
           "invoices without it.", "PO number on invoices"),
        _v("Invoices still go to the old owner's email. Please send them to accounts@{domain}.",
           "Change billing email"),
    ), ("need invoice for {month}", "receipt pls"), plans=PAID),
    Intent("billing.proration", {"billing": 0.75, "how_to": 0.25}, {"P3": 0.7, "P2": 0.3},
           1.3, ("Don't understand this charge", "Prorated charge question"), (
        _v("We were charged {amount_part} on {date} on top of our normal {amount}. What is "
           "this for?", "Why was I charged {amount_part}?"),
        _v("I added {n_small} users mid-month and got a separate charge. How is the proration "
           "calculated?", "Unexpected charge after adding users"),
        _v("Our invoice is higher than last month and I can't see why. Same number of people.",
           "Invoice higher than usual"),
        _v("We upgraded on the 12th. Do we pay the full price for this month or only from the "
           "12th?", "Mid-month upgrade price"),
    ), plans=PAID),
    Intent("billing.plan_change", {"billing": 0.8, "how_to": 0.2}, {"P3": 0.85, "P2": 0.15},
           1.7, ("Change plan",), (
        _v("We'd like to move from {plan_name} to {other_plan}. Do we keep all our data and "
           "settings? When does the new price start?", "Upgrade to {other_plan}"),
        _v("Please downgrade us to Starter at the end of this billing period. We don't need "
           "time tracking anymore.", "Downgrade our plan"),
        _v("Can we switch to annual billing and get the discount? We currently pay {amount} a "
           "month.", "Switch to annual billing", "Moving from monthly to yearly"),
        _v("Our team shrank to {n_small} people. What's the cheapest plan that still has "
           "QuickBooks sync?", "Downgrade options"),
    ), plans=PAID),
    Intent("billing.seats", {"billing": 0.7, "account_issue": 0.3}, {"P2": 0.8, "P3": 0.2},
           1.2, ("Seat count wrong on invoice",), (
        _v("We removed {n_small} people from the workspace on {date} but this month's invoice "
           "still charges for {seats} seats.", "Billed for users we removed"),
        _v("Our invoice says {seats} seats but Settings > Members only shows {seats_less} "
           "active members. Are pending invites counted?", "Paying for {seats} seats"),
        _v("Why are deactivated users still counted as paid seats? We want to stop paying for "
           "them.", "Inactive users still billed"),
    ), ("billed for removed users",), plans=PAID),
    Intent("billing.cancel", {"billing": 1.0}, {"P3": 0.5, "P2": 0.5}, 1.0, (
        "Cancel subscription",
    ), (
        _v("Please cancel our subscription at the end of this month. We've moved to another "
           "tool. Thanks for everything."),
        _v("We don't want the annual plan to auto-renew on {date}. Please turn off the "
           "renewal.", "Stop auto-renew", "Please cancel at renewal"),
        _v("I can't find a cancel button anywhere in the billing settings. Please cancel our "
           "{plan_name} plan.", "How do I cancel?"),
    ), ("cancel my subscription",), tags=("renewal",), plans=PAID),
    Intent("billing.tax_pricing", {"billing": 1.0}, {"P3": 0.8, "P2": 0.2}, 1.1, (
        "Pricing question",
    ), (
        _v("We're a VAT-registered business in the EU and entered our VAT ID, but we're still "
           "charged VAT. Can you apply the reverse charge?", "VAT charged incorrectly"),
        _v("Is there a discount for registered nonprofits? We're a team of {n_small} and "
           "{other_plan} is a stretch for us.", "Nonprofit discount?"),
        _v("Can we be billed in {currency_name} instead of USD?", "Currency of our invoices"),
        _v("Why is there sales tax on our invoice this month when there wasn't before?",
           "Sales tax on invoice"),
    ), plans=PAID),
    Intent("billing.renewal", {"billing": 1.0}, {"P2": 0.6, "P3": 0.4}, 1.0, ("Renewal",), (
        _v("Our annual plan renewed on {date} for {amount_year}. We didn't get a reminder and "
           "we planned to reduce seats first. Can this be adjusted?",
           "Unexpected annual renewal", "Auto-renewed without notice"),
        _v("Our renewal is coming up on {date}. Can you send a quote for {seats} seats on "
           "{other_plan} so I can get it approved?", "Renewal quote for next year"),
        _v("The renewal invoice is 15% higher than last year. Was there a price change?",
           "Renewal price increase?"),
    ), tags=("renewal",), plans=PAID),
    Intent("billing.checkout_error", {"billing": 0.55, "bug": 0.45}, {"P1": 0.5, "P2": 0.5},
           1.3, ("Billing page error",), (
        _v('I tried to upgrade to {other_plan} and the checkout page showed "{error}". I tried '
           "again and it worked, but now there are two charges of {amount} on my card.",
           "Error on checkout but card charged", "Charged but upgrade failed"),
        _v("We paid {amount} on {date} but the workspace still says Free and new members "
           "can't be added.", "Paid but still on Free plan"),
        _v("Adding seats fails with an error on the billing page, yet each attempt seems to "
           "create a pending charge on our card.", "Can't add seats - error"),
        _v("The billing page crashes when I try to update the card, and now the old card was "
           "charged and declined three times.", "Billing page crashes"),
    ), plans=PAID),
    # ---- how-to
    Intent("how_to.recurring", {"how_to": 1.0}, {"P3": 1.0}, 1.6, (
        "Recurring task question", "Question about templates",
    ), (
        _v("How do I make a task repeat on the first Monday of every month? I only see daily "
           "and weekly options.", "Repeat a task every month", "How to set up recurring tasks?"),
        _v("We run the same onboarding checklist for every new client. Is there a way to save "
           "a project as a template and reuse it?", "Project templates",
           "Can I reuse a project setup?"),
        _v("If I complete a recurring task early, is the next one created from the due date "
           "or from the completion date?"),
        _v("Can a recurring task be assigned to a different person each week?",
           "Rotate assignee on recurring task"),
    ), ("recurring tasks how?",)),
    Intent("how_to.invite", {"how_to": 0.75, "account_issue": 0.25}, {"P3": 0.9, "P2": 0.1},
           1.5, ("How do I add team members?", "Question about users"), (
        _v("How do I invite a freelancer so they only see one project and don't take a paid "
           "seat?", "Inviting a contractor", "Add guest to one project"),
        _v("We just hired {n_small} people. What's the best way to add them all at once?",
           "Add several users at once"),
        _v("Can I give someone access to the invoices section without making them an admin?",
           "Permissions for invoices"),
        _v("Does an invited person count as a seat before they accept the invitation?",
           "How many users can we add?"),
    ), ("how to add users",)),
    Intent("how_to.data", {"how_to": 1.0}, {"P3": 0.85, "P2": 0.15}, 1.6, ("Data question",), (
        _v("We want to import our projects from {import_source}. Is there an importer or do "
           "we need to go through CSV?", "Import tasks from {import_source}",
           "Moving from {import_source}"),
        _v("I'm trying to import {rows} clients from a spreadsheet. What columns does the CSV "
           "need?", "How to import clients", "CSV import format"),
        _v("How do I export all our tasks and time entries to CSV for our accountant?",
           "Export all data to CSV"),
        _v("Is there a way to get a full backup of our workspace, including attachments?",
           "Backup our workspace"),
        _v('My import stopped with "Row {n3}: unknown assignee". What does that mean?',
           "Import error unknown assignee"),
    ), ("how to export csv",)),
    Intent("how_to.invoicing", {"how_to": 1.0}, {"P3": 0.85, "P2": 0.15}, 1.7, (
        "Invoicing question", "Question about client invoices",
    ), (
        _v("How do I add our logo and bank details to the invoices we send clients?",
           "Add logo to invoices"),
        _v("One of our clients pays in {currency_name}. Can I set a different currency for "
           "just their invoices?", "Change invoice currency"),
        _v("Can Beacon send automatic reminders to clients when an invoice is overdue?",
           "Invoice reminders", "Overdue reminders"),
        _v("How do I turn tracked hours on {project} into an invoice? I can't find the option.",
           "Invoicing tracked time"),
        _v("Can I change our invoice numbering to start at 2027-001 next year?",
           "Invoice numbering"),
        _v("How do I mark {client_invoice} as partially paid?", "Partial payment on invoice"),
    )),
    Intent("how_to.integrations", {"how_to": 1.0}, {"P3": 1.0}, 1.6, (
        "Integration setup question",
    ), (
        _v("How do I get updates for just one project posted into our {channel} Slack "
           "channel?", "Connect Slack to a project"),
        _v("We want pull requests in GitHub to show up on the related tasks. How do we set "
           "that up?", "How to link GitHub"),
        _v("We're connecting QuickBooks Online for the first time. How should we map our tax "
           "rates and which way does the sync go?", "Set up QuickBooks"),
        _v("Can I use Zapier to create a Beacon task from a new form submission?",
           "Zapier question"),
        _v("Does the Slack integration work with private channels?", "Slack private channels?"),
    ), tags=("integration",)),
    Intent("how_to.api", {"how_to": 1.0}, {"P3": 1.0}, 1.0, ("API question",), (
        _v("Where do I generate an API key? I'm an admin but can't find it under settings.",
           "Where do I get an API key?"),
        _v("What are the API rate limits on the {plan_name} plan? We'd like to pull time "
           "entries every 5 minutes.", "API rate limits"),
        _v("How do I set up a webhook to notify our system when an invoice is paid?",
           "Webhook setup"),
        _v("Is there an API endpoint to create clients, or only projects and tasks?",
           "API endpoint for clients"),
    ), tags=("api",), plans=PAID),
    Intent("how_to.admin", {"how_to": 1.0}, {"P3": 0.9, "P2": 0.1}, 1.6, ("Quick question",), (
        _v("How can I make a project visible only to the leadership team?",
           "Restrict project visibility", "Permissions question"),
        _v("I need a report of billable hours per client for last quarter. Which report "
           "should I use?", "Report by client"),
        _v("How do managers approve timesheets before they're exported?",
           "Approve timesheets"),
        _v("Where can I change the workspace timezone and date format?",
           "Change workspace timezone"),
        _v("What happens to time entries when I archive a project?", "Archive old projects"),
        _v("How do I turn off the daily digest emails for my account but keep mentions?",
           "Turn off digest emails"),
    )),
    Intent("how_to.mobile", {"how_to": 1.0}, {"P3": 1.0}, 0.8, ("Mobile app question",), (
        _v("Does the mobile app work offline? Our site crews often have no signal.",
           "Using the app offline"),
        _v("Can I start a timer on my phone and stop it on the web?", "Timer on mobile"),
        _v("How do I switch between workspaces in the iOS app?", "Switch workspace on iPhone"),
    ), tags=("mobile",)),
    Intent("how_to.maybe_feature", {"how_to": 0.5, "feature_request": 0.5}, {"P3": 1.0}, 1.8, (
        "How do I {missing}?", "Is there a way to {missing}?", "Can Beacon {missing}?",
        "Question about {feature}",
    ), (
        _v("Is there a way to {missing}? I've looked through the settings and the help centre "
           "but couldn't find it."),
        _v("How do I {missing}? Our old tool could do this and the team keeps asking."),
        _v("Quick one: can Beacon {missing}? If not, any workaround?"),
    )),
    Intent("how_to.plans", {"how_to": 0.5, "billing": 0.5}, {"P3": 1.0}, 0.9, (
        "Plan limits question", "Which plan do we need?",
    ), (
        _v("What's the difference between Pro and Business? Specifically, do we need Business "
           "for SSO and the audit log?", "Difference between Pro and Business",
           "Does Pro include SSO?"),
        _v("If we go to {other_plan}, do guests count as seats?",
           "What's included in {other_plan}?"),
        _v("Is the QuickBooks integration included in Starter or only in Pro?"),
        _v("How many projects can we have on the Free plan before we have to upgrade?",
           "Free plan limits"),
    )),
    # ---- account
    Intent("account.password", {"account_issue": 0.8, "bug": 0.2}, {"P1": 0.5, "P2": 0.5},
           2.0, ("Can't log in", "Login problem"), (
        _v("I requested a password reset three times but the email never arrives. Checked "
           "spam. My login is {email}.", "Password reset email not arriving",
           "Forgot password"),
        _v('The password reset link says "This link is invalid or has expired" even when I '
           "click it right away.", "Reset link expired", "Can't reset password"),
        _v("I can't log in. It says my password is wrong but I'm sure it's right, and the "
           "reset link isn't coming through."),
        _v("After resetting my password I'm sent straight back to the login page in a loop.",
           "Login loop after password reset"),
    ), ("cant login", "password reset not working", "locked out")),
    Intent("account.two_factor", {"account_issue": 1.0}, {"P1": 0.8, "P2": 0.2}, 1.5, (
        "Locked out by two-factor", "2FA problem",
    ), (
        _v("I got a new phone and didn't move my authenticator app. Now I can't log in "
           "because Beacon asks for the 6-digit code, and I don't have my recovery codes.",
           "Lost phone - 2FA", "New phone, can't get 2FA code"),
        _v('My recovery codes don\'t work, it says "Invalid code" for every one I try.',
           "Recovery codes not working"),
        _v("One of our team members lost their phone and is locked out by two-factor. I'm the "
           "workspace owner, can I reset it for them?", "Reset 2FA for a team member"),
        _v("The codes from my authenticator app are always rejected. Phone time is automatic.",
           "Authenticator codes rejected"),
    ), ("lost my 2fa phone",)),
    Intent("account.locked", {"account_issue": 1.0}, {"P1": 0.7, "P2": 0.3}, 1.2, (
        "Account access problem",
    ), (
        _v("My account is locked after too many attempts. It says try again later but it's "
           "been hours.", "Account locked", "Too many login attempts"),
        _v("I get \"You don't have access to this workspace\" after logging in, but I was "
           "using it yesterday. Did someone remove me?", "Access denied to workspace"),
        _v("Our account shows as suspended. We're paid up as far as I know. What's going on?",
           "Account suspended?"),
        _v("I log in fine but get kicked back to the login screen every few minutes.",
           "Keeps signing me out"),
    )),
    Intent("account.sso", {"account_issue": 0.8, "bug": 0.2}, {"P1": 0.7, "P2": 0.3}, 1.4, (
        "SSO login failing", "Can't log in with SSO",
    ), (
        _v('Users logging in through {idp} get "{saml_error}". It started {when}. We rotated '
           "our signing certificate last week, not sure if that's related.",
           "SAML error with {idp}"),
        _v("New hires we assigned to the Beacon app in {idp} can't log in. Existing users are "
           "fine.", "{idp} login not working for new users"),
        _v('I\'m setting up SAML SSO with {idp} and the test login fails with "{saml_error}". '
           "What should the ACS URL and Entity ID be?", "SAML setup with {idp}"),
        _v('One user gets "{saml_error}" every time while everyone else can log in via SSO.',
           "SSO error for one user"),
    ), tags=("sso",), plans=SSO_PLANS),
    Intent("account.org_locked", {"account_issue": 1.0}, {"P0": 1.0}, 0.55, (
        "Everyone locked out", "URGENT: no one can access Beacon", "All users locked out",
    ), (
        _v('Everyone in our org is locked out. SSO through {idp} fails with "{saml_error}" for '
           "all {seats} users and SSO is enforced, so nobody can use a password either.",
           "SSO down - entire company can't log in"),
        _v("Our whole company has been locked out of Beacon since {time}. Every login attempt "
           "ends in an error. We have client deadlines today."),
        _v("Nobody in our organisation can sign in. The owner account is locked out too, so "
           "we can't even change the settings."),
    ), tags=("sso",), plans=SSO_PLANS),
    Intent("account.compromised", {"account_issue": 1.0}, {"P0": 1.0}, 0.3, (
        "Account compromised", "Unauthorized access",
    ), (
        _v("I got a login alert from {city} that wasn't me, and now the email address on my "
           "account has been changed. I think our account has been compromised.",
           "Suspicious login"),
        _v("Someone deleted several projects and invited unknown users to our workspace "
           "overnight. None of us did this. Please lock the account.",
           "Someone else is in our account"),
        _v("A former employee still seems to be logging in and downloading client files. We "
           "removed them but the activity log shows downloads today."),
    )),
    Intent("account.owner_email", {"account_issue": 1.0}, {"P2": 0.6, "P3": 0.4}, 1.6, (
        "Account settings",
    ), (
        _v("Our account owner {person} left the company and only they can transfer ownership. "
           "How do we get access to billing and settings?", "Owner left the company",
           "Change account owner"),
        _v("Please transfer ownership of the workspace from me to {person}. I'm leaving at the "
           "end of the month.", "Transfer ownership"),
        _v("We changed our company domain. How do I change everyone's login email from the "
           "old domain to {domain}?", "Company email domain changed"),
        _v("I need to change my login email to {email}. The field is greyed out in my "
           "profile.", "Change my login email"),
    )),
    Intent("account.remove_user", {"account_issue": 0.8, "how_to": 0.2},
           {"P1": 0.4, "P2": 0.4, "P3": 0.2}, 1.0, ("Remove user access", "Deactivate user"), (
        _v("{person} left on bad terms today. Please make sure they can no longer access our "
           "workspace, and tell me what happens to their tasks.", "Remove former employee",
           "Revoke access urgently"),
        _v("How do I remove a user but keep the tasks and time entries they created?"),
        _v("I removed a contractor but they still appear in the assignee lists.",
           "Removed user still showing"),
    )),
    Intent("account.delete", {"account_issue": 1.0}, {"P3": 0.5, "P2": 0.5}, 0.9, (
        "Close our account",
    ), (
        _v("Please delete my account and all my personal data, per GDPR.",
           "GDPR data deletion request", "Delete my account"),
        _v('We want to delete our old test workspace "{workspace}-test". I don\'t see the '
           "delete option.", "Delete workspace"),
        _v("I have two accounts with different emails. Can you delete the one using {email}?",
           "Delete duplicate account"),
    )),
    Intent("account.invite", {"account_issue": 0.6, "how_to": 0.2, "bug": 0.2},
           {"P2": 0.7, "P3": 0.3}, 1.2, ("New user can't join workspace",), (
        _v("I've invited {person} three times but they never get the email. The address is "
           "correct.", "Invitation not received"),
        _v('A new team member clicks the invite link and gets "This invitation has expired". I '
           "sent it yesterday.", "Invite link expired"),
        _v("Our new hire accepted the invite but ended up in a separate empty workspace "
           "instead of ours.", "Invite created a new workspace"),
    )),
    Intent("account.merge", {"account_issue": 1.0}, {"P3": 1.0}, 0.5, ("Two accounts",), (
        _v("Two departments set up separate Beacon workspaces. Can we merge them into one and "
           "keep the projects?", "Merge two workspaces"),
        _v("I have a personal workspace and a company one. Can I move my projects across?",
           "Move projects between workspaces"),
    )),
    # ---- feature requests
    Intent("feature.request", {"feature_request": 1.0}, {"P3": 0.85, "P2": 0.15}, 6.0, (
        "Feature request: {wish}", "Suggestion: {wish}", "Any plans for {wish}?",
        "Would love {wish}", "Request - {wish}", "Idea for Beacon",
    ), (
        _v("It would be great if Beacon had {wish}. {wish_reason}"),
        _v("Any plans to support {wish}? {wish_reason} We'd happily upgrade for it."),
        _v("Feature request: {wish}. {wish_reason}"),
        _v("Not a problem, just a suggestion: {wish} would save our team a lot of time. "
           "{wish_reason}"),
        _v("Please consider adding {wish}. Right now we work around it with spreadsheets and "
           "it's painful."),
        _v("We're comparing Beacon with other tools and the one thing missing for us is "
           "{wish}. {wish_reason}"),
    ), ("please add {wish}", "{wish}?", "any news on {wish}")),
    Intent("feature.integration_gap", {"feature_request": 0.6, "bug": 0.4},
           {"P3": 0.7, "P2": 0.3}, 1.5, ("Integration limitation",), (
        _v("The Slack integration only lets me pick public channels. Our project channels are "
           "all private, so it's useless for us. Please fix or add support.",
           "Slack integration doesn't support private channels"),
        _v("We use QuickBooks Desktop, not Online. The integration won't connect. Please "
           "support Desktop.", "QuickBooks Desktop support"),
        _v("The GitHub integration doesn't work with our self-hosted GitHub Enterprise Server. "
           "Any chance of supporting it?", "GitHub Enterprise Server"),
        _v("The QuickBooks sync pushes invoices but not expenses. We need expenses too.",
           "Sync doesn't include expenses"),
    ), tags=("integration",)),
    # ---- vague: the text alone cannot say which category it is
    Intent("vague", {"bug": 0.55, "account_issue": 0.2, "how_to": 0.15, "billing": 0.1},
           {"P2": 0.6, "P3": 0.4}, 1.2, (
        "Help", "Problem", "It doesn't work", "Beacon not working", "Issue", "question",
        "(no subject)", "Not working again",
    ), (
        _v("It doesn't work."), _v("Beacon isn't working for me. Can someone help?"),
        _v("I have a problem with my account, please call me back."),
        _v("Something is wrong, I can't do anything. Please help."),
        _v("Hi, it's not working again like last time."),
        _v("We have an issue, please contact me ASAP."), _v("Doesn't work on my computer."),
    ), ("help", "not working", "???")),
)


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
