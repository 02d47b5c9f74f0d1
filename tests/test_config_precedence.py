"""The order of every configuration layer, pinned for one key (like gitlint's test_config_precedence).

Each layer sets a different rate; for every combination of layers present,
the bill must be priced at the highest one's rate, and `hourly config` must
name that layer as the origin.
"""

import itertools
import json

from click.testing import CliRunner

from hourly_hooks.cli import main

# Lowest first. 1.5 hours are billed, so a rate of N USD bills 1.5 * N.
LAYERS = ("user", "pyproject", "repo", "env", "-c", "flag")
RATES = {"user": 10, "pyproject": 20, "repo": 30, "env": 40, "-c": 50, "flag": 60}
ORIGINS = {"user": "file:", "pyproject": "file:", "repo": "file:", "env": "env:HOURLY_RATE",
           "-c": "command line:-c"}


def _apply(present, repo, user_file):
    """Write or remove each layer's setting; returns (args before the command, after it, env)."""
    user_file.parent.mkdir(parents=True, exist_ok=True)
    files = {"user": (user_file, 'rate = "{} USD"\n'),
             "pyproject": (repo.path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.hourly]\nrate = "{} USD"\n'),
             "repo": (repo.path / ".hourly.toml", '[rates]\ndefault = "{} USD"\n')}
    for layer, (path, text) in files.items():
        if layer in present:
            path.write_text(text.format(RATES[layer]))
        elif path.exists():
            path.unlink()
    before = ["-c", f"rate={RATES['-c']} USD"] if "-c" in present else []
    after = ["--rate", f"{RATES['flag']} USD"] if "flag" in present else []
    env = {"HOURLY_RATE": f"{RATES['env']} USD"} if "env" in present else {}
    return before, after, env


def test_every_layer_beats_the_ones_below_it(repo, isolated):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Alice Martin", email="alice@example.com")
    repo.commit("clock-out", "2026-03-02T10:30:00+00:00", name="Alice Martin", email="alice@example.com")
    user_file = isolated / ".config" / "hourly" / "config.toml"
    runner = CliRunner()
    seen = set()
    for count in range(len(LAYERS) + 1):
        for present in itertools.combinations(LAYERS, count):
            before, after, env = _apply(present, repo, user_file)
            report = runner.invoke(main, [*before, "report", "--repo", str(repo.path), "--format", "json", *after],
                                   env=env)
            assert report.exit_code == 0, (present, report.output)
            amount = json.loads(report.stdout)["total"]["amount"]
            winner = present[-1] if present else None
            expected = None if winner is None else f"{RATES[winner] * 3 // 2}.{'50' if RATES[winner] % 2 else '00'}"
            assert amount == expected, (present, amount)
            seen.add(amount)

            shown = runner.invoke(main, [*before, "config", "rate", "--json", "--repo", str(repo.path)], env=env)
            assert shown.exit_code == 0, (present, shown.output)
            settings = json.loads(shown.stdout)["settings"]
            below_flags = [layer for layer in present if layer != "flag"]
            if not below_flags:
                assert settings == [], present  # no rate anywhere: not even a default
                continue
            top = below_flags[-1]
            assert settings[0]["value"] == f"{RATES[top]} USD", present
            assert settings[0]["origin"].startswith(ORIGINS[top]), (present, settings)
            if top in ("user", "pyproject", "repo"):
                path = {"user": user_file, "pyproject": repo.path / "pyproject.toml",
                        "repo": repo.path / ".hourly.toml"}[top]
                line = {"user": 1, "pyproject": 5, "repo": 2}[top]
                assert settings[0]["source"] == {"kind": "file", "name": str(path), "line": line}, present
    assert len(seen) == len(LAYERS) + 1  # every layer won at least once, and "none" too
