"""One entry to the formats: build the rows once (rows.build), hand them to a writer.

table.py (and its Markdown), csvtext.py, jsontext.py, timeclock.py and html.py
each write the same rows; nothing here computes money or time that the
Timesheet did not already settle.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

from hourly_hooks.core.timesheet import GROUPINGS, Timesheet
from hourly_hooks.core.worklog import WorkLog
from hourly_hooks.output import csvtext, jsontext, table as tables, timeclock as clock
from hourly_hooks.output.anomalies import anomaly_lines
from hourly_hooks.output.rows import build

FORMATS = ("table", "csv", "json", "markdown", "timeclock", "html")
__all__ = ["FORMATS", "GROUPINGS", "RENDERERS", "anomaly_lines", "render"]


# Each writer takes the rows; `wide` (table) and `extra` (json: more keys after the others) when given.
# The HTML page is the bill itself, with its document and manifest: commands/report.py calls
# output/html.py for it.
RENDERERS: Dict[str, Callable[..., str]] = {
    "table": lambda rows, wide=False, **_: tables.table(rows, wide),
    "markdown": lambda rows, **_: tables.markdown(rows),
    "csv": lambda rows, **_: csvtext.csv_text(rows),
    "json": lambda rows, extra=None, **_: jsontext.json_text(rows, extra),
    "timeclock": lambda rows, **_: clock.timeclock(rows),
}


def render(fmt: str, sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
           log: Optional[WorkLog] = None, extra: Optional[dict] = None, wide: bool = False) -> str:
    """The report in fmt; log: the work log when read; extra: more JSON keys (the budget)."""
    return RENDERERS[fmt](build(sheet, by, billed, log), wide=wide, extra=extra)
