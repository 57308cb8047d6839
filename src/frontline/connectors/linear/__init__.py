"""Linear as frontline's tracker: one issue per escalation (``tracker``), GraphQL calls and
errors (``api``), the documents sent (``documents``).

Importing this package stays cheap (its settings and limits are read whenever settings are
validated); the adapter and its SDK load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontline.connectors.linear.limits import linear_rules
from frontline.connectors.linear.settings import LinearSettings
from frontline.connectors.package import ConnectorPackage, SecretLookup
from frontline.credentials import Credential

if TYPE_CHECKING:
    from frontline.connectors.linear.tracker import LinearTracker

__all__ = ["LINEAR", "LinearTracker"]


def __getattr__(name: str) -> Any:
    """``LinearTracker``, imported on first use."""
    if name == "LinearTracker":
        from frontline.connectors.linear.tracker import LinearTracker

        return LinearTracker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _credential(secret: SecretLookup) -> Credential | None:
    """A personal API key goes bare in ``Authorization``; an OAuth token as Bearer."""
    key = secret("LINEAR_API_KEY")
    if key:
        return Credential(key, "raw")
    token = secret("LINEAR_OAUTH_TOKEN")
    return Credential(token) if token else None


LINEAR = ConnectorPackage(
    name="linear", service="Linear", settings_model=LinearSettings,
    key_env_vars=("LINEAR_API_KEY", "LINEAR_OAUTH_TOKEN"),
    env_settings={"LINEAR_BASE_URL": "base_url", "LINEAR_TEAM_ID": "team_id"},
    rules=linear_rules, credential_from=_credential,
)
"""Linear's settings section, credential and rate limits (entry point ``frontline.connectors``)."""
