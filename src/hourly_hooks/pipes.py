"""Where stdout goes: through a pager on a terminal; and when its reader goes away
(`hourly report | head -1`), a quiet exit.

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


# --- the pager ----------------------------------------------------------------------
# As git does: on a terminal, long output goes through $HOURLY_PAGER, else $PAGER, else
# `less -FRX` (-F: quit at once when it fits one screen; -R: keep colours; -X: leave the
# text on the screen). An empty value or `cat` means no pager.

DEFAULT_PAGER = "less -FRX"


def pager_command() -> str:
    """The pager to run, or "" for none."""
    command = next((os.environ[name].strip() for name in ("HOURLY_PAGER", "PAGER") if name in os.environ),
                   DEFAULT_PAGER)
    return "" if command in ("", "cat") else command


def page(text: str) -> bool:
    """Show text through the pager; False when there is none or it cannot start (the
    caller then writes text itself). Waits for the pager: the prompt comes back after it."""
    import shlex
    import subprocess  # only on a terminal

    try:
        command = shlex.split(pager_command())
    except ValueError:  # unbalanced quotes: no pager rather than no report
        return False
    if not command:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # what git sets, for a plain `less` in $PAGER
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        pager = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)  # no shell: a missing one is an OSError
    except OSError:
        return False
    data = text.encode(getattr(sys.stdout, "encoding", None) or "utf-8", "replace")
    try:
        assert pager.stdin is not None
        pager.stdin.write(data)
        pager.stdin.close()
    except OSError:  # the reader quit the pager before the end: nothing more to show
        pass
    while True:
        try:
            pager.wait()
            return True
        except KeyboardInterrupt:  # Ctrl-C is the pager's to handle (less stays); wait for it
            continue
