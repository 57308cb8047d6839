"""Intercom JSON ↔ frontline's domain types, and the search position. Pure: no I/O, so every shape is testable."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from frontline.decide.text import html_to_text, looks_like_html
from frontline.model import Author, Company, Conversation, Part, Requester, normalise_id, parse_timestamp

SOURCE = "intercom"
CUSTOMERS = frozenset({"user", "lead", "contact"})
AGENTS = frozenset({"admin", "team"})
# Intercom's part types (conversation_part.part_type) folded into the kinds flows know.
KINDS = {
    "comment": "comment", "quick_reply": "comment",
    "note": "note", "note_and_reopen": "note",
    "open": "open", "assign_and_reopen": "open",
    "close": "close",
    "assignment": "assignment", "away_mode_assignment": "assignment", "assign_and_unsnooze": "assignment",
    "default_assignment": "assignment",
}
# Part types that open a closed conversation again by themselves.
REOPENING = frozenset({"open", "assign_and_reopen", "note_and_reopen"})
NOTES = frozenset({"note", "note_and_reopen"})
MAX_DIGITS = 40  # Intercom's conversation ids are short digit strings; a longer one is no id
REGIONS = {"us": "", "usa": "", "eu": "eu.", "europe": "eu.", "au": "au.", "australia": "au."}


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def conversation_number(value: object) -> str | None:
    """A conversation id as Intercom's path wants it (``"7005"``) from ``"7005"``, ``7005`` or ``7005.0``, else None.

    Only ASCII digits are one: ``"+7005"``, ``"7_005"`` or Arabic-Indic digits are no Intercom id.
    """
    try:
        text = normalise_id(value) if value is not None else ""
    except ValueError:
        return None
    return text if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS else None


def ref_id(value: object) -> str | None:
    """An Intercom object id (contact, company, admin, part) as text, or None.

    These ids are opaque strings (``6329bd9f…``), kept as given; only a number a JSON layer made of
    one (``7.0``) is normalised, so ``7``, ``7.0`` and ``"7"`` name one object.
    """
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    try:
        return normalise_id(value)
    except ValueError:
        return None


def timestamp(value: object) -> datetime | None:
    """Intercom's Unix seconds (or an ISO 8601 string) as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    return parse_timestamp(value)


def seconds(value: object) -> int | None:
    """Unix seconds from Intercom's integer (or digit string) timestamps; ``1718000000.0`` from a JSON layer too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def author_of(raw: object) -> Author:
    """Who wrote a part: user, lead and contact are the customer; admin and team an agent; bots and AI a bot."""
    author: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if author.get("from_ai_agent") is True or author.get("is_ai_answer") is True:
        return Author.BOT
    kind = str(author.get("type") or "").lower()
    if kind in CUSTOMERS:
        return Author.CUSTOMER
    if kind in AGENTS:
        return Author.AGENT
    # "bot", and blank authors (Twitter, some automations): neither the customer nor a teammate.
    return Author.BOT


def text_of(body: object) -> str:
    """A part's body (HTML in Intercom's REST API) reduced to readable text."""
    return html_to_text(str(body)) if body else ""


def part_of(raw: Mapping[str, Any]) -> Part:
    """One conversation part."""
    author = _map(raw.get("author"))
    return Part(author=author_of(author), body=text_of(raw.get("body")), created_at=timestamp(raw.get("created_at")),
                kind=KINDS.get(str(raw.get("part_type") or ""), "other"), author_name=str(author.get("name") or ""))


def raw_parts(conversation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The conversation's parts as Intercom returned them (the 500 most recent), oldest first."""
    holder = conversation.get("conversation_parts")
    found = holder.get("conversation_parts") if isinstance(holder, Mapping) else None
    parts = [p for p in found or () if isinstance(p, Mapping)]
    return sorted(parts, key=lambda p: seconds(p.get("created_at")) or 0)


def parts_of(conversation: Mapping[str, Any]) -> tuple[Part, ...]:
    """The opening message (``source``) then every part, oldest first."""
    parts: list[Part] = []
    source = conversation.get("source")
    if isinstance(source, Mapping) and (source.get("body") or source.get("author")):
        author = _map(source.get("author"))
        parts.append(Part(author=author_of(author), body=text_of(source.get("body")),
                          created_at=timestamp(conversation.get("created_at")), kind="comment",
                          author_name=str(author.get("name") or "")))
    parts.extend(part_of(p) for p in raw_parts(conversation))
    return tuple(parts)


def reopen_count(conversation: Mapping[str, Any]) -> int:
    """How often the conversation was opened again after a close.

    An ``open`` part (or ``assign_and_reopen``, ``note_and_reopen``) after a ``close`` counts, and so
    does a customer reply that reopened it (the part's ``state`` is ``open`` again). Intercom's own
    ``statistics.count_reopens`` wins when it is higher: it also covers parts beyond the 500 returned.
    """
    count = 0
    closed = False
    for part in raw_parts(conversation):
        kind = str(part.get("part_type") or "")
        if kind == "close":
            closed = True
        elif closed and (kind in REOPENING or part.get("state") == "open"):
            count += 1
            closed = False
    statistics = conversation.get("statistics")
    counted = statistics.get("count_reopens") if isinstance(statistics, Mapping) else None
    return max(count, counted) if isinstance(counted, int) and not isinstance(counted, bool) else count


def contact_ids(conversation: Mapping[str, Any]) -> list[str]:
    """The ids of the conversation's contacts, the customer first."""
    holder = conversation.get("contacts")
    found = holder.get("contacts") if isinstance(holder, Mapping) else None
    return [ident for c in found or () if isinstance(c, Mapping) and (ident := ref_id(c.get("id")))]


def company_ids(contact: Mapping[str, Any]) -> list[str]:
    """The ids of a contact's companies as the contact embeds them (``companies.data``)."""
    holder = contact.get("companies")
    found = holder.get("data") if isinstance(holder, Mapping) else None
    return [ident for c in found or () if isinstance(c, Mapping) and (ident := ref_id(c.get("id")))]


def requester_of(contact: Mapping[str, Any] | None, conversation: Mapping[str, Any]) -> Requester:
    """The contact's name and email; the opening message's author when the contact could not be read."""
    if contact:
        return Requester(name=str(contact.get("name") or ""), email=str(contact.get("email") or ""))
    source = conversation.get("source")
    author = source.get("author") if isinstance(source, Mapping) else None
    if isinstance(author, Mapping) and str(author.get("type") or "") in CUSTOMERS:
        return Requester(name=str(author.get("name") or ""), email=str(author.get("email") or ""))
    return Requester()


def money(value: object) -> float | None:
    """``monthly_spend`` as a number; 0 is Intercom's value for "never set", so it reads as unknown."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(re.sub(r"[^0-9.\-]", "", value) if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number or None


def company_of(raw: Mapping[str, Any], plan_attribute: str, lifecycle_attribute: str) -> Company:
    """A company with its plan (custom attribute, else Intercom's plan), MRR and lifecycle."""
    attributes = _map(raw.get("custom_attributes"))
    plan = attributes.get(plan_attribute) if plan_attribute else None
    if plan in (None, ""):
        built_in = raw.get("plan")
        plan = built_in.get("name") if isinstance(built_in, Mapping) else None
    lifecycle = attributes.get(lifecycle_attribute) if lifecycle_attribute else None
    return Company(name=str(raw.get("name") or ""),
                   plan=str(plan).strip() or None if plan not in (None, "") else None,
                   mrr=money(raw.get("monthly_spend")),
                   lifecycle=str(lifecycle).strip() or None if lifecycle not in (None, "") else None)


def app_host(region: str, base_url: str) -> str:
    """The Intercom web app serving a workspace: by the region ``/me`` names, else by the API host."""
    prefix = REGIONS.get(region.strip().lower())
    if prefix is None:
        found = re.search(r"api\.(eu|au)\.intercom\.io", base_url)
        prefix = f"{found.group(1)}." if found else ""
    return f"https://app.{prefix}intercom.com"


def inbox_url(host: str, app_id: str, conversation_id: str) -> str:
    """The conversation in the teammate inbox."""
    if not app_id:
        return ""
    return f"{host}/a/inbox/{app_id}/inbox/conversation/{conversation_id}"


def conversation_of(raw: Mapping[str, Any], *, contact: Requester, company: Company | None, company_note: str,
                    url: str) -> Conversation:
    """A conversation with its parts, customer and company; ValueError when its id is no conversation id."""
    number = conversation_number(raw.get("id"))
    if number is None:
        raise ValueError(f"its id {raw.get('id')!r} is not an Intercom conversation id")
    source = _map(raw.get("source"))
    # A title is plain text (the spec's "title given to the conversation"); the opening message's subject,
    # read when there is none, is HTML in the REST API as the message body is.
    title = str(raw["title"]).strip() if raw.get("title") else text_of(source.get("subject"))
    state = str(raw.get("state") or ("open" if raw.get("open", True) else "closed"))
    return Conversation(
        id=number, title=title, parts=parts_of(raw), contact=contact, company=company, state=state,
        created_at=timestamp(raw.get("created_at")), updated_at=timestamp(raw.get("updated_at")),
        reopened=reopen_count(raw), url=url, source=SOURCE, company_note=company_note,
    )


# -- notes ---------------------------------------------------------------------------------------
def note_html(body: str, marker: str) -> str:
    """A note body as the HTML Intercom notes accept, carrying ``marker`` (appended when the body lacks it)."""
    if looks_like_html(body):
        rendered = body
    else:
        paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
        rendered = "".join(f"<p>{'<br>'.join(html.escape(line) for line in p.splitlines())}</p>"
                           for p in paragraphs)
    if marker and marker not in rendered:
        rendered += f"<p>[{html.escape(marker)}]</p>"
    return rendered


def carries_marker(part: Mapping[str, Any], marker: str) -> bool:
    """A private note (never a reply the customer saw) whose text holds ``marker``."""
    if str(part.get("part_type") or "") not in NOTES or not marker:
        return False
    body = str(part.get("body") or "")
    return marker in body or marker in html_to_text(body)


def note_reference(part_id: object) -> str:
    """The reference frontline keeps for a note part (``part:7012``, never ``part:7012.0``)."""
    return f"part:{ref_id(part_id) or part_id}"


def new_note_id(answer: Mapping[str, Any], admin_id: str, marker: str) -> str | None:
    """The id of the note a reply created, from the conversation Intercom answers with."""
    notes = [p for p in raw_parts(answer) if str(p.get("part_type") or "") in NOTES]
    for part in reversed(notes):
        if carries_marker(part, marker) and ref_id(part.get("id")) is not None:
            return ref_id(part["id"])
    mine = [p for p in notes if ref_id(_map(p.get("author")).get("id")) == admin_id and ref_id(p.get("id"))]
    return ref_id(mine[-1]["id"]) if mine else None


# -- the search position -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Position:
    """Where a search resumes: everything updated before ``since``, and ``seen`` at ``since``, was read.

    Two conversations can share an ``updated_at`` second, and a page can end between them; the ids
    already read at that second travel in the cursor, so the next search starts *at* that second
    and drops only those ids: nothing updated in the same second is skipped, nothing is read twice.
    """

    since: int
    seen: tuple[str, ...] = ()

    def admits(self, updated: int, conversation_id: str) -> bool:
        """True for a change not read yet."""
        return updated > self.since or (updated == self.since and conversation_id not in self.seen)

    def after(self, updated: int, conversation_id: str) -> Position:
        """The position once this change is read (changes must come oldest first)."""
        if updated > self.since:
            return Position(updated, (conversation_id,))
        return Position(self.since, (*self.seen, conversation_id))

    def encode(self, workspace: str) -> str:
        """``since:id,id@workspace``: tagged so a cursor is never applied to another workspace."""
        return f"{self.since}:{','.join(self.seen)}@{workspace}"

    @classmethod
    def decode(cls, cursor: str | None, workspace: str) -> Position | None:
        """The position in a saved cursor, or None (start over) when it is absent, foreign or unreadable."""
        if not cursor:
            return None
        body, _, owner = cursor.rpartition("@")
        since, sep, seen = body.partition(":")
        if owner != workspace or not sep or not since.isdigit():
            return None
        return cls(int(since), tuple(i for i in seen.split(",") if i))


def search_query(position: Position, ceiling: int, *, inclusive: bool = False) -> dict[str, Any]:
    """Conversations updated at or after ``position.since`` and no later than ``ceiling``.

    Intercom's reference calls ``>`` "greater (or equal) than" for conversations while the shared
    filter schema lists it beside ``>=``; until a page shows which (``inclusive``), ``> since - 1``
    is asked, which returns the ``since`` second under either reading, and :meth:`Position.admits`
    drops what is older.
    """
    lower = position.since if inclusive else position.since - 1
    return {"operator": "AND", "value": [
        {"field": "updated_at", "operator": ">", "value": lower},
        {"field": "updated_at", "operator": "<", "value": ceiling},
    ]}


@dataclass(frozen=True, slots=True)
class Listed:
    """One conversation as search listed it: its id and the second of its last update."""

    id: str
    updated: int


def page_items(body: object) -> tuple[list[Listed], list[tuple[str, str]], str | None]:
    """A search page's conversations (oldest update first), ``(id or position, reason)`` for each entry
    that cannot be read, and the ``starting_after`` of the next page."""
    if not isinstance(body, Mapping):
        return [], [], None
    items: list[Listed] = []
    unreadable: list[tuple[str, str]] = []
    again = "it is listed again next run"
    entries = body.get("conversations")
    for position, entry in enumerate(entries if isinstance(entries, list) else (), start=1):
        where = f"position {position} on the page"
        if not isinstance(entry, Mapping):
            unreadable.append((where, f"Intercom listed {type(entry).__name__} {str(entry)[:40]!r} instead of a "
                                      f"conversation; {again} (check INTERCOM_BASE_URL if a proxy rewrites answers)"))
            continue
        raw_id = entry.get("id")
        number = conversation_number(raw_id)
        updated = seconds(entry.get("updated_at"))
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            unreadable.append((where, f"Intercom listed a conversation without an id; {again}"))
        elif number is None:
            unreadable.append((str(raw_id).strip()[:60], f"Intercom listed a conversation whose id {raw_id!r} is "
                                                         f"not a conversation number; {again}"))
        elif updated is None:
            unreadable.append((number, f"Intercom listed the conversation with an unreadable updated_at "
                                       f"({entry.get('updated_at')!r}); {again}"))
        else:
            items.append(Listed(number, updated))
    items.sort(key=lambda c: (c.updated, int(c.id)))
    pages = _map(body.get("pages"))
    following = pages.get("next") if isinstance(pages, Mapping) else None
    after = following.get("starting_after") if isinstance(following, Mapping) else None
    return items, unreadable, str(after) if after else None

