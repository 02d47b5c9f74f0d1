"""A timesheet's manifest made from a repository, and `hourly verify`, which recomputes it.

The claim is the manifest a timesheet (JSON or HTML) or an invoice's posData
carries. The history is read from the commits the manifest names (not the
clone's HEAD, which may have moved on) under the manifest's rules and period
(not the verifier's configuration), the manifest is built again
(core/manifest.py) and the two compared (core/reconcile.py). Nothing is
guessed: a commit this clone lacks is named with the command that fetches it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Dict, List, Mapping, Optional, Sequence, Set

from hourly_hooks.core import manifest as manifests, records
from hourly_hooks.core.reconcile import DIFFERS, Verdict, compare
from hourly_hooks.core.timesheet import Timesheet, build, merged
from hourly_hooks.errors import UsageError
from hourly_hooks.git import log
from hourly_hooks.git.commits import absent, raw_emails, reachable, source_of
from hourly_hooks.history import Repository
from hourly_hooks.output.manifest_block import manifest_in_html, page_intact


def manifest_for(sheet: Timesheet, repos: Sequence[Repository], all_refs: bool, authors: Sequence[str],
                 left_out: Sequence[str] = ()) -> dict:
    """The manifest of a timesheet read from repos (what report and invoice attach)."""
    from hourly_hooks import __version__

    return manifests.build(sheet, source_of(repos, all_refs, authors, sheet.lines, __version__), left_out)


@dataclass
class Claim:
    """What a timesheet or an invoice says was billed."""

    manifest: dict
    origin: str                 # the file, or "invoice ID"
    altered: List[str] = field(default_factory=list)   # why the document is not as it was made


@dataclass
class Outcome:
    claim: Claim
    verdict: Verdict
    shallow: List[str] = field(default_factory=list)    # repositories that are shallow clones
    tips_missing: List[str] = field(default_factory=list)     # the bill's tips this clone lacks
    # The bill's tips that this clone holds but no branch contains (fetched by SHA, or a history
    # rewritten since): the bill is still recomputed from them, and this is said.
    tips_rewritten: List[str] = field(default_factory=list)
    read_from: List[str] = field(default_factory=list)        # what was read instead of them
    notes: List[str] = field(default_factory=list)


def read_file(path: str) -> Claim:
    """The claim of a timesheet file, HTML or JSON; UsageError naming the file otherwise."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read the timesheet ({getattr(error, 'strerror', None) or error})") from None
    document = _json(text) if text.lstrip().startswith("{") else None
    intact = None
    if document is not None:
        data = document.get("manifest") if isinstance(document, dict) else None
    else:
        try:
            data, intact = manifest_in_html(text), page_intact(text)
        except ValueError as error:
            raise UsageError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: no manifest in this timesheet",
                         hint="`hourly report --format json` and `--format html` make timesheets that carry one.")
    claim = Claim(data, path)
    _check_digest(claim)
    if isinstance(document, dict):
        claim.altered += _shown_against_manifest(document, data)
    if intact is False:
        claim.altered.append("the page's text is not the one it was made with (its seal does not match): "
                             "a figure shown may not be the one billed")
    return claim


def from_invoice(invoice) -> Claim:
    """The claim an invoice (btcpay.Invoice) carries: the compact manifest of its posData; the
    amount the invoice asks must be its timesheet's total."""
    origin = f"invoice {invoice.id}"
    if invoice.timesheet is None:
        raise UsageError(f"{origin} carries no timesheet manifest",
                         hint="Invoices made before `hourly verify` existed carry none: verify their "
                              "timesheet file instead (hourly verify FILE).")
    try:
        claim = Claim(manifests.expanded(invoice.timesheet), origin)
    except manifests.ManifestError as error:
        raise UsageError(f"{origin}: posData: {error}") from None
    total = claim.manifest.get("total")
    amounts = total.get("amounts") if isinstance(total, Mapping) else None
    billed = amounts.get(invoice.currency) if isinstance(amounts, Mapping) else None
    if invoice.amount is None or billed is None or Decimal(str(billed)) != invoice.amount:
        claim.altered.append(f"the invoice asks {invoice.amount} {invoice.currency}, but the timesheet it "
                             f"carries bills {billed} {invoice.currency}")
    return claim


def _json(text: str) -> Optional[dict]:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _check_digest(claim: Claim) -> None:
    written = claim.manifest.get(manifests.DIGEST_KEY)
    actual = manifests.digest(claim.manifest)
    if written != actual:
        claim.altered.append(f"the manifest's digest is {written}, but its content gives {actual}: "
                             "the timesheet was changed after it was made")


def _shown_against_manifest(document: Mapping, data: Mapping) -> List[str]:
    """Where a JSON timesheet's sessions and total disagree with its manifest (edited beside it)."""
    problems = []
    by_sha = {s.get("in"): s for s in data.get("sessions", ()) if isinstance(s, Mapping)}
    for row in document.get("sessions") or ():
        mine = by_sha.get(row.get("in_commit")) if isinstance(row, Mapping) else None
        if mine is None:
            problems.append(f"session {str(row.get('in_commit'))[:10]} is shown but not in the manifest")
            continue
        # Not hours and amount: with --by, a row shows its group's share, which may differ by a cent.
        for key in ("start", "end", "seconds", "billed_seconds"):
            if key in row and _same_moment(key, row[key], mine.get(key)) is False:
                problems.append(f"session {mine['in'][:10]}: {key} shown {row[key]}, the manifest says {mine.get(key)}")
    total, claimed = document.get("total"), data.get("total")
    if isinstance(total, Mapping) and isinstance(claimed, Mapping):
        if total.get("hours") != claimed.get("hours") or (total.get("amounts") or {}) != claimed.get("amounts"):
            problems.append(f"the total shown ({total.get('hours')} h, {total.get('amounts')}) is not the "
                            f"manifest's ({claimed.get('hours')} h, {claimed.get('amounts')})")
    return problems


def _same_moment(key: str, shown, kept) -> bool:
    if key in ("start", "end"):
        from datetime import datetime
        try:
            return datetime.fromisoformat(str(shown)) == datetime.fromisoformat(str(kept))
        except ValueError:
            return False
    return shown == kept


def verify(claim: Claim, repos: Sequence[Repository]) -> Outcome:
    """Recompute the claim's timesheet from repos (one per repository the manifest read)."""
    data = claim.manifest
    try:
        tips = manifests.tips_of(data)
        selection = manifests.selection_of(data)
        sessions = manifests.sessions_of(data)
        left_out = manifests.left_out_of(data)
    except manifests.ManifestError as error:
        raise UsageError(f"{claim.origin}: manifest: {error}") from None
    if len(tips) != len(repos):
        raise UsageError(f"{claim.origin} was made from {len(tips)} repositories: "
                         f"give each with --repo, in the same order ({len(repos)} given)")
    outcome = Outcome(claim, Verdict())
    named = [sha for s in sessions for sha in (s["in"], s["out"])]
    lacking = _locate(outcome, repos, tips, named)
    read_from = [list(heads) for heads in tips]
    if outcome.tips_missing:
        # The bill's commits are not in this clone: recompute from its history, and say what differs.
        all_refs = bool(_rules(data).get("all_refs"))
        read_from = [repo.tips(all_refs) for repo in repos]
        outcome.read_from = [sha for shas in read_from for sha in shas]
    again = _recomputed(data, repos, read_from, selection, left_out)
    outcome.verdict = compare(data, again, lacking)
    if outcome.tips_rewritten and not outcome.tips_missing and outcome.verdict.reproduced:
        _against_the_branches(outcome, data, repos, selection, left_out, lacking)
    return outcome


def _against_the_branches(outcome: Outcome, data: Mapping, repos: Sequence[Repository], selection,
                          left_out: Sequence[str], lacking: Set[str]) -> None:
    """The bill's commits are here but on no branch: fetched by SHA (a branch this clone does
    not track), or the history was rewritten after billing. Rewritten when the branches hold a
    billed session (its clock-in commit) with other figures: then what they give is the
    verdict, and the note says why. Sessions the branches merely lack are the first case."""
    all_refs = bool(_rules(data).get("all_refs"))
    now = [repo.tips(all_refs) for repo in repos]
    current = compare(data, _recomputed(data, repos, now, selection, left_out), lacking)
    if not any(finding.status == DIFFERS for finding in current.findings):
        return
    outcome.verdict = current
    outcome.read_from = [sha for shas in now for sha in shas]
    outcome.notes.append("the bill is reproduced from its own commits, but this clone's branches give "
                         "another bill (below): the history was rewritten after it was billed")


def _locate(outcome: Outcome, repos: Sequence[Repository], tips, named: List[str]) -> Set[str]:
    """Note the shallow clones and the bill's tips missing or on no branch; return the
    commits of the bill's sessions that no repository has."""
    lacking = set(named)
    mailmaps = [str(r.get("mailmap")) if isinstance(r, Mapping) else "" for r in outcome.claim.manifest["repos"]]
    for repo, heads, mailmap in zip(repos, tips, mailmaps):
        if repo.shallow:
            outcome.shallow.append(str(repo.top_dir))
        gone = absent(repo.top, heads)
        outcome.tips_missing += sorted(gone)
        outcome.tips_rewritten += [sha for sha in heads if sha not in gone and not reachable(repo.top, sha)]
        if repo.mailmap_digest() != mailmap:
            outcome.notes.append(f"this clone's .mailmap ({repo.mailmap_digest()[:12]}) is not the bill's "
                                 f"({mailmap[:12]}): identities may differ")
        lacking &= absent(repo.top, named)
    return lacking


def _recomputed(data: Mapping, repos: Sequence[Repository], read_from: List[List[str]], selection,
                left_out: Sequence[str]) -> dict:
    """The manifest the history gives from read_from under the bill's rules, period and source."""
    authors = manifests.source_like(data, {}).authors
    per_repo = [_markers(repo, heads, authors) if heads else [] for repo, heads in zip(repos, read_from)]
    own = manifests.repository_selections(data)
    if own and len(own) == len(repos):  # each repository billed by its own rules, as the report did
        sheet = merged(selection, [(repo.name, build(mine, commits))
                                   for repo, mine, commits in zip(repos, own, per_repo)])
    else:
        sheet = build(selection, [commit for commits in per_repo for commit in commits])
    if left_out:
        skip = set(left_out)
        sheet = Timesheet(selection, lines=[line for line in sheet.lines if line.session.clock_in.sha not in skip])
    raw: Dict[str, str] = {}
    if any(r.get("mailmap") != "none" for r in data.get("repos", ()) if isinstance(r, Mapping)):
        raw = raw_emails(repos, {c.sha for line in sheet.lines for c in (line.session.clock_in,
                                                                         line.session.clock_out) if c})
    return manifests.build(sheet, manifests.source_like(data, raw), left_out)


def _rules(data: Mapping) -> Mapping:
    rules = data.get("rules")
    return rules if isinstance(rules, Mapping) else {}


def _markers(repo: Repository, tips: List[str], authors: Sequence[str]) -> list:
    """The marker commits reachable from tips, in pairing order (as history.read without the store:
    the store remembers what HEAD reaches, and these tips need not be HEAD)."""
    rows = list(log.stream_rows(repo.top_dir, tips, tuple(authors)))
    ancestry = log.ask_ancestry(repo.top_dir, records.tie_pairs(rows))
    rows.reverse()
    commits = records.records(rows, repo.name)
    records.apply_ranks(commits, ancestry)
    commits.sort(key=attrgetter("key", "sha"))
    return commits
