"""Settings: built-in defaults < frontline.toml < environment (.env) < command-line flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from frontline.errors import ConfigError

SEVERITIES = ("P0", "P1", "P2", "P3")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """One triage category: what it means and the words that suggest it."""

    description: str = ""
    keywords: tuple[str, ...] = ()
    default_severity: Literal["P0", "P1", "P2", "P3"] = "P2"
    reply: str = ""


class Severity(_Strict):
    """One severity level and the helpdesk priority it maps to."""

    priority: Literal["urgent", "high", "normal", "low"]
    description: str = ""
    keywords: tuple[str, ...] = ()


def _default_categories() -> dict[str, Category]:
    return {
        "bug": Category(
            description="Something in the product is broken, erroring or behaving wrongly.",
            keywords=(
                "error", "bug", "crash", "crashes", "crashing", "broken", "not working",
                "doesn't work", "does not work", "fails", "failing", "failed to load", "500",
                "exception", "glitch", "blank page", "stuck", "freezes", "sync issue",
            ),
            default_severity="P2",
            reply=(
                "Thanks for reporting this. We're looking into it and will update you as soon as we "
                "know more. In the meantime, the articles below may help work around it."
            ),
        ),
        "billing": Category(
            description="Invoices, charges, refunds, payment methods, plans and pricing.",
            keywords=(
                "invoice", "invoices", "charge", "charged", "refund", "billing", "payment",
                "credit card", "receipt", "subscription", "pricing", "overcharged", "vat",
                "proration", "downgrade", "upgrade",
            ),
            default_severity="P2",
            reply=(
                "Thanks for getting in touch about billing. Our billing team will review your "
                "account and follow up shortly."
            ),
        ),
        "how_to": Category(
            description="Questions on how to use a feature or configure the product.",
            keywords=(
                "how do i", "how to", "how can i", "where can i", "is it possible", "can i",
                "where do i", "set up", "configure", "instructions", "tutorial",
            ),
            default_severity="P3",
            reply="Good question! The articles below walk through it step by step.",
        ),
        "account_issue": Category(
            description="Login, password, 2FA, SSO, users, permissions, account ownership.",
            keywords=(
                "password", "login", "log in", "locked out", "2fa", "two-factor", "sso",
                "sign in", "reset", "account", "permissions", "invite", "owner", "verification",
            ),
            default_severity="P2",
            reply="Thanks for reaching out about your account. The steps below usually resolve this.",
        ),
        "feature_request": Category(
            description="Ideas and requests for new functionality.",
            keywords=(
                "feature request", "would be great", "would be nice", "please add", "suggestion",
                "wish", "could you add", "roadmap", "it would help", "support for",
            ),
            default_severity="P3",
            reply=(
                "Thanks for the suggestion! We've shared it with our product team, who review "
                "requests like this every week."
            ),
        ),
    }


def _default_severities() -> dict[str, Severity]:
    return {
        "P0": Severity(
            priority="urgent",
            description="Outage, data loss or security issue; many users blocked.",
            keywords=(
                "outage", "production down", "site is down", "data loss", "lost all",
                "security breach", "everyone is locked out", "all users", "entire team",
                "nobody can", "down for everyone",
            ),
        ),
        "P1": Severity(
            priority="high",
            description="A key workflow broken for a user or team; a payment failed.",
            keywords=(
                "urgent", "asap", "blocked", "cannot log in", "can't log in", "locked out",
                "payment failed", "charged twice", "critical", "immediately",
            ),
        ),
        "P2": Severity(priority="normal", description="Normal issue with a workaround."),
        "P3": Severity(priority="low", description="Question or request, not time-sensitive."),
    }


class Routing(_Strict):
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


class WriteBackSettings(_Strict):
    """What is written back to the helpdesk."""

    tags: tuple[str, ...] = ("auto_category:{category}", "auto_severity:{severity}", "triaged_by_agent")
    review_tag: str = "frontline-review"
    custom_fields: dict[str, str] = Field(default_factory=dict)


class Thresholds(_Strict):
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


class ClassifierSettings(_Strict):
    """Which classifier decides, and where its model lives."""

    kind: Literal["cascade", "model", "rules", "llm"] = "cascade"
    model_path: str = "model.joblib"


class LLMSettings(_Strict):
    """An OpenAI-compatible chat endpoint (OpenRouter by default)."""

    base_url: str = "https://openrouter.ai/api/v1"
    model: str = "openai/gpt-4o-mini"
    timeout: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=5)
    api_key_env: str = "OPENROUTER_API_KEY"


class Connectors(_Strict):
    """Which adapter serves each port."""

    helpdesk: str = "local"
    kb: str = "local"
    chat: str = "outbox"


class LocalSettings(_Strict):
    """Paths of the embedded default, relative to the workspace."""

    workspace: str = ".frontline"
    kb_dir: str = "kb"
    outbox: str = "outbox.jsonl"
    echo: bool = True
    # Channels the outbox "bot" is a member of; others are refused like Slack's not_in_channel.
    channels: tuple[str, ...] | None = None


class RunnerSettings(_Strict):
    """How the flow runner paces itself."""

    concurrency: int = Field(default=8, ge=1, le=256)
    batch_size: int = Field(default=200, ge=1, le=5000)
    poll_interval_minutes: float = Field(default=5.0, gt=0)


class Settings(_Strict):
    """All of frontline's configuration, validated."""

    categories: dict[str, Category] = Field(default_factory=_default_categories)
    severities: dict[str, Severity] = Field(default_factory=_default_severities)
    routing: Routing = Field(default_factory=Routing)
    writeback: WriteBackSettings = Field(default_factory=WriteBackSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    connectors: Connectors = Field(default_factory=Connectors)
    local: LocalSettings = Field(default_factory=LocalSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    templates_dir: str | None = None
    database_url: str | None = None
    source: str = Field(default="built-in defaults", exclude=True)
    env: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

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
            defaults = {name: level.model_dump() for name, level in _default_severities().items()}
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
        """An environment secret (process environment first, then .env)."""
        return os.environ.get(name) or self.env.get(name) or None


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
}


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


def _describe(error: ValidationError, source: str) -> ConfigError:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
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
    elif explicit:
        raise ConfigError(str(candidate), "(file)", "does not exist; pass an existing --config file")

    try:
        Settings.model_validate(tree)
    except ValidationError as exc:
        raise _describe(exc, source) from None

    for name, target in ENV_OVERRIDES.items():
        if merged_env.get(name):
            _set(tree, target, merged_env[name])
    for target, value in (overrides or {}).items():
        if value is not None:
            _set(tree, target, value)
    tree["env"] = env_file
    tree["source"] = source
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        raise _describe(exc, "environment or command line") from None
