"""`frontline serve`: webhooks in, work in the background, polling as the safety net."""

from __future__ import annotations

import click

from frontline.cli import cli
from frontline.cli.common import console, safe, settings_from

SECRETS = (
    ("INTERCOM_CLIENT_SECRET", "Intercom webhooks"),
    ("ZENDESK_WEBHOOK_SECRET", "Zendesk webhooks"),
    ("SLACK_SIGNING_SECRET", "Slack interactivity"),
    ("FRONTLINE_API_KEY", "POST /tickets"),
)


@cli.command("serve")
@click.option("--host", help="Address to listen on (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port, 8080).")
@click.option("--no-poll", is_flag=True, help="Only webhooks: do not poll as a safety net.")
@click.pass_context
def serve_command(ctx: click.Context, /, host: str | None, port: int | None, no_poll: bool) -> None:
    """Receive webhooks (Intercom, Zendesk, Slack) and POST /tickets, process them in the background, poll too.

    Routes: POST /webhooks/intercom, /webhooks/zendesk, /webhooks/slack, /tickets; GET /healthz, /metrics.
    """
    import uvicorn

    from frontline.store.inbox import Inbox
    from frontline.store.state import StateStore
    from frontline.web.app import WebApp
    from frontline.web.worker import background

    settings = settings_from(ctx, {("server", "host"): host, ("server", "port"): port,
                                   ("server", "poll"): False if no_poll else None})
    store = StateStore.open(settings.state_url)
    app = WebApp(settings, Inbox(store.engine), lifespan=background)
    for variable, what in SECRETS:
        if not settings.secret(variable):
            console.print(f"[yellow]{variable} is not set: {what} will be refused (503).[/]")
    mode = (f"webhooks, and polling every {settings.runner.poll_interval_minutes:g} min" if settings.server.poll
            else "webhooks only")
    console.print(f"Listening on http://{safe(settings.server.host)}:{settings.server.port} ({mode}). Ctrl+C stops.")
    try:
        uvicorn.run(app, host=settings.server.host, port=settings.server.port, log_level="warning",
                    lifespan="on")
    finally:
        store.close()
