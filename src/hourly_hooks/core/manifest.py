"""The timesheet's manifest: what was billed and the rules that billed it, and its digest (pure).

A manifest lets whoever receives a timesheet recompute it from a clone of the
repository (`hourly verify`): per session the clock-in and clock-out SHAs,
times, seconds, billed seconds, identity and the raw author emails behind it;
the rules (rates, rounding, max_session, ignore, exclude, identity mode, the
.mailmap digest, the authors and refs read); the period; the commits read from;
the tool's version. ``digest`` is the timesheet's number: the same bill always
gets the same one, and any change to the manifest gives another.

What only git knows (the commits read from, the .mailmap digest, the raw
emails) comes in a ``Source``; the caller reads it (verification.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from hourly_hooks.core import money
from hourly_hooks.core.money import Rate, Rounding
from hourly_hooks.core.timesheet import Rates, Selection, Timesheet

FORMAT = 1          # the manifest's shape; goes up when a key changes meaning
DIGEST_KEY = "digest"
_OPENING = f'{{"{DIGEST_KEY}":"'  # how build()'s text begins: the digest sorts before every other key


@dataclass(frozen=True)
class Source:
    """What the timesheet was read from, as git says: per repository the commits the
    walk started from and the .mailmap digest; the --author patterns and --all."""

    tips: Tuple[Tuple[str, ...], ...]          # per repository
    mailmaps: Tuple[str, ...]                  # per repository (git/repository.mailmap_digest)
    version: str
    authors: Tuple[str, ...] = ()
    all_refs: bool = False
    raw_emails: Mapping[str, str] = field(default_factory=dict)  # marker SHA -> raw author email, folded


def build(sheet: Timesheet, source: Source, left_out: Sequence[str] = ()) -> Manifest:
    """The manifest of sheet, with its digest. left_out: clock-in SHAs of sessions in the
    period that the bill leaves out (an invoice leaves out time already on another)."""
    selection = sheet.selection
    manifest = {
        "manifest": FORMAT,
        "tool": source.version,
        "repos": _repos(sheet, source),
        "period": {"start": _iso(selection.since), "end": _iso(selection.until)},
        "rules": rules_of(selection, source),
        "left_out": sorted(left_out),
        "sessions": list(map(_Sessions(source.raw_emails), sheet.lines)),
        "total": {"seconds": sheet.worked_seconds, "billed_seconds": sheet.seconds,
                  "hours": money.format_hours(sheet.hours),
                  "amounts": {c: money.format_amount(a, c) for c, a in sorted(sheet.amounts.items())}},
    }
    body = canonical(manifest)
    built = Manifest(manifest, **{DIGEST_KEY: hashlib.sha256(body.encode("ascii")).hexdigest()})
    built.text = f'{_OPENING}{built[DIGEST_KEY]}",{body[1:]}'
    return built


class Manifest(dict):
    """A manifest as build() made it, with its canonical text (with the digest) made once:
    at a whole history that text is megabytes, and the JSON and HTML timesheets carry it
    as it is (text_of) instead of encoding it again. Not to be changed after build()."""

    text = ""


def canonical(data: Mapping) -> str:
    """The canonical JSON text: sorted keys, no whitespace, ASCII."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def text_of(manifest: Union[Mapping, str]) -> str:
    """The manifest's canonical text (how a timesheet carries it); a text is its own."""
    if isinstance(manifest, str):
        return manifest
    return manifest.text if isinstance(manifest, Manifest) and manifest.text else canonical(manifest)


def digest_of(manifest: Union[Mapping, str]) -> str:
    """The manifest's digest; of a text as build() made it too ("" when it has none)."""
    if isinstance(manifest, str):
        return manifest[len(_OPENING):len(_OPENING) + 64] if manifest.startswith(_OPENING) else ""
    return str(manifest.get(DIGEST_KEY) or "")


def _repos(sheet: Timesheet, source: Source) -> List[dict]:
    """Each repository read: its tips and .mailmap digest; with several repositories, each
    billed by its own configuration (core/timesheet.merged), its own rules too."""
    repos: List[dict] = [{"tips": list(tips), "mailmap": mailmap} for tips, mailmap in zip(source.tips, source.mailmaps)]
    if len(sheet.repositories) > 1:
        for repo, selection in zip(repos, sheet.repositories.values()):
            repo["rules"] = rules_of(selection, source)
    return repos


def repository_selections(manifest: Mapping) -> List[Selection]:
    """Each repository's own Selection, when the bill read several with their own rules
    (an empty list when one set of rules billed them all)."""
    repos = manifest.get("repos")
    if not isinstance(repos, list) or not all(isinstance(r, Mapping) and "rules" in r for r in repos):
        return []
    return [selection_of({"rules": repo["rules"], "period": manifest.get("period")}) for repo in repos]


def digest(manifest: Mapping) -> str:
    """sha256 of the manifest's canonical JSON (sorted keys, no whitespace, ASCII), its digest left out."""
    body = {key: value for key, value in manifest.items() if key != DIGEST_KEY}
    return hashlib.sha256(canonical(body).encode("ascii")).hexdigest()


def short(full_digest: str) -> str:
    """The timesheet's number as people read it: the digest's first 12 characters."""
    return full_digest[:12]


def rules_of(selection: Selection, source: Source) -> dict:
    rates = selection.rates
    rounding = selection.rounding
    return {
        "identity": selection.identity,
        "rates": {"default": _rate(rates.default),
                  "by_identity": {key: _rate(rate) for key, rate in sorted(rates.by_identity.items())}},
        "rounding": None if rounding is None else {"seconds": rounding.seconds, "mode": rounding.mode},
        "max_session": None if selection.max_session is None else int(selection.max_session.total_seconds()),
        "allow_long": list(selection.allow_long),
        "ignore": list(selection.ignore),
        "exclude": list(selection.exclude),
        "authors": list(source.authors),
        "all_refs": source.all_refs,
    }


def _rate(rate: Optional[Rate]) -> Optional[dict]:
    return None if rate is None else {"amount": format(rate.amount, "f"), "currency": rate.currency}


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return None if moment is None else moment.isoformat()


class _Sessions:
    """Each line's session record. A month has a few dozen; a whole history tens of thousands,
    so the texts that repeat (offsets, amounts, email pairs) are made once, and times are formatted from
    the markers' plain numbers rather than through datetime objects."""

    def __init__(self, raw_emails: Mapping[str, str]):
        self.raw_emails = raw_emails
        self.offsets: Dict[int, str] = {}
        self.amounts: Dict[Tuple[Decimal, str], str] = {}
        self.pairs: Dict[Tuple[str, str], List[str]] = {}  # the two emails -> the list of them

    def __call__(self, line) -> dict:
        session = line.session
        clock_in, clock_out = session.clock_in, session.clock_out
        rate = line.rate
        raw = self.raw_emails
        return {
            "in": clock_in.sha,
            "out": clock_out.sha,
            "start": self.iso(clock_in.effective_epoch, clock_in.tz),
            "end": self.iso(clock_out.effective_epoch, clock_out.tz),
            "seconds": session.seconds,
            "billed_seconds": line.seconds,
            "identity": session.identity,
            "emails": self.emails(raw.get(clock_in.sha) or clock_in.email, raw.get(clock_out.sha) or clock_out.email),
            "hours": money.format_hours(line.hours),
            "amount": None if rate is None or line.amount is None else self.amount(line.amount, rate.currency),
            "currency": None if rate is None else rate.currency,
        }

    def iso(self, epoch: int, minutes: int) -> str:
        """``2026-11-03T09:00:00+01:00``: as datetime.isoformat() gives the time in its author date's offset."""
        offset = self.offsets.get(minutes)
        if offset is None:
            sign, whole = ("-", -minutes) if minutes < 0 else ("+", minutes)
            offset = self.offsets[minutes] = f"{sign}{whole // 60:02d}:{whole % 60:02d}"
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch + minutes * 60)) + offset

    def emails(self, first: str, second: str) -> List[str]:
        key = (first, second)
        emails = self.pairs.get(key)
        if emails is None:
            emails = self.pairs[key] = sorted({first.lower(), second.lower()})
        return emails

    def amount(self, amount: Decimal, currency: str) -> str:
        key = (amount, currency)
        text = self.amounts.get(key)
        if text is None:
            text = self.amounts[key] = money.format_amount(amount, currency)
        return text


# ------------------------------------------------------------- reading one back

class ManifestError(ValueError):
    """A manifest that cannot be read: the message names the key."""


def selection_of(manifest: Mapping) -> Selection:
    """The Selection the manifest's rules and period describe (for recomputing it)."""
    rules = _table(manifest, "rules")
    period = _table(manifest, "period")
    since, until = _moment(period, "start"), _moment(period, "end")
    rates = _table(rules, "rates")
    by_identity = _table(rates, "by_identity")
    rounding = rules.get("rounding")
    limit = rules.get("max_session")
    try:
        rounded = None if rounding is None else Rounding(int(rounding["seconds"]), str(rounding["mode"]))
        return Selection(
            tz=since.tzinfo if since is not None and since.tzinfo is not None else timezone.utc,
            since=since, until=until,
            ignore=_words(rules, "ignore"), exclude=_words(rules, "exclude"),
            rates=Rates(default=_parse_rate(rates.get("default"), "rules.rates.default"),
                        by_identity={str(k): _parse_rate(v or {}, f"rules.rates.by_identity.{k}")  # type: ignore
                                     for k, v in by_identity.items()}),
            rounding=rounded,
            identity=str(rules.get("identity", "email")),
            max_session=None if limit is None else timedelta(seconds=int(limit)),
            allow_long=_words(rules, "allow_long"),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ManifestError):
            raise
        raise ManifestError(f"rules: {error}") from None


def tips_of(manifest: Mapping) -> List[Tuple[str, ...]]:
    repos = manifest.get("repos")
    if not isinstance(repos, list) or not repos:
        raise ManifestError("repos: expected a list of the repositories read")
    return [tuple(str(sha) for sha in _list(repo, "tips")) for repo in repos]


def _table(data: Mapping, key: str) -> Mapping:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, Mapping):
        raise ManifestError(f"{key}: expected an object")
    return value


def _list(data: Mapping, key: str) -> list:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, list):
        raise ManifestError(f"{key}: expected a list")
    return value


def _words(rules: Mapping, key: str) -> Tuple[str, ...]:
    return tuple(str(word) for word in _list(rules, key))


def _moment(period: Mapping, key: str) -> Optional[datetime]:
    text = period.get(key)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ManifestError(f"period.{key}: not a time: {text!r}") from None
    if moment.tzinfo is None:
        raise ManifestError(f"period.{key}: a time without its offset: {text!r}")
    return moment


def _parse_rate(value, key: str) -> Optional[Rate]:
    if value is None:
        return None
    try:
        return Rate(Decimal(str(value["amount"])), str(value["currency"]))
    except (KeyError, TypeError, InvalidOperation):
        raise ManifestError(f"{key}: expected {{\"amount\": \"100\", \"currency\": \"USD\"}}") from None


def sessions_of(manifest: Mapping) -> List[Mapping]:
    sessions = _list(manifest, "sessions")
    for index, session in enumerate(sessions):
        if not isinstance(session, Mapping) or not isinstance(session.get("in"), str) \
                or not isinstance(session.get("out"), str):
            raise ManifestError(f"sessions[{index}]: expected an object with its \"in\" and \"out\" commits")
    return sessions


def source_like(manifest: Mapping, raw_emails: Mapping[str, str]) -> Source:
    """The Source the manifest names, with raw emails read again: what build() needs to make
    the manifest the history gives under the same rules."""
    repos = _list(manifest, "repos")
    rules = _table(manifest, "rules")
    return Source(tips=tuple(tips_of(manifest)), mailmaps=tuple(str(r.get("mailmap")) for r in repos),
                  version=str(manifest.get("tool")), authors=_words(rules, "authors"),
                  all_refs=bool(rules.get("all_refs")), raw_emails=raw_emails)


def compact(manifest: Mapping) -> dict:
    """The manifest without its per-session details, each session as [in, out, billed seconds]:
    what an invoice's posData carries (a month of sessions in a few kilobytes)."""
    kept = {key: value for key, value in manifest.items() if key != "sessions"}
    kept["sessions"] = [[s["in"], s["out"], s["billed_seconds"]] for s in manifest["sessions"]]
    return kept


def expanded(data: Mapping) -> dict:
    """A compact manifest's sessions as objects again (with only in, out and billed_seconds)."""
    sessions: Sequence = data.get("sessions") if isinstance(data.get("sessions"), list) else []  # type: ignore
    result = dict(data)
    try:
        result["sessions"] = [{"in": str(s[0]), "out": str(s[1]), "billed_seconds": int(s[2])} for s in sessions]
    except (TypeError, ValueError, IndexError):
        raise ManifestError("sessions: expected [in, out, billed seconds] per session") from None
    return result


def left_out_of(manifest: Mapping) -> Tuple[str, ...]:
    value = manifest.get("left_out", [])
    if not isinstance(value, list):
        raise ManifestError("left_out: expected a list of clock-in commits")
    return tuple(str(sha) for sha in value)
