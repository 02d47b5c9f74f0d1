"""Clocking in and out from the command line: `hourly in` / `hourly out`.

The marker commit is written in canonical subject form after the hook's own
rules (clockrules.check), so it is just as strict when no hook is installed.
Staged changes go into the marker commit, as asherp/hourly's `hourly-in` did;
with nothing staged it is an empty commit. Nothing is written while a merge,
rebase, cherry-pick or revert is under way, since the commit would conclude it.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timedelta, timezone
from typing import List

from hourly_hooks import history
from hourly_hooks.core import clockrules, markers
from hourly_hooks.git import worktree
from hourly_hooks.errors import Rejected, UsageError
from hourly_hooks.git.run import git_text, run_git
from hourly_hooks.git.repository import Repository, author_ident


def record(kind: str, note: str, ago, at) -> List[str]:
    """Commit the clock marker; the lines that tell the user what was recorded."""
    repo = Repository()
    worktree.refuse_during_operation(f"hourly {kind}", repo.top)
    name, email, authored, tz = author_ident(repo.cwd)
    offset = _offset(ago, at, authored, tz)
    note = _check_note(note)
    identity = repo.canonical_email(name, email)
    last = history.last_marker(repo, identity)
    if last is not None and last.epoch == authored:
        # git dates are whole seconds and markers are ordered by them: a second
        # marker in the same second could not be ordered (and the hook would
        # refuse it as maybe an --amend of HEAD). Wait for the next second.
        time.sleep(1.05 - (time.time() % 1))
        authored += 1
        offset = _offset(ago, at, authored, tz)  # --at names a time: one second more to reach back to it
    problem = clockrules.check(kind, authored, int(offset.total_seconds()), last, tz=tz,
                               earlier=lambda: history.marker_before(repo, identity, last))
    message = markers.format_marker(kind, offset, note)
    if problem:
        raise Rejected(f"not clocking {kind}.\n" + problem.text(
            [f"or record it anyway: git commit --allow-empty --no-verify -m \"{message}\""]))
    code, out, _ = run_git(["diff", "--cached", "--name-only", "-z"], repo.cwd)
    staged = len([path for path in out.split(b"\0") if path]) if code == 0 else 0
    sha = _commit(repo, message, authored, tz)
    effective = authored - int(offset.total_seconds())
    what = f"with {staged} staged file(s)" if staged else "empty commit"
    lines = [f"Clocked {kind} at {clockrules.stamp(effective, tz)}: {message}  ({sha[:7]}, {what})"]
    if kind == markers.OUT and last is not None and last.kind == markers.IN:
        worked = markers.format_minutes(effective - last.effective_epoch)
        lines.append(f"Session: {worked} since {clockrules.stamp(last.effective_epoch, last.tz)}.")
    return lines


def _offset(ago, at, authored: int, tz: int) -> timedelta:
    if ago and at:
        raise UsageError("give --ago or --at, not both")
    if ago:
        try:
            return markers.parse_duration(ago)
        except ValueError as error:
            raise UsageError(f"--ago: {error}") from None
    if at:
        when = _parse_at(at, authored, tz)
        seconds = authored - int(when.timestamp())
        if seconds < 0:
            raise UsageError(f"--at {at} is in the future; the future is not billable")
        return timedelta(seconds=seconds)
    return timedelta(0)


def _parse_at(text: str, authored: int, tz: int) -> datetime:
    """--at in the commit's UTC offset (see periods.parse_at for the forms)."""
    from hourly_hooks.core import periods

    now = datetime.fromtimestamp(authored, timezone(timedelta(minutes=tz)))
    try:
        return periods.parse_at(text, now)
    except ValueError as error:
        raise UsageError(f"--at: {error}") from None


def _check_note(note: str) -> str:
    note = " ".join(note.split())
    if re.match(r"[Tt][-+]", note):
        raise UsageError(f"the note {note!r} would read as an offset; use --ago / --at for offsets")
    return note


def _commit(repo, message: str, authored: int, tz: int) -> str:
    """git commit (hooks run: the clock hook, pre-commit's key check) at exactly `authored`."""
    sign, minutes = ("-" if tz < 0 else "+"), abs(tz)
    env = dict(os.environ, GIT_AUTHOR_DATE=f"@{authored} {sign}{minutes // 60:02d}{minutes % 60:02d}")
    code, out, err = run_git(["commit", "-q", "--allow-empty", "-m", message], repo.top, env=env)
    if code:
        output = (out + err).decode("utf-8", "replace").strip()
        raise Rejected(f"git commit failed:\n{output}" if output else "git commit failed")
    return git_text(["rev-parse", "HEAD"], repo.top).strip()
