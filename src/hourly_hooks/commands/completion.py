"""`hourly completion bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, --tz zones, --author people).

    \b
    Install it once:
      bash:  echo 'eval "$(hourly completion bash)"' >> ~/.bashrc
      zsh:   echo 'eval "$(hourly completion zsh)"' >> ~/.zshrc
      fish:  hourly completion fish > ~/.config/fish/completions/hourly.fish

    It is click's own completion (the same as `_HOURLY_COMPLETE=bash_source hourly`);
    bash needs version 4.4 or later.
    """
    from click.shell_completion import get_completion_class

    from hourly_hooks.cli import main

    shell_class = get_completion_class(shell)
    if shell_class is None:  # pragma: no cover - click knows all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(shell_class(main, {}, "hourly", "_HOURLY_COMPLETE").source())
