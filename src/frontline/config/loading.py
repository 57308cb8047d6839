"""Loading settings: built-in defaults < frontline.toml < environment (.env) < command-line flags.

Also: paths written in a file anchored beside it, ``[teams.NAME]`` merged over the top-level
sections, every secret variable masked from the moment it is read, and a validation error told as
one sentence naming the file and the key (:func:`describe`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, ValidationError

from frontline import scrub
from frontline.config.sections import sections
from frontline.config.settings import Settings
from frontline.connectors.registry import packages
from frontline.errors import ConfigError

# frontline's own variables; each connector package adds its own (``ConnectorPackage.env_settings``).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "FRONTLINE_DATABASE_URL": ("database_url",),
    "FRONTLINE_WORKSPACE": ("local", "workspace"),
    "FRONTLINE_CLASSIFIER": ("classifier", "kind"),
    "FRONTLINE_MODEL": ("classifier", "model_path"),
    "FRONTLINE_LLM_BASE_URL": ("llm", "base_url"),
    "FRONTLINE_LLM_MODEL": ("llm", "model"),
    "FRONTLINE_HELPDESK": ("connectors", "helpdesk"),
    "FRONTLINE_KB": ("connectors", "kb"),
    "FRONTLINE_CHAT": ("connectors", "chat"),
    "FRONTLINE_TRACKER": ("connectors", "tracker"),
    "FRONTLINE_CREDENTIALS": ("credentials", "provider"),
    "FRONTLINE_BUDGETS": ("runner", "budgets"),
    "FRONTLINE_CONVERSATIONS": ("connectors", "conversations"),
}
# Settings naming a place on disk. A relative value written in a file means "beside that file", not
# wherever the command happens to be run from; the workspace's own files (kb_dir, outbox, the model
# paths) stay relative to the workspace, which is anchored here. Environment values and flags keep
# the shell's meaning (the current directory), and so do the built-in defaults.
FILE_PATHS: tuple[tuple[str, ...], ...] = (("templates_dir",), ("local", "workspace"))
SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?:///)(?P<path>[^/].*)$")
# The variables frontline itself reads a credential from; each connector package adds its own
# (``ConnectorPackage.masked_env_vars``). Their values are masked in everything printed or logged
# (frontline.scrub), whatever their shape; so is any other value read through Settings.secret() (the
# variable named by [llm] api_key_env, say), except the identifiers packages declare public.
SECRET_VARIABLES = ("OPENROUTER_API_KEY", "FRONTLINE_LLM_API_KEY", "FRONTLINE_API_KEY")
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
# Sections whose value is one whole map: a team's map replaces the top-level one instead of merging.
WHOLE = {"categories", "teams"}


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


def _anchored(tree: dict[str, Any], folder: Path) -> None:
    """Make the relative paths written in a file (``tree``, teams included) relative to its ``folder``."""
    for path in FILE_PATHS:
        node: Any = tree
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        value = node.get(path[-1]) if isinstance(node, dict) else None
        if isinstance(value, str) and value:
            node[path[-1]] = str(folder / Path(value).expanduser())  # an absolute value replaces folder
    database = tree.get("database_url")
    found = SQLITE_URL.match(database) if isinstance(database, str) else None
    if found and not found["path"].startswith(":memory:"):
        tree["database_url"] = f"{found['scheme']}{(folder / found['path']).as_posix()}"
    teams = tree.get("teams")
    for team in teams.values() if isinstance(teams, dict) else ():
        if isinstance(team, dict):
            _anchored(team, folder)


def env_overrides() -> dict[str, tuple[str, ...]]:
    """Every variable that sets a key: frontline's own, then each connector package's."""
    found = dict(ENV_OVERRIDES)
    for package in packages().values():
        for variable, key in package.env_settings.items():
            found[variable] = (package.name, key)
    return found


def secret_variables() -> tuple[str, ...]:
    """Every variable holding a secret: frontline's own, then each connector package's."""
    return (*SECRET_VARIABLES, *(name for package in packages().values() for name in package.masked_env_vars))


def describe(error: ValidationError, source: str, prefix: str = "") -> ConfigError:
    """A validation error as one sentence: the file (or where the value came from), the key, what to do."""
    first = error.errors()[0]
    key = prefix + (".".join(str(part) for part in first["loc"]) or "(top level)")
    kind = first["type"]
    if kind == "extra_forbidden":
        parent = first["loc"][:-1]
        allowed = _allowed_keys(parent)
        hint = f"is not a known setting; allowed here: {', '.join(allowed)}" if allowed else "is not a known setting"
        return ConfigError(source, key, hint)
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if not first["loc"]:
        # model-level checks start their message with the key they are about
        key, _, message = message.partition(" ")
        key = prefix + key
    got = first.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
    return ConfigError(source, key, f"is invalid: {message}{shown}")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Settings
    skip_name = False
    for depth, part in enumerate(loc):
        if skip_name:
            skip_name = False  # a free name in a dict[str, Model], e.g. a category name
            continue
        if depth == 0 and str(part) in sections() and str(part) not in Settings.model_fields:
            model = sections()[str(part)]  # a connector package's or a flow's section
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field_info = model.model_fields.get(str(part))
            if field_info is None:
                return []
            annotation = field_info.annotation
            args = getattr(annotation, "__args__", ())
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
            elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
                model = args[-1]
                skip_name = True
            else:
                return []
        else:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        names = [name for name, info in model.model_fields.items() if not info.exclude]
        if model is Settings:
            names += sections()
        return sorted(names)
    return []


def load_settings(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, ...], Any] | None = None,
    dotenv: str | Path | None = ".env",
) -> Settings:
    """Load settings from a TOML file, the environment and .env, and flag overrides."""
    environ = dict(os.environ if environ is None else environ)
    env_file: dict[str, str] = {}
    if dotenv and Path(dotenv).is_file():
        env_file = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    merged_env = {**env_file, **environ}

    tree: dict[str, Any] = {}
    source = "built-in defaults"
    explicit = path is not None
    candidate = Path(path) if path is not None else Path("frontline.toml")
    if candidate.is_file():
        source = str(candidate)
        try:
            tree = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source, "(file)", f"is not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(source, "(file)", "is not UTF-8 text") from None
        _anchored(tree, candidate.resolve().parent)
    elif explicit:
        raise ConfigError(str(candidate), "(file)", "does not exist; pass an existing --config file")

    try:
        _with_teams(Settings.model_validate(tree), tree, source)
    except ValidationError as exc:
        raise describe(exc, source) from None

    for name, target in env_overrides().items():
        if merged_env.get(name):
            _set(tree, target, merged_env[name])
    for target, value in (overrides or {}).items():
        if value is not None:
            _set(tree, target, value)
    tree["env"] = merged_env
    tree["source"] = source
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        raise describe(exc, "environment or command line") from None
    _remember_secrets(settings)
    return _with_teams(settings, tree, "environment or command line", overrides)


def _remember_secrets(settings: Settings) -> None:
    """Mask every configured secret's value from now on, before anything can echo it."""
    for name in (*secret_variables(), settings.llm.api_key_env):
        settings.secret(name)
    if settings.database_url:
        with contextlib.suppress(ValueError):  # not a URL: DatabaseURLError says so later, without showing it
            scrub.remember(urlsplit(settings.database_url).password)


def _with_teams(settings: Settings, tree: dict[str, Any], source: str,
                overrides: Mapping[tuple[str, ...], Any] | None = None) -> Settings:
    """Validate each [teams.NAME] as the top-level settings with the team's keys over them.

    A team's own keys win over the environment (which sets the top-level values); command-line
    flags win over both.
    """
    for name, team_tree in settings.teams.items():
        if not TEAM_NAME.match(name):
            raise ConfigError(source, f"teams.{name}", "is not a valid team name (lower-case letters, digits, _ "
                                                       "and -, at most 31 characters)")
        merged = copy.deepcopy({key: value for key, value in tree.items() if key != "teams"})
        for section, value in team_tree.items():
            if section in ("team", "source", "env", "teams"):
                raise ConfigError(source, f"teams.{name}.{section}", "cannot be set per team")
            base = merged.get(section)
            if isinstance(value, dict) and isinstance(base, dict) and section not in WHOLE:
                merged[section] = {**base, **value}
            else:
                merged[section] = value
        for target, flag in (overrides or {}).items():
            if flag is not None:
                _set(merged, target, flag)
        merged["team"] = name
        try:
            team = Settings.model_validate(merged)
        except ValidationError as exc:
            raise describe(exc, source, prefix=f"teams.{name}.") from None
        settings._teams[name] = team
    return settings
