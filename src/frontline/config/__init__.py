"""Settings: built-in defaults < frontline.toml < environment (.env) < command-line flags."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator

from frontline import scrub
from frontline.config.base import Strict
from frontline.config.escalation import EscalationSettings
from frontline.config.taxonomy import Category, Severity, default_categories, default_severities
from frontline.config.vendors import (
    CredentialsSettings,
    IntercomSettings,
    LinearSettings,
    NotionSettings,
    ScalekitSettings,
    SlackSettings,
    ZendeskSettings,
)
from frontline.errors import ConfigError

SEVERITIES = ("P0", "P1", "P2", "P3")




class Routing(Strict):
    """Which chat channel each category goes to, and the fallback."""

    channels: dict[str, str] = Field(
        default_factory=lambda: {
            "bug": "#engineering",
            "billing": "#billing",
            "feature_request": "#product-feedback",
        }
    )
    fallback: str = "#support-triage"
    kb_categories: tuple[str, ...] = ("bug", "how_to", "account_issue")
    kb_results: int = Field(default=3, ge=1, le=10)


class WriteBackSettings(Strict):
    """What is written back to the helpdesk."""

    tags: tuple[str, ...] = ("auto_category:{category}", "auto_severity:{severity}", "triaged_by_agent")
    review_tag: str = "frontline-review"
    custom_fields: dict[str, str] = Field(default_factory=dict)


class Thresholds(Strict):
    """Confidence and business-impact thresholds."""

    confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    abstain: float = Field(default=0.3, ge=0.0, le=1.0)
    high_value_mrr: float = Field(default=500.0, ge=0.0)
    high_value_plans: tuple[str, ...] = ("enterprise", "business")

    @model_validator(mode="after")
    def _abstain_below_confidence(self) -> Thresholds:
        if self.abstain > self.confidence:
            raise ValueError("abstain must not be above confidence")
        return self


def _registered_classifier(name: str) -> str:
    """A classifier name some installed package registered (frontline's own included)."""
    from frontline.classifiers import available, unregistered

    if name not in available():
        raise ValueError(unregistered())
    return name


class ClassifierSettings(Strict):
    """Which classifier decides, and where its model lives."""

    # Any name registered in the `frontline.classifiers` entry points (built-ins: cascade, model, rules, llm).
    kind: Annotated[str, AfterValidator(_registered_classifier)] = "cascade"
    model_path: str = "model.joblib"


class LLMSettings(Strict):
    """An OpenAI-compatible chat endpoint (OpenRouter by default)."""

    base_url: str = "https://openrouter.ai/api/v1"
    model: str = "openai/gpt-4o-mini"
    timeout: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=5)
    api_key_env: str = "OPENROUTER_API_KEY"
    # Links in the model's summary and suggested reply are replaced by "[link removed]" unless their
    # host is one of these (or below one): the knowledge base's, such as help.acme.com.
    link_hosts: tuple[str, ...] = ()


class Connectors(Strict):
    """Which adapter serves each port."""

    helpdesk: str = "local"
    kb: str = "local"
    chat: str = "outbox"
    tracker: str = "local"
    conversations: str = "local"


class LocalSettings(Strict):
    """Paths of the embedded default, relative to the workspace."""

    workspace: str = ".frontline"
    kb_dir: str = "kb"
    outbox: str = "outbox.jsonl"
    # The outbox prints each alert it posts; `frontline run`, `poll` and `demo` print their own one line
    # per item instead (and none with --quiet), so this is for code driving the flows directly.
    echo: bool = True
    # Channels the outbox "bot" is a member of; others are refused like Slack's not_in_channel.
    channels: tuple[str, ...] | None = None


class RunnerSettings(Strict):
    """How the flow runner paces itself."""

    concurrency: int = Field(default=8, ge=1, le=256)
    batch_size: int = Field(default=200, ge=1, le=5000)
    poll_interval_minutes: float = Field(default=5.0, gt=0)
    # Rate budgets (frontline.runtime.budgets): wait for the vendors' documented limits instead of
    # meeting their 429s. FRONTLINE_BUDGETS=off turns them off for a process.
    budgets: bool = True
    # A batch holding at least this many alerts for one channel sends its low-severity tickets as one
    # digest message there instead of one alert each (0: never). Slack takes one post a second per channel.
    digest_threshold: int = Field(default=0, ge=0, le=100_000)
    digest_severities: tuple[str, ...] = ("P3",)

    @field_validator("digest_severities")
    @classmethod
    def _known_severities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in SEVERITIES]
        if unknown:
            raise ValueError(f"names unknown severities {', '.join(unknown)} (known: {', '.join(SEVERITIES)})")
        return value


class ServerSettings(Strict):
    """`frontline serve`: where it listens and what it accepts."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_000_000, ge=1_000, le=50_000_000)
    # Polling keeps running next to the webhooks as the safety net for a missed delivery.
    poll: bool = True
    # Signed webhooks (Zendesk, Slack) older or newer than this are refused: replay protection.
    timestamp_tolerance_seconds: int = Field(default=300, ge=10, le=3600)


class Settings(Strict):
    """All of frontline's configuration, validated."""

    categories: dict[str, Category] = Field(default_factory=default_categories)
    severities: dict[str, Severity] = Field(default_factory=default_severities)
    routing: Routing = Field(default_factory=Routing)
    writeback: WriteBackSettings = Field(default_factory=WriteBackSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    connectors: Connectors = Field(default_factory=Connectors)
    local: LocalSettings = Field(default_factory=LocalSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    zendesk: ZendeskSettings = Field(default_factory=ZendeskSettings)
    notion: NotionSettings = Field(default_factory=NotionSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    intercom: IntercomSettings = Field(default_factory=IntercomSettings)
    linear: LinearSettings = Field(default_factory=LinearSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    credentials: CredentialsSettings = Field(default_factory=CredentialsSettings)
    scalekit: ScalekitSettings = Field(default_factory=ScalekitSettings)
    # Several teams in one file: each [teams.NAME] overrides keys of the top-level sections.
    teams: dict[str, dict[str, Any]] = Field(default_factory=dict)
    templates_dir: str | None = None
    database_url: str | None = Field(default=None, repr=False)  # may hold a password: never in a repr
    team: str = Field(default="default", exclude=True)
    source: str = Field(default="built-in defaults", exclude=True)
    env: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)
    _teams: dict[str, Settings] = PrivateAttr(default_factory=dict)

    @field_validator("categories")
    @classmethod
    def _categories_named(cls, value: dict[str, Category]) -> dict[str, Category]:
        if not value:
            raise ValueError("needs at least one category")
        for name in value:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"category name {name!r} may hold only letters, digits, _ and -")
        return value

    @field_validator("severities", mode="before")
    @classmethod
    def _severities_merged(cls, value: Any) -> Any:
        # severities are fixed levels: a file that tunes one level keeps the others' defaults
        if isinstance(value, dict):
            defaults = {name: level.model_dump() for name, level in default_severities().items()}
            for name, level in value.items():
                if name in defaults and isinstance(level, dict):
                    defaults[name] = {**defaults[name], **level}
                else:
                    defaults[name] = level
            return defaults
        return value

    @field_validator("severities")
    @classmethod
    def _severities_complete(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        if set(value) != set(SEVERITIES):
            raise ValueError(f"must define exactly {', '.join(SEVERITIES)}")
        return value

    @model_validator(mode="after")
    def _references_known(self) -> Settings:
        known = set(self.categories)
        for name in self.routing.channels:
            if name not in known:
                raise ValueError(
                    f"routing.channels names unknown category {name!r} (known: {', '.join(sorted(known))})"
                )
        for name in self.routing.kb_categories:
            if name not in known:
                raise ValueError(
                    f"routing.kb_categories names unknown category {name!r} (known: {', '.join(sorted(known))})"
                )
        return self

    # -- derived paths -------------------------------------------------------------------------
    @property
    def workspace(self) -> Path:
        """The folder holding the embedded default's files."""
        return Path(self.local.workspace)

    def path(self, relative: str) -> Path:
        """A path inside the workspace unless it is absolute."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.workspace / candidate

    @property
    def state_url(self) -> str:
        """SQLAlchemy URL of the state store."""
        return self.database_url or f"sqlite:///{self.path('frontline.db')}"

    @property
    def model_file(self) -> Path:
        """Where the trained model is read from."""
        return self.path(self.classifier.model_path)

    def channel_for(self, category: str) -> str:
        """The chat channel a category is routed to."""
        return self.routing.channels.get(category, self.routing.fallback)

    def priority_for(self, severity: str) -> str:
        """The helpdesk priority a severity maps to."""
        return self.severities[severity].priority

    def secret(self, name: str) -> str | None:
        """An environment secret (the environment at load time, then .env), masked in output from now on."""
        value = self.env.get(name) or None
        if name not in NOT_SECRET:
            scrub.remember(value)
        return value

    # -- teams -----------------------------------------------------------------------------------
    @property
    def team_names(self) -> list[str]:
        """The teams this file defines (``["default"]`` when it defines none)."""
        return list(self._teams) or ["default"]

    def for_team(self, name: str) -> Settings:
        """This team's settings: the top-level sections with the team's keys over them."""
        if name == self.team and not self._teams:
            return self
        try:
            return self._teams[name]
        except KeyError:
            known = ", ".join(self.team_names)
            raise ConfigError(self.source, "--team", f"names unknown team {name!r} (known: {known})") from None


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
    "ZENDESK_SUBDOMAIN": ("zendesk", "subdomain"),
    "ZENDESK_BASE_URL": ("zendesk", "base_url"),
    "NOTION_DB_ID": ("notion", "database_id"),
    "NOTION_BASE_URL": ("notion", "base_url"),
    "SLACK_BASE_URL": ("slack", "base_url"),
    "SCALEKIT_ENV_URL": ("scalekit", "environment_url"),
    "FRONTLINE_CONVERSATIONS": ("connectors", "conversations"),
    "INTERCOM_BASE_URL": ("intercom", "base_url"),
    "LINEAR_BASE_URL": ("linear", "base_url"),
    "LINEAR_TEAM_ID": ("linear", "team_id"),
}
# Settings naming a place on disk. A relative value written in a file means "beside that file", not
# wherever the command happens to be run from; the workspace's own files (kb_dir, outbox, the model
# paths) stay relative to the workspace, which is anchored here. Environment values and flags keep
# the shell's meaning (the current directory), and so do the built-in defaults.
FILE_PATHS: tuple[tuple[str, ...], ...] = (("templates_dir",), ("local", "workspace"))
SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?:///)(?P<path>[^/].*)$")
# Every variable frontline reads a credential from. Their values are masked in everything printed or
# logged (frontline.scrub), whatever their shape; so is any other value read through Settings.secret()
# (the variable named by [llm] api_key_env, say), except the identifiers below, which are not secrets.
SECRET_VARIABLES = (
    "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "ZENDESK_WEBHOOK_SECRET", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
    "NOTION_TOKEN", "INTERCOM_ACCESS_TOKEN", "INTERCOM_CLIENT_SECRET", "LINEAR_API_KEY", "LINEAR_OAUTH_TOKEN",
    "OPENROUTER_API_KEY", "FRONTLINE_LLM_API_KEY", "FRONTLINE_API_KEY", "SCALEKIT_CLIENT_SECRET",
)
NOT_SECRET = frozenset({"ZENDESK_EMAIL", "SCALEKIT_CLIENT_ID"})
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


def _describe(error: ValidationError, source: str, prefix: str = "") -> ConfigError:
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
    for part in loc:
        if skip_name:
            skip_name = False  # a free name in a dict[str, Model], e.g. a category name
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
        return sorted(name for name, info in model.model_fields.items() if not info.exclude)
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
        raise _describe(exc, source) from None

    for name, target in ENV_OVERRIDES.items():
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
        raise _describe(exc, "environment or command line") from None
    _remember_secrets(settings)
    return _with_teams(settings, tree, "environment or command line", overrides)


def _remember_secrets(settings: Settings) -> None:
    """Mask every configured secret's value from now on, before anything can echo it."""
    for name in (*SECRET_VARIABLES, settings.llm.api_key_env):
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
            raise _describe(exc, source, prefix=f"teams.{name}.") from None
        settings._teams[name] = team
    return settings
