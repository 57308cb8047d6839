"""`frontline serve`: webhooks in, work in the background, polling as the safety net."""

from __future__ import annotations

import click

from frontline.cli import cli
from frontline.cli.common import console, settings_from


@cli.command("serve")
@click.option("--host", help="Address to listen on (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port, 8080).")
@click.option("--no-poll", is_flag=True, help="Only webhooks: do not poll as a safety net.")
@click.pass_context
def serve_command(ctx: click.Context, /, host: str | None, port: int | None, no_poll: bool) -> None:
    """Receive webhooks (Intercom: POST /webhooks/intercom), process them in the background, poll too."""
    import uvicorn

    from frontline.store.inbox import Inbox
    from frontline.store.state import StateStore
    from frontline.web.app import WebApp
    from frontline.web.worker import background

    settings = settings_from(ctx, {("server", "host"): host, ("server", "port"): port,
                                   ("server", "poll"): False if no_poll else None})
    store = StateStore.open(settings.state_url)
    app = WebApp(settings, Inbox(store.engine), lifespan=background)
    if not settings.secret("INTERCOM_CLIENT_SECRET"):
        console.print("[yellow]INTERCOM_CLIENT_SECRET is not set: Intercom webhooks will be refused (503).[/]")
    mode = (f"webhooks, and polling every {settings.runner.poll_interval_minutes:g} min" if settings.server.poll
            else "webhooks only")
    console.print(f"Listening on http://{settings.server.host}:{settings.server.port} ({mode}). Ctrl+C stops.")
    try:
        uvicorn.run(app, host=settings.server.host, port=settings.server.port, log_level="warning",
                    lifespan="on")
    finally:
        store.close()
