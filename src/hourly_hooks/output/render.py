"""One entry to the formats: build the rows once (rows.build), hand them to a writer.

table.py (and its Markdown), csvtext.py, jsontext.py, timeclock.py and html.py
each write the same rows; nothing here computes money or time that the
Timesheet did not already settle. html.py takes
``stamp``, ``groups`` and ``total_lines`` from here, public names of the writers.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

from hourly_hooks.core.timesheet import GROUPINGS, Timesheet
from hourly_hooks.core.worklog import WorkLog
from hourly_hooks.output import csvtext, jsontext, table as tables, timeclock as clock
from hourly_hooks.output.anomalies import anomaly_lines
from hourly_hooks.output.rows import GroupRow, Rows, build, groups
from hourly_hooks.output.table import display_width, stamp, total_lines

FORMATS = ("table", "csv", "json", "markdown", "timeclock", "html")
__all__ = ["FORMATS", "GROUPINGS", "GroupRow", "RENDERERS", "Rows", "anomaly_lines", "build", "display_width",
           "groups", "render", "stamp", "total_lines"]


def _html(rows: Rows, **_options) -> str:
    from hourly_hooks.output.html import html  # html imports this module: imported when used

    log = {row.in_commit: list(row.commits) for row in rows.sessions} if rows.worklog else None
    billed = {row.in_commit: row.invoice for row in rows.sessions if row.invoice}
    return html(rows.sheet, rows.by, billed, log)


# Each writer takes the rows; `wide` (table) and `extra` (json: more keys after the others) when given.
RENDERERS: Dict[str, Callable[..., str]] = {
    "table": lambda rows, wide=False, **_: tables.table(rows, wide),
    "markdown": lambda rows, **_: tables.markdown(rows),
    "csv": lambda rows, **_: csvtext.csv_text(rows),
    "json": lambda rows, extra=None, **_: jsontext.json_text(rows, extra),
    "timeclock": lambda rows, **_: clock.timeclock(rows),
    "html": _html,
}


def render(fmt: str, sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
           log: Optional[WorkLog] = None, extra: Optional[dict] = None, wide: bool = False) -> str:
    """The report in fmt; log: the work log when read; extra: more JSON keys (the budget)."""
    return RENDERERS[fmt](build(sheet, by, billed, log), wide=wide, extra=extra)


# --- json_text on a sheet, for callers that hold no rows ----------------------------------

def json_text(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
              extra: Optional[dict] = None) -> str:
    return jsontext.json_text(build(sheet, by, billed), extra)
