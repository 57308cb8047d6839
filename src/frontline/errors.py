"""One exception tree for frontline.

Errors carry data; the CLI and HTTP edges turn them into text and exit codes.
Every ``str(error)`` is one sentence saying what failed, for which thing, and
what to do next.

    FrontlineError
    ├── ConfigError                 bad frontline.toml / environment value
    │   └── DatabaseURLError        the state store's URL is not one frontline can open
    ├── WorkspaceError              a folder or file for frontline's data cannot be made or opened
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
        ├── DatabaseLockedError     another process held a database's lock past the busy timeout
        └── UnstorableError         a value the store cannot hold (lone surrogate, NUL, too long)
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


DATABASE_SETTING = "FRONTLINE_DATABASE_URL (or `database_url` in frontline.toml)"
DATABASE_FORMS = ("sqlite:///PATH/TO/frontline.db or postgresql://USER@HOST:5432/DATABASE, or unset it to "
                  "keep the state in the workspace")


class DatabaseURLError(ConfigError):
    """The state store's URL is not a URL, or names a database frontline does not support.

    ``scheme`` is the URL's scheme (``mysql``, ``mssql+pyodbc``), or None when the value is not a
    URL at all; the value itself is never shown, since a mistyped one may hold a password.
    """

    def __init__(self, scheme: str | None) -> None:
        self.scheme = scheme
        if scheme is None:
            problem = "is not a database URL"
        else:
            problem = (f"names a {scheme}:// database, but frontline's state store supports SQLite and PostgreSQL "
                       "only")
        self.source, self.key, self.problem = DATABASE_SETTING, "database_url", problem
        FrontlineError.__init__(self, f"{DATABASE_SETTING} {problem}; set it to {DATABASE_FORMS}.")


class WorkspaceError(FrontlineError):
    """A folder or file frontline keeps its data in cannot be created or opened.

    ``reason`` is one of ``not_a_folder`` (``blocker`` is the file in the way), ``broken_link``
    (``blocker`` points at nothing), ``a_folder`` (a folder where a file should be), ``permission``,
    ``disk_full`` (no space left for it, or the user's quota is used up), or the operating system's
    (or SQLite's) own words.
    """

    exit_code = 2
    SETTING = "FRONTLINE_WORKSPACE (or `workspace` under [local] in frontline.toml)"

    def __init__(self, path: str, reason: str, *, blocker: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.blocker = blocker
        if reason == "not_a_folder":
            problem, fix = f"{blocker} is a file, not a folder", "move that file away"
        elif reason == "broken_link":
            problem, fix = f"{blocker} is a symbolic link to nothing", "fix or remove that link"
        elif reason == "a_folder":
            problem, fix = "it is a folder, not a file", "move that folder away"
        elif reason == "permission":
            problem, fix = "permission denied", "give this user read and write access to it"
        elif reason == "disk_full":
            super().__init__(f"Cannot write {path}: the disk is full (or this user's quota is used up); free some "
                             f"space on it and run again, or point {self.SETTING} at a folder on another disk.")
            return
        else:
            problem, fix = reason, "move it away"
        super().__init__(f"Cannot create or open {path}: {problem}; {fix}, or point {self.SETTING} at a folder "
                         "this user can write to.")


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


class DatabaseLockedError(StateError):
    """Another process held ``database``'s write lock longer than frontline waits for it (``seconds``, when known).

    ``database`` is the SQLite file, or a PostgreSQL database's host and name (never its password).
    """

    def __init__(self, database: str, seconds: float | None) -> None:
        self.database = database
        self.seconds = seconds
        waited = f" for more than {seconds:g} s" if seconds is not None else ""
        # Only SQLite's wait is frontline's to set; PostgreSQL's is its lock_timeout.
        longer = (f", or set FRONTLINE_BUSY_TIMEOUT to more seconds than {seconds:g} to wait longer"
                  if seconds is not None else "")
        super().__init__(f"The database {database} stayed locked by another process{waited}; let the other "
                         f"frontline command (run, poll, worker, serve or import) finish, or stop it, then run this "
                         f"again{longer}.")


class UnstorableError(StateError):
    """A value the state store cannot hold as it is: ``field`` names it, ``problem`` says why."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"The inbox cannot record this delivery: its {field} {problem}.")


def describe(error: BaseException) -> str:
    """One line about ``error`` for a summary, a note or the inbox: ours as written, anything else with its type."""
    return str(error) if isinstance(error, FrontlineError) else f"{type(error).__name__}: {error}"
