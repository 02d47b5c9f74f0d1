"""Record, then compare, what `hourly report` and `hourly status` print on a set of histories.

    python bench/outputs.py record DIR [--big PATH]...
    python bench/outputs.py compare DIR [--big PATH]...

A safety net for speed work on the report path: record the outputs of the
code before a change, then compare byte for byte after it. Each command runs
as ``python -m hourly_hooks`` from this checkout's src/, with stdout, stderr
and the exit status kept. The small histories are built once under
/tmp/hourly-outputs/ (the seed's worked run, a synthetic history with rebased
copies and anomalies under a configuration with rates, rounding and limits,
and a hand-made history of odd cases: ties, a malformed offset, a near miss,
overlaps, a forgotten clock-out); ``--big`` adds existing repositories (a
bench copy: hourly writes its store there). Each history runs warm (store
filled), and the small ones also without the store and from an empty store.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = [str(ROOT / "src")]  # the hourly_hooks to run (--src)
HISTORIES = Path(os.environ.get("HOURLY_OUTPUTS_DIR", "/tmp/hourly-outputs"))  # one per concurrent user

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

COMMANDS = [
    ["report", "--all"],
    ["report", "--all", "--format", "markdown"],
    ["report", "--all", "--format", "csv"],
    ["report", "--all", "--format", "json"],
    ["report", "--all", "--format", "timeclock"],
    ["report", "--all", "--format", "html"],
    ["report", "--all", "--by", "day"],
    ["report", "--all", "--by", "week", "--format", "json"],
    ["report", "--all", "--by", "author", "--format", "csv"],
    ["report", "--all", "--by", "month", "--format", "markdown"],
    ["report", "--all", "--tz", "Asia/Tokyo", "--format", "json"],
    ["report", "--all", "--tz", "Asia/Tokyo"],
    ["report", "--all", "--tz", "Asia/Tokyo", "--wide"],
    ["report", "--all", "--tz", "Asia/Tokyo", "--format", "csv"],
    ["report", "--all", "--round", "15m", "--format", "json"],
    ["report", "--all", "--round", "15m", "--round-mode", "down", "--by", "week"],
    ["report", "--all", "--round", "15m", "--round-mode", "nearest", "--format", "csv"],
    ["report", "--all", "--rate", "100 USD", "--format", "json"],
    ["report", "--all", "--rate", "100 USD", "--by", "author"],
    ["report", "--all", "--ignore", "bono", "--format", "json"],
    ["report", "--all", "--ignore", "payment", "--ignore", "bono"],
    ["report", "--all", "--identity", "name", "--format", "json"],
    ["report", "--all", "--identity", "name+email", "--format", "json"],
    ["report", "--all", "--worklog"],
    ["report", "--all", "--worklog", "--format", "json"],
    ["report", "--all", "--worklog", "--format", "markdown"],
    ["report", "--all", "--strict", "--format", "json"],
    ["report", "--all", "--chart"],
    ["report", "--format", "json"],
    ["report"],
    ["-c", "budget=10h/week", "report", "--all", "--until", "2020-01-06", "--format", "json"],
    ["-c", "budget=10h/week", "report", "--all", "--until", "2020-01-06", "--worklog", "--format", "json"],
    ["-c", "budget=30h/month", "report", "--all", "--since", "2020-01-04", "--until", "2020-01-05"],
    ["-c", "contract=20h", "-c", "contract_start=2020-01-01", "report", "--all", "--until", "2021-04-01",
     "--format", "json"],
]

# --since/--until a month (and a few days), per history: (since, until).
WINDOWS = {
    "seed": [("Jan 1, 2020", "Jan 6, 2020"), ("2020-01-04", "2020-01-05")],
    "synth": [("2001-02-01", "2001-03-01"), ("2001-01-20", "2001-01-23")],
    "odd": [("2021-03-01", "2021-04-01")],
}
STATUS = [["status"], ["status", "--json"]]
# Who runs `hourly status`, and when (git var GIT_AUTHOR_IDENT reads both from the environment).
ME = {"seed": ("apembroke@gmail.com", "2020-01-05T20:00:00-05:00"),
      "synth": ("alice@moreau.example", "2001-02-20T12:00:00+01:00"),
      "odd": ("alice@example.com", "2021-04-05T12:00:00+00:00"),
      "big": ("alice@moreau.example", "2003-04-24T12:00:00+02:00")}
BIG_WINDOWS = [("2002-05-01", "2002-06-01")]


def window_commands(windows):
    out = []
    for since, until in windows:
        out.append(["report", "--all", "--since", since, "--until", until, "--format", "json"])
        out.append(["report", "--all", "--since", since, "--until", until, "--rate", "50 EUR"])
        out.append(["report", "--since", since, "--until", until, "--by", "day", "--format", "csv"])
    return out


def _env() -> dict:
    home = HISTORIES / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "HOURLY_", "BTCPAYSERVER_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), LC_ALL="C", TZ="UTC",
               PYTHONPATH=SRC[0], COLUMNS="100")
    return env


def build_histories() -> dict:
    """name -> path of the small histories (built once)."""
    from gitrepo import GitRepo, isolated_env

    HISTORIES.mkdir(parents=True, exist_ok=True)
    paths = {}
    seed = HISTORIES / "seed"
    if not (seed / ".git").exists():
        from seed_history import build_seed_repo

        shutil.rmtree(seed, ignore_errors=True)
        build_seed_repo(GitRepo(seed, isolated_env(HISTORIES)))
    paths["seed"] = seed

    synth = HISTORIES / "synth"
    if not (synth / ".git").exists() and not (synth / "HEAD").exists():
        import synth as synth_module

        synth_module.make_repo(synth, 6000, authors=6, extra_branch=True, silent_author=True,
                               anomaly_ratio=0.05, reuse=False)
    (synth / ".hourly.toml").write_text(
        'round = "6m"\nmax_session = "3h"\nignore = ["pro bono"]\ncurrencies = ["CHF"]\n'
        '[rates]\ndefault = "100 USD"\n"alice@moreau.example" = "120.5 CHF"\n'
        '"Bob Okafor" = "0.0015 BTC"\n"Chen Wei <chen.wei@example.cn>" = "80 EUR"\n')
    paths["synth"] = synth

    odd = HISTORIES / "odd"
    if not (odd / ".git").exists():
        shutil.rmtree(odd, ignore_errors=True)
        repo = GitRepo(odd, isolated_env(HISTORIES))
        a = dict(name="Alice Martin", email="alice@example.com")
        b = dict(name="Bøb Ünïcode", email="BOB@Example.com")
        c = dict(name="Bøb Ünïcode", email="bob@example.com")
        repo.commit("clock-in", "2021-03-01T09:00:00+01:00", **a)
        repo.commit("work", "2021-03-01T10:00:00+01:00", files={"f": "1"}, **a)
        repo.commit("clock-out: T-10m first", "2021-03-01T12:00:00+01:00", **a)
        repo.commit("clock-in: next", "2021-03-01T12:00:00+01:00", **a)    # same second as the out
        repo.commit("clock-out", "2021-03-01T13:00:00+01:00", **a)
        repo.commit("clock-in", "2021-03-02T09:00:00-05:00", **b)
        repo.commit("clock-in", "2021-03-02T10:00:00-05:00", **c)         # double in (same email)
        repo.commit("clock-out pro bono", "2021-03-02T11:30:00-05:00", **b)
        repo.commit("clock-out", "2021-03-02T12:00:00-05:00", **b)        # lone out
        repo.commit("clock-in T-99999d", "2021-03-03T09:00:00+00:00", **a)  # malformed
        repo.commit("clock-out", "2021-03-03T10:00:00+00:00", **a)
        repo.commit("clock  in", "2021-03-04T09:00:00+09:00", **b)         # near miss
        repo.commit("clock-out", "2021-03-04T10:00:00+09:00", **b)
        repo.commit("clock-in", "2021-03-05T09:00:00+05:30", **a)
        repo.commit("clock-out: T-2h", "2021-03-05T10:00:00+05:30", **a)   # out before in
        repo.commit("clock-in", "2021-03-06T09:00:00+00:00", **a)
        repo.commit("clock-out", "2021-03-07T12:00:00+00:00", **a)         # too long
        repo.commit("clock-in", "2021-03-08T09:00:00+00:00", **a)
        repo.commit("clock-out", "2021-03-08T11:00:00+00:00", **a)
        repo.commit("clock-in T-3h", "2021-03-08T12:00:00+00:00", **a)     # overlaps
        repo.commit("clock-out", "2021-03-08T13:00:00+00:00", **a)
        repo.commit("feature\n\nDid things.\n\nClock: in", "2021-03-09T08:00:00-08:00", **b)
        repo.commit("more\n\nClock: out T-5m wrap up", "2021-03-09T09:30:00-08:00", **b)
        repo.git("checkout", "-q", "-b", "side", "HEAD~4")
        repo.commit("clock-in", "2021-03-08T12:00:00+00:00", **a)          # copy of one on main
        repo.commit("clock-in", "2021-03-10T09:00:00+02:00", **a)
        repo.commit("clock-out", "2021-03-10T09:00:00+02:00", **a)         # same second, same person
        repo.commit("clock-in", "2021-03-10T09:00:00+02:00", **c)
        repo.commit("clock-out", "2021-03-10T10:00:00+02:00", **c)
        repo.git("checkout", "-q", "main")
        repo.commit("clock-in", "2021-03-31T23:30:00-03:00", **a)
        repo.commit("clock-out", "2021-04-01T01:30:00-03:00", **a)        # across the month's end
        repo.commit("clock-in", "2021-04-02T09:00:00+00:00", **a)          # left open
    paths["odd"] = odd
    return paths


def _me(name: str) -> dict:
    email, date = ME[name]
    return {"GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}


def runs(paths: dict, big) -> list:
    """(label, cwd, args, extra env, store to delete first)."""
    out = []
    for name, path in paths.items():
        commands = COMMANDS + window_commands(WINDOWS[name])
        for i, args in enumerate(commands):
            out.append((f"{name}/warm/{i:02d}", path, args, {}, False))
        for i, args in enumerate(STATUS):
            out.append((f"{name}/status/{i:02d}", path, args, _me(name), False))
        for i, args in enumerate(commands[:6] + commands[-3:]):
            out.append((f"{name}/nocache/{i:02d}", path, args, {"HOURLY_NO_CACHE": "1"}, False))
            out.append((f"{name}/cold/{i:02d}", path, args, {}, True))
    for path in big:
        name = Path(path).name
        commands = [c for c in COMMANDS if "--worklog" not in c and "html" not in c and "--chart" not in c]
        for i, args in enumerate(commands + window_commands(BIG_WINDOWS)):
            out.append((f"{name}/warm/{i:02d}", Path(path), args, {}, False))
        for i, args in enumerate(STATUS):
            out.append((f"{name}/status/{i:02d}", Path(path), args, _me("big"), False))
    return out


def _store(cwd: Path) -> Path:
    git = cwd / ".git" if (cwd / ".git").exists() else cwd
    return git / "hourly" / "markers.sqlite3"


def run_one(cwd: Path, args, extra: dict, cold: bool) -> bytes:
    if cold:
        store = _store(cwd)
        for suffix in ("", "-wal", "-shm"):
            Path(str(store) + suffix).unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "hourly_hooks", *args], cwd=cwd, env={**_env(), **extra},
                          capture_output=True)
    return (b"$ hourly " + " ".join(args).encode() + b"\n--- rc %d\n--- stdout\n" % done.returncode
            + done.stdout + b"--- stderr\n" + done.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("dir")
    parser.add_argument("--big", action="append", default=[])
    parser.add_argument("--only", default="", help="run only labels starting with this")
    parser.add_argument("--src", help="the src/ folder to run hourly_hooks from (default: this checkout's)")
    args = parser.parse_args(argv)
    if args.src:
        SRC[0] = str(Path(args.src).resolve())
    paths = build_histories()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Fill every store once first, so "warm" means warm.
    for path in [*paths.values(), *map(Path, args.big)]:
        run_one(Path(path), ["report", "--all"], {}, False)
        run_one(Path(path), ["report"], {}, False)
    bad = 0
    count = 0
    for label, cwd, command, extra, cold in runs(paths, args.big):
        if not label.startswith(args.only):
            continue
        count += 1
        text = run_one(cwd, command, extra, cold)
        file = folder / (label.replace("/", "_") + ".out")
        if args.mode == "record":
            file.write_bytes(text)
            continue
        if not file.exists():
            print(f"MISSING {label}")
            bad += 1
            continue
        old = file.read_bytes()
        if old != text:
            bad += 1
            print(f"DIFF {label}: {' '.join(command)}")
            diff = difflib.unified_diff(old.decode("utf-8", "replace").splitlines(),
                                        text.decode("utf-8", "replace").splitlines(), lineterm="", n=1)
            for line in list(diff)[:12]:
                print("   ", line[:200])
    print(f"{args.mode}: {count} runs, {bad} differing" if args.mode == "compare" else f"recorded {count} runs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
