"""Zendesk as a connector package: its settings section, the variables its credential is read from,
and its documented rate limits (registered under the ``frontline.connectors`` entry points).

The adapters import it from here, not from the package's ``__init__``, which imports them on first use.
"""

from __future__ import annotations

from frontline.connectors.package import ConnectorPackage, SecretLookup
from frontline.connectors.zendesk.limits import zendesk_rules
from frontline.connectors.zendesk.settings import ZendeskSettings
from frontline.credentials import Credential
from frontline.errors import AuthError


def _credential(secret: SecretLookup) -> Credential:
    """An OAuth token, else the e-mail and API token as HTTP Basic (``EMAIL/token``)."""
    oauth = secret("ZENDESK_OAUTH_TOKEN")
    if oauth:
        return Credential(oauth)
    email, token = secret("ZENDESK_EMAIL"), secret("ZENDESK_API_TOKEN")
    if email and token:
        return Credential(token, "basic", user=f"{email}/token")
    raise AuthError("Zendesk", "no credentials", hint="Set ZENDESK_EMAIL and ZENDESK_API_TOKEN "
                    "(Admin Center → Apps and integrations → Zendesk API), or ZENDESK_OAUTH_TOKEN")


ZENDESK = ConnectorPackage(
    name="zendesk", service="Zendesk", settings_model=ZendeskSettings,
    key_env_vars=("ZENDESK_OAUTH_TOKEN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    secret_env_vars=("ZENDESK_WEBHOOK_SECRET",), public_env_vars=frozenset({"ZENDESK_EMAIL"}),
    env_settings={"ZENDESK_SUBDOMAIN": "subdomain", "ZENDESK_BASE_URL": "base_url"},
    rules=zendesk_rules, credential_from=_credential, base_url_key="api_root",
)
"""Zendesk's settings section, credential and rate limits (entry point ``frontline.connectors``)."""
