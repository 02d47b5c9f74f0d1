"""What `git rebase --autosquash` will make of an ``amend!`` or ``squash!`` commit's clock markers.

``git commit --fixup=amend:<commit>`` (and ``--fixup=reword:``) makes an
``amend!`` commit whose message, below its ``amend! <subject>`` line, is the
target's *future* message: autosquash replaces the target's message with it,
and no hook runs then. A ``squash!`` commit's message is appended to the
target's. So a clock-in could become a clock-out, or a marker appear or
vanish, with nothing checking it against the clock state (and until it is
squashed, the report would read the amend! commit's own trailer as one more
clock event).

The choice made here: such a commit is refused when it would add, remove or
change a clock marker, with the way that is checked: reword the marker
commit in `git rebase -i` (the commit-msg hook runs on a reword, against the
clock state at that commit), or record the right event with a new marker.
An amend! that leaves markers alone (the target has none and the new message
has none), a squash! after which the target carries the same clock events
(kinds and offsets), and a plain fixup! (the target's message is kept) pass.
An amend! that keeps the target's marker as it was is refused all the same:
until it is squashed, its own trailer would be a second clock event.

Imported by the commit-msg hook only for such messages.
"""

from __future__ import annotations

from hourly_hooks.core import markers
from hourly_hooks.git.run import run_git

AMEND, SQUASH = "amend!", "squash!"
_PREFIXES = ("fixup!", SQUASH, AMEND)
_MAX_CANDIDATES = 20  # commits with the target's subject whose messages are read


def problem(repo, message: str):
    """(text, fixes) when the amend! / squash! message changes a clock marker at autosquash, else None."""
    subject, _, future = message.lstrip("\n").partition("\n")
    future = future.lstrip("\n")
    squash = subject.startswith(SQUASH)
    if not (squash or subject.startswith(AMEND)) or not future.strip():
        # An amend! with an empty new message stops the rebase (git refuses an
        # empty message); a squash! without a body adds nothing.
        return None
    target = _target_subject(subject)
    sha, old, old_message = _target(repo, target)
    if squash:
        # Added below the target's message: a trailer in it becomes one, and the
        # target's own trailer block is no longer the last paragraph.
        new = markers.events(old_message + "\n\n" + future)
        if _same(old, new):
            return None
        how = "A squash! commit's message is added to the message of"
    else:
        new = markers.events(future)
        if not new and not old:
            return None
        how = "An amend! commit replaces the message of"
    return (f"{how} `{target}` when `git rebase --autosquash` applies it, and no hook checks that: "
            f"this one would {_change(old, new)}.", _fixes(sha))


def _target_subject(subject: str) -> str:
    """The target's subject (or commit) as the fixup!/squash!/amend! subject names it, prefixes dropped."""
    text = subject
    while text.startswith(_PREFIXES):
        text = text.split("!", 1)[1].lstrip(" ")
    return text.strip()


def _target(repo, target: str) -> tuple:
    """(sha or None, clock events, message) of the commit autosquash would change.

    The commits reachable from HEAD with that subject (as autosquash matches
    it, exactly or else as a prefix), or the commit it names, are read; the
    first carrying a marker counts, since which one autosquash picks depends
    on the range rebased. Not found, the subject stands for the message.
    """
    shas = _candidates(repo, target)
    only = shas[0] if len(shas) == 1 else None  # named in the hint only when it is surely the one
    messages = _messages(repo, shas)
    for _, text in messages:
        found = markers.events(text)
        if found:
            return only, found, text
    return only, markers.events(target), (messages[0][1] if messages else target)


def _candidates(repo, target: str) -> list:
    if not repo.head or not target:
        return []
    code, out, _ = run_git(["log", "-z", "--format=%H %s", "HEAD"], repo.cwd)
    exact, prefix = [], []
    for record in out.decode("utf-8", "replace").split("\0") if code == 0 else []:
        sha, _, subject = record.strip("\n").partition(" ")
        if subject == target:
            exact.append(sha)
        elif subject.startswith(target):
            prefix.append(sha)
    if exact or prefix:
        return (exact or prefix)[:_MAX_CANDIDATES]
    if target.startswith("-"):
        return []  # not a revision: rev-parse would read it as an option
    code, out, _ = run_git(["rev-parse", "-q", "--verify", target + "^{commit}"], repo.cwd)
    return [out.decode("ascii", "replace").strip()] if code == 0 else []


def _messages(repo, shas: list) -> list:
    """[(sha, full message)] of the commits."""
    if not shas:
        return []
    code, out, _ = run_git(["log", "--no-walk=unsorted", "-z", "--format=%H%n%B", *shas], repo.cwd)
    if code != 0:
        return []
    return [tuple(record.lstrip("\n").split("\n", 1)) for record in out.decode("utf-8", "replace").split("\0")
            if "\n" in record.lstrip("\n")]


def _shown(events: list) -> str:
    return " and ".join(f"`{event.canonical}`" for event in events)


def _same(old: list, new: list) -> bool:
    """The same clock events: kinds and offsets (a note may change)."""
    return [(e.kind, e.offset) for e in old] == [(e.kind, e.offset) for e in new]


def _change(old: list, new: list) -> str:
    if old and new:
        if _same(old, new):
            return f"rewrite its clock marker {_shown(old)} unchecked"
        return f"turn {_shown(old)} into {_shown(new)}"
    return f"add {_shown(new)}" if new else f"remove {_shown(old)}"


def _fixes(sha) -> list:
    base = f"{sha[:12]}^" if sha else "<marker commit>^"
    return [f"to change a clock marker, reword its commit: `git rebase -i {base}`, mark it `reword` "
            f"(the hook checks a reword against the clock state at that commit)",
            "or record the right clock event with a new marker: `hourly in --at TIME` / `hourly out --at TIME`",
            "to change only the commit's content, use `git commit --fixup=<commit>` (its message is kept)"]
