"""What `hourly report` printed, remembered: the same report on an unchanged history is
printed again without reading any of it.

A report depends on nothing but

* the marker commits it reads: a commit never changes, so the tips the walk
  starts from name them, together with what decides how git reads them
  (``store.reader_key``: the reader's format and pattern, the mailmap), the
  ``--author`` patterns and whether it walks every ref;
* the resolved selection (every field of ``timesheet.Selection``: the zone,
  the window, rates, rounding, the identity rule, max_session and its
  exceptions, the ignore and exclude words) and the output options (format,
  grouping);
* the invoice ledger, which marks sessions as billed;
* hourly's own code, and the Python running it.

``Entry.for_report`` digests all of them into one key; ``Entry.recall`` gives
what a report with that key printed (its text, what it said on stderr, the
counts that ``--strict`` and ``-o`` use), and ``Entry.keep`` stores it. A
value of a kind the digest does not know makes the report uncacheable
(computed every time) rather than cached under a key that would miss it.

Only where the inputs are exactly those: not with a budget or contract (their
use is counted up to the current time), not with --worklog or the HTML
timesheet (they read each session's commits), not with --chart (drawn from
the timesheet beside the report), not over several repositories, and nowhere
the marker store itself is bypassed (HOURLY_NO_CACHE=1, a shallow clone,
grafts or replace refs). The entries live in ``<git common dir>/hourly/reports/``,
the newest few only; any failure to read or write one is a miss, never an
error. ``tests/test_report_cache.py`` holds remembered reports to reports
computed without any store, after random changes of every input above.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple, Optional
from zoneinfo import ZoneInfo

from hourly_hooks import store
from hourly_hooks.private import make_private_dirs, open_private

FORMAT = "1"                 # of an entry file, and of the key
FOLDER = ("hourly", "reports")
KEEP = 6                     # entries kept, newest first...
KEEP_BYTES = 64 << 20        # ...while together they stay under this (the newest is always kept)
_CODE: list = []             # the digest of hourly's code, made once per process


class Printed(NamedTuple):
    """What a report printed: all that `hourly report` needs to print it again."""

    text: str          # the report itself (stdout, or the -o file)
    notes: tuple       # the lines said on stderr after it (ignored sessions, anomalies)
    sessions: int      # rows of the report (-o says how many it wrote)
    anomalies: int     # --strict fails when there are any


class Uncacheable(Exception):
    """An input the key cannot name for sure."""


class Entry:
    """One report's place among the remembered ones."""

    def __init__(self, folder: str, key: str):
        self.folder, self.key = folder, key
        self.path = os.path.join(folder, key)

    @classmethod
    def for_report(cls, repo, all_refs: bool, authors, selection, output) -> Optional["Entry"]:
        """The entry of a report on repo, or None where a report must be computed every time."""
        if not store.enabled() or repo.shallow or repo.rewritten():
            return None
        tips = repo.tips(all_refs)
        if not tips:
            return None  # no commit yet: the report says so
        try:
            parts = [FORMAT, code_digest(), store.reader_key(repo), repo.top_dir, repo.name,
                     canonical(bool(all_refs)), canonical(tuple(authors)), " ".join(tips),
                     canonical(selection), canonical(tuple(output)), ledger_digest(repo)]
        except Uncacheable:
            return None
        key = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
        return cls(os.path.join(repo.common_dir, *FOLDER), key)

    def recall(self) -> Optional[Printed]:
        """What the report with this key printed, or None (never stored, or unreadable)."""
        try:
            with open(self.path, "rb") as handle:
                head = json.loads(handle.readline())
                data = handle.read()
            if head.get("format") != FORMAT or head.get("key") != self.key or len(data) != head["bytes"]:
                raise ValueError("not a whole entry")
            printed = Printed(data.decode("utf-8", "surrogateescape"), tuple(head["notes"]),
                              int(head["sessions"]), int(head["anomalies"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            _remove(self.path)  # damaged: the next report writes it anew
            return None
        try:
            os.utime(self.path)  # the newest entries are the ones kept
        except OSError:
            pass
        return printed

    def keep(self, printed: Printed) -> None:
        """Store what the report printed (atomically: a reader sees all of it or none)."""
        data = printed.text.encode("utf-8", "surrogateescape")
        head = {"format": FORMAT, "key": self.key, "bytes": len(data), "notes": list(printed.notes),
                "sessions": printed.sessions, "anomalies": printed.anomalies}
        partial = f"{self.path}.{os.getpid()}.tmp"
        try:
            make_private_dirs(self.folder)
            with os.fdopen(open_private(partial), "wb") as handle:
                handle.write(json.dumps(head).encode("ascii") + b"\n")
                handle.write(data)
            os.replace(partial, self.path)
        except OSError:  # a read-only git dir, a full disk: the next report computes again
            _remove(partial)
            return
        self._prune()

    def _prune(self) -> None:
        """Keep the newest entries only (see KEEP and KEEP_BYTES)."""
        found = []
        try:
            with os.scandir(self.folder) as items:
                for item in items:
                    stat = item.stat()
                    found.append((stat.st_mtime_ns, stat.st_size, item.path))
        except OSError:
            return
        found.sort(reverse=True)
        total = 0
        for index, (_, size, path) in enumerate(found):
            total += size
            if index and (index >= KEEP or total > KEEP_BYTES):
                _remove(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def canonical(value) -> str:
    """A text that tells values apart exactly as a report would (Uncacheable for other kinds)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, Decimal):
        return f"Decimal({value})"  # 100 and 100.00 print differently
    if isinstance(value, timedelta):
        return repr(value)
    if isinstance(value, datetime):
        return f"datetime({value.isoformat()}, {canonical(value.tzinfo)})"
    if isinstance(value, ZoneInfo):
        if value.key is None:
            raise Uncacheable("a zone read from a file has no name")
        return f"ZoneInfo({value.key})"
    if isinstance(value, timezone):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(map(canonical, value)) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(f"{canonical(k)}: {canonical(v)}" for k, v in value.items())) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({fields})"
    raise Uncacheable(f"no key for a {type(value).__name__}")


def code_digest() -> str:
    """hourly's code as installed (each file's name, size and modification time) and the Python.

    Uncacheable where the files cannot be listed (a package run from a zip file).
    """
    if not _CODE:
        package = os.path.dirname(os.path.abspath(__file__))
        parts = []
        for root, folders, files in os.walk(package):
            folders[:] = sorted(f for f in folders if f != "__pycache__")
            for name in sorted(files):
                path = os.path.join(root, name)
                stat = os.stat(path)
                parts.append(f"{os.path.relpath(path, package)} {stat.st_size} {stat.st_mtime_ns}")
        _CODE.append(hashlib.sha256("\n".join([sys.version, *parts]).encode("utf-8", "surrogateescape"))
                     .hexdigest() if parts else "")
    if not _CODE[0]:
        raise Uncacheable("hourly's own files cannot be listed")
    return _CODE[0]


LEDGER_FILE = ("hourly", "invoices.jsonl")  # btcpay.ledger.LEDGER, without importing it


def ledger_digest(repo) -> str:
    """The invoice ledger's content ("none" without one): it marks sessions as billed."""
    try:
        with open(os.path.join(repo.common_dir, *LEDGER_FILE), "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "none"
    except OSError as error:
        raise Uncacheable(f"the ledger cannot be read: {error}") from None
    from hourly_hooks.btcpay.ledger import looks_intact  # standard library only, like this module

    if not looks_intact(data):
        raise Uncacheable("the ledger has a damaged line, which each report must warn about")
    return hashlib.sha256(data).hexdigest()
