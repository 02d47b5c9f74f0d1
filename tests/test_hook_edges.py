"""The clock hook's edge cases: two clock events in one commit, a byte-order mark
before a marker, and amend! / squash! commits that would change a marker at
`git rebase --autosquash`. Real `git commit` and `git rebase` with the plain
hooks (`hourly install-hook`) and through the real pre-commit framework.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hook_helpers import ALICE, HookedRepo, at, hooked, install_plain_hooks  # noqa: F401 (hooked: a pytest fixture)
from test_precommit import configured, configured_template, hook_source  # noqa: F401 (pytest fixtures)

from hourly_hooks.cli import main

BOM = "\ufeff"


def sessions(repo: HookedRepo) -> list:
    """The report's session lengths, read in this process (the hooks ran in theirs, through git)."""
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json"], env=repo.env)
    assert result.exit_code == 0, (result.exception, result.stderr)
    return [s["seconds"] for s in json.loads(result.stdout)["sessions"]]


def commit_file(repo: HookedRepo, message_bytes: bytes, when: str):
    """`git commit -F FILE` with exactly these bytes as the message, hooks running."""
    path = repo.path.parent / "MESSAGE"
    path.write_bytes(message_bytes)
    return repo.try_commit(when=when, args=("-F", str(path)))


# ------------------------------------------------------------ one commit, one clock event

@pytest.mark.parametrize("message, shown", [
    (("clock-in", "Clock: out"), ["`clock-in` (the subject)", "`Clock: out` (a trailer, line 3)"]),
    (("parser: CRLF", "handled now", "Clock: in\nClock: out T-5m"),
     ["`Clock: in` (a trailer, line 5)", "`Clock: out T-5m` (a trailer, line 6)"]),
    (("clock-out: T-10m", "Clock: out"), ["`clock-out: T-10m` (the subject)", "`Clock: out` (a trailer, line 3)"]),
])
def test_two_clock_events_are_refused(hooked, message, shown):  # noqa: F811
    hooked.accept("clock-in", when=at("08:00"))
    output = hooked.refuse(*message, when=at("09:00"))
    assert f"This message carries 2 clock events: {shown[0]} and {shown[1]}. One commit is one clock event." in output
    assert "keep one of them: delete the other line" in output and "make two commits" in output
    assert sessions(hooked) == []  # still one open clock-in, nothing recorded


def test_one_event_and_prose_about_clocks_pass(hooked):  # noqa: F811
    assert hooked.accept("clock-in", "fixing the clock-out handling", when=at("09:00")) \
        == "clock-in\n\nfixing the clock-out handling"
    assert hooked.accept("parser", "body", "Clock: out", when=at("10:00")) == "parser\n\nbody\n\nClock: out"
    assert sessions(hooked) == [3600]


def test_two_clock_events_are_refused_through_pre_commit(configured):  # noqa: F811
    output = configured.refuse("clock-in", "Clock: out", when=at("09:00"))
    assert "carries 2 clock events: `clock-in` (the subject) and `Clock: out`" in output


# ------------------------------------------------------------ a byte-order mark before a marker

def test_a_bom_before_a_marker_is_read_and_dropped(hooked):  # noqa: F811
    done = commit_file(hooked, (BOM + "Clock In T-15M fixing\n").encode(), at("09:15"))
    assert done.returncode == 0, done.stderr
    assert "clock-in: T-15m fixing at 2025-03-03 09:00 -05:00" in done.stderr
    assert hooked.message() == "clock-in: T-15m fixing"  # canonical, and no BOM left
    # Already canonical but for the BOM: the BOM still goes.
    done = commit_file(hooked, (BOM + "clock-out\n").encode(), at("10:00"))
    assert done.returncode == 0, done.stderr
    assert hooked.git("log", "-1", "--format=%B").encode() == b"clock-out\n\n"
    assert sessions(hooked) == [3600]
    # The hook read it as a marker: a second clock-out is refused.
    assert "not clocked in" in commit_file(hooked, (BOM + "clock-out\n").encode(), at("10:30")).stderr


def test_a_bom_before_a_trailer_message_is_dropped_too(hooked):  # noqa: F811
    hooked.accept("clock-in", when=at("09:00"))
    done = commit_file(hooked, (BOM + "parser\n\nclock:out\n").encode(), at("10:00"))
    assert done.returncode == 0, done.stderr
    assert hooked.message() == "parser\n\nClock: out"


def test_a_bom_marker_already_in_history_is_paired_by_the_report(tmp_path):
    """Committed without the hook, a BOM'd marker is what the hook reads it as: a marker."""
    repo = HookedRepo(tmp_path / "work")
    repo.commit(BOM + "clock-in", at("09:00"))
    repo.commit(BOM + "Clock Out: T-10m", at("10:10"))
    repo.commit(BOM + "clock-in", at("11:00"))
    assert sessions(repo) == [3600]
    install_plain_hooks(repo)
    # The hook's clock state (from the same store) counts the BOM'd clock-in at 11:00.
    assert "already clocked in" in repo.refuse("clock-in", when=at("11:30"))
    repo.accept("clock-out", when=at("11:30"))
    assert sessions(repo) == [3600, 1800]


def test_a_bom_marker_through_pre_commit(configured):  # noqa: F811
    done = commit_file(configured, (BOM + "clock in\n").encode(), at("09:00"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert configured.message() == "clock-in"


# ------------------------------------------------------------ amend! and squash!

def fixup(repo: HookedRepo, spec: str, edit: str, when: str, *args: str):
    """`git commit --fixup=SPEC` with the message template edited by the sed script `edit`."""
    name, email = ALICE
    env = {"GIT_EDITOR": f"sed -i -e '{edit}'", "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    return repo.run("git", "commit", f"--fixup={spec}", *args, env=env)


def autosquash(repo: HookedRepo, base: str, **env):
    return repo.run("git", "rebase", "-i", "--autosquash", base,
                    env={"GIT_SEQUENCE_EDITOR": "true", "GIT_EDITOR": "true", **env})


@pytest.fixture
def worked(hooked) -> HookedRepo:  # noqa: F811
    """base, clock-in 09:00, work 09:30 (with a file each, so a rebase never meets an empty commit)."""
    hooked.accept("base", when=at("08:00"), files={"base.txt": "b\n"})
    hooked.accept("clock-in", when=at("09:00"), files={"a.txt": "a\n"})
    hooked.accept("work", when=at("09:30"), files={"w.txt": "w\n"})
    return hooked


def sha_of(repo: HookedRepo, subject: str) -> str:
    return repo.git("log", "--format=%H", "--fixed-strings", f"--grep={subject}", "-1").strip()


def test_amend_turning_a_clock_in_into_a_clock_out_is_refused(worked):
    head = worked.head()
    target = sha_of(worked, "clock-in")
    (worked.path / "n.txt").write_text("n\n")
    worked.git("add", "n.txt")
    done = fixup(worked, f"amend:{target}", "3s/.*/clock-out/", at("09:40"))
    assert done.returncode == 1
    assert ("An amend! commit replaces the message of `clock-in` when `git rebase --autosquash` applies it, "
            "and no hook checks that: this one would turn `clock-in` into `clock-out`.") in done.stderr
    assert f"git rebase -i {target[:12]}^" in done.stderr and "hourly out --at TIME" in done.stderr
    assert worked.head() == head
    # What the hook stopped: made anyway, autosquash really turns the clock-in into a clock-out.
    forced = fixup(worked, f"amend:{target}", "3s/.*/clock-out/", at("09:40"), "--no-verify")
    assert forced.returncode == 0, forced.stderr
    assert autosquash(worked, sha_of(worked, "base")).returncode == 0
    assert worked.git("log", "--format=%s").split("\n")[:3] == ["work", "clock-out", "base"]


def test_amend_that_leaves_markers_alone_passes_and_autosquashes(worked):
    done = fixup(worked, f"amend:{sha_of(worked, 'work')}", "3s/.*/work: parser handles CRLF/", at("09:40"))
    assert done.returncode == 0, done.stderr
    assert worked.subject() == "amend! work"
    done = autosquash(worked, sha_of(worked, "base"))
    assert done.returncode == 0, done.stderr
    assert worked.git("log", "--format=%s").split("\n")[:3] == ["work: parser handles CRLF", "clock-in", "base"]
    worked.accept("clock-out", when=at("10:00"))
    assert sessions(worked) == [3600]


@pytest.mark.parametrize("spec, edit, change", [
    ("amend:{clock-in}", "3s/.*/clock-in: T-30m/", "turn `clock-in` into `clock-in: T-30m`"),
    ("reword:{clock-in}", "3s/.*/clock-in: a better note/", "rewrite its clock marker `clock-in` unchecked"),
    ("reword:{work}", "3s/.*/work\\n\\nClock: out/", "add `Clock: out`"),
    ("reword:{clock-in}", "3s/.*/started/", "remove `clock-in`"),
])
def test_amend_that_changes_a_marker_is_refused(worked, spec, edit, change):
    spec = spec.replace("{clock-in}", sha_of(worked, "clock-in")).replace("{work}", sha_of(worked, "work"))
    done = fixup(worked, spec, edit, at("09:40"))
    assert done.returncode == 1, done.stderr
    assert f"this one would {change}." in done.stderr


def test_amend_removing_a_trailer_marker_is_refused(worked):
    """The amend! message need not mention "clock" at all to drop a clock event."""
    worked.accept("parser", "handles CRLF", "Clock: out", when=at("10:00"), files={"p.txt": "p\n"})
    target = sha_of(worked, "parser")
    done = fixup(worked, f"reword:{target}", "/^Clock: out/d", at("10:10"))
    assert done.returncode == 1, done.stderr
    assert "replaces the message of `parser`" in done.stderr and "would remove `Clock: out`" in done.stderr
    assert f"git rebase -i {target[:12]}^" in done.stderr


def test_squash_adding_a_marker_is_refused_a_plain_one_passes(worked):
    (worked.path / "s.txt").write_text("s\n")
    worked.git("add", "s.txt")
    done = worked.try_commit(when=at("09:40"), args=(f"--squash={sha_of(worked, 'work')}", "-m", "Clock: out"))
    assert done.returncode == 1
    assert "A squash! commit's message is added to the message of `work`" in done.stderr
    assert "would add `Clock: out`" in done.stderr
    done = worked.try_commit(when=at("09:40"), args=(f"--squash={sha_of(worked, 'work')}", "-m", "tidy up"))
    assert done.returncode == 0, done.stderr
    done = worked.try_commit(when=at("09:45"), args=(f"--fixup={sha_of(worked, 'clock-in')}",))
    assert done.returncode == 0, done.stderr  # a fixup! keeps the target's message
    done = worked.try_commit(when=at("09:46"), args=(f"--squash={sha_of(worked, 'clock-in')}", "-m", "details"))
    assert done.returncode == 0, done.stderr  # "clock-in\n\ndetails" is the same clock-in
    done = autosquash(worked, sha_of(worked, "base"))
    assert done.returncode == 0, done.stderr
    assert worked.git("log", "--format=%B", "-1", "HEAD~1").strip() == "clock-in\n\ndetails"
    worked.accept("clock-out", when=at("10:00"))
    assert sessions(worked) == [3600]


def test_squash_pushing_a_trailer_out_of_the_last_paragraph_is_refused(worked):
    worked.accept("parser", "handles CRLF", "Clock: out", when=at("10:00"), files={"p.txt": "p\n"})
    done = worked.try_commit(when=at("10:05"), args=(f"--squash={sha_of(worked, 'parser')}", "-m", "and LF"))
    assert done.returncode == 1
    assert "squash! commit's message is added to the message of `parser`" in done.stderr
    assert "this one would remove `Clock: out`" in done.stderr


def test_the_reword_the_hint_suggests_is_checked(worked):
    """Rewording the clock-in into a clock-out in `git rebase -i` runs the hook, which refuses it."""
    target = sha_of(worked, "clock-in")
    done = worked.run("git", "rebase", "-i", f"{target}^", env={
        "GIT_SEQUENCE_EDITOR": "sed -i -e '1s/^pick/reword/'", "GIT_EDITOR": "sed -i -e '1s/.*/clock-out/'"})
    assert done.returncode != 0
    assert "not clocked in" in done.stdout + done.stderr
    worked.git("rebase", "--abort")
    assert worked.git("log", "--format=%s").split("\n")[:3] == ["work", "clock-in", "base"]


def test_amend_changing_a_marker_is_refused_through_pre_commit(configured):  # noqa: F811
    configured.accept("clock-in", when=at("09:00"), files={"a.txt": "a\n"})
    done = fixup(configured, "reword:HEAD", "3s/.*/clock-out/", at("09:10"))
    assert done.returncode == 1
    assert "would turn `clock-in` into `clock-out`" in done.stdout + done.stderr
