"""`frontline serve` end to end: a signed delivery in, the conversation escalated in the background."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from frontline.connectors.local.conversations import LocalConversations, normalise_conversation
from frontline.connectors.local.outbox import OutboxChat
from frontline.runtime import owners
from frontline.store.inbox import Inbox
from frontline.store.state import StateStore
from frontline.web.app import WebApp
from frontline.web.signatures import sign_intercom
from frontline.web.worker import background
from tests.flows.test_escalate import ANGRY
from tests.helpers import make_settings, run

SECRET = "intercom-client-secret"


def delivery(conversation: str, notification: str) -> bytes:
    return json.dumps({"type": "notification_event", "id": notification, "topic": "conversation.user.replied",
                       "data": {"item": {"type": "conversation", "id": conversation}}}).encode()


def test_the_background_worker_escalates_a_recorded_delivery(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[server]\npoll = false\n')
    settings = settings.model_copy(update={"env": {"INTERCOM_CLIENT_SECRET": SECRET}})
    source = LocalConversations.from_settings(settings)
    source.upsert([normalise_conversation(ANGRY)])
    store = StateStore.open(settings.state_url)
    app = WebApp(settings, Inbox(store.engine))

    async def go() -> None:
        async with background(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://frontline") as web:
            body = delivery("c1", "notif_1")
            answer = await web.post("/webhooks/intercom", content=body,
                                    headers={"x-hub-signature": sign_intercom(SECRET, body)})
            assert answer.status_code == 200
            for _ in range(100):
                if (await web.get("/healthz")).json()["inbox"]["waiting"] == 0:
                    break
                await asyncio.sleep(0.05)

    run(go())
    assert len(source.notes("c1")) == 1
    assert [a["channel"] for a in OutboxChat(settings.path(settings.local.outbox)).entries()] == ["#customer-support"]
    store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_serve_command_listens_verifies_and_processes(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    LocalConversations.from_settings(settings).upsert([normalise_conversation(ANGRY)])
    port = free_port()
    env = {**os.environ, "INTERCOM_CLIENT_SECRET": SECRET}
    server = subprocess.Popen([sys.executable, "-m", "frontline.cli", "--config", str(workspace / "frontline.toml"),
                               "serve", "--port", str(port), "--no-poll"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        body = delivery("c1", "notif_42")
        assert httpx.post(f"{base}/webhooks/intercom", content=body,
                          headers={"x-hub-signature": "sha1=" + "0" * 40}).status_code == 401
        assert httpx.post(f"{base}/webhooks/intercom", content=body,
                          headers={"x-hub-signature": sign_intercom(SECRET, body)}).status_code == 200
        for _ in range(100):
            if httpx.get(f"{base}/healthz").json()["inbox"]["waiting"] == 0:
                break
            time.sleep(0.1)
        scrape = httpx.get(f"{base}/metrics")
        found = {(s.name, tuple(sorted(s.labels.items()))): s.value
                 for family in text_string_to_metric_families(scrape.text) for s in family.samples}
        assert found[("frontline_webhook_deliveries_total", (("outcome", "refused"), ("source", "intercom")))] == 1
        assert found[("frontline_webhook_deliveries_total", (("outcome", "recorded"), ("source", "intercom")))] == 1
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert server.returncode is not None
    notes = LocalConversations.from_settings(settings).notes("c1")
    assert len(notes) == 1, output
    assert "Listening on" in output and "Traceback" not in output


# Runs `frontline serve` with services that load until a file appears (a slow model, a slow vendor).
SLOW_START = """
import asyncio, contextlib, os, sys
import frontline.web.worker
real = frontline.web.worker.open_flow

@contextlib.asynccontextmanager
async def slow(flow, *args, **kwargs):
    while flow.name == "escalate" and not os.path.exists(os.environ["RELEASE_FILE"]):
        await asyncio.sleep(0.05)
    async with real(flow, *args, **kwargs) as services:
        yield services

frontline.web.worker.open_flow = slow
from frontline.cli import main
main()
"""


def test_deliveries_are_recorded_while_the_services_still_load(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n')
    LocalConversations.from_settings(settings).upsert([normalise_conversation(ANGRY)])
    release = workspace / "release"
    port = free_port()
    env = {**os.environ, "INTERCOM_CLIENT_SECRET": SECRET, "RELEASE_FILE": str(release)}
    server = subprocess.Popen([sys.executable, "-c", SLOW_START, "--config", str(workspace / "frontline.toml"),
                               "serve", "--port", str(port), "--no-poll"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        deadline = time.monotonic() + 20  # the port is bound long before the services would be loaded
        while health is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, "the port was not bound while the services loaded"
        assert health.status_code == 200 and health.json()["status"] == "starting"
        body = delivery("c1", "notif_7")
        answer = httpx.post(f"{base}/webhooks/intercom", content=body,
                            headers={"x-hub-signature": sign_intercom(SECRET, body)}, timeout=10)
        assert answer.status_code == 200
        assert httpx.get(f"{base}/healthz").json()["inbox"]["waiting"] == 1  # recorded, waiting for the worker
        release.touch()
        for _ in range(100):
            health = httpx.get(f"{base}/healthz")
            if health.json()["status"] == "ok" and health.json()["inbox"]["waiting"] == 0:
                break
            time.sleep(0.1)
        assert health.json() == {"status": "ok", "inbox": {"waiting": 0, "dead": 0}}
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:  # stuck loading (as it was before the port came first)
            server.kill()
            output = server.communicate()[0]
    assert len(LocalConversations.from_settings(settings).notes("c1")) == 1, output
    assert "Traceback" not in output


def test_a_restarted_server_takes_over_the_deliveries_a_killed_one_had_leased(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[server]\npoll = false\n')
    settings = settings.model_copy(update={"env": {"INTERCOM_CLIENT_SECRET": SECRET}})
    LocalConversations.from_settings(settings).upsert([normalise_conversation(ANGRY)])
    store = StateStore.open(settings.state_url)
    inbox = Inbox(store.engine)
    inbox.add("intercom", "notif_1", "escalate", "c1")
    killed = f"{os.uname().nodename}:{owners._namespace()}:999999999:serve"  # a pid that no longer runs
    assert inbox.lease(killed)  # for the next 120 s, had it lived
    app = WebApp(settings, inbox)

    async def go() -> None:
        async with background(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://frontline") as web:
            for _ in range(100):
                if (await web.get("/healthz")).json()["inbox"]["waiting"] == 0:
                    return
                await asyncio.sleep(0.05)

    run(go())
    assert len(LocalConversations.from_settings(settings).notes("c1")) == 1  # not two minutes later
    store.close()


def test_a_port_already_taken_is_one_sentence(workspace: Path) -> None:
    from click.testing import CliRunner

    from frontline.cli import cli, serve  # noqa: F401  (registers the command)

    make_settings(workspace, '[classifier]\nkind = "rules"\n')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--config", str(workspace / "frontline.toml"), "serve", "--port", str(port),
                                          "--no-poll"])
    assert result.exit_code == 1
    assert f"Cannot listen on 127.0.0.1:{port}: Address already in use." in result.output
    assert "Traceback" not in result.output and "Listening on" not in result.output


def test_a_worker_that_cannot_start_stops_serve_with_one_sentence(workspace: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import frontline.web.worker
    from frontline.cli import cli, serve  # noqa: F401  (registers the command)
    from frontline.errors import FrontlineError

    real = frontline.web.worker.open_flow

    @contextlib.asynccontextmanager
    async def refused(flow: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        if flow.name == "escalate":
            raise FrontlineError("Intercom rejected the token (401). Set INTERCOM_ACCESS_TOKEN.")
        async with real(flow, *args, **kwargs) as services:
            yield services

    monkeypatch.setattr(frontline.web.worker, "open_flow", refused)
    make_settings(workspace, '[classifier]\nkind = "rules"\n')
    result = CliRunner().invoke(cli, ["--config", str(workspace / "frontline.toml"), "serve", "--port",
                                      str(free_port()), "--no-poll"])
    assert result.exit_code == 1
    assert "Error: Intercom rejected the token (401). Set INTERCOM_ACCESS_TOKEN." in result.output
    assert "Traceback" not in result.output
