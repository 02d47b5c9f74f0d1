"""Benchmark `hourly report --all --format json` against the git floor.

    python bench/report.py [--sizes 10000,100000] [--runs 5] [--write]
                           [--installed | --hourly CMD] [--data bench/data]
                           [--only cold,warm,...]

For each size, a synthetic repository is built (or reused) under bench/data/
by bench/synth.py (``extra_branch=True``, so ``--all`` sees rebased duplicates).
On it, run by run, interleaved (the order alternates each run, after one
untimed warm-up of each), the bench times:

* the floor: ``git log --all -i -E --grep=<markers.GREP>
  --format='%H%x00%aI%x00%aN%x00%aE%x00%B'``, the least any tool reading the
  markers from git must do;
* ``hourly report --all --format json``, by default as
  ``python -m hourly_hooks`` from this checkout's src/ (``--installed``: the
  installed ``hourly`` or package; ``--hourly CMD``: any command), four ways:
  "nocache" (HOURLY_NO_CACHE=1), "cold" (the marker store deleted before each
  run: one full read that fills the store), "warm" (the store filled, tips
  unchanged: the whole history read from the store, paired and written out)
  and "month" (the same, ``--since/--until`` the last whole month of history).

Both commands write into a pipe that the bench reads fully and discards; both
get stderr to /dev/null and the same environment.  Wall time is measured from
just before the fork to the reaping of the child by ``os.wait4``; peak memory
is the ``ru_maxrss`` that ``os.wait4`` returns, i.e. the peak resident set of
the largest single process of the child's tree (the child or any descendant it
waited for).  As that is not the sum of processes running at the same time
(e.g. python plus the git it reads from), the bench also samples the summed
RSS of the whole process tree every 10 ms and prints it as "tree peak".

Targets (ratios to the floor's median, same repository, same run): cold at
most 1.1x from 100k commits on, and at most 0.8x at 1M; warm at most 0.12x and month at most 0.02x at
1M commits; peak memory at most the floor's + 50 MiB.

``--only`` measures a subset of the four (the floor always runs), printed only.
Each run's log line ends with the 1-minute load average; a row keeps its
lowest and highest.

Results are kept in bench/data/report-results.json, one row per size (a later
run of a size replaces its row), and ``--write`` puts the table of every stored
size in the "Report" section of bench/README.md, between
``<!-- report:start -->`` and ``<!-- report:end -->``; the rest of the file is
left alone.  Exit status: 0 if every verdict is PASS (or n/a), 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from hourly_hooks.core.markers import GREP  # noqa: E402

FLOOR = ["git", "log", "--all", "-i", "-E", *[f"--grep={p}" for p in GREP],
         "--format=%H%x00%aI%x00%aN%x00%aE%x00%B"]
HOURLY_ARGS = ["report", "--all", "--format", "json"]
# Ratios to the floor's median, from TIME_TARGET_FROM commits on (below that,
# interpreter start-up dominates). "month" and "warm" are judged at 1M commits.
TARGETS = {"cold": 1.1, "nocache": 1.1, "warm": 0.12, "month": 0.02}
JUDGED_FROM = {"cold": 100_000, "nocache": 100_000, "warm": 1_000_000, "month": 1_000_000}
# Issue 15's stricter cold target at a million commits.
AT_1M = {"cold": 0.8}
MEASURES = ("nocache", "cold", "warm", "month")
TIME_TARGET_FROM = 100_000
MEMORY_TARGET_MIB = 50     # hourly peak - floor peak
START, END = "<!-- report:start -->", "<!-- report:end -->"
PAGE = os.sysconf("SC_PAGE_SIZE")


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until told to stop."""

    def __init__(self, pid: int, interval: float = 0.01):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.done = threading.Event()

    def _tree(self, pid: int):
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            pids.append(current)
            try:
                for task in os.listdir(f"/proc/{current}/task"):
                    with open(f"/proc/{current}/task/{task}/children") as handle:
                        todo.extend(int(p) for p in handle.read().split())
            except OSError:
                pass
        return pids

    def run(self):
        while not self.done.is_set():
            total = 0
            for pid in self._tree(self.pid):
                try:
                    with open(f"/proc/{pid}/statm") as handle:
                        total += int(handle.read().split()[1]) * PAGE
                except (OSError, ValueError, IndexError):
                    pass
            self.peak = max(self.peak, total)
            self.done.wait(self.interval)


def measure(cmd, cwd, env, sample=True, before=None):
    """Run cmd with stdout into a pipe read fully; return (seconds, maxrss bytes, tree peak, out bytes, rc)."""
    if before:
        before()
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    sampler = TreeSampler(proc.pid) if sample else None
    if sampler:
        sampler.start()
    size = 0
    read = proc.stdout.read
    while True:
        chunk = read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if sampler:
        sampler.done.set()
        sampler.join()
    return elapsed, usage.ru_maxrss * 1024, (sampler.peak if sampler else 0), size, proc.returncode


def hourly_command(args):
    """(argv prefix, extra environment, description) of the hourly to measure."""
    if args.hourly:
        return shlex.split(args.hourly), {}, args.hourly
    if not args.installed and (ROOT / "src" / "hourly_hooks").is_dir():
        src = str(ROOT / "src")
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
        return [sys.executable, "-m", "hourly_hooks"], {"PYTHONPATH": path}, \
            f"{Path(sys.executable).name} -m hourly_hooks (PYTHONPATH=src)"
    if importlib.util.find_spec("hourly_hooks") is not None:
        return [sys.executable, "-m", "hourly_hooks"], {}, f"{Path(sys.executable).name} -m hourly_hooks"
    found = shutil.which("hourly")
    if found:
        return [found], {}, "hourly"
    raise SystemExit("hourly is neither in src/ nor installed; use --hourly CMD")


def check_hourly(prefix, env, repo):
    """Run hourly once, fully captured; return (ok, summary)."""
    done = subprocess.run(prefix + HOURLY_ARGS, cwd=repo, env=env, capture_output=True)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        return False, f"exit {done.returncode}: {' | '.join(tail)}"
    try:
        json.loads(done.stdout)
    except ValueError as error:
        return False, f"output is not JSON: {error}"
    return True, f"{len(done.stdout)} bytes of JSON"


def mib(n):
    return n / (1 << 20)


def bench_size(size, args, prefix, extra_env, log):
    repo = Path(args.data) / f"report-{size}"
    log(f"[{size}] repository {repo} ...")
    facts = synth.make_repo(repo, size, extra_branch=True, seed=args.seed)
    how = "reused" if facts["reused"] else f"built in {facts['build_seconds']}s"
    log(f"[{size}] {facts['total_commits']} commits, {facts['markers_all']} markers ({how})")
    env = dict(os.environ, **extra_env)
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env["LC_ALL"] = env.get("LC_ALL", "C.UTF-8")
    # An installed hourly runs from bytecode compiled at install time; with
    # PYTHONDONTWRITEBYTECODE set, every measured run would compile hourly's
    # sources (and click's) again, a cost no user pays. The warm-up writes it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    ok, summary = check_hourly(prefix, env, repo)
    log(f"[{size}] hourly check: {summary}")
    store_file = repo / ".git" / "hourly" / "markers.sqlite3"

    def drop_store():
        for suffix in ("", "-wal", "-shm"):
            Path(str(store_file) + suffix).unlink(missing_ok=True)

    month = month_args(repo)
    # nocache: HOURLY_NO_CACHE=1, the whole history read as the floor reads it;
    # cold: no store yet (deleted before each run): one full read that fills it;
    # warm: the store filled, tips unchanged: the whole history from the store;
    # month: the same, one month (--since/--until).
    commands = {"floor": (FLOOR, env, None)}
    if ok:
        commands["nocache"] = (prefix + HOURLY_ARGS, dict(env, HOURLY_NO_CACHE="1"), None)
        commands["cold"] = (prefix + HOURLY_ARGS, env, drop_store)
        commands["warm"] = (prefix + HOURLY_ARGS, env, None)
        commands["month"] = (prefix + HOURLY_ARGS + month, env, None)
    if args.only:
        commands = {name: command for name, command in commands.items() if name == "floor" or name in args.only}
    loads = []
    for name, (cmd, cmd_env, before) in commands.items():          # warm-up, untimed
        measure(cmd, repo, cmd_env, sample=False, before=before)
    samples = {name: [] for name in commands}
    for run in range(args.runs):
        order = list(commands) if run % 2 == 0 else list(reversed(list(commands)))
        for name in order:
            if name in ("warm", "month") and not store_file.exists():  # filled (cold fills it too)
                measure(prefix + HOURLY_ARGS, repo, env, sample=False)
            result = measure(commands[name][0], repo, commands[name][1], before=commands[name][2])
            if result[4] != 0:
                raise SystemExit(f"{name} failed with exit code {result[4]} in {repo}")
            samples[name].append(result)
        loads.append(os.getloadavg()[0])
        log(f"[{size}] run {run + 1}/{args.runs}: "
            + ", ".join(f"{n} {samples[n][-1][0]:.3f}s {mib(samples[n][-1][2] or samples[n][-1][1]):.1f}MiB"
                        for n in commands) + f" (load {loads[-1]:.2f})")

    def summarise(name):
        rows = samples.get(name)
        if not rows:
            return None
        return {
            "median_s": statistics.median(r[0] for r in rows),
            "min_s": min(r[0] for r in rows),
            "max_s": max(r[0] for r in rows),
            "peak_mib": max(mib(r[1]) for r in rows),
            "tree_peak_mib": max(mib(r[2]) for r in rows),
            "output_bytes": rows[-1][3],
        }

    row = {name: summarise(name) for name in commands}
    row.update({
        "size": size, "total_commits": facts["total_commits"], "markers": facts["markers_all"],
        "month_args": " ".join(month), "runs": args.runs, "hourly_check": summary,
        "load_average": [round(min(loads), 2), round(max(loads), 2)],  # 1-minute load over the runs
        "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    })
    row.update(verdicts(row))
    return row


def month_args(repo: Path) -> list:
    """--since/--until for the last whole month of the repository's history."""
    last = subprocess.run(["git", "log", "-1", "--format=%aI", "main"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout.strip()
    year, month = int(last[:4]), int(last[5:7])
    start = (year, month - 1) if month > 1 else (year - 1, 12)
    return ["--since", f"{start[0]}-{start[1]:02d}-01", "--until", f"{year}-{month:02d}-01", "--tz", "UTC"]


def verdicts(row):
    floor = row["floor"]
    out = {}
    for name, target in TARGETS.items():
        target = AT_1M.get(name, target) if row["size"] >= 1_000_000 else target
        measured = row.get(name)
        ratio = measured["median_s"] / floor["median_s"] if measured else None
        judged = row["size"] >= JUDGED_FROM[name]
        out[f"{name}_ratio"] = ratio
        out[f"{name}_verdict"] = ("PASS" if ratio <= target else "FAIL") if judged and ratio is not None \
            else "n/a"
    # Memory is judged on hourly's whole tree (python + the git it reads from),
    # summed: stricter than the largest single process, which is the git child.
    peaks = [row[n]["tree_peak_mib"] for n in MEASURES if row.get(n)]
    diff = max(peaks) - floor["peak_mib"] if peaks else None
    out["diff_mib"] = diff
    out["memory_verdict"] = ("PASS" if diff <= MEMORY_TARGET_MIB else "FAIL") if diff is not None else "FAIL"
    return out


HEADER = ["commits", "floor s", "nocache s", "ratio", "cold s", "ratio", "verdict",
          "warm s", "ratio", "verdict", "month s", "ratio", "verdict",
          "floor MiB", "hourly tree MiB", "diff MiB", "memory", "measured"]


def table_rows(rows):
    out = []
    for row in sorted(rows, key=lambda r: r["size"]):
        f = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        x = lambda v: f(v, ".3f") + ("x" if v is not None else "")  # noqa: E731
        seconds = lambda name: f((row.get(name) or {}).get("median_s"), ".3f")  # noqa: E731
        peak = max((row[n] or {}).get("tree_peak_mib", 0) for n in MEASURES if n in row)
        out.append([
            f"{row['size']:,}" + (f" (+{row['total_commits'] - row['size']:,})"
                                  if row["total_commits"] != row["size"] else ""),
            seconds("floor"), seconds("nocache"), x(row.get("nocache_ratio")),
            seconds("cold"), x(row.get("cold_ratio")), row.get("cold_verdict", "-"),
            seconds("warm"), x(row.get("warm_ratio")), row.get("warm_verdict", "-"),
            seconds("month"), x(row.get("month_ratio")), row.get("month_verdict", "-"),
            f(row["floor"]["peak_mib"], ".1f"), f(peak, ".1f"), f(row["diff_mib"], "+.1f"),
            row["memory_verdict"], row["measured"],
        ])
    return out


def render_text(rows):
    body = table_rows(rows)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(HEADER)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in body])


def render_markdown(rows, meta):
    body = table_rows(rows)
    lines = [
        START,
        "",
        "Generated by `python bench/report.py --write`; do not edit by hand between the markers.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(":---:" if h in ("verdict", "memory") else "---:" for h in HEADER[:-1]) + "|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    lines += [
        "",
        "* Targets (ratios of hourly's median time to the floor's, same repository, same run): "
        "cold <= 1.1x from 100,000 commits on and <= 0.8x at 1,000,000; warm <= 0.12x and month <= 0.02x at 1,000,000 commits; "
        f"hourly tree peak memory <= the floor's + {MEMORY_TARGET_MIB} MiB. \"nocache\" is shown "
        "with the cold ratio's target in mind but not judged separately.",
        "* \"nocache\": `HOURLY_NO_CACHE=1`, the whole history read as the floor reads it, no store. "
        "\"cold\": no marker store yet (deleted before each run): one full read that also fills "
        "`.git/hourly/markers.sqlite3`. \"warm\": the store filled, tips unchanged: the whole "
        "history read from the store, paired and written out. \"month\": the same, for the last "
        "whole month of history (`--since/--until`): the store reads only the markers from a cut "
        "before `--since` on (see `src/hourly_hooks/core/sessions.py`, `cut`).",
        "* Floor: `git log --all -i -E --grep=<markers.GREP> "
        "--format='%H%x00%aI%x00%aN%x00%aE%x00%B'` (the grep hourly itself uses). Measured: "
        f"`{' '.join(['hourly'] + HOURLY_ARGS)}` run as {meta['hourly']}, cwd = the repository.",
        "* Each size: one untimed warm-up of each command, then the runs interleaved (order "
        "alternating run by run); time = median wall time; both outputs go to a pipe that the "
        "bench reads fully; stderr to /dev/null.",
        "* Floor peak MiB = `ru_maxrss` of git. \"hourly tree peak\" = the summed RSS of hourly and "
        "its descendants (the git it reads from included), sampled every 10 ms, the largest of the "
        "hourly runs; the memory verdict compares that sum with the floor.",
        "* Repositories: `bench/synth.py` (`make_repo(path, N, extra_branch=True)`): 5 authors, "
        "~10% clock markers in mixed spellings and the trailer form (which the floor's pattern "
        "does not match), near-miss messages, and a `rebased` branch copying the last ~2% of "
        "history (the \"(+n)\" commits) so `--all` sees duplicate markers. Cached in bench/data/ "
        "(git-ignored).",
        f"* Machine: {meta['machine']}.",
        "",
        END,
    ]
    return "\n".join(lines)


def write_readme(path: Path, section: str):
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text and text.index(START) < text.index(END):
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## Report\n\n" + section + "\n"
    path.write_text(text)


def machine():
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {git}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated numbers of commits (default 10000,100000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(HERE / "data"))
    parser.add_argument("--write", action="store_true",
                        help="update the Report section of bench/README.md")
    parser.add_argument("--readme", default=str(HERE / "README.md"))
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--installed", action="store_true",
                       help="measure the installed hourly instead of this checkout's src/")
    which.add_argument("--hourly", metavar="CMD", help="the hourly command to measure, e.g. 'hourly'")
    parser.add_argument("--only", type=lambda text: [n.strip() for n in text.split(",") if n.strip()],
                        metavar="NAMES", help="measure only these of nocache,cold,warm,month (and the floor), "
                        "e.g. --only cold; the results are printed, not stored")
    args = parser.parse_args(argv)
    unknown = set(args.only or ()) - set(MEASURES)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))} (choose from {','.join(MEASURES)})")
    if args.only and args.write:
        parser.error("--only measures a part of a row: it cannot be written to the README")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    prefix, extra_env, description = hourly_command(args)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    store = Path(args.data) / "report-results.json"
    try:
        stored = json.loads(store.read_text())
    except (OSError, ValueError):
        stored = {}
    rows = []
    for size in sizes:
        row = bench_size(size, args, prefix, extra_env, log)
        rows.append(row)
        if args.only:
            continue  # a partial row would replace a whole one
        stored[str(size)] = row
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(stored, indent=1) + "\n")

    print(render_text(rows))
    if args.write:
        meta = {"hourly": f"`{description}`", "machine": machine()}
        write_readme(Path(args.readme), render_markdown(list(stored.values()), meta))
        log(f"wrote the Report section of {args.readme} ({len(stored)} sizes)")
    failed = any("FAIL" in [r.get(f"{n}_verdict") for n in TARGETS] + [r["memory_verdict"]] for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
