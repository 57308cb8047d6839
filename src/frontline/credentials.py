"""Where connector tokens come from: a provider found by entry point, the environment by default.

Built in: ``env`` (each connector package reads its own variables) and ``scalekit`` (optional
extra, :mod:`frontline.connectors.scalekit`).

Adapters ask for a :class:`Credential` by connector name and turn it into headers; they cannot
tell which provider supplied it. A provider may refresh a token when asked (after a 401).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Literal, Protocol

from frontline import scrub
from frontline.errors import ConfigError

if TYPE_CHECKING:
    from frontline.config import Settings


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret and how it is presented: ``Bearer``, HTTP Basic, or the raw value (Linear API keys)."""

    secret: str
    scheme: Literal["bearer", "basic", "raw"] = "bearer"
    user: str = ""
    source: str = "environment"

    def __post_init__(self) -> None:
        # A provider's token (Scalekit's, refreshed) is a secret too: masked in output from now on.
        scrub.remember(self.secret)

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header for this credential."""
        if self.scheme == "basic":
            pair = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode("ascii")
            return {"Authorization": f"Basic {pair}"}
        if self.scheme == "raw":
            return {"Authorization": self.secret}
        return {"Authorization": f"Bearer {self.secret}"}

    def __repr__(self) -> str:  # never print the secret
        return f"Credential(scheme={self.scheme!r}, user={self.user!r}, source={self.source!r})"


class Credentials(Protocol):
    """Supplies a connector's credential, fresh when asked."""

    name: str

    async def get(self, connector: str, *, refresh: bool = False) -> Credential:
        """The credential for ``connector`` (AuthError with a fix-it hint when there is none)."""
        ...


PROVIDERS = "frontline.credentials"
"""The entry-point group of credential providers: ``env`` and ``scalekit`` built in, others installable."""


def providers() -> dict[str, EntryPoint]:
    """The installed credential providers, by name."""
    return {entry.name: entry for entry in entry_points(group=PROVIDERS)}


def open_credentials(settings: Settings) -> Credentials:
    """The configured provider (``[credentials] provider``: ``env`` by default), found by entry point.

    Whoever opens credentials is about to use them: from then on every log record is scrubbed
    (:func:`frontline.scrub.install`), so a library echoing a request cannot log one.
    """
    scrub.install()
    name = settings.credentials.provider
    found = providers().get(name)
    if found is None:
        known = ", ".join(sorted(providers())) or "none installed"
        raise ConfigError(settings.source, "credentials.provider",
                          f"names unknown provider {name!r} (available: {known})")
    try:
        provider = found.load()
    except ImportError as exc:
        raise ConfigError(settings.source, "credentials.provider",
                          f"provider {name!r} cannot be loaded ({exc}); is its package installed?") from None
    opened: Credentials = provider.from_settings(settings)
    return opened
