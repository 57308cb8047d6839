"""What the receivers need of the web application, so that they need not import it.

:class:`~frontline.web.app.WebApp` routes requests to :mod:`frontline.web.receivers` and satisfies
:class:`WebContext`; the receivers are written against this protocol alone, and the two modules no
longer import each other.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Protocol

from frontline.config import Settings
from frontline.store.inbox import Inbox
from frontline.web.metrics import WebMetrics

if TYPE_CHECKING:
    from frontline.connectors.local.helpdesk import LocalHelpdesk


class WebContext(Protocol):
    """The application as a receiver sees it: settings, inbox, metrics, and the calls they share."""

    settings: Settings
    inbox: Inbox
    metrics: WebMetrics
    wake: asyncio.Event  # set when a delivery is recorded: the background worker looks at once
    helpdesk_lock: threading.Lock  # held around the embedded helpdesk `POST /tickets` writes to
    status: str  # "starting", "ok" or "failed", as /healthz says

    async def record(self, source: str, delivery: str, flow: str, item_id: str, payload: Any = None) -> bool:
        """Record a delivery durably; False for a redelivery."""
        ...

    def local_helpdesk(self) -> LocalHelpdesk:
        """The embedded helpdesk ``POST /tickets`` writes to (hold ``helpdesk_lock``)."""
        ...
