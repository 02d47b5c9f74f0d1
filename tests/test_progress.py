"""The progress line of a long first read (commands/progress.py): on a terminal only, after a second."""

from __future__ import annotations

import io

from hourly_hooks.commands.progress import Progress, progress_line


def test_progress_is_silent_off_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream)
    progress.started -= 5  # a long read...
    progress(1000)
    progress.done()
    assert stream.getvalue() == ""  # ...but not on a terminal


def test_progress_on_a_terminal_after_a_second():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    progress = Progress(stream)
    progress(1000)
    assert stream.getvalue() == ""  # the first second is quiet
    progress.started -= 3
    progress(12000)
    progress.done()
    assert stream.getvalue() == "\r" + progress_line(12000, 3) + "\n"
    assert progress_line(12345, 3.4) == \
        "hourly: reading the history once into the marker store: 12,345 markers, 3s"
