"""Which flags of ``hourly report`` go together: ``--worklog``, ``--chart``, ``-o``.

The work log itself is part of the rows (rows.py: each session row carries its
commits) and each format writes it: under each session row of the table, as a
section after the Markdown table, as ``commits`` on each JSON session, in the HTML.
"""

from __future__ import annotations

from typing import Optional

from hourly_hooks.errors import UsageError

WORKLOG_FORMATS = ("table", "markdown", "json", "html")


def check_flags(fmt: str, output: Optional[str], worklog: bool, chart: bool) -> None:
    """Refuse combinations that would lose the work log or break machine-read output."""
    if worklog and fmt not in WORKLOG_FORMATS:
        raise UsageError(f"--worklog shows in {', '.join(WORKLOG_FORMATS)}; not in --format {fmt}")
    if chart and fmt != "table" and (not output or output == "-"):  # "-" is stdout
        raise UsageError(f"--chart would mix a text chart into --format {fmt} on stdout",
                         hint=f"Write the {fmt} to a file with -o FILE, or leave out --chart.")


def wants_worklog(fmt: str, worklog: bool) -> bool:
    return worklog or fmt == "html"
