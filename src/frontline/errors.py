"""One exception tree for frontline.

Errors carry data; the CLI and HTTP edges turn them into text and exit codes.
Every ``str(error)`` is one sentence saying what failed, for which thing, and
what to do next.

    FrontlineError
    ├── ConfigError                 bad frontline.toml / environment value
    ├── DataFileError               unreadable or malformed input file
    ├── TrainingDataError           labelled data unusable for training
    ├── ModelError
    │   ├── ModelNotFoundError      no model file at the configured path
    │   └── ModelFormatError        corrupt or incompatible model file
    ├── ConnectorError              a vendor or embedded connector failed
    │   ├── AuthError               401/403: token missing, revoked or lacking scope
    │   ├── NotFoundError           404: wrong subdomain, id or base URL
    │   ├── RateLimitedError        429 with retry_after
    │   ├── ChannelRefusedError     chat refused the channel (bot not in it, unknown)
    │   └── UnavailableError        timeouts, 5xx, connection refused
    ├── LLMError                    LLM unreachable or answering invalid output
    ├── ExtraMissingError           an optional extra is not installed
    └── StateError                  state store problem (unknown item, migration)
"""

from __future__ import annotations

from frontline import scrub


class FrontlineError(Exception):
    """Base of every error frontline raises on purpose.

    Its text never carries a credential: a URL's password, an ``?api-key=`` or a token-shaped string
    in it is masked (:mod:`frontline.scrub`), since errors end up in logs, notes, alerts and the store.
    """

    exit_code = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub.text(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(FrontlineError):
    """A configuration file or environment value is invalid."""

    exit_code = 2

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: `{key}` {problem}")


class DataFileError(FrontlineError):
    """An input file cannot be read or has the wrong shape."""

    exit_code = 2

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Cannot use {path}: {reason}")


class TrainingDataError(FrontlineError):
    """Labelled data is unusable for training."""

    exit_code = 2

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Cannot train a model: {reason}")


class ModelError(FrontlineError):
    """A trained model cannot be used."""


class ModelNotFoundError(ModelError):
    """No model file exists at the configured path."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"No trained model at {path}. Train one with `frontline train --data FILE.csv "
            "--text-column COL --label-column COL --out PATH`, or set classifier.kind = \"rules\"."
        )


class ModelFormatError(ModelError):
    """A model file is corrupt or was written by an incompatible version."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"The model file {path} cannot be loaded ({reason}). Retrain it with `frontline train`.")


class ConnectorError(FrontlineError):
    """A connector (vendor API or embedded store) failed."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
    ) -> None:
        self.service = service
        self.status = status
        self.message = scrub.text(message)
        self.hint = scrub.text(hint)
        text = f"{service}: {message}" + (f" ({status})" if status else "")
        super().__init__(text + (f". {hint}" if hint else ""))


class AuthError(ConnectorError):
    """The service rejected the credentials."""


class NotFoundError(ConnectorError):
    """The service answered 404 for the resource or base URL."""


class RateLimitedError(ConnectorError):
    """The service answered 429; ``retry_after`` says when to try again."""

    def __init__(self, service: str, retry_after: float, message: str = "rate limited") -> None:
        self.retry_after = retry_after
        super().__init__(service, message, status=429, hint=f"Retry after {retry_after:g}s")


class ChannelRefusedError(ConnectorError):
    """The chat service refused to post in a channel."""

    def __init__(self, service: str, channel: str, reason: str, *, hint: str = "") -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(service, f"refused to post in {channel} ({reason})",
                         hint=hint or f"Invite the bot to {channel} or fix the channel map")


class UnavailableError(ConnectorError):
    """The service timed out, answered 5xx, or could not be reached."""


class LLMError(FrontlineError):
    """The LLM endpoint was unreachable or its answer was invalid."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = scrub.url(endpoint)
        self.reason = scrub.text(reason)
        super().__init__(f"LLM at {endpoint} failed: {reason}")


class ExtraMissingError(FrontlineError):
    """An optional dependency group is not installed."""

    exit_code = 2

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"This feature needs the `{extra}` extra ({module} is not installed). "
            f"Install it with `pip install 'frontline[{extra}]'`."
        )


class StateError(FrontlineError):
    """The state store cannot do what was asked."""
