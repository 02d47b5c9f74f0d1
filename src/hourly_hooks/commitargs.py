"""Whether the ``git commit`` running this hook was given ``--amend``, read from its arguments.

git tells prepare-commit-msg where a message comes from, but for ``-m`` / ``-F``
it says ``message`` whether or not ``--amend`` was given, and an amended commit
keeps HEAD's author date: within the second of HEAD nothing git hands a hook
tells the two apart. The arguments of the git process that runs the hook do.

``amending(argv)`` reads a git command line the way git 2.39 does (git.c's
global options, then parse-options over ``git commit``'s option table) and
answers True (amending), False (certainly not) or None (cannot tell: an alias
not yet expanded, an option it does not know, anything git itself would refuse).
``amending_here()`` finds the nearest git among this process's ancestors
through /proc; git runs an alias's expansion as a git process of its own, so
that is the one read. Every doubt is None, which keeps the caller's refusal: a
wrong False would let an --amend count as a second clock event.

Standard library only, imported by the commit-msg hook only when it needs it.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

# How far up to look for git: git -> hook script -> python, or
# git -> pre-commit's hook script -> pre-commit -> the hook (a script that
# execs counts once), with room for a wrapper or two.
LEVELS = 6

# git.c: global options before the subcommand. Those taking the next argument
# (or `=value` where git accepts that spelling), and those standing alone.
_GLOBAL_WITH_VALUE = ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix",
                      "--config-env", "--shallow-file")
_GLOBAL_EQUALS = ("--git-dir=", "--work-tree=", "--namespace=", "--super-prefix=", "--config-env=",
                  "--exec-path=")
_GLOBAL_FLAGS = ("-p", "--paginate", "-P", "--no-pager", "--no-replace-objects", "--bare",
                 "--literal-pathspecs", "--no-literal-pathspecs", "--glob-pathspecs",
                 "--noglob-pathspecs", "--icase-pathspecs", "--no-optional-locks")

_FLAG, _VALUE, _OPTIONAL = "flag", "value", "optional"  # takes no value / a value / only a stuck one

# builtin/commit.c's builtin_commit_options (git 2.39), in its order:
# (long name, short letter or "", what it takes, negatable).
_COMMIT_OPTIONS: Tuple[Tuple[str, str, str, bool], ...] = (
    ("quiet", "q", _FLAG, True),
    ("verbose", "v", _FLAG, True),
    ("file", "F", _VALUE, True),
    ("author", "", _VALUE, True),
    ("date", "", _VALUE, True),
    ("message", "m", _VALUE, True),
    ("reedit-message", "c", _VALUE, True),
    ("reuse-message", "C", _VALUE, True),
    ("fixup", "", _VALUE, True),
    ("squash", "", _VALUE, True),
    ("reset-author", "", _FLAG, True),
    ("trailer", "", _VALUE, False),
    ("signoff", "s", _FLAG, True),
    ("template", "t", _VALUE, True),
    ("edit", "e", _FLAG, True),
    ("cleanup", "", _VALUE, True),
    ("status", "", _FLAG, True),
    ("gpg-sign", "S", _OPTIONAL, True),
    ("all", "a", _FLAG, True),
    ("include", "i", _FLAG, True),
    ("interactive", "", _FLAG, True),
    ("patch", "p", _FLAG, True),
    ("only", "o", _FLAG, True),
    ("no-verify", "n", _FLAG, True),
    ("dry-run", "", _FLAG, True),
    ("short", "", _FLAG, True),
    ("branch", "", _FLAG, True),
    ("ahead-behind", "", _FLAG, True),
    ("porcelain", "", _FLAG, True),
    ("long", "", _FLAG, True),
    ("null", "z", _FLAG, True),
    ("amend", "", _FLAG, True),
    ("no-post-rewrite", "", _FLAG, True),
    ("untracked-files", "u", _OPTIONAL, True),
    ("pathspec-from-file", "", _VALUE, True),
    ("pathspec-file-nul", "", _FLAG, True),
    ("allow-empty", "", _FLAG, True),
    ("allow-empty-message", "", _FLAG, True),
)
_SHORT = {short: (name, takes) for name, short, takes, _ in _COMMIT_OPTIONS if short}
_TAKES = {name: takes for name, _, takes, _ in _COMMIT_OPTIONS}


class _Unsure(Exception):
    """The command line is not one this module can read as git would: answer None."""


def amending(argv: Sequence[str]) -> Optional[bool]:
    """True if this git command line is `git commit` with --amend in effect, False if it is
    `git commit` without, None when that cannot be told (not commit, an alias, an unknown
    or ambiguous option, anything git would refuse)."""
    try:
        rest = _subcommand_args(list(argv[1:]))
        return None if rest is None else _commit_amends(rest)
    except _Unsure:
        return None


def _subcommand_args(args: List[str]) -> Optional[List[str]]:
    """The arguments after `commit`, past git's global options; None if the subcommand is
    not literally `commit` (an alias may stand for `commit --amend`)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in _GLOBAL_WITH_VALUE:
            i += 2  # git.c takes the next argument, whatever it is
        elif arg in _GLOBAL_FLAGS or arg.startswith(_GLOBAL_EQUALS):
            i += 1
        else:
            raise _Unsure  # --version, --help, --exec-path alone, one this module does not know
    if i >= len(args) or args[i] != "commit":
        return None
    return args[i + 1:]


def _commit_amends(args: List[str]) -> bool:
    """parse-options over `git commit`'s arguments: whether --amend is set at the end."""
    amend = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            continue  # a pathspec: parse-options reads on past them
        if arg in ("--", "--end-of-options"):
            break
        if arg.startswith("--"):
            name, unset, stuck = _long_option(arg[2:])
        else:
            name, unset, stuck = _short_options(arg[1:])
        takes = _TAKES[name]
        if takes == _FLAG or unset:
            if stuck:
                raise _Unsure  # "--amend=x", "--no-message=x": git refuses
        elif takes == _VALUE and not stuck:
            if i >= len(args):
                raise _Unsure  # "requires a value"
            i += 1  # the next argument is the value, even one that looks like an option
        if name == "amend":
            amend = not unset
    return amend


def _long_option(arg: str) -> Tuple[str, bool, bool]:
    """parse-options' parse_long_opt: (option, negated, has a stuck `=value`).

    An exact name (or `no-` name, or a `no-` option's name without it) wins;
    else a prefix of exactly one option, negated forms included; else unsure.
    """
    typed = arg.split("=", 1)[0]
    abbreviated: List[Tuple[str, bool]] = []
    for name, _, _, negatable in _COMMIT_OPTIONS:
        long_name, flipped = name, False
        while True:  # a second round for a `no-` option's positive spelling
            unset = False
            rest: Optional[str] = arg[len(long_name):] if arg.startswith(long_name) else None
            if rest is None:
                if long_name.startswith(typed):
                    abbreviated.append((name, flipped))
                    break
                if not negatable:
                    break
                if "no-".startswith(arg):  # `--n`, `--no`, `--no-`: every negation matches
                    abbreviated.append((name, not flipped))
                    break
                if not arg.startswith("no-"):
                    if long_name.startswith("no-"):
                        long_name, flipped = long_name[3:], True
                        continue
                    break
                unset = True
                if arg[3:].startswith(long_name):
                    rest = arg[3 + len(long_name):]
                else:
                    if long_name.startswith(arg[3:]):
                        abbreviated.append((name, not flipped))
                    break
            if rest and not rest.startswith("="):
                break
            return name, unset != flipped, bool(rest)
    if len(abbreviated) != 1:
        raise _Unsure  # unknown, or ambiguous (git refuses those)
    name, unset = abbreviated[0]
    return name, unset, "=" in arg


def _short_options(letters: str) -> Tuple[str, bool, bool]:
    """A bundle of short options (`-am`, `-avmtext`, `-uno`): its last option, as
    (option, False, has a stuck value); the letters before it are flags."""
    for at, letter in enumerate(letters):
        if letter not in _SHORT:
            raise _Unsure  # unknown (or -h: git shows its usage)
        name, takes = _SHORT[letter]
        rest = letters[at + 1:]
        if at == 0 and rest and takes == _FLAG and _looks_like_a_long_name(letters):
            raise _Unsure  # `-amend`: git stops with "did you mean `--amend`"
        if takes != _FLAG or not rest:
            return name, False, bool(rest)  # a value option takes the rest of the bundle
    raise _Unsure  # unreachable: "-" alone is a pathspec


def _looks_like_a_long_name(letters: str) -> bool:
    """parse-options' check_typos: a bundle of three letters or more that starts a long name."""
    if len(letters) < 3:
        return False
    return letters.startswith("no-") or any(name.startswith(letters) for name, _, _, _ in _COMMIT_OPTIONS)


# ------------------------------------------------------------------ the processes

def amending_here(proc: str = "/proc", levels: int = LEVELS) -> Optional[bool]:
    """amending() of the nearest git among this process's ancestors; None without /proc
    (macOS, Windows), without a git within `levels`, or when its arguments are unclear."""
    argv = git_ancestor_argv(proc, levels)
    return None if argv is None else amending(argv)


def git_ancestor_argv(proc: str = "/proc", levels: int = LEVELS) -> Optional[List[str]]:
    """The argv of the nearest ancestor process that is git, or None."""
    pid = os.getppid()
    for _ in range(levels):
        if pid <= 1:
            return None  # reached init: the hook's git is gone (or there never was one)
        argv = _cmdline(proc, pid)
        if not argv:
            return None
        program = os.path.basename(argv[0])
        if program in ("git", "git.exe"):
            return argv
        if program.startswith("git-"):
            return None  # git run as git-commit (or another git program): not read, and not passed
        parent = _parent(proc, pid)
        if parent is None:
            return None
        pid = parent
    return None


def _cmdline(proc: str, pid: int) -> Optional[List[str]]:
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if not data:
        return None  # a zombie or a kernel thread
    return [os.fsdecode(part) for part in data.split(b"\0")[:-1 if data.endswith(b"\0") else None]]


def _parent(proc: str, pid: int) -> Optional[int]:
    """The ppid from /proc/PID/stat: `pid (comm) state ppid ...`; comm may hold spaces and ')'."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 1:].split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return int(fields[1])
