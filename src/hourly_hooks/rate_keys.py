"""`[rates]` keys that match no one: a rate that silently does not apply bills the
wrong amount, so the report and the invoice say which key matched nothing.

A key matches a person by email, name or "Name <email>", as the history reads
them: after .mailmap. A rate for someone who did not work in the period is
normal, and a read limited to some authors (--author, `hourly invoice`) or
started near the period (--since, --period: the marker store may skip older
history) does not see everyone. So a key that no marker read matches is
reported when

* .mailmap maps it to another identity (then it can never match: say what to
  write instead), or
* someone read is spelled within two characters of it (a typo: "did you mean"), or
* the whole history of every author was read (no --since, --period or
  --author): then nobody at all has it; the identities read are listed.

Otherwise it is left alone.
"""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

from hourly_hooks.git.run import run_git

MAX_LISTED = 8  # identities named in a warning; a big team's list would drown it


def warnings(sheet, config, top, whole: bool) -> List[str]:
    """One stderr line per [rates] key that matches no one (see the module's docstring)."""
    said = []
    for key in sheet.selection.rates.unmatched(sheet.people):
        reason = _mapped(key, top) or _near(key, sheet.people) or (_nobody(sheet.people) if whole else None)
        if reason:
            said.append(f"Warning: [rates] key '{key}' ({_where(config, key)}) matches no one: {reason}")
    return said


def _where(config, key: str) -> str:
    setting = config.setting(f"rates.{key}")
    return str(setting.origin).replace("file:", "", 1) if setting is not None else "config"


def _mapped(key: str, top) -> Optional[str]:
    """What .mailmap turns the key into, when it names an email and is mapped."""
    if "@" not in key:
        return None
    contact = key if key.rstrip().endswith(">") else f"<{key.strip()}>"
    code, out, _ = run_git(["check-mailmap", contact], top)
    mapped = out.decode("utf-8", "replace").strip()
    if code or not mapped or mapped.lower() == contact.lower():
        return None
    email = mapped.rpartition("<")[2].rstrip(">")
    target = email if "<" not in key else mapped
    if not target or target.lower() == key.strip().lower():
        return None  # only the name is mapped: the email still matches as it is
    return f".mailmap maps it to {mapped}: write the key as '{target}'."


def _near(key: str, people: Set[Tuple[str, str]]) -> Optional[str]:
    """A spelling read that is a slip of the key: one or two characters off (a sixth of it
    at most), in any case. Not difflib's ratio: two emails at one domain look alike to it."""
    wanted = key.lower()
    allowed = min(2, len(wanted) // 6)
    spellings = sorted({text for name, email in people for text in (email, name, f"{name} <{email}>")})
    near = next((text for text in spellings if _edits(wanted, text.lower(), allowed) <= allowed), None)
    return f"did you mean '{near}'?" if near is not None else None


def _edits(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance of a and b, or limit + 1 once it is more than limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _nobody(people: Set[Tuple[str, str]]) -> str:
    who = sorted(f"{name} <{email}>" for name, email in people)
    listed = ", ".join(who[:MAX_LISTED]) + (f" and {len(who) - MAX_LISTED} more" if len(who) > MAX_LISTED else "")
    return (f"nobody in the history has that email, name or \"Name <email>\" (after .mailmap); "
            f"it has {listed or 'no one'}.")
