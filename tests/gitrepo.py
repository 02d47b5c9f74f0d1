"""Real git repositories in temporary folders, with controlled author dates."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Tuple


def isolated_env(home: Path) -> dict:
    """An environment in which no user or system git config leaks into a test."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "HOURLY_", "BTCPAYSERVER_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), LC_ALL="C")
    return env


class GitRepo:
    """A repository driven through the real git command line."""

    def __init__(self, path: Path, env: Optional[dict] = None, init: bool = True):
        self.path = Path(path)
        self.env = dict(env or isolated_env(self.path.parent))
        if init:
            self.path.mkdir(parents=True, exist_ok=True)
            template = _empty_repository(self.env)
            if template is not None and not (self.path / ".git").exists():
                shutil.copytree(template, self.path / ".git", symlinks=True)
            else:
                self._init()

    def _init(self) -> None:
        self.git("init", "-q", "-b", "main")
        # What four `git config` calls would write, written at once: the
        # suite makes thousands of repositories, and each git start costs.
        # maintenance.auto: after every commit git starts `git maintenance run --auto`, a second
        # process that finds nothing to do in a test's few loose objects (gc.auto waits for 6700):
        # some 3500 git starts in a run of the suite. An explicit `git gc` still runs.
        with open(self.path / ".git" / "config", "a") as config:
            config.write("[user]\n\tname = Default User\n\temail = default@example.com\n"
                         "[commit]\n\tgpgsign = false\n[maintenance]\n\tauto = false\n")

    def git(self, *args: str, env: Optional[dict] = None, check: bool = True) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, env={**self.env, **(env or {})},
                              capture_output=True, text=True)
        if check and done.returncode:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def commit(self, message: str, when: str, name: str = "Alice Martin",
               email: str = "alice@example.com", files: Optional[dict] = None,
               committed: Optional[str] = None) -> str:
        """Commit at author date `when` (ISO 8601 with offset); returns the SHA."""
        for relative, text in (files or {}).items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", relative)
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
               "GIT_COMMITTER_DATE": committed or when}
        self.git("commit", "-q", "--allow-empty", "--no-verify", "--cleanup=verbatim", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        """HEAD's SHA, read from the loose ref a commit just wrote when there is one (no git start)."""
        return self._head_from_files() or self.git("rev-parse", "HEAD").strip()

    def _head_from_files(self) -> Optional[str]:
        """HEAD's SHA as .git/HEAD and the loose ref it names say; None when they do not say
        (a linked worktree, a branch in packed-refs only, no commit yet): git is asked then."""
        git_dir = self.path / ".git"
        if git_dir.is_dir():
            head = (git_dir / "HEAD").read_text().strip()
            loose = git_dir / head[5:] if head.startswith("ref: ") else None
            if loose is None:
                return head
            if loose.is_file():
                return loose.read_text().strip()
        return None

    def import_line(self, commits) -> None:
        """One `git fast-import` of a straight line of commits on main, each (message bytes,
        epoch seconds, "+hhmm") by Alice: thousands of commits in a moment. The work tree is left as is."""
        stream = []
        for n, (message, when, zone) in enumerate(commits):
            stream.append(f"commit refs/heads/main\nmark :{n + 1}\n"
                          f"author Alice <alice@example.com> {when} {zone}\n"
                          f"committer Alice <alice@example.com> {when} {zone}\n"
                          f"data {len(message)}\n".encode() + message + (f"from :{n}\n".encode() if n else b"") + b"\n")
        subprocess.run(["git", "fast-import", "--quiet"], cwd=self.path, input=b"".join(stream), check=True,
                       env=self.env)


_EMPTY: Optional[Tuple[int, Path]] = None  # (umask, .git of a new GitRepo), made once per test process


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _empty_repository(env: dict) -> Optional[Path]:
    """The .git folder `git init` and GitRepo's config give a new repository, to copy.

    The suite makes thousands of repositories: copying one made by git costs half a
    `git init` start. What git init writes depends only on git's built-in template, the
    umask (the files' modes) and the configuration (init.templateDir...): a test that set a
    global configuration or another umask gets its own git init (None).
    """
    global _EMPTY
    if env.get("GIT_CONFIG_NOSYSTEM") != "1" or not env.get("GIT_CONFIG_GLOBAL") \
            or os.path.exists(env["GIT_CONFIG_GLOBAL"]) \
            or any(k.startswith("GIT_") for k in env if k not in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")):
        return None
    mask = _umask()
    if _EMPTY is None:
        folder = Path(tempfile.mkdtemp(prefix="hourly-empty-"))
        atexit.register(shutil.rmtree, folder, True)
        empty = GitRepo(folder / "empty", env=env, init=False)
        empty.path.mkdir()
        empty._init()
        _EMPTY = (mask, empty.path / ".git")
    return _EMPTY[1] if _EMPTY[0] == mask else None
