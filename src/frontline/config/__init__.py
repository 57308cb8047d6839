"""Settings: built-in defaults < frontline.toml < environment (.env) < command-line flags.

The models are in :mod:`frontline.config.settings` (frontline's own sections; each connector
package brings its own, found by entry point), loading in :mod:`frontline.config.loading`.
"""

from __future__ import annotations

from frontline.config.loading import (
    ENV_OVERRIDES,
    FILE_PATHS,
    SECRET_VARIABLES,
    describe,
    env_overrides,
    load_settings,
    secret_variables,
)
from frontline.config.settings import (
    SEVERITIES,
    ClassifierSettings,
    Connectors,
    CredentialsSettings,
    LLMSettings,
    LocalSettings,
    Routing,
    RunnerSettings,
    ServerSettings,
    Settings,
    Thresholds,
    WriteBackSettings,
)

__all__ = [
    "ENV_OVERRIDES", "FILE_PATHS", "SECRET_VARIABLES", "SEVERITIES", "ClassifierSettings", "Connectors",
    "CredentialsSettings", "LLMSettings", "LocalSettings", "Routing", "RunnerSettings", "ServerSettings", "Settings",
    "Thresholds", "WriteBackSettings", "describe", "env_overrides", "load_settings", "secret_variables",
]
