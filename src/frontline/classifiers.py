"""Finds classifiers by name through entry points, and the built-in ones registered there.

A package brings its own classifier the way frontline's built-ins are brought: an entry point in
the ``frontline.classifiers`` group whose name is what ``classifier.kind`` says and whose object is a
factory taking ``(settings, http)`` (the settings and the shared ``httpx.AsyncClient``) and
returning a :class:`~frontline.ports.Classifier`::

    [project.entry-points."frontline.classifiers"]
    mine = "my_package.classify:build"

The heavy parts (scikit-learn, the LLM client) are imported inside the factories, so that naming
the classifiers, as loading the settings does, costs no more than reading the entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from frontline.config.classifier_names import available, unregistered
from frontline.errors import ConfigError, ModelFormatError, ModelNotFoundError

if TYPE_CHECKING:
    from frontline.config import Settings
    from frontline.decide.triage import ModelClassifier
    from frontline.ports import Classifier

KEY = "classifier.kind"

Factory = Callable[["Settings", httpx.AsyncClient], "Classifier"]


def factory(name: str, source: str = "configuration") -> Factory:
    """The factory registered as ``name``; ConfigError naming the known ones when there is none."""
    found = available()
    if name not in found:
        raise ConfigError(source, KEY, unregistered(name))
    try:
        loaded: Factory = found[name].load()
    except ImportError as exc:
        raise ConfigError(source, KEY, f"names classifier {name!r}, which cannot be loaded ({exc}); "
                                       "is its package installed?") from None
    return loaded


def build(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """The classifier ``settings.classifier.kind`` names, built by its registered factory."""
    return factory(settings.classifier.kind, settings.source)(settings, http)


# -- the built-in classifiers (registered in frontline's own pyproject.toml) ---------------------------

def load_model(settings: Settings) -> ModelClassifier:
    """The trained model at the configured path, checked against the taxonomy."""
    from frontline.decide.trained import TrainedModel
    from frontline.decide.triage import ModelClassifier, severity_model_path

    path = settings.model_file
    if not path.exists():
        raise ModelNotFoundError(str(path))
    model = TrainedModel.load(path)
    unknown_labels = sorted(set(model.labels) - set(settings.categories))
    if unknown_labels:
        raise ModelFormatError(
            str(path),
            f"it predicts labels that are not configured categories ({', '.join(unknown_labels[:5])}); "
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
    from frontline.config import LLMSettings
    from frontline.connectors.llm import llm_api_key

    return bool(llm_api_key(settings)) or settings.llm.base_url != LLMSettings().base_url


def _llm_stage(settings: Settings, http: httpx.AsyncClient) -> Any:
    """The LLM classifier when one is configured, else None."""
    if not llm_configured(settings):
        return None
    from frontline.connectors.llm import LLMClassifier, llm_api_key

    return LLMClassifier(settings, api_key=llm_api_key(settings), http_client=http)


def rules(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """``rules``: the configured keyword lists alone."""
    from frontline.decide.triage import RulesClassifier

    return RulesClassifier(settings)


def model(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """``model``: the trained model alone (ModelNotFoundError when there is none)."""
    return load_model(settings)


def llm(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """``llm``: the LLM for every ticket, the rules when it fails (ConfigError when no LLM is set up)."""
    from frontline.decide.cascade import CascadeClassifier

    stage = _llm_stage(settings, http)
    if stage is None:
        raise ConfigError(
            settings.source, KEY,
            "is \"llm\" but no LLM key is set; set OPENROUTER_API_KEY (or FRONTLINE_LLM_API_KEY with "
            "FRONTLINE_LLM_BASE_URL)",
        )
    # Every ticket goes to the LLM: the cascade asks it about the local answers below its threshold, so
    # none may be above it (the keyword rules alone would decide the ones they are sure of).
    always = settings.model_copy(update={"thresholds": settings.thresholds.model_copy(
        update={"confidence": float("inf")})})
    return CascadeClassifier(always, model=None, llm=_AlwaysAsk(stage), concurrency=settings.runner.concurrency)


def cascade(settings: Settings, http: httpx.AsyncClient) -> Classifier:
    """``cascade``: rules, then the model when trained, then the LLM when set up, each only when unsure."""
    from frontline.decide.cascade import CascadeClassifier

    try:
        trained: ModelClassifier | None = load_model(settings)
    except ModelNotFoundError:
        trained = None
    return CascadeClassifier(settings, model=trained, llm=_llm_stage(settings, http),
                             concurrency=settings.runner.concurrency)


class _AlwaysAsk:
    """Makes the cascade ask the LLM for every ticket (classifier.kind = "llm")."""

    def __init__(self, llm: Any) -> None:
        self.name = "llm"
        self._llm = llm

    async def classify_one(self, ticket: Any) -> Any:
        return await self._llm.classify_one(ticket)
