"""commitargs: whether a `git commit` command line amends, read as git 2.39 reads it.

The parser's cases are checked against real git below (test_the_answer_matches_what_git_did):
a probe commit-msg hook asks commitargs about the git that runs it, and the
test compares the answer with what git then did to the history.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import GitRepo

import hourly_hooks
from hourly_hooks import commitargs
from hourly_hooks.commitargs import amending

HAS_PROC = os.path.exists(f"/proc/{os.getpid()}/cmdline")
needs_proc = pytest.mark.skipif(not HAS_PROC, reason="no /proc here: the git process cannot be read")


def git(*args: str) -> list:
    return ["git", *args]


@pytest.mark.parametrize("args, expected", [
    # --amend and its unique abbreviations; --no-amend; the last one wins
    (["commit", "--amend", "-m", "x"], True),
    (["commit", "--am", "-m", "x"], True),
    (["commit", "--ame", "-m", "x"], True),
    (["commit", "--amen", "-m", "x"], True),
    (["commit", "-m", "x"], False),
    (["commit", "--no-amend", "-m", "x"], False),
    (["commit", "--no-am", "-m", "x"], False),
    (["commit", "--amend", "--no-amen", "-m", "x"], False),
    (["commit", "--no-amend", "--amend", "-m", "x"], True),
    # the value of -m / --message / -F ... is never an option, whatever it looks like
    (["commit", "-m", "--amend"], False),
    (["commit", "--message", "--amend"], False),
    (["commit", "--message=--amend"], False),
    (["commit", "--mess", "--amend"], False),
    (["commit", "--mess=x", "--amend"], True),
    (["commit", "-F", "--amend"], False),
    (["commit", "--file", "--amend"], False),
    (["commit", "-c", "--amend"], False),
    (["commit", "-C", "--amend"], False),
    (["commit", "--reuse-message", "--amend"], False),
    (["commit", "--reedit-message", "--amend"], False),
    (["commit", "-t", "--amend", "-m", "x"], False),
    (["commit", "--template", "--amend", "-m", "x"], False),
    (["commit", "--author", "--amend", "-m", "x"], False),
    (["commit", "--author=A <a@b>", "--amend", "-m", "x"], True),
    (["commit", "--date", "--amend", "-m", "x"], False),
    (["commit", "--cleanup", "--amend", "-m", "x"], False),
    (["commit", "--fixup", "--amend"], False),
    (["commit", "--fix", "--amend"], False),
    (["commit", "--squash", "--amend", "-m", "x"], False),
    (["commit", "--trailer", "--amend", "-m", "x"], False),
    (["commit", "--trailer=k=v", "--amend", "-m", "x"], True),
    (["commit", "--pathspec-from-file", "--amend", "-m", "x"], False),
    (["commit", "--no-message", "--amend"], True),  # a negated option takes no value
    (["commit", "--no-author", "--amend", "-m", "x"], True),
    # bundled and stuck short options
    (["commit", "-am", "x"], False),
    (["commit", "-am", "x", "--amend"], True),
    (["commit", "-avm", "--amend"], False),
    (["commit", "-avm", "x", "--amend"], True),
    (["commit", "-mwork", "--amend"], True),
    (["commit", "-amx", "--amend"], True),
    (["commit", "-qsenz", "--amend", "-m", "x"], True),
    (["commit", "-Fmsg.txt", "--amend"], True),
    # optional values are stuck or absent: the next argument stays an argument
    (["commit", "-u", "--amend", "-m", "x"], True),
    (["commit", "-uno", "--amend", "-m", "x"], True),
    (["commit", "--untracked-files", "--amend", "-m", "x"], True),
    (["commit", "--untracked-files=no", "--amend", "-m", "x"], True),
    (["commit", "-S", "--amend", "-m", "x"], True),
    (["commit", "-Skey", "-m", "x"], False),
    (["commit", "--gpg-sign", "--amend", "-m", "x"], True),
    (["commit", "--gpg-sign=key", "-m", "x"], False),
    (["commit", "--no-gpg-sign", "--amend", "-m", "x"], True),
    # flags, whole and abbreviated, and the positive spelling of a `no-` option
    (["commit", "--allow-empty", "--amend", "-m", "x"], True),
    (["commit", "--allow-empty-message", "--reset-author", "--amend", "-m", "x"], True),
    (["commit", "--no-verify", "--amend", "-m", "x"], True),
    (["commit", "--verify", "--amend", "-m", "x"], True),
    (["commit", "--verif", "--amend", "-m", "x"], True),
    (["commit", "--no-no-verify", "--amend", "-m", "x"], True),
    (["commit", "--post-rewrite", "-m", "x"], False),
    (["commit", "--no-post", "--amend", "-m", "x"], True),
    (["commit", "--dr", "-m", "x"], False),
    (["commit", "--no-edit", "--no-status", "--amend"], True),
    # pathspecs may stand before options; `--` and --end-of-options end them
    (["commit", "file.txt", "--amend", "-m", "x"], True),
    (["commit", "-", "--amend", "-m", "x"], True),
    (["commit", "-m", "x", "--", "--amend"], False),
    (["commit", "-m", "x", "--end-of-options", "--amend"], False),
    # git's own options before the subcommand
    (["-c", "x.y=z", "commit", "--amend", "-m", "x"], True),
    (["-c", "x.y=z", "commit", "-m", "x"], False),
    (["-C", "/tmp", "commit", "-m", "x"], False),
    (["-C", "commit", "commit", "--amend", "-m", "x"], True),
    (["--git-dir", ".git", "--work-tree=.", "commit", "--amend", "-m", "x"], True),
    (["--git-dir=.git", "--work-tree", ".", "commit", "-m", "x"], False),
    (["--namespace", "ns", "--namespace=ns", "commit", "-m", "x"], False),
    (["--config-env", "a.b=ENV", "--config-env=a.b=ENV", "commit", "--amend", "-m", "x"], True),
    (["--no-pager", "-p", "-P", "--paginate", "--bare", "commit", "-m", "x"], False),
    (["--literal-pathspecs", "--no-optional-locks", "--icase-pathspecs", "commit", "--amend"], True),
    (["--exec-path=/usr/lib/git-core", "commit", "-m", "x"], False),
])
def test_what_the_command_line_says(args, expected):
    assert amending(git(*args)) is expected


@pytest.mark.parametrize("args", [
    ["ci", "-m", "x"],                          # an alias unexpanded: it may stand for `commit --amend`
    ["-c", "alias.ci=commit --amend", "ci", "-m", "x"],
    ["commit-tree", "HEAD^{tree}"],
    ["rebase", "--continue"],                   # commits made by rebase, merge, cherry-pick...
    ["merge", "topic"],
    ["--attr-source", "HEAD", "commit", "-m", "x"],  # a global option of a later git
    ["--exec-path", "commit", "-m", "x"],       # prints the exec path and stops
    ["--version"],
    [],
    ["-c"],
    ["commit", "--amend=yes", "-m", "x"],       # git refuses every one of these
    ["commit", "--no-message=x"],
    ["commit", "-m"],
    ["commit", "--amend", "-m"],
    ["commit", "--a", "-m", "x"],               # --allow-empty or --allow-empty-message (or --all)
    ["commit", "--al", "-m", "x"],
    ["commit", "--n", "-m", "x"],               # every negation
    ["commit", "--no", "-m", "x"],
    ["commit", "--no-", "-m", "x"],
    ["commit", "--no-a", "-m", "x"],            # --no-amend or --no-all...
    ["commit", "--ver", "-m", "x"],             # --verbose or --verify
    ["commit", "--po", "-m", "x"],              # --porcelain or --post-rewrite
    ["commit", "--re", "-m", "x"],
    ["commit", "--no-trailer", "-m", "x"],      # --trailer cannot be negated
    ["commit", "--amendment", "-m", "x"],
    ["commit", "--frobnicate", "-m", "x"],
    ["commit", "-amend"],                       # git: did you mean `--amend`?
    ["commit", "-ame"],
    ["commit", "-all", "-m", "x"],
    ["commit", "-no-verify", "-m", "x"],
    ["commit", "-x", "-m", "x"],
    ["commit", "-ax", "-m", "x"],
    ["commit", "-h"],
    ["commit", "--help"],
    ["commit", "-1", "-m", "x"],
])
def test_what_it_cannot_tell(args):
    assert amending(git(*args)) is None


def test_without_proc_nothing_is_read(tmp_path):
    # macOS and Windows have no /proc: an empty directory stands for it.
    assert commitargs.git_ancestor_argv(str(tmp_path)) is None
    assert commitargs.amending_here(str(tmp_path)) is None


@needs_proc
def test_a_parent_is_read_past_a_name_with_parentheses(tmp_path):
    # /proc/PID/stat is `pid (comm) state ppid ...`, and comm is the program's name as run.
    odd = tmp_path / "a) 1 2 (b"
    odd.symlink_to(sys.executable)
    code = "import sys; print('up', flush=True); sys.stdin.read()"
    child = subprocess.Popen([str(odd), "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"up\n"  # running: its /proc entry is complete
        stat = Path(f"/proc/{child.pid}/stat").read_bytes()
        assert b") 1 2 (b) " in stat  # the name really holds the parentheses
        assert commitargs._parent("/proc", child.pid) == os.getpid()
        assert commitargs._cmdline("/proc", child.pid) == [str(odd), "-c", code]
    finally:
        child.communicate(b"")
    assert commitargs._parent("/proc", os.getpid()) == os.getppid()


# ------------------------------------------------------------------ against real git

PROBE = """#!/bin/sh
{python} -S -c 'import sys
sys.path.insert(0, sys.argv[1])
from hourly_hooks import commitargs
open(sys.argv[2], "w").write(repr(commitargs.amending_here()))' {src} {out}
"""


@pytest.fixture
def probed(tmp_path):
    """A repository whose commit-msg hook writes what commitargs says about the git running it."""
    repo = GitRepo(tmp_path / "work")
    repo.commit("first", "2025-03-03T08:00:00-05:00", files={"tracked.txt": "one\n"})
    repo.commit("second", "2025-03-03T08:01:00-05:00")
    (repo.path / "msg.txt").write_text("from a file\n")
    (repo.path / "template.txt").write_text("template\n")
    (repo.path / "paths.txt").write_text("tracked.txt\n")
    out = tmp_path / "answer"
    src = Path(hourly_hooks.__file__).resolve().parent.parent
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text(PROBE.format(python=sys.executable, src=src, out=out))
    hook.chmod(0o755)
    return repo, out


CASES = [
    ["commit", "--amend", "-m", "x"],
    ["commit", "--am", "-m", "x"],
    ["commit", "--ame", "-m", "x"],
    ["commit", "--amen", "-m", "x"],
    ["commit", "-m", "x"],
    ["commit", "--amend", "--no-am", "-m", "x"],
    ["commit", "--no-amend", "--amend", "-m", "x"],
    ["commit", "-m", "--amend"],
    ["commit", "--message=--amend"],
    ["commit", "--mess", "--amend"],
    ["commit", "-am", "x"],
    ["commit", "-am", "x", "--amend"],
    ["commit", "-avmx", "--amend"],
    ["commit", "-mwork", "--amend"],
    ["commit", "-amx"],
    ["commit", "-F", "msg.txt", "--amend"],
    ["commit", "-Fmsg.txt"],
    ["commit", "--file=msg.txt", "--ame"],
    ["commit", "-C", "HEAD", "--amend"],
    ["commit", "-C", "HEAD"],
    ["commit", "--author", "Someone <s@example.com>", "--amend", "-m", "x"],
    ["commit", "--date", "2025-03-03T09:00:00-05:00", "-m", "x"],
    ["commit", "--cleanup", "verbatim", "--amend", "-m", "x"],
    ["commit", "--trailer", "Key: value", "--amend", "-m", "x"],
    ["commit", "-t", "template.txt", "-m", "x"],
    ["commit", "--squash", "HEAD", "-m", "x"],
    ["commit", "-uno", "--amend", "-m", "x"],
    ["commit", "-u", "--amend", "-m", "x"],
    ["commit", "--untracked-files", "-m", "x"],
    ["commit", "--verif", "--amend", "-m", "x"],
    ["commit", "--no-no-verify", "--amend", "-m", "x"],
    ["commit", "--post-rewrite", "--amend", "-m", "x"],
    ["commit", "--reset-author", "--amend", "-m", "x"],
    ["commit", "--no-edit", "--amend"],
    ["commit", "-qs", "--amend", "-m", "x"],
    ["commit", "--pathspec-from-file", "paths.txt", "--amend", "-m", "x"],
    ["commit", "tracked.txt", "--amend", "-m", "x"],
    ["-c", "x.y=z", "commit", "--amend", "-m", "x"],
    ["-c", "x.y=z", "commit", "-m", "x"],
    ["--no-pager", "-C", ".", "commit", "-m", "x"],
    ["--git-dir=.git", "--work-tree", ".", "commit", "--amend", "-m", "x"],
    ["--literal-pathspecs", "--no-optional-locks", "commit", "--amend", "-m", "x"],
]


@needs_proc
def test_the_answer_matches_what_git_did(probed):
    repo, out = probed
    for args in CASES:
        if out.exists():
            out.unlink()
        before, parent = repo.git("rev-parse", "HEAD", "HEAD^").split()
        (repo.path / "tracked.txt").write_text(f"{args}\n")  # something for -a and pathspecs
        done = subprocess.run(["git", *args, "--allow-empty"], cwd=repo.path, env=repo.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, (args, done.stderr)
        assert out.exists(), f"the hook did not run for {args}"
        now_parent = repo.git("rev-parse", "HEAD^").strip()
        assert now_parent in (before, parent)
        assert out.read_text() == repr(now_parent == parent), args


@needs_proc
def test_an_alias_is_read_as_git_expands_it(probed):
    # git runs an alias's expansion as a new git process: its arguments are the expansion's.
    repo, out = probed
    for args, expected in ((["-c", "alias.ci=commit", "ci", "-m", "x"], "False"),
                           (["-c", "alias.fix=commit --amend", "fix", "-m", "x"], "True")):
        done = subprocess.run(["git", *args, "--allow-empty"], cwd=repo.path, env=repo.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert out.read_text() == expected, args


@needs_proc
def test_git_run_as_git_commit_is_not_read(probed):
    repo, out = probed
    exec_path = repo.git("--exec-path").strip()
    done = subprocess.run([os.path.join(exec_path, "git-commit"), "--allow-empty", "--amend", "-m", "x"],
                          cwd=repo.path, env=repo.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "None"


@needs_proc
def test_the_walk_stops_at_the_first_git_like_program(probed, tmp_path):
    # A program named git-* between the hook and `git commit` is not looked past: it
    # could be a commit of its own (git-commit run directly) whose arguments are not read.
    repo, out = probed
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    probe = tmp_path / "probe.sh"
    probe.write_text(hook.read_text())
    for name, expected in (("git-commit", "None"), ("relay", "True")):
        # git -> this hook (python) -> a shell named NAME -> sh -> the probe
        hook.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import subprocess, sys; sys.exit(subprocess.call("
                        f"[sys.argv[1], \"-c\", \"/bin/sh {probe}; exit $?\"], executable=\"/bin/sh\"))' {name}\n")
        done = subprocess.run(["git", "commit", "--allow-empty", "--amend", "-m", "x"], cwd=repo.path,
                              env=repo.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert out.read_text() == expected, name
