"""Wires settings into running services: store, connectors, classifier, renderer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from frontline import classifiers
from frontline.config import Settings
from frontline.connectors.registry import connector_class
from frontline.credentials import Credentials, open_credentials
from frontline.decide.triage import ModelClassifier
from frontline.errors import FrontlineError
from frontline.flows.escalate import EscalateServices
from frontline.flows.triage import TriageServices
from frontline.ports import Classifier
from frontline.render import Renderer
from frontline.runtime.budgets import BudgetBook, budgets_wanted
from frontline.store.budgets import BudgetTable
from frontline.store.state import StateStore

USER_AGENT = "frontline/0.1 (+https://github.com/frontline-support/frontline)"


def load_model(settings: Settings) -> ModelClassifier:
    """The trained model at the configured path, checked against the taxonomy."""
    return classifiers.load_model(settings)


def llm_configured(settings: Settings) -> bool:
    """The LLM stage is on when a key is set or the endpoint was changed (e.g. a keyless Ollama)."""
    return classifiers.llm_configured(settings)


def build_classifier(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """The classifier ``classifier.kind`` names, from the ``frontline.classifiers`` entry points.

    The built-in cascade degrades to what is available (no model, no LLM key).
    """
    return classifiers.build(settings, http)


_BOOKS: dict[str, BudgetBook] = {}


def open_budgets(settings: Settings, store: StateStore) -> BudgetBook | None:
    """The process's rate budgets, shared with every process on the same state store; None when off.

    One book per state store for the life of the process, so a poller's or a worker's cycles, and
    several teams on one vendor account, draw on the same buckets.
    """
    if not budgets_wanted(settings.runner.budgets, os.environ):
        return None
    book = _BOOKS.get(settings.state_url)
    if book is None:
        book = _BOOKS[settings.state_url] = BudgetBook(table=BudgetTable(store.engine))
    return book


def open_connector(port: str, settings: Settings, **kwargs: Any) -> Any:
    """Instantiate the configured adapter for ``port``.

    Every adapter's ``from_settings`` takes the settings and keyword arguments: ``http`` (the
    shared ``httpx.AsyncClient``), ``credentials`` (the token provider), ``budgets`` (the process's
    :class:`~frontline.runtime.budgets.BudgetBook`, or None) and, for chats, ``echo``.
    """
    name = getattr(settings.connectors, port)
    cls = connector_class(port, name, settings.source)
    return cls.from_settings(settings, **kwargs)


@dataclass
class _Opened:
    """What both flows open the same way: HTTP client, state store, credentials, budgets, connectors."""

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
async def _opening(settings: Settings, *, echo: Callable[[str], None] | None, http: httpx.AsyncClient | None,
                   store: StateStore | None, budgets: BudgetBook | None) -> AsyncIterator[_Opened]:
    """Open the shared pieces, and close whatever was opened, in reverse, however the flow ends."""
    client = http or httpx.AsyncClient(timeout=30.0, headers={"User-Agent": USER_AGENT})
    state = store or StateStore.open(settings.state_url)
    opened = _Opened(settings, client, state, open_credentials(settings), budgets or open_budgets(settings, state),
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
async def triage_services(
    settings: Settings, *, echo: Callable[[str], None] | None = None,
    http: httpx.AsyncClient | None = None, store: StateStore | None = None, budgets: BudgetBook | None = None,
) -> AsyncIterator[TriageServices]:
    """Open everything triage needs and close it afterwards (``budgets``: the process's by default)."""
    async with _opening(settings, echo=echo, http=http, store=store, budgets=budgets) as opened:
        helpdesk, kb, chat = (opened.connector(port) for port in ("helpdesk", "kb", "chat"))
        yield TriageServices(settings=settings, store=opened.store, helpdesk=helpdesk, kb=kb, chat=chat,
                             classifier=build_classifier(settings, opened.http), renderer=Renderer(settings),
                             team=settings.team)


@asynccontextmanager
async def escalate_services(
    settings: Settings, *, echo: Callable[[str], None] | None = None,
    http: httpx.AsyncClient | None = None, store: StateStore | None = None, budgets: BudgetBook | None = None,
) -> AsyncIterator[EscalateServices]:
    """Open everything the escalate flow needs and close it afterwards (``budgets``: the process's by default)."""
    from frontline.decide.signals import EscalationScorer

    async with _opening(settings, echo=echo, http=http, store=store, budgets=budgets) as opened:
        source, tracker, chat = (opened.connector(port) for port in ("conversations", "tracker", "chat"))
        try:
            classifier: Classifier | None = build_classifier(settings, opened.http)
        except FrontlineError:
            classifier = None  # the category only picks a tracker project: escalate without it
        yield EscalateServices(settings=settings, store=opened.store, conversations=source, tracker=tracker,
                               chat=chat, scorer=EscalationScorer(settings), renderer=Renderer(settings),
                               classifier=classifier, team=settings.team)
