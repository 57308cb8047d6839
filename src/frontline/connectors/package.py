"""What a connector package declares besides its adapters: settings, key variables, limits, credential.

A connector package (built in, such as ``frontline.connectors.zendesk``, or a third party's)
registers one :class:`ConnectorPackage` under the entry-point group ``frontline.connectors``, named
like its adapters' entry points (``zendesk``)::

    [project.entry-points."frontline.connectors"]
    acme = "acme_helpdesk.package:ACME"

    [project.entry-points."frontline.helpdesks"]
    acme = "acme_helpdesk.helpdesk:AcmeHelpdesk"

Central code asks the package instead of naming vendors: the settings accept its section
(``[acme]``, validated with its model: an unknown key there is refused like anywhere else), its
``env_settings`` override keys of that section, its ``key_env_vars`` give the environment
credential and are masked in everything printed, ``frontline doctor`` names them when they are
missing, and its ``rules`` put its documented rate limits in the process's budget book.

The entry point must stay cheap to load: settings are validated on every command, so the module
holding the package should import the settings model and the limits, not the adapter and its SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from frontline.credentials import Credential
from frontline.errors import AuthError

if TYPE_CHECKING:
    from frontline.config import Settings
    from frontline.runtime.budgets import BudgetBook, RequestBudget, Rule

SecretLookup = Callable[[str], "str | None"]
"""How a package reads a variable: ``Settings.secret`` (the environment, then .env; the value masked)."""
CredentialReader = Callable[[SecretLookup], "Credential | None"]
RulesFor = Callable[[Any, str], "Sequence[Rule]"]


@dataclass(frozen=True)
class ConnectorPackage:
    """One connector package's declarations (see the module docstring).

    ``name`` is the settings section, the credential's name and the budget's prefix; ``service``
    is how messages name the vendor. ``credential_from`` reads the environment credential when it
    is more than "the first of ``key_env_vars`` that is set, as a Bearer token".
    """

    name: str
    service: str
    settings_model: type[BaseModel] | None = None
    # The variables a credential is read from, in order of preference.
    key_env_vars: tuple[str, ...] = ()
    # Other secrets the package's code reads (webhook signing secrets): masked like the keys.
    secret_env_vars: tuple[str, ...] = ()
    # Variables among those above that are identifiers, not secrets (an account's e-mail): not masked.
    public_env_vars: frozenset[str] = frozenset()
    # Variable → key of this package's section it sets (between the file and the command line).
    env_settings: Mapping[str, str] = field(default_factory=dict)
    rules: RulesFor | None = None
    credential_from: CredentialReader | None = None
    # What to do when no credential is found; default: "Set KEY_ENV_VAR or …".
    key_hint: str = ""
    # The settings key holding the API's base URL, whose host the budget watches.
    base_url_key: str = "base_url"

    @property
    def settings_section(self) -> str | None:
        """The ``frontline.toml`` section this package declares (its name), None without a settings model."""
        return self.name if self.settings_model is not None else None

    def options(self, settings: Settings) -> Any:
        """This package's section of ``settings`` (its settings model's defaults when absent)."""
        return settings.section(self.name)

    def credential(self, secret: SecretLookup) -> Credential:
        """The environment credential, or AuthError naming the variables to set."""
        found = self.credential_from(secret) if self.credential_from is not None else self._first_key(secret)
        if found is None:
            hint = self.key_hint or (f"Set {' or '.join(self.key_env_vars)}" if self.key_env_vars else "")
            reason = "no token" if self.key_env_vars else "no credentials are known for this connector"
            raise AuthError(self.service, reason, hint=hint)
        return found

    def _first_key(self, secret: SecretLookup) -> Credential | None:
        for name in self.key_env_vars:
            value = secret(name)
            if value:
                return Credential(value)
        return None

    def budget_host(self, options: Any) -> str:
        """The host the rate limits watch: the one in the section's base URL."""
        url = str(getattr(options, self.base_url_key, "") or "")
        return httpx.URL(url or f"https://{self.name}.invalid").host

    def budget_rules(self, options: Any, host: str) -> Sequence[Rule]:
        """The documented limits of the account ``options`` describes, narrowest first."""
        return self.rules(options, host) if self.rules is not None else ()

    def budget(self, book: BudgetBook, options: Any) -> RequestBudget:
        """This package's budget in ``book`` for the account ``options`` (its section) describes."""
        return book.for_connector(self, options)

    @property
    def masked_env_vars(self) -> tuple[str, ...]:
        """Every variable whose value is a secret: masked in output from the moment settings load."""
        return tuple(name for name in (*self.key_env_vars, *self.secret_env_vars) if name not in self.public_env_vars)
