from __future__ import annotations

import inspect

import click.testing
import pytest

from gitrepo import GitRepo, isolated_env


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """Every test gets its own HOME and XDG config; no HOURLY_/BTCPAYSERVER_ leaks in."""
    home = tmp_path_factory.mktemp("home")
    for key, value in isolated_env(home).items():
        monkeypatch.setenv(key, value)
    import os

    for key in list(os.environ):
        if key.startswith(("GIT_", "HOURLY_", "BTCPAYSERVER_")) and key not in ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    return home


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "work")


# click 8.1 (the newest for Python 3.9) mixes stderr into result.output unless
# told not to; 8.2 always keeps them apart. The tests read result.stderr.
if "mix_stderr" in inspect.signature(click.testing.CliRunner.__init__).parameters:
    _original_init = click.testing.CliRunner.__init__

    def _separate_stderr(self, *args, mix_stderr=False, **kwargs):
        _original_init(self, *args, mix_stderr=mix_stderr, **kwargs)

    click.testing.CliRunner.__init__ = _separate_stderr
