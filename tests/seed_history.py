"""The seed's worked run as a real repository (../shared/seed/, "Hourly Invoicing").

Asher Pembroke's 8 sessions of 2020-01-03..05 at UTC-05:00, with offsets on some
markers, unrelated commits between them, a pro-bono session, and the same email
under a second name (`asherp`) with other sessions in the same days.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from gitrepo import GitRepo

ASHER = ("Asher Pembroke", "apembroke@gmail.com")
ASHERP = ("asherp", "apembroke@gmail.com")

# (who, author date, message): the effective times are the seed's exactly.
EVENTS = [
    (ASHER, "2020-01-03T18:44:04-05:00", "clock-in"),
    (ASHER, "2020-01-03T19:30:00-05:00", "started work log"),
    (ASHER, "2020-01-03T20:41:57-05:00", "clock-out: T-10m"),          # 20:31:57
    (ASHER, "2020-01-03T21:00:54-05:00", "clock in T-15m"),            # 20:45:54
    (ASHER, "2020-01-03T22:40:56-05:00", "clock-out"),
    (ASHERP, "2020-01-04T10:00:00-05:00", "clock-in"),
    (ASHERP, "2020-01-04T11:30:00-05:00", "clock-out"),
    (ASHER, "2020-01-04T13:16:11-05:00", "Clock-In"),
    (ASHER, "2020-01-04T13:50:00-05:00", "fixed bug preventing users from clocking in"),
    (ASHER, "2020-01-04T14:01:43-05:00", "CLOCK OUT"),
    (ASHER, "2020-01-04T14:55:18-05:00", "clock-in: payment options"),
    (ASHER, "2020-01-04T16:35:04-05:00", "clock out"),
    (ASHER, "2020-01-04T19:56:53-05:00", "clock-in"),
    (ASHER, "2020-01-04T21:06:20-05:00", "clock-out:"),
    (ASHER, "2020-01-04T23:59:21-05:00", "clock-in"),
    (ASHER, "2020-01-05T02:00:00-05:00", "had to clock out so the notebook runs"),
    (ASHER, "2020-01-05T05:21:59-05:00", "clock-out: T-1h22m"),        # 03:59:59
    (ASHERP, "2020-01-05T09:00:00-05:00", "clock in"),
    (ASHERP, "2020-01-05T12:00:00-05:00", "clock out"),
    (ASHER, "2020-01-05T16:32:33-05:00", "clock-in"),
    (ASHER, "2020-01-05T17:03:22-05:00", "clock-out"),
    (ASHER, "2020-01-05T17:29:01-05:00", "clock-in"),
    (ASHER, "2020-01-05T18:00:00-05:00", "PT-123 fix clock skew"),
    (ASHER, "2020-01-05T18:34:41-05:00", "clock-out"),
    (ASHER, "2020-01-06T10:00:00-05:00", "clock-in: hourly docs"),    # after the period
    (ASHER, "2020-01-06T11:00:00-05:00", "clock out - pro bono"),
]

# The seed's table: (start, end, duration).
SEED_SESSIONS = [
    ("2020-01-03 18:44:04 -05:00", "2020-01-03 20:31:57 -05:00", "1:47:53"),
    ("2020-01-03 20:45:54 -05:00", "2020-01-03 22:40:56 -05:00", "1:55:02"),
    ("2020-01-04 13:16:11 -05:00", "2020-01-04 14:01:43 -05:00", "0:45:32"),
    ("2020-01-04 14:55:18 -05:00", "2020-01-04 16:35:04 -05:00", "1:39:46"),
    ("2020-01-04 19:56:53 -05:00", "2020-01-04 21:06:20 -05:00", "1:09:27"),
    ("2020-01-04 23:59:21 -05:00", "2020-01-05 03:59:59 -05:00", "4:00:38"),
    ("2020-01-05 16:32:33 -05:00", "2020-01-05 17:03:22 -05:00", "0:30:49"),
    ("2020-01-05 17:29:01 -05:00", "2020-01-05 18:34:41 -05:00", "1:05:40"),
]
SEED_ARGS = ["--since", "Jan 1, 2020", "--until", "Jan 5, 2020", "--author", "Asher Pembroke",
             "--tz", "America/New_York", "--rate", "100 USD"]


_TEMPLATE: Optional[Path] = None  # this process's replay of EVENTS, copied for each test


def _replay(repo: GitRepo) -> GitRepo:
    for number, ((name, email), when, message) in enumerate(EVENTS):
        files = None if message.startswith(("clock", "Clock", "CLOCK")) else {"log.md": f"entry {number}\n"}
        repo.commit(message, when, name=name, email=email, files=files)
    return repo


def build_seed_repo(repo: GitRepo) -> GitRepo:
    """The seed's commits in `repo`, a freshly initialised GitRepo.

    Every author and committer date and identity is fixed, so a replay gives the same
    objects, refs and work tree wherever it runs: the history is replayed once per test
    process (about 30 git starts) and each test gets a copy of that repository's .git and
    log.md (no git start). Test modules build it for well over a hundred tests.
    """
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="hourly-seed-"))
        atexit.register(shutil.rmtree, folder, True)
        _replay(GitRepo(folder / "seed"))
        _TEMPLATE = folder / "seed"
    assert not any((repo.path / ".git" / "refs" / "heads").iterdir()), "build_seed_repo wants an empty repository"
    shutil.rmtree(repo.path / ".git")
    shutil.copytree(_TEMPLATE / ".git", repo.path / ".git")
    shutil.copy2(_TEMPLATE / "log.md", repo.path / "log.md")
    return repo
