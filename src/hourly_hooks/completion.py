"""Shell completion for option values: --tz (zone names) and --author (people in the history).

click calls these with what the user has typed so far; they must be quick,
and must never fail loudly (a broken completion would print into the
user's prompt), so every error yields no candidates.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, List

if TYPE_CHECKING:  # imported when completing, not by every command that offers completion
    from click.shell_completion import CompletionItem

# Enough history to know everyone who works on a project, while keeping
# completion quick in a repository with millions of commits.
AUTHOR_COMMITS = 20000
# Characters that --author (an extended regex) would not take literally; the
# dot is left alone, as it matches itself too.
_REGEX_SPECIAL = re.compile(r"([\[\]{}()*+?^$|\\])")


def _bash() -> bool:
    # bash inserts a candidate as it is, so one with spaces or <> must come quoted;
    # zsh and fish quote candidates themselves.
    return os.environ.get("_HOURLY_COMPLETE", "").startswith("bash")


def complete_tz(ctx, param, incomplete: str) -> List[CompletionItem]:
    """IANA zone names (and "local") starting with what was typed, case-insensitively."""
    from click.shell_completion import CompletionItem

    try:
        from zoneinfo import available_timezones

        names = sorted(available_timezones() | {"local", "UTC"})
    except Exception:  # pragma: no cover - no time zone database at all
        return []
    prefix = incomplete.lower()
    return [CompletionItem(name) for name in names if name.lower().startswith(prefix)]


def history_authors(cwd=None) -> List[str]:
    """'Name <email>' of the recent history's authors after .mailmap, most recent first."""
    from hourly_hooks.git.run import run_git

    code, out, _ = run_git(["log", f"--max-count={AUTHOR_COMMITS}", "--use-mailmap",
                            "--format=%aN <%aE>", "HEAD"], cwd)
    if code:
        return []
    return list(dict.fromkeys(out.decode("utf-8", "replace").splitlines()))


def complete_author(ctx, param, incomplete: str) -> List[CompletionItem]:
    """The people in the history whose name or email starts with what was typed."""
    import shlex

    from click.shell_completion import CompletionItem

    repos = (ctx.params.get("repo") or ()) if ctx is not None else ()
    try:
        authors = history_authors(repos[0] if repos else None)
    except Exception:
        return []
    typed = incomplete.lstrip("'\"").lower()
    items = []
    for author in authors:
        email = author[author.rfind("<") + 1:]
        if not (author.lower().startswith(typed) or email.lower().startswith(typed)):
            continue
        value = _REGEX_SPECIAL.sub(r"\\\1", author)
        if _bash():
            # click's bash script reads each candidate with `read` (no -r), which
            # takes one level of backslashes: double them so the regex keeps its own.
            value = shlex.quote(value).replace("\\", "\\\\")
        items.append(CompletionItem(value))
    return items
