"""Wires settings into running pieces: connectors, classifier, budgets (a flow's: frontline.engine.services)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from frontline.config import LLMSettings, Settings
from frontline.connectors.registry import connector_class
from frontline.decide.cascade import CascadeClassifier
from frontline.decide.triage import ModelClassifier, RulesClassifier, severity_model_path
from frontline.errors import ConfigError, ModelFormatError, ModelNotFoundError
from frontline.ports import Classifier
from frontline.runtime.budgets import BudgetBook, budgets_wanted
from frontline.store.budgets import BudgetTable
from frontline.store.state import StateStore

USER_AGENT = "frontline/0.1 (+https://github.com/frontline-support/frontline)"


def load_model(settings: Settings) -> ModelClassifier:
    """The trained model at the configured path, checked against the taxonomy."""
    from frontline.decide.trained import TrainedModel

    path = settings.model_file
    if not path.exists():
        raise ModelNotFoundError(str(path))
    model = TrainedModel.load(path)
    unknown = sorted(set(model.labels) - set(settings.categories))
    if unknown:
        raise ModelFormatError(
            str(path),
            f"it predicts labels that are not configured categories ({', '.join(unknown[:5])}); "
            "retrain on your taxonomy or add those categories to frontline.toml",
        )
    severity = None
    severity_path = severity_model_path(path)
    if severity_path.exists():
        severity = TrainedModel.load(severity_path)
        levels = set(severity.labels) - set(settings.severities)
        if levels:
            raise ModelFormatError(str(severity_path), f"it predicts unknown severities {', '.join(sorted(levels))}")
    return ModelClassifier(settings, model, severity)


def llm_configured(settings: Settings) -> bool:
    """The LLM stage is on when a key is set or the endpoint was changed (e.g. a keyless Ollama)."""
    from frontline.connectors.llm import llm_api_key

    return bool(llm_api_key(settings)) or settings.llm.base_url != LLMSettings().base_url


def build_classifier(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """The configured classifier; the cascade degrades to what is available."""
    kind = settings.classifier.kind
    if kind == "rules":
        return RulesClassifier(settings)
    model: ModelClassifier | None = None
    if kind in ("cascade", "model"):
        try:
            model = load_model(settings)
        except ModelNotFoundError:
            if kind == "model":
                raise
    if kind == "model":
        assert model is not None
        return model
    llm = None
    if llm_configured(settings):
        from frontline.connectors.llm import LLMClassifier, llm_api_key

        llm = LLMClassifier(settings, api_key=llm_api_key(settings), http_client=http)
    elif kind == "llm":
        raise ConfigError(
            settings.source, "classifier.kind",
            "is \"llm\" but no LLM key is set; set OPENROUTER_API_KEY (or FRONTLINE_LLM_API_KEY with "
            "FRONTLINE_LLM_BASE_URL)",
        )
    if kind == "llm":
        # Every ticket goes to the LLM: the cascade asks it about the local answers below its threshold,
        # so none may be above it (the keyword rules alone would decide the ones they are sure of).
        always = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(
            update={"confidence": float("inf")})})
        return CascadeClassifier(always, model=None, llm=_AlwaysAsk(llm), concurrency=settings.runner.concurrency)
    return CascadeClassifier(settings, model=model, llm=llm, concurrency=settings.runner.concurrency)


class _AlwaysAsk:
    """Makes the cascade ask the LLM for every ticket (classifier.kind = "llm")."""

    def __init__(self, llm: Any) -> None:
        self.name = "llm"
        self._llm = llm

    async def classify_one(self, ticket: Any) -> Any:
        return await self._llm.classify_one(ticket)


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
