"""Compare a billed manifest with the one the history gives under the same rules (pure).

`hourly verify` recomputes the timesheet in a clone, under the manifest's
rules and period and from the commits it names, and builds that manifest
again (core/manifest.py); this module says, per billed session, whether the
two agree, and exactly what differs when they do not: a commit this clone
lacks, a marker whose time or author differs, a session missing or extra, a
figure the rules do not give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Mapping, Optional, Sequence, Set

# What a per-session line says.
EQUAL, DIFFERS, MISSING, EXTRA = "equal", "differs", "missing", "extra"

# Fields compared, in the order differences are told, with how each is named.
_FIELDS = (("out", "clock-out commit"), ("start", "start"), ("end", "end"), ("seconds", "seconds worked"),
           ("billed_seconds", "billed seconds"), ("identity", "identity"), ("emails", "author emails"),
           ("hours", "hours"), ("amount", "amount"), ("currency", "currency"))


@dataclass(frozen=True)
class Finding:
    status: str        # EQUAL, DIFFERS, MISSING or EXTRA
    title: str         # the session: its clock-in, start and identity
    details: Sequence[str] = ()


@dataclass
class Verdict:
    findings: List[Finding] = field(default_factory=list)
    fetch: List[str] = field(default_factory=list)     # commits to fetch before verifying again
    billed: Dict[str, str] = field(default_factory=dict)       # currency -> amount, as billed
    recomputed: Dict[str, str] = field(default_factory=dict)   # currency -> amount, from the history
    billed_hours: Optional[str] = None
    recomputed_hours: Optional[str] = None

    @property
    def reproduced(self) -> bool:
        return all(f.status == EQUAL for f in self.findings) and self.billed == self.recomputed \
            and self.billed_hours == self.recomputed_hours and not self.fetch


def compare(billed: Mapping, history: Mapping, absent: Set[str]) -> Verdict:
    """billed: the manifest as the timesheet (or invoice) carries it; history: the manifest
    the clone gives under the same rules; absent: commits of billed this clone does not have."""
    verdict = Verdict(billed=_amounts(billed), recomputed=_amounts(history),
                      billed_hours=_hours(billed), recomputed_hours=_hours(history))
    found = {s["in"]: s for s in history.get("sessions", ())}
    matched: Set[str] = set()
    for claim in billed.get("sessions", ()):
        mine = found.get(claim["in"])
        if mine is not None:
            matched.add(claim["in"])
            verdict.findings.append(_against(claim, mine))
            continue
        lacking = [sha for sha in (claim["in"], claim["out"]) if sha in absent]
        instead = _overlapping(claim, history, matched)
        if instead is not None:
            matched.add(instead["in"])
        verdict.findings.append(_unmatched(claim, lacking, instead))
        verdict.fetch += [sha for sha in lacking if sha not in verdict.fetch] if instead is None else []
    for mine in history.get("sessions", ()):
        if mine["in"] not in matched:
            verdict.findings.append(Finding(EXTRA, _title(mine), (
                "in the history under the bill's rules and period, not on the bill",)))
    return verdict


def _against(claim: Mapping, mine: Mapping) -> Finding:
    details = [f"{name}: billed {_shown(claim[key])}, the history gives {_shown(mine.get(key))}"
               for key, name in _FIELDS if key in claim and claim[key] != mine.get(key)]
    return Finding(DIFFERS if details else EQUAL, _title(mine), details)


def _unmatched(claim: Mapping, lacking: List[str], instead: Optional[Mapping]) -> Finding:
    details = [f"commit {sha} is not in this clone" for sha in lacking]
    if instead is not None:
        details.append(f"the history has the session {_title(instead)} at this time instead "
                       f"(clock-in {instead['in'][:10]}, clock-out {instead['out'][:10]}): "
                       "a marker was rewritten (amend, rebase) or its time or author differs")
        details += [f"{name}: billed {_shown(claim[key])}, the history gives {_shown(instead.get(key))}"
                    for key, name in _FIELDS if key in claim and key != "out" and claim[key] != instead.get(key)]
        return Finding(DIFFERS, _title(claim), details)
    if not lacking:
        details.append("its markers are in this clone but make no billed session under the bill's rules "
                       "(outside the period, ignored, excluded, not read from the commits named, or an anomaly)")
    return Finding(MISSING, _title(claim), details)


def _overlapping(claim: Mapping, history: Mapping, taken: Set[str]) -> Optional[Mapping]:
    """The history's session that stands where the billed one was: the same person's that
    overlaps it, else anyone's with the very same start and end (an author rewritten)."""
    start, end = _epoch(claim.get("start")), _epoch(claim.get("end"))
    if start is None or end is None:
        return None
    people = set(claim.get("emails") or ()) | {claim.get("identity")}
    same_times = None
    for mine in history.get("sessions", ()):
        a, b = _epoch(mine["start"]), _epoch(mine["end"])
        if mine["in"] in taken or a is None or b is None or not (a < end and b > start or a == start == end):
            continue
        if people & (set(mine.get("emails") or ()) | {mine.get("identity")}):
            return mine
        if (a, b) == (start, end) and same_times is None:
            same_times = mine
    return same_times


def _epoch(text) -> Optional[float]:
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return None


def _title(session: Mapping) -> str:
    start = session.get("start")
    when = str(start).replace("T", " ") if start else "?"
    who = session.get("identity")
    return f"{session['in'][:10]} {when}" + (f" {who}" if who else "")


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "none" if value is None else str(value)


def _amounts(manifest: Mapping) -> Dict[str, str]:
    total = manifest.get("total")
    amounts = total.get("amounts") if isinstance(total, Mapping) else None
    return {str(k): str(v) for k, v in amounts.items()} if isinstance(amounts, Mapping) else {}


def _hours(manifest: Mapping) -> Optional[str]:
    total = manifest.get("total")
    return str(total.get("hours")) if isinstance(total, Mapping) and "hours" in total else None
