"""One author's clock state, read straight from git, fast enough for a commit hook.

Shared by the ``hourly-clock`` commit-msg hook and ``hourly in`` / ``hourly out``,
so both apply the same rules (``check``) to the same answer (``last_marker``).

This module is on the hook's start-up path: it imports only the standard
library and ``markers`` / ``errors`` (no GitPython, no click, no subprocess:
git is started with ``os.posix_spawnp``, which saves the ~9 ms that importing
``subprocess`` costs).

**The answer.** An author's *last marker* is, among the clock markers reachable
from HEAD whose (mailmapped, case-folded) author email is theirs, the greatest
by ``(author date, effective time, sha)``: the order ``sessions.pair`` sorts
markers in, so the hook and ``hourly status`` never disagree.

**The cache.** Finding it naively reads the whole history when the author has
no marker (13.5 s on a million commits). So ``<git-common-dir>/hourly/clockstate``
keeps (as plain text), for a few commits T, the last marker of *every* identity over reach(T).
For a new HEAD H:

* if T is an ancestor of H, reach(H) = reach(T) + (H ^T), so the answer is the
  greater of the cached marker and the markers of ``git log H ^T`` (exact for
  every identity, which is why the whole table is cached: a never-seen author
  is answered "no marker" without a scan);
* if T is not an ancestor (rebase, reset, branch switch) the table may describe
  commits H cannot reach, so it is used only for an identity whose cached
  marker is itself an ancestor of H (or who has none in reach(T)): then the
  same union still holds for that identity; otherwise the whole history is read.

It is bypassed in shallow clones, when a graft or replace ref exists, and a
cache written under a different ``.mailmap`` is discarded. A missing, stale,
truncated or hand-edited file is never trusted blindly (version, checksum and
shape are checked), so the worst it can do is cost one full scan.
"""

from __future__ import annotations

import os
import time
import zlib
from datetime import datetime, timedelta, timezone

from hourly_hooks import markers
from hourly_hooks.errors import GitError
from hourly_hooks.gitcmd import finish, git_message, git_text, run_git, start_git  # noqa: F401

# git does the filtering in C with the parser's own patterns; Python parses only what survives.
GREP = markers.GREP
CACHE_VERSION = 1
CACHE_ENTRIES = 4           # tips remembered: survives a branch switch or two
CACHE_FILE = "clockstate"   # in <git-common-dir>/hourly/
FUTURE_SLACK = 60           # seconds of clock skew tolerated before "in the future"


# --------------------------------------------------------------------------- git

def author_ident(cwd=None) -> tuple:
    """(name, email, epoch, tz minutes) as git would stamp a commit now: ``git var GIT_AUTHOR_IDENT``
    (the environment, then config, then the clock)."""
    ident = git_text(["var", "GIT_AUTHOR_IDENT"], cwd).strip()
    head, _, rest = ident.rpartition("<")
    email, _, date = rest.partition(">")
    stamp, tz = date.split()
    return head.strip(), email, int(stamp), parse_tz(tz)


# ----------------------------------------------------------------------- markers

class Last:
    """One marker commit as the clock state needs it (epoch and offset in seconds, tz in minutes)."""

    __slots__ = ("sha", "kind", "authored", "tz", "offset")

    def __init__(self, sha: str, kind: str, authored: int, tz: int, offset: int):
        self.sha, self.kind, self.authored, self.tz, self.offset = sha, kind, authored, tz, offset

    @property
    def effective(self) -> int:
        return self.authored - self.offset

    @property
    def key(self) -> tuple:
        # sessions.pair's order: author date, then effective time, then sha.
        return (self.authored, self.effective, self.sha)

    def to_list(self) -> list:
        return [self.sha, self.kind, self.authored, self.tz, self.offset]

    @classmethod
    def from_list(cls, row) -> "Last":
        sha, kind, authored, tz, offset = row
        if kind not in (markers.IN, markers.OUT) or len(sha) < 40 or " " in sha:
            raise ValueError("bad cached marker")
        return cls(sha, kind, int(authored), int(tz), int(offset))

    def __eq__(self, other) -> bool:
        return isinstance(other, Last) and self.to_list() == other.to_list()

    def __repr__(self) -> str:
        return f"Last({self.to_list()!r})"


def parse_tz(text: str) -> int:
    """``-0500`` -> -300 (minutes east of UTC)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def later(a, b):
    """The later of two markers (either may be None)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a.key >= b.key else b


def scan(cwd, revs) -> dict:
    """identity -> Last over the commits ``git log revs`` lists (all authors)."""
    return finish_scan(start_scan(cwd, revs))


def start_scan(cwd, revs):
    args = ["-c", "log.showSignature=false", "log", "-z", "--use-mailmap", "-i", "-E",
            "--date=raw", "--format=%H%x1f%aE%x1f%ad%x1f%B"]
    args += [f"--grep={pattern}" for pattern in GREP]
    return start_git([*args, *revs, "--"], cwd)


def finish_scan(started) -> dict:
    code, out, err = finish(started)
    if code:
        raise GitError("git log failed: " + err.decode("utf-8", "replace").strip())
    table: dict = {}
    for record in out.split(b"\0"):
        found = _record(record)
        if found:
            identity, last = found
            table[identity] = later(table.get(identity), last)
    return table


def _record(record: bytes):
    parts = record.split(b"\x1f", 3)
    if len(parts) != 4:
        return None
    sha, email, date, body = (p.decode("utf-8", "replace") for p in parts)
    marker = markers.parse(body)
    if marker is None:
        return None  # git's grep is a superset; the parser is exact
    stamp, _, tz = date.strip().partition(" ")
    offset = int(marker.offset.total_seconds())
    return email.strip().lower(), Last(sha.strip(), marker.kind, int(stamp), parse_tz(tz), offset)


# ------------------------------------------------------------------------- cache

class Cache:
    """Last marker of every identity at a few tips; see the module docstring.

    A small text file (no json import on the hook's path)::

        hourly-clockstate <version> <mailmap signature> <crc32 of the rest>
        tip <sha>
        <identity>\t<sha> <kind> <author epoch> <tz minutes> <offset seconds>
    """

    def __init__(self, path, signature: str):
        self.path, self.signature = path, signature
        self.entries = self._load()

    def _load(self) -> list:
        try:
            with open(self.path, encoding="utf-8") as handle:
                head, _, body = handle.read().partition("\n")
            magic, version, signature, crc = head.split(" ")
            if (magic, version, signature) != ("hourly-clockstate", str(CACHE_VERSION), self.signature):
                return []
            if int(crc) != zlib.crc32(body.encode("utf-8")):
                return []  # truncated or edited
            return self._parse(body)[:CACHE_ENTRIES]
        except (OSError, ValueError, UnicodeDecodeError):
            return []  # missing or corrupt: the caller scans, and rewrites it

    @staticmethod
    def _parse(body: str) -> list:
        entries = []
        for line in body.split("\n"):
            if line.startswith("tip "):
                tip = line[4:]
                if len(tip) < 40:
                    raise ValueError("bad tip")
                entries.append((tip, {}))
            elif line:
                identity, _, row = line.partition("\t")
                sha, kind, authored, tz, offset = row.split(" ")
                entries[-1][1][identity] = Last.from_list([sha, kind, authored, tz, offset])
        return entries

    def remember(self, tip: str, table: dict) -> None:
        entries = [(tip, table)] + [(t, m) for t, m in self.entries if t != tip]
        self.entries = entries[:CACHE_ENTRIES]
        self._save()

    def _save(self) -> None:
        lines = []
        for tip, table in self.entries:
            lines.append(f"tip {tip}")
            lines += [f"{identity}\t{' '.join(map(str, last.to_list()))}"
                      for identity, last in table.items() if "\n" not in identity and "\t" not in identity]
        body = "\n".join(lines)
        head = f"hourly-clockstate {CACHE_VERSION} {self.signature} {zlib.crc32(body.encode('utf-8'))}"
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(f"{head}\n{body}")
            os.replace(temporary, self.path)  # atomic: a concurrent reader sees old or new
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass  # a read-only git dir only costs speed


# ---------------------------------------------------------------------- the repo

class Repo:
    """What one ``git rev-parse`` says about the repository the hook runs in."""

    def __init__(self, cwd=None):
        self.cwd = cwd
        # Both questions at once: the hook needs both, and they are independent.
        config = start_git(["config", "-z", "--get-regexp",
                            r"^(core\.commentchar|mailmap\.(file|blob))$"], cwd)
        # HEAD and its parents come in the same call: when the cache's tip is
        # HEAD's parent (every commit after the first), no ancestry check is needed.
        code, out, err = run_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                                  "--is-shallow-repository", "HEAD", "HEAD^@", "--"], cwd)
        if code:  # no commit yet (or not a work tree): ask again without HEAD
            code, out, err = run_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                                      "--is-shallow-repository"], cwd)
            code = code or 1
        self._config = self._read_config(finish(config)[1])
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3:
            from hourly_hooks.worktree import require_work_tree
            require_work_tree(cwd)
            raise GitError("not inside a git work tree",
                           hint="Run this inside the repository you bill from.")
        self.top = lines[0]
        common = lines[1]
        self.common_dir = common if os.path.isabs(common) else os.path.join(cwd or os.getcwd(), common)
        self.shallow = lines[2] == "true"
        revs = [line for line in lines[3:] if line != "--"] if code == 0 else []
        self.head = revs[0] if revs else None  # None: no commit yet
        self.head_parents = revs[1:]

    @staticmethod
    def _read_config(out: bytes) -> dict:
        """core.commentChar and the mailmap settings (git config -z output)."""
        config = {}
        for item in out.decode("utf-8", "surrogateescape").split("\0"):
            name, _, value = item.partition("\n")
            if name:
                config[name.lower()] = value
        return config

    def config(self) -> dict:
        return self._config

    def comment_char(self, text: str = "") -> str:
        value = self.config().get("core.commentchar", "#") or "#"
        if value == "auto":
            # git chose a character the message did not use; its template lines show which.
            for line in text.split("\n"):
                if line[:1] in "#;@!$%^&|:" and "Please enter the commit message" in line:
                    return line[0]
            return "#"
        return value[0]

    def mailmap_signature(self):
        """A digest of what maps emails (None: caching is unsafe here)."""
        config = self.config()
        if "mailmap.blob" in config:
            return None
        parts = []
        for path in (os.path.join(self.top, ".mailmap"), config.get("mailmap.file")):
            if path:
                try:
                    with open(os.path.expanduser(path), "rb") as handle:
                        parts.append(handle.read())
                except OSError:
                    parts.append(b"-")
        if parts == [b"-"] or not parts:
            return "none"
        import hashlib
        return hashlib.sha1(b"\0".join(parts)).hexdigest()

    def canonical_email(self, name: str, email: str) -> str:
        """The author's email after .mailmap, folded: the identity history uses."""
        if self.mailmap_signature() == "none":
            return email.lower()
        code, out, _ = run_git(["check-mailmap", f"{name} <{email}>"], self.cwd)
        text = out.decode("utf-8", "replace").strip()
        if code == 0 and text.endswith(">") and "<" in text:
            return text[text.rindex("<") + 1:-1].lower()
        return email.lower()

    def rewritten(self) -> bool:
        """Grafts or replace refs change what reach(T) means: no caching then."""
        if os.path.exists(os.path.join(self.common_dir, "info", "grafts")):
            return True
        replace = os.path.join(self.common_dir, "refs", "replace")
        if os.path.isdir(replace) and any(os.scandir(replace)):
            return True
        try:
            with open(os.path.join(self.common_dir, "packed-refs"), "rb") as handle:
                return b" refs/replace/" in handle.read()
        except OSError:
            return False

    def parents(self, sha: str) -> list:
        if sha == self.head:
            return list(self.head_parents)
        return git_text(["rev-parse", f"{sha}^@", "--"], self.cwd).split()[:-1]

    def cache(self):
        """The marker cache, or None where caching could give a wrong answer (or HOURLY_NO_CACHE)."""
        if os.environ.get("HOURLY_NO_CACHE") or self.shallow or self.rewritten():
            return None
        signature = self.mailmap_signature()
        if signature is None:
            return None
        return Cache(os.path.join(self.common_dir, "hourly", CACHE_FILE), signature)


# ---------------------------------------------------------------- the look-up

def last_marker(repo: Repo, identity: str, heads=None, use_cache: bool = True):
    """The identity's last marker over reach(heads) (default: HEAD), or None."""
    heads = [repo.head] if heads is None else list(heads)
    heads = [h for h in heads if h]
    if not heads:
        return None  # empty repository, or amending a root commit
    cache = repo.cache() if use_cache else None
    if cache is not None:
        for tip, table in cache.entries:
            found, usable = _from_entry(repo, cache, tip, table, identity, heads)
            if usable:
                return found
    table = scan(repo.cwd, heads)
    if cache is not None and len(heads) == 1:
        cache.remember(heads[0], table)
    return table.get(identity)


def _extend(cache: Cache, tip: str, table: dict, identity: str, heads: list, newer: dict):
    """reach(heads) = reach(tip) + (heads ^tip): merge the new markers in, for everyone."""
    merged = dict(table)
    for key, last in newer.items():
        merged[key] = later(merged.get(key), last)
    if len(heads) == 1:
        cache.remember(heads[0], merged)
    return merged.get(identity), True


def _from_entry(repo: Repo, cache: Cache, tip: str, table: dict, identity: str, heads: list):
    """(answer, True) if the entry at tip answers for heads exactly, else (None, False)."""
    if heads == [tip]:
        return table.get(identity), True
    cached = table.get(identity)
    if heads == [repo.head] and repo.head_parents == [tip]:
        # The usual hook call: the cache was written at HEAD's only parent, so
        # reach(HEAD) = reach(tip) + HEAD itself. One git call reads HEAD.
        newer = finish_scan(start_scan(repo.cwd, [*heads, f"^{tip}"]))
        return _extend(cache, tip, table, identity, heads, newer)
    # The questions are independent: ask them side by side.
    newer_job = start_scan(repo.cwd, [*heads, f"^{tip}"])
    tip_jobs = [start_git(["merge-base", "--is-ancestor", tip, head], repo.cwd) for head in heads]
    cached_jobs = [start_git(["merge-base", "--is-ancestor", cached.sha, head], repo.cwd)
                   for head in heads] if cached is not None else []
    tip_below = any([finish(job)[0] == 0 for job in tip_jobs])   # a list: reap every process
    cached_reachable = cached is None or any([finish(job)[0] == 0 for job in cached_jobs])
    try:
        newer = finish_scan(newer_job)
    except GitError:
        return None, False  # the cached tip was garbage-collected since: unusable
    if tip_below:
        return _extend(cache, tip, table, identity, heads, newer)
    if cached_reachable:
        # The part of reach(heads) inside reach(tip) holds no marker of this
        # identity later than `cached` (none at all if cached is None), and
        # `cached` itself is reachable, so only heads ^tip can add a later one.
        return later(cached, newer.get(identity)), True
    return None, False


# --------------------------------------------------------------------- the rules

class Problem:
    """Why a clock event is refused, the state found, and how to get out of it."""

    def __init__(self, reason: str, state: str, fixes: list):
        self.reason, self.state, self.fixes = reason, state, fixes

    def text(self, extra_fixes=()) -> str:
        lines = [self.reason]
        if self.state:
            lines.append(f"  State: {self.state}.")
        fixes = [*self.fixes, *extra_fixes]
        if fixes:
            lines.append("  Way out:")
            lines += [f"    - {fix}" for fix in fixes]
        return "\n".join(lines)


def stamp(epoch: int, tz: int) -> str:
    """``2026-11-28 09:12 -05:00``: the time as the person saw it."""
    when = datetime.fromtimestamp(epoch, timezone(timedelta(minutes=tz)))
    offset = when.strftime("%z")
    return when.strftime("%Y-%m-%d %H:%M ") + offset[:3] + ":" + offset[3:]


def describe(last, now: int) -> str:
    """``clocked in since 2026-11-28 09:12 -05:00, 3h05m ago, commit abc1234``."""
    if last is None:
        return "no clock marker of yours in this history (clocked out)"
    ago = markers.format_minutes(max(0, now - last.effective))
    return f"clocked {last.kind} since {stamp(last.effective, last.tz)}, {ago} ago, commit {last.sha[:7]}"


def check(kind: str, authored: int, offset: int, last, now=None, tz: int = 0):
    """None if the event may be recorded after `last`, else a Problem.

    kind: markers.IN / OUT; authored: the new commit's author date (epoch);
    offset: its T- offset in seconds; last: the identity's Last (or None);
    tz: the new commit's UTC offset in minutes, for the messages.
    """
    now = int(time.time()) if now is None else now

    def _stamp(epoch: int) -> str:
        return stamp(epoch, tz)

    effective = authored - offset
    state = describe(last, authored)
    word = f"clock-{kind}"
    if effective > now + FUTURE_SLACK:
        return Problem(f"This {word} is in the future ({_stamp(effective)}); the future is not billable.",
                       "", ["check the commit's --date / GIT_AUTHOR_DATE, or drop the date"])
    if kind == markers.IN and last is not None and last.kind == markers.IN:
        return Problem(f"You are already clocked in; a second {word} would leave the first without a clock-out.",
                       state, ['clock out first: `hourly out` (or `git commit --allow-empty -m "clock-out"`), '
                               "then commit again"])
    if kind == markers.OUT and (last is None or last.kind == markers.OUT):
        return Problem("You are not clocked in, so there is nothing to clock out of.", state,
                       ['clock in first: `hourly in --at HH:MM` (or `git commit --allow-empty -m "clock-in: T-1h"` '
                        "with the right offset), then commit again",
                        "or drop the clock-out marker from this message"])
    if last is not None and authored < last.authored:
        return Problem(f"This {word} is dated {_stamp(authored)}, before your last marker; "
                       "history would read it out of order.", state,
                       ["commit it with the current date (drop --date / GIT_AUTHOR_DATE)"])
    if last is not None and authored == last.authored:
        # Markers are ordered by author date, in whole seconds: a tie cannot be ordered.
        return Problem(f"This {word} has the same author date (to the second) as your last marker, "
                       "so history could not tell which came first.", state,
                       ["commit again a second later"])
    if last is not None and effective < last.effective:
        what = "its clock-in" if kind == markers.OUT else "your last clock-out"
        room = markers.format_duration(timedelta(seconds=max(0, authored - last.effective)))
        return Problem(f"The offset puts this {word} at {_stamp(effective)}, before {what}.", state,
                       [f"use an offset of at most T-{room}"])
    return None

