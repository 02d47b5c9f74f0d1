"""The hourly-clock commit-msg hook, installed with `hourly install-hook`, driven by real `git commit`.

Dates are fixed and in the past (the hook refuses the future); every commit
carries its own author date so the clock arithmetic is exact.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hook_helpers import ALICE, BOB, PYTHON, HookedRepo, at, hooked, install_plain_hooks  # noqa: F401 (a fixture)

from hourly_hooks.core import clockrules
from hourly_hooks.hooks import entry as hook


# ------------------------------------------------------------------ accepting

def test_clock_in_accepted_and_written_canonically(hooked):
    assert hooked.accept("Clock In T-15M fixing", "The body stays.", when=at("09:15")) == \
        "clock-in: T-15m fixing\n\nThe body stays."


@pytest.mark.parametrize("written, canonical", [
    ("clock in", "clock-in"),
    ("CLOCK-IN - pro bono", "clock-in: pro bono"),
    ("clock-in: T-1hr22min parser", "clock-in: T-1h22m parser"),
    ("Clock in T-45m", "clock-in: T-45m"),
])
def test_subject_spellings_become_canonical(hooked, written, canonical):
    assert hooked.accept(written, when=at("10:00")) == canonical


def test_ordinary_commits_pass_untouched(hooked):
    message = "fixed bug preventing users from clocking in\n\nhad to clock out so the notebook runs"
    assert hooked.accept(message, when=at("09:00")) == message


def test_work_commit_with_clock_out_trailer_is_the_clock_out(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    message = hooked.accept("parser: handle CRLF", "Longer body.\n\nclock:  OUT  t-10M tidy",
                            when=at("12:10"), files={"a.txt": "a\n"})
    assert message == "parser: handle CRLF\n\nLonger body.\n\nClock: out T-10m tidy"
    # It counts as a clock-out: a second one is refused, a clock-in is fine.
    assert "not clocked in" in hooked.refuse("clock-out", when=at("12:20"))
    hooked.accept("clock-in", when=at("13:00"))


def test_amend_of_a_clock_commit_is_not_a_second_clock_event(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("work", "Clock: out", when=at("11:00"), files={"a.txt": "a\n"})
    # --amend keeps the author date: the hook must compare with the clock-in, not with HEAD.
    # In the editor, where git says it is amending (with -m it does not: test_hook_amend.py).
    amended = hooked.try_commit(amend=True, when=at("11:30"), env=_editor("work, reworded\n\nClock: out\n"))
    assert amended.returncode == 0, amended.stderr
    assert hooked.message() == "work, reworded\n\nClock: out"
    assert hooked.git("log", "-1", "--format=%aI").strip() == "2025-03-03T11:00:00-05:00"
    # Amending the clock-in itself (no other marker since) is fine too.
    hooked.accept("clock-in", when=at("12:00"))
    assert hooked.try_commit(amend=True, when=at("12:30"), env=_editor("clock-in: T-5m\n")).returncode == 0
    assert hooked.subject() == "clock-in: T-5m"


def _editor(text: str) -> dict:
    """GIT_EDITOR that writes text as the message (git appends the file name)."""
    return {"GIT_EDITOR": "printf '" + text.replace("\n", "\\n") + "' >"}


def test_merge_fixup_squash_amend_and_revert_pass(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.git("switch", "-q", "-c", "side")
    hooked.accept("side work", when=at("09:30"), files={"b.txt": "b\n"})
    hooked.git("switch", "-q", "main")
    hooked.accept("main work", when=at("09:40"), files={"c.txt": "c\n"})
    merged = hooked.run("git", "merge", "--no-ff", "-m", "Merge branch 'side'", "side",
                        env={"GIT_AUTHOR_DATE": at("09:50"), "GIT_COMMITTER_DATE": at("09:50")})
    assert merged.returncode == 0, merged.stderr
    assert hooked.subject() == "Merge branch 'side'"
    for message in ("fixup! clock-in", "squash! clock-in", "amend! clock-in", 'Revert "clock-in"'):
        assert hooked.accept(message, when=at("10:00")) == message


def test_two_authors_do_not_disturb_each_other(hooked):
    hooked.accept("clock-in", when=at("09:00"), who=ALICE)
    hooked.accept("clock-in", when=at("09:05"), who=BOB)
    hooked.accept("clock-out", when=at("10:00"), who=ALICE)
    assert "already clocked in" in hooked.refuse("clock-in", when=at("10:05"), who=BOB)
    hooked.accept("clock-out", when=at("10:10"), who=BOB)


def test_mailmap_joins_two_addresses_of_one_person(hooked):
    (hooked.path / ".mailmap").write_text("Alice Martin <alice@example.com> <alice@old.example>\n")
    hooked.accept("clock-in", when=at("09:00"), who=("Alice", "alice@old.example"))
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"), who=ALICE)
    hooked.accept("clock-out", when=at("10:00"), who=ALICE)


# ------------------------------------------------------------------ refusing

def test_second_clock_in_refused_with_state_and_way_out(hooked):
    hooked.accept("clock-in: T-5m", when=at("09:17"))
    clock_in = hooked.head()
    output = hooked.refuse("clock-in", "why I forgot", when=at("12:22"))
    assert "already clocked in" in output
    assert f"clocked in since 2025-03-03 09:12 -05:00, 3h10m ago, commit {clock_in[:7]}" in output
    assert "hourly out" in output and "--no-verify" in output
    assert "git commit -e -F .git/COMMIT_EDITMSG" in output
    # git keeps the refused message where the refusal says.
    assert (hooked.git_dir() / "COMMIT_EDITMSG").read_text().startswith("clock-in\n\nwhy I forgot")


@pytest.mark.parametrize("history, message, when, expected", [
    ([], "clock-out", "10:00", "not clocked in"),
    ([("clock-in", "09:00"), ("clock-out", "10:00")], "clock-out", "11:00", "not clocked in"),
    ([("clock-in", "09:00")], "clock-out: T-2h", "10:00", "before its clock-in"),
    ([("clock-in", "09:00"), ("clock-out", "10:00")], "clock-in: T-1h30m", "11:00", "before your last clock-out"),
    ([], "clock-in: T-5x", "10:00", "malformed offset T-5x"),
    ([], "clock-in: T+5m", "10:00", "future"),
    ([("clock-in", "09:00")], "clock-out", "08:00", "before your last marker"),
])
def test_refusals(hooked, history, message, when, expected):
    for earlier, time in history:
        hooked.accept(earlier, when=at(time))
    assert expected in hooked.refuse(message, when=at(when))


def test_a_clock_out_in_the_second_of_a_clock_in_it_descends_from_is_taken(hooked):
    # The work commit between them is HEAD, not a marker: whether this commit is new or
    # an --amend of it, it descends from the clock-in, and history orders them so.
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("work", when=at("09:00"))
    hooked.accept("clock-out", when=at("09:00"))
    assert "not clocked in" in hooked.refuse("clock-out", when=at("09:30"))


def test_offset_room_is_suggested(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    assert "at most T-1h" in hooked.refuse("clock-out: T-2h", when=at("10:00"))


def test_clock_out_in_the_future_refused(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    assert "in the future" in hooked.refuse("clock-out", when="2099-01-01T10:00:00+00:00")


def test_no_verify_is_the_escape_hatch(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("clock-in", when=at("09:30"), args=["--no-verify"])


# ------------------------------------------------------------------ message file

def test_comments_and_scissors_are_not_the_message(hooked, tmp_path):
    hooked.accept("clock-in", when=at("09:00"))
    # A clock-out only in comments, or below the scissors, is not a clock-out...
    text = ("work\n\n# Clock: out\n# ------------------------ >8 ------------------------\n"
            "clock-out\nClock: out\n")
    (tmp_path / "m1").write_text(text)
    # -v -e: git treats the file as edited, so it strips comments and cuts at the scissors.
    hooked.accept(when=at("10:00"), args=["-v", "-e", "-F", str(tmp_path / "m1")], env={"GIT_EDITOR": "true"})
    assert hooked.message() == "work"
    # ...so the author is still clocked in.
    assert "already clocked in" in hooked.refuse("clock-in", when=at("10:30"))


def test_comment_char_is_honoured(hooked, tmp_path):
    hooked.git("config", "core.commentChar", ";")
    (tmp_path / "m").write_text("Clock In T-15M\n; clock-out comment\n#123 is not a comment\n")
    hooked.accept(when=at("09:15"), args=["--cleanup=strip", "-F", str(tmp_path / "m")])
    assert hooked.message() == "clock-in: T-15m\n#123 is not a comment"


def test_hook_run_directly_keeps_comments_and_crlf(tmp_path, hooked):
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_bytes(b"clock in   -  late start\r\n\r\nbody\r\n# Please enter the commit message\r\n")
    done = subprocess.run([PYTHON, "-m", "hourly_hooks.hooks.entry", "clock", str(path)], cwd=hooked.path,
                          env={**hooked.env, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
                               "GIT_AUTHOR_DATE": "@1741010400 -0500"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == b"clock-in: late start\r\n\r\nbody\r\n# Please enter the commit message\r\n"


# ------------------------------------------------------------------ repository shapes

def test_empty_repository(hooked):
    assert "not clocked in" in hooked.refuse("clock-out", when=at("09:00"))
    hooked.accept("clock-in", when=at("09:00"))


def test_detached_head(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.git("checkout", "-q", "--detach")
    hooked.accept("clock-out", when=at("10:00"))
    assert "not clocked in" in hooked.refuse("clock-out", when=at("10:30"))


def test_worktree_shares_the_hook_and_sees_its_own_head(hooked, tmp_path):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.git("worktree", "add", "-q", "-b", "wt", str(tmp_path / "wt"))
    worktree = tmp_path / "wt"
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"), cwd=worktree)
    done = hooked.try_commit("clock-out", when=at("10:00"), cwd=worktree)
    assert done.returncode == 0, done.stderr
    # main's HEAD never saw that clock-out: on main Alice is still clocked in.
    assert "already clocked in" in hooked.refuse("clock-in", when=at("10:30"))


def test_shallow_clone(hooked, tmp_path):
    hooked.accept("clock-in", when=at("09:00"))
    for minute in range(10, 13):
        hooked.accept(f"work {minute}", when=at(f"09:{minute}"), files={"w.txt": str(minute)})
    clone = HookedRepo(tmp_path / "shallow", init=False)
    done = clone.run("git", "clone", "-q", "--depth", "1", f"file://{hooked.path}", str(clone.path),
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    install_plain_hooks(clone)
    # The clock-in is beyond the shallow boundary: accepted, with a warning.
    done = clone.try_commit("clock-out", when=at("10:00"))
    assert done.returncode == 0 and "shallow" in done.stderr
    # Markers inside the shallow history are checked as usual.
    assert "not clocked in" in clone.refuse("clock-out", when=at("10:30"))


def test_staged_changes_and_other_files_untouched(hooked):
    message = hooked.accept("clock-in", when=at("09:00"), files={"notes.txt": "clock in notes\n"})
    assert message == "clock-in"
    assert hooked.git("show", "HEAD:notes.txt") == "clock in notes\n"


# ------------------------------------------------------------------ start-up cost

def test_hook_imports_nothing_heavy(tmp_path, hooked):
    message = tmp_path / "m"
    message.write_text("clock-in\n")
    code = ("import sys\nfrom hourly_hooks.hooks.entry import clock_main\n"
            f"clock_main([{str(message)!r}])\n"
            "heavy = sorted(m for m in ('click', 'git', 'subprocess', 'json', 'tomllib', 'requests') "
            "if m in sys.modules)\nprint(heavy)")
    done = subprocess.run([PYTHON, "-c", code], cwd=hooked.path, capture_output=True, text=True,
                          env={**hooked.env, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
                               "GIT_AUTHOR_DATE": "@1741010400 -0500"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_ordinary_message_needs_no_parser(tmp_path):
    message = tmp_path / "m"
    message.write_text("refactor the report\n")
    code = (f"import sys\nfrom hourly_hooks.hooks.entry import clock_main\nassert clock_main([{str(message)!r}]) == 0\n"
            "print('hourly_hooks.core.markers' in sys.modules, 're' in sys.modules, 'sqlite3' in sys.modules)")
    done = subprocess.run([PYTHON, "-S", "-c", f"import sys; sys.path[:0] = {sys.path!r}\n" + code],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False"]


def test_a_marker_on_a_filled_store_starts_no_subprocess_module(tmp_path, hooked):
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("clock-out", when=at("10:00"))  # the store now knows HEAD
    message = tmp_path / "m"
    message.write_text("clock-in\n")
    code = ("import sys\nfrom hourly_hooks.hooks.entry import clock_main\n"
            f"assert clock_main([{str(message)!r}]) == 0\n"
            "print('subprocess' in sys.modules, 'sqlite3' in sys.modules)")
    done = subprocess.run([PYTHON, "-c", code], cwd=hooked.path, capture_output=True, text=True,
                          env={**hooked.env, "GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1],
                               "GIT_AUTHOR_DATE": "@1741017600 -0500"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_usage(capsys):
    assert hook.clock_main([]) == 2
    assert hook.clock_main(["--help"]) == 0
    assert hook.main(["nonsense"]) == 2
    assert "MESSAGE_FILE" in capsys.readouterr().out


def test_missing_message_file_is_a_usage_error(tmp_path, capsys):
    assert hook.clock_main([str(tmp_path / "absent")]) == 2
    assert "cannot read the commit message file" in capsys.readouterr().err


def test_git_date_formats():
    assert hook._parse_git_date("@1741010400 -0500") == (1741010400, -300)
    assert hook._parse_git_date("1741010400 +0530") == (1741010400, 330)
    assert hook._parse_git_date("2025-03-03T09:00:00") is None
    assert clockrules.parse_tz("+0000") == 0


# ------------------------------------------------------------------ the look-up
# The identity's last marker comes from the marker store; tests/test_store.py
# compares every answer of it with a full read of git.

def test_a_new_marker_in_the_same_second_as_head_is_not_mistaken_for_an_amend(hooked):
    import time
    start = int(time.time())
    hooked.accept("clock-in", when=f"@{start - 120} +0000")
    hooked.accept("clock-out", when=f"@{start - 60} +0000")
    # A minute-old HEAD and a commit from -m with its author date: an --amend of HEAD, or a
    # new commit made in that second whose hook ran late (a script's second commit behind a
    # slow hook). git does not say which, so neither reading is trusted, whatever the clock.
    output = hooked.refuse("clock-out: done", when=f"@{start - 60} +0000")
    assert "cannot be told from an --amend" in output and "wait a second" in output
    output = hooked.refuse("clock-in", when=f"@{start - 60} +0000")
    assert "cannot be told from an --amend" in output and "wait a second" in output
    # A second later it can only be a new commit.
    hooked.accept("clock-in", when=f"@{start - 59} +0000")
