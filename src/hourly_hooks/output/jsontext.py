"""The report as one JSON document (shape version JSON_VERSION).

Compact on purpose: json's C encoder is not used with indent, and at 10k
sessions pretty-printing costs more than reading the history (pipe to jq).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from hourly_hooks import JSON_VERSION
from hourly_hooks.core import money
from hourly_hooks.core.sessions import Session
from hourly_hooks.core.timesheet import Timesheet, subtotals
from hourly_hooks.output.rows import Rows, SessionRow


def json_text(rows: Rows, extra: Optional[dict] = None) -> str:
    """The JSON document, on one line; `extra`: more keys, after the others (the budget;
    the document and the manifest, given as functions that return their JSON text)."""
    sheet = rows.sheet
    document: Dict[str, Any] = {
        "version": JSON_VERSION,
        "period": rows.period.to_json(),
        "sessions": [_session(row, rows.worklog) for row in rows.sessions],
        "open": [_open(session, rows) for session in sheet.open],
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
    if rows.groups:
        document["groups"] = [
            {"by": rows.by, "key": g.key, "sessions": g.sessions, "seconds": g.seconds,
             "hours": money.format_hours(g.hours), "amounts": _amounts(g.sheet)}
            for g in rows.groups]
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
    late = [key for key, value in document.items() if callable(value)]
    if not late:
        return json.dumps(document) + "\n"
    # A value given as a function is asked for once the rest is encoded, and gives its JSON
    # text, which goes in as it is: the report's manifest (half the document at a whole
    # history) is built beside this one (beside.py) as the canonical text its digest was
    # taken of, and the document's number waits for that digest.
    makers = {key: document[key] for key in late}
    document.update((key, f"\0{key}") for key in late)
    text = json.dumps(document)
    pieces, end = ["\n"], len(text)  # joined once: at a whole history each copy is 36 MB
    for key in reversed(late):  # from the end: no text from git holds a NUL
        hole = json.dumps(f"\0{key}")
        at = text.rindex(hole, 0, end)
        pieces += [text[at + len(hole):end], makers[key]()]
        end = at
    pieces.append(text[:end])
    return "".join(reversed(pieces))


def _session(row: SessionRow, worklog: bool) -> dict:
    record = {
        "author": row.author,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "seconds": row.seconds,
        "in_commit": row.in_commit,
        "out_commit": row.out_commit,
        "note": row.note,
        "repo": row.repo,
        "billed_seconds": row.billed_seconds,
        "hours": money.format_hours(row.hours),
        "amount": row.amount_text or None,
        "currency": row.currency,
        "invoice": row.invoice,
    }
    if worklog:
        record["commits"] = [{"sha": c.sha, "subject": c.subject} for c in row.commits]
    return record


def _open(session: Session, rows: Rows) -> dict:
    return {
        "author": session.author,
        "start": rows.local(session.start).isoformat(),
        "end": None,
        "seconds": session.seconds,
        "in_commit": session.clock_in.sha,
        "out_commit": None,
        "note": session.note,
        "repo": session.repo,
    }


def _total_amount(sheet: Timesheet) -> Optional[str]:
    """The sheet's amount without its currency when it has one currency, else None."""
    currency = sheet.currency
    return money.format_amount(sheet.amounts[currency], currency) if currency else None


def _amounts(sheet: Timesheet) -> Dict[str, str]:
    return {c: money.format_amount(a, c) for c, a in sheet.amounts.items()}

