"""The pluggable seams: connector packages and credential providers are found by entry point, and the
central modules (budgets, credentials, config) import no vendor's code, so no import cycle runs through them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from frontline.config import load_settings
from frontline.connectors.environment import EnvCredentials
from frontline.connectors.registry import packages
from frontline.credentials import open_credentials, providers
from frontline.errors import AuthError, ConfigError
from tests.helpers import run

SRC = Path(__file__).resolve().parents[1] / "src" / "frontline"
VENDORS = ("zendesk", "notion", "slack", "intercom", "linear", "scalekit")


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (TYPE_CHECKING-only ones left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) == "TYPE_CHECKING" for node in ast.walk(block)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["runtime/budgets", "credentials.py", "config"])
def test_central_modules_import_no_vendor_code(module: str) -> None:
    paths = sorted((SRC / module).glob("*.py")) if (SRC / module).is_dir() else [SRC / module]
    for path in paths:
        vendor = {name for name in imported(path) for vendor in VENDORS
                  if name.startswith((f"frontline.connectors.{vendor}", "frontline.runtime.vendor_limits"))}
        assert not vendor, f"{path.relative_to(SRC)} imports vendor code: {sorted(vendor)}"


def test_every_built_in_credential_provider_is_an_entry_point() -> None:
    assert {"env", "scalekit"} <= set(providers())
    assert providers()["env"].load() is EnvCredentials


def test_an_unknown_credentials_provider_names_the_installed_ones(tmp_path: Path) -> None:
    config = tmp_path / "frontline.toml"
    config.write_text('[credentials]\nprovider = "vault"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, dotenv=None)
    assert "`credentials.provider` is invalid: names unknown provider 'vault' (available: env, scalekit" in str(
        caught.value)


def test_open_credentials_finds_the_provider_by_entry_point() -> None:
    assert isinstance(open_credentials(load_settings(None, environ={}, dotenv=None)), EnvCredentials)


def test_environment_credentials_are_read_the_way_each_package_says() -> None:
    env = {"ZENDESK_EMAIL": "ops@acme.example", "ZENDESK_API_TOKEN": "zd-token", "LINEAR_API_KEY": "lin_api_x",
           "SLACK_BOT_TOKEN": "xoxb-1"}
    credentials = EnvCredentials(load_settings(None, environ=env, dotenv=None))
    zendesk, linear, slack = (run(credentials.get(name)) for name in ("zendesk", "linear", "slack"))
    assert (zendesk.scheme, zendesk.user) == ("basic", "ops@acme.example/token")
    assert linear.headers() == {"Authorization": "lin_api_x"}
    assert slack.headers() == {"Authorization": "Bearer xoxb-1"}
    with pytest.raises(AuthError, match="Set INTERCOM_ACCESS_TOKEN"):
        run(credentials.get("intercom"))
    with pytest.raises(AuthError, match="no credentials are known"):
        run(credentials.get("local"))


def test_each_built_in_vendor_declares_its_section_and_variables() -> None:
    for name in VENDORS:
        found = packages()[name]
        assert found.settings_section == name
        assert found.masked_env_vars, name
    settings = load_settings(None, environ={"ZENDESK_SUBDOMAIN": "acme", "LINEAR_TEAM_ID": "ENG"}, dotenv=None)
    assert settings.zendesk.subdomain == "acme" and settings.section("linear").team_id == "ENG"


@pytest.mark.parametrize(("value", "expected"), [
    ("frontline_no_such_plugin:THING", "cannot be loaded (ModuleNotFoundError"),
    ("frontline.connectors.registry:GROUPS", "is not a ConnectorPackage named 'broken'"),
])
def test_a_broken_connector_package_is_one_sentence_naming_it(monkeypatch: pytest.MonkeyPatch, value: str,
                                                              expected: str) -> None:
    from importlib.metadata import EntryPoint

    from frontline import plugins
    from frontline.connectors import registry

    broken = EntryPoint("broken", value, registry.PACKAGES)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken] if group == registry.PACKAGES else [])
    registry.packages.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            load_settings(None, environ={}, dotenv=None)
    finally:
        monkeypatch.undo()
        registry.packages.cache_clear()
    assert f"entry point broken = {value}" in str(caught.value) and expected in str(caught.value)
    assert "acme" in registry.packages() or "zendesk" in registry.packages()


@pytest.mark.parametrize(("value", "expected"), [
    ("frontline_no_such_plugin:Model", "cannot be loaded (ModuleNotFoundError"),
    ("frontline.config.sections:GROUP", "is not a pydantic settings model"),
])
def test_a_broken_flow_section_is_one_sentence_naming_it(monkeypatch: pytest.MonkeyPatch, value: str,
                                                         expected: str) -> None:
    from importlib.metadata import EntryPoint

    from frontline import plugins
    from frontline.config import sections

    broken = EntryPoint("broken", value, sections.GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken] if group == sections.GROUP else [])
    sections.flow_sections.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            load_settings(None, environ={}, dotenv=None)
    finally:
        monkeypatch.undo()
        sections.flow_sections.cache_clear()
    assert f"entry point broken = {value}" in str(caught.value) and expected in str(caught.value)
    assert "example" in sections.flow_sections()


def test_a_section_both_a_connector_and_a_flow_declare_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.config import sections

    monkeypatch.setattr(sections, "flow_sections", lambda: {"zendesk": sections.BaseModel})
    with pytest.raises(ConfigError, match=r"`\[zendesk\]` is declared both by a connector package and by a flow"):
        load_settings(None, environ={}, dotenv=None)


def test_a_flow_naming_a_section_nothing_declares_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from frontline.flows import registry

    example = registry.flow("example")
    monkeypatch.setattr(type(example), "settings_section", "exampel")
    registry.refresh()
    try:
        with pytest.raises(ConfigError, match=r"flow example.*names settings section \[exampel\], which no "
                                              r"installed package declares"):
            registry.flows()
    finally:
        monkeypatch.undo()
        registry.refresh()
