"""A cache of marker commits per set of branch tips, kept in the git directory.

Reading markers means git must inflate every commit's message: ~6 us a commit,
seconds on a large history, paid again by every report. History below a
commit never changes, so the cache stores, for one scope (HEAD or --all, and
the --author patterns), the tips it was computed at and the markers reachable
from them. On the next run:

* same tips: the cached markers are the answer, and git reads no message;
* every old tip is an ancestor of the new tips (new commits, fast-forwards,
  new branches): only ``git log <new tips> --not <old tips>`` is read;
* anything else (a rebase, a reset, a deleted branch), or a different
  ``.mailmap``, or an unreadable cache: a full read, as without a cache.

So the cache can make a report faster, never different. It lives at
``<git common dir>/hourly/markers.json``; HOURLY_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import List, Optional, Sequence

from hourly_hooks.gitcmd import run_git

FORMAT_VERSION = 1
FILE = Path("hourly") / "markers.json"


def enabled() -> bool:
    return not os.environ.get("HOURLY_NO_CACHE")


def _run(args: Sequence[str], cwd) -> Optional[str]:
    """git's output, or None when it fails (the caller then reads without the cache)."""
    code, out, _ = run_git(args, cwd)
    return out.decode("utf-8", "replace") if code == 0 else None


def tips(top, all_refs: bool) -> Optional[List[str]]:
    """The commits a walk starts from: HEAD, or every ref and HEAD (as `git log --all`)."""
    out = _run(["rev-list", "--no-walk", "--all" if all_refs else "HEAD"], top)
    return sorted(out.split()) if out is not None else None


def contained(top, old: Sequence[str], new: Sequence[str]) -> bool:
    """True when every old tip is reachable from the new tips."""
    if not old:
        return True
    out = _run(["rev-list", "--count", *old, "--not", *new], top)
    return out is not None and out.strip() == "0"


def identity_key(top, git_dir: Path) -> str:
    """What %aN/%aE depend on besides the commits: the mailmap files and settings."""
    digest = hashlib.sha256(str(FORMAT_VERSION).encode())
    config = _run(["config", "--get-regexp", r"^mailmap\."], top) or ""
    digest.update(config.encode())
    paths = [Path(top) / ".mailmap"]
    paths += [Path(os.path.expanduser(line.split(None, 1)[1])) for line in config.splitlines()
              if line.startswith("mailmap.file ") and len(line.split(None, 1)) == 2]
    for path in paths:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()


def scope_key(all_refs: bool, authors: Sequence[str]) -> str:
    return json.dumps(["all" if all_refs else "HEAD", sorted(authors)])


class Cache:
    """One repository's cache file: {"key": ..., "scopes": {scope: {"tips", "records"}}}."""

    def __init__(self, git_dir: Path, key: str):
        self.path = Path(git_dir) / FILE
        self.key = key
        self.scopes: dict = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == FORMAT_VERSION and data.get("key") == key:
                self.scopes = data.get("scopes", {})
        except (OSError, ValueError, AttributeError):
            self.scopes = {}  # missing or damaged: behave as if there were none

    def get(self, scope: str) -> Optional[dict]:
        entry = self.scopes.get(scope)
        if isinstance(entry, dict) and isinstance(entry.get("tips"), list) \
                and isinstance(entry.get("records"), list):
            return entry
        return None

    def put(self, scope: str, tips: List[str], records: list) -> None:
        self.scopes[scope] = {"tips": tips, "records": records}
        document = {"version": FORMAT_VERSION, "key": self.key, "scopes": self.scopes}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(document), encoding="utf-8")
            os.replace(temporary, self.path)  # readers see the old file or the new, never half
        except OSError:
            pass  # a read-only repository still gets its report, just not faster
