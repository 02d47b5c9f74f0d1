"""When the reader of stdout goes away (`hourly report | head -1`): exit quietly.

The documented exit is 74 (errors.py), with nothing said: the reader asked for
less, nothing went wrong that the user must hear about. What stays in Python's
stdout buffer would fail again when the interpreter flushes it at exit
("Exception ignored ... BrokenPipeError"), so stdout is pointed at /dev/null
first, as the Python documentation on SIGPIPE advises.
"""

from __future__ import annotations

import errno
import os
import sys


def reader_gone(error: BaseException) -> bool:
    """Whether error is a write into a pipe nobody reads any more."""
    return isinstance(error, OSError) and error.errno == errno.EPIPE


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's capture)
        pass
