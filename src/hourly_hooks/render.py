"""Render a Timesheet as a table, CSV, JSON, Markdown or hledger timeclock.

Every renderer takes the same inputs and returns text; nothing here computes
money or time that the Timesheet did not already settle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional

from hourly_hooks import money
from hourly_hooks.periods import week_start
from hourly_hooks.sessions import Session
from hourly_hooks.timesheet import Line, Timesheet

FORMATS = ("table", "csv", "json", "markdown", "timeclock", "html")
GROUPINGS = ("session", "day", "week", "month", "author", "repo")


@dataclass(frozen=True)
class Group:
    key: str
    sheet: Timesheet


def _local(moment: Optional[datetime], sheet: Timesheet) -> Optional[datetime]:
    return moment.astimezone(sheet.selection.tz) if moment else None


def stamp(moment: datetime) -> str:
    """``2020-01-03 18:44:04 -05:00``: readable, and unambiguous across zones."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def _stamp(moment: Optional[datetime], sheet: Timesheet) -> str:
    local = _local(moment, sheet)
    return stamp(local) if local else ""


def _iso(moment: Optional[datetime], sheet: Timesheet) -> Optional[str]:
    local = _local(moment, sheet)
    return local.isoformat() if local else None


def _group_key(by: str, line: Line, sheet: Timesheet) -> str:
    start = _local(line.session.start, sheet)
    if by == "day":
        return start.date().isoformat()
    if by == "week":
        monday = week_start(start.date())
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d} ({monday.isoformat()})"
    if by == "month":
        return start.strftime("%Y-%m")
    if by == "author":
        return line.session.author
    return line.session.repo


def groups(sheet: Timesheet, by: str) -> List[Group]:
    """Lines grouped by a period of their clock-in, by author or by repo."""
    buckets: Dict[str, List[Line]] = {}
    for line in sheet.lines:
        buckets.setdefault(_group_key(by, line, sheet), []).append(line)
    return [Group(key, Timesheet(sheet.selection, lines=lines)) for key, lines in sorted(buckets.items())]


def _amount_text(sheet: Timesheet) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(sheet.amounts.items()))


def total_lines(sheet: Timesheet) -> List[str]:
    """``12:54:47, 12.91 hours worked`` and, with a rate, ``1291.31 USD``."""
    rounding = sheet.selection.rounding
    if rounding:
        lines = [f"{money.format_hms(sheet.worked_seconds)} worked, {sheet.hours} hours billed "
                 f"(each session rounded {rounding})"]
    else:
        lines = [f"{money.format_hms(sheet.seconds)}, {sheet.hours} hours worked"]
    if sheet.amounts:
        lines.append(_amount_text(sheet))
    if sheet.unpriced and sheet.amounts:
        lines.append(f"({len(sheet.unpriced)} session(s) have no rate and are not priced)")
    return lines


# --- rows shared by table, csv and markdown -------------------------------------------

def _session_rows(sheet: Timesheet, billed: Dict[str, str]) -> List[Dict[str, str]]:
    many_authors = len({line.session.identity for line in sheet.lines}) > 1
    many_repos = len({line.session.repo for line in sheet.lines}) > 1
    priced = bool(sheet.amounts)  # once: it sums every line
    rows = []
    for line in sheet.lines:
        session = line.session
        row = {}
        if many_authors:
            row["Author"] = session.author
        if many_repos:
            row["Repo"] = session.repo
        row.update({
            "Start": _stamp(session.start, sheet),
            "End": _stamp(session.end, sheet),
            "Duration": money.format_hms(session.seconds),
            "Hours": str(line.hours),
        })
        if priced:
            row["Amount"] = f"{line.amount} {line.rate.currency}" if line.rate else "-"
        if billed:
            row["Invoice"] = billed.get(session.clock_in.sha, "")
        row["Note"] = session.note
        rows.append(row)
    return rows


def _group_rows(sheet: Timesheet, by: str) -> List[Dict[str, str]]:
    priced = bool(sheet.amounts)
    rows = []
    for group in groups(sheet, by):
        row = {by.capitalize(): group.key, "Sessions": str(len(group.sheet.lines)),
               "Duration": money.format_hms(group.sheet.worked_seconds), "Hours": str(group.sheet.hours)}
        if priced:
            row["Amount"] = _amount_text(group.sheet) or "-"
        rows.append(row)
    return rows


def _rows(sheet: Timesheet, by: str, billed: Dict[str, str]) -> List[Dict[str, str]]:
    return _session_rows(sheet, billed) if by == "session" else _group_rows(sheet, by)


_RIGHT = {"Duration", "Hours", "Amount", "Sessions"}


def _aligned(rows: List[Dict[str, str]]) -> List[str]:
    if not rows:
        return []
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}

    def cell(column: str, text: str) -> str:
        return text.rjust(widths[column]) if column in _RIGHT else text.ljust(widths[column])

    out = ["  ".join(cell(c, c) for c in columns).rstrip()]
    out += ["  ".join(cell(c, r[c]) for c in columns).rstrip() for r in rows]
    return out


def _open_lines(sheet: Timesheet) -> List[str]:
    if not sheet.open:
        return []
    lines = ["", "Open (clocked in, not billed):"]
    lines += [f"  {session.author}  since {_stamp(session.start, sheet)}  ({session.clock_in.short})"
              for session in sheet.open]
    return lines


def table(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    rows = _rows(sheet, by, billed or {})
    lines = _aligned(rows) if rows else ["No sessions in this period."]
    lines += [""] + total_lines(sheet) + _open_lines(sheet)
    return "\n".join(lines) + "\n"


def markdown(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    rows = _rows(sheet, by, billed or {})
    lines = []
    if rows:
        columns = list(rows[0])
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "|".join("---:" if c in _RIGHT else "---" for c in columns) + "|")
        lines += ["| " + " | ".join(r[c].replace("|", "\\|") for c in columns) + " |" for r in rows]
    else:
        lines.append("No sessions in this period.")
    lines += [""] + [f"**{text}**" for text in total_lines(sheet)]
    lines += [line if not line.startswith("  ") else f"- {line.strip()}" for line in _open_lines(sheet)]
    return "\n".join(lines) + "\n"


def csv_text(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    import csv
    import io

    out = io.StringIO()
    if by == "session":
        fields = ["author", "start", "end", "seconds", "billed_seconds", "hours", "amount", "currency",
                  "note", "in_commit", "out_commit", "repo", "invoice"]
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        for line in sheet.lines:
            record = _session_record(line.session, sheet)
            record.update(billed_seconds=line.seconds, hours=str(line.hours),
                          amount=str(line.amount) if line.rate else "",
                          currency=line.rate.currency if line.rate else "",
                          invoice=(billed or {}).get(line.session.clock_in.sha, ""))
            writer.writerow({k: "" if record.get(k) is None else record[k] for k in fields})
    else:
        fields = [by, "sessions", "seconds", "hours", "amount", "currency"]
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        for group in groups(sheet, by):
            currency = group.sheet.currency
            writer.writerow({by: group.key, "sessions": len(group.sheet.lines),
                             "seconds": group.sheet.worked_seconds, "hours": str(group.sheet.hours),
                             "amount": str(group.sheet.amount) if currency else "",
                             "currency": currency or ""})
    return out.getvalue()


def _session_record(session: Session, sheet: Timesheet) -> dict:
    return {
        "author": session.author,
        "start": _iso(session.start, sheet),
        "end": _iso(session.end, sheet),
        "seconds": session.seconds,
        "in_commit": session.clock_in.sha,
        "out_commit": session.clock_out.sha if session.clock_out else None,
        "note": session.note,
        "repo": session.repo,
    }


def json_text(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    billed = billed or {}
    tz = sheet.selection.tz
    sessions = []
    for line in sheet.lines:  # one dict literal a session: this loop runs 10k times on big histories
        session, rate = line.session, line.rate
        clock_in, clock_out = session.clock_in, session.clock_out
        sessions.append({
            "author": f"{clock_in.name} <{clock_in.email}>",
            "start": session.start.astimezone(tz).isoformat(),
            "end": session.end.astimezone(tz).isoformat(),
            "seconds": session.seconds,
            "in_commit": clock_in.sha,
            "out_commit": clock_out.sha,
            "note": session.note,
            "repo": clock_in.repo,
            "billed_seconds": line.seconds,
            "hours": str(line.hours),
            "amount": str(line.amount) if rate else None,
            "currency": rate.currency if rate else None,
            "invoice": billed.get(clock_in.sha),
        })
    currency = sheet.currency
    document = {
        "sessions": sessions,
        "open": [_session_record(s, sheet) for s in sheet.open],
        "anomalies": [{"kind": a.kind, "commits": list(a.commits), "message": a.message,
                       "identity": a.identity} for a in sheet.anomalies],
        "total": {
            "sessions": len(sheet.lines),
            "seconds": sheet.worked_seconds,
            "billed_seconds": sheet.seconds,
            "hours": str(sheet.hours),
            "amount": str(sheet.amount) if currency else None,
            "currency": currency,
            "amounts": {c: str(a) for c, a in sheet.amounts.items()},
        },
    }
    if by != "session":
        document["groups"] = [
            {"by": by, "key": g.key, "sessions": len(g.sheet.lines), "seconds": g.sheet.worked_seconds,
             "hours": str(g.sheet.hours), "amounts": {c: str(a) for c, a in g.sheet.amounts.items()}}
            for g in groups(sheet, by)]
    # Compact on purpose: json's C encoder is not used with indent, and at 10k
    # sessions pretty-printing costs more than reading the history (pipe to jq).
    return json.dumps(document) + "\n"


def timeclock(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    """hledger's timeclock format: an ``i`` and an ``o`` line per session, in sheet's zone.

    With a billing increment the ``o`` time is start + billed duration, so hledger's
    totals match the invoice.
    """
    out = []
    for line in sorted(sheet.lines, key=lambda l: l.session.start):
        session = line.session
        start = _local(session.start, sheet)
        end = start + timedelta(seconds=line.seconds)
        account = f"{session.repo}:{session.clock_in.name}".replace("  ", " ")
        note = " ".join(session.note.split())
        out.append(f"i {start:%Y/%m/%d %H:%M:%S} {account}" + (f"  {note}" if note else ""))
        out.append(f"o {end:%Y/%m/%d %H:%M:%S}")
    return "\n".join(out) + ("\n" if out else "")


RENDERERS: Dict[str, Callable[..., str]] = {
    "table": table, "csv": csv_text, "json": json_text, "markdown": markdown, "timeclock": timeclock,
}
from hourly_hooks.html_report import html as _html  # noqa: E402 - it reuses the rows above
RENDERERS["html"] = _html


def anomaly_lines(sheet: Timesheet) -> List[str]:
    """For stderr: each anomaly with its commits and one line of explanation."""
    if not sheet.anomalies:
        return []
    lines = [f"{len(sheet.anomalies)} anomal{'y' if len(sheet.anomalies) == 1 else 'ies'} (not billed):"]
    for anomaly in sheet.anomalies:
        shas = ", ".join(sha[:10] for sha in anomaly.commits)
        lines.append(f"  {anomaly.kind} [{shas}] {anomaly.identity}: {anomaly.message}")
    lines.append("  Fix the markers, or list an errant commit in `exclude` in .hourly.toml.")
    return lines
