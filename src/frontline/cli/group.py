"""The `frontline` click group: global options, and errors turned into one clear sentence."""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

import click

from frontline import __version__, faults, scrub
from frontline.errors import FrontlineError, WorkspaceError
from frontline.runtime import retries
from frontline.terminal import inert


class FrontlineGroup(click.Group):
    """A click group that prints frontline errors as one sentence, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; user mistakes and vendor failures exit with a message."""
        try:
            return super().invoke(ctx)
        except FrontlineError as error:
            self._fail(error)
        except OSError as error:
            if not faults.disk_full(error):
                raise
            # A write the code below did not expect to fail: still one sentence, naming the file.
            self._fail(WorkspaceError(str(error.filename or "a file in the workspace"), "disk_full"))
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
            sys.exit(130)

    @staticmethod
    def _fail(error: FrontlineError) -> NoReturn:
        click.secho(f"Error: {inert(scrub.text(str(error)), lines=True)}", fg="red", err=True)
        sys.exit(error.exit_code)


@click.group(cls=FrontlineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="frontline")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Path to frontline.toml (default: ./frontline.toml, else built-in defaults).")
@click.option("--verbose", "-v", is_flag=True, help="Also log retries and other details to stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """frontline: triage, escalation and support intelligence for your helpdesk."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s",
                        force=True)
    scrub.install()  # no log line, ours or a library's, ever carries a credential
    retries.install()
