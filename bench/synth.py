"""Synthetic git repositories for the benchmarks, made by one `git fast-import`.

    python bench/synth.py PATH --commits N [--authors 5] [--marker-ratio 0.1]
                          [--seed 0] [--start ISO] [--extra-branch] [--silent-author]

`make_repo` streams every blob and commit into a single `git fast-import`
process (no per-commit git call), so a million commits take a few minutes at
most.  The history is linear on ``main``:

* several authors (some non-ASCII names), each with a home UTC offset that
  follows daylight saving time where it applies (-05:00/-04:00, +01:00/+02:00,
  +05:30, +10:00/+11:00, ...) and now and then a trip to another offset;
* author dates strictly increasing, gaps of seconds to minutes with nights and
  weekends in between; committer dates never before the author date and never
  decreasing along the history;
* each commit touches one tiny file (a fixed pool of blobs is reused);
* about ``marker_ratio`` of the commits are clock markers, in mixed spellings
  (``clock-in``, ``clock in``, ``Clock-In``, ``CLOCK OUT``, ``clock-in: T-25m``,
  ``clock in T-10m``, ``clock-out: T-1h22m``, ``clock out - pro bono``,
  ``clock-out: payment options``) or in the trailer form (a work commit whose
  message ends with a blank line and ``Clock: out``).  They alternate in/out per
  author, apart from a few deliberate anomalies (``anomaly_ratio``: a second
  clock-in while clocked in, or a clock-out while clocked out); every session
  still open near the end is closed, so the history ends with nobody clocked in;
* the other commits are ordinary messages, some with bodies and trailers, and
  some near-misses that are NOT markers (``fixed bug preventing users from
  clocking in``, ``PT-123 fix clock skew``, ``had to clock out so the notebook
  runs``...); several of those match git's ``-i -E --grep 'clock[- ]?(in|out)'``
  anyway, as they would in a real project.

With ``extra_branch=True`` a second branch ``rebased`` holds rebased copies of
a window of the history, markers included (same author, author date and
message; other parents and committer date), so ``git log --all`` sees every
marker of that window twice.  With ``silent_author=True`` one more author makes
ordinary commits only, never a marker.

Repositories are cacheable: a JSON stamp ``PATH.json`` is written next to the
repository; `make_repo` returns the stamp's facts without rebuilding when the
recorded parameters (and generator version) match and the branch tips are
still those recorded.  ``bench/data/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

#: Bumped whenever the generated history changes for the same parameters.
VERSION = 3

DEFAULT_START = datetime(2001, 1, 8, 9, 0, tzinfo=timezone(timedelta(hours=-5)))

#: The floor's pattern (git ERE, case-insensitive), to count what `git log --grep` sees.
FLOOR_GREP = re.compile(r"clock[- ]?(in|out)", re.I)

# name, email, home offset (minutes), daylight saving: None, "north" or "south"
_PEOPLE = [
    ("Alice Moreau", "alice@moreau.example", 60, "north"),
    ("Bob Okafor", "bob.okafor@example.org", -300, "north"),
    ("Chen Wei", "chen.wei@example.cn", 480, None),
    ("Dana Kowalski", "dana@kowalski.dev", -480, "north"),
    ("Émile Brontë-Zoëga", "emile@example.fr", 60, "north"),
    ("Priya Raman", "priya.raman@example.in", 330, None),
    ("Kenji Satō", "kenji@example.jp", 540, None),
    ("Olúwaseun Adéyemí", "seun@example.ng", 60, None),
    ("María José García", "mjgarcia@example.es", 60, "north"),
    ("Sam Taylor", "sam.taylor@example.com.au", 600, "south"),
]
_SILENT = ("Morgan Lee", "morgan.lee@example.net", -180, None)
_TRAVEL_OFFSETS = [0, -420, 120, 540, -240, 345]

_IN_FORMS = [  # (template, weight); {d} is an offset, {n} a note
    ("clock-in", 30), ("clock in", 12), ("Clock-In", 8), ("CLOCK IN", 4),
    ("clock-in: T-{d}", 10), ("clock in T-{d}", 6), ("clock-in: {n}", 5),
    ("Clock in - {n}", 2), ("TRAILER", 12),
]
_OUT_FORMS = [
    ("clock-out", 28), ("clock out", 10), ("Clock-Out", 6), ("CLOCK OUT", 5),
    ("clock-out: T-{d}", 10), ("clock out T-{d}", 4), ("clock out - pro bono", 3),
    ("clock-out: payment options", 3), ("clock-out: T-{d} {n}", 3), ("TRAILER", 16),
]
_OFFSETS = [5 * 60, 10 * 60, 15 * 60, 25 * 60, 45 * 60, 3600 + 22 * 60, 2 * 3600]
_NOTES = [
    "pairing with Dana", "pro bono", "payment options", "client call", "on-call",
    "review de données", "standup", "migration night", "design review",
]
_NEAR_MISSES = [  # none of these is a marker; the floor grep matches some
    "fixed bug preventing users from clocking in",
    "PT-{i} fix clock skew",
    "had to clock out so the notebook runs",
    "Make the clock-in button larger",
    "clock-input: validate the time field",
    "clock-in-progress indicator for the status bar",
    "Revert \"clock-in: T-10m\"",
    "Clockwork: bump the scheduler",
    "Document how to clock out from the CLI\n\nUsers can now clock in and clock out with `hourly in` / `hourly out`.",
    "timesheet: handle clockout without a clockin",
    "Update clock: in/out icons",
    "PT-{i} Clock-Out page shows the wrong total",
]
_VERBS = ["Fix", "Refactor", "Add", "Remove", "Update", "Simplify", "Document", "Test", "Rename", "Speed up"]
_THINGS = [
    "invoice rounding", "the login redirect", "config loader", "CSV export", "time zone handling",
    "README", "CI cache", "error messages", "rate parsing", "webhook retries", "the report table",
    "session pairing", "dependency pins", "typos", "the settings page", "pagination",
]
_BODIES = [
    "The old code assumed UTC everywhere.",
    "Found while reviewing last week's invoices.\nNo behaviour change for existing users.",
    "This keeps the hot path allocation-free.",
    "See the discussion in PT-{i}.",
    "Split into two functions so each can be tested.",
]
_PATHS = ["README.md", "src/app.py", "src/billing.py", "src/report.py", "src/tz.py",
          "src/util.py", "tests/test_app.py", "tests/test_billing.py", "docs/usage.md",
          "docs/changelog.md", "setup.cfg", ".gitignore"]
_BLOBS = 61  # tiny blobs, reused round robin


def _weighted(forms):
    templates, weights = zip(*forms)
    cumulative, total = [], 0
    for w in weights:
        total += w
        cumulative.append(total)
    return list(templates), cumulative


def _fmt_duration(seconds: int) -> str:
    h, m = divmod(seconds // 60, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "") or "0m"


def _tz(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}{m:02d}"


def _people(authors: int, silent_author: bool):
    people = []
    for i in range(authors):
        if i < len(_PEOPLE):
            people.append(_PEOPLE[i])
        else:
            offset = [-300, 60, 330, 0, -480, 540][i % 6]
            people.append((f"Dev {i + 1}", f"dev{i + 1}@example.com", offset, None))
    if silent_author:
        people.append(_SILENT)
    return people


def _params(commits, authors, marker_ratio, seed, start, extra_branch, silent_author, anomaly_ratio,
            commit_graph):
    return {
        "version": VERSION, "commits": commits, "authors": authors, "marker_ratio": marker_ratio,
        "seed": seed, "start": start.isoformat(), "extra_branch": extra_branch,
        "silent_author": silent_author, "anomaly_ratio": anomaly_ratio, "commit_graph": commit_graph,
    }


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout


def _cached(path: Path, params: dict):
    stamp = _stamp_path(path)
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    if recorded.get("params") != params or not (path / ".git").is_dir():
        return None
    facts = recorded.get("facts", {})
    for ref, sha in facts.get("heads", {}).items():
        try:
            if _git(path, "rev-parse", "--verify", "-q", ref).strip() != sha:
                return None
        except subprocess.CalledProcessError:
            return None
    return facts


def make_repo(path, commits: int, authors: int = 5, marker_ratio: float = 0.1, seed: int = 0,
              start: datetime = DEFAULT_START, extra_branch: bool = False,
              silent_author: bool = False, *, anomaly_ratio: float = 0.02,
              commit_graph: bool = True, reuse: bool = True) -> dict:
    """Build (or reuse) a synthetic repository at ``path``; return its facts.

    ``commits`` counts the commits of ``main``; the ``rebased`` branch of
    ``extra_branch`` adds ``facts["extra_commits"]`` more.  ``start`` must be an
    aware datetime (the first author date).  ``anomaly_ratio`` is the share of
    marker events that break the in/out alternation (0 for a perfectly paired
    history).  The returned dict is JSON-serialisable; see the keys built below.
    """
    path = Path(path)
    if commits < 1:
        raise ValueError("commits must be at least 1")
    if authors < 1:
        raise ValueError("authors must be at least 1")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    params = _params(commits, authors, marker_ratio, seed, start, extra_branch, silent_author,
                     anomaly_ratio, commit_graph)
    if reuse:
        facts = _cached(path, params)
        if facts is not None:
            return dict(facts, reused=True)

    began = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        subprocess.run(["git", "init", "-q", "--initial-branch=main", str(tmp)], check=True)
        for key, value in (("gc.auto", "0"), ("core.logAllRefUpdates", "false")):
            subprocess.run(["git", "-C", str(tmp), "config", key, value], check=True)
        proc = subprocess.Popen(["git", "-C", str(tmp), "fast-import", "--quiet", "--done"],
                                stdin=subprocess.PIPE)
        try:
            facts = _generate(proc.stdin, params, _people(authors, silent_author), start)
            proc.stdin.close()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
        if commit_graph:
            subprocess.run(["git", "-C", str(tmp), "commit-graph", "write", "--reachable"],
                           check=True, capture_output=True)
        facts["heads"] = {
            ref: _git(tmp, "rev-parse", ref).strip()
            for ref in (["refs/heads/main"] + (["refs/heads/rebased"] if extra_branch else []))
        }
        if path.exists() or path.is_symlink():
            shutil.rmtree(path)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    facts["build_seconds"] = round(time.monotonic() - began, 2)
    facts["path"] = str(path)
    _stamp_path(path).write_text(json.dumps({"params": params, "facts": facts}, indent=1,
                                            ensure_ascii=False) + "\n")
    return dict(facts, reused=False)


def _generate(out, params: dict, people: list, start: datetime) -> dict:
    """Write the fast-import stream to ``out`` and return the facts."""
    rng = random.Random(params["seed"])
    rand, randrange = rng.random, rng.randrange
    commits = params["commits"]
    marker_ratio = params["marker_ratio"]
    anomaly_ratio = params["anomaly_ratio"]
    n_people = len(people)
    marking = list(range(params["authors"]))          # the silent author never marks
    in_templates, in_cum = _weighted(_IN_FORMS)
    out_templates, out_cum = _weighted(_OUT_FORMS)
    choices = rng.choices

    # A branch window of rebased copies: late in history, based before the window.
    window = range(0)
    if params["extra_branch"] and commits >= 4:
        length = max(2, min(commits // 50, 20000))
        first = max(1, int(commits * 0.8))
        length = min(length, commits - first)
        window = range(first, first + length)
    copies = []

    emitted = []
    write = out.write
    buffer = []

    blob_base = 1
    for b in range(_BLOBS):
        data = f"tiny blob {b}\n".encode()
        buffer.append(b"blob\nmark :%d\ndata %d\n%s\n" % (blob_base + b, len(data), data))
    mark0 = blob_base + _BLOBS  # mark of commit i is mark0 + i

    stats = [{
        "name": name, "email": email, "commits": 0, "markers": 0, "clock_ins": 0, "clock_outs": 0,
        "sessions": 0, "paired_seconds": 0, "anomalies": 0, "trailer_markers": 0,
        "offset_markers": 0, "first_marker": None, "last_marker": None,
    } for name, email, _, _ in people]
    idents = [f"{name} <{email}>".encode() for name, email, _, _ in people]
    clocked_in = [False] * n_people
    last_in_eff = [0] * n_people          # effective time of the open clock-in
    last_marker_eff = [0] * n_people      # effective time of the author's last marker
    travel = [None] * n_people
    open_count = 0
    offsets_seen = set()
    floor_matches = near_misses = near_miss_floor = 0
    forms_seen = {}

    t = int(start.timestamp())
    committer_t = t
    month_of_day = {}

    def offset_of(who: int, ts: int) -> int:
        if travel[who] is not None:
            return travel[who]
        _, _, home, dst = people[who]
        if dst is None:
            return home
        day = ts // 86400
        month = month_of_day.get(day)
        if month is None:
            month = month_of_day[day] = datetime.fromtimestamp(ts, timezone.utc).month
        if dst == "north" and 4 <= month <= 10 or dst == "south" and (month <= 3 or month >= 10):
            return home + 60
        return home

    def work_message(i: int) -> str:
        r = rand()
        if r < 0.012:
            near = _NEAR_MISSES[randrange(len(_NEAR_MISSES))].replace("{i}", str(100 + i % 900))
            return near, True
        subject = f"{_VERBS[randrange(len(_VERBS))]} {_THINGS[randrange(len(_THINGS))]}"
        if r < 0.1:
            subject = f"PT-{100 + i % 900} {subject[0].lower()}{subject[1:]}"
        if r > 0.75:
            body = _BODIES[randrange(len(_BODIES))].replace("{i}", str(100 + i % 900))
            if r > 0.93:
                return f"{subject}\n\n{body}\n\nSigned-off-by: Someone <someone@example.com>\n", False
            return f"{subject}\n\n{body}\n", False
        return subject + "\n", False

    for i in range(commits):
        # --- time -------------------------------------------------------
        if i:
            r = rand()
            if r < 1 / 150:
                gap = 36000 + randrange(18000)            # a night
            elif r < 1 / 150 + 1 / 800:
                gap = 172800 + randrange(36000)           # a weekend
            else:
                gap = 20 + int(rng.expovariate(1 / 150))  # minutes apart, mostly
            t += gap

        # --- who, and is it a marker? ----------------------------------
        remaining = commits - i
        kind = None
        anomaly = False
        if open_count and remaining <= open_count:
            who = next(a for a in marking if clocked_in[a])   # close what is still open
            kind = "out"
        elif marking and rand() < marker_ratio and remaining > 1:
            who = marking[randrange(len(marking))]
            kind = "out" if clocked_in[who] else "in"
            if kind == "in" and remaining <= open_count + 2:
                kind = None                                   # too late to open a session
            elif rand() < anomaly_ratio:
                kind = "in" if kind == "out" else "out"
                anomaly = True
        else:
            who = randrange(n_people)
        st = stats[who]
        st["commits"] += 1

        if kind == "in" and not anomaly and rand() < 0.03:
            travel[who] = _TRAVEL_OFFSETS[randrange(len(_TRAVEL_OFFSETS))]
        elif kind == "in" and not anomaly:
            travel[who] = None
        tzmin = offset_of(who, t)
        offsets_seen.add(tzmin)

        # --- message ----------------------------------------------------
        is_near = False
        if kind is None:
            message, is_near = work_message(i)
        else:
            templates, cum = (in_templates, in_cum) if kind == "in" else (out_templates, out_cum)
            template = choices(templates, cum_weights=cum)[0]
            offset = 0
            if "{d}" in template:
                room = t - last_marker_eff[who] - 600
                fitting = [o for o in _OFFSETS if o < room]
                if fitting:
                    offset = fitting[randrange(len(fitting))]
                else:
                    template = "clock-in" if kind == "in" else "clock-out"
            if template == "TRAILER":
                work, _ = work_message(i)
                while FLOOR_GREP.search(work) or "lock:" in work.lower():
                    work, _ = work_message(i + 1)
                line = f"Clock: {kind}"
                if rand() < 0.2:
                    line += f" {_NOTES[randrange(len(_NOTES))]}"
                work = work.rstrip()
                joiner = "\n" if "\nSigned-off-by: " in work else "\n\n"   # join its trailer block
                message = f"{work}{joiner}{line}\n"
                st["trailer_markers"] += 1
            else:
                subject = template.replace("{d}", _fmt_duration(offset))
                subject = subject.replace("{n}", _NOTES[randrange(len(_NOTES))])
                message = subject + "\n"
                if rand() < 0.15:
                    message += f"\n{_BODIES[randrange(len(_BODIES))].replace('{i}', str(100 + i % 900))}\n"
            forms_seen[template] = forms_seen.get(template, 0) + 1
            if offset:
                st["offset_markers"] += 1
            effective = t - offset
            st["markers"] += 1
            st["first_marker"] = st["first_marker"] or _iso(t, tzmin)
            st["last_marker"] = _iso(t, tzmin)
            if anomaly:
                st["anomalies"] += 1
            if kind == "in":
                st["clock_ins"] += 1
                if not clocked_in[who]:
                    open_count += 1
                clocked_in[who] = True
                last_in_eff[who] = effective
            else:
                st["clock_outs"] += 1
                if clocked_in[who]:
                    open_count -= 1
                    st["sessions"] += 1
                    st["paired_seconds"] += effective - last_in_eff[who]
                clocked_in[who] = False
            last_marker_eff[who] = effective

        if FLOOR_GREP.search(message):
            floor_matches += 1
            if is_near:
                near_miss_floor += 1
        near_misses += is_near

        # --- commit -----------------------------------------------------
        if rand() < 0.1:
            committer_t = max(committer_t, t + 60 + randrange(3600))   # amended / rebased later
        else:
            committer_t = max(committer_t, t)
        committer = idents[who] if rand() > 0.02 else idents[randrange(n_people)]
        tz = _tz(tzmin).encode()
        data = message.encode()
        path = _PATHS[(i * 7 + who) % len(_PATHS)]
        author_line = b"%s %d %s" % (idents[who], t, tz)
        buffer.append(
            b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s %d %s\ndata %d\n%s\n"
            b"M 100644 :%d %s\n\n"
            % (mark0 + i, author_line, committer, committer_t, tz, len(data), data,
               blob_base + i % _BLOBS, path.encode())
        )
        if i in window:
            copies.append((author_line, idents[who], tz, data, kind, path))
        if len(buffer) >= 4096:
            write(b"".join(buffer))
            buffer.clear()

    extra = 0
    duplicate_markers = 0
    duplicate_floor = 0
    duplicate_trailers = 0
    if copies:
        base = mark0 + max(0, window.start - 25)
        rebase_t = max(committer_t, t) + 86400
        first_mark = mark0 + commits
        for j, (author_line, committer, tz, data, kind, path) in enumerate(copies):
            head = b"from :%d\n" % base if j == 0 else b""
            buffer.append(
                b"commit refs/heads/rebased\nmark :%d\nauthor %s\ncommitter %s %d %s\ndata %d\n%s\n"
                b"%sM 100644 :%d %s\n\n"
                % (first_mark + j, author_line, committer, rebase_t + j, tz, len(data), data, head,
                   blob_base + (j * 3) % _BLOBS, path.encode())
            )
            extra += 1
            duplicate_markers += kind is not None
            duplicate_trailers += kind is not None and b"\nClock: " in data
            duplicate_floor += bool(FLOOR_GREP.search(data.decode()))
    buffer.append(b"done\n")
    write(b"".join(buffer))

    markers = sum(s["markers"] for s in stats)
    return {
        "version": VERSION,
        "commits": commits,
        "extra_commits": extra,
        "total_commits": commits + extra,
        "markers": markers,
        "markers_all": markers + duplicate_markers,
        "duplicate_markers": duplicate_markers,
        "trailer_markers": sum(s["trailer_markers"] for s in stats),          # on main
        "trailer_markers_all": sum(s["trailer_markers"] for s in stats) + duplicate_trailers,
        "anomalies": sum(s["anomalies"] for s in stats),
        "near_misses": near_misses,
        "near_misses_matching_floor": near_miss_floor,
        "floor_grep_matches": floor_matches,            # on main
        "floor_grep_matches_all": floor_matches + duplicate_floor,
        "marker_forms": dict(sorted(forms_seen.items())),
        "utc_offsets": sorted(_tz(o) for o in offsets_seen),
        "first_author_date": start.isoformat(),
        "last_author_date": _iso(t, 0),
        "authors": stats,
        "markers_per_author": {s["email"]: s["markers"] for s in stats},
        "silent_author": people[-1][1] if params["silent_author"] else None,
    }


def _iso(ts: int, tzmin: int) -> str:
    return datetime.fromtimestamp(ts, timezone(timedelta(minutes=tzmin))).isoformat()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--commits", type=int, required=True)
    parser.add_argument("--authors", type=int, default=5)
    parser.add_argument("--marker-ratio", type=float, default=0.1)
    parser.add_argument("--anomaly-ratio", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=datetime.fromisoformat, default=DEFAULT_START,
                        help="first author date, ISO 8601 with an offset")
    parser.add_argument("--extra-branch", action="store_true")
    parser.add_argument("--silent-author", action="store_true")
    parser.add_argument("--no-commit-graph", action="store_true")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    parser.add_argument("--json", action="store_true", help="print every fact as JSON")
    args = parser.parse_args(argv)
    facts = make_repo(args.path, args.commits, authors=args.authors, marker_ratio=args.marker_ratio,
                      seed=args.seed, start=args.start, extra_branch=args.extra_branch,
                      silent_author=args.silent_author, anomaly_ratio=args.anomaly_ratio,
                      commit_graph=not args.no_commit_graph, reuse=not args.force)
    if args.json:
        print(json.dumps(facts, indent=1, ensure_ascii=False))
    else:
        how = "reused" if facts["reused"] else f"built in {facts['build_seconds']}s"
        print(f"{facts['path']}: {facts['total_commits']} commits ({how}), "
              f"{facts['markers_all']} markers, {facts['anomalies']} anomalies, "
              f"{facts['near_misses']} near-misses; offsets {' '.join(facts['utc_offsets'])}")
        for s in facts["authors"]:
            print(f"  {s['name']} <{s['email']}>: {s['commits']} commits, {s['markers']} markers, "
                  f"{s['sessions']} sessions, {s['paired_seconds'] / 3600:.1f} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
