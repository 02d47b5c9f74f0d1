"""Cold `hourly report` in clones of a bench repository, beside the git floor.

    python bench/clones.py [--size 1000000] [--runs 3] [--data bench/data]

bench/report.py measures the repository bench/synth.py built, which has a
commit-graph. A user's clone often has none: a clone over the network writes
no commit-graph until git's first `gc`, and a `git clone --shared` reads its
objects through alternates. For each kind below, a clone of
``<data>/report-<size>`` is made once (kept under ``<data>/clone-<kind>-<size>``)
and, run by run interleaved, the bench times the floor (the same
``git log --all --grep`` as bench/report.py) and a cold ``hourly report --all
--format json`` (the marker store deleted before each run):

* ``plain``: ``git clone --no-local`` (objects copied as a network clone gets
  them: one pack, no commit-graph);
* ``shared``: ``git clone --shared`` (objects read from the source through
  alternates, the source's commit-graph with them).

Each line ends with the 1-minute load average; the summary prints the median
ratio of each kind. Nothing is written to bench/README.md: copy the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import report  # noqa: E402

KINDS = {"plain": ["--no-local"], "shared": ["--shared"]}


def make_clone(source: Path, kind: str, target: Path) -> None:
    if (target / ".git").is_dir():
        return
    subprocess.run(["git", "clone", "-q", "--no-checkout", *KINDS[kind], str(source), str(target)], check=True)


def bench_kind(kind: str, repo: Path, args, prefix, env, log) -> dict:
    store = repo / ".git" / "hourly" / "markers.sqlite3"

    def drop_store():
        for suffix in ("", "-wal", "-shm"):
            Path(str(store) + suffix).unlink(missing_ok=True)

    commands = {"floor": (report.FLOOR, None), "cold": (prefix + report.HOURLY_ARGS, drop_store)}
    for cmd, before in commands.values():  # warm-up, untimed
        report.measure(cmd, repo, env, sample=False, before=before)
    times = {name: [] for name in commands}
    for run in range(args.runs):
        order = list(commands) if run % 2 == 0 else list(reversed(list(commands)))
        for name in order:
            seconds, _, _, _, code = report.measure(commands[name][0], repo, env, sample=False,
                                                     before=commands[name][1])
            if code:
                raise SystemExit(f"{kind} {name} failed with exit code {code}")
            times[name].append(seconds)
        log(f"[{kind}] run {run + 1}/{args.runs}: floor {times['floor'][-1]:.3f}s, "
            f"cold {times['cold'][-1]:.3f}s (load {os.getloadavg()[0]:.2f})")
    floor, cold = statistics.median(times["floor"]), statistics.median(times["cold"])
    return {"kind": kind, "floor_s": floor, "cold_s": cold, "ratio": cold / floor}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default=str(HERE / "data"))
    parser.add_argument("--kinds", default="plain,shared")
    args = parser.parse_args(argv)
    source = Path(args.data) / f"report-{args.size}"
    if not source.is_dir():
        raise SystemExit(f"{source} is missing: run bench/report.py --sizes {args.size} first")
    prefix, extra_env, _ = report.hourly_command(argparse.Namespace(hourly=None, installed=False))
    env = dict(os.environ, **extra_env, LC_ALL="C.UTF-8")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench/report.py: no user compiles on every run
    results = []
    for kind in args.kinds.split(","):
        target = Path(args.data) / f"clone-{kind}-{args.size}"
        make_clone(source, kind, target)
        results.append(bench_kind(kind, target, args, prefix, env, lambda line: print(line, flush=True)))
    for row in results:
        print(f"{row['kind']}: floor {row['floor_s']:.3f}s, cold {row['cold_s']:.3f}s, ratio {row['ratio']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
