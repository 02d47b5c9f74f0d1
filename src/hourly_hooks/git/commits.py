"""Questions about named commits: which a clone lacks, and who recorded them (before .mailmap).

Asked with the SHAs on git's stdin, so one git process answers for any number
of commits (a month's manifest names a few dozen, a whole history thousands).
"""

from __future__ import annotations

from typing import Dict, Iterable, Set, Tuple

from hourly_hooks.git.run import run_git


def absent(cwd, shas: Iterable[str]) -> Set[str]:
    """The commits among shas this repository does not have (a shallow or partial clone, a rewrite)."""
    wanted = sorted(set(shas))
    if not wanted:
        return set()
    code, out, _ = run_git(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd,
                           input="".join(f"{sha}\n" for sha in wanted).encode("ascii", "replace"))
    have = set()
    for row in out.decode("ascii", "replace").splitlines():
        parts = row.split()
        if len(parts) == 2 and parts[1] == "commit":
            have.add(parts[0])
    return {sha for sha in wanted if sha not in have}


def raw_authors(repos, shas: Iterable[str]) -> Dict[str, Tuple[str, str]]:
    """sha -> (name, email folded to lower case) as git recorded them (%an/%ae: no .mailmap), asked of
    each repository (history.Repository) for what the ones before it lack; commits none has are left out."""
    shas = set(shas)
    found: Dict[str, Tuple[str, str]] = {}
    for repo in repos:
        wanted = sorted(shas - set(found))
        if not wanted:
            break
        code, out, _ = run_git(["log", "--no-walk=unsorted", "--ignore-missing", "--no-use-mailmap", "--stdin",
                                "--format=%H%x00%an%x00%ae"], repo.top,
                               input="".join(f"{sha}\n" for sha in wanted).encode("ascii", "replace"))
        for row in out.decode("utf-8", "replace").splitlines() if code == 0 else ():
            parts = row.split("\0")
            if len(parts) == 3:
                found[parts[0]] = (parts[1], parts[2].lower())
    return found


def raw_emails(repos, shas: Iterable[str]) -> Dict[str, str]:
    """sha -> the author email as git recorded it, folded (raw_authors); an empty one is left out."""
    return {sha: email for sha, (_, email) in raw_authors(repos, shas).items() if email}


def source_of(repos, all_refs: bool, authors, lines, version: str):
    """The manifest's Source of a timesheet read from repos (history.Repository): the
    commits each walk started from, each .mailmap digest, and the raw emails of the
    marker commits of lines (read only when a .mailmap may have changed them)."""
    from hourly_hooks.core.manifest import Source

    mailmaps = tuple(repo.mailmap_digest() for repo in repos)
    raw: Dict[str, str] = {}
    if any(digest != "none" for digest in mailmaps):
        raw = raw_emails(repos, {c.sha for line in lines for c in (line.session.clock_in, line.session.clock_out) if c})
    return Source(tips=tuple(tuple(repo.tips(all_refs)) for repo in repos), mailmaps=mailmaps, version=version,
                  authors=tuple(authors), all_refs=all_refs, raw_emails=raw)


def reachable(cwd, sha: str) -> bool:
    """Whether a branch, tag, remote-tracking branch or HEAD of this repository contains sha:
    a commit only the object store still holds (a rewritten history) is not."""
    code, out, _ = run_git(["for-each-ref", "--count=1", "--format=%(refname)", f"--contains={sha}",
                            "refs/heads", "refs/remotes", "refs/tags"], cwd)
    return bool(code == 0 and out.strip()) or run_git(["merge-base", "--is-ancestor", sha, "HEAD"], cwd)[0] == 0
