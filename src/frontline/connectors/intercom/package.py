"""Intercom as a connector package: its settings section, the variables its credential is read from,
and its documented rate limits (registered under the ``frontline.connectors`` entry points).

The adapters import it from here, not from the package's ``__init__``, which imports them on first use.
"""

from __future__ import annotations

from frontline.connectors.intercom.limits import intercom_rules
from frontline.connectors.intercom.settings import IntercomSettings
from frontline.connectors.package import ConnectorPackage

INTERCOM = ConnectorPackage(
    name="intercom", service="Intercom", settings_model=IntercomSettings,
    key_env_vars=("INTERCOM_ACCESS_TOKEN",), secret_env_vars=("INTERCOM_CLIENT_SECRET",),
    env_settings={"INTERCOM_BASE_URL": "base_url"}, rules=intercom_rules,
)
"""Intercom's settings section, credential and rate limit (entry point ``frontline.connectors``)."""
