"""The table people read in a terminal, and its Markdown twin.

The default table fits 80 columns: the date, the clock times (the zone is
stated once, on the period line above), the person's name, hours, amount,
invoice and note; the columns that vary in length (note, repository, person)
are cut with "…" to fit, the widest first. ``--wide`` keeps the full
layout: complete times with their offsets, the duration, identities with
their email. Widths are terminal columns (display_width), so names in any
script align.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Dict, List

from hourly_hooks.core import money
from hourly_hooks.core.markers import format_time
from hourly_hooks.core.timesheet import Selection, Timesheet, subtotals
from hourly_hooks.output.rows import Rows, SessionRow

WIDTH = 80
RIGHT = {"Duration", "Hours", "Amount", "Sessions"}
# The columns cut to fit WIDTH, and the fewest columns each keeps. Never an invoice id: cut, it
# finds nothing (two ids on one session, a state to resolve, may so run past WIDTH).
FLEXIBLE = (("Note", 8), ("Repo", 10), ("Person", 12), ("Author", 12))
ELLIPSIS = "…"
NO_SESSIONS = "No sessions in this period."

Cells = Dict[str, str]


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


def cut(text: str, width: int) -> str:
    """text in at most width terminal columns, ending in "…" when it was longer."""
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for char in text:
        step = display_width(char)
        if used + step > width - 1:
            break
        out, used = out + char, used + step
    return out + ELLIPSIS


def stamp(moment) -> str:
    """``2020-01-03 18:44:04 -05:00``: readable, and unambiguous across zones."""
    return format_time(moment, seconds=True)


def amount_text(sheet: Timesheet) -> str:
    """Every currency's amount: ``228.95 CHF, 1000.00 USD``."""
    return ", ".join(money.format_money(amount, currency) for currency, amount in sorted(sheet.amounts.items()))


def total_lines(sheet: Timesheet) -> List[str]:
    """``12:54:47, 12.91 hours worked`` and, with a rate, ``1291.31 USD``; with several
    repositories, each one's subtotal under it."""
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
        lines.append(amount_text(sheet))
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
        f"{', ' + amount_text(part.sheet) if part.sheet.amounts else ''}  ({_terms(part.selection)})"
        for part in parts]


def _terms(selection: Selection) -> str:
    """A repository's rate and rounding, as its subtotal line names them."""
    rates = selection.rates
    rate = "rates per person" if rates.by_identity else (f"rate {rates.default}" if rates.default else "no rate")
    return f"{rate}, " + (f"each session rounded {selection.rounding}" if selection.rounding else "no rounding")


# --- cells ---------------------------------------------------------------------------

def _times(row: SessionRow) -> str:
    """``09:00-17:30``, and ``+1d`` when the session ends on a later day."""
    days = (row.end.date() - row.start.date()).days
    # (isoformat, not strftime's %H:%M: a sixth of the cost, on every row of a big table)
    return f"{row.start.time().isoformat('minutes')}-{row.end.time().isoformat('minutes')}" + \
        (f"+{days}d" if days else "")


def session_cells(rows: Rows, wide: bool = False) -> List[Cells]:
    """Per session: the date, clock times, person's name, hours, amount, invoice and note;
    wide: the identity with its email, full start and end with offsets, and the duration."""
    many_authors, many_repos = rows.many_authors, rows.many_repos
    out = []
    for row in rows.sessions:
        cells: Cells = {} if wide else {"Date": row.start.date().isoformat(), "Time": _times(row)}
        if many_authors:
            cells["Author" if wide else "Person"] = row.author if wide else row.name
        if many_repos:
            cells["Repo"] = row.repo
        if wide:
            cells.update({"Start": stamp(row.start), "End": stamp(row.end), "Duration": money.format_hms(row.seconds)})
        cells["Hours"] = money.format_hours(row.hours)
        if rows.priced:
            cells["Amount"] = f"{row.amount_text} {row.currency}" if row.currency else "-"
        if rows.billed:
            cells["Invoice"] = row.invoice or ""
        cells["Note"] = row.note
        out.append(cells)
    return out


def wide_cells(rows: Rows) -> List[Cells]:
    """The cells of --wide (and of Markdown and the HTML page)."""
    return session_cells(rows, wide=True)


def group_cells(rows: Rows, wide: bool = True) -> List[Cells]:
    """Per group: its key, sessions, time worked, hours and, when priced, its amounts: on one
    line when wide, else one currency a line (the others under the first, the other cells empty)."""
    key = rows.by.capitalize()
    out = []
    for group in rows.groups:
        cells = {key: group.key, "Sessions": str(group.sessions),
                 "Duration": money.format_hms(group.seconds), "Hours": money.format_hours(group.hours)}
        amounts = [money.format_money(amount, currency) for currency, amount in sorted(group.amounts.items())]
        if rows.priced:
            cells["Amount"] = ", ".join(amounts) if wide else (amounts[0] if amounts else "-")
        out.append(cells)
        out += [dict(dict.fromkeys(cells, ""), Amount=more) for more in ([] if wide else amounts[1:])]
    return out


# --- layout --------------------------------------------------------------------------

def _widths(cells: List[Cells], measure=display_width) -> Dict[str, int]:
    return {c: max(measure(c), *(measure(r[c]) for r in cells)) for c in cells[0]}


def _fitted(widths: Dict[str, int], room: int) -> Dict[str, int]:
    """widths with the flexible columns narrowed until the row fits room: the widest
    first, a column at a time, so that a long name and a long note share what is left."""
    fitted = dict(widths)
    floors = {column: max(fewest, display_width(column)) for column, fewest in FLEXIBLE if column in fitted}
    excess = sum(fitted.values()) + 2 * (len(fitted) - 1) - room
    while excess > 0:
        column = max(floors, key=lambda c: fitted[c] - floors[c], default=None)
        if column is None or fitted[column] <= floors[column]:
            break  # nothing left to narrow: the row stays wider than room
        fitted[column] -= 1
        excess -= 1
    return fitted


def aligned(cells: List[Cells], room: int = 0) -> List[str]:
    """Header and rows in columns; with room, the flexible columns cut to fit it."""
    if not cells:
        return []
    # Each text measured once: a big history's table has hundreds of thousands of cells,
    # few of them different (names, dates, hours), and each is measured to fit and to pad.
    measure = lru_cache(maxsize=None)(display_width)
    widths = _widths(cells, measure)
    if room:
        widths = _fitted(widths, room)

    def cell(column: str, text: str) -> str:
        width, used = widths[column], measure(text)
        if used > width:
            text = cut(text, width)
            used = display_width(text)
        pad = " " * (width - used)
        return pad + text if column in RIGHT else text + pad

    out = ["  ".join(cell(c, c) for c in widths).rstrip()]
    out += ["  ".join(cell(c, r[c]) for c in widths).rstrip() for r in cells]
    return out


def _commit_text(commit, many_repos: bool) -> str:
    where = f" ({commit.repo})" if many_repos else ""
    return f"{commit.short}  {commit.subject}{where}"


def _with_commits(lines: List[str], rows: Rows, room: int) -> List[str]:
    """The session lines (a header, then a line per row) with each session's commits under it."""
    many = rows.many_commit_repos
    out = lines[:1]
    for line, row in zip(lines[1:], rows.sessions):
        out.append(line)
        for commit in row.commits:
            text = f"    {_commit_text(commit, many)}"
            out.append(cut(text, room) if room else text)
    return out


def period_line(rows: Rows) -> str:
    return f"Period: {rows.period.text} (times in {rows.sheet.selection.tz})"


def open_lines(rows: Rows) -> List[str]:
    if not rows.open:
        return []
    lines = ["", "Open (clocked in, not billed):"]
    lines += [f"  {session.author}  since {stamp(rows.local(session.start))}  ({session.clock_in.short})"
              for session in rows.open]
    return lines


def table(rows: Rows, wide: bool = False) -> str:
    """The period line, the rows (80 columns unless wide), the totals and the open sessions."""
    room = 0 if wide else WIDTH
    if rows.by != "session":
        lines = aligned(group_cells(rows, wide), room)
    else:
        lines = aligned(session_cells(rows, wide), room)
        if rows.worklog:
            lines = _with_commits(lines, rows, room)
    text = [period_line(rows), ""] + (lines or [NO_SESSIONS]) + [""] + total_lines(rows.sheet) + open_lines(rows)
    if rows.worklog and rows.by != "session":
        text += [""] + worklog_section(rows)
    return "\n".join(text) + "\n"


def markdown_escape(text: str) -> str:
    """Markdown's special characters taken literally; a terminal code's "ESC [" is left whole,
    so that a pipe's output still loses it (click strips codes on output)."""
    out, previous = [], ""
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_[]<>|#" and not (ch == "[" and previous == "\x1b") else ch)
        previous = ch
    return "".join(out)


def worklog_section(rows: Rows, markdown: bool = False) -> List[str]:
    """The work log as its own section: each session's start and length, then its commits."""
    many_authors, many = rows.many_authors, rows.many_commit_repos
    lines = ["**Work log**", ""] if markdown else ["Work log:"]
    for row in rows.sessions:
        head = f"{stamp(row.start)}, {money.format_hms(row.seconds)}"
        if many_authors:
            head += f", {row.author}"
        if markdown:
            lines.append(f"- {markdown_escape(head)}" + ("" if row.commits else ": no commits"))
            lines += [f"  - `{c.short}` {markdown_escape(c.subject)}"
                      + (f" ({markdown_escape(c.repo)})" if many else "") for c in row.commits]
        else:
            lines.append(f"  {head}" + ("" if row.commits else ": no commits"))
            lines += [f"    {_commit_text(c, many)}" for c in row.commits]
    return lines


def markdown(rows: Rows) -> str:
    """The period, the wide cells as a Markdown table, the totals, the work log.

    The period is a ``**Period:**`` line, as the timesheet document's header writes its facts
    (``**Issued:**``), so that it reads as one block under that header's title."""
    cells = group_cells(rows) if rows.by != "session" else wide_cells(rows)
    lines = [f"**Period:** {markdown_escape(rows.period.text)}", ""]
    if cells:
        columns = list(cells[0])
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "|".join("---:" if c in RIGHT else "---" for c in columns) + "|")
        # Every cell escaped: a note "fix *it*" stays literal, a "<email>" is no autolink.
        lines += ["| " + " | ".join(markdown_escape(r[c]) for c in columns) + " |" for r in cells]
    else:
        lines.append(NO_SESSIONS)
    # Indented total lines (per-repository subtotals) as a list: "**  x**" is not bold in Markdown.
    lines += [""] + [f"- {text.strip()}" if text.startswith("  ") else f"**{text}**"
                     for text in total_lines(rows.sheet)]
    lines += [line if not line.startswith("  ") else f"- {line.strip()}" for line in open_lines(rows)]
    if rows.worklog:
        lines += [""] + worklog_section(rows, markdown=True)
    return "\n".join(lines) + "\n"
