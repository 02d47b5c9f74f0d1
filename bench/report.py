"""Benchmark `hourly report --all --format json` against the git floor.

    python bench/report.py [--sizes 10000,100000] [--runs 5] [--write]
                           [--installed | --hourly CMD] [--data bench/data]

For each size, a synthetic repository is built (or reused) under bench/data/
by bench/synth.py (``extra_branch=True``, so ``--all`` sees rebased duplicates).
On it, run by run, interleaved (the order alternates each run, after one
untimed warm-up of each), the bench times:

* the floor: ``git log --all -i -E --grep='clock[- ]?(in|out)'
  --format='%H%x00%aI%x00%aN%x00%aE%x00%B'``, the least any tool reading the
  markers from git must do;
* ``hourly report --all --format json``, by default as
  ``python -m hourly_hooks`` from this checkout's src/ (``--installed``: the
  installed ``hourly`` or package; ``--hourly CMD``: any command).

Both commands write into a pipe that the bench reads fully and discards; both
get stderr to /dev/null and the same environment.  Wall time is measured from
just before the fork to the reaping of the child by ``os.wait4``; peak memory
is the ``ru_maxrss`` that ``os.wait4`` returns, i.e. the peak resident set of
the largest single process of the child's tree (the child or any descendant it
waited for).  As that is not the sum of processes running at the same time
(e.g. python plus the git it reads from), the bench also samples the summed
RSS of the whole process tree every 10 ms and prints it as "tree peak".

Targets: median time at most 1.2x the floor's at 100k commits and more (smaller
repositories are dominated by interpreter start-up, so no time verdict there),
and peak memory at most the floor's + 50 MiB at every size.

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

FLOOR = ["git", "log", "--all", "-i", "-E", "--grep=clock[- ]?(in|out)",
         "--format=%H%x00%aI%x00%aN%x00%aE%x00%B"]
HOURLY_ARGS = ["report", "--all", "--format", "json"]
TIME_TARGET = 1.2          # hourly median / floor median, at TIME_TARGET_FROM commits and more
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


def measure(cmd, cwd, env, sample=True):
    """Run cmd with stdout into a pipe read fully; return (seconds, maxrss bytes, tree peak, out bytes, rc)."""
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

    ok, summary = check_hourly(prefix, env, repo)
    log(f"[{size}] hourly check: {summary}")
    # "cold" reads the whole history as the floor does (HOURLY_NO_CACHE=1);
    # "cached" is what a user gets from the second report on: the marker cache
    # in .git/hourly/ is filled by the warm-up run.
    cold_env = dict(env, HOURLY_NO_CACHE="1")
    commands = {"floor": (FLOOR, env)}
    if ok:
        commands["hourly"] = (prefix + HOURLY_ARGS, cold_env)
        commands["cached"] = (prefix + HOURLY_ARGS, env)
    for name, (cmd, cmd_env) in commands.items():          # warm-up, untimed
        measure(cmd, repo, cmd_env, sample=False)
    samples = {name: [] for name in commands}
    for run in range(args.runs):
        order = list(commands) if run % 2 == 0 else list(reversed(list(commands)))
        for name in order:
            result = measure(commands[name][0], repo, commands[name][1])
            if result[4] != 0:
                raise SystemExit(f"{name} failed with exit code {result[4]} in {repo}")
            samples[name].append(result)
        log(f"[{size}] run {run + 1}/{args.runs}: "
            + ", ".join(f"{n} {samples[n][-1][0]:.3f}s {mib(samples[n][-1][1]):.1f}MiB" for n in commands))

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

    floor, hourly = summarise("floor"), summarise("hourly")
    row = {"cached": summarise("cached"),
        "size": size, "total_commits": facts["total_commits"], "markers": facts["markers_all"],
        "floor_matches": facts["floor_grep_matches_all"], "runs": args.runs,
        "floor": floor, "hourly": hourly, "hourly_check": summary,
        "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    row.update(verdicts(row))
    return row


def verdicts(row):
    floor, hourly = row["floor"], row["hourly"]
    if not hourly:
        return {"ratio": None, "diff_mib": None, "time_verdict": "FAIL", "memory_verdict": "FAIL"}
    ratio = hourly["median_s"] / floor["median_s"]
    cached = row.get("cached")
    cached_ratio = cached["median_s"] / floor["median_s"] if cached else None
    # Memory is judged on hourly's whole tree (python + the git it reads from),
    # summed: stricter than the largest single process, which is the git child.
    diff = max(hourly["tree_peak_mib"], (cached or hourly)["tree_peak_mib"]) - floor["peak_mib"]
    applies = row["size"] >= TIME_TARGET_FROM
    verdict = lambda r: ("PASS" if r <= TIME_TARGET else "FAIL") if applies and r is not None else "n/a"  # noqa: E731
    return {"ratio": ratio, "cached_ratio": cached_ratio, "diff_mib": diff, "time_verdict": verdict(ratio),
            "cached_verdict": verdict(cached_ratio),
            "memory_verdict": "PASS" if diff <= MEMORY_TARGET_MIB else "FAIL"}


HEADER = ["commits", "floor median s", "hourly cold s", "cold ratio", "cold time",
          "hourly cached s", "cached ratio", "cached time", "floor peak MiB",
          "hourly tree peak MiB", "diff MiB", "memory", "measured"]


def table_rows(rows):
    out = []
    for row in sorted(rows, key=lambda r: r["size"]):
        floor, hourly, cached = row["floor"], row["hourly"] or {}, row.get("cached") or {}
        f = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        x = lambda v: f(v, ".2f") + ("x" if v is not None else "")  # noqa: E731
        out.append([
            f"{row['size']:,}" + (f" (+{row['total_commits'] - row['size']:,})"
                                  if row["total_commits"] != row["size"] else ""),
            f(floor["median_s"], ".3f"), f(hourly.get("median_s"), ".3f"), x(row["ratio"]),
            row["time_verdict"], f(cached.get("median_s"), ".3f"), x(row.get("cached_ratio")),
            row.get("cached_verdict", "-"), f(floor["peak_mib"], ".1f"),
            f(max(hourly.get("tree_peak_mib", 0), cached.get("tree_peak_mib", 0)), ".1f"),
            f(row["diff_mib"], "+.1f"), row["memory_verdict"], row["measured"],
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
        "|" + "|".join(":---:" if h in ("cold time", "cached time", "memory") else "---:"
                       for h in HEADER[:-1]) + "|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    lines += [
        "",
        f"* Targets: hourly median time at most {TIME_TARGET}x the floor's from "
        f"{TIME_TARGET_FROM:,} commits on (below that, interpreter start-up dominates: no time "
        f"verdict); hourly peak memory at most the floor's + {MEMORY_TARGET_MIB} MiB.",
        "* \"cold\": `HOURLY_NO_CACHE=1`, hourly reads the whole history exactly as the floor does. "
        "\"cached\": the default, from the second report on: the marker cache in `.git/hourly/` "
        "(filled by the warm-up run) answers for unchanged tips, and only new commits are read "
        "(see `src/hourly_hooks/markercache.py`).",
        "* Floor: `git log --all -i -E --grep='clock[- ]?(in|out)' "
        "--format='%H%x00%aI%x00%aN%x00%aE%x00%B'`. Measured: "
        f"`{' '.join(['hourly'] + HOURLY_ARGS)}` run as {meta['hourly']}, cwd = the repository.",
        "* Each size: one untimed warm-up of each command, then the runs interleaved (order "
        "alternating run by run); time = median wall time; both outputs go to a pipe that the "
        "bench reads fully; stderr to /dev/null.",
        "* Floor peak MiB = `ru_maxrss` of git. \"hourly tree peak\" = the summed RSS of hourly and "
        "its descendants (the git it reads from included), sampled every 10 ms, the larger of cold "
        "and cached; the memory verdict compares that sum with the floor.",
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
    args = parser.parse_args(argv)
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
        stored[str(size)] = row
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(stored, indent=1) + "\n")

    print(render_text(rows))
    if args.write:
        meta = {"hourly": f"`{description}`", "machine": machine()}
        write_readme(Path(args.readme), render_markdown(list(stored.values()), meta))
        log(f"wrote the Report section of {args.readme} ({len(stored)} sizes)")
    failed = any("FAIL" in (r["time_verdict"], r.get("cached_verdict"), r["memory_verdict"]) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
