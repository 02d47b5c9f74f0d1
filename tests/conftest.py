from __future__ import annotations

import inspect
import os
import signal
import sys
import tempfile


def _compile_once() -> None:
    """Bytecode is cached, outside the tree, for every Python the suite starts.

    The suite starts Python well over a thousand times (`python -m hourly_hooks`, the hooks'
    Python, pre-commit, the xdist workers). With PYTHONDONTWRITEBYTECODE set (as on the
    machine this suite is timed on) each start compiles hourly's modules and click's,
    GitPython's, pre-commit's again, a cost no installed copy pays (pip compiles at install
    time): about half the CPU of a short `hourly` run. The cache goes under a per-user folder
    in the temporary directory (PYTHONPYCACHEPREFIX), so the tree stays free of __pycache__
    (tests/test_packaging.py holds the sdist to that) and what runs is the same source.
    Set here, at conftest import, it reaches the xdist workers too: they start afterwards.
    """
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        prefix = os.environ["PYTHONPYCACHEPREFIX"]
    else:
        prefix = os.path.join(tempfile.gettempdir(), f"hourly-hooks-tests-pycache-{os.getuid()}")
        os.makedirs(prefix, mode=0o700, exist_ok=True)
        os.environ["PYTHONPYCACHEPREFIX"] = prefix
        # What the last runs compiled under the temporary directory (their pre-commit and pip
        # environments, tens of MB a run) never runs again: dropped, so the cache keeps only
        # the checkout's, the virtualenv's and the standard library's bytecode. (The xdist
        # workers and the Pythons the tests start inherit the variable: they skip this.)
        import shutil

        shutil.rmtree(os.path.join(prefix, tempfile.gettempdir().lstrip(os.sep)), ignore_errors=True)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_compile_once()

# A suite started in the background by a non-interactive shell has SIGINT ignored, and an
# ignored signal stays ignored across exec: the Ctrl-C tests' hourly would never get theirs.
# A handler set here is reset to the default in every process the tests start.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import click.testing  # noqa: E402 (after the bytecode settings: compiled once too)
import pytest  # noqa: E402

from gitrepo import GitRepo, isolated_env  # noqa: E402


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


# The fast tier: tests that start no process (no git, no hourly, no server):
# `python -m pytest -m unit` runs them alone in seconds. A test is in it when its
# module is pure (UNIT_MODULES) or it asks for no fixture beyond PURE_FIXTURES
# (no temporary folder: nothing to put a repository in). The guard below fails a
# test of the tier that starts a process, so the rule cannot silently rot.
UNIT_MODULES = {"test_docs_links", "test_markers", "test_money_and_periods", "test_paging", "test_python39",
                "test_sessions"}
PURE_FIXTURES = {"isolated", "monkeypatch", "request", "_unit_starts_no_process", "capsys", "recwarn"}


def pytest_configure(config):
    config.addinivalue_line("markers", "unit: starts no process (the fast tier: -m unit)")


def pytest_collection_modifyitems(items):
    for item in items:
        pure_module = item.module.__name__.rpartition(".")[2] in UNIT_MODULES
        if pure_module or set(getattr(item, "fixturenames", ())) <= PURE_FIXTURES:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _unit_starts_no_process(request, monkeypatch):
    if request.node.get_closest_marker("unit") is None:
        return
    import subprocess

    def refuse(*args, **kwargs):
        raise AssertionError("a test of the unit tier started a process (see UNIT_MODULES in tests/conftest.py)")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.hookimpl(optionalhook=True)  # xdist's hook: `-p no:xdist` (one process) still loads this file
def pytest_xdist_auto_num_workers(config):
    """Two workers per core for -n auto: a test spends about half its time waiting on the git,
    hourly and server processes it starts, so a second worker per core fills that wait
    (measured on 2 cores: 236 s with 2 workers, 169 s with 4, 210 s with 6)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 2 * cores
