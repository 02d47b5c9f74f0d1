"""An --amend told from a new commit the way git says it: through prepare-commit-msg.

git tells prepare-commit-msg (never commit-msg) where the message comes from:
nothing for the editor, `commit HEAD` for --amend without -m, `commit REV` for
-c / -C REV, `message` for -m / -F (with or without --amend). The commit-msg
hook uses what prepare-commit-msg noted; where git says nothing it compares
author dates as before. Real `git commit` in temporary repositories throughout;
the same-second cases use the real clock (the hook compares with now).
"""

from __future__ import annotations

import time

import pytest

from hook_helpers import HookedRepo

from hourly_hooks import hook


def editor(text: str) -> dict:
    """GIT_EDITOR that writes text as the message (git appends the file name)."""
    return {"GIT_EDITOR": "printf '" + text.replace("\n", "\\n") + "' >"}


def now() -> str:
    return f"@{int(time.time())} +0000"


@pytest.fixture
def hooked(tmp_path) -> HookedRepo:
    repo = HookedRepo(tmp_path / "work")
    repo.install_hook()
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


def test_without_the_prepare_hook_the_same_second_is_still_refused(hooked):
    (hooked.git_dir() / "hooks" / "prepare-commit-msg").unlink()  # an install from before it existed
    when = now()
    hooked.accept("clock-in", when=when)
    output = hooked.refuse(when=when, env=editor("work\n\nClock: out\n"))
    # Within the second: told as such; later, the date reads as an --amend of the clock-in.
    assert "cannot be told from an --amend" in output or "not clocked in" in output


def test_git_says_nothing_for_m_so_the_same_second_is_refused(hooked):
    when = now()
    hooked.accept("clock-in", when=when)
    output = hooked.refuse("work", "Clock: out", when=when)
    assert "cannot be told from an --amend" in output or "not clocked in" in output


def test_a_stale_note_is_ignored_and_removed(hooked):
    (hooked.git_dir() / "hooks" / "prepare-commit-msg").unlink()
    when = now()
    hooked.accept("clock-in", when=when)
    note = hooked.git_dir() / hook.SOURCE_FILE
    token = hook._head_token(str(hooked.git_dir()))
    # An aborted editor commit long ago at this HEAD, and one at another HEAD just now.
    for text in (f"\n\n{token}\n{int(time.time()) - hook.SOURCE_EXPIRY - 5}\n",
                 f"\n\nrefs/heads/main 0000000\n{int(time.time())}\n"):
        note.write_text(text)
        output = hooked.refuse(when=when, env=editor("work\n\nClock: out\n"))
        assert "cannot be told from an --amend" in output or "not clocked in" in output
        assert not note.exists()


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
