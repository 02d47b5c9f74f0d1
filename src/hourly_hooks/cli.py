"""The `hourly` command: a thin click layer over the core.

Every command module raises HourlyError subclasses; `main` turns them into one
line on stderr and the documented exit code (see errors.py).
"""

from __future__ import annotations

import os
import sys

import click

from hourly_hooks import __version__
from hourly_hooks.errors import EXIT_CRASH, EXIT_INTERRUPTED, HourlyError


class HourlyGroup(click.Group):
    """Maps HourlyError to its exit code with one clear line, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HourlyError as error:
            click.echo(f"Error: {error.message}", err=True)
            if error.hint:
                click.echo(error.hint, err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a crash is a bug: say so, in one line
            if os.environ.get("HOURLY_DEBUG"):
                raise
            click.echo(f"Error: unexpected {type(error).__name__}: {error}", err=True)
            click.echo(f"This is a bug in hourly {__version__}. Run again with HOURLY_DEBUG=1 "
                       "for the traceback, and please report it.", err=True)
            ctx.exit(EXIT_CRASH)


@click.group(cls=HourlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hourly")
def main() -> None:
    """Bill by the hour from clock-in / clock-out markers in your git history."""


def _register() -> None:
    # Command modules are imported here, not at the top, so each stays independent.
    from hourly_hooks.commands import report

    main.add_command(report.report)
    main.add_command(report.demo)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
