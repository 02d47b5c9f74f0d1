"""What `hourly status` shows, as plain data: clocked in or out and since when,
today's and this week's totals (the report's own Decimal hours), the budget and
recent anomalies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from hourly_hooks.core import budget, markers
from hourly_hooks.hooks import install as hookinstall
from hourly_hooks import config as config_module
from hourly_hooks import JSON_VERSION
from hourly_hooks.errors import ConfigError, UsageError


def status_report(tz_name, load_timesheet) -> dict:
    """Everything `hourly status` shows, as plain data (the JSON document).

    ``load_timesheet`` is the command layer's (commands/options.py), passed in so
    this module does not import upward: the same selection as `hourly report`.
    """
    from hourly_hooks import history, zones
    from hourly_hooks.core import periods
    from hourly_hooks.git.repository import Repository, author_ident

    repo = Repository()
    name, email, now, _ = author_ident(repo.cwd)
    identity = repo.canonical_email(name, email)
    last = history.last_marker(repo, identity) if repo.head else None
    report = {"version": JSON_VERSION, "identity": identity, "state": last.kind if last else "out",
              "since": last.effective.isoformat() if last else None,
              "seconds": max(0, now - last.effective_epoch) if last else None, "commit": last.sha if last else None,
              "hook": hookinstall.status(repo.top), "budget": None}
    if not repo.head:
        report.update(today=total([], None, 0), week=total([], None, 0), anomalies=[])
        return report
    try:
        zone = zones.zone(tz_name) if tz_name else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    moment = datetime.fromtimestamp(now, timezone.utc)
    window = moment - timedelta(days=30)
    cfg = config_module.load(repo.top, flags={"tz": tz_name})
    zone = zone or cfg.parsed("tz", zones.zone)
    plan = budget_spec(cfg)
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
    report["today"] = total(mine(sheet.sessions), running, now, *today)
    report["week"] = total(mine(sheet.sessions), running, now, *week)
    report["anomalies"] = [{"kind": a.kind, "when": a.when.isoformat(), "commits": list(a.commits),
                            "message": a.message} for a in sheet.anomalies if a.identity == identity]
    if plan is not None:
        # Billed (rounded) seconds, as the report and the invoice count them, and the running session's so far.
        spent = [(line.session.start, line.seconds) for line in sheet.lines
                 if line.session.clock_in.email.lower() == identity]
        spent += [(s.start, max(0, now - int(s.start.timestamp()))) for s in running]
        report["budget"] = budget.usage(plan, spent, moment, zone).to_json()
    return report


def budget_spec(cfg) -> Optional[budget.Spec]:
    """The configured budget (the configuration's own checks have read its format)."""
    try:
        return budget.spec_of(cfg.get("budget"), cfg.get("contract"), cfg.get("contract_start"))
    except ValueError as error:
        raise ConfigError(f"budget: {error}") from None


def total(sessions, running, now: int, start=None, end=None) -> dict:
    """Closed sessions that started in [start, end), and the running one's time so far."""
    def inside(session):
        return start is None or start <= session.start < end
    from hourly_hooks.core import money
    closed = sum(s.seconds for s in sessions if inside(s))
    open_now = sum(max(0, now - int(s.start.timestamp())) for s in (running or []) if inside(s))
    # The report's own rounding of seconds to hours (Decimal), so both show the same figure.
    return {"seconds": closed + open_now, "closed_seconds": closed, "running_seconds": open_now,
            "hours": str(money.hours(closed + open_now))}


def status_lines(report: dict) -> list:
    duration = markers.format_minutes
    if report["commit"] is None:
        lines = ["Clocked out: no clock marker of yours in this history."]
    else:
        when = markers.format_time(datetime.fromisoformat(report["since"]))
        lines = [f"Clocked {report['state']} since {when} "
                 f"({duration(report['seconds'])} ago, commit {report['commit'][:7]})."]
    for label, title in (("today", "Today"), ("week", "This week")):
        total = report[label]
        running = f", {duration(total['running_seconds'])} of it running" if total["running_seconds"] else ""
        lines.append(f"{title}: {duration(total['seconds'])} ({total['hours']} h{running}).")
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
