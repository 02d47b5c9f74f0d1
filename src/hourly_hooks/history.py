"""The questions asked of history: the report's markers, a person's last marker, the hook's prefetch.

Repositories in, records.MarkerCommit out, through the marker store when it
can answer (store.py, SQLite) and from git's log otherwise (git/log.py), with
the same answer either way. A question first brings its *scope* (HEAD of one
work tree, or ``--all``; with the ``--author`` patterns) up to date. For new
tips H and stored tips T, whatever they are::

    reach(H) = reach(T) - (T ^H) + (H ^T)

so ``git log H --not T`` adds and ``git log T --not H`` removes (both short
after a commit, an amend, a rebase of recent work or a branch switch), and an
answer never contains a marker H cannot reach. A scope seen for the first
time starts from another scope with the same patterns (``--all`` from HEAD),
else from one full read. If git cannot answer a difference (a stored tip was
garbage-collected), the scope is read again in full.

**Ties.** Markers with the same author second are ordered by ancestry: each
gets as ``rank`` the number of same-second markers that are its ancestors
(``git merge-base --is-ancestor``, asked only for such ties and remembered in
the store), so pairing never depends on SHAs or committer dates.

The commit-msg hook imports this module (last_marker, Prefetch): nothing here
imports re or typing at run time.
"""

from __future__ import annotations

import math
import os
from operator import attrgetter

from hourly_hooks import store
from hourly_hooks.core import markers
from hourly_hooks.core.records import MarkerCommit, apply_ranks, records, tie_pairs, tied, to_commit
from hourly_hooks.errors import GitError, UsageError
from hourly_hooks.git import log
from hourly_hooks.git.repository import Repository, common_dir_of, git_dir_of, open_repository
from hourly_hooks.git.run import finish, git_message, run_git

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (and re, on the hook's path)
if TYPE_CHECKING:
    from typing import Iterable, Iterator, Optional, Sequence

__all__ = ["GREP_PATTERNS", "MarkerCommit", "Prefetch", "Repository", "author_pattern", "has_commits",
           "last_marker", "marker_before", "open_repository", "read", "read_all", "read_markers",
           "refuse_shallow", "shallow_warning"]

GREP_PATTERNS = markers.GREP
# A full read keeps up to this many rows at hand for the same run (reading them
# back costs about what parsing them did); beyond, they are stored and let go as
# they come, and read back after git has exited: what Python holds beside git
# stays bounded whatever the history.
FRESH_MAX = 200_000
# Seconds back from the last marker before --since, tried in turn for a cut (sessions.cut).
LOOKBACK = (3 * 86400, 14 * 86400, 60 * 86400, 400 * 86400)
# Seconds on from --until, read in turn to find the cut after it (sessions.cut_after).
LOOKAHEAD = (2 * 86400, 35 * 86400)


def has_commits(repo: Repository) -> bool:
    return run_git(["rev-parse", "-q", "--verify", "HEAD"], repo.top_dir)[0] == 0


def author_pattern(email: str) -> str:
    """A ``git log --author`` pattern matching exactly this email.

    --author takes an extended, case-insensitive regex on "Name <email>": the
    email is escaped and anchored on <...>, so bob@x.com does not also match
    jimbob@x.com.
    """
    import re  # (not at the top: the hook imports this module)
    return "<" + re.sub(r"([.\[\]{}()*+?^$|\\])", r"\\\1", email) + ">"


def check_author_patterns(repo: Repository, patterns: Sequence[str]) -> None:
    """UsageError, in our words, for a --author pattern git cannot compile.

    git compiles the patterns before it walks, so ``-n0`` asks it to do only
    that: the answer costs no walk, and git's regex dialect (POSIX ERE) decides.
    """
    if not patterns:
        return
    code, _, err = run_git(["log", "-n0", "-i", "-E", *[f"--author={p}" for p in patterns],
                            "HEAD", "--"], repo.top)
    if code and has_commits(repo):
        shown = " ".join(repr(p) for p in patterns)
        reason = git_message(err).split(": ", 1)[-1]
        raise UsageError(f"--author {shown}: not a valid regular expression ({reason})",
                         hint="--author takes a case-insensitive extended regex on 'Name <email>'; "
                              "escape ( [ . * + ? with a backslash to match them literally.")


def read_markers(repo: Repository, all_refs: bool = False, authors: Iterable[str] = (),
                 since=None, exclude: Sequence[str] = (), progress=None, until=None) -> Iterator[MarkerCommit]:
    """The commits of repo that carry a clock marker, in pairing order.

    since and until (aware datetimes) let the store leave out markers that
    cannot change anything from since to until (see sessions.cut and
    cut_after); exclude: SHA prefixes the timesheet will drop (they matter for
    that decision). progress: called with the count of markers read so far
    during a long read from git.
    """
    if repo.head is None and (not all_refs or not repo.tips(True)):
        _refuse_empty(repo)
    return iter(read(repo, all_refs, tuple(authors), since, exclude, progress, until))


def read_all(repos: Iterable[Repository], all_refs: bool = False, authors: Iterable[str] = (),
             since=None, exclude: Sequence[str] = (), progress=None, until=None) -> Iterator[MarkerCommit]:
    """The marker commits of several repositories, one after the other."""
    authors = tuple(authors)
    repos = tuple(repos)
    if len(repos) > 1:
        since = until = None  # one person's markers interleave across repositories: no per-repository cut
    for repo in repos:
        yield from read_markers(repo, all_refs, authors, since, exclude, progress, until)


def marker_before(repo: Repository, identity: str, commit: MarkerCommit) -> Optional[MarkerCommit]:
    """The identity's marker before `commit` (its last over what commit's parents reach), or None:
    what clockrules.check asks when a new event falls at the very time of `commit`."""
    return last_marker(repo, identity, heads=repo.parents(commit.sha))


def shallow_warning(repo: Repository) -> Optional[str]:
    """What to tell the user when the history is cut (a shallow clone), else None."""
    if not repo.shallow:
        return None
    return (f"{repo.top_dir} is a shallow clone: the history is cut, so earlier markers are missing and "
            "sessions may be under-billed. Fetch the whole history with: git fetch --unshallow")


def refuse_shallow(repo: Repository) -> None:
    """GitError for commands that must not bill from a cut history (invoice)."""
    if repo.shallow:
        raise GitError(f"{repo.top_dir} is a shallow clone: the history is cut, so sessions would be missing",
                       hint="Fetch the whole history first: git fetch --unshallow")


def _refuse_empty(repo: Repository) -> None:
    raise GitError(f"{repo.top_dir} has no commits yet", hint="Clock in first: hourly in")


# --------------------------------------------------------------------------- questions

def last_marker(repo, identity: str, heads=None, prefetched=None):
    """The identity's last marker over what heads reach (default: HEAD), or None.

    Last in the pairing order (records.MarkerCommit.key), so the hook, ``hourly
    in/out`` and ``hourly status`` agree with the report. `prefetched`: a
    Prefetch for HEAD (used only when it answers this very question).
    """
    try:
        return _last_marker(repo, identity, heads, prefetched)
    finally:
        if prefetched is not None:
            prefetched.discard()


def _last_marker(repo, identity: str, heads, prefetched):
    heads = [repo.head] if heads is None else list(heads)
    heads = [h for h in heads if h]
    if not heads:
        return None  # empty repository, or amending a root commit
    if heads != [repo.head]:
        prefetched = None
    identity = identity.lower()

    def work(opened):
        if opened is None:
            rows = [r for r in log.stream_rows(repo.top_dir, heads) if r[2].lower() == identity]
            top = max((r[3] for r in rows), default=None)
            rows = [r for r in rows if r[3] == top]
        else:
            name = _scope_name(repo, False, ())
            rows = _ahead(opened, repo.top_dir, name, heads, identity, prefetched)
            if rows is None:
                # (HEAD's parents: asked of git only now, when the hook's probe read the files)
                parents = repo.head_parents if heads == [repo.head] else ()
                scope, _ = sync(opened, repo.top_dir, name, heads, head_parents=parents)
                rows = opened.latest(scope, identity)
        ancestry = _ancestry(opened, repo.top_dir, tie_pairs(rows)) if len(rows) > 1 else {}
        commits = [to_commit(r, repo.name) for r in rows]
        apply_ranks(commits, ancestry)
        return max(commits, key=lambda c: (c.key, c.sha), default=None)

    return _with_store(repo, work, prefetched)


def read(repo, all_refs: bool = False, authors=(), since=None, exclude=(), progress=None, until=None) -> list:
    """The marker commits reachable from HEAD (or every ref), in pairing order.

    With `since` (an aware datetime), markers far enough before it may be left
    out: only where pairing provably gives the same sessions and anomalies from
    `since` on (see sessions.cut); with `until` too, markers far enough after it,
    where pairing provably gives the same up to `until` (sessions.cut_after).
    `exclude`: SHA prefixes the timesheet drops. progress: called with the count
    of markers read so far, during a read from git.
    """
    authors = tuple(authors)
    tips = repo.tips(all_refs)
    if not tips:
        return []
    since_epoch = None if since is None else int(since.timestamp())
    until_epoch = None if until is None else math.ceil(until.timestamp())  # a whole second at or after it

    def work(opened):
        messages = None
        if opened is None:
            rows = list(log.stream_rows(repo.top_dir, tips, authors, progress))
            ancestry = log.ask_ancestry(repo.top_dir, tie_pairs(rows))
        else:
            parents = repo.head_parents if not all_refs else ()
            scope, fresh = sync(opened, repo.top_dir, _scope_name(repo, all_refs, authors), tips, authors,
                                progress=progress, head_parents=parents)
            rows = _window(opened, scope, fresh, since_epoch, exclude, until_epoch)
            ancestry = _ancestry(opened, repo.top_dir, tie_pairs(tied(rows)))
            messages = Messages(repo)
        rows.reverse()
        commits = records(_popped(rows), repo.name, messages)  # each row freed as its record is made
        apply_ranks(commits, ancestry)
        commits.sort(key=attrgetter("key", "sha"))  # the SHA only orders copies of one event
        return commits

    return _with_store(repo, work)


def _scope_name(repo, all_refs: bool, authors) -> str:
    return ("all" if all_refs else f"HEAD {repo.top_dir}") + "".join(f"\0{a}" for a in authors)


def _with_store(repo, work, prefetched=None):
    """work(store) with the store, or work(None) if there is none or it fails."""
    try:
        with store.connect(repo, prefetched) as opened:
            return work(opened)
    except store.Unavailable:
        return work(None)


def _ancestry(opened, cwd, pairs) -> dict:
    """Ancestry answers for tie pairs: remembered ones from the store (if any), the rest from git."""
    if opened is None:
        return log.ask_ancestry(cwd, pairs)
    known, missing = opened.ancestry(pairs)
    if missing:
        fresh = log.ask_ancestry(cwd, missing)
        known.update(fresh)
        opened.remember(fresh)
    return known


def _popped(rows):
    """rows from last to first, each let go of as it is taken."""
    while rows:
        yield rows.pop()


def _window(opened, scope: int, fresh, since, exclude, until=None) -> list:
    """The scope's rows by author date: all, or those from a cut before `since` on (see sessions.cut),
    and with `until`, before a cut after it when one is found (sessions.cut_after)."""
    from hourly_hooks.core.sessions import cut, cut_after  # (not at the top: sessions imports dataclasses and re; the hook imports this)
    if fresh is not None:  # just read in full: the rows are at hand
        rows = fresh
        rows.sort(key=lambda r: r[3])
        second = None if since is None else cut(rows, since, exclude)
        return rows if second is None else [row for row in rows if row[3] >= second]
    if since is None:
        return opened.rows(scope)
    # Looked for back from the last marker before `since`: a history idle since long before
    # the window (a repository picked up again) has its cut near its end, not at its start.
    last = opened.last_second(scope, since)
    base = since if last is None else last
    if until is not None:
        for ahead in LOOKAHEAD:
            end = until + ahead
            rows = _from_cut(opened, scope, base, since, exclude, end)  # see sessions.cut_after
            if rows is None:
                break
            upper = cut_after(rows, until, opened.lowest_effective(end), exclude)
            if upper is not None:
                return [row for row in rows if row[3] < upper]
    rows = _from_cut(opened, scope, base, since, exclude)
    return opened.rows(scope) if rows is None else rows


def _from_cut(opened, scope: int, base: int, since: int, exclude, before=None):
    """The scope's rows (before epoch `before`, if given) from a cut before `since` on, the cut
    looked for back from `base` (LOOKBACK); None if there is none."""
    from hourly_hooks.core.sessions import cut
    for lookback in LOOKBACK:
        rows = opened.rows(scope, base - lookback, before=before)
        second = cut(rows, since, exclude)
        if second is not None:
            return [row for row in rows if row[3] >= second]
    return None


# --------------------------------------------------------------------------- bringing a scope up to date

def sync(opened, cwd, name: str, tips: list, authors=(), progress=None, head_parents=()) -> tuple:
    """Bring scope `name` to `tips`: (its id, the rows if just read in full or None), with a
    read transaction open on that state.

    The read transaction (WAL: a snapshot) keeps the answer to the tips asked
    even if another process moves the scope meanwhile (a commit during a report).
    """
    tips_text = " ".join(tips)
    for _ in range(3):
        scope, fresh = _sync(opened, cwd, name, tips, authors, progress, head_parents)
        opened.begin()
        if opened.tips_of(scope) == tips_text:
            return scope, fresh
        opened.end()
    raise opened.sqlite3.OperationalError("the store is busy: another process keeps moving this scope")


def _ahead(opened, cwd, name: str, tips: list, identity: str, prefetched=None):
    """The identity's rows at its latest second over reach(tips), read without writing, or None.

    Only when the scope's stored tips T are below tips (new commits since,
    the hook's usual case): then reach(tips) = reach(T) + (tips ^T), so the
    stored answer and the few new markers give it, and the commit stays
    free of a write (and its fsync). None asks for a sync instead: after a
    rebase or reset, or once many new markers are worth keeping.
    """
    opened.begin()
    row = opened.scope(name)
    if row is None or not row[1]:
        opened.end()
        return None
    old = row[1].split()
    added: list = []
    if old != tips:
        job = prefetched.take(opened.path, name, row[1]) if prefetched is not None else None
        try:
            if job is not None:  # started before the repository probe (see Prefetch)
                added, removed = log.finish_sides(job)
            elif len(old) == 1 and len(tips) == 1:
                added, removed = log.finish_sides(log.start_sides(cwd, tips[0], old[0]))
            else:
                added_job = log.start_rows(cwd, [*tips, *(f"^{tip}" for tip in old)])
                removed_job = log.start_rows(cwd, [*old, *(f"^{tip}" for tip in tips)])
                added, removed = log.finish_rows(added_job), log.finish_rows(removed_job)
        except GitError:
            removed = [None]
        if removed or len(added) > 50:
            opened.end()
            return None
    rows = opened.latest(row[0], identity) + [r for r in added if r[2].lower() == identity]
    top = max((r[3] for r in rows), default=None)
    return [r for r in rows if r[3] == top]


def _sync(opened, cwd, name: str, tips: list, authors, progress, head_parents) -> tuple:
    """Bring scope `name` to `tips`: (its id, fresh rows or None). Holds the write lock while git answers."""
    tips_text = " ".join(tips)
    authors_text = "\0".join(authors)
    row = opened.scope(name)
    if row is not None and row[1] == tips_text:
        return row[0], None
    fresh = None
    with opened.writing():
        row = opened.scope(name)
        if row is not None and row[1] == tips_text:
            return row[0], None
        if row is None:
            scope, base = opened.add_scope(name, authors_text)
        else:
            scope, base = row[0], (row if row[1] is not None else None)
        if not _step(opened, cwd, scope, base, tips, authors, head_parents):
            fresh = _full(opened, cwd, scope, tips, authors, progress)
        opened.set_tips(scope, tips_text)
    return scope, fresh


def _step(opened, cwd, scope: int, base, tips: list, authors, head_parents) -> bool:
    """reach(tips) from the base scope's set and two short differences; False if git cannot."""
    if base is None or not base[1] or not tips:
        return False
    old = base[1].split()
    added_job = log.start_rows(cwd, [*tips, *(f"^{tip}" for tip in old)], authors)
    # When the old tips are the new tip's parents (a commit on top), nothing is removed.
    removed_job = None if set(old) <= set(head_parents) and len(tips) == 1 else \
        log.start_rows(cwd, [*old, *(f"^{tip}" for tip in tips)], authors)
    try:
        added = log.finish_rows(added_job)
    except GitError:
        added = None
    try:
        removed = log.finish_rows(removed_job) if removed_job is not None else []
    except GitError:
        removed = None  # a stored tip is gone (gc): only a full read can tell
    if added is None or removed is None:
        return False
    if base[0] != scope:
        opened.copy_members(scope, base[0])
    opened.remove(scope, removed)
    opened.insert(scope, added)
    return True


def _full(opened, cwd, scope: int, tips: list, authors, progress):
    """Read the scope in full from git into the store; its rows, unless too many to keep at hand (None)."""
    empty = opened.empty_scope(scope)
    fresh: list | None = []  # the scope's rows, while few, so this run need not read them back
    if not tips:
        return fresh
    store_rows = opened.append if empty else (lambda rows: opened.insert(scope, rows))
    batch: list = []
    for row in log.stream_rows(cwd, tips, authors, progress):
        batch.append(row)
        if len(batch) >= 2000:
            store_rows(batch)
            fresh = _keep(fresh, batch)
            batch = []
    store_rows(batch)
    fresh = _keep(fresh, batch)
    if empty:
        # every row of the table is the scope's: read back in table order (sorted later) if let go
        read_back = opened.filled(scope, fresh is None)
        return fresh if read_back is None else read_back
    return fresh


def _keep(fresh, batch):
    """fresh with batch added, or None once it holds more than FRESH_MAX rows.

    A large history's rows are let go as they are stored and read back once
    git has exited, so they never sit in memory beside git's.
    """
    if fresh is not None:
        fresh += batch
        if len(fresh) > FRESH_MAX:
            fresh = None
    return fresh


# --------------------------------------------------------------------------- the hook's prefetch

class Prefetch:
    """The hook's ``git log`` of two differences, started before the repository probe.

    The hook's usual question is "HEAD's markers, given the scope's stored tip
    T": the markers of ``HEAD ^T`` and of ``T ^HEAD``, both from one ``git log
    --left-right HEAD...T``. It depends only on T, which the store file holds,
    so it can run side by side with the probe's ``rev-parse`` and ``config``
    instead of after them. Where the store is
    found by looking for ``.git`` from the current directory (git runs hooks
    at the top of the work tree); the answer is used only if the probe then
    names the same store file and scope, and the scope still holds the same
    tips. ``HEAD`` cannot move meanwhile: ``git commit`` holds the index lock
    while the hook runs, so no other commit can be made in this work tree.
    """

    def __init__(self, path: str, name: str, tips_text: str, job, db):
        self.path, self.name, self.tips_text, self.job, self.db = path, name, tips_text, job, db
        self.taken = False  # whether an answer used it

    @classmethod
    def start(cls, top=None, common=None):
        """Started differences for the work tree at top (default: the current directory), or None.

        common: its common git dir when known (else guessed from top's ``.git``).
        """
        if not store.enabled():
            return None
        try:
            top = top or os.getcwd()
            if common is None:
                git_dir = git_dir_of(top)
                if git_dir is None:
                    return None
                common = common_dir_of(git_dir)
        except Exception:  # the usual path decides
            return None
        name = f"HEAD {top}"
        found = store.scope_tips(os.path.join(common, *store.FILE), name)
        if found is None:
            return None
        db, tips_text = found
        if len(tips_text.split()) != 1:
            db.close()
            return None
        return cls(os.path.join(common, *store.FILE), name, tips_text, log.start_sides(top, "HEAD", tips_text), db)

    def adopt(self, path: str):
        """The open connection, handed over to a Store of the same file (else None)."""
        if path != self.path:
            return None
        db, self.db = self.db, None
        return db

    def take(self, path: str, name: str, tips_text: str):
        """The started start_sides() job if it answers this question, else None (and it is reaped)."""
        if (path, name, tips_text) == (self.path, self.name, self.tips_text) and self.job is not None:
            job, self.job = self.job, None
            self.taken = True
            return job
        self.discard()
        return None

    def discard(self) -> None:
        """Reap the process if nobody took it, and close the connection nobody adopted."""
        job, self.job = self.job, None
        if job is not None:
            finish(job)
        db, self.db = self.db, None
        if db is not None:
            db.close()


# --------------------------------------------------------------------------- messages

class Messages:
    """The messages of records read from the store without them, read back when first asked for.

    A report needs messages only to match --ignore words, and they are the
    longest column of a row: so store.Store.rows leaves them out, and
    the first record asked for its message (records.MarkerCommit.message)
    fills every record given here, from the store file (the message of a SHA
    never changes) and, for any it no longer holds, from git.
    """

    def __init__(self, repo):
        self.repo = repo
        self.commits: list = []

    def fill(self) -> None:
        commits, self.commits = self.commits, []
        wanted = {commit.sha for commit in commits}
        found = store.stored_messages(store.store_path(self.repo), wanted)
        missing = [sha for sha in wanted if sha not in found]
        if missing:
            found.update(log.messages(self.repo.top_dir, missing))
        for commit in commits:
            commit.message = found[commit.sha]


class Roots:
    """The root commits HEAD descends from (the timesheet's origin), asked beside the reading.

    Finding them walks the whole history (0.8 s at a million commits, as long as a
    month's whole report), so the store remembers them with the HEAD they were
    found at: a later HEAD that descends from it walks only the commits since
    (their roots are the new ones), and the same HEAD walks nothing. A HEAD that
    does not descend from it (a rewritten history) walks it all again.
    """

    def __init__(self, repo: Repository):
        from hourly_hooks.git.repository import descends_from, start_roots

        self.repo, self.job = repo, None
        self.known = self._known()
        tip = self.known[0] if self.known else None
        if tip != repo.head:
            since = tip if tip and descends_from(repo, tip) else None
            if since is None:
                self.known = None
            self.job = start_roots(repo, since)

    def _known(self):
        try:
            with store.connect(self.repo) as opened:
                text = opened.fact("roots") if opened is not None else None
        except store.Unavailable:
            return None
        tip, _, shas = (text or "").partition(" ")
        return (tip, shas.split()) if tip else None

    def result(self) -> list:
        """The root commits, oldest first; remembered with this HEAD for the next run."""
        from hourly_hooks.git.repository import roots

        if self.job is None:
            return self.known[1] if self.known else []
        known = self.known[1] if self.known else []
        found = known + [sha for sha in roots(self.job) if sha not in known]
        if found and self.repo.head:
            try:
                with store.connect(self.repo) as opened:
                    if opened is not None:
                        opened.keep_fact("roots", " ".join([self.repo.head, *found]))
            except store.Unavailable:
                pass
        return found
