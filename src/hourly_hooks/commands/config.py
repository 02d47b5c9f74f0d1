"""`hourly config`: every effective setting, its value and where it came from."""

from __future__ import annotations

import json
from typing import Optional

import click

from hourly_hooks import config as config_module
from hourly_hooks import trust
from hourly_hooks import JSON_VERSION as VERSION
from hourly_hooks.errors import UsageError
from hourly_hooks.git.repository import open_repository, repository_top


def effective(repo: Optional[str]) -> config_module.Config:
    """The configuration for the repository at repo (default: the current one, if any)."""
    # Outside a repository (top None): the user file, the environment and the defaults.
    return config_module.load(open_repository(repo).top if repo else repository_top())


def as_json(setting: config_module.Setting) -> dict:
    value = trust.shown(setting.key, setting.value) if setting.key == "btcpay.host" else setting.value
    if setting.secret:
        value = config_module.MASK if value else ""
    elif isinstance(value, tuple):
        value = list(value)
    return {"key": setting.key, "value": value, "origin": str(setting.origin), "source": setting.origin.to_json()}


@click.command("config")
@click.argument("key", required=False)
@click.option("--repo", type=click.Path(file_okay=False), metavar="PATH",
              help="Repository whose files to read (default: the current one).")
@click.option("--json", "json_output", is_flag=True, help="Print the settings as JSON.")
def show_config(key: Optional[str], repo: Optional[str], json_output: bool) -> None:
    """Show every effective setting with its origin (like git config --show-origin).

    With KEY, only that setting. Secrets are masked.

    \b
    Examples:
      hourly config
      hourly -c tz=UTC config tz
      hourly config --json
    """
    config = effective(repo)
    settings, ignored = config.settings(), trust.ignored(config)
    if key is not None:
        wanted = "rates.default" if key == "rate" else key
        if config_module.key_spec(wanted) is None:
            raise UsageError(f"unknown key '{key}'{config_module.did_you_mean(wanted)}")
        settings = [setting for setting in settings if setting.key == wanted]
        ignored = [setting for setting in ignored if setting.key == wanted]
    for line in [trust.notice(setting) for setting in ignored] + trust.exposures(config):
        click.echo(line, err=True)
    if json_output:
        document = {"version": VERSION, "settings": [as_json(setting) for setting in settings]}
        if ignored:  # only then: the document's usual shape stays as it was
            document["ignored"] = [as_json(setting) for setting in ignored]
        click.echo(json.dumps(document, indent=2))
        return
    if not settings and not ignored:
        click.echo(f"{key} is not set.", err=True)
        return
    width = max(len(str(setting.origin)) for setting in settings + ignored)
    for setting in settings:
        click.echo(f"{str(setting.origin):<{width}}  {setting.key}={setting.shown()}")
    for setting in ignored:  # below the effective values: never read as one of them
        click.echo(f"{str(setting.origin):<{width}}  {setting.key}={trust.shown(setting.key, setting.value)}"
                   "  (ignored: set only by you, see the warning)")

