"""Which flow a webhook's deliveries go to is the flow's own declaration (``Flow.webhooks``), not web/'s.

The receivers ask the registry for the flow that takes their source, so a flow from a package of
its own can take a source and nothing in web/ names a flow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from frontline.errors import ConfigError
from frontline.flows import registry
from frontline.web.app import WebApp
from tests.web.conftest import SECRETS, call, recorded

AUTH = {"authorization": f"Bearer {SECRETS['FRONTLINE_API_KEY']}", "content-type": "application/json"}
TICKET = {"id": "T-1", "subject": "Export crashes", "description": "The CSV export fails.",
          "updated_at": "2026-11-20T10:00:00Z"}


@pytest.fixture
def takes(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change which flow declares which source for one test (the registry looked up again)."""
    yield monkeypatch
    monkeypatch.undo()
    registry.refresh()


def declare(monkeypatch: pytest.MonkeyPatch, **sources: tuple[str, ...]) -> None:
    for name, webhooks in sources.items():
        monkeypatch.setattr(type(registry.flow(name)), "webhooks", webhooks)
    registry.refresh()


def test_the_built_in_flows_declare_the_sources_they_take() -> None:
    assert {source: registry.webhook_flow(source) for source in ("zendesk", "tickets", "intercom", "slack")} == {
        "zendesk": "triage", "tickets": "triage", "intercom": "escalate", "slack": "feedback"}
    assert registry.webhook_flow("acme") is None


def test_a_flow_that_declares_a_source_gets_its_deliveries(web: WebApp, takes: pytest.MonkeyPatch) -> None:
    declare(takes, triage=("zendesk",), example=("tickets",))
    answer = call(web, "POST", "/tickets", json.dumps(TICKET).encode(), AUTH)
    assert answer.status_code == 202, answer.text
    assert recorded(web) == [("api", "example", "T-1", None)]


def test_a_source_no_installed_flow_takes_is_a_404_and_nothing_is_stored(web: WebApp,
                                                                        takes: pytest.MonkeyPatch) -> None:
    declare(takes, triage=("zendesk",))
    answer = call(web, "POST", "/tickets", json.dumps(TICKET).encode(), AUTH)
    assert answer.status_code == 404
    assert answer.json() == {"error": "no installed flow takes tickets deliveries; install or enable one that does"}
    assert recorded(web) == []


def test_two_flows_declaring_one_source_is_one_sentence(takes: pytest.MonkeyPatch) -> None:
    declare(takes, example=("zendesk",))
    with pytest.raises(ConfigError, match=r"flow example.*takes zendesk webhooks, which flow triage takes already"):
        registry.flows()
