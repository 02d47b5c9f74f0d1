"""Read marker commits out of git: one streamed `git log` per repository.

git does the filtering in C (``--grep`` on the message, ``--author``), so
Python only ever sees the few commits that mention a clock, one record at a
time; no object is built for the other 90% of history. Author name and email
come through ``%aN``/``%aE``, which honour ``.mailmap``.

This is the report's hot path, so it talks to git directly rather than through
GitPython (importing GitPython alone costs more than reading 10k markers): the
log streams through subprocess, short questions go through gitcmd.run_git.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from hourly_hooks import markercache, markers
from hourly_hooks.gitcmd import git_message, run_git
from hourly_hooks.errors import GitError
from hourly_hooks.sessions import MarkerCommit

GREP_PATTERNS = markers.GREP
_FORMAT = "%H%x00%aI%x00%aN%x00%aE%x00%B"
_FIELDS = 5
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Repository:
    top: Path        # the work tree's top level
    git_dir: Path    # the common git dir (shared by worktrees)

    @property
    def name(self) -> str:
        return self.top.name


def open_repository(path=".") -> Repository:
    """The repository containing path; GitError if there is none."""
    path = Path(path)
    if not path.exists():
        raise GitError(f"{path}: no such directory")
    code, out, _ = run_git(["rev-parse", "--show-toplevel", "--git-common-dir"], path)
    if code != 0:
        from hourly_hooks.worktree import require_work_tree
        require_work_tree(path)
        raise GitError(f"{path.resolve()} is not inside a git repository",
                       hint="Run hourly inside your project, or point at it with --repo PATH.")
    top, common = out.decode("utf-8", "surrogateescape").splitlines()[:2]
    return Repository(Path(top), (Path(path) / common).resolve())


def has_commits(repo: Repository) -> bool:
    return run_git(["rev-parse", "-q", "--verify", "HEAD"], repo.top)[0] == 0


def author_pattern(email: str) -> str:
    """A ``git log --author`` pattern matching exactly this email.

    --author takes an extended, case-insensitive regex on "Name <email>": the
    email is escaped and anchored on <...>, so bob@x.com does not also match
    jimbob@x.com.
    """
    return "<" + re.sub(r"([.\[\]{}()*+?^$|\\])", r"\\\1", email) + ">"


def log_command(all_refs: bool = False, authors: Iterable[str] = (), stdin: bool = False) -> list:
    command = ["git", "-c", "log.showSignature=false", "log", "-z", "-i", "-E",
               f"--format={_FORMAT}", "--use-mailmap"]
    command += [f"--grep={pattern}" for pattern in GREP_PATTERNS]
    command += [f"--author={author}" for author in authors]
    command.append("--stdin" if stdin else ("--all" if all_refs else "HEAD"))
    return command


def read_markers(repo: Repository, all_refs: bool = False,
                 authors: Iterable[str] = ()) -> Iterator[MarkerCommit]:
    """Every commit of repo that carries a clock marker."""
    authors = tuple(authors)
    records = _cached_records(repo, all_refs, authors) if markercache.enabled() \
        else _log_records(repo, log_command(all_refs, authors))
    try:
        empty = True
        for record in records:
            empty = False
            commit = _marker_commit(record, repo.name)
            if commit is not None:
                yield commit
    except GitError:
        _refuse_empty(repo)  # git log HEAD fails in a repository without commits
        raise
    if empty:
        _refuse_empty(repo)  # --all says nothing at all there


def read_all(repos: Iterable[Repository], all_refs: bool = False,
             authors: Iterable[str] = ()) -> Iterator[MarkerCommit]:
    """The marker commits of several repositories, one after the other."""
    authors = tuple(authors)
    for repo in repos:
        yield from read_markers(repo, all_refs, authors)


def _refuse_empty(repo: Repository) -> None:
    # Asked only when git gave nothing: one git call saved on every report.
    if not has_commits(repo):
        raise GitError(f"{repo.top} has no commits yet", hint="Clock in first: hourly in")


def _cached_records(repo: Repository, all_refs: bool, authors: tuple) -> Iterator[list]:
    """Records from the cache, topped up with what is new since (see markercache)."""
    key = markercache.identity_key(repo.top, repo.git_dir) + repr(GREP_PATTERNS)
    cache = markercache.Cache(repo.git_dir, key)
    scope = markercache.scope_key(all_refs, authors)
    tips = markercache.tips(repo.top, all_refs)
    entry = cache.get(scope)
    if tips is None:  # git could not list the tips: read without the cache
        yield from _log_records(repo, log_command(all_refs, authors))
        return
    if entry and entry["tips"] == tips:
        yield from entry["records"]
        return
    if entry and markercache.contained(repo.top, entry["tips"], tips):
        revisions = tips + [f"^{tip}" for tip in entry["tips"]]
        fresh = _log_records(repo, log_command(authors=authors, stdin=True), revisions)
        kept = entry["records"]
    else:
        fresh = _log_records(repo, log_command(all_refs, authors))
        kept = []
    records = []
    for record in fresh:  # stream: parsing overlaps with git's walk
        records.append(record)
        yield record
    yield from kept
    cache.put(scope, tips, records + kept)


def _log_records(repo: Repository, command: list, revisions: Sequence[str] = ()) -> Iterator[list]:
    """Run git log and yield its records as lists of str fields."""
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C")
    process = subprocess.Popen(command, cwd=repo.top, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env,
                               stdin=subprocess.PIPE if revisions else subprocess.DEVNULL)
    _widen(process.stdout)
    if revisions:
        process.stdin.write("".join(f"{rev}\n" for rev in revisions).encode())
        process.stdin.close()
    try:
        for record in _records(process.stdout):
            fields = [field.decode("utf-8", "replace") for field in record]
            fields[0] = fields[0].lstrip("\n")  # -z leaves the separator before the next SHA
            yield fields
    finally:
        process.stdout.close()
        stderr = process.stderr.read()
        process.stderr.close()
        if process.wait() != 0:
            raise GitError(git_message(stderr) or "git log failed")


def _widen(pipe) -> None:
    """Give git a 1 MiB pipe (Linux) so it never waits while Python parses a chunk."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # other systems, or a lower pipe-max-size: the default buffer still works


def _records(stream) -> Iterator[list]:
    """Split git's NUL-separated stream into records of _FIELDS fields, as it arrives."""
    fields: list = []
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        pieces = (tail + chunk).split(b"\0")
        tail = pieces.pop()
        fields.extend(pieces)
        while len(fields) >= _FIELDS:
            yield fields[:_FIELDS]
            del fields[:_FIELDS]
    if tail:
        fields.append(tail)
    if len(fields) == _FIELDS:
        yield fields


def _marker_commit(record: list, repo_name: str) -> Optional[MarkerCommit]:
    sha, date, name, email, body = record
    marker = markers.parse(body)
    if marker is None:
        return None  # git's grep is broad ("clocking in"); the parser is exact
    marker = _MARKERS.setdefault(marker, marker)  # most are alike: plain "clock-in" at line 0
    authored = datetime.fromisoformat(date)
    zone = _ZONES.setdefault(date[-6:], authored.tzinfo)  # one tzinfo per offset, not per commit
    if authored.tzinfo is not zone:
        authored = authored.replace(tzinfo=zone)
    return MarkerCommit(sha=sha, name=sys.intern(name), email=sys.intern(email), authored=authored,
                        marker=marker, message=body.strip(), repo=repo_name)


_ZONES: dict = {}
_MARKERS: dict = {}
