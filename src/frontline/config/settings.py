"""The settings models: frontline's own sections, and the sections installed packages declare.

:class:`Settings` validates frontline's own sections with the models here and every other section
with the model of the connector package or flow that declares it (entry points
``frontline.connectors`` and ``frontline.settings``, :func:`frontline.config.sections.sections`);
a section nobody declares is refused like an unknown key. Loading (file, environment, flags, teams)
is in :mod:`frontline.config.loading`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from frontline import scrub
from frontline.config.base import Strict
from frontline.config.escalation import EscalationSettings
from frontline.config.sections import sections
from frontline.config.taxonomy import Category, Severity, default_categories, default_severities
from frontline.config.urgency import EscalationProtocolSettings, UrgencySettings
from frontline.connectors.registry import packages
from frontline.errors import ConfigError

if TYPE_CHECKING:
    from frontline.connectors.intercom.settings import IntercomSettings
    from frontline.connectors.linear.settings import LinearSettings
    from frontline.connectors.notion.settings import NotionSettings
    from frontline.connectors.scalekit import ScalekitSettings
    from frontline.connectors.slack.settings import SlackSettings
    from frontline.connectors.zendesk.settings import ZendeskSettings

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
    # A channel per language (ISO 639 code → channel): a ticket in that language goes there whatever
    # its category, and so does one sent to review (its reviewer must read it).
    languages: dict[str, str] = Field(default_factory=dict)
    detect_language: bool = True  # off: no language tag, no language routing, no detection cost

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not a lower-case ISO 639 language code (write de, fr, pt, …)")
        return value


class WriteBackSettings(Strict):
    """What is written back to the helpdesk."""

    tags: tuple[str, ...] = ("auto_category:{category}", "auto_severity:{severity}", "triaged_by_agent")
    review_tag: str = "frontline-review"
    language_tag: str = "lang:{language}"  # empty: no tag (a ticket whose language is unsure never gets one)
    custom_fields: dict[str, str] = Field(default_factory=dict)


class Thresholds(Strict):
    """Confidence and business-impact thresholds."""

    confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    abstain: float = Field(default=0.3, ge=0.0, le=1.0)
    # The trained model's probabilities are calibrated, unlike the keyword rules' scores, so they get a
    # threshold of their own: on CLINC150 0.7 sends 73% of out-of-scope queries to review (0.3: 49%)
    # and 5% of in-scope ones, and the accuracy of what is routed rises from 0.947 to 0.969
    # (bench/README.md, "Knowing what the model doesn't know").
    model_abstain: float = Field(default=0.7, ge=0.0, le=1.0)
    high_value_mrr: float = Field(default=500.0, ge=0.0)
    high_value_plans: tuple[str, ...] = ("enterprise", "business")

    @model_validator(mode="after")
    def _abstain_below_confidence(self) -> Thresholds:
        if self.abstain > self.confidence:
            raise ValueError("abstain must not be above confidence")
        return self


def _registered_classifier(name: str) -> str:
    """A classifier name some installed package registered (frontline's own included)."""
    from frontline.config.classifier_names import available, unregistered

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
    # The sentence encoder of KB search beside FTS5: auto (the bundled one when frontline[embeddings] is
    # installed), off (FTS5 only), or a model folder.
    kb_embeddings: str = "auto"
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


class CredentialsSettings(Strict):
    """Which provider supplies connector tokens (an entry point of ``frontline.credentials``)."""

    provider: str = "env"

    @field_validator("provider")
    @classmethod
    def _installed(cls, value: str) -> str:
        from frontline.credentials import providers

        known = providers()
        if value not in known:
            raise ValueError(f"names unknown provider {value!r} (available: {', '.join(sorted(known)) or 'none'})")
        return value


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
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    urgency: UrgencySettings = Field(default_factory=UrgencySettings)
    escalation_protocol: EscalationProtocolSettings = Field(default_factory=EscalationProtocolSettings)
    credentials: CredentialsSettings = Field(default_factory=CredentialsSettings)
    # Several teams in one file: each [teams.NAME] overrides keys of the top-level sections.
    teams: dict[str, dict[str, Any]] = Field(default_factory=dict)
    templates_dir: str | None = None
    database_url: str | None = Field(default=None, repr=False)  # may hold a password: never in a repr
    team: str = Field(default="default", exclude=True)
    source: str = Field(default="built-in defaults", exclude=True)
    env: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)
    _teams: dict[str, Settings] = PrivateAttr(default_factory=dict)
    # The sections installed packages declare ([zendesk], [acme], a flow's [example], …), each validated
    # with the model its package registered.
    _sections: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _connector_sections(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Validate each section a connector package or a flow declares with its model, the rest as usual.

        Errors from both are reported together, in one ValidationError whose locations start with
        the section's name, so a bad key in ``[acme]`` reads like one in ``[routing]``.
        """
        if not isinstance(data, dict):
            return handler(data)
        declared = {name: model for name, model in sections().items() if name not in cls.model_fields}
        errors: list[InitErrorDetails] = []
        settings: Settings | None = None
        try:
            settings = handler({key: value for key, value in data.items() if key not in declared})
        except ValidationError as exc:
            errors += _details(exc, ())
        values: dict[str, BaseModel] = {}
        for name, model in declared.items():
            raw = data.get(name, {})
            try:
                values[name] = raw if isinstance(raw, model) else model.model_validate(raw)
            except ValidationError as exc:
                errors += _details(exc, (name,))
        if errors or settings is None:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        settings._sections.update(values)
        return settings

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
        """An environment secret (the environment at load time, then .env), masked in output from now on.

        Identifiers a connector package declares public (an account's e-mail) are read the same way
        but not masked.
        """
        value = self.env.get(name) or None
        if not any(name in found.public_env_vars for found in packages().values()):
            scrub.remember(value)
        return value

    # -- installed packages' sections -------------------------------------------------------------
    def section(self, name: str) -> Any:
        """The settings section an installed connector package or flow declares (``"zendesk"``, ``"example"``)."""
        try:
            return self._sections[name]
        except KeyError:
            known = ", ".join(sorted(self._sections)) or "none"
            raise ConfigError(self.source, name, f"is not a section any installed connector package or flow "
                                                 f"declares (declared: {known})") from None

    @property
    def zendesk(self) -> ZendeskSettings:
        """The ``[zendesk]`` section."""
        return self.section("zendesk")  # type: ignore[no-any-return]

    @property
    def notion(self) -> NotionSettings:
        """The ``[notion]`` section."""
        return self.section("notion")  # type: ignore[no-any-return]

    @property
    def slack(self) -> SlackSettings:
        """The ``[slack]`` section."""
        return self.section("slack")  # type: ignore[no-any-return]

    @property
    def intercom(self) -> IntercomSettings:
        """The ``[intercom]`` section."""
        return self.section("intercom")  # type: ignore[no-any-return]

    @property
    def linear(self) -> LinearSettings:
        """The ``[linear]`` section."""
        return self.section("linear")  # type: ignore[no-any-return]

    @property
    def scalekit(self) -> ScalekitSettings:
        """The ``[scalekit]`` section."""
        return self.section("scalekit")  # type: ignore[no-any-return]

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


def _details(error: ValidationError, prefix: tuple[str | int, ...]) -> list[InitErrorDetails]:
    """``error``'s line errors with ``prefix`` in front of their locations, to be raised again together."""
    details: list[InitErrorDetails] = []
    for line in error.errors():
        detail: InitErrorDetails = {"type": line["type"], "loc": (*prefix, *line["loc"]), "input": line["input"]}
        if "ctx" in line:
            detail["ctx"] = line["ctx"]
        details.append(detail)
    return details
