"""`hourly btcpay keygen | pair | check`: connect this tool to a BTCPay store."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import click

from hourly_hooks import config as config_module
from hourly_hooks import trust
from hourly_hooks.btcpay import BACKENDS, BTCPaySettings, backend_from, settings_from
from hourly_hooks.btcpay import keys
from hourly_hooks.btcpay.legacy import LegacyBackend, check_pairing_code
from hourly_hooks.errors import BTCPayError, ConfigError, OutputError, UsageError
from hourly_hooks.git.repository import open_repository, repository_top

PEM_HELP = "Private key file, or - to read the key from standard input (default: btcpayserver.pem at the top level)."
HOST_HELP = "Your BTCPay Server (default: BTCPAYSERVER_HOST or config)."


def host_and_pem(command):
    """`--host URL` and `--pem PATH|-`, shared by every command that talks to BTCPay."""
    command = click.option("--pem", metavar="PATH", help=PEM_HELP)(command)
    return click.option("--host", metavar="URL", help=HOST_HELP)(command)


def load_settings(top: Optional[Path], config=None, **flags) -> BTCPaySettings:
    """Settings from config (this clone's `pair --save` file included), environment and flags;
    `pem="-"` reads the key from stdin."""
    cfg = config if config is not None else config_module.load(top)
    for line in trust.notices(cfg):  # before anything is sent: what a repository file tried to set
        click.echo(line, err=True)
    pem_text = None
    if flags.get("pem") == "-":
        pem_text = keys.read_pem_stdin()
        flags["pem"] = None
    settings = settings_from(cfg.table("btcpay"), repo_root=str(top) if top else None, **flags)
    return dataclasses.replace(settings, pem=pem_text) if pem_text else settings


@click.group()
def btcpay() -> None:
    """Connect to your BTCPay Server: keygen, pair (legacy API), check."""


@btcpay.command()
@click.option("--pem", type=click.Path(dir_okay=False), help="Private key file to create (default: btcpayserver.pem at the top level).")
def keygen(pem: Optional[str]) -> None:
    """Create a private key for the legacy API (0600, ignored by git).

    Next: create a pairing code in your store (Settings > Access Tokens >
    Create a new token, public key left blank) and run `hourly btcpay pair CODE`.
    """
    top = repository_top()
    settings = load_settings(top, pem=pem)
    if settings.pem and "-----BEGIN" in settings.pem:
        raise UsageError("BTCPAYSERVER_PEM already holds a key; unset it to create a key file.")
    path = Path(settings.pem) if settings.pem else keys.default_pem_path(str(top) if top else None)
    sin = keys.generate_key(path, str(top) if top else None)
    click.echo(f"Wrote a new private key to {path} (mode 0600).")
    if top and keys.inside(path, top):
        click.echo("git ignores it (.gitignore); never commit it, and back it up privately.")
    click.echo(f"Public identity (SIN): {sin}")
    click.echo("Next: hourly btcpay pair CODE --host https://your.btcpay.server")


@btcpay.command()
@click.argument("code")
@host_and_pem
@click.option("--save", is_flag=True,
              help="Store host and token in this repository's git dir (mode 0600) instead of printing them.")
@click.option("--global", "save_global", is_flag=True,
              help="With --save: store them in your user config file instead (every repository then uses them).")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
def pair(code: str, host: Optional[str], pem: Optional[str], save: bool, save_global: bool, insecure: bool) -> None:
    """Pair the private key with your store using a 7-character pairing CODE.

    Prints `export BTCPAYSERVER_MERCHANT=<token>` for your shell profile or
    secret manager (never a tracked file), or stores it with --save: in
    `<git dir>/hourly/config.toml` (never committed, this repository only),
    or with --save --global in your user config file.
    """
    code = check_pairing_code(code)  # before anything else: a typo never reaches the server
    if save_global and not save:
        raise UsageError("--global goes with --save.")
    top = repository_top()
    if save and not save_global and top is None:
        raise UsageError("pair --save stores the token in this repository: run it inside one, or add --global.")
    settings = load_settings(top, host=host, pem=pem, insecure=insecure)
    backend = LegacyBackend.from_settings(settings, need_token=False)
    token = backend.pair(code)
    click.echo(f"Paired with {backend.host}.", err=True)
    if save:
        values = {"merchant_token": token, "host": backend.host}
        path = config_module.user_file() if save_global else open_repository().git_dir / config_module.LOCAL_FILE
        try:
            keys.save_user_settings(path, values)
        except (OutputError, ConfigError) as error:
            # The pairing code is used up: the token is printed, or it would be lost.
            click.echo(f"export BTCPAYSERVER_MERCHANT={token}")
            error.hint = "The token is printed above instead: keep it out of tracked files."
            raise
        click.echo(f"Saved the host and merchant token to {path} (mode 0600).", err=True)
        return
    click.echo(f"export BTCPAYSERVER_MERCHANT={token}")
    if host:
        click.echo(f"Also set: export BTCPAYSERVER_HOST={backend.host}", err=True)
    click.echo("Keep the token out of tracked files (shell profile, secret manager, or --save).", err=True)


@btcpay.command()
@host_and_pem
@click.option("--backend", type=click.Choice(BACKENDS), help="Which API (default: config, else the credentials present).")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
def check(host: Optional[str], pem: Optional[str], backend: Optional[str], insecure: bool) -> None:
    """Check the server, the store, and the credentials' permissions."""
    settings = load_settings(repository_top(), host=host, pem=pem, backend=backend, insecure=insecure)
    result = backend_from(settings).check()
    width = max(len(label) for label, _ in result.lines)
    for label, value in result.lines:
        click.echo(f"{label + ':':<{width + 1}} {value}")
    if result.problems:
        for problem in result.problems[1:]:
            click.echo(f"Problem: {problem}", err=True)
        raise BTCPayError(result.problems[0])
    click.echo("Ready to invoice.")
