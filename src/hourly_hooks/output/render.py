"""Render a Timesheet as a table, CSV, JSON, Markdown or hledger timeclock.

Every renderer takes the same inputs and returns text; nothing here computes
money or time that the Timesheet did not already settle.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timedelta, tzinfo
from typing import Callable, Dict, List, Optional, Tuple, cast

from hourly_hooks import JSON_VERSION
from hourly_hooks.core import money
from hourly_hooks.core.markers import format_time
from hourly_hooks.core.sessions import Session
from hourly_hooks.core.timesheet import GROUPINGS, Group, Line, Selection, Timesheet, grouped, subtotals

FORMATS = ("table", "csv", "json", "markdown", "timeclock", "html")
__all__ = ["FORMATS", "GROUPINGS", "Group", "RENDERERS", "anomaly_lines", "groups", "total_lines"]


def groups(sheet: Timesheet, by: str) -> List[Group]:
    """Lines grouped by a period of their clock-in, by author or by repo (timesheet.grouped)."""
    return grouped(sheet, by)


def _local(moment: Optional[datetime], sheet: Timesheet) -> Optional[datetime]:
    return moment.astimezone(sheet.selection.tz) if moment else None


def stamp(moment: datetime) -> str:
    """``2020-01-03 18:44:04 -05:00``: readable, and unambiguous across zones."""
    return format_time(moment, seconds=True)


def _stamp(moment: Optional[datetime], sheet: Timesheet) -> str:
    local = _local(moment, sheet)
    return stamp(local) if local else ""


def _iso(moment: Optional[datetime], sheet: Timesheet) -> Optional[str]:
    local = _local(moment, sheet)
    return local.isoformat() if local else None


def _amount_text(sheet: Timesheet) -> str:
    return ", ".join(money.format_money(amount, currency) for currency, amount in sorted(sheet.amounts.items()))


def _line_amount(line: Line) -> str:
    """The row's amount without its currency, or "" for an unpriced line."""
    return money.format_amount(line.amount, line.rate.currency) if line.rate and line.amount is not None else ""


def total_lines(sheet: Timesheet) -> List[str]:
    """``12:54:47, 12.91 hours worked`` and, with a rate, ``1291.31 USD``."""
    rounding = sheet.selection.rounding
    # Repositories rounding differently (see subtotals) still bill rounded time.
    mixed = not rounding and any(selection.rounding for selection in sheet.repositories.values())
    if rounding or mixed:
        how = f"each session rounded {rounding}" if rounding else "each repository's rounding, below"
        lines = [f"{money.format_hms(sheet.worked_seconds)} worked, {money.format_hours(sheet.hours)} hours billed "
                 f"({how})"]
    else:
        lines = [f"{money.format_hms(sheet.seconds)}, {money.format_hours(sheet.hours)} hours worked"]
    if sheet.amounts:
        lines.append(_amount_text(sheet))
    if sheet.unpriced and sheet.amounts:
        lines.append(f"({len(sheet.unpriced)} session(s) have no rate and are not priced)")
    return lines + _subtotal_lines(sheet)


def _subtotal_lines(sheet: Timesheet) -> List[str]:
    """Per repository (client), by its own settings; they add up to the total above."""
    parts = subtotals(sheet)
    if not parts:
        return []
    width = max(display_width(part.repo) for part in parts)
    return ["Per repository (each by its own rate and rounding):"] + [
        f"  {part.repo}{' ' * (width - display_width(part.repo))}  {money.format_hours(part.sheet.hours)} hours"
        f"{', ' + _amount_text(part.sheet) if part.sheet.amounts else ''}  ({_terms(part.selection)})"
        for part in parts]


def _terms(selection: Selection) -> str:
    """A repository's rate and rounding, as its subtotal line names them."""
    rates = selection.rates
    rate = "rates per person" if rates.by_identity else (f"rate {rates.default}" if rates.default else "no rate")
    return f"{rate}, " + (f"each session rounded {selection.rounding}" if selection.rounding else "no rounding")


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
            "Hours": money.format_hours(line.hours),
        })
        if priced:
            row["Amount"] = f"{_line_amount(line)} {line.rate.currency}" if line.rate else "-"
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
               "Duration": money.format_hms(group.sheet.worked_seconds),
               "Hours": money.format_hours(group.sheet.hours)}
        if priced:
            row["Amount"] = _amount_text(group.sheet) or "-"
        rows.append(row)
    return rows


def _rows(sheet: Timesheet, by: str, billed: Dict[str, str]) -> List[Dict[str, str]]:
    return _session_rows(sheet, billed) if by == "session" else _group_rows(sheet, by)


_RIGHT = {"Duration", "Hours", "Amount", "Sessions"}


def display_width(text: str) -> int:
    """Terminal columns text takes: East Asian wide and fullwidth characters take two,
    combining marks and zero-width characters none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _aligned(rows: List[Dict[str, str]]) -> List[str]:
    if not rows:
        return []
    columns = list(rows[0])
    widths = {c: max(display_width(c), *(display_width(r[c]) for r in rows)) for c in columns}

    def cell(column: str, text: str) -> str:
        pad = " " * (widths[column] - display_width(text))
        return pad + text if column in _RIGHT else text + pad

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
    # Indented total lines (per-repository subtotals) as a list: "**  x**" is not bold in Markdown.
    lines += [""] + [f"- {text.strip()}" if text.startswith("  ") else f"**{text}**" for text in total_lines(sheet)]
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
            record.update(billed_seconds=line.seconds, hours=money.format_hours(line.hours),
                          amount=_line_amount(line),
                          currency=line.rate.currency if line.rate else "",
                          invoice=(billed or {}).get(line.session.clock_in.sha, ""))
            writer.writerow({k: "" if record.get(k) is None else record[k] for k in fields})
    else:
        fields = [by, "sessions", "seconds", "hours", "amount", "currency"]
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        for group in groups(sheet, by):
            for part in _by_currency(group.sheet):
                writer.writerow({by: group.key, "sessions": len(part.lines), "seconds": part.worked_seconds,
                                 "hours": money.format_hours(part.hours), "amount": _total_amount(part) or "",
                                 "currency": part.currency or ""})
    return out.getvalue()


def _by_currency(sheet: Timesheet) -> List[Timesheet]:
    """A group's sheet, or, when it mixes currencies, its part in each (one CSV row
    each, as the table lists each amount): their hours and amounts add up to the group's."""
    if len(sheet.amounts) < 2:
        return [sheet]
    return [part.sheet for part in grouped(sheet, "currency")]


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


def _total_amount(sheet: Timesheet) -> Optional[str]:
    """The sheet's amount without its currency when it has one currency, else None."""
    currency = sheet.currency
    return money.format_amount(sheet.amounts[currency], currency) if currency else None


def _amounts(sheet: Timesheet) -> Dict[str, str]:
    return {c: money.format_amount(a, c) for c, a in sheet.amounts.items()}


def json_text(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
              extra: Optional[dict] = None) -> str:
    """The JSON document, on one line; `extra`: more keys, after the others (the budget).

    Compact on purpose: json's C encoder is not used with indent, and at 10k
    sessions pretty-printing costs more than reading the history (pipe to jq).
    """
    billed = billed or {}
    parts = groups(sheet, by) if by != "session" else []
    lines = sheet.lines
    if parts:
        # The sessions as their groups share them out, so that they add up to
        # the groups beside them; in the sheet's order.
        position = {id(line.session): index for index, line in enumerate(sheet.lines)}
        lines = sorted((line for group in parts for line in group.sheet.lines),
                       key=lambda line: position[id(line.session)])
    document = {
        "version": JSON_VERSION,
        "sessions": _json_sessions(lines, sheet, billed),
        "open": [_session_record(s, sheet) for s in sheet.open],
        "anomalies": [{"kind": a.kind, "commits": list(a.commits), "message": a.message,
                       "identity": a.identity} for a in sheet.anomalies],
        "total": {
            "sessions": len(sheet.lines),
            "seconds": sheet.worked_seconds,
            "billed_seconds": sheet.seconds,
            "hours": money.format_hours(sheet.hours),
            "amount": _total_amount(sheet),
            "currency": sheet.currency,
            "amounts": _amounts(sheet),
        },
    }
    if parts:
        document["groups"] = [
            {"by": by, "key": g.key, "sessions": len(g.sheet.lines), "seconds": g.sheet.worked_seconds,
             "hours": money.format_hours(g.sheet.hours), "amounts": _amounts(g.sheet)}
            for g in parts]
    repositories = subtotals(sheet)
    if repositories:  # several repositories: each one's figures, by its own settings
        document["repositories"] = [
            {"repo": part.repo, "sessions": len(part.sheet.lines), "seconds": part.sheet.worked_seconds,
             "billed_seconds": part.sheet.seconds, "hours": money.format_hours(part.sheet.hours),
             "amounts": _amounts(part.sheet),
             "rate": str(part.selection.rates.default) if part.selection.rates.default else None,
             "rounding": str(part.selection.rounding) if part.selection.rounding else None}
            for part in repositories]
    document.update(extra or {})
    return json.dumps(document) + "\n"


def _json_sessions(lines: List[Line], sheet: Timesheet, billed: Dict[str, str]) -> List[dict]:
    """Each line's session record (_session_record's keys, then what it bills). On big
    histories these are most of the report's work after reading: a value that repeats
    (hours, amounts) is formatted once."""
    tz = sheet.selection.tz
    hours: Dict[object, str] = {}
    records = []
    for line in lines:
        session, rate = line.session, line.rate
        clock_out = session.clock_out
        assert clock_out is not None, "a timesheet line is a closed session"
        shown = hours.get(line.hours)
        if shown is None:
            shown = hours[line.hours] = money.format_hours(line.hours)
        records.append({
            "author": session.author,
            "start": datetime.fromtimestamp(session.clock_in.effective_epoch, tz).isoformat(),
            "end": datetime.fromtimestamp(clock_out.effective_epoch, tz).isoformat(),
            "seconds": session.seconds,
            "in_commit": session.clock_in.sha,
            "out_commit": clock_out.sha,
            "note": session.note,
            "repo": session.repo,
            "billed_seconds": line.seconds,
            "hours": shown,
            "amount": _line_amount(line) or None,
            "currency": rate.currency if rate else None,
            "invoice": billed.get(session.clock_in.sha),
        })
    return records


def timeclock(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None) -> str:
    """hledger's timeclock format: ``i`` and ``o`` lines in sheet's zone, so that
    ``hledger -f FILE balance`` totals exactly the hours the table shows.

    hledger reads the times as wall-clock times (it ignores any UTC offset
    written after them), ends an entry that crosses midnight at 23:59:59
    (dropping a second) and rounds each entry to the hundredth of an hour. So
    each session is written as its shown hours (``line.hours``, which add up
    to the table's total), laid out from its start in real time, and cut
    before each midnight and each change of UTC offset (DST) into pieces that
    are whole hundredths of an hour (36 s): within a piece, wall-clock time
    runs as real time, so hledger's difference is the piece's length and its
    rounding changes nothing, and every time written exists on the wall clock
    (none in the hour skipped in spring; the hour repeated in autumn is
    written twice, as it happened). Times may so differ from the session's by
    up to a minute or so.
    """
    tz = sheet.selection.tz
    out: List[str] = []
    for line in sorted(sheet.lines, key=lambda l: l.session.start):
        session = line.session
        account = " ".join(f"{session.repo}:{session.clock_in.name}".split())
        note = " ".join(session.note.split())
        opening = f" {account}" + (f"  {note}" if note else "")
        seconds = int(line.hours.scaleb(2)) * money.SECONDS_PER_HOURS_PLACE
        for begin, end in _wall_pieces(session.clock_in.effective_epoch, seconds, tz):
            out.append(f"i {begin:%Y/%m/%d %H:%M:%S}{opening}")
            out.append(f"o {end:%Y/%m/%d %H:%M:%S}")
    return "\n".join(out) + ("\n" if out else "")


def _wall_pieces(start: int, seconds: int, tz: tzinfo) -> List[Tuple[datetime, datetime]]:
    """Wall-clock (begin, end) pieces that sum to seconds from the epoch second start,
    each within one day and one UTC offset, ending by the second before the next
    midnight or offset change; whole hundredths of an hour each when seconds is."""
    step = money.SECONDS_PER_HOURS_PLACE
    pieces: List[Tuple[datetime, datetime]] = []
    cursor, left = start, seconds
    while True:
        begin = datetime.fromtimestamp(cursor, tz)
        change = _wall_change(cursor, cursor + left, tz)
        room = left if change is None else change - 1 - cursor
        piece = left if left <= room else room // step * step
        if piece or not pieces and left == 0:
            pieces.append((begin, begin + timedelta(seconds=piece)))  # same offset: wall = real
        left -= piece
        if left <= 0:
            return pieces
        cursor = cast(int, change)


def _wall(epoch: int, tz: tzinfo) -> Tuple[date, Optional[timedelta]]:
    moment = datetime.fromtimestamp(epoch, tz)
    return moment.date(), moment.utcoffset()


def _wall_change(start: int, end: int, tz: tzinfo) -> Optional[int]:
    """The first epoch second in (start, end] whose day or UTC offset on the wall clock
    differs from start's, or None; by bisection (once per midnight or DST change)."""
    first = _wall(start, tz)
    if _wall(end, tz) == first and end - start < 86400:
        return None
    low, high = start, min(end, start + 86400)  # a change within a day, always
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(middle, tz) == first:
            low = middle
        else:
            high = middle
    return high


RENDERERS: Dict[str, Callable[..., str]] = {
    "table": table, "csv": csv_text, "json": json_text, "markdown": markdown, "timeclock": timeclock,
}


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
