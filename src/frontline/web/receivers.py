"""The routes of ``frontline serve``: each authenticates first, records durably, then answers.

Every webhook receiver follows the same order — secret configured (else 503), signature and
timestamp on the raw bytes (else 401 with a minimal body; the reason goes to the log only),
parse, checking every id and text field the store will hold (else 400 ``{"error", "field"}``),
record in the inbox (a redelivery is acknowledged, recorded once; a delivery the store still cannot
hold is a 422 of its own, never its batch's 500), answer. Nothing slow happens before the answer:
the background worker does the work. Which flow a source's deliveries go to is that flow's own
declaration (``Flow.webhooks``, asked of the registry): a source no installed flow takes is a 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from frontline.errors import UnstorableError
from frontline.flows import registry
from frontline.web.context import WebContext
from frontline.web.metrics import CONTENT_TYPE
from frontline.web.payloads import (
    IdReader,
    PayloadError,
    ZendeskEvent,
    intercom_conversation,
    item_id,
    slack_request,
    text,
    ticket_batch,
    zendesk_event,
    zendesk_ticket,
)
from frontline.web.responses import Response
from frontline.web.signatures import bearer_matches, verify_intercom, verify_slack, verify_zendesk

# secret, headers, body → what is wrong with the signature, or None
Verifier = Callable[[str, dict[str, str], bytes], str | None]

log = logging.getLogger("frontline.web")

# Intercom topics that can change whether a conversation should escalate.
INTERCOM_TOPICS = {
    "conversation.user.created", "conversation.user.replied", "conversation.admin.replied",
    "conversation.admin.opened", "conversation.admin.closed", "conversation.admin.noted",
    "conversation.admin.snoozed", "conversation.admin.unsnoozed", "conversation.admin.assigned",
}
MAX_DELIVERY = 200  # the inbox's delivery column


def _response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body, headers)


def unauthorized() -> Response:
    """The answer to a bad signature: 401 and nothing else to learn from."""
    return _response(401, {"error": "invalid signature"})


def _unconfigured(app: WebContext, source: str, variable: str) -> Response:
    log.warning("%s webhook refused: %s is not set", source.capitalize(), variable)
    app.metrics.delivery(source, "unconfigured")
    return _response(503, {"error": "webhook not configured"})


def _refused(app: WebContext, source: str, problem: str) -> Response:
    log.warning("%s webhook refused: %s", source.capitalize(), problem)
    app.metrics.delivery(source, "refused")
    return unauthorized()


def _invalid(app: WebContext, source: str, problem: str, field: str | None = None, status: int = 400) -> Response:
    """A verified body frontline cannot take: 400 (422 when only the store refused it), naming the field."""
    app.metrics.delivery(source, "invalid")
    return _response(status, {"error": problem} if field is None else {"error": problem, "field": field})


def _refuse(app: WebContext, source: str, error: PayloadError) -> Response:
    return _invalid(app, source, str(error), error.field)


def _taker(app: WebContext, source: str, webhook: str | None = None) -> str | Response:
    """The flow that takes ``webhook``'s deliveries (``source``'s by default), or the 404 when none does."""
    webhook = webhook or source
    flow = registry.webhook_flow(webhook)
    if flow is not None:
        return flow
    log.warning("%s delivery refused: no installed flow takes %s deliveries", source.capitalize(), webhook)
    app.metrics.delivery(source, "no_flow")
    return _response(404, {"error": f"no installed flow takes {webhook} deliveries; install or enable one that does"})


async def _record(app: WebContext, source: str, delivery: str, flow: str, item: str, payload: Any) -> bool | Response:
    """Record a delivery; the 422 when the inbox cannot hold it (that delivery alone fails: the others in
    its batch are recorded)."""
    try:
        return await app.record(source, delivery, flow, item, payload)
    except UnstorableError as error:
        log.warning("%s delivery refused: %s", source.capitalize(), error)
        return _invalid(app, source, str(error), error.field, 422)


def _ticket_ids(app: WebContext) -> IdReader:
    """How a ticket id in a delivery is read: a Zendesk ticket number in front of Zendesk, else any id the
    store can hold (the embedded helpdesk's ids are whatever its tickets were given)."""
    return zendesk_ticket if app.settings.connectors.helpdesk == "zendesk" else item_id


def _conversation_ids(app: WebContext) -> IdReader:
    """How a conversation id in a delivery is read: Intercom's digits in front of Intercom, else any id."""
    return intercom_conversation if app.settings.connectors.conversations == "intercom" else item_id


def _ignored(app: WebContext, source: str, what: str) -> Response:
    app.metrics.delivery(source, "ignored")
    return _response(200, {"ignored": what})


def delivery_key(*parts: str) -> str:
    """A delivery id that fits the inbox column (a long one is hashed)."""
    key = ":".join(p for p in parts if p)
    return key if len(key) <= MAX_DELIVERY else hashlib.sha256(key.encode()).hexdigest()


def _unverified(app: WebContext, source: str, secret_name: str, verify: Verifier, headers: dict[str, str],
                body: bytes) -> Response | None:
    """Before anything else: the refusal when the secret is missing or the signature is wrong, else None."""
    secret = app.settings.secret(secret_name)
    if not secret:
        return _unconfigured(app, source, secret_name)
    problem = verify(secret, headers, body)
    return None if problem is None else _refused(app, source, problem)


# -- webhooks ----------------------------------------------------------------------------------------
async def intercom(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """Intercom notifications: verify X-Hub-Signature, record conversation topics, answer."""
    refusal = _unverified(app, "intercom", "INTERCOM_CLIENT_SECRET", verify_intercom, headers, body)
    if refusal is not None:
        return refusal
    flow = _taker(app, "intercom")
    if isinstance(flow, Response):
        return flow
    try:
        payload = json_object(body)
        topic = str(payload.get("topic") or "")
        item = (payload.get("data") or {}).get("item") or {}
    except (PayloadError, AttributeError):
        return _invalid(app, "intercom", "not a notification")
    if topic == "ping" or topic not in INTERCOM_TOPICS:
        return _ignored(app, "intercom", topic or "no topic")
    try:
        # Recorded the one way the poller names it too (215, 215.0 and "215" are one conversation).
        conversation = _conversation_ids(app)(item.get("id") if isinstance(item, dict) else None, "data.item.id")
    except PayloadError as error:
        return _invalid(app, "intercom", f"notification without a conversation id ({error})", error.field)
    try:
        notification = _notification_id(payload.get("id"))
    except PayloadError as error:
        return _refuse(app, "intercom", error)
    delivery = delivery_key(notification) or hashlib.sha256(body).hexdigest()
    added = await _record(app, "intercom", delivery, flow, conversation, {"topic": topic})
    if isinstance(added, Response):
        return added
    return _response(200, {"received": delivery, "duplicate": not added})


def _notification_id(value: Any) -> str:
    """An Intercom notification's ``id`` as a string ("" when absent); a number is written as one."""
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value, "id")


async def zendesk(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """A Zendesk trigger (or ticket event) webhook: verify, record the ticket for the flow taking it, answer."""
    verify = partial(verify_zendesk, tolerance=app.settings.server.timestamp_tolerance_seconds)
    refusal = _unverified(app, "zendesk", "ZENDESK_WEBHOOK_SECRET", verify, headers, body)
    if refusal is not None:
        return refusal
    flow = _taker(app, "zendesk")
    if isinstance(flow, Response):
        return flow
    try:
        event = zendesk_event(body, ticket=_ticket_ids(app))
    except PayloadError as error:
        return _refuse(app, "zendesk", error)
    if event.ticket_id is None:
        return _ignored(app, "zendesk", event.kind)
    delivery = zendesk_delivery(event, headers, body)
    added = await _record(app, "zendesk", delivery, flow, event.ticket_id,
                          {"kind": event.kind, "updated_at": event.updated_at})
    if isinstance(added, Response):
        return added
    return _response(200, {"received": delivery, "duplicate": not added})


def zendesk_delivery(event: ZendeskEvent, headers: dict[str, str], body: bytes) -> str:
    """The inbox key of a verified Zendesk delivery, made only of what Zendesk signed.

    An event envelope names its event (``id``, inside the signed body); a trigger's body is keyed by
    the signed timestamp and a hash of the body. A captured delivery sent again inside the timestamp
    window is the same key whatever unsigned headers (invocation id, webhook id) it carries, and so is
    recorded once.
    """
    if event.event_id:
        return delivery_key(event.event_id)
    stamp = headers.get("x-zendesk-webhook-signature-timestamp", "").strip()
    return delivery_key(stamp, hashlib.sha256(body).hexdigest())


async def slack(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """Slack interactivity: verify, record frontline's buttons and menus for the flow taking them, answer in 3 s."""
    verify = partial(verify_slack, tolerance=app.settings.server.timestamp_tolerance_seconds)
    refusal = _unverified(app, "slack", "SLACK_SIGNING_SECRET", verify, headers, body)
    if refusal is not None:
        return refusal
    flow = _taker(app, "slack")
    if isinstance(flow, Response):
        return flow
    try:
        request = slack_request(body, headers.get("content-type", ""), tickets=_ticket_ids(app),
                                conversations=_conversation_ids(app))
    except PayloadError as error:
        return _refuse(app, "slack", error)
    if request.kind == "url_verification":
        return _response(200, {"challenge": request.challenge})
    if request.kind == "ignored":
        app.metrics.delivery("slack", "ignored")
        return _response(200, b"", {"content-type": "text/plain"})
    base = request.delivery or hashlib.sha256(body).hexdigest()
    for number, action in enumerate(request.actions):
        if action.category is not None and action.category not in app.settings.categories:
            log.warning("Slack correction for %s ignored: %r is not a configured category", action.item_id,
                        action.category)
            app.metrics.delivery("slack", "invalid")
            continue
        added = await _record(app, "slack", delivery_key(base, str(number)), flow, action.item_id, {
            "kind": action.kind, "category": action.category, "user": action.user, "action_ts": action.action_ts})
        if isinstance(added, Response):
            return added
    # An empty 200 leaves the message as it is; the worker applies the feedback.
    return _response(200, b"", {"content-type": "text/plain"})


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    return data


# -- the embedded helpdesk's intake -------------------------------------------------------------------
async def tickets(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """``POST /tickets``: one ticket or a list, validated, upserted, queued for the flow taking it; 202 with the ids."""
    key = app.settings.secret("FRONTLINE_API_KEY")
    if not key:
        log.warning("POST /tickets refused: FRONTLINE_API_KEY is not set")
        return _response(503, {"error": "ticket intake not configured"})
    if not bearer_matches(key, headers):
        log.warning("POST /tickets refused: missing or wrong bearer key")
        return _response(401, {"error": "unauthorized"}, {"www-authenticate": "Bearer"})
    flow = _taker(app, "api", "tickets")
    if isinstance(flow, Response):
        return flow
    helpdesk = app.settings.connectors.helpdesk
    if helpdesk != "local":
        return _response(409, {"error": f"POST /tickets feeds the embedded helpdesk; connectors.helpdesk is "
                                        f"{helpdesk!r}"})
    try:
        batch = ticket_batch(body)
    except PayloadError as error:
        return _response(400, {"error": str(error)})
    if batch.errors:  # all or nothing: the caller fixes the batch and sends it again
        return _response(422, {"errors": batch.errors})
    created, updated = await asyncio.to_thread(_store_tickets, app, batch.records, flow)
    app.wake.set()
    return _response(202, {"accepted": [r["id"] for r in batch.records], "created": created, "updated": updated})


def _store_tickets(app: WebContext, records: list[dict[str, Any]], flow: str) -> tuple[int, int]:
    """Upsert, then queue each ticket for ``flow`` (delivery = id@updated_at). Runs in a thread.

    A crash between the two leaves a stored ticket unqueued: the poller (the safety net) still
    finds it, since the upsert moved it past the helpdesk cursor.
    """
    now = datetime.now(UTC).isoformat()
    for record in records:
        record["updated_at"] = record["updated_at"] or record["created_at"] or now
    with app.helpdesk_lock:
        counts = app.local_helpdesk().upsert(records)
    for record in records:
        try:
            added = app.inbox.add("api", delivery_key(f"{record['id']}@{record['updated_at']}"), flow,
                                  record["id"])
        except Exception:
            app.metrics.delivery("api", "record_failed")
            raise
        app.metrics.delivery("api", "recorded" if added else "duplicate")
    # The API's "updated" has always counted the tickets it already knew, changed or not.
    return counts.created, counts.updated + counts.unchanged


# -- probes ----------------------------------------------------------------------------------------------
async def health(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """Liveness, whether the worker runs yet ("starting": deliveries are recorded meanwhile), and the inbox depth."""
    depth = await asyncio.to_thread(app.inbox.depth)
    return _response(503 if app.status == "failed" else 200, {"status": app.status, "inbox": depth})


async def metrics(app: WebContext, headers: dict[str, str], body: bytes) -> Response:
    """Prometheus text format; the store's counts are read now, off the event loop."""
    text = await asyncio.to_thread(app.metrics.render)
    return _response(200, text, {"content-type": CONTENT_TYPE})
