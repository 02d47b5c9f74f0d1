"""The hook entry points: ``hourly-clock`` (commit-msg), ``hourly-clock-source``
(prepare-commit-msg) and ``hourly-protect-keys`` (pre-commit).

``hourly-clock`` runs on every commit, so its import path is part of the
product: standard library plus ``markers``, ``errors``, ``clockrules``,
``repository``, ``history``, ``git.log`` and ``store`` only (``sqlite3`` only
once a marker is found; ``autosquash`` only for an ``amend!`` / ``squash!``
message)
(check with ``python -X importtime -m hourly_hooks.hooks.entry``). An ordinary commit
without a marker costs no git call at all. The key check (``hourly-protect-keys``)
lives in ``keycheck``, imported by its entry point only.

Exit codes: 0 accepted, 1 refused (the message says why and what to do),
2 usage, 3 git could not answer.
"""

from __future__ import annotations

import os
import sys
import time

from hourly_hooks.errors import HourlyError, Rejected, UsageError

# markers and clockrules (with datetime) are imported only once a message
# mentions "clock": an ordinary commit pays for Python's start and this module
# only. Neither imports `re` on a marker's usual path (markers reads marker
# heads and offsets by hand; only near misses compile patterns).

PROG_CLOCK = "hourly-clock"
PROG_SOURCE = "hourly-clock-source"
# An amend! or squash! commit may change a marker without naming one (see autosquash).
AUTOSQUASHED = ("amend!", "squash!")
BOM = "\ufeff"  # markers.BOM, without importing markers for it
# What prepare-commit-msg learnt from git, left for commit-msg next to the
# message file (so in the worktree's own git dir, where HEAD lives too).
SOURCE_FILE = "hourly-commit-source"
SOURCE_EXPIRY = 6 * 3600  # seconds: an older note is from an aborted commit


# ------------------------------------------------------------------ commit-msg

def clock_main(argv=None) -> int:
    """``hourly-clock [--protect-keys] [--] MESSAGE_FILE``: validate and normalise a clock marker.

    --protect-keys: first refuse staged keys and BTCPay secrets (the key check of
    ``hourly-protect-keys``, on the index). pre-commit's ``hourly`` hook runs it so,
    at the commit-msg stage alone: one start of pre-commit per commit, not one per stage.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    keys = args[:1] == ["--protect-keys"]
    if keys:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: {PROG_CLOCK} [--protect-keys] MESSAGE_FILE\n\n"
              "commit-msg hook: checks a clock-in / clock-out marker against your clock state\n"
              "and rewrites it into canonical form; --protect-keys: first refuses staged private keys\n"
              "and BTCPay secrets. Install it with pre-commit or `hourly install-hook`.",
              file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if keys:
        refused = protect_keys_main([])
        if refused:
            _say(PROG_CLOCK, _refusal("A staged file holds a secret (above).", args[-1]))
            return refused
    try:
        return check_message_file(args[-1])  # pre-commit passes the file last
    except HourlyError as error:
        _say(PROG_CLOCK, error.message, error.hint)
        return error.exit_code


def check_message_file(path: str) -> int:
    """The whole commit-msg check on one message file; 0 accepted, raises Rejected."""
    original = _read(path)
    if "clock" not in original.lower() and not any(prefix in original for prefix in AUTOSQUASHED):
        return 0  # cheapest possible exit: no "clock" anywhere, no git call
    from hourly_hooks.git.repository import Repository
    repo = Repository.started()  # git config runs while the rest is imported
    from hourly_hooks.history import Prefetch
    # The store's git log, started as soon as the store's tip is known, runs
    # side by side with the rest of the check.
    prefetched = Prefetch.start(repo.top_dir if repo.known else None, repo.common_dir if repo.known else None)
    try:
        return _check(path, original, repo.ready(), prefetched)
    finally:
        if prefetched is not None:
            prefetched.discard()


def _check(path: str, original: str, repo, prefetched) -> int:
    from hourly_hooks.core import clockrules, markers
    lines = original.split("\n")
    kept = markers.kept_lines(lines, repo.comment_char(original))
    message = "\n".join(lines[i] for i in kept)
    if markers.passes_through(message):
        _check_autosquash(repo, message, path)
        return 0
    marker = markers.parse(message)
    if marker is None:
        return 0
    events = markers.events(message)
    if len(events) > 1:
        raise Rejected(_refusal(_two_events_text(events, lines, kept), path, _TWO_EVENTS_FIXES))
    if marker.problem:
        text = marker.problem if marker.problem.endswith(("?", ".")) else marker.problem + "."
        raise Rejected(_refusal(text, path, _problem_fixes(marker)))
    name, email, authored, tz = author_of_commit(repo)
    identity = repo.canonical_email(name, email)
    last, kind = _last_before_this_commit(repo, identity, authored, tz, path, commit_kind(repo, path), prefetched)
    if last is None and repo.shallow:
        _say(PROG_CLOCK, "this is a shallow clone: your earlier markers may be out of reach, "
                         "so the clock state was not checked.")
    else:
        # The commit descends from `last`, so history orders it after that marker
        # even in the same second, as the report pairs them, when git said which
        # it is (`last` was then found from this commit's own parents: HEAD for a
        # new commit, HEAD's parents for an --amend), and when `last` is not HEAD
        # (then HEAD's parents reach it too). Only HEAD itself, with git silent,
        # may be the commit an --amend replaces.
        ordered = kind in (NEW, AMEND) or (last is not None and last.sha != repo.head)
        problem = clockrules.check(marker.kind, authored, int(marker.offset.total_seconds()), last, tz=tz,
                                   tie_ordered=ordered, earlier=lambda: _marker_before(repo, identity, last))
        if problem:
            raise Rejected(_refusal(problem.text(), path))
    _write_canonical(path, lines, kept, message, marker)
    _confirm(marker, authored, tz, last)
    return 0


def _check_autosquash(repo, message: str, path: str) -> None:
    """Refuse an amend! / squash! commit that would change a clock marker at autosquash."""
    if not message.lstrip("\n").startswith(AUTOSQUASHED):
        return  # a merge, a revert, or a fixup! (whose message autosquash drops)
    from hourly_hooks.hooks import autosquash
    found = autosquash.problem(repo, message)
    if found:
        raise Rejected(_refusal(found[0], path, found[1]))


_TWO_EVENTS_FIXES = ["keep one of them: delete the other line",
                     "to record both, make two commits, one event each (`hourly in` / `hourly out`, "
                     "with --at for a past time)"]


def _two_events_text(events: list, lines: list, kept: list) -> str:
    """Which clock events the message carries, as written."""
    shown = []
    for event in events:
        written = lines[kept[event.line]].strip().lstrip(BOM)
        written = written if len(written) <= 60 else written[:57] + "..."
        where = "the subject" if event.form == "subject" else f"a trailer, line {kept[event.line] + 1}"
        shown.append(f"`{written}` ({where})")
    return (f"This message carries {len(events)} clock events: {' and '.join(shown)}. "
            f"One commit is one clock event.")


def _last_before_this_commit(repo, identity: str, authored: int, tz: int, path: str, kind=None, prefetched=None):
    """(the identity's last marker, not counting HEAD when this commit is its --amend; the kind).

    kind: what git said through prepare-commit-msg (AMEND, NEW), or None.
    prefetched: the store's answer already on its way (history.Prefetch).
    """
    from hourly_hooks import history
    last = history.last_marker(repo, identity, prefetched=prefetched)
    if kind != NEW and last is not None and last.sha == repo.head and (last.epoch, last.tz) == (authored, tz):
        # `git commit --amend` keeps the author and author date of HEAD (and git
        # exports them to the hook), and so does a new commit made in HEAD's
        # second (a script's, or one behind a slow earlier hook). Only git can
        # tell them apart, and for -m / -F (or without prepare-commit-msg) it
        # does not: no guess, whatever the clock says.
        if kind is None:
            raise Rejected(_refusal(_SAME_SECOND_TEXT, path, _SAME_SECOND_FIXES))
        last = history.last_marker(repo, identity, heads=repo.parents(repo.head))
    return last, kind


_SAME_SECOND_TEXT = ("This commit has the same author and author date (to the second) as HEAD, your last marker, "
                     "and git does not say whether it amends HEAD (for -m / -F it never does), so it cannot be "
                     "told from an --amend of it.")
_SAME_SECOND_FIXES = ["a new commit: wait a second and commit again, or record the event with `hourly in` / "
                      "`hourly out` (--at HH:MM for a past time)",
                      "an --amend of HEAD: amend without -m / -F (`git commit --amend` in the editor, or "
                      "`--amend --no-edit`), which git announces to the prepare-commit-msg hook "
                      "(`hourly install-hook` installs it; with pre-commit, add prepare-commit-msg to "
                      "default_install_hook_types and the hourly-clock-source hook, then `pre-commit install`)"]


def _marker_before(repo, identity: str, last):
    from hourly_hooks.history import marker_before
    return marker_before(repo, identity, last)


# ------------------------------------------------------------------ prepare-commit-msg
# git tells prepare-commit-msg (never commit-msg) where the message comes from:
# nothing (the editor), `template`, `merge`, `squash`, `message` (-m / -F, with
# or without --amend) or `commit` with the revision as typed (`HEAD` for
# --amend without -m; the argument of -c / -C, with or without --amend).

AMEND, NEW = "amend", "new"


def source_main(argv=None) -> int:
    """``hourly-clock-source MESSAGE_FILE [SOURCE [REV]]``: note for the commit-msg hook what git says.

    The plain hook passes git's arguments; pre-commit passes the message file
    only, and the rest in PRE_COMMIT_COMMIT_MSG_SOURCE / PRE_COMMIT_COMMIT_OBJECT_NAME.
    It never refuses a commit: prepare-commit-msg runs even under --no-verify.
    The plain hook (hook.sh) writes the same note in sh, without Python;
    tests/test_hook_startups.py holds the two equal.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: {PROG_SOURCE} MESSAGE_FILE [SOURCE [REV]]\n\n"
              "prepare-commit-msg hook: notes whether git is amending, for the hourly-clock commit-msg hook.",
              file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if len(args) == 1:
        source = os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
        rev = os.environ.get("PRE_COMMIT_COMMIT_OBJECT_NAME", "")
    else:
        source, rev = args[1], (args[2] if len(args) > 2 else "")
    git_dir = os.path.dirname(args[0]) or "."
    note = "\n".join([source, rev, _head_token(git_dir), str(int(time.time()))]) + "\n"
    try:
        from hourly_hooks.private import open_private  # 0600 whatever the umask: the check trusts it

        with os.fdopen(open_private(os.path.join(git_dir, SOURCE_FILE)), "w", encoding="utf-8",
                       errors="surrogateescape") as handle:
            handle.write(note)
    except OSError:
        pass  # a read-only git dir: commit-msg then refuses a marker in HEAD's second, as without this hook
    return 0


def commit_kind(repo, path: str):
    """AMEND, NEW, or None (git did not say), from what prepare-commit-msg noted; the note is consumed."""
    git_dir = os.path.dirname(path) or "."
    where = os.path.join(git_dir, SOURCE_FILE)
    try:
        with open(where, encoding="utf-8", errors="surrogateescape") as handle:
            parts = handle.read().split("\n")
        os.remove(where)
    except OSError:
        return None  # no prepare-commit-msg hook (an older install), or a manual run
    if len(parts) < 4 or not parts[3].isdigit() or not 0 <= time.time() - int(parts[3]) < SOURCE_EXPIRY:
        return None
    source, rev, token = parts[0], parts[1], parts[2]
    if token != _head_token(git_dir):
        return None  # HEAD moved since: the note is another commit's
    if source in ("", "template", "merge", "squash"):
        return NEW  # --amend always hands `commit` or `message`
    if source == "commit" and rev:
        # --amend, or -c / -C HEAD (the same to every hook); a message reused
        # from another commit is a new commit (or an --amend -C of HEAD that
        # then counts HEAD: a refusal, never a second clock event).
        return AMEND if _is_head(repo, rev) else NEW
    return None  # `message`: -m / -F, amending or not, git does not say


def _is_head(repo, rev: str) -> bool:
    if rev in ("HEAD", "@") or rev == repo.head:
        return True
    from hourly_hooks.git.run import run_git
    code, out, _ = run_git(["rev-parse", "-q", "--verify", rev + "^{commit}"], repo.cwd)
    return code == 0 and out.decode("ascii", "replace").strip() == repo.head


def _head_token(git_dir: str) -> str:
    """HEAD's commit as far as it can be read without git (repository.read_head):
    equal before and after only while no commit was made in between; "" where
    the files do not say (the expiry alone guards the note then)."""
    from hourly_hooks.git.repository import common_dir_of, read_head
    try:
        return read_head(git_dir, common_dir_of(git_dir)) or ""
    except (OSError, ValueError):
        return ""


def author_of_commit(repo) -> tuple:
    """(name, email, epoch, tz minutes) of the commit being made.

    git exports GIT_AUTHOR_NAME/EMAIL/DATE to the hook (``@epoch tz``), the
    exact author the commit will carry, --amend and --date included. Outside
    `git commit` (pre-commit try-repo, a manual run) ``git var`` asks git for
    the same from config and now.
    """
    env = os.environ
    when = _parse_git_date(env.get("GIT_AUTHOR_DATE", ""))
    if env.get("GIT_AUTHOR_EMAIL") and when:
        return env.get("GIT_AUTHOR_NAME", ""), env["GIT_AUTHOR_EMAIL"], when[0], when[1]
    from hourly_hooks.git.repository import author_ident
    return author_ident(repo.cwd)


def _parse_git_date(text: str):
    """``@1764321600 -0500`` (what git exports) or ``1764321600 -0500`` -> (epoch, minutes)."""
    from hourly_hooks.core.clockrules import parse_tz
    parts = text.strip().lstrip("@").split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1][:1] in "+-" and parts[1][1:].isdigit():
        return int(parts[0]), parse_tz(parts[1])
    return None  # another format a user typed: let `git var` parse it as git does


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")
    except OSError as error:
        raise UsageError(f"cannot read the commit message file {path}: {error.strerror}") from None


def _write_canonical(path: str, lines: list, kept: list, message: str, marker) -> None:
    """Rewrite the marker's line into canonical form, keeping note, body and comments."""
    shown = message.splitlines()
    if marker.line >= len(kept) or any(shown[j] != lines[kept[j]].rstrip("\r") for j in range(marker.line + 1)):
        return  # exotic line separators (form feed, U+2028...): leave the message as written
    index = kept[marker.line]
    ending = "\r" if lines[index].endswith("\r") else ""
    indent = "" if marker.form == "subject" else lines[index][:len(lines[index]) - len(lines[index].lstrip())]
    rewritten = indent + marker.canonical + ending
    if lines[index] == rewritten and not lines[0].startswith(BOM):
        return
    lines = list(lines)
    lines[index] = rewritten
    if lines[0].startswith(BOM):
        lines[0] = lines[0][1:]  # an editor's byte-order mark: read as nothing, so written as nothing
    with open(path, "wb") as handle:
        handle.write("\n".join(lines).encode("utf-8", "surrogateescape"))


def _confirm(marker, authored: int, tz: int, last) -> None:
    """One line on what was recorded (git shows hook output; pre-commit with --verbose)."""
    from hourly_hooks.core import clockrules, markers
    effective = authored - int(marker.offset.total_seconds())
    line = f"{marker.canonical} at {clockrules.stamp(effective, tz)}"
    if marker.kind == markers.OUT and last is not None and last.kind == markers.IN:
        line += f", session {markers.format_minutes(effective - last.effective_epoch)}"
    _say(PROG_CLOCK, line)


def _problem_fixes(marker) -> list:
    """How to write what the marker with a problem was meant to say."""
    from hourly_hooks.core import markers
    if marker.form == markers.NEAR_MISS:
        return ["write it as shown: a marker starts the subject as `clock-in` / `clock-out`, "
                "or is a `Clock: in` / `Clock: out` trailer below a body",
                "if it is not meant as a clock event, reword the subject"]
    return [f"write the offset as T- and parts like 15m, 1h22m, 1hr, 2d (parts may stand apart: T-1h 30m; "
            f"at most {markers.MAX_OFFSET.days}d)",
            f"if `{marker.note}` is a note, not an offset, put -- before it: {marker.canonical}"]


def _refusal(text: str, path: str, fixes=()) -> str:
    shown = os.path.relpath(path) if os.path.isabs(path) else path
    lines = ["commit refused.", text, *(f"    - {fix}" for fix in fixes),
             f"  Your message is kept in {shown}; once fixed, reuse it with: git commit -e -F {shown}",
             "  To record the commit anyway (skipping this check): git commit --no-verify ..."]
    return "\n".join(lines)


def _say(prog: str, text: str, hint=None) -> None:
    print(f"{prog}: {text}", file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)


# ------------------------------------------------------------------ pre-commit

def protect_keys_main(argv=None) -> int:
    """``hourly-protect-keys [FILE...]``: the key check lives in keycheck (imported
    only here, so the commit-msg hook never loads it)."""
    from hourly_hooks.hooks.keycheck import main as keycheck_main
    return keycheck_main(argv)


def main(argv=None) -> int:
    """``python -m hourly_hooks.hooks.entry clock|protect-keys ...`` (the plain git hook script calls clock_main directly)."""
    args = sys.argv[1:] if argv is None else list(argv)
    entries = {"clock": clock_main, "protect-keys": protect_keys_main, "clock-source": source_main}
    if args and args[0] in entries:
        return entries[args[0]](args[1:])
    print("usage: python -m hourly_hooks.hooks.entry {clock MESSAGE_FILE | clock-source MESSAGE_FILE [SOURCE [REV]]"
          " | protect-keys [FILE...]}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
