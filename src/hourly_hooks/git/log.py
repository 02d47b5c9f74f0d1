"""The marker commits read from git: one streamed ``git log``, split in two walks when large.

One streamed ``git log -z --use-mailmap -i -E --grep`` with ``markers.GREP``:
git filters in C, Python parses only the commits that mention a clock, as
they arrive through a 1 MiB pipe. A large history read in full is read by two
such walks side by side, ``git log tips ^B`` and ``git log B`` for a commit B
half-way down (see split_point): the same commits, each once, in about half
the time on two CPUs. Each commit becomes a row (records.COLUMNS); the store
(store.py) keeps them, history.py asks the questions.

Also here, as they are git's answers too: the short differences of two tips
(start_rows, start_sides), the messages of given commits (messages) and the
ancestry of same-second ties (ask_ancestry).

subprocess is imported inside the functions that stream: the commit-msg hook
imports this module, and subprocess imports re.
"""

from __future__ import annotations

import os
import sys
import time

from hourly_hooks.core import markers
from hourly_hooks.errors import GitError
from hourly_hooks.git.run import finish, git_message, run_git, start_git

_FORMAT = "%H%x00%ad%x00%aN%x00%aE%x00%B"
_FIELDS = 5
_CHUNK = 1 << 16


def log_args(authors=()) -> list:
    """``git log`` arguments for the marker commits of the revisions given on stdin / after."""
    args = ["-c", "log.showSignature=false", "log", "-z", "-i", "-E", "--date=raw",
            f"--format={_FORMAT}", "--use-mailmap"]
    args += [f"--grep={pattern}" for pattern in markers.GREP]
    args += [f"--author={author}" for author in authors]
    return args


def stream_rows(cwd, revisions, authors=(), progress=None, base=None):
    """Rows (see records.COLUMNS) of the marker commits reachable from revisions, streamed from git.

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
        errors = [git_message(stderr) or "git log failed" for code, stderr in map(ended, processes) if code]
        if errors and sys.exc_info()[0] is None:
            raise GitError(errors[0])


def ended(process) -> tuple:
    """(exit status, stderr) of a streamed git, once its pipes are closed and it has exited."""
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    return process.wait(), stderr


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
    added: list = []
    removed: list = []
    for record in _records(started):
        first = record[0].lstrip(b"\n")
        record[0] = first[1:]
        row = parse_record(record)
        if row is not None:
            (added if first[:1] == b"<" else removed).append(row)
    return added, removed


def finish_rows(started) -> list:
    return [row for row in map(parse_record, _records(started)) if row is not None]


def _records(started) -> list:
    """The records of a short ``git log`` started here; GitError when git failed."""
    code, out, err = finish(started)
    if code:
        raise GitError(git_message(err) or "git log failed")
    fields = out.split(b"\0")
    return [fields[index:index + _FIELDS] for index in range(0, len(fields) - _FIELDS + 1, _FIELDS)]


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
    if zone is None:  # a few dozen zones at most
        from hourly_hooks.core.clockrules import parse_tz
        zone = _TZS[tz] = parse_tz(tz.decode("ascii", "replace"))
    if name is None:
        name = fields[2].decode("utf-8", "replace")
        if len(texts) < _SEEN_MAX:
            texts[fields[2]] = name
    if email is None:
        email = fields[3].decode("utf-8", "replace")
        if len(texts) < _SEEN_MAX:
            texts[fields[3]] = email
    return (sha, name, email, int(epoch), zone, *parsed)


# --------------------------------------------------------------------------- other answers

def messages(cwd, shas: list) -> dict:
    """sha -> message as the reader keeps it (decoded, stripped), from git."""
    code, out, err = run_git(["-c", "log.showSignature=false", "log", "--no-walk=unsorted", "-z", "--format=%H%x00%B",
                              "--stdin"], cwd, input="".join(f"{sha}\n" for sha in shas).encode(),
                             env=dict(os.environ, GIT_PAGER="cat", LC_ALL="C"))
    if code:
        raise GitError(git_message(err) or "git log failed")
    fields = out.split(b"\0")
    return {fields[i].decode("ascii", "replace").lstrip("\n"): fields[i + 1].decode("utf-8", "replace").strip()
            for i in range(0, len(fields) - 1, 2)}


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
