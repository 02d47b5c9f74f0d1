"""Real repositories with the clock hook installed, and real `git commit` calls.

Unlike gitrepo.GitRepo.commit (which uses --no-verify to build histories),
`HookedRepo.commit` lets git run the installed hooks, as a user's commit does,
and returns the CompletedProcess so a test can see a refusal and its message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

ALICE = ("Alice Martin", "alice@example.com")
BOB = ("Bob Okafor", "bob@example.com")


def python_env(env: dict) -> dict:
    """env with this interpreter's bin first: its python3 / hourly-clock have hourly_hooks."""
    env = dict(env)
    env["PATH"] = str(Path(PYTHON).parent) + os.pathsep + env.get("PATH", os.defpath)
    if env.get("PYTHONPATH"):
        # `PYTHONPATH=src pytest`: keep it working from inside the test repositories.
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep))
    return env


class HookedRepo(GitRepo):
    """A GitRepo whose commits go through the installed hooks."""

    def __init__(self, path: Path, env: Optional[dict] = None, init: bool = True):
        super().__init__(path, env, init)
        self.env = python_env(self.env)

    def run(self, *args: str, env: Optional[dict] = None, cwd: Optional[Path] = None,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=cwd or self.path, env={**self.env, **(env or {})},
                              capture_output=True, text=True, input=input)

    def hourly(self, *args: str, env: Optional[dict] = None, cwd: Optional[Path] = None):
        """The `hourly` CLI, run as `python -m hourly_hooks` from this interpreter."""
        return self.run(PYTHON, "-m", "hourly_hooks", *args, env=env, cwd=cwd)

    def install_hook(self, *args: str, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
        done = self.hourly("install-hook", *args, cwd=cwd)
        assert done.returncode == 0, done.stderr
        return done

    def try_commit(self, *messages: str, when: str, who=ALICE, amend: bool = False,
                   files: Optional[dict] = None, args=(), cwd: Optional[Path] = None,
                   env: Optional[dict] = None) -> subprocess.CompletedProcess:
        """`git commit -m ...` at author date `when`, hooks running; not asserted."""
        for relative, text in (files or {}).items():
            target = (cwd or self.path) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.run("git", "add", relative, cwd=cwd)
        name, email = who
        when_env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
                    "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": when}
        command = ["git", "commit", "--allow-empty", *(["--amend"] if amend else []), *args]
        for message in messages:
            command += ["-m", message]
        return self.run(*command, env={**when_env, **(env or {})}, cwd=cwd)

    def accept(self, *messages: str, **kwargs) -> str:
        """Commit and require the hooks to accept; returns the new HEAD's full message."""
        done = self.try_commit(*messages, **kwargs)
        assert done.returncode == 0, f"refused:\n{done.stdout}\n{done.stderr}"
        return self.message()

    def refuse(self, *messages: str, **kwargs) -> str:
        """Commit and require a refusal; returns git's output (the hook's explanation)."""
        head = self.head()
        done = self.try_commit(*messages, **kwargs)
        assert done.returncode != 0, f"accepted:\n{done.stdout}\n{done.stderr}"
        assert self.head() == head, "a refused commit must not move HEAD"
        return done.stdout + done.stderr

    def head(self) -> str:
        """HEAD's SHA, "" before the first commit (read from the files when they say: no git start)."""
        return self._head_from_files() or self.git("rev-parse", "-q", "--verify", "HEAD", check=False).strip()

    def message(self, rev: str = "HEAD") -> str:
        return self.git("log", "-1", "--format=%B", rev).strip("\n")

    def subject(self, rev: str = "HEAD") -> str:
        return self.git("log", "-1", "--format=%s", rev).strip()

    def git_dir(self) -> Path:
        if (self.path / ".git").is_dir() and "GIT_DIR" not in self.env:
            return (self.path / ".git").resolve()  # what git says from the top of its work tree
        return (self.path / self.git("rev-parse", "--git-dir").strip()).resolve()


def snapshot_checkout(dest: Path) -> Path:
    """This checkout's package as a fresh one-commit git repo, for pre-commit to install.

    pre-commit needs a repository with a commit to clone; copying the files that
    make the package keeps the test independent of the checkout's own git state.
    """
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    if not (dest / "README.md").exists():
        (dest / "README.md").write_text("# hourly-hooks\n")
    shutil.copytree(ROOT / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    env = python_env({k: v for k, v in os.environ.items() if not k.startswith("GIT_")})
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(dest / ".gitconfig-none"))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                  "commit", "-q", "--no-verify", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)
    return dest


def at(hhmm: str, day: str = "2025-03-03", tz: str = "-05:00") -> str:
    """An author date on a fixed day, as git takes it."""
    return f"{day}T{hhmm}:00{tz}"


_HOOKED_TEMPLATE: Optional[Path] = None  # a new repository after `hourly install-hook`, once per process


def _hooked_template() -> Path:
    """A fresh repository in which `hourly install-hook` ran (a real start of it), made once per test process.

    What the install writes (the three hook scripts in .git/hooks, naming this interpreter and
    this checkout's package) does not depend on the repository it is run in, so every test that
    only needs the hooks in place gets a copy instead of its own start of Python and git init.
    """
    global _HOOKED_TEMPLATE
    if _HOOKED_TEMPLATE is None:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="hourly-hooked-"))
        atexit.register(shutil.rmtree, folder, True)
        repo = HookedRepo(folder / "work")
        done = repo.install_hook()
        assert done.stdout.count("(new)") == 3, done.stdout
        _HOOKED_TEMPLATE = repo.path
    return _HOOKED_TEMPLATE


def install_plain_hooks(repo: HookedRepo) -> HookedRepo:
    """What `repo.install_hook()` leaves in a repository without hooks (a copy of the template's)."""
    hooks = repo.path / ".git" / "hooks"
    assert hooks.is_dir(), "install_plain_hooks wants a repository with its own .git folder"
    for script in ("commit-msg", "prepare-commit-msg", "pre-commit"):
        assert not (hooks / script).exists(), f"{script} is already there: use repo.install_hook()"
        shutil.copy2(_hooked_template() / ".git" / "hooks" / script, hooks / script)
    return repo


@pytest.fixture
def hooked(tmp_path) -> HookedRepo:
    """A new repository with the plain hooks of `hourly install-hook`: a copy of the repository
    this process ran the install in (tests/test_hook_install.py tests the install itself)."""
    path = tmp_path / "work"
    path.mkdir()
    shutil.copytree(_hooked_template() / ".git", path / ".git", symlinks=True)
    return HookedRepo(path, init=False)
