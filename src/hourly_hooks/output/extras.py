"""What ``hourly report --worklog`` and ``--chart`` add to the report.

The renderers in render.py print the timesheet; here the work log is added to
their output (under each session row of the table, as a section after the
Markdown table, as ``commits`` on each JSON session) and the HTML timesheet,
which always carries it, gets it passed in.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional

from hourly_hooks.errors import UsageError
from hourly_hooks.core.timesheet import Timesheet
from hourly_hooks.core.worklog import WorkCommit, WorkLog

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


def render(fmt: str, sheet: Timesheet, by: str, billed: Dict[str, str],
           log: Optional[WorkLog] = None, extra: Optional[dict] = None) -> str:
    """RENDERERS[fmt], with the work log added when there is one; `extra`: more keys
    for the JSON document (the manifest, the budget), after the others; its manifest
    goes in the HTML page too."""
    from hourly_hooks.output.render import RENDERERS, json_text

    if fmt == "html":
        from hourly_hooks.output.html import html

        return html(sheet, by, billed, log, (extra or {}).get("manifest"))
    if fmt == "json":
        text = json_text(sheet, by, billed, extra)
        return text if log is None else json_with_worklog(text, log)
    text = RENDERERS[fmt](sheet, by, billed)
    if log is None:
        return text
    if fmt == "table" and by == "session":
        return table_with_worklog(text, sheet, log)
    return text + "\n" + "\n".join(worklog_section(sheet, log, markdown=fmt == "markdown")) + "\n"


def _commit_text(commit: WorkCommit, many_repos: bool) -> str:
    where = f" ({commit.repo})" if many_repos else ""
    return f"{commit.short}  {commit.subject}{where}"


def _many_repos(log: WorkLog) -> bool:
    return len({c.repo for commits in log.values() for c in commits}) > 1


def table_with_worklog(text: str, sheet: Timesheet, log: WorkLog) -> str:
    """The session table with each session's commits indented under its row.

    The table has a header line, then one row per sheet line in order.
    """
    lines = text.split("\n")
    if not sheet.lines or len(lines) < len(sheet.lines) + 1:
        return text
    many = _many_repos(log)
    out = lines[:1]
    for index, line in enumerate(sheet.lines):
        out.append(lines[index + 1])
        out += [f"    {_commit_text(c, many)}" for c in log.get(line.session.clock_in.sha, ())]
    out += lines[len(sheet.lines) + 1:]
    return "\n".join(out)


def _markdown_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>|#" else ch for ch in text)


def worklog_section(sheet: Timesheet, log: WorkLog, markdown: bool = False) -> List[str]:
    """The work log as its own section: each session's start and length, then its commits."""
    from hourly_hooks.core import money
    from hourly_hooks.output.render import stamp

    many_authors = len({s.identity for s in sheet.sessions}) > 1
    many = _many_repos(log)
    lines = ["**Work log**", ""] if markdown else ["Work log:"]
    for session in sheet.sessions:
        head = f"{stamp(session.start.astimezone(sheet.selection.tz))}, {money.format_hms(session.seconds)}"
        if many_authors:
            head += f", {session.author}"
        commits = log.get(session.clock_in.sha, [])
        if markdown:
            lines.append(f"- {_markdown_escape(head)}" + ("" if commits else ": no commits"))
            lines += [f"  - `{c.short}` {_markdown_escape(c.subject)}"
                      + (f" ({_markdown_escape(c.repo)})" if many else "") for c in commits]
        else:
            lines.append(f"  {head}" + ("" if commits else ": no commits"))
            lines += [f"    {_commit_text(c, many)}" for c in commits]
    return lines


def json_with_worklog(text: str, log: WorkLog) -> str:
    """The JSON report with ``commits: [{"sha", "subject"}]`` on every session."""
    document = json.loads(text)
    for session in document.get("sessions", []):
        session["commits"] = [{"sha": c.sha, "subject": c.subject}
                              for c in log.get(session.get("in_commit"), [])]
    return json.dumps(document) + "\n"
