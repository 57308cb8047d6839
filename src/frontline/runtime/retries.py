"""What a retry says: one readable log line (and a count) instead of stamina's bare event name."""

from __future__ import annotations

import logging
from collections import Counter

from stamina.instrumentation import RetryDetails, set_on_retry_hooks

log = logging.getLogger("frontline.retry")
# Retries scheduled in this process, by the error that caused them (exported as metrics later).
RETRIES: Counter[str] = Counter()


def log_retry(details: RetryDetails) -> None:
    """Log a scheduled retry with its cause and wait, at INFO (shown with --verbose)."""
    cause = details.caused_by
    RETRIES[type(cause).__name__] += 1
    log.info("retry %d in %.1fs after %s", details.retry_num, details.wait_for, cause)


def install() -> None:
    """Route every stamina retry through :func:`log_retry`."""
    set_on_retry_hooks([log_retry])
