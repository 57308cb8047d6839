"""The default credential provider: tokens from environment variables (or the .env file).

Each connector package says which variables its credential is read from and how
(:meth:`~frontline.connectors.package.ConnectorPackage.credential`), so this provider names no vendor.
It lives among the connectors, not in :mod:`frontline.credentials`, because it asks their registry:
the credential types stay free of it, and the packages that build credentials can import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontline.connectors.registry import package
from frontline.credentials import Credential
from frontline.errors import AuthError

if TYPE_CHECKING:
    from frontline.config import Settings


class EnvCredentials:
    """Tokens from environment variables (or the .env file), as each connector package reads them."""

    name = "env"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> EnvCredentials:
        """The provider for these settings (the entry point's constructor)."""
        return cls(settings)

    async def get(self, connector: str, *, refresh: bool = False) -> Credential:
        """The connector's token from the environment; refreshing is not possible, so the same token."""
        found = package(connector)
        if found is None:
            raise AuthError(connector, "no credentials are known for this connector")
        return found.credential(self._settings.secret)
