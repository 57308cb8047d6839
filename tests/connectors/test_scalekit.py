"""Scalekit as the credentials provider: ACTIVE accounts give tokens, others an authorization link."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from frontline.config import load_settings
from frontline.connectors.environment import EnvCredentials
from frontline.connectors.scalekit import ScalekitCredentials
from frontline.credentials import open_credentials
from frontline.doctor import diagnose
from frontline.errors import AuthError, ConfigError
from tests.helpers import make_settings, run


class FakeActions:
    """The slice of ``ScalekitClient.actions`` frontline calls, with the SDK's signatures."""

    def __init__(self, accounts: dict[str, dict[str, Any]]) -> None:
        self.accounts = accounts
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_connected_account(self, connection_name: str | None = None, identifier: str | None = None,
                              connected_account_id: str | None = None, **_: Any) -> Any:
        self.calls.append(("get_connected_account", {"connection_name": connection_name, "identifier": identifier}))
        account = self.accounts.get(str(connection_name))
        if account is None:
            return SimpleNamespace(connected_account=None)
        return SimpleNamespace(connected_account=SimpleNamespace(
            status=account["status"], authorization_details=account.get("details"), identifier=identifier))

    def get_authorization_link(self, identifier: str | None = None, connection_name: str | None = None,
                               **_: Any) -> Any:
        self.calls.append(("get_authorization_link", {"connection_name": connection_name}))
        return SimpleNamespace(link=f"https://auth.example/{connection_name}/{identifier}")

    def execute_tool(self, tool_input: dict[str, Any], tool_name: str, identifier: str | None = None,
                     connection_name: str | None = None, **_: Any) -> Any:
        self.calls.append(("execute_tool", {"tool_name": tool_name, "tool_input": tool_input}))
        return SimpleNamespace(data={"ok": True, "ts": "1.2"}, execution_id="x1")


def provider(accounts: dict[str, dict[str, Any]]) -> tuple[ScalekitCredentials, FakeActions]:
    actions = FakeActions(accounts)
    client = SimpleNamespace(actions=actions)
    connections = {"zendesk": "zendesk-prod", "slack": "slack-1", "notion": "notion", "linear": "linear"}
    return ScalekitCredentials(client, identifier="ops@acme.example", connections=connections), actions


def test_the_sdk_signatures_match_what_frontline_calls() -> None:
    import inspect
    import warnings

    with warnings.catch_warnings():  # the SDK's models still use pydantic v1 idioms
        warnings.simplefilter("ignore", DeprecationWarning)
        from scalekit.actions.actions import ActionClient

    for name in ("get_connected_account", "get_authorization_link", "execute_tool"):
        real = inspect.signature(getattr(ActionClient, name)).parameters
        fake = inspect.signature(getattr(FakeActions, name)).parameters
        assert set(fake) - {"_"} <= set(real), name


def test_an_active_oauth_account_gives_a_bearer_token_and_is_cached() -> None:
    credentials, actions = provider({"slack-1": {"status": "ACTIVE",
                                                 "details": {"oauth_token": {"access_token": "xoxb-1"}}}})
    token = run(credentials.get("slack"))
    assert token.headers() == {"Authorization": "Bearer xoxb-1"} and token.source == "scalekit"
    run(credentials.get("slack"))
    assert [c for c, _ in actions.calls] == ["get_connected_account"]
    run(credentials.get("slack", refresh=True))
    assert len(actions.calls) == 2


def test_static_zendesk_and_linear_keys_are_presented_as_those_apis_expect() -> None:
    credentials, _ = provider({
        "zendesk-prod": {"status": "ACTIVE", "details": {"static_auth": {"email": "a@acme.example", "api_token": "t"}}},
        "linear": {"status": "ACTIVE", "details": {"static_auth": {"api_key": "lin_api_1"}}},
    })
    assert run(credentials.get("zendesk")).headers()["Authorization"].startswith("Basic ")
    assert run(credentials.get("linear")).headers() == {"Authorization": "lin_api_1"}


def test_an_account_that_is_not_active_says_where_to_authorize() -> None:
    credentials, _ = provider({"notion": {"status": "EXPIRED"}})
    with pytest.raises(AuthError, match=r"notion account for ops@acme.example is EXPIRED") as caught:
        run(credentials.get("notion"))
    assert "https://auth.example/notion/ops@acme.example" in str(caught.value)
    with pytest.raises(AuthError, match="NOT_CONNECTED"):
        run(credentials.get("zendesk"))


def test_execute_tool_runs_for_the_connectors_account() -> None:
    credentials, actions = provider({})
    assert run(credentials.execute_tool("slack", "slack_send_message", {"channel": "#x", "text": "hi"})) == \
        {"ok": True, "ts": "1.2"}
    assert actions.calls[-1] == ("execute_tool", {"tool_name": "slack_send_message",
                                                  "tool_input": {"channel": "#x", "text": "hi"}})


def test_scalekit_settings_are_checked_at_start(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[credentials]\nprovider = "scalekit"\n', encoding="utf-8")
    settings = load_settings(config, environ={}, dotenv=None)
    with pytest.raises(ConfigError, match=r"scalekit\.identifier"):
        open_credentials(settings)
    config.write_text('[credentials]\nprovider = "scalekit"\n[scalekit]\nidentifier = "ops"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="SCALEKIT_CLIENT_ID"):
        open_credentials(load_settings(config, environ={}, dotenv=None))


def test_environment_tokens_are_the_default_and_say_which_variable_is_missing(workspace: Path) -> None:
    settings = make_settings(workspace)
    credentials = open_credentials(settings)
    assert isinstance(credentials, EnvCredentials)
    with pytest.raises(AuthError, match="ZENDESK_EMAIL and ZENDESK_API_TOKEN"):
        run(credentials.get("zendesk"))
    with pytest.raises(AuthError, match="SLACK_BOT_TOKEN"):
        run(credentials.get("slack"))


def test_doctor_prints_the_authorization_link_for_an_inactive_connection(workspace: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(workspace, '[credentials]\nprovider = "scalekit"\n[scalekit]\nidentifier = "ops"\n'
                                        '[connectors]\nchat = "slack"\n')
    credentials, _ = provider({"slack-1": {"status": "PENDING_AUTH"}})
    monkeypatch.setattr("frontline.doctor.open_credentials", lambda _settings: credentials)
    checks = {c.connector: c for c in run(diagnose(settings))}
    assert not checks["scalekit slack"].ok
    assert "https://auth.example/slack-1/ops@acme.example" in checks["scalekit slack"].fix
