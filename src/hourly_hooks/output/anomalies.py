"""Anomalies (markers that could not be paired or billed) as lines for stderr.

A big history can hold thousands: by default they are counted by kind, and
listed one by one on request (``--anomalies``, and always with ``--strict``,
where each must be fixed).
"""

from __future__ import annotations

from collections import Counter
from typing import List

from hourly_hooks.core.timesheet import Timesheet

FIX = "Fix the markers, or list an errant commit in `exclude` in .hourly.toml."


def _head(count: int) -> str:
    return f"{count} anomal{'y' if count == 1 else 'ies'} (not billed):"


def anomaly_lines(sheet: Timesheet, full: bool = False) -> List[str]:
    """Each anomaly with its commits and one line of explanation (full), or a count per kind."""
    if not sheet.anomalies:
        return []
    lines = [_head(len(sheet.anomalies))]
    if full:
        for anomaly in sheet.anomalies:
            shas = ", ".join(sha[:10] for sha in anomaly.commits)
            lines.append(f"  {anomaly.kind} [{shas}] {anomaly.identity}: {anomaly.message}")
        lines.append(f"  {FIX}")
        return lines
    counts = Counter(anomaly.kind for anomaly in sheet.anomalies)
    width = len(str(max(counts.values())))
    lines += [f"  {count:>{width}} {kind}" for kind, count in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))]
    lines.append(f"  Each with its commits: --anomalies. {FIX}")
    return lines
