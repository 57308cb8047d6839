"""One pass of any flow over everything new: `frontline run FLOW`, each `poll` cycle, `serve`'s poller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from frontline.config import Settings
from frontline.engine.services import open_flow
from frontline.flows.base import Flow, Output
from frontline.store.state import StateStore


async def run_once(flow: Flow, settings: Settings, *, dry_run: bool = False, limit: int | None = None,
                   output: Output | None = None, quiet: bool = False, echo: Callable[[str], None] | None = None,
                   now: Callable[[], datetime] | None = None, http: httpx.AsyncClient | None = None,
                   store: StateStore | None = None) -> Any:
    """Open the flow's services, run one pass, close them; returns the flow's summary.

    ``output`` hears one line per item (unless ``quiet``); ``echo`` is the chat's own console
    echo; ``now`` the clock time-based signals are measured by.
    """
    async with open_flow(flow, settings, echo=echo, http=http, store=store) as services:
        return await flow.start(services, dry_run=dry_run, limit=limit, output=output, quiet=quiet, now=now).run()
