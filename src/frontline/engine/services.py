"""Opening a flow's services: the HTTP client, the state store, credentials, budgets and the ports it declares.

One context manager for every flow: :func:`open_flow` opens what the flow's ``ports`` name (the
configured adapter of each, through :func:`frontline.app.open_connector`), hands them to the flow's
``services`` builder, and closes everything it opened, in reverse, however the flow ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from frontline.app import USER_AGENT, build_classifier, open_budgets, open_connector
from frontline.config import Settings
from frontline.credentials import Credentials, open_credentials
from frontline.flows import registry
from frontline.flows.base import Context, Flow
from frontline.runtime.budgets import BudgetBook
from frontline.store.state import StateStore


@dataclass
class Opened:
    """What every flow opens the same way: HTTP client, state store, credentials, budgets, connectors."""

    settings: Settings
    http: httpx.AsyncClient
    store: StateStore
    credentials: Credentials
    budgets: BudgetBook | None
    echo: Callable[[str], None] | None
    connectors: list[Any] = field(default_factory=list)

    def connector(self, port: str) -> Any:
        """Open the configured adapter for ``port``; it is closed with the rest."""
        extra = {"echo": self.echo} if port == "chat" else {}
        opened = open_connector(port, self.settings, http=self.http, credentials=self.credentials,
                                budgets=self.budgets, **extra)
        self.connectors.append(opened)
        return opened


@asynccontextmanager
async def opening(settings: Settings, *, echo: Callable[[str], None] | None = None,
                  http: httpx.AsyncClient | None = None, store: StateStore | None = None,
                  budgets: BudgetBook | None = None) -> AsyncIterator[Opened]:
    """Open the shared pieces, and close whatever was opened, in reverse, however the flow ends."""
    client = http or httpx.AsyncClient(timeout=30.0, headers={"User-Agent": USER_AGENT})
    state = store or StateStore.open(settings.state_url)
    opened = Opened(settings, client, state, open_credentials(settings), budgets or open_budgets(settings, state),
                    echo)
    try:
        yield opened
    finally:
        for connector in reversed(opened.connectors):
            await connector.aclose()
        if store is None:
            state.close()
        if http is None:
            await client.aclose()


@asynccontextmanager
async def open_flow(flow: Flow | str, settings: Settings, *, echo: Callable[[str], None] | None = None,
                    http: httpx.AsyncClient | None = None, store: StateStore | None = None,
                    budgets: BudgetBook | None = None) -> AsyncIterator[Any]:
    """Open everything ``flow`` (a flow or its registered name) needs, and close it afterwards.

    ``http`` and ``store`` are the caller's to close when given; ``budgets`` are the process's by
    default (:func:`frontline.app.open_budgets`).
    """
    unit = registry.flow(flow) if isinstance(flow, str) else flow
    async with opening(settings, echo=echo, http=http, store=store, budgets=budgets) as opened:
        ports = {port: opened.connector(port) for port in unit.ports}
        yield unit.services(Context(settings, opened.store, ports, opened.http,
                                    lambda: build_classifier(settings, opened.http)))
