"""The report as CSV, for spreadsheets.

The first row is a comment naming the period (``# period: 2026-11-01 to
2026-11-30``; most readers skip it with a comment option, e.g. pandas'
``comment="#"``). Start and end are written as spreadsheets read date-times
(``2026-11-03 09:00:00``), in the report's zone, named in the ``zone`` column.
"""

from __future__ import annotations

import csv
import io

from hourly_hooks.core import money
from hourly_hooks.output.rows import Rows

SESSION_FIELDS = ["author", "start", "end", "zone", "seconds", "billed_seconds", "hours", "amount", "currency",
                  "note", "in_commit", "out_commit", "repo", "invoice"]


def _spreadsheet(moment) -> str:
    """``2026-11-03 09:00:00``, as spreadsheets read a date-time (isoformat: a fifth of strftime's cost)."""
    return moment.isoformat(" ", "seconds")[:19]


def csv_text(rows: Rows) -> str:
    out = io.StringIO()
    out.write(f"# period: {rows.period.text}\n")
    if rows.by == "session":
        _sessions(rows, out)
    else:
        _groups(rows, out)
    return out.getvalue()


def _sessions(rows: Rows, out: io.StringIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SESSION_FIELDS)
    zone = str(rows.sheet.selection.tz)
    for row in rows.sessions:
        writer.writerow([row.author, _spreadsheet(row.start), _spreadsheet(row.end), zone,
                         row.seconds, row.billed_seconds, money.format_hours(row.hours), row.amount_text,
                         row.currency or "", row.note, row.in_commit, row.out_commit, row.repo, row.invoice or ""])


def _groups(rows: Rows, out: io.StringIO) -> None:
    """A row per group, or per group and currency when a group mixes currencies."""
    by = rows.by
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([by, "sessions", "seconds", "hours", "amount", "currency"])
    for group in rows.groups:
        for part in group.by_currency():
            currency = part.currency
            amount = money.format_amount(part.amounts[currency], currency) if currency else ""
            writer.writerow([group.key, len(part.lines), part.worked_seconds, money.format_hours(part.hours),
                             amount, currency or ""])
