"""Text made by a forked child beside the parent's own work, on Linux with a CPU to spare.

A whole-history timesheet spends about as long building its manifest
(core/manifest.py: tens of thousands of sessions, megabytes of canonical JSON)
as rendering its rows, and neither needs the other until the page is put
together: a child builds the manifest's text while the parent renders, and
leaves it in a file in memory (memfd) for the parent to read (the manifest is
0.4 s of CPU at a million commits; the report took 1.8-2.0 s instead of 2.1-2.4
on a slow machine). A forked child has the parent's objects as they are, so
nothing is sent to it; the pages either side then writes are copied, which
costs some of the gain.

Anywhere else (another system, one CPU, a thread running, a small sheet) or
when the child fails, the same function makes the text here when it is asked
for: the result is the same text either way, only sooner or later.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Optional

# Below this many items (sessions) the work takes less than a fork and the handover cost (a few ms).
FORK_FROM = 4000


class Beside:
    """make() started in a child now when that pays, or run here when result() asks."""

    def __init__(self, make: Callable[[], str], items: int):
        self._make = make
        self._text: Optional[str] = None
        self._child = _start(make) if items >= max(FORK_FROM, 1) and _may_fork() else None

    def result(self) -> str:
        if self._text is None:
            text = _collect(*self._child) if self._child else None
            self._child = None
            self._text = text if text is not None else self._make()
        return self._text


def _may_fork() -> bool:
    # Linux only: elsewhere fork without exec is unsafe (macOS) or missing (Windows).
    # A thread running in the parent could hold a lock the child then waits on forever.
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1  # a second CPU for the child
    except OSError:
        return False


def _start(make: Callable[[], str]):
    """(pid, file) of a child that writes make()'s text, UTF-8, into an unnamed file in
    memory, and exits; None if it could not start. Not a pipe: a pipe holds 64 KiB, so a
    child with megabytes to hand over would wait for the parent to read them, and the
    parent would then wait for the copy; into a file, the child writes them as it finishes."""
    try:
        held = os.memfd_create("hourly-beside", os.MFD_CLOEXEC)
        pid = os.fork()
    except (OSError, AttributeError):  # (memfd_create: Linux, Python 3.8+)
        return None
    if pid == 0:  # the child: write the text and leave, running no exit handler of the parent's
        code = 1
        try:
            with os.fdopen(held, "wb") as file:
                file.write(make().encode("utf-8"))
            code = 0
        finally:
            os._exit(code)
    return pid, held


def _collect(pid: int, held: int) -> Optional[str]:
    """The child's text, or None when it did not finish (the caller then makes it itself)."""
    _, status = os.waitpid(pid, 0)
    with os.fdopen(held, "rb") as file:
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        file.seek(0)
        return file.read().decode("utf-8")
