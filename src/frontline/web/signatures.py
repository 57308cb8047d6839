"""Webhook signature checks, done on the raw body before anything is parsed.

Each ``verify_*`` returns None when the delivery is authentic, else a short reason for the log
(the HTTP answer stays a minimal 401). Comparisons are constant-time. The ``sign_*`` functions
are the production signers: the tests and the load test sign with them.

- Intercom: ``X-Hub-Signature: sha1=`` + hex HMAC-SHA1(client secret, body).
- Zendesk ("Verifying webhook authenticity", developer.zendesk.com/documentation/webhooks/verifying):
  ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(signing secret, timestamp + body)), the
  timestamp being the ``X-Zendesk-Webhook-Signature-Timestamp`` header as sent (ISO 8601, e.g.
  ``2021-03-25T05:09:27Z``).
- Slack ("Verifying requests from Slack"): ``X-Slack-Signature: v0=`` + hex
  HMAC-SHA256(signing secret, ``v0:{X-Slack-Request-Timestamp}:{body}``), the timestamp in Unix seconds.

Zendesk and Slack sign the timestamp too, so a delivery whose timestamp is outside the tolerance
window (stale, or from the future) is refused like a bad signature: a captured request cannot be
replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime

DEFAULT_TOLERANCE = 300.0


def sign_intercom(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Intercom sends: ``sha1=`` and the HMAC-SHA1 of the body."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def verify_intercom(secret: str, headers: Mapping[str, str], body: bytes) -> str | None:
    """Intercom: HMAC-SHA1 of the raw body with the app's client secret."""
    given = headers.get("x-hub-signature", "")
    if not given:
        return "no X-Hub-Signature header"
    if not hmac.compare_digest(given.strip().lower(), sign_intercom(secret, body)):
        return "X-Hub-Signature does not match"
    return None


def zendesk_timestamp(at: float | None = None) -> str:
    """A timestamp as Zendesk writes it in ``X-Zendesk-Webhook-Signature-Timestamp``."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_zendesk(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Zendesk-Webhook-Signature`` value: base64 of HMAC-SHA256 over timestamp + body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_zendesk(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: float = DEFAULT_TOLERANCE,
                   now: float | None = None) -> str | None:
    """Zendesk: the signature over timestamp + body, and the timestamp within ``tolerance`` seconds."""
    given = headers.get("x-zendesk-webhook-signature", "").strip()
    stamp = headers.get("x-zendesk-webhook-signature-timestamp", "").strip()
    if not given or not stamp:
        return "no X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp header"
    if not hmac.compare_digest(given.encode(), sign_zendesk(secret, stamp, body).encode()):
        return "X-Zendesk-Webhook-Signature does not match"
    return _outside_window(_seconds(stamp), tolerance, now)


def sign_slack(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value: ``v0=`` and hex HMAC-SHA256 over ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: float = DEFAULT_TOLERANCE,
                 now: float | None = None) -> str | None:
    """Slack: the v0 signature over timestamp and body, and the timestamp within ``tolerance`` seconds."""
    given = headers.get("x-slack-signature", "").strip()
    stamp = headers.get("x-slack-request-timestamp", "").strip()
    if not given or not stamp:
        return "no X-Slack-Signature or X-Slack-Request-Timestamp header"
    if not hmac.compare_digest(given.encode(), sign_slack(secret, stamp, body).encode()):
        return "X-Slack-Signature does not match"
    return _outside_window(_seconds(stamp), tolerance, now)


def bearer_matches(expected: str, headers: Mapping[str, str]) -> bool:
    """``Authorization: Bearer <key>`` carries ``expected`` (constant-time)."""
    scheme, _, given = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def _seconds(stamp: str) -> float | None:
    """Unix seconds from a header: digits (Slack) or ISO 8601 (Zendesk); None when it is neither."""
    if stamp.isdigit() and len(stamp) <= 12:
        return float(stamp)
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _outside_window(at: float | None, tolerance: float, now: float | None) -> str | None:
    if at is None:
        return "the signature timestamp is not a date"
    skew = (time.time() if now is None else now) - at
    if skew > tolerance:
        return f"the signature timestamp is {skew:.0f}s old (limit {tolerance:.0f}s): a stale or replayed delivery"
    if skew < -tolerance:
        return f"the signature timestamp is {-skew:.0f}s in the future (limit {tolerance:.0f}s)"
    return None
