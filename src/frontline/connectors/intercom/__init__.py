"""Intercom as frontline's conversation source: recently updated conversations in, private notes out.

**Listing: conversation search by ``updated_at``** (``POST /conversations/search``), sorted oldest
update first (``sort``: documented in Intercom's "Pagination & sorting (search)" guide though absent
from the OpenAPI snapshot), up to 150 per page. The list endpoint (``GET /conversations``) cannot
filter by update time, so a poller would read the whole history every time.

*The cursor never skips a conversation.* Search filters by whole seconds and many conversations can
share one; a cursor holding only "the last second read" either skips the rest of that second or
reads it again. The cursor is a position: the second of the last update read **and the ids already
read in that second** (``1718000000:501,502@<app id>``). The next search asks from that second on
and drops the ids already read. Intercom's reference calls ``>`` "greater (or equal) than" while its
filter schema lists ``>=`` beside it, so the search first asks ``updated_at > since - 1`` (the
``since`` second under either reading); once a page shows an older update, ``>`` is known to include
its bound and later searches ask ``> since``. Three more guards:

- Intercom's ``starting_after`` is stateless: a conversation updated between two page requests
  moves to the end and shifts every later result up, so following ``starting_after`` can skip one.
  After each page the next request is a new search from the moved position; ``starting_after`` is
  followed only through a page that moved nothing (a second holding a full page of read ids).
- Search reads an index that trails writes. The search stops ``intercom.settle_seconds`` (60) before
  now: an update younger than that waits for the next poll, so the cursor never passes an update
  that is not searchable yet.
- The cursor is tagged with the workspace's app id: a cursor saved for another workspace starts
  over (``escalation.lookback_hours`` back, like a first run) instead of skipping its history.

Notes frontline writes update the conversation, so it comes back in the next poll: the flow skips
what it already handled, as with Zendesk.

**Each conversation** is read whole (``GET /conversations/{id}``, HTML bodies reduced to text by
frontline's own reducer rather than ``display_as=plaintext``, so every source is read the same way).
Intercom returns the opening message as ``source`` and the 500 most recent ``conversation_parts``;
older parts of a longer conversation are not seen, but ``statistics.count_reopens`` still counts
their reopenings. Authors: user, lead and contact are the customer; admin and team an agent; bot
(and parts ``from_ai_agent``) a bot.

**Customer and company**: the first contact (``GET /contacts/{id}``: name, email) and the first
company it lists (``GET /companies/{id}``: plan from the ``intercom.plan_attribute`` custom
attribute, else Intercom's ``plan.name``; MRR from ``monthly_spend``; lifecycle from the
``intercom.lifecycle_attribute`` custom attribute), each read once per page and cached for ten
minutes. When they cannot be read — the token lacks "Read and list users and companies" (Intercom
answers 403, or 401 ``token_unauthorized``), no contact, no company — ``Conversation.company_note``
says why, so an escalation says why the customer value is unknown.

**Links and the note's author** come from ``GET /me``, read once: the inbox link is
``https://app{.eu|.au}.intercom.com/a/inbox/{app.id_code}/inbox/conversation/{id}``, the host chosen
by the ``app.region`` that ``/me`` reports (else by the API host); notes are written by
``intercom.admin_id``, else by the admin the token belongs to. A token refused ``/me`` (403) still
lists conversations, without links, and writes notes only as a configured ``intercom.admin_id``.

**Notes**: ``POST /conversations/{id}/reply`` with ``message_type: note`` (teammates only, never the
customer), the body as HTML carrying the marker. A note is never retried blindly: after a timeout
or 5xx the conversation is searched for the marker first (``find_note``), so one that landed is not
written twice.

**Region**: ``intercom.base_url`` (``INTERCOM_BASE_URL``): https://api.intercom.io (US; it also
routes other regions), https://api.eu.intercom.io, https://api.au.intercom.io. A token used in the
wrong region is refused as unknown (401): the error says so and names INTERCOM_BASE_URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.intercom.package import INTERCOM

if TYPE_CHECKING:
    from frontline.connectors.intercom.conversations import IntercomConversations

__all__ = ["INTERCOM", "IntercomConversations"]


def __getattr__(name: str) -> Any:
    """``IntercomConversations``, imported on first use: importing the package (its settings, limits) stays cheap."""
    if name == "IntercomConversations":
        from frontline.connectors.intercom.conversations import IntercomConversations

        return IntercomConversations
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
