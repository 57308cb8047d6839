"""Wires settings into running pieces: connectors, classifier, budgets (a flow's: frontline.engine.services)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from frontline import classifiers
from frontline.config import Settings
from frontline.connectors.registry import connector_class
from frontline.decide.triage import ModelClassifier
from frontline.ports import Classifier
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
