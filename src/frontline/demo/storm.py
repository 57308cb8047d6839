"""A generated incident storm: dozens of customers reporting one failure, among hundreds of normal tickets.

The storm's tickets are paraphrases of one failure (exporting invoices as PDF answers 502 Bad
Gateway), composed from varied openings, symptoms, details and stakes, written by distinct
customers within ``minutes`` of each other; the normal tickets are the demo's live tickets
(:func:`frontline.demo.generator.generate_tickets`) spread over their usual two weeks. Ids are given
in creation order, so every storm ticket has earlier normal tickets and earlier storm tickets. Used by
the demo and by the incident tests (one incident, the storm in it, the normal tickets out of it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from frontline.demo.generator import as_utc, companies, generate_tickets, iso_utc

SUBJECTS = (
    "Invoice PDF export fails with 502",
    "502 Bad Gateway when exporting invoices",
    "Can't download invoices as PDF",
    "Invoice export broken - bad gateway error",
    "PDF export of invoices not working",
    "Error 502 on invoice download",
    "Exporting invoice to PDF gives an error page",
    "Invoices won't export (502)",
    "Bad gateway error exporting PDF invoices",
    "URGENT: invoice PDFs failing to export",
)
OPENINGS = (
    "Hi,", "Hello support,", "Hey team,", "Good morning,", "Hi there,", "Hello,", "",
)
SYMPTOMS = (
    "when I click Export to PDF on any invoice I get a 502 Bad Gateway page.",
    "exporting invoices as PDF returns a 502 error since this morning.",
    "every invoice PDF export ends in a 502 Bad Gateway error.",
    "I cannot export invoices to PDF anymore, the page shows 502 bad gateway.",
    "the invoice export button just spins and then shows error 502.",
    "downloading an invoice as a PDF fails with a gateway error (502).",
    "our invoices won't export to PDF - we get a 502 Bad Gateway every time.",
    "PDF export for invoices is broken, it throws a 502 gateway error.",
)
DETAILS = (
    "It happens for every invoice we try, old and new.",
    "We tried Chrome and Firefox, same 502 on export.",
    "Single invoices and bulk export both fail.",
    "It worked fine yesterday.",
    "Other pages load normally, only the invoice PDF export errors.",
    "Clearing the cache did not help, the export still fails.",
    "Two of my colleagues see the same error on invoice export.",
    "",
)
STAKES = (
    "We need to send these invoices to clients today.",
    "Month-end billing is blocked until we can export invoices.",
    "Our accountant is waiting on the PDF invoices.",
    "Please fix this quickly, we can't bill customers.",
    "Is there an outage? Nothing on the status page.",
    "",
)
CLOSINGS = ("Thanks", "Thanks in advance", "Regards", "Cheers", "Best", "")


@dataclass(frozen=True, slots=True)
class Storm:
    """The generated tickets (creation order, demo record shape) and which of them are the storm."""

    records: list[dict[str, object]]
    storm_ids: frozenset[str]
    started: datetime


def storm_text(rng: random.Random) -> tuple[str, str]:
    """One customer's paraphrase of the failure: (subject, body)."""
    parts = [rng.choice(OPENINGS), rng.choice(SYMPTOMS).capitalize() if rng.random() < 0.5 else rng.choice(SYMPTOMS),
             rng.choice(DETAILS), rng.choice(STAKES), rng.choice(CLOSINGS)]
    return rng.choice(SUBJECTS), "\n".join(part for part in parts if part)


def generate_storm(normal: int = 400, storm: int = 40, *, seed: int = 13, minutes: float = 45.0,
                   start: datetime | None = None) -> Storm:
    """``storm`` paraphrased reports of one failure from distinct customers (as far as the pool allows)
    within ``minutes``, three days before ``start``, among ``normal`` live tickets."""
    rng = random.Random(seed)
    end = as_utc(start)
    records = generate_tickets(normal, seed=seed, start=end)
    began = (end - timedelta(days=3)).replace(hour=10, minute=0, second=0)
    pool = list(companies())
    rng.shuffle(pool)
    storm_records: list[dict[str, object]] = []
    for number in range(storm):
        customer = pool[number % len(pool)]
        name, email = rng.choice(customer.contacts)
        subject, body = storm_text(rng)
        created = began + timedelta(seconds=rng.uniform(0, minutes * 60))
        storm_records.append({
            "id": "", "subject": subject, "description": body, "requester_name": name, "requester_email": email,
            "company": customer.name, "plan": customer.plan, "mrr": customer.mrr, "tags": [], "priority": None,
            "status": "new", "created_at": iso_utc(created), "updated_at": iso_utc(created + timedelta(minutes=2)),
            "_storm": True,
        })
    merged = sorted([*records, *storm_records], key=lambda r: (str(r["created_at"]), str(r["subject"])))
    ids: set[str] = set()
    for number, record in enumerate(merged, start=1001):
        record["id"] = str(number)
        if record.pop("_storm", False):
            ids.add(str(number))
    return Storm(merged, frozenset(ids), began)
