"""The `hourly` command: a thin click layer over the core.

Every command module raises HourlyError subclasses; `main` turns them into one
line on stderr and the documented exit code (see errors.py).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from hourly_hooks import __version__
from hourly_hooks.errors import EXIT_CRASH, EXIT_INTERRUPTED, HourlyError, OutputError
from hourly_hooks.pipes import reader_gone, silence_stdout

# A write that fails because of where the output goes, not because of hourly.
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EPIPE, errno.EBADF, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _say(text: str) -> None:
    """One line on stderr, if stderr can take it: a full stderr must not change the exit code."""
    try:
        click.echo(text, err=True)
    except OSError:
        pass


def _output_failed(error: OSError) -> int:
    """The exit code of a write that failed because of where the output goes (any
    other error is raised again): say so, unless the reader of the pipe has just
    gone (`| head`: quiet, errors.py). Either way stdout is silenced, or what stays
    in its buffer would fail again, with a traceback, at exit."""
    if error.errno not in OUTPUT_ERRNOS:
        raise error
    silence_stdout()
    if not reader_gone(error):
        _say(f"Error: cannot write the output: {error.strerror}")
    return OutputError.exit_code


class HourlyGroup(click.Group):
    """Loads commands lazily from COMMANDS, and maps HourlyError to its exit code
    with one clear line, never a traceback."""

    def list_commands(self, ctx: click.Context):
        return sorted(set(COMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, name: str):
        if name in COMMANDS:
            module, _, attribute = COMMANDS[name].partition(":")
            try:
                return getattr(importlib.import_module(module), attribute)
            except ImportError as error:  # a broken install: say which part is missing
                raise click.ClickException(f"the '{name}' command cannot load: {error}") from None
        return super().get_command(ctx, name)

    def main(self, *args, **kwargs):
        # click lets a failed write escape as a traceback: `hourly --version >
        # /dev/full`, or a usage error with stderr on a full disk.
        try:
            return super().main(*args, **kwargs)
        except OSError as error:
            sys.exit(_output_failed(error))

    def make_context(self, *args, **kwargs):
        # `hourly --help | head -1`: click would exit 1 on a closed pipe here.
        try:
            return super().make_context(*args, **kwargs)
        except OSError as error:
            raise click.exceptions.Exit(_output_failed(error)) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HourlyError as error:
            _say(f"Error: {error.message}")
            if error.hint:
                _say(error.hint)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            _say("Interrupted.")
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as error:
            if error.errno not in OUTPUT_ERRNOS or os.environ.get("HOURLY_DEBUG"):
                raise self._crash(ctx, error)
            ctx.exit(_output_failed(error))
        except Exception as error:  # a crash is a bug: say so, in one line
            raise self._crash(ctx, error)

    @staticmethod
    def _crash(ctx: click.Context, error: Exception):
        if os.environ.get("HOURLY_DEBUG"):
            return error
        _say(f"Error: unexpected {type(error).__name__}: {error}")
        _say(f"This is a bug in hourly {__version__}. Run again with HOURLY_DEBUG=1 "
             "for the traceback, and please report it.")
        ctx.exit(EXIT_CRASH)


@click.group(cls=HourlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Set a configuration key for this run, over every file and variable "
                   "(repeatable, like git -c): -c tz=UTC, -c btcpay.host=https://...")
@click.version_option(__version__, prog_name="hourly")
@click.pass_context
def main(ctx: click.Context, overrides) -> None:
    """Bill by the hour from clock-in / clock-out markers in your git history."""
    if overrides:
        from hourly_hooks import config

        config.parse_overrides(overrides)  # a bad key fails before the command starts
        ctx.meta[config.OVERRIDES] = tuple(overrides)


# Commands load on first use: `hourly report` must not pay for importing the
# BTCPay clients (requests is slow to import), nor the hook commands.
COMMANDS = {
    "report": "hourly_hooks.commands.report:report",
    "demo": "hourly_hooks.commands.report:demo",
    "btcpay": "hourly_hooks.commands.btcpay:btcpay",
    "completion": "hourly_hooks.commands.completion:completion",
    "invoice": "hourly_hooks.commands.invoice:invoice",
    "invoices": "hourly_hooks.commands.invoice:invoices",
    "in": "hourly_hooks.commands.clock:clock_in",
    "out": "hourly_hooks.commands.clock:clock_out",
    "status": "hourly_hooks.commands.clock:status",
    "install-hook": "hourly_hooks.commands.clock:install_hook",
    "uninstall-hook": "hourly_hooks.commands.clock:uninstall_hook",
    "config": "hourly_hooks.commands.config:show_config",
    "verify": "hourly_hooks.commands.verify:verify",
}


EPILOG = """\b
Exit codes:
  0    success
  1    refused: a hook, in / out, a staged key, or --strict anomalies
  2    usage: a bad flag value
  3    git: no repository, no work tree, or git failed
  4    configuration: a file cannot be read or holds a bad value
  5    BTCPay Server or the network
  6    nothing to bill
  7    verify: the history gives another bill
  8    verify: this clone lacks commits the bill names (fetch them)
  9    verify: the timesheet was changed after it was made
  70   a bug (HOURLY_DEBUG=1 shows the traceback)
  74   output: a report or the invoice ledger cannot be written (full disk...)
  130  interrupted

\b
Environment:
  HOURLY_RATE, HOURLY_TZ, HOURLY_ROUND, HOURLY_IDENTITY, HOURLY_BACKEND
                     settings, over the configuration files
  BTCPAYSERVER_HOST, BTCPAYSERVER_STORE_ID, BTCPAYSERVER_API_KEY,
  BTCPAYSERVER_MERCHANT, BTCPAYSERVER_PEM, BTCPAYSERVER_PROXY,
  BTCPAYSERVER_TIMEOUT
                     BTCPay Server access (see hourly btcpay --help)
  HOURLY_NO_CACHE=1  read git directly, without the marker store
  HOURLY_DEBUG=1     show the traceback of a bug
  HOURLY_PAGER, PAGER
                     the pager on a terminal (default: less -FRX; "" or cat: none)

\b
Configuration files (flags and environment override them):
  .hourly.toml, or [tool.hourly] in pyproject.toml, at the repository's top
                     level (tracked: no secrets)
  $XDG_CONFIG_HOME/hourly/config.toml, usually ~/.config/hourly/config.toml
                     (yours: secrets go here)
  <git dir>/hourly/config.toml  this clone's own settings (hourly btcpay pair --save)
"""
main.epilog = EPILOG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
