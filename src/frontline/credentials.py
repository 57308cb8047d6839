"""Where connector tokens come from: the environment (default) or Scalekit (optional extra).

Adapters ask for a :class:`Credential` by connector name and turn it into headers; they cannot
tell which provider supplied it. A provider may refresh a token when asked (after a 401).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from frontline import scrub
from frontline.errors import AuthError

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


# Each connector's environment variables, in order of preference.
ENV_TOKENS: Mapping[str, tuple[str, ...]] = {
    "slack": ("SLACK_BOT_TOKEN",),
    "notion": ("NOTION_TOKEN",),
    "intercom": ("INTERCOM_ACCESS_TOKEN",),
    "linear": ("LINEAR_API_KEY", "LINEAR_OAUTH_TOKEN"),
}


class EnvCredentials:
    """Tokens from environment variables (or the .env file)."""

    name = "env"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def get(self, connector: str, *, refresh: bool = False) -> Credential:
        """The connector's token from the environment; refreshing is not possible, so the same token."""
        secret = self._settings.secret
        if connector == "zendesk":
            oauth = secret("ZENDESK_OAUTH_TOKEN")
            if oauth:
                return Credential(oauth)
            email, token = secret("ZENDESK_EMAIL"), secret("ZENDESK_API_TOKEN")
            if email and token:
                return Credential(token, "basic", user=f"{email}/token")
            raise AuthError("Zendesk", "no credentials", hint="Set ZENDESK_EMAIL and ZENDESK_API_TOKEN "
                            "(Admin Center → Apps and integrations → Zendesk API), or ZENDESK_OAUTH_TOKEN")
        names = ENV_TOKENS.get(connector)
        if names is None:
            raise AuthError(connector, "no credentials are known for this connector")
        for name in names:
            value = secret(name)
            if value:
                if connector == "linear":
                    # Personal API keys go bare in Authorization; OAuth tokens as Bearer.
                    return Credential(value, "raw" if name == "LINEAR_API_KEY" else "bearer")
                return Credential(value)
        raise AuthError(connector.capitalize(), "no token", hint=f"Set {' or '.join(names)}")


def open_credentials(settings: Settings) -> Credentials:
    """The configured provider: ``env`` (default) or ``scalekit``.

    Whoever opens credentials is about to use them: from then on every log record is scrubbed
    (:func:`frontline.scrub.install`), so a library echoing a request cannot log one.
    """
    scrub.install()
    if settings.credentials.provider == "scalekit":
        from frontline.connectors.scalekit import ScalekitCredentials

        return ScalekitCredentials.from_settings(settings)
    return EnvCredentials(settings)
