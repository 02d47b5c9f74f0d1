"""The hook and the report give one answer on fast sequences of real git operations.

Whatever the commit-msg hook accepts, `hourly status` and `hourly report` must
pair the same way: the markers left in history alternate clock-in, clock-out
(the hook refuses anything else), the report pairs each clock-out with the
clock-in before it, with the duration the hook printed, leaves no anomaly, and
status says the state the last marker says. The sequences are what trips a
reader ordering by author second: new marker commits, --amend (in the editor,
with -m, --no-edit) and resets, all within one or two seconds, with and without
git saying which is an --amend (the editor, or -m). Real `git commit` in a
temporary repository with the installed hooks; author dates pinned, a few
minutes in the past, so the hook's reading can never lean on the clock.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from click.testing import CliRunner
from hook_helpers import HookedRepo

from hourly_hooks.cli import main
from hourly_hooks.core import markers

WHO = ("Alice Martin", "alice@example.com")
MESSAGES = {"in": "clock-in", "out": "clock-out", "work": "work", "work-out": "work\n\nClock: out"}
HOOKS = ("commit-msg", "prepare-commit-msg")  # the clock's pair (the key check is not in question)

@pytest.fixture(scope="module")
def installed_hooks(tmp_path_factory) -> Path:
    """The hooks `hourly install-hook` writes, installed once and copied into each repository."""
    repo = HookedRepo(tmp_path_factory.mktemp("installed") / "work")
    repo.install_hook()
    return repo.git_dir() / "hooks"


new = st.tuples(st.just("new"), st.sampled_from(sorted(MESSAGES)), st.sampled_from(["editor", "m"]),
                st.sampled_from([0, 0, 1]))
amend = st.tuples(st.just("amend"), st.sampled_from(sorted(MESSAGES)), st.sampled_from(["editor", "m", "no-edit"]),
                  st.just(0))
reset = st.tuples(st.just("reset"), st.just(""), st.just(""), st.just(0))
SEQUENCES = st.lists(st.one_of(new, new, amend, reset), min_size=2, max_size=5)

# The two answers that parted before: clock-out, clock-in, clock-out in one second (the
# last clock-out read as a copy of the first); and a new commit from -m in HEAD's second
# behind a slow hook (its hook runs long after that second), taken for an --amend of HEAD.
OUT_IN_OUT = [("new", "in", "editor", 0), ("new", "out", "editor", 1), ("new", "in", "editor", 0),
              ("new", "out", "editor", 0)]
BEHIND_A_SLOW_HOOK = [("new", "in", "editor", 0), ("new", "out", "editor", 1), ("new", "out", "m", 0),
                      ("new", "in", "m", 0)]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@example(OUT_IN_OUT)
@example(BEHIND_A_SLOW_HOOK)
@given(steps=SEQUENCES)
def test_the_hook_and_the_report_pair_fast_sequences_alike(installed_hooks, steps):
    folder = Path(tempfile.mkdtemp(prefix="agree-"))
    try:
        repo = HookedRepo(folder / "work")
        for name in HOOKS:
            shutil.copy2(installed_hooks / name, repo.git_dir() / "hooks" / name)
        base = int(time.time()) - 600
        repo.commit("start", f"@{base - 100} +0000")  # a root that is no marker (--no-verify)
        said = _play(repo, steps, base)
        _assert_one_answer(repo, said)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _play(repo: HookedRepo, steps, base: int) -> dict:
    """Run the steps; what the hook printed for each commit it accepted, by SHA."""
    second, said = base, {}
    for op, what, form, advance in steps:
        if op == "reset":
            if repo.git("rev-list", "--count", "HEAD").strip() != "1":
                repo.git("reset", "-q", "--hard", "HEAD~1")
            continue
        second += advance
        when = f"@{second} +0000"
        env = {"GIT_COMMITTER_DATE": when}
        args = ["--amend"] if op == "amend" else []
        if form == "editor":
            env["GIT_EDITOR"] = "printf '" + MESSAGES[what].replace("\n", "\\n") + "\\n' >"
        elif form == "no-edit":
            args.append("--no-edit")
        else:
            args += ["-m", MESSAGES[what]]
        done = repo.try_commit(when=when, who=WHO, args=args, env=env)
        if done.returncode == 0:
            said[repo.head()] = done.stderr
        else:
            assert "hourly-clock: commit refused." in done.stderr, done.stderr  # a refusal, never a crash
    return said


def _assert_one_answer(repo: HookedRepo, said: dict) -> None:
    history = []  # (sha, kind) of the markers HEAD reaches, oldest first
    for sha in repo.git("rev-list", "--reverse", "HEAD").split():
        marker = markers.parse(repo.message(sha))
        if marker is not None:
            history.append((sha, marker.kind))
    kinds = [kind for _, kind in history]
    assert kinds == [(markers.IN, markers.OUT)[i % 2] for i in range(len(kinds))]  # the hook's own rule
    report = json.loads(_hourly(repo, "report", "--all", "--format", "json"))
    assert report["anomalies"] == []
    pairs = [(s["in_commit"], s["out_commit"]) for s in report["sessions"]]
    assert pairs == [(history[i][0], history[i + 1][0]) for i in range(0, len(history) - 1, 2)]
    assert [o["in_commit"] for o in report["open"]] == ([history[-1][0]] if len(history) % 2 else [])
    for session in report["sessions"]:  # the duration the hook printed when it took the clock-out
        assert f"session {markers.format_minutes(session['seconds'])}" in said[session["out_commit"]]
    status = json.loads(_hourly(repo, "status", "--json"))
    assert status["state"] == ("in" if len(history) % 2 else "out")
    assert status["commit"] == (history[-1][0] if history else None)


def _hourly(repo: HookedRepo, *args: str) -> str:
    """`hourly` run in this process, in the repository, with its environment: what is compared is
    the hook's answer (given in its own process, through git) and the reader's, not a start of Python."""
    here = os.getcwd()
    os.chdir(repo.path)
    try:
        result = CliRunner().invoke(main, list(args),
                                    env={**repo.env, "GIT_AUTHOR_NAME": WHO[0], "GIT_AUTHOR_EMAIL": WHO[1]})
    finally:
        os.chdir(here)
    assert result.exit_code == 0, (result.exception, result.stderr)
    return result.stdout


def test_clock_out_clock_in_clock_out_at_one_time_is_refused_at_the_repeat(tmp_path, installed_hooks):
    repo = HookedRepo(tmp_path / "work")
    for name in HOOKS:
        shutil.copy2(installed_hooks / name, repo.git_dir() / "hooks" / name)
    second = int(time.time()) - 600
    when = f"@{second} +0000"
    _play(repo, [("new", "in", "editor", 0), ("new", "out", "editor", 60), ("new", "in", "editor", 0)], second)
    clock_out = repo.git("rev-parse", "HEAD~1").strip()
    head = repo.head()
    done = repo.try_commit(when=f"@{second + 60} +0000", who=WHO,
                           env={"GIT_EDITOR": "printf 'clock-out\\n' >", "GIT_COMMITTER_DATE": when})
    assert done.returncode == 1
    assert (f"This clock-out would be at {time.strftime('%Y-%m-%d %H:%M', time.gmtime(second + 60))} +00:00, "
            f"the very time of your last marker and of your clock-out before it (commit {clock_out[:7]}): "
            "history would read it as a copy of that one and drop it.") in done.stderr
    assert "wait a second and commit again" in done.stderr
    assert repo.head() == head
    assert json.loads(_hourly(repo, "status", "--json"))["state"] == "in"  # as the hook says: the refusal kept it


def test_hourly_in_out_in_at_one_time_refuses_the_repeat(tmp_path):
    repo = HookedRepo(tmp_path / "work")
    at = time.strftime("%Y-%m-%dT%H:%M+00:00", time.gmtime(time.time() - 600))
    for kind in ("in", "out"):
        done = repo.hourly(kind, "--at", at)
        assert done.returncode == 0, done.stderr
    done = repo.hourly("in", "--at", at)
    assert done.returncode == 1
    assert "not clocking in." in done.stderr and "as a copy of that one and drop it" in done.stderr
    assert repo.git("rev-list", "--count", "HEAD").strip() == "2"
    assert json.loads(repo.hourly("status", "--json").stdout)["state"] == "out"
