"""What a long first read of the history shows on a terminal: a line of progress.

history.read() takes a plain callback, called with the count of markers read
so far; the command layer passes a Progress, which draws nothing for the first
second and nothing off a terminal.
"""

from __future__ import annotations

import sys
import time

PROGRESS_AFTER = 1.0  # seconds of a full read before progress is shown (on a terminal)


def progress_line(count: int, seconds: float) -> str:
    """What a long first read shows on a terminal."""
    return f"hourly: reading the history once into the marker store: {count:,} markers, {seconds:.0f}s"


class Progress:
    """Shows a long full read on a terminal: nothing for the first second, nothing off a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        try:
            self.active = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.active = False
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, count: int) -> None:
        seconds = time.monotonic() - self.started
        if self.active and seconds >= PROGRESS_AFTER:
            self.stream.write("\r" + progress_line(count, seconds))
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
