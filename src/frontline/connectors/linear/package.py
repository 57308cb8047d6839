"""Linear as a connector package: its settings section, the variables its credential is read from,
and its documented rate limits (registered under the ``frontline.connectors`` entry points).

The adapters import it from here, not from the package's ``__init__``, which imports them on first use.
"""

from __future__ import annotations

from frontline.connectors.linear.limits import linear_rules
from frontline.connectors.linear.settings import LinearSettings
from frontline.connectors.package import ConnectorPackage, SecretLookup
from frontline.credentials import Credential


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
