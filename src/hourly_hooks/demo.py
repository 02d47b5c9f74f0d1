"""A throwaway repository holding one realistic week, for `hourly demo`.

Built with GitPython (this is not a hot path): two people in two time zones,
offsets, a trailer clock-out on a work commit, a pro-bono session the demo's
config ignores, one forgotten clock-out (an anomaly) and one open session.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Iterator

ALICE = ("Alice Martin", "alice@example.com", "-05:00")
BOB = ("Bob Keller", "bob@example.com", "+01:00")

# (who, local time in the week of 2026-11-16, message)
WEEK = [
    (ALICE, "2026-11-16 09:02", "clock-in"),
    (BOB, "2026-11-16 08:00", "clock-in: code review"),
    (ALICE, "2026-11-16 10:15", "parser: handle CRLF line endings"),
    (BOB, "2026-11-16 12:00", "clock-out"),
    (ALICE, "2026-11-16 12:31", "clock-out: T-10m lunch"),
    (BOB, "2026-11-16 13:00", "clock-in"),
    (ALICE, "2026-11-16 13:30", "clock-in: T-15m"),
    (BOB, "2026-11-16 17:20", "clock-out: T-20m"),
    (ALICE, "2026-11-16 17:05", "report: group by week\n\nClock: out"),
    (ALICE, "2026-11-17 09:10", "clock-in"),
    (BOB, "2026-11-17 10:00", "clock-in: invoices"),
    (ALICE, "2026-11-17 11:40", "tests: DST transitions"),
    (ALICE, "2026-11-17 12:55", "clock-out"),
    (BOB, "2026-11-18 09:00", "clock-in"),
    (ALICE, "2026-11-18 20:00", "clock-in: pro bono docs for the OSS parser"),
    (ALICE, "2026-11-18 21:30", "clock out - pro bono"),
    (BOB, "2026-11-18 17:30", "clock-out"),
    (ALICE, "2026-11-19 08:50", "clock-in"),
    (BOB, "2026-11-19 09:15", "clock-in: T-30m"),
    (ALICE, "2026-11-19 12:10", "clock-out: payment options"),
    (BOB, "2026-11-19 16:45", "clock-out"),
    (ALICE, "2026-11-20 14:00", "clock-in: release prep"),
]

CONFIG = """\
# The demo's own settings: per-person rates and an ignored keyword.
tz = "America/New_York"
ignore = ["pro bono"]

[rates]
default = "100 USD"
"alice@example.com" = "120 USD"
"bob@example.com" = "95 USD"
"""


def build(path: Path) -> None:
    from git import Actor, Repo

    repo = Repo.init(path)
    (path / ".hourly.toml").write_text(CONFIG)
    work = path / "notes.txt"
    for number, event in enumerate(sorted(WEEK, key=_utc_key)):
        (name, email, _), _, message = event
        stamp = _utc_key(event)
        if not message.startswith("clock"):
            work.write_text(f"change {number}\n")
            repo.index.add([str(work)])
        actor = Actor(name, email)
        repo.index.commit(message, author=actor, committer=actor,
                          author_date=stamp, commit_date=stamp, skip_hooks=True)


def _utc_key(event):
    (_, _, offset), local, _ = event
    return datetime.fromisoformat(f"{local.replace(' ', 'T')}:00{offset}")


@contextlib.contextmanager
def demo_repository(keep: bool = False) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hourly-demo-"))
    try:
        build(folder)
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
