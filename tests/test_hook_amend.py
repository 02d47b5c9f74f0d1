"""An --amend told from a new commit the way git says it: through prepare-commit-msg.

git tells prepare-commit-msg (never commit-msg) where the message comes from:
nothing for the editor, `commit HEAD` for --amend without -m, `commit REV` for
-c / -C REV, `message` for -m / -F (with or without --amend). The commit-msg
hook uses what prepare-commit-msg noted; where git says nothing (-m / -F, or
no prepare-commit-msg hook) and the commit has HEAD's author and author date,
HEAD being the last marker, it is refused ("wait a second"), whatever the
clock says: no guess that a later hook could make wrong.
Real `git commit` in temporary repositories throughout.
"""

from __future__ import annotations

import os
import time

import pytest

from hook_helpers import HookedRepo, install_plain_hooks

from hourly_hooks.hooks import entry as hook

DEFAULT = ("Default User", "default@example.com")  # the repository's user.name / user.email


def editor(text: str) -> dict:
    """GIT_EDITOR that writes text as the message (git appends the file name)."""
    return {"GIT_EDITOR": "printf '" + text.replace("\n", "\\n") + "' >"}


def now() -> str:
    return f"@{int(time.time())} +0000"


def later(when: str, seconds: int = 1) -> str:
    epoch, tz = when.lstrip("@").split()
    return f"@{int(epoch) + seconds} {tz}"


def commit(repo: HookedRepo, *argv: str, when: str, who=DEFAULT):
    """`git ARGV` (a commit, hooks running) at author date `when`; not asserted."""
    name, email = who
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": when}
    return repo.run("git", *argv, env=env)


def git_commit_program(repo: HookedRepo) -> str:
    """git's own git-commit program, run without the `git` wrapper."""
    return os.path.join(repo.git("--exec-path").strip(), "git-commit")


@pytest.fixture
def hooked(tmp_path) -> HookedRepo:
    repo = install_plain_hooks(HookedRepo(tmp_path / "work"))
    assert (repo.git_dir() / "hooks" / "prepare-commit-msg").exists()
    return repo


def clock_ins(repo: HookedRepo) -> int:
    return sum(subject.startswith("clock-in") for subject in repo.git("log", "--format=%s").split("\n"))


def test_a_new_commit_in_the_same_second_as_the_clock_in_is_its_clock_out(hooked):
    when = now()
    hooked.accept("clock-in", when=when)
    # Written in the editor (git says: no source, a new commit), same author date to the second.
    done = hooked.try_commit(when=when, env=editor("work\n\nClock: out\n"))
    assert done.returncode == 0, done.stderr
    assert hooked.message() == "work\n\nClock: out"
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "2"
    assert "session 0m" in done.stderr
    # It counted as the clock-out: another one is refused.
    assert "not clocked in" in hooked.refuse("clock-out", when=f"@{int(time.time()) + 1} +0000")
    assert not (hooked.git_dir() / hook.SOURCE_FILE).exists()  # the note is consumed


def test_an_amend_in_the_same_second_is_not_a_second_clock_in(hooked):
    when = now()
    hooked.accept("clock-in", when=when)
    done = hooked.try_commit(when=when, amend=True, env=editor("clock-in: T-5m\n"))
    assert done.returncode == 0, done.stderr
    assert hooked.subject() == "clock-in: T-5m"
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "1"
    # --amend --no-edit says the same (`commit HEAD`).
    assert hooked.try_commit(when=when, amend=True, args=("--no-edit",)).returncode == 0
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "1"
    assert "already clocked in" in hooked.refuse("clock-in", when=f"@{int(time.time()) + 1} +0000")


def test_a_message_reused_from_another_commit_is_a_new_commit(hooked):
    start = int(time.time())
    hooked.accept("clock-in: first", when=f"@{start - 120} +0000")
    first = hooked.head()
    hooked.accept("clock-out", when=f"@{start - 60} +0000")
    hooked.accept("clock-in", when=now())
    when = hooked.git("log", "-1", "--format=@%at +0000").strip()
    # -C of the first clock-in, re-dated to HEAD's second: the same author date as HEAD,
    # yet git says the message comes from another commit: a second clock-in, refused.
    output = hooked.refuse(when=when, args=("-C", first, "--reset-author"))
    assert "already clocked in" in output
    assert clock_ins(hooked) == 2


def test_reuse_of_an_old_message_after_a_clock_out_is_a_new_clock_in(hooked):
    start = int(time.time())
    hooked.accept("clock-in", when=f"@{start - 120} +0000")
    first = hooked.head()
    hooked.accept("clock-out", when=f"@{start - 60} +0000")
    assert hooked.try_commit(when=now(), args=("-c", first, "--reset-author"),
                             env={"GIT_EDITOR": "true"}).returncode == 0
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "3"
    assert clock_ins(hooked) == 2


def test_without_the_prepare_hook_a_commit_in_head_s_second_is_refused(hooked):
    (hooked.git_dir() / "hooks" / "prepare-commit-msg").unlink()  # an install from before it existed
    when = now()
    hooked.accept("clock-in", when=when)
    head = hooked.head()
    # Written in the editor, yet with no prepare-commit-msg git's word reaches no one: a new
    # commit and an --amend look the same, in the same second or a minute later.
    for argv in ([], ["--amend"]):
        output = hooked.refuse(when=when, args=argv, env=editor("work\n\nClock: out\n"))
        assert "cannot be told from an --amend" in output and "wait a second" in output
        assert "prepare-commit-msg" in output
    assert hooked.head() == head
    # A second later it is a new commit whatever git says: the clock-out.
    assert hooked.try_commit(when=later(when), env=editor("work\n\nClock: out\n")).returncode == 0


def test_for_m_git_says_nothing_so_head_s_second_is_refused_whatever_the_clock(hooked):
    # A new commit in HEAD's second whose hook runs long after (behind a slow earlier hook:
    # here the author date is a minute old) was taken for an --amend of the clock-in, and its
    # clock-out refused as "not clocked in". Now it is refused for what it is: undecidable.
    when = f"@{int(time.time()) - 60} +0000"
    hooked.accept("clock-in", when=when, who=DEFAULT)
    head = hooked.head()
    for argv in (["commit", "--allow-empty", "-m", "work", "-m", "Clock: out"],
                 ["commit", "--allow-empty", "-qm", "work\n\nClock: out"],
                 ["-c", "x.y=z", "commit", "--allow-empty", "-F", "-"]):
        done = hooked.run("git", *argv, env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
                          input="work\n\nClock: out\n")
        assert done.returncode == 1, (argv, done.stderr)
        assert "cannot be told from an --amend" in done.stderr and "wait a second" in done.stderr
        assert "not clocked in" not in done.stderr
        assert hooked.head() == head
    # Waiting a second is the way out: a new commit, the clock-out.
    done = commit(hooked, "commit", "--allow-empty", "-m", "work", "-m", "Clock: out", when=later(when))
    assert done.returncode == 0, done.stderr
    assert "session 0m" in done.stderr
    assert "not clocked in" in hooked.refuse("clock-out", when=later(when, 2))


def test_hourly_in_then_at_once_a_commit_with_clock_out(hooked):
    # A script's `hourly in`, then `git commit -m work -m "Clock: out"` in the same second:
    # refused (git does not say it is new), on every system; from the editor git says so.
    clocked = hooked.hourly("in")
    assert clocked.returncode == 0, clocked.stderr
    epoch, tz = hooked.git("log", "-1", "--format=%ad", "--date=raw").split()
    done = commit(hooked, "commit", "--allow-empty", "-m", "work", "-m", "Clock: out", when=f"@{epoch} {tz}")
    assert done.returncode == 1 and "wait a second" in done.stderr
    assert hooked.git("log", "--format=%s").split() == ["clock-in"]
    done = hooked.try_commit(when=f"@{epoch} {tz}", who=DEFAULT, env=editor("work\n\nClock: out\n"))
    assert done.returncode == 0, done.stderr
    assert hooked.git("log", "--format=%s").split() == ["work", "clock-in"]
    assert "session 0m" in done.stderr


def test_an_amend_with_m_of_the_last_marker_is_refused_and_in_the_editor_taken(hooked):
    when = f"@{int(time.time()) - 600} +0000"
    hooked.accept("clock-in", when=when, who=DEFAULT)
    head = hooked.head()
    # However --amend is spelt, -m / -F says nothing: it could be a new commit in HEAD's second.
    for argv in (["commit", "--allow-empty", "--amend", "-m", "clock-in: T-5m"],
                 ["commit", "--am", "-m", "clock-in: T-7m", "--allow-empty"],
                 ["commit", "-qm", "clock-in: T-8m", "--amend", "--allow-empty"]):
        done = commit(hooked, *argv, when=when)
        assert done.returncode == 1 and "cannot be told from an --amend" in done.stderr, (argv, done.stderr)
        assert "--amend --no-edit" in done.stderr
        assert hooked.head() == head
    # Amended in the editor, git says so: HEAD replaced, still one clock event.
    done = hooked.try_commit(when=when, amend=True, who=DEFAULT, env=editor("clock-in: T-8m\n"))
    assert done.returncode == 0, done.stderr
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "1"
    assert hooked.subject() == "clock-in: T-8m"
    assert "already clocked in" in hooked.refuse("clock-in", when=later(when), who=DEFAULT)


def test_git_run_as_its_git_commit_program_is_refused_alike(hooked):
    # git-commit run directly (no `git` wrapper) is refused like any other -m commit.
    when = now()
    hooked.accept("clock-in", when=when, who=DEFAULT)
    head = hooked.head()
    for argv in (["--allow-empty", "-m", "work", "-m", "Clock: out"],
                 ["--allow-empty", "--amend", "-m", "clock-in: T-5m"]):
        done = hooked.run(git_commit_program(hooked), *argv, env={"GIT_AUTHOR_DATE": when})
        assert done.returncode == 1, done.stderr
        assert "cannot be told from an --amend" in done.stderr
        assert hooked.head() == head


def test_a_stale_note_is_ignored_and_removed(hooked):
    (hooked.git_dir() / "hooks" / "prepare-commit-msg").unlink()
    when = now()
    hooked.accept("clock-in", when=when, who=DEFAULT)
    note = hooked.git_dir() / hook.SOURCE_FILE
    token = hook._head_token(str(hooked.git_dir()))
    # An aborted editor commit long ago at this HEAD, and one at another HEAD just now:
    # either, if believed, would make this commit a new one (the clock-out): the refusal
    # shows the note was not believed.
    for text in (f"\n\n{token}\n{int(time.time()) - hook.SOURCE_EXPIRY - 5}\n",
                 f"\n\nrefs/heads/main 0000000\n{int(time.time())}\n"):
        note.write_text(text)
        done = hooked.run(git_commit_program(hooked), "--allow-empty", "-m", "work", "-m", "Clock: out",
                          env={"GIT_AUTHOR_DATE": when})
        assert done.returncode == 1 and "cannot be told from an --amend" in done.stderr
        assert not note.exists()
    # A fresh note at this HEAD is believed.
    note.write_text(f"\n\n{token}\n{int(time.time())}\n")
    done = hooked.run(git_commit_program(hooked), "--allow-empty", "-m", "work", "-m", "Clock: out",
                      env={"GIT_AUTHOR_DATE": when})
    assert done.returncode == 0, done.stderr


def test_the_note_follows_what_git_passes(tmp_path, monkeypatch):
    # The plain hook gets git's arguments; pre-commit only the file, the rest in its variables.
    message = str(tmp_path / "COMMIT_EDITMSG")
    cases = [([message, "commit", "HEAD"], {}, ["commit", "HEAD"]),
             ([message, "message"], {}, ["message", ""]),
             ([message], {}, ["", ""]),
             ([message], {"PRE_COMMIT_COMMIT_MSG_SOURCE": "commit", "PRE_COMMIT_COMMIT_OBJECT_NAME": "HEAD~1"},
              ["commit", "HEAD~1"])]
    for argv, env, expected in cases:
        for name in ("PRE_COMMIT_COMMIT_MSG_SOURCE", "PRE_COMMIT_COMMIT_OBJECT_NAME"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert hook.source_main(argv) == 0
        assert (tmp_path / hook.SOURCE_FILE).read_text().split("\n")[:2] == expected


def test_an_amend_that_adds_the_clock_out_in_the_clock_in_s_second_is_ordered_after_it(hooked):
    when = now()
    hooked.accept("clock-in", when=when)
    clock_in = hooked.head()
    assert hooked.try_commit(when=when, env=editor("work\n")).returncode == 0  # no marker yet
    # The work commit, amended (editor: git says `commit HEAD`) to carry the clock-out: it
    # replaces a child of the clock-in, so it descends from it, in the same second or not.
    done = hooked.try_commit(when=when, amend=True, env=editor("work\n\nClock: out\n"))
    assert done.returncode == 0, done.stderr
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "2"
    assert hooked.git("rev-parse", "HEAD~1").strip() == clock_in
    assert "not clocked in" in hooked.refuse("clock-out", when=later(when, 2))


def test_a_marker_added_by_amend_m_in_a_later_second_follows_the_clock_in_it_descends_from(hooked):
    start = int(time.time())
    when = f"@{start - 30} +0000"
    hooked.accept("clock-in", when=when)
    assert hooked.try_commit(when=when, env=editor("work\n")).returncode == 0
    # -m: git says `message`, amend or not; HEAD is not a marker, so the clock-in is reached
    # from HEAD's parents as well: ordered after it either way.
    done = commit(hooked, "commit", "--amend", "--allow-empty", "-q", "-m", "work", "-m", "Clock: out",
                  when=when)
    assert done.returncode == 0, done.stderr
    assert hooked.git("rev-list", "--count", "HEAD").strip() == "2"
