"""The marker store: every clock marker of a repository, read once from git, kept in SQLite.

One reader and one store answer the hook, ``hourly status``, ``hourly report``
and ``hourly invoice``: "the markers (of this identity, or all) from this time
on, reachable from these tips".

**The reader.** One streamed ``git log -z --use-mailmap -i -E --grep`` with
``markers.GREP``: git filters in C, Python parses only the commits that
mention a clock, as they arrive through a 1 MiB pipe. A large history read in
full is read by two such walks side by side, ``git log tips ^B`` and ``git log
B`` for a commit B half-way down (see split_point): the same commits, each
once, in about half the time on two CPUs.

**The store** (``<git common dir>/hourly/markers.sqlite3``, WAL) keeps one row
per marker commit (every ``markers.Marker`` field as a column, the mailmapped
author, the author date and its UTC offset, the message), indexed by author
date and by identity, so warm reads parse no message. For each *scope* (HEAD
of one work tree, or ``--all``; with the ``--author`` patterns) it keeps the
tips it was last brought up to date at, and the set of marker commits
reachable from them. For new tips H and stored tips T, whatever they are::

    reach(H) = reach(T) - (T ^H) + (H ^T)

so ``git log H --not T`` adds and ``git log T --not H`` removes (both short
after a commit, an amend, a rebase of recent work or a branch switch), and an
answer never contains a marker H cannot reach. A scope seen for the first
time starts from another scope with the same patterns (``--all`` from HEAD),
else from one full read. If git cannot answer a difference (a stored tip was
garbage-collected), the scope is read again in full.

Bypassed (every answer read from git as if there were no store) with
HOURLY_NO_CACHE=1, in shallow clones, with grafts or replace refs (they
change what a tip reaches), and where the store cannot be opened or written
(a read-only git dir). A file that SQLite finds damaged is deleted and
rebuilt. The file records the store format, ``markers.GREP`` and the mailmap
digest; if any differs, the store starts empty.

**Ties.** Markers with the same author second are ordered by ancestry: each
gets as ``rank`` the number of same-second markers that are its ancestors
(``git merge-base --is-ancestor``, asked only for such ties and remembered in
the store), so pairing never depends on SHAs or committer dates.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from operator import attrgetter, itemgetter

from hourly_hooks.core import markers
from hourly_hooks.errors import GitError
from hourly_hooks.git.run import finish, git_message, start_git
from hourly_hooks.private import make_private_dirs, narrow, open_private
from hourly_hooks.core.records import MarkerCommit
from hourly_hooks.git.repository import common_dir_of, git_dir_of

FORMAT_VERSION = "3"
FILE = ("hourly", "markers.sqlite3")
_FORMAT = "%H%x00%ad%x00%aN%x00%aE%x00%B"
_FIELDS = 5
_CHUNK = 1 << 16
_COLUMNS = "sha, name, email, epoch, tz, kind, off, note, form, problem, line, body"
# A full read keeps up to this many rows at hand for the same run (reading them
# back costs about what parsing them did); beyond, they are stored and let go as
# they come, and read back after git has exited: what Python holds beside git
# stays bounded whatever the history.
FRESH_MAX = 200_000
PROGRESS_AFTER = 1.0  # seconds of a full read before progress is shown (on a terminal)
LOOKBACK = (3 * 86400, 14 * 86400, 60 * 86400, 400 * 86400)  # seconds before --since tried for a cut


def enabled() -> bool:
    return not os.environ.get("HOURLY_NO_CACHE")


# --------------------------------------------------------------------------- reading git

def log_args(authors=()) -> list:
    """``git log`` arguments for the marker commits of the revisions given on stdin / after."""
    args = ["-c", "log.showSignature=false", "log", "-z", "-i", "-E", "--date=raw",
            f"--format={_FORMAT}", "--use-mailmap"]
    args += [f"--grep={pattern}" for pattern in markers.GREP]
    args += [f"--author={author}" for author in authors]
    return args


def stream_rows(cwd, revisions, authors=(), progress=None, base=None):
    """Rows (see _COLUMNS) of the marker commits reachable from revisions, streamed from git.

    A large history is read by two walks side by side (see split_point), each
    row once; `base` names the split commit (it must be reachable from
    revisions), else it is chosen, or not, here.
    """
    revisions = list(revisions)
    if base is None:
        base = split_point(cwd, revisions)
    # Negative revisions (^X) bound both walks.
    walks = [revisions] if base is None else \
        [[*revisions, f"^{base}"], [base, *(rev for rev in revisions if rev.startswith("^"))]]
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C")
    processes = []
    try:
        for walk in walks:
            processes.append(_start_walk(cwd, walk, authors, env))
        pipes = [process.stdout for process in processes]
        # select() takes pipes on POSIX only (split_point splits nowhere else):
        # elsewhere the one walk is read through a buffer, a chunk at a time.
        if os.name == "posix":
            records = _merged_records(pipes)
        else:
            import io
            records = split_records(io.BufferedReader(pipes[0], _CHUNK))
        count = 0
        for fields in records:
            row = parse_record(fields)
            if row is not None:
                count += 1
                if progress is not None and not count % 1000:
                    progress(count)
                yield row
    finally:
        errors = []
        for process in processes:
            process.stdout.close()
            stderr = process.stderr.read()
            process.stderr.close()
            if process.wait() != 0:
                errors.append(git_message(stderr) or "git log failed")
        if errors and sys.exc_info()[0] is None:
            raise GitError(errors[0])


# Git maps its pack files in windows of core.packedGitWindowSize, up to
# core.packedGitLimit, and by default never unmaps one: a full walk keeps the
# whole pack resident. A walk reads the pack mostly in order, so small windows
# that are let go cost no CPU and keep git's resident memory to what it holds.
_WINDOWS = ["-c", "core.packedGitWindowSize=4m", "-c", "core.packedGitLimit=16m"]


def _start_walk(cwd, revisions, authors, env):
    import subprocess
    process = subprocess.Popen(["git", *_WINDOWS, *log_args(authors), "--stdin"], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.PIPE, env=env, bufsize=0)
    _widen(process.stdout)
    process.stdin.write("".join(f"{rev}\n" for rev in revisions).encode())
    process.stdin.close()
    return process


# A full read of a history this large (commits) is split in two walks when
# two CPUs are free for them; 0 always splits (the tests use it).
SPLIT_FROM = 10_000


def split_point(cwd, revisions):
    """A commit B reachable from revisions that splits their history in two, or None.

    reach(revisions) = (reach(revisions) - reach(B)) + reach(B) exactly, for
    any such B: ``git log revisions ^B`` and ``git log B`` list every commit
    once between them, and run side by side. Which B only sets the balance:
    the commit half-way down git's date-ordered walk, as git counts them.
    Only with a commit-graph: without one, counting and skipping parse every
    commit as the walk itself does, and the split would save nothing. None
    (one walk) for a small history, one CPU, no commit-graph, or no B.
    """
    if not revisions or os.name != "posix":  # (_merged_records selects on pipes)
        return None
    if SPLIT_FROM > 0 and (_cpus() < 2 or not has_commit_graph(cwd)):
        return None
    out = _rev_list(cwd, ["--count"], revisions)
    commits = int(out) if out.isdigit() else 0
    if commits < max(SPLIT_FROM, 2):
        return None
    return _rev_list(cwd, [f"--skip={commits // 2}", "-1"], revisions) or None


def _rev_list(cwd, options, revisions) -> str:
    """``git rev-list options`` of revisions (on stdin: there may be more refs than a command line takes)."""
    import subprocess
    try:
        done = subprocess.run(["git", "rev-list", *options, "--stdin"], cwd=cwd, capture_output=True,
                              input="".join(f"{rev}\n" for rev in revisions).encode())
    except OSError:
        return ""
    return done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else ""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_GRAPHS = ("info/commit-graph", "info/commit-graphs/commit-graph-chain")


def has_commit_graph(cwd) -> bool:
    """Whether git has a commit-graph for the repository at cwd: in its object directory or
    in an alternate's (a ``git clone --shared`` reads its source's), where git looks.
    Whether the file is there, no more: git reads it."""
    places = start_git(["rev-parse", *(arg for name in _GRAPHS for arg in ("--git-path", f"objects/{name}"))], cwd)
    alternates = start_git(["count-objects", "-v"], cwd)
    code, out, _ = finish(places)
    paths = [os.path.join(str(cwd), line) for line in out.decode("utf-8", "surrogateescape").splitlines()] \
        if code == 0 else []
    code, out, _ = finish(alternates)
    for line in out.decode("utf-8", "surrogateescape").splitlines() if code == 0 else ():
        if line.startswith("alternate: "):
            paths += [os.path.join(line[len("alternate: "):], name) for name in _GRAPHS]
    return any(os.path.isfile(path) for path in paths)


def start_rows(cwd, revisions, authors=()):
    """Start a short ``git log`` (a difference of tips) without waiting; see finish_rows."""
    return start_git([*log_args(authors), *revisions, "--"], cwd)


def start_sides(cwd, new: str, old: str):
    """Start ``git log --left-right new...old``: both differences of two tips in one walk."""
    args = log_args()
    args[args.index(f"--format={_FORMAT}")] = f"--format=%m{_FORMAT}"
    return start_git([*args, "--left-right", f"{new}...{old}", "--"], cwd)


def finish_sides(started) -> tuple:
    """(rows of new ^old, rows of old ^new) of a start_sides() process."""
    code, out, err = finish(started)
    if code:
        raise GitError(git_message(err) or "git log failed")
    added: list = []
    removed: list = []
    fields = out.split(b"\0")
    for index in range(0, len(fields) - _FIELDS + 1, _FIELDS):
        record = fields[index:index + _FIELDS]
        first = record[0].lstrip(b"\n")
        record[0] = first[1:]
        row = parse_record(record)
        if row is not None:
            (added if first[:1] == b"<" else removed).append(row)
    return added, removed


def finish_rows(started) -> list:
    code, out, err = finish(started)
    if code:
        raise GitError(git_message(err) or "git log failed")
    rows = []
    fields = out.split(b"\0")
    for index in range(0, len(fields) - _FIELDS + 1, _FIELDS):
        row = parse_record(fields[index:index + _FIELDS])
        if row is not None:
            rows.append(row)
    return rows


def _widen(pipe) -> None:
    """Give git a 1 MiB pipe (Linux) so it never waits while Python parses a chunk."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # other systems, or a lower pipe-max-size: the default buffer still works


class _Splitter:
    """git's NUL-separated output cut into records of `width` fields, chunk by
    chunk as it arrives (a record, even a field, may span two chunks)."""

    __slots__ = ("width", "fields", "tail")

    def __init__(self, width: int):
        self.width, self.tail = width, b""
        self.fields: list = []

    def feed(self, chunk: bytes) -> list:
        """The records chunk completes."""
        pieces = (self.tail + chunk).split(b"\0")
        self.tail = pieces.pop()
        fields, width = self.fields, self.width
        fields.extend(pieces)
        done = len(fields) - len(fields) % width
        records = [fields[index:index + width] for index in range(0, done, width)]
        del fields[:done]
        return records

    def end(self) -> list:
        """The last record, once the output has ended (it ends without a NUL)."""
        if self.tail:
            self.fields.append(self.tail)
        return [self.fields] if len(self.fields) == self.width else []


def split_records(stream, width: int = _FIELDS):
    """Split git's NUL-separated stream into records of width fields, as it arrives.

    The splitter for one streamed `git log -z` (git/worklog.py reads with it too);
    _merged_records reads several at once with the same _Splitter.
    """
    splitter = _Splitter(width)
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        yield from splitter.feed(chunk)
    yield from splitter.end()


SETTLE = 0.001  # seconds _merged_records waits for more output once it has read all there was


def _merged_records(pipes, width: int = _FIELDS):
    """split_records over several unbuffered pipes at once, records in whatever order they come."""
    import selectors
    selector = selectors.DefaultSelector()
    splitters: dict = {}  # fd -> its _Splitter, while the pipe is open
    for pipe in pipes:
        fd = pipe.fileno()
        selector.register(fd, selectors.EVENT_READ)
        splitters[fd] = _Splitter(width)
    drained = False
    total = 0
    try:
        while splitters:
            if drained and total > _CHUNK:
                # git writes a record or two at a time, slower than they are parsed:
                # once its pipes are drained, a moment's wait lets several records
                # gather, so Python wakes up and splits far less often (its CPU is
                # the walks' CPU too). Not for short outputs (the hook's).
                time.sleep(SETTLE)
            drained = True
            for key, _ in selector.select():
                fd = key.fd
                chunk = os.read(fd, _CHUNK)
                total += len(chunk)
                drained = drained and len(chunk) < _CHUNK
                if chunk:
                    yield from splitters[fd].feed(chunk)
                else:
                    selector.unregister(fd)
                    yield from splitters.pop(fd).end()
    finally:
        selector.close()


# Messages, names, emails and zones repeat: each distinct one is decoded and
# parsed once per run ("clock-in" thousands of times), and the rows share the
# resulting strings. Bounded, so a history of distinct messages costs no more
# than a parse each.
_MESSAGES: dict = {}  # message bytes -> the row's marker columns and body, or _NOT_A_MARKER
_TEXTS: dict = {}  # name or email bytes -> str
_TZS: dict = {}  # "+0100" -> minutes
_SEEN_MAX = 8192  # entries of each
_SEEN_LONGEST = 256  # bytes: longer messages are rarely repeated
_NOT_A_MARKER = ()


def parse_record(fields):
    """One git log record -> a row tuple, or None when the message holds no marker."""
    raw = fields[4]
    parsed = _MESSAGES.get(raw)
    if parsed is None:
        body = raw.decode("utf-8", "replace")
        marker = markers.parse(body)
        # git's grep is broad ("clocking in"); the parser is exact
        parsed = _NOT_A_MARKER if marker is None else (
            marker.kind, int(marker.offset.total_seconds()), marker.note, marker.form, marker.problem, marker.line,
            body.strip())
        if len(raw) <= _SEEN_LONGEST and len(_MESSAGES) < _SEEN_MAX:
            _MESSAGES[raw] = parsed
    if parsed is _NOT_A_MARKER:
        return None
    sha = fields[0].lstrip(b"\n").decode("ascii", "replace")  # -z leaves the separator before the next SHA
    epoch, _, tz = fields[1].partition(b" ")
    texts = _TEXTS
    zone, name, email = _TZS.get(tz), texts.get(fields[2]), texts.get(fields[3])
    if zone is None:
        zone = _TZS[tz] = _parse_tz(tz.decode("ascii", "replace"))  # a few dozen zones at most
    if name is None:
        name = fields[2].decode("utf-8", "replace")
        if len(texts) < _SEEN_MAX:
            texts[fields[2]] = name
    if email is None:
        email = fields[3].decode("utf-8", "replace")
        if len(texts) < _SEEN_MAX:
            texts[fields[3]] = email
    return (sha, name, email, int(epoch), zone, *parsed)


def _parse_tz(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.strip().lstrip("+-")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


_MARKERS: dict = {}  # (kind, off, note, form, problem, line) -> its Marker: most markers are alike


def to_commit(row, repo_name: str = "", messages=None) -> MarkerCommit:
    """A row as the record the rest of hourly uses (see records)."""
    return records(iter((row,)), repo_name, messages)[0]


def records(rows, repo_name: str = "", messages=None) -> list:
    """The rows as records, in their order.

    A row without its message (the store's, see Store.rows) gets `messages`, a
    Messages that reads it back when asked for; `messages` is then given every
    record made.
    """
    made: list = []
    append = made.append
    shapes = _MARKERS
    intern = sys.intern
    stored = MarkerCommit.stored
    for row in rows:
        shape = row[5:11]
        marker = shapes.get(shape)
        if marker is None:
            marker = _marker(shape)
        append(stored(row[0], intern(row[1]), intern(row[2]), row[3], row[4], marker, row[6],
                      row[11] if len(row) > 11 else messages, repo_name))
    if messages is not None:
        messages.commits += made
    return made


def _marker(shape: tuple) -> markers.Marker:
    kind, off, note, form, problem, line = shape
    if kind not in (markers.IN, markers.OUT):
        raise ValueError(f"bad marker kind {kind!r}")
    marker = _MARKERS[shape] = markers.Marker(kind, timedelta(seconds=off), note, form, problem, line)
    return marker


class Messages:
    """The messages of records read from the store without them, read back when first asked for.

    A report needs messages only to match --ignore words, and they are the
    longest column of a row: so Store.rows leaves them out, and
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
        found = _stored_messages(store_path(self.repo), wanted)
        missing = [sha for sha in wanted if sha not in found]
        if missing:
            found.update(_git_messages(self.repo.top_dir, missing))
        for commit in commits:
            commit.message = found[commit.sha]


def _stored_messages(path: str, shas: set) -> dict:
    """sha -> message of those of shas the store file holds ({} if it cannot be read)."""
    try:
        import sqlite3

        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except Exception:  # no sqlite3, or no file any more
        return {}
    try:
        if len(shas) > 1000:  # most of the table: one walk beats a lookup per SHA
            return {sha: body for sha, body in db.execute("SELECT sha, body FROM markers") if sha in shas}
        found: dict = {}
        wanted = list(shas)
        for start in range(0, len(wanted), 500):
            batch = wanted[start:start + 500]
            found.update(db.execute(f"SELECT sha, body FROM markers WHERE sha IN ({', '.join('?' * len(batch))})",
                                    batch))
        return found
    except sqlite3.Error:  # damaged or rebuilt meanwhile: git answers
        return {}
    finally:
        db.close()


def _git_messages(cwd, shas: list) -> dict:
    """sha -> message as the reader keeps it (decoded, stripped), from git."""
    import subprocess
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C")
    process = subprocess.Popen(["git", "-c", "log.showSignature=false", "log", "--no-walk=unsorted", "-z",
                                "--format=%H%x00%B", "--stdin"], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.PIPE, env=env)
    out, err = process.communicate("".join(f"{sha}\n" for sha in shas).encode())
    if process.returncode:
        raise GitError(git_message(err) or "git log failed")
    fields = out.split(b"\0")
    return {fields[i].decode("ascii", "replace").lstrip("\n"): fields[i + 1].decode("utf-8", "replace").strip()
            for i in range(0, len(fields) - 1, 2)}


# --------------------------------------------------------------------------- ties

def tie_pairs(rows) -> list:
    """(a, b) SHA pairs whose ancestry orders them: same author second, maybe the same person.

    Identical events (same person, kind and effective time) are left out: pairing
    keeps one of them, so their mutual order never matters.
    """
    by_second: dict = {}
    for row in rows:
        by_second.setdefault(row[3], []).append(row)
    pairs = []
    for group in by_second.values():
        if len(group) < 2:
            continue
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                same_person = a[2].lower() == b[2].lower() or a[1] == b[1]
                same_event = (a[1], a[2].lower(), a[5], a[6]) == (b[1], b[2].lower(), b[5], b[6])
                if same_person and not same_event and a[0] != b[0]:
                    pairs.append((a[0], b[0]))
    return pairs


def ask_ancestry(cwd, pairs) -> dict:
    """(a, b) -> True when a is an ancestor of b, for both orders of every pair."""
    questions = [(a, b) for x, y in pairs for a, b in ((x, y), (y, x))]
    answers = {}
    for start in range(0, len(questions), 16):  # a few git processes at a time
        batch = questions[start:start + 16]
        jobs = [start_git(["merge-base", "--is-ancestor", a, b], cwd) for a, b in batch]
        for question, job in zip(batch, jobs):
            answers[question] = finish(job)[0] == 0
    return answers


def apply_ranks(commits, ancestry: dict) -> None:
    """Set each commit's rank: how many same-second commits are its ancestors."""
    if not ancestry:
        return
    counts: dict = {}
    for (a, b), yes in ancestry.items():
        if yes and a != b:
            counts[b] = counts.get(b, 0) + 1
    for commit in commits:
        if commit.sha in counts:
            commit.set_rank(counts[commit.sha])


# --------------------------------------------------------------------------- the store

class Unavailable(Exception):
    """The store cannot be used here; answer from git directly."""


class Store:
    """One repository's SQLite marker store (see the module docstring)."""

    def __init__(self, path: str, key: str, db=None):
        self.path, self.key = path, key
        self.fresh: list | None = None  # (never evaluated: no typing import on the hook's path)
        try:
            import sqlite3
        except ImportError:  # pragma: no cover - Python built without sqlite3
            raise Unavailable("no sqlite3") from None
        self.sqlite3 = sqlite3
        try:
            make_private_dirs(os.path.dirname(path))
            self._open(db)
        except sqlite3.DatabaseError as error:
            if transient(error):
                raise Unavailable(str(error)) from None  # locked, read-only: not damaged, leave it
            self._discard()  # damaged: behave as if there were none
            try:
                self._open()
            except (sqlite3.Error, OSError) as error:
                raise Unavailable(str(error)) from None
        except (sqlite3.Error, OSError) as error:
            raise Unavailable(str(error)) from None

    def _open(self, db=None) -> None:
        if db is None:
            db = connect(self.sqlite3, self.path)
        self.db = db
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL itself is set once, when the file is made
            meta = {}
            try:
                meta = dict(db.execute("SELECT k, v FROM meta"))
            except self.sqlite3.OperationalError as error:
                if "no such table" not in str(error):
                    raise
            if meta.get("key") != self.key:
                self._create()
        except BaseException:
            db.close()
            raise

    def _create(self) -> None:
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer (the hook during a report)
        db.execute("BEGIN IMMEDIATE")
        for table in ("meta", "markers", "scopes", "members", "ancestry"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
        # A rowid table: rows (with their messages) are appended as read, and
        # only the small indexes take random inserts.
        db.execute("CREATE TABLE markers (sha TEXT NOT NULL, name TEXT, email TEXT, ident TEXT, "
                   "epoch INTEGER, tz INTEGER, kind TEXT CHECK (kind IN ('in', 'out')), off INTEGER, "
                   "note TEXT, form TEXT, problem TEXT, line INTEGER, body TEXT)")
        db.execute("CREATE TABLE scopes (id INTEGER PRIMARY KEY, name TEXT UNIQUE, authors TEXT, tips TEXT)")
        db.execute("CREATE TABLE members (scope INTEGER, sha TEXT)")
        self._indexes()
        db.execute("CREATE TABLE ancestry (a TEXT, b TEXT, yes INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID")
        db.execute("INSERT INTO meta VALUES ('key', ?)", (self.key,))
        db.execute("COMMIT")

    INDEXES = ("CREATE UNIQUE INDEX IF NOT EXISTS markers_sha ON markers (sha)",
               "CREATE INDEX IF NOT EXISTS markers_epoch ON markers (epoch)",
               "CREATE INDEX IF NOT EXISTS markers_ident ON markers (ident, epoch)",
               "CREATE UNIQUE INDEX IF NOT EXISTS members_key ON members (scope, sha)")

    def _indexes(self) -> None:
        for statement in self.INDEXES:
            self.db.execute(statement)

    def _discard(self) -> None:
        try:
            self.db.close()
        except Exception:
            pass
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except OSError:
                pass

    def close(self) -> None:
        try:
            self.db.close()
        except Exception:
            pass

    # ------------------------------------------------------------ scopes
    def sync(self, cwd, name: str, tips: list, authors=(), progress=None, head_parents=()) -> int:
        """Bring scope `name` to `tips`; its id, with a read transaction open on that state.

        The read transaction (WAL: a snapshot) keeps the answer to the tips asked
        even if another process moves the scope meanwhile (a commit during a report).
        """
        tips_text = " ".join(tips)
        for _ in range(3):
            scope = self._sync(cwd, name, tips, authors, progress, head_parents)
            self.db.execute("BEGIN")
            row = self.db.execute("SELECT tips FROM scopes WHERE id = ?", (scope,)).fetchone()
            if row is not None and row[0] == tips_text:
                return scope
            self.db.execute("COMMIT")
        raise self.sqlite3.OperationalError("the store is busy: another process keeps moving this scope")

    def ahead(self, cwd, name: str, tips: list, identity: str, prefetched=None):
        """The identity's rows at its latest second over reach(tips), read without writing, or None.

        Only when the scope's stored tips T are below tips (new commits since,
        the hook's usual case): then reach(tips) = reach(T) + (tips ^T), so the
        stored answer and the few new markers give it, and the commit stays
        free of a write (and its fsync). None asks for a sync instead: after a
        rebase or reset, or once many new markers are worth keeping.
        """
        db = self.db
        db.execute("BEGIN")
        row = db.execute("SELECT id, tips FROM scopes WHERE name = ?", (name,)).fetchone()
        if row is None or not row[1]:
            db.execute("COMMIT")
            return None
        old = row[1].split()
        added: list = []
        if old != tips:
            job = prefetched.take(self.path, name, row[1]) if prefetched is not None else None
            try:
                if job is not None:  # started before the repository probe (see Prefetch)
                    added, removed = finish_sides(job)
                elif len(old) == 1 and len(tips) == 1:
                    added, removed = finish_sides(start_sides(cwd, tips[0], old[0]))
                else:
                    added_job = start_rows(cwd, [*tips, *(f"^{tip}" for tip in old)])
                    removed_job = start_rows(cwd, [*old, *(f"^{tip}" for tip in tips)])
                    added, removed = finish_rows(added_job), finish_rows(removed_job)
            except GitError:
                removed = [None]
            if removed or len(added) > 50:
                db.execute("COMMIT")
                return None
        rows = self.latest(row[0], identity) + [r for r in added if r[2].lower() == identity]
        top = max((r[3] for r in rows), default=None)
        return [r for r in rows if r[3] == top]

    def _sync(self, cwd, name: str, tips: list, authors, progress, head_parents) -> int:
        """Bring scope `name` to `tips`; its id. Holds the write lock while git answers."""
        self.fresh = None
        db = self.db
        tips_text = " ".join(tips)
        authors_text = "\0".join(authors)
        row = db.execute("SELECT id, tips FROM scopes WHERE name = ?", (name,)).fetchone()
        if row is not None and row[1] == tips_text:
            return row[0]
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT id, tips FROM scopes WHERE name = ?", (name,)).fetchone()
            if row is not None and row[1] == tips_text:
                db.execute("COMMIT")
                return row[0]
            if row is None:
                scope = int(db.execute("INSERT INTO scopes (name, authors, tips) VALUES (?, ?, NULL)",
                                       (name, authors_text)).lastrowid or 0)
                base = db.execute("SELECT id, tips FROM scopes WHERE authors = ? AND id != ? AND tips IS NOT NULL "
                                  "ORDER BY id DESC LIMIT 1", (authors_text, scope)).fetchone()
            else:
                scope, base = row[0], (row if row[1] is not None else None)
            if not self._step(cwd, scope, base, tips, authors, head_parents):
                self._full(cwd, scope, tips, authors, progress)
            db.execute("UPDATE scopes SET tips = ? WHERE id = ?", (tips_text, scope))
            db.execute("COMMIT")
        except BaseException:
            try:
                db.execute("ROLLBACK")
            except self.sqlite3.Error:
                pass
            raise
        return scope

    def _step(self, cwd, scope: int, base, tips: list, authors, head_parents) -> bool:
        """reach(tips) from the base scope's set and two short differences; False if git cannot."""
        if base is None or not base[1] or not tips:
            return False
        old = base[1].split()
        added_job = start_rows(cwd, [*tips, *(f"^{tip}" for tip in old)], authors)
        # When the old tips are the new tip's parents (a commit on top), nothing is removed.
        removed_job = None if set(old) <= set(head_parents) and len(tips) == 1 else \
            start_rows(cwd, [*old, *(f"^{tip}" for tip in tips)], authors)
        try:
            added = finish_rows(added_job)
        except GitError:
            added = None
        try:
            removed = finish_rows(removed_job) if removed_job is not None else []
        except GitError:
            removed = None  # a stored tip is gone (gc): only a full read can tell
        if added is None or removed is None:
            return False
        db = self.db
        if base[0] != scope:
            db.execute("DELETE FROM members WHERE scope = ?", (scope,))
            db.execute("INSERT INTO members SELECT ?, sha FROM members WHERE scope = ?", (scope, base[0]))
        db.executemany("DELETE FROM members WHERE scope = ? AND sha = ?", [(scope, r[0]) for r in removed])
        self._insert(scope, added)
        return True

    def _full(self, cwd, scope: int, tips: list, authors, progress) -> None:
        db = self.db
        db.execute("DELETE FROM members WHERE scope = ?", (scope,))
        db.execute("PRAGMA cache_size = -16384")  # 16 MiB: the indexes of a large fill stay in memory
        fresh: list | None = []  # the scope's rows, while few, so this run need not read them back
        self.fresh = fresh
        if not tips:
            return
        # Into an empty store (a first read), rows go in without indexes, which
        # are then built once, sorted: much cheaper than 100k random inserts.
        # One git log lists each commit once (a split read too), so no duplicate
        # can slip in.
        empty = db.execute("SELECT 1 FROM markers LIMIT 1").fetchone() is None
        if empty:
            for index in ("markers_sha", "markers_epoch", "markers_ident", "members_key"):
                db.execute(f"DROP INDEX IF EXISTS {index}")

        def insert(rows) -> None:
            if empty:
                self._append(rows)
            else:
                self._insert(scope, rows)

        batch: list = []
        for row in stream_rows(cwd, tips, authors, progress):
            batch.append(row)
            if len(batch) >= 2000:
                insert(batch)
                fresh = self._keep(fresh, batch)
                batch = []
        insert(batch)
        fresh = self._keep(fresh, batch)
        if empty:
            db.execute("INSERT INTO members SELECT ?, sha FROM markers", (scope,))
            self._indexes()
            if fresh is None:  # every row of the table is the scope's: read in table order, sorted later
                self.fresh = db.execute(f"SELECT {_COLUMNS} FROM markers").fetchall()

    def _keep(self, fresh, batch):
        """fresh with batch added, or None (also in self.fresh) once it holds more than FRESH_MAX rows.

        A large history's rows are let go as they are stored and read back once
        git has exited, so they never sit in memory beside git's.
        """
        if fresh is not None:
            fresh += batch
            if len(fresh) > FRESH_MAX:
                fresh = self.fresh = None
        return fresh

    def _append(self, rows) -> None:
        """Rows into an empty store's markers table (_full lists them as the scope's members)."""
        if rows:
            self.db.executemany(f"INSERT INTO markers ({_COLUMNS[:-6]}, ident, body) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [(*r[:11], r[2].lower(), r[11]) for r in rows])

    def _insert(self, scope: int, rows) -> None:
        if not rows:
            return
        db = self.db
        db.executemany(f"INSERT OR IGNORE INTO markers ({_COLUMNS[:-6]}, ident, body) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(*r[:11], r[2].lower(), r[11]) for r in rows])
        db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?)", [(scope, r[0]) for r in rows])

    # ------------------------------------------------------------ answers
    def rows(self, scope: int, since=None, identity=None) -> list:
        """The scope's rows from epoch `since` on (all if None), of one identity or all, by author date.

        Without the message (the last of _COLUMNS): see Messages.
        """
        db = self.db
        columns = _COLUMNS.rsplit(",", 1)[0]
        if since is None and identity is None:
            total = db.execute("SELECT count(*) FROM markers").fetchone()[0]
            size = db.execute("SELECT count(*) FROM members WHERE scope = ?", (scope,)).fetchone()[0]
            # Most of the table: one walk of it and a sort in memory cost far less
            # than a lookup in the scope per row.
            if size == total:
                # A scope's members are always rows of markers (both are written
                # together, and no marker row is ever deleted alone): as many
                # members as rows are every row.
                rows = db.execute(f"SELECT {columns} FROM markers").fetchall()
            elif 2 * size >= total:
                members = {sha for (sha,) in db.execute("SELECT sha FROM members WHERE scope = ?", (scope,))}
                rows = [row for row in db.execute(f"SELECT {columns} FROM markers") if row[0] in members]
            else:
                rows = None
            if rows is not None:
                rows.sort(key=itemgetter(3))
                return rows
        where, args = ["s.scope = ?"], [scope]
        if since is not None:
            where.append("m.epoch >= ?")
            args.append(since)
        if identity is not None:
            where.append("m.ident = ?")
            args.append(identity)
        # CROSS JOIN: walk the author-date index and look each row up in the scope,
        # rather than sort the whole scope for a month.
        return db.execute(f"SELECT {', '.join('m.' + c.strip() for c in columns.split(','))} "
                          f"FROM markers m CROSS JOIN members s ON s.sha = m.sha WHERE {' AND '.join(where)} "
                          "ORDER BY m.epoch", args).fetchall()

    def latest(self, scope: int, identity: str) -> list:
        """The identity's rows at its latest author second in the scope (usually one)."""
        columns = ", ".join("m." + c.strip() for c in _COLUMNS.split(","))
        top = self.db.execute("SELECT m.epoch FROM markers m JOIN members s ON s.sha = m.sha AND s.scope = ? "
                              "WHERE m.ident = ? ORDER BY m.epoch DESC LIMIT 1", (scope, identity)).fetchone()
        if top is None:
            return []
        return self.db.execute(f"SELECT {columns} FROM markers m JOIN members s ON s.sha = m.sha AND s.scope = ? "
                               "WHERE m.ident = ? AND m.epoch = ?", (scope, identity, top[0])).fetchall()

    def ancestry(self, cwd, pairs) -> dict:
        """Ancestry answers for tie pairs: remembered ones from the store, the rest from git."""
        known: dict = {}
        missing = []
        for a, b in pairs:
            found = self.db.execute("SELECT a, b, yes FROM ancestry WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)",
                                    (a, b, b, a)).fetchall()
            if len(found) == 2:
                known.update(((x, y), bool(yes)) for x, y, yes in found)
            else:
                missing.append((a, b))
        if missing:
            fresh = ask_ancestry(cwd, missing)
            known.update(fresh)
            try:
                self.db.executemany("INSERT OR REPLACE INTO ancestry VALUES (?, ?, ?)",
                                    [(a, b, int(yes)) for (a, b), yes in fresh.items()])
            except self.sqlite3.Error:
                pass  # remembered next time, or not: the answer is the same
        return known


def connect(sqlite3, path: str):
    if not os.path.exists(path):
        # Made 0600 here, not by SQLite with the umask's mode: SQLite gives its -wal
        # and -shm files the mode of the database file.
        os.close(open_private(path, os.O_WRONLY | os.O_CREAT))
    else:
        for suffix in ("", "-wal", "-shm"):  # made by an earlier version with the umask's mode
            narrow(path + suffix)
    return sqlite3.connect(path, timeout=10, isolation_level=None)


def open_store(repo, prefetched=None):
    """The repository's store, or None where it must not or cannot be used.

    prefetched: a Prefetch whose connection to the file is taken over if it is this one.
    """
    if not enabled() or repo.shallow or repo.rewritten():
        return None
    # What decides the rows git gives for given tips besides the commits themselves
    # (a store made under another key starts empty).
    key = "\0".join([FORMAT_VERSION, repr(markers.GREP), repo.mailmap_digest()])
    try:
        path = os.path.join(repo.common_dir, *FILE)
        return Store(path, key, prefetched.adopt(path) if prefetched is not None else None)
    except Unavailable:
        return None


def store_path(repo) -> str:
    return os.path.join(repo.common_dir, *FILE)


# --------------------------------------------------------------------------- questions

def _scope_name(repo, all_refs: bool, authors) -> str:
    return ("all" if all_refs else f"HEAD {repo.top_dir}") + "".join(f"\0{a}" for a in authors)


def _with_store(repo, work, prefetched=None):
    """work(store) with the store, or work(None) if there is none or it fails."""
    store = open_store(repo, prefetched)
    if store is None:
        return work(None)
    try:
        return work(store)
    except store.sqlite3.DatabaseError as error:
        if transient(error):
            store.close()  # locked too long, read-only, disk full: answer from git
        else:
            store._discard()  # damaged under our feet: drop it (the next run rebuilds), answer from git
        return work(None)
    except ValueError:
        store._discard()  # a row no reader wrote: damaged
        return work(None)
    finally:
        store.close()


def transient(error) -> bool:
    """A store error that says nothing about the file's health (it is left alone)."""
    text = str(error).lower()
    return any(word in text for word in ("locked", "busy", "readonly", "read-only", "unable to open",
                                         "disk i/o", "full", "permission"))


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
        if not enabled():
            return None
        try:
            top = top or os.getcwd()
            if common is None:
                git_dir = git_dir_of(top)
                if git_dir is None:
                    return None
                common = common_dir_of(git_dir)
            path = os.path.join(common, *FILE)
            if not os.path.isfile(path):
                return None
            import sqlite3
            db = connect(sqlite3, path)
        except Exception:  # no sqlite3, or the file cannot be opened: the usual path decides
            return None
        try:
            row = db.execute("SELECT tips FROM scopes WHERE name = ?", (f"HEAD {top}",)).fetchone()
        except Exception:  # an old format, locked, damaged: the usual path decides
            row = None
        if row is None or not row[0] or len(row[0].split()) != 1:
            db.close()
            return None
        return cls(path, f"HEAD {top}", row[0], start_sides(top, "HEAD", row[0]), db)

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

    def work(store):
        if store is None:
            rows = [r for r in stream_rows(repo.top_dir, heads) if r[2].lower() == identity]
            top = max((r[3] for r in rows), default=None)
            rows = [r for r in rows if r[3] == top]
            ancestry = ask_ancestry(repo.top_dir, tie_pairs(rows)) if len(rows) > 1 else {}
        else:
            name = _scope_name(repo, False, ())
            rows = store.ahead(repo.top_dir, name, heads, identity, prefetched=prefetched)
            if rows is None:
                # (HEAD's parents: asked of git only now, when the hook's probe read the files)
                parents = repo.head_parents if heads == [repo.head] else ()
                scope = store.sync(repo.top_dir, name, heads, head_parents=parents)
                rows = store.latest(scope, identity)
            ancestry = store.ancestry(repo.top_dir, tie_pairs(rows)) if len(rows) > 1 else {}
        commits = [to_commit(r, repo.name) for r in rows]
        apply_ranks(commits, ancestry)
        return max(commits, key=lambda c: (c.key, c.sha), default=None)

    return _with_store(repo, work, prefetched)


def read(repo, all_refs: bool = False, authors=(), since=None, exclude=(), progress=None) -> list:
    """The marker commits reachable from HEAD (or every ref), in pairing order.

    With `since` (an aware datetime), markers far enough before it may be left
    out: only where pairing provably gives the same sessions and anomalies from
    `since` on (see cut()). `exclude`: SHA prefixes the timesheet drops.
    """
    authors = tuple(authors)
    tips = repo.tips(all_refs)
    if not tips:
        return []
    since_epoch = None if since is None else int(since.timestamp())

    def work(store):
        messages = None
        if store is None:
            rows = list(stream_rows(repo.top_dir, tips, authors, progress))
            ancestry = ask_ancestry(repo.top_dir, tie_pairs(rows))
        else:
            parents = repo.head_parents if not all_refs else ()
            scope = store.sync(repo.top_dir, _scope_name(repo, all_refs, authors), tips, authors,
                               progress=progress, head_parents=parents)
            rows = _window(store, scope, since_epoch, exclude)
            ancestry = store.ancestry(repo.top_dir, tie_pairs(_tied(rows)))
            messages = Messages(repo)
        rows.reverse()
        commits = records(_popped(rows), repo.name, messages)  # each row freed as its record is made
        apply_ranks(commits, ancestry)
        commits.sort(key=attrgetter("key", "sha"))  # the SHA only orders copies of one event
        return commits

    return _with_store(repo, work)


def _popped(rows):
    """rows from last to first, each let go of as it is taken."""
    while rows:
        yield rows.pop()


def _tied(rows) -> list:
    """The rows (sorted by author second) that share their second with another:
    all that tie_pairs can pair."""
    seconds = list(map(itemgetter(3), rows))
    shared = {second for second, following in zip(seconds, seconds[1:]) if second == following}
    return [row for row in rows if row[3] in shared] if shared else []


def _window(store, scope: int, since, exclude) -> list:
    if store.fresh is not None:  # just read in full: the rows are at hand
        rows, store.fresh = store.fresh, None
        rows.sort(key=lambda r: r[3])
        second = None if since is None else cut(rows, since, exclude)
        return rows if second is None else [row for row in rows if row[3] >= second]
    if since is None:
        return store.rows(scope)
    for lookback in LOOKBACK:
        rows = store.rows(scope, since - lookback)
        second = cut(rows, since, exclude)
        if second is not None:
            return [row for row in rows if row[3] >= second]
    return store.rows(scope)


def cut(rows, since: int, exclude=()):
    """An author second from which on the markers before it stop mattering, or None.

    Pairing (sessions.pair) walks each person's markers in order with a state:
    the open clock-in and the last accepted session. Reading only the markers
    from second S on gives the same sessions and anomalies from `since` on as
    the whole history when S <= since and

    * every marker from S on has its effective time >= S: the last accepted
      session before S ends before S, so it cannot overlap a session starting
      from S on, and no marker from S on duplicates one before S;
    * for every person (by email, by name and by both: the three identity
      keys), the first marker from S on is a clock-in (and no clock-out shares
      its second): the open clock-in before S then only makes a "clock-in
      while clocked in" anomaly, dated before S.

    rows: every row of the scope from their first author second on, sorted by
    author date; `exclude`: SHA prefixes the timesheet drops before pairing.
    """
    prefixes = tuple(p.lower() for p in exclude if p)
    if prefixes:
        rows = [r for r in rows if not r[0].startswith(prefixes)]
    first: dict = {}
    bad = 0
    lowest = None
    i = len(rows)
    while i > 0:
        second = rows[i - 1][3]
        j = i
        while j > 0 and rows[j - 1][3] == second:
            j -= 1
            _, name, email, epoch, _, kind, off = rows[j][:7]
            effective = epoch - off
            lowest = effective if lowest is None or effective < lowest else lowest
            out = kind == markers.OUT
            for person in (email.lower(), "\0" + name, f"{name} <{email.lower()}>"):
                seen = first.get(person)
                if seen is None or seen[0] > epoch:
                    bad += out - (seen[1] if seen else 0)
                    first[person] = (epoch, out)
                elif out and not seen[1]:
                    bad += 1
                    first[person] = (epoch, True)
        if second <= since and bad == 0 and lowest is not None and lowest >= second:
            return second
        i = j
    return None


# --------------------------------------------------------------------------- progress

def progress_line(count: int, seconds: float) -> str:
    """What a long first read shows on a terminal."""
    return f"hourly: reading the history once into the marker store: {count:,} markers, {seconds:.0f}s"


class Progress:
    """Shows a long full read on a terminal: nothing for the first second, nothing off a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        try:
            self.active = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.active = False
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, count: int) -> None:
        seconds = time.monotonic() - self.started
        if self.active and seconds >= PROGRESS_AFTER:
            self.stream.write("\r" + progress_line(count, seconds))
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
