"""Run git and read its answers: the small, fast runner every module shares.

Short questions (rev-parse, config, var) go through ``run_git``; ``start_git``
and ``finish`` let independent questions run side by side. posix_spawn and
raw pipes keep this lighter than subprocess, which matters on the commit-msg
hook's path (it runs on every commit). A git fed on stdin (``input=``) or
given its own environment (``env=``) goes through subprocess here too. The
report's one long ``git log`` streams through subprocess in git/log.py;
the work log's in git/worklog.py.
"""

from __future__ import annotations

import os

from hourly_hooks.errors import GitError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (and re, on the hook's path)
if TYPE_CHECKING:
    from typing import Mapping, Optional


def run_git(args, cwd=None, input: Optional[bytes] = None, env: Optional[Mapping[str, str]] = None) -> tuple:
    """(returncode, stdout bytes, stderr bytes) of ``git args``; GitError if git is missing.

    With ``input`` (written to git's stdin) or ``env``, git runs through
    subprocess, which writes and reads side by side (a large --batch input
    cannot block), and git's stdin is otherwise left as it is (a hook run by
    ``git commit`` may ask the terminal).
    """
    if input is None and env is None:
        return finish(start_git(args, cwd))
    return _run_subprocess(_argv(args, cwd), input, env)


def _argv(args, cwd) -> list:
    return ["git", *(["-C", str(cwd)] if cwd else []), *args]


def _run_subprocess(argv: list, input: Optional[bytes], env: Optional[Mapping[str, str]],
                    no_stdin: bool = False) -> tuple:
    import subprocess
    try:
        done = subprocess.run(argv, capture_output=True, input=input, env=env,
                              stdin=subprocess.DEVNULL if no_stdin else None)
    except OSError:
        raise GitError("git is not installed or not on PATH") from None
    return done.returncode, done.stdout, done.stderr


def start_git(args, cwd=None):
    """Start git without waiting, so independent questions run side by side."""
    argv = _argv(args, cwd)
    if not hasattr(os, "posix_spawnp"):  # pragma: no cover - Windows
        return _run_subprocess(argv, None, None, no_stdin=True)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
    try:
        pid = os.posix_spawnp("git", argv, os.environ, file_actions=actions)
    except OSError:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        raise GitError("git is not installed or not on PATH") from None
    os.close(out_w)
    os.close(err_w)
    return pid, out_r, err_r


def finish(started) -> tuple:
    """(returncode, stdout, stderr) of a start_git() process."""
    pid, out_r, err_r = started
    if isinstance(out_r, bytes):  # pragma: no cover - the subprocess fallback ran already
        return started
    out, err = _drain(out_r, err_r)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out, err


def _drain(out_r: int, err_r: int) -> tuple:
    # Read both pipes as data arrives, so a chatty stderr can never block git.
    import select
    chunks: dict = {out_r: [], err_r: []}
    open_fds = [out_r, err_r]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [])
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if data:
                chunks[fd].append(data)
            else:
                open_fds.remove(fd)
                os.close(fd)
    return b"".join(chunks[out_r]), b"".join(chunks[err_r])


def git_text(args, cwd=None) -> str:
    """stdout of a git command that must succeed, as text; GitError with git's words otherwise."""
    code, out, err = run_git(args, cwd)
    if code:
        raise GitError(git_message(err) or f"git {args[0]} failed")
    return out.decode("utf-8", "surrogateescape")


def git_message(err: bytes) -> str:
    """git's own words for a failure: the first line of its stderr, without "fatal: "."""
    message = next((line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()), "")
    return message.removeprefix("fatal: ")
