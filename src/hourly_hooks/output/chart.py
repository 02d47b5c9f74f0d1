"""Hours per day (or per period, author, repository) as a bar chart of text lines.

Pure: ``bars`` takes the figures and a width and returns lines, so it reads the
same in a terminal without colour, in a pipe and in a test. Each line carries
its hours as a figure; the bar only helps the eye.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import List, Sequence, Tuple

from hourly_hooks.core.timesheet import Timesheet
from hourly_hooks.output.rows import groups

FULL = "█"
EIGHTHS = "▏▎▍▌▋▊▉"  # one to seven eighths of a cell, for bars finer than a character
ASCII = "#"
MIN_BAR = 10  # below this the bars say nothing; the lines then run past a narrow terminal

Series = Sequence[Tuple[str, Decimal]]


def series(sheet: Timesheet, by: str = "session") -> List[Tuple[str, Decimal]]:
    """(label, hours) per group of the sheet; one bar per day when rows are sessions."""
    key = "day" if by == "session" else by
    return [(group.key, group.sheet.hours) for group in groups(sheet, key)]


def bars(data: Series, width: int, unicode: bool = True) -> List[str]:
    """One line per (label, hours): label, hours figure, bar; no line wider than width
    unless width leaves less than MIN_BAR cells for the bars."""
    if not data:
        return []
    figures = [f"{hours:.2f}" for _, hours in data]
    label_width = max(len(label) for label, _ in data)
    figure_width = max(len(text) for text in figures)
    room = max(MIN_BAR, width - label_width - figure_width - 4)
    top = max(hours for _, hours in data)
    lines = []
    for (label, hours), figure in zip(data, figures):
        bar = _bar(hours, top, room, unicode)
        lines.append(f"{label.ljust(label_width)}  {figure.rjust(figure_width)}  {bar}".rstrip())
    return lines


def _bar(hours: Decimal, top: Decimal, room: int, unicode: bool) -> str:
    if hours <= 0 or top <= 0:
        return ""
    steps = 8 if unicode else 1
    units = int((hours * room * steps / top).to_integral_value(rounding=ROUND_HALF_UP))
    units = max(units, 1)  # any work at all shows
    if not unicode:
        return ASCII * units
    full, part = divmod(units, 8)
    return FULL * full + (EIGHTHS[part - 1] if part else "")


def title(by: str) -> str:
    key = "day" if by == "session" else by
    return "Hours per repository" if key == "repo" else f"Hours per {key}"


def chart_text(sheet: Timesheet, by: str, width: int, unicode: bool = True) -> str:
    """The chart under its title, ready to print; a line saying so when there is nothing."""
    lines = bars(series(sheet, by), width, unicode)
    if not lines:
        return "No hours to chart.\n"
    return "\n".join([f"{title(by)}:"] + lines) + "\n"


def for_terminal(sheet: Timesheet, by: str, stream=None) -> str:
    """chart_text fitted to the terminal, in '#' when the output cannot show block characters."""
    import shutil
    import sys

    stream = stream or sys.stdout
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        (FULL + EIGHTHS).encode(encoding)
        unicode = True
    except (UnicodeEncodeError, LookupError):
        unicode = False
    return chart_text(sheet, by, shutil.get_terminal_size().columns, unicode)
