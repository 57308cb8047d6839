"""Every registered connector is paired with a fake of its vendor and a contract test.

A connector added without a fake, or a fake that does not check requests against the vendor's
spec, fails here rather than in production.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from frontline.connectors.registry import GROUPS, available, packages
from tests.fakes.base import FakeAPI

TESTS = Path(__file__).resolve().parent
EMBEDDED = {"local", "outbox"}  # the embedded default: real, local, tested in tests/connectors/test_local.py
# frontline's own connectors; an installed third party's (the test fixture acme) answers for its own fakes.
REGISTERED = sorted((port, name) for port in GROUPS for name, entry in available(port).items()
                    if entry.dist is not None and entry.dist.name == "frontline")


def test_the_built_in_connectors_are_registered() -> None:
    assert {("helpdesk", "zendesk"), ("kb", "notion"), ("chat", "slack"), ("helpdesk", "local"),
            ("kb", "local"), ("chat", "outbox")} <= set(REGISTERED)


def test_each_remote_built_in_connector_brings_its_package() -> None:
    remote = {name for _, name in REGISTERED if name not in EMBEDDED}
    assert remote <= set(packages()), f"no ConnectorPackage (frontline.connectors) for {remote - set(packages())}"
    for name in remote:
        found = packages()[name]
        assert found.settings_model is not None and found.key_env_vars and found.rules is not None, name


@pytest.mark.parametrize(("port", "name"), REGISTERED, ids=[f"{p}-{n}" for p, n in REGISTERED])
def test_each_connector_has_a_fake_with_a_contract_and_tests(port: str, name: str) -> None:
    available(port)[name].load()  # the entry point resolves
    if name in EMBEDDED:
        assert (TESTS / "connectors" / "test_local.py").read_text(encoding="utf-8").count("def test_") >= 5
        return
    module = importlib.import_module(f"tests.fakes.{name}")
    fakes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
             if issubclass(cls, FakeAPI) and cls is not FakeAPI and cls.__module__ == module.__name__]
    assert fakes, f"tests/fakes/{name}.py defines no FakeAPI subclass"
    assert any(cls().contract is not None for cls in fakes), f"the {name} fake checks no request against a spec"
    tests = (TESTS / "connectors" / f"test_{name}.py").read_text(encoding="utf-8")
    assert "violations" in tests, f"tests/connectors/test_{name}.py never asserts the contract held"
    assert tests.count("def test_") >= 10
