"""Scalekit Agent Auth as the credentials provider (optional extra ``frontline[scalekit]``).

Each connector maps to a Scalekit connection name (``[scalekit] connections``) and every
connection is looked up for one connected-account identifier (``[scalekit] identifier``).
Scalekit keeps and refreshes the vendor tokens; frontline asks for the connected account,
checks it is ACTIVE, and hands the adapter the access token, so the flows cannot tell this
provider from environment tokens. An account that is not ACTIVE is reported with the
authorization link the user must open. Vendor tools Scalekit runs itself are reached through
:meth:`ScalekitCredentials.execute_tool`.

The SDK is synchronous (gRPC); its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from frontline.config.base import Strict, http_url
from frontline.connectors.package import ConnectorPackage
from frontline.credentials import Credential
from frontline.errors import AuthError, ConfigError, ConnectorError, ExtraMissingError

if TYPE_CHECKING:
    from frontline.config import Settings

SERVICE = "Scalekit"


class ScalekitSettings(Strict):
    """Scalekit Agent Auth: which connection serves each connector, for which user."""

    environment_url: str = ""
    # The connected-account identifier (a user or workspace id in your Scalekit environment).
    identifier: str = ""
    connections: dict[str, str] = Field(
        default_factory=lambda: {"zendesk": "zendesk", "notion": "notion", "slack": "slack",
                                 "intercom": "intercom", "linear": "linear"}
    )
    # Operations Scalekit runs as tools (execute_tool) instead of a direct API call with its token.
    tools: dict[Literal["slack.post_message"], str] = Field(default_factory=dict)

    @field_validator("environment_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)


SCALEKIT = ConnectorPackage(
    name="scalekit", service=SERVICE, settings_model=ScalekitSettings,
    secret_env_vars=("SCALEKIT_CLIENT_ID", "SCALEKIT_CLIENT_SECRET"), public_env_vars=frozenset({"SCALEKIT_CLIENT_ID"}),
    env_settings={"SCALEKIT_ENV_URL": "environment_url"},
)
"""Scalekit's settings section and API credentials (entry point ``frontline.connectors``); the provider
itself is :class:`ScalekitCredentials` (entry point ``frontline.credentials``)."""


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """What Scalekit says about one connector's connected account."""

    connector: str
    connection: str
    status: str
    link: str | None = None

    @property
    def active(self) -> bool:
        """True when the account can be used."""
        return self.status == "ACTIVE"


def _credential(connector: str, details: Mapping[str, Any]) -> Credential | None:
    """The token inside a connected account's authorization details."""
    oauth = details.get("oauth_token") or {}
    if oauth.get("access_token"):
        return Credential(str(oauth["access_token"]), source="scalekit")
    static = details.get("static_auth") or {}
    if connector == "zendesk":
        email = static.get("email") or static.get("username")
        token = static.get("api_token") or static.get("apiToken") or static.get("password")
        if email and token:
            return Credential(str(token), "basic", user=f"{email}/token", source="scalekit")
    key = static.get("api_key") or static.get("apiKey") or static.get("token") or static.get("access_token")
    if key:
        return Credential(str(key), "raw" if connector == "linear" else "bearer", source="scalekit")
    return None


class ScalekitCredentials:
    """Connector tokens from Scalekit connected accounts."""

    name = "scalekit"

    def __init__(self, client: Any, *, identifier: str, connections: Mapping[str, str]) -> None:
        self._client = client
        self.identifier = identifier
        self.connections = dict(connections)
        self._cache: dict[str, Credential] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, client: Any = None) -> ScalekitCredentials:
        """Build the SDK client from SCALEKIT_ENV_URL, SCALEKIT_CLIENT_ID and SCALEKIT_CLIENT_SECRET."""
        config: ScalekitSettings = settings.section("scalekit")
        if not config.identifier:
            raise ConfigError(settings.source, "scalekit.identifier",
                              "is required with credentials.provider = \"scalekit\": the connected-account "
                              "identifier (the user or workspace your connectors were authorized for)")
        if client is None:
            client_id, secret = settings.secret("SCALEKIT_CLIENT_ID"), settings.secret("SCALEKIT_CLIENT_SECRET")
            if not (config.environment_url and client_id and secret):
                raise ConfigError(settings.source, "scalekit.environment_url",
                                  "and the SCALEKIT_CLIENT_ID / SCALEKIT_CLIENT_SECRET variables are required "
                                  "with credentials.provider = \"scalekit\" (Scalekit dashboard → API credentials)")
            try:
                from scalekit import ScalekitClient
            except ModuleNotFoundError:
                raise ExtraMissingError("scalekit", "scalekit-sdk-python") from None
            client = ScalekitClient(config.environment_url, client_id, secret)
        return cls(client, identifier=config.identifier, connections=config.connections)

    def connection(self, connector: str) -> str:
        """The Scalekit connection name serving ``connector``."""
        try:
            return self.connections[connector]
        except KeyError:
            raise AuthError(SERVICE, f"no connection is configured for {connector}",
                            hint=f"Add {connector} = \"CONNECTION_NAME\" under [scalekit.connections]") from None

    async def _call(self, method: str, **kwargs: Any) -> Any:
        function = getattr(self._client.actions, method)
        try:
            return await asyncio.to_thread(function, **kwargs)
        except Exception as error:  # gRPC and SDK errors: keep the type and message, drop the trace
            status = getattr(error, "error_code", None) or type(error).__name__
            if "NotFound" in str(status) or "NOT_FOUND" in str(status) or "NotFound" in type(error).__name__:
                return None
            raise ConnectorError(SERVICE, f"{method} failed ({status}: {' '.join(str(error).split())[:160]})",
                                 hint="Check SCALEKIT_ENV_URL and the API credentials, then run `frontline doctor`"
                                 ) from None

    async def status(self, connector: str) -> AccountStatus:
        """The connected account's status, with an authorization link when it is not ACTIVE."""
        connection = self.connection(connector)
        response = await self._call("get_connected_account", connection_name=connection, identifier=self.identifier)
        account = getattr(response, "connected_account", None)
        state = str(getattr(account, "status", None) or "NOT_CONNECTED")
        link = None
        if state != "ACTIVE":
            magic = await self._call("get_authorization_link", connection_name=connection, identifier=self.identifier)
            link = getattr(magic, "link", None)
        return AccountStatus(connector, connection, state, link)

    async def get(self, connector: str, *, refresh: bool = False) -> Credential:
        """The connector's token from its ACTIVE connected account (fetched again when ``refresh``)."""
        async with self._lock:
            if not refresh and connector in self._cache:
                return self._cache[connector]
            connection = self.connection(connector)
            response = await self._call("get_connected_account", connection_name=connection,
                                        identifier=self.identifier)
            account = getattr(response, "connected_account", None)
            state = str(getattr(account, "status", None) or "NOT_CONNECTED")
            if account is None or state != "ACTIVE":
                status = await self.status(connector)
                where = f" Authorize it at {status.link}" if status.link else ""
                raise AuthError(SERVICE, f"the {connector} account for {self.identifier} is {state}",
                                hint=f"Connect {connection} in Scalekit.{where}")
            credential = _credential(connector, getattr(account, "authorization_details", None) or {})
            if credential is None:
                raise AuthError(SERVICE, f"the {connector} account for {self.identifier} holds no usable token",
                                hint=f"Reconnect {connection} in Scalekit")
            self._cache[connector] = credential
            return credential

    async def execute_tool(self, connector: str, tool: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run a Scalekit tool for ``connector``'s connected account; its output data."""
        response = await self._call("execute_tool", tool_input=dict(params), tool_name=tool,
                                    identifier=self.identifier, connection_name=self.connection(connector))
        if response is None:
            raise ConnectorError(SERVICE, f"tool {tool} or the {connector} account was not found",
                                 hint="Check the tool name and the connection in Scalekit")
        data = getattr(response, "data", None)
        return dict(data) if isinstance(data, Mapping) else {}
