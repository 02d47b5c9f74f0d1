"""What the installed hook set (`hourly install-hook`) adds to `git commit`, on large synthetic repositories.

    PYTHONPATH=src python bench/hook.py [--size 100000] [--runs 20] [--precommit] [--json]

Each measured commit is made twice on the same parent, with the same message
and dates: once through the installed hook, once with --no-verify (git
without any hook); the "added" time is the difference, paired run by run, and
the order of the two alternates from run to run. "added CPU" is the same
difference in CPU time (user + system, of git, the hook and every process
they start): the load of other processes changes it much less than the wall
time, so it compares two versions of the hook on a busy machine. Scenarios:

* recent: the author of the history's latest marker alternates clock-in /
  clock-out (the hook's usual case);
* never: each commit is the clock-in of an author with no marker at all, the
  case where a naive ``git log -1 --author --grep`` reads the whole history;
* cold: like never, but with the marker store deleted first (the one
  full read a clone pays, unless `hourly install-hook` or a report already paid it);
* ordinary: a commit without a marker, nothing staged;
* ordinary, a file staged: a commit without a marker that changes one text file
  (the key check's git grep reads it);
* pre-commit (with --precommit): recent and ordinary, through the pre-commit
  framework: the README's setup (the `hourly` hook, at commit-msg), and with
  `hourly-clock-source` too (prepare-commit-msg: what amending a marker commit
  needs); beside each, the framework's floor: the same stages running a no-op
  hook (`entry: "true"`, `language: system`).

All three plain hooks are installed (commit-msg, prepare-commit-msg, pre-commit),
as `hourly install-hook` installs them.

Repositories come from bench/synth.py (cached in bench/data/); the bench works
in a `git clone --shared` of them, so the cached repository is never changed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from hourly_hooks.core import markers  # noqa: E402
from hourly_hooks.hooks import install as hookinstall
from synth import make_repo  # noqa: E402

DATA = ROOT / "bench" / "data"
TARGETS = {100_000: 40.0, 1_000_000: 40.0}  # ms added per marker commit
# ms added per commit, by the scenario's first words (issue 15): an ordinary commit through the
# installed set, a commit through the README's pre-commit setup; the floors have none.
OTHER_TARGETS = (("ordinary", 15.0), ("pre-commit: hourly", 250.0), ("cold", None), ("pre-commit", None))


def git(cwd, *args, env=None, check=True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def bench_env(home: Path) -> dict:
    """No user config, bytecode caches allowed (as in a real install), a fixed committer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "HOURLY_", "PRE_COMMIT"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").touch()
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com", LC_ALL="C")
    return env


def latest_marker_author(repo: Path) -> tuple:
    """(name, email, kind) of the newest marker near the tip (a short, bounded look)."""
    out = git(repo, "log", "-z", "-n", "2000", "-i", "-E", "--format=%aN%x1f%aE%x1f%B",
              *[f"--grep={p}" for p in markers.GREP], "HEAD")
    for record in out.split("\0"):
        name, email, body = record.lstrip("\n").split("\x1f", 2)
        marker = markers.parse(body)
        if marker:
            return name, email, marker.kind
    raise RuntimeError("no marker near the tip")


class Bench:
    def __init__(self, clone: Path, env: dict, runs: int):
        self.clone, self.env, self.runs = clone, env, runs
        (clone.parent / "no-hooks").mkdir(exist_ok=True)
        self.clock = int(time.time()) - 20 * runs * 60 - 3600  # one minute per commit, all in the past

    def _date(self) -> str:
        self.clock += 60
        return f"@{self.clock} +0000"

    def _commit(self, message: str, author: tuple, date: str, verify: bool) -> tuple:
        """(wall s, CPU s) of one commit: CPU is git's, the hook's and their children's, which
        the load of other processes on the machine changes much less than the wall time."""
        env = dict(self.env, GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1],
                   GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        # Without the hooks: --no-verify alone still runs prepare-commit-msg (and through
        # pre-commit, the framework), so the floor points git at a folder with no hooks.
        no_hooks = [] if verify else ["-c", f"core.hooksPath={self.clone.parent / 'no-hooks'}"]
        command = ["git", *no_hooks, "commit", "-q", "--allow-empty", "-m", message]
        command += [] if verify else ["--no-verify"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=self.clone, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise RuntimeError(f"commit {message!r} by {author[1]} refused:\n{done.stdout}{done.stderr}")
        return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    def pair(self, index: int, message: str, author: tuple, before=None, prepare=None) -> tuple:
        """((wall s, CPU s) hooked, (wall s, CPU s) plain) for one commit made both ways on the same
        parent (and the same index: prepare stages what both commit); keeps the hooked one."""
        if prepare:
            prepare(index)
        date = self._date()
        parent = git(self.clone, "rev-parse", "HEAD").strip()
        if index % 2 == 0:
            plain = self._commit(message, author, date, verify=False)
            git(self.clone, "update-ref", "HEAD", parent)
            if before:
                before()
            hooked = self._commit(message, author, date, verify=True)
        else:
            if before:
                before()
            hooked = self._commit(message, author, date, verify=True)
            kept = git(self.clone, "rev-parse", "HEAD").strip()
            git(self.clone, "update-ref", "HEAD", parent)
            plain = self._commit(message, author, date, verify=False)
            git(self.clone, "update-ref", "HEAD", kept)
        return hooked, plain

    def scenario(self, name: str, runs: int, message_author, before=None, prepare=None) -> dict:
        pairs = [self.pair(i, *message_author(i), before=before, prepare=prepare) for i in range(runs)]
        added = [(h[0] - p[0]) * 1000 for h, p in pairs]
        added_cpu = [(h[1] - p[1]) * 1000 for h, p in pairs]
        return {"scenario": name, "runs": runs,
                "hooked_ms": round(statistics.median(h[0] for h, _ in pairs) * 1000, 1),
                "plain_ms": round(statistics.median(p[0] for _, p in pairs) * 1000, 1),
                "added_cpu_median_ms": round(statistics.median(added_cpu), 1),
                "added_median_ms": round(statistics.median(added), 1),
                "added_p90_ms": round(sorted(added)[int(0.9 * (len(added) - 1))], 1),
                "added_max_ms": round(max(added), 1)}


def alternate(author: tuple, first_kind: str):
    kinds = ["in", "out"] if first_kind == "in" else ["out", "in"]
    return lambda i: (f"clock-{kinds[i % 2]}", author)


def snapshot_checkout(dest: Path, env: dict) -> str:
    """This checkout's package as a one-commit repository pre-commit can install; its sha."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    if not (dest / "README.md").exists():
        (dest / "README.md").write_text("# hourly-hooks\n")
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    git(dest, "init", "-q", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "--no-verify",
        "-m", "snapshot", env=env)
    return git(dest, "rev-parse", "HEAD", env=env).strip()


def run_size(size: int, runs: int, precommit: bool, work: Path) -> dict:
    started = time.monotonic()
    facts = make_repo(DATA / f"report-{size}", size, extra_branch=True)  # shared with bench/report.py
    base = DATA / f"report-{size}"  # (facts["path"] is as the builder was given it)
    env = bench_env(work / "home")
    clone = work / "clone"
    git(work, "clone", "-q", "--shared", "--branch", "main", str(base), str(clone), env=env)
    # The clone borrows the objects; give it the commit-graph too, as the original has.
    graph = base / ".git" / "objects" / "info" / "commit-graph"
    if graph.exists():
        shutil.copy2(graph, clone / ".git" / "objects" / "info" / "commit-graph")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "hourly_hooks")],
                   env=env, check=True, capture_output=True)
    hookinstall.install(cwd=clone, python=sys.executable)  # the set: commit-msg, prepare-commit-msg, pre-commit
    name, email, kind = latest_marker_author(clone)
    bench = Bench(clone, env, runs)
    store = clone / ".git" / "hourly" / "markers.sqlite3"
    results = []

    def drop_cache():
        for suffix in ("", "-wal", "-shm"):
            Path(str(store) + suffix).unlink(missing_ok=True)

    cold_runs = 3
    results.append(bench.scenario("cold (no marker store: one full read)", cold_runs,
                                  lambda i: ("clock-in", (f"Cold {i}", f"cold{i}@example.com")), before=drop_cache))
    first = "in" if kind == "out" else "out"
    results.append(bench.scenario("recent (latest marker's author, in/out)", runs, alternate((name, email), first)))
    results.append(bench.scenario("never (author with no marker at all)", runs,
                                  lambda i: ("clock-in", (f"New {i}", f"new{i}@example.com"))))
    results.append(bench.scenario("ordinary commit (no marker)", runs,
                                  lambda i: (f"work {i}", (name, email))))
    results.append(bench.scenario("ordinary commit, a file staged", runs, lambda i: (f"work {i}", (name, email)),
                                  prepare=lambda i: stage_a_change(clone, env, i)))
    if precommit:
        results += precommit_scenarios(bench, clone, env, work, runs, (name, email), first)
    return {"size": size, "commits_in_history": facts["total_commits"], "target_ms": TARGETS.get(size),
            "results": results, "seconds": round(time.monotonic() - started, 1)}


def stage_a_change(clone: Path, env: dict, index: int) -> None:
    """One ordinary text file changed and staged (what most commits carry)."""
    (clone / "notes.md").write_text(f"# Notes\n\nChange {index}: tidy the parser, and its tests.\n")
    git(clone, "add", "notes.md", env=env)


def precommit_scenarios(bench: Bench, clone: Path, env: dict, work: Path, runs: int, author: tuple,
                        first: str) -> list:
    """Through pre-commit (its own virtualenv of a snapshot of this checkout): the README's setup
    (the `hourly` hook at commit-msg), beside the framework's floor (a no-op hook at the same
    stage); and the setup that can amend a marker commit (`hourly-clock-source` too, at
    prepare-commit-msg), beside its floor (the no-op at both stages)."""
    sha = snapshot_checkout(work / "hourly-hooks", env)
    env = dict(env, PRE_COMMIT_HOME=str(DATA / "pre-commit-home"))
    bench.env = env

    def hourly(*ids: str) -> str:
        return (f"  - repo: {work / 'hourly-hooks'}\n    rev: {sha}\n    hooks:\n"
                + "".join(f"      - id: {hook_id}\n" for hook_id in ids))

    def noop(stages: list) -> str:
        return ("  - repo: local\n    hooks:\n      - id: noop\n        name: no-op\n        entry: 'true'\n"
                f"        language: system\n        stages: [{', '.join(stages)}]\n")

    one, two = ["commit-msg"], ["prepare-commit-msg", "commit-msg"]
    setups = (("no-op hook at commit-msg, the framework's floor", noop(one), one, False),
              ("hourly (the README's setup, commit-msg)", hourly("hourly"), one, True),
              ("no-op hook at prepare-commit-msg and commit-msg, the framework's floor", noop(two), two, False),
              ("with hourly-clock-source too (to amend markers; two stages)",
               hourly("hourly", "hourly-clock-source"), two, True))
    results = []
    for label, repos, stages, markers in setups:
        use_precommit_config(clone, env, repos, stages)
        results.append(bench.scenario(f"pre-commit: {label}, ordinary commit, a file staged", runs,
                                      lambda i: (f"work {i}", author), prepare=lambda i: stage_a_change(clone, env, i)))
        if markers:
            results.append(bench.scenario(f"pre-commit: {label}, recent", runs, alternate(author, first)))
    return results


def use_precommit_config(clone: Path, env: dict, repos: str, stages: list) -> None:
    for hook in ("pre-commit", "prepare-commit-msg", "commit-msg"):
        (clone / ".git" / "hooks" / hook).unlink(missing_ok=True)
    (clone / ".pre-commit-config.yaml").write_text(
        f"default_install_hook_types: [{', '.join(stages)}]\nrepos:\n" + repos)
    git(clone, "add", ".pre-commit-config.yaml", env=env)
    git(clone, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "--no-verify",
        "-m", "pre-commit config", env=env)
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "-f"], cwd=clone, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=clone, env=env, check=True,
                   capture_output=True)


def python_start_ms(runs: int = 20) -> float:
    """The median wall time of ``python -S -c pass``: the 40 ms target is absolute, so this
    tells how fast the machine was (a hook cannot start faster than its Python)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def markdown(report: dict) -> str:
    lines = ["| commits | scenario | runs | git commit, no hook (ms) | with hook (ms) | added median (ms) "
             "| added p90 (ms) | added max (ms) | added CPU median (ms) | with / no hook | target |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for size in report["sizes"]:
        for row in size["results"]:
            target = next((ms for prefix, ms in OTHER_TARGETS if row["scenario"].startswith(prefix)),
                          size["target_ms"])
            verdict = "-"
            if target:
                verdict = f"{'PASS' if row['added_median_ms'] <= target else 'FAIL'} (<= {target:.0f})"
            lines.append(f"| {size['commits_in_history']:,} | {row['scenario']} | {row['runs']} | {row['plain_ms']} "
                         f"| {row['hooked_ms']} | {row['added_median_ms']} | {row['added_p90_ms']} "
                         f"| {row['added_max_ms']} | {row['added_cpu_median_ms']} "
                         f"| {row['hooked_ms'] / row['plain_ms']:.2f}x | {verdict} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, action="append", help="commits (repeatable; default 100000)")
    parser.add_argument("--runs", type=int, default=20, help="paired commits per scenario (at least 20)")
    parser.add_argument("--precommit", action="store_true", help="also measure through pre-commit")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work clone and print its path")
    args = parser.parse_args(argv)
    report = {"machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
                         f"Python {platform.python_version()}, {git('.', '--version').strip()}",
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": []}
    for size in args.size or [100_000]:
        work = Path(tempfile.mkdtemp(prefix=f"hook-{size}-", dir=DATA if DATA.exists() else None))
        try:
            report["sizes"].append(run_size(size, args.runs, args.precommit, work))
        finally:
            if args.keep:
                print(f"kept {work}", file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]  # after the run, 1 / 5 / 15 minutes
    report["python_start_ms"] = python_start_ms()
    print(json.dumps(report, indent=1) if args.json else f"{report['machine']}; {report['measured']}; "
          f"load average after the run {report['load_average']}; this machine's `python -S -c pass`: "
          f"{report['python_start_ms']} ms (median of 20)\n\n" + markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
