"""Webhook signature checks, done on the raw body before anything is parsed.

Each returns None when the delivery is authentic, else a short reason for the log (the HTTP answer
stays a minimal 401). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


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
