"""`hourly in`, `hourly out`, `hourly status`, `hourly install-hook`, `hourly uninstall-hook`.

`in` / `out` write the marker commit in canonical subject form and apply the
hook's rules themselves (clockrules.check), so they are just as strict when
no hook is installed. Staged changes go into the marker commit, as
asherp/hourly's `hourly-in` did; with nothing staged it is an empty commit.
They refuse while a merge, rebase, cherry-pick or revert is under way, since
their commit would conclude it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

import click

from hourly_hooks import budget, clockrules, hookinstall, markers, store, worktree
from hourly_hooks import config as config_module
from hourly_hooks.gitcmd import git_text, run_git
from hourly_hooks.repository import Repository, author_ident
from hourly_hooks.commands.jsonflag import VERSION, output_format
from hourly_hooks.completion import complete_tz
from hourly_hooks.errors import ConfigError, GitError, Rejected, UsageError


@click.command("in")
@click.option("-m", "--message", "note", default="", metavar="NOTE", help="A note kept in the marker.")
@click.option("--ago", metavar="DURATION", help="Clocked in this long ago, e.g. 15m or 1h30m.")
@click.option("--at", "at", metavar="TIME", help="Clocked in at this time: 09:30, 9:30pm, 'yesterday 17:30', an ISO date-time.")
def clock_in(note: str, ago: str, at: str) -> None:
    """Clock in: commit `clock-in[: T-<offset>] [NOTE]` (staged changes included).

    \b
    Examples:
      hourly in
      hourly in --ago 15m -m "parser work"
      hourly in --at 09:30
    """
    _clock(markers.IN, note, ago, at)


@click.command("out")
@click.option("-m", "--message", "note", default="", metavar="NOTE", help="A note kept in the marker.")
@click.option("--ago", metavar="DURATION", help="Clocked out this long ago, e.g. 10m.")
@click.option("--at", "at", metavar="TIME", help="Clocked out at this time: 17:30, 5:30pm, 'yesterday 17:30', an ISO date-time.")
def clock_out(note: str, ago: str, at: str) -> None:
    """Clock out: commit `clock-out[: T-<offset>] [NOTE]` (staged changes included).

    \b
    Examples:
      hourly out
      hourly out --ago 10m -m "fixed the parser"
    """
    _clock(markers.OUT, note, ago, at)


def _clock(kind: str, note: str, ago, at) -> None:
    repo = Repository()
    worktree.refuse_during_operation(f"hourly {kind}", repo.top)
    name, email, authored, tz = author_ident(repo.cwd)
    offset = _offset(ago, at, authored, tz)
    note = _check_note(note)
    identity = repo.canonical_email(name, email)
    last = store.last_marker(repo, identity)
    if last is not None and last.epoch == authored:
        # git dates are whole seconds and markers are ordered by them: a second
        # marker in the same second could not be ordered (and the hook would
        # take it for an --amend of HEAD). Wait for the next second.
        time.sleep(1.05 - (time.time() % 1))
        authored += 1
    problem = clockrules.check(kind, authored, int(offset.total_seconds()), last, tz=tz)
    if problem:
        raise Rejected(f"not clocking {kind}.\n" + problem.text(
            ["or record it anyway: git commit --allow-empty --no-verify -m "
             f"\"{markers.format_marker(kind, offset, note)}\""]))
    message = markers.format_marker(kind, offset, note)
    staged = _staged_count(repo)
    sha = _commit(repo, message, authored, tz)
    effective = authored - int(offset.total_seconds())
    what = f"with {staged} staged file(s)" if staged else "empty commit"
    click.echo(f"Clocked {kind} at {clockrules.stamp(effective, tz)}: {message}  ({sha[:7]}, {what})")
    if kind == markers.OUT and last is not None and last.kind == markers.IN:
        worked = markers.format_minutes(effective - last.effective_epoch)
        click.echo(f"Session: {worked} since {clockrules.stamp(last.effective_epoch, last.tz)}.")


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
    from hourly_hooks import periods

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


def _staged_count(repo) -> int:
    code, out, _ = run_git(["diff", "--cached", "--name-only", "-z"], repo.cwd)
    return len([p for p in out.split(b"\0") if p]) if code == 0 else 0


def _commit(repo, message: str, authored: int, tz: int) -> str:
    """git commit (hooks run: the clock hook, pre-commit's key check) at exactly `authored`."""
    sign, minutes = ("-" if tz < 0 else "+"), abs(tz)
    env = dict(os.environ, GIT_AUTHOR_DATE=f"@{authored} {sign}{minutes // 60:02d}{minutes % 60:02d}")
    done = subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message],
                          cwd=repo.top, env=env, capture_output=True, text=True)
    if done.returncode:
        output = (done.stdout + done.stderr).strip()
        raise Rejected(f"git commit failed:\n{output}" if output else "git commit failed")
    return git_text(["rev-parse", "HEAD"], repo.top).strip()


@click.command("install-hook")
@click.option("--force", is_flag=True, help="Replace existing foreign hooks instead of chaining them.")
@click.option("--print", "print_hook", is_flag=False, flag_value=hookinstall.HOOK, default=None,
              type=click.Choice(list(hookinstall.HOOKS)),
              help="Print the commit-msg hook script (or --print=pre-commit / prepare-commit-msg), filled in for this Python, "
                   "for a manual install; changes nothing.")
def install_hook(force: bool, print_hook) -> None:
    """Install the plain git hooks (for repositories without pre-commit).

    Three hooks: commit-msg checks clock markers (hourly-clock),
    prepare-commit-msg notes whether git is amending (hourly-clock-source),
    pre-commit refuses private keys and BTCPay secrets (hourly-protect-keys). They go
    where `git rev-parse --git-path hooks` points (core.hooksPath and
    worktrees are honoured). An existing hook keeps working: it is moved to
    <hook>.pre-hourly and run first. Running it again is harmless.

    \b
    Examples:
      hourly install-hook
      hourly install-hook --print > .git/hooks/commit-msg
    """
    if print_hook:
        click.echo(hookinstall.render(sys.executable, hook=print_hook), nl=False)
        return
    click.echo(hookinstall.install(force=force))
    _warm_cache()


def _warm_cache() -> None:
    # The first look-up reads the whole history once (seconds on a huge
    # repository); do it now rather than in the user's first commit.
    from hourly_hooks import store
    from hourly_hooks.repository import Repository
    try:
        repo = Repository()
        if repo.head and store.enabled() and not os.path.exists(store.store_path(repo)):
            click.echo("Reading the history once into the marker store...", err=True)
            store.last_marker(repo, "")
    except GitError:
        pass


@click.command("uninstall-hook")
def uninstall_hook() -> None:
    """Remove the hooks that `hourly install-hook` installed (and nothing else)."""
    click.echo(hookinstall.uninstall())


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default=None,
              help="Output format [default: text].")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--tz", metavar="ZONE", shell_complete=complete_tz,
              help="Time zone for today / this week (default: config, else local).")
def status(fmt, as_json: bool, tz) -> None:
    """Clocked in or out and since when; today's and this week's totals; the budget; recent anomalies.

    \b
    Examples:
      hourly status
      hourly status --json
    """
    as_json = output_format(fmt, as_json, "text") == "json"
    report = _status(tz)
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(_status_lines(report)))


def _status(tz_name) -> dict:
    """Everything `hourly status` shows, as plain data (the JSON document)."""
    from hourly_hooks import periods, store
    from hourly_hooks.commands.options import load_timesheet
    from hourly_hooks.repository import Repository, author_ident

    repo = Repository()
    name, email, now, _ = author_ident(repo.cwd)
    identity = repo.canonical_email(name, email)
    last = store.last_marker(repo, identity) if repo.head else None
    report = {"version": VERSION, "identity": identity, "state": last.kind if last else "out", "since": None,
              "seconds": None, "commit": last.sha if last else None,
              "hook": hookinstall.status(repo.top), "budget": None}
    if last is not None:
        report["since"] = last.effective.isoformat()
        report["seconds"] = max(0, now - last.effective_epoch)
    if not repo.head:
        report.update(today=_total([], None, 0), week=_total([], None, 0), anomalies=[])
        return report
    try:
        zone = periods.zone(tz_name) if tz_name else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    moment = datetime.fromtimestamp(now, timezone.utc)
    window = moment - timedelta(days=30)
    cfg = config_module.load(repo.top, flags={"tz": tz_name})
    zone = zone or cfg.parsed("tz", periods.zone)
    plan = _budget_spec(cfg)
    if plan is not None:  # a month or a contract can reach back further than 30 days
        window = min(window, budget.bounds(plan, moment, zone)[0])
    # Everyone's markers, then this identity's sessions: the same store scope
    # as `hourly report` and the hook (an --author pattern would be a scope of its own).
    params = {"since": window.isoformat(), "tz": tz_name, "repo": (repo.top,)}
    sheet = load_timesheet(params).timesheet

    def mine(sessions):
        return [s for s in sessions if s.clock_in.email.lower() == identity]

    running = mine(sheet.open)
    today = periods.period("today", zone, moment)
    week = periods.period("this-week", zone, moment)
    report["today"] = _total(mine(sheet.sessions), running, now, *today)
    report["week"] = _total(mine(sheet.sessions), running, now, *week)
    report["anomalies"] = [{"kind": a.kind, "when": a.when.isoformat(), "commits": list(a.commits),
                            "message": a.message} for a in sheet.anomalies if a.identity == identity]
    if plan is not None:
        # Billed (rounded) seconds, as the report and the invoice count them, and the running session's so far.
        spent = [(line.session.start, line.seconds) for line in sheet.lines
                 if line.session.clock_in.email.lower() == identity]
        spent += [(s.start, max(0, now - int(s.start.timestamp()))) for s in running]
        report["budget"] = budget.usage(plan, spent, moment, zone).to_json()
    return report


def _budget_spec(cfg) -> Optional[budget.Spec]:
    """The configured budget (the configuration's own checks have read its format)."""
    try:
        return budget.spec_of(cfg.get("budget"), cfg.get("contract"), cfg.get("contract_start"))
    except ValueError as error:
        raise ConfigError(f"budget: {error}") from None


def _total(sessions, running, now: int, start=None, end=None) -> dict:
    """Closed sessions that started in [start, end), and the running one's time so far."""
    def inside(session):
        return start is None or start <= session.start < end
    from hourly_hooks import money
    closed = sum(s.seconds for s in sessions if inside(s))
    open_now = sum(max(0, now - int(s.start.timestamp())) for s in (running or []) if inside(s))
    # The report's own rounding of seconds to hours (Decimal), so both show the same figure.
    return {"seconds": closed + open_now, "closed_seconds": closed, "running_seconds": open_now,
            "hours": str(money.hours(closed + open_now))}


def _status_lines(report: dict) -> list:
    duration = markers.format_minutes
    if report["commit"] is None:
        lines = ["Clocked out: no clock marker of yours in this history."]
    else:
        since = datetime.fromisoformat(report["since"])
        when = since.strftime("%Y-%m-%d %H:%M %z")
        lines = [f"Clocked {report['state']} since {when} "
                 f"({duration(report['seconds'])} ago, commit {report['commit'][:7]})."]
    for label in ("today", "week"):
        total = report[label]
        running = f", {duration(total['running_seconds'])} of it running" \
            if total["running_seconds"] else ""
        title = "Today" if label == "today" else "This week"
        lines.append(f"{title}: {duration(total['seconds'])} "
                     f"({total['hours']} h{running}).")
    if report.get("budget"):
        lines.append(budget.describe(report["budget"]))
    if report["anomalies"]:
        lines.append(f"Anomalies in the last 30 days ({len(report['anomalies'])}):")
        lines += [f"  - {a['message']}" for a in report["anomalies"]]
    else:
        lines.append("No anomalies in the last 30 days.")
    if report["hook"] not in ("installed", "pre-commit"):
        lines.append("Hint: no hourly commit-msg hook here; `hourly install-hook` or pre-commit checks every marker.")
    return lines
