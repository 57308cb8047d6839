"""`frontline serve`: webhooks in, work in the background, polling as the safety net.

The port is bound first, before anything slow: a restart (a deploy, a crash) then refuses
deliveries only while Python starts, and the flows' services (models, vendor clients) load in the
background while deliveries are already recorded in the inbox.
"""

from __future__ import annotations

import os
import socket

import click

from frontline.cli.common import console, safe, settings_from
from frontline.cli.group import cli
from frontline.errors import FrontlineError

SECRETS = (
    ("INTERCOM_CLIENT_SECRET", "Intercom webhooks"),
    ("ZENDESK_WEBHOOK_SECRET", "Zendesk webhooks"),
    ("SLACK_SIGNING_SECRET", "Slack interactivity"),
    ("FRONTLINE_API_KEY", "POST /tickets"),
)
BACKLOG = 2048  # uvicorn's default: connections made before the app runs wait here instead of being refused


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or one sentence saying why there cannot be one."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        return socket.create_server(address, family=family, backlog=BACKLOG)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise click.ClickException(
            f"Cannot listen on {host}:{port}: {reason}. Stop what holds that port, or choose another with "
            f"--port (or server.port in frontline.toml).") from None


@cli.command("serve")
@click.option("--host", help="Address to listen on (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port, 8080).")
@click.option("--no-poll", is_flag=True, help="Only webhooks: do not poll as a safety net.")
@click.pass_context
def serve_command(ctx: click.Context, /, host: str | None, port: int | None, no_poll: bool) -> None:
    """Receive webhooks (Intercom, Zendesk, Slack) and POST /tickets, process them in the background, poll too.

    Routes: POST /webhooks/intercom, /webhooks/zendesk, /webhooks/slack, /tickets; GET /healthz, /metrics.
    """
    settings = settings_from(ctx, {("server", "host"): host, ("server", "port"): port,
                                   ("server", "poll"): False if no_poll else None})
    sock = listen(settings.server.host, settings.server.port)

    import uvicorn

    from frontline.store.inbox import Inbox
    from frontline.store.state import StateStore
    from frontline.web.app import WebApp
    from frontline.web.worker import background

    failures: list[BaseException] = []

    def stop(error: BaseException) -> None:
        failures.append(error)
        server.should_exit = True

    store = StateStore.open(settings.state_url)
    app = WebApp(settings, Inbox(store.engine), lifespan=lambda web: background(web, on_failure=stop))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    for variable, what in SECRETS:
        if not settings.secret(variable):
            console.print(f"[yellow]{variable} is not set: {what} will be refused (503).[/]")
    mode = (f"webhooks, and polling every {settings.runner.poll_interval_minutes:g} min" if settings.server.poll
            else "webhooks only")
    console.print(f"Listening on http://{safe(settings.server.host)}:{settings.server.port} ({mode}). Ctrl+C stops.")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    if failures:  # what was recorded meanwhile stays in the inbox for the next start
        error = failures[0]
        if isinstance(error, FrontlineError):
            raise error
        raise click.ClickException(f"The background worker could not start ({type(error).__name__}: {error}); "
                                   "deliveries recorded meanwhile wait in the inbox. See the log above.")
