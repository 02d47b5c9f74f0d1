"""The worked history of seed_history.py (eight sessions, 12:54:47, 1291.31 USD) through the real CLI."""

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main
from seed_history import SEED_ARGS, SEED_SESSIONS, build_seed_repo


@pytest.fixture
def seed(repo):
    return build_seed_repo(repo)


def run(repo, *args):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args])
    return result


def test_seed_table_lists_exactly_the_eight_sessions_and_the_totals(seed):
    result = run(seed, *SEED_ARGS, "--wide")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("2020-")]
    assert len(rows) == 8
    for (start, end, duration), row in zip(SEED_SESSIONS, rows):
        assert row.startswith(f"{start}  {end}")
        assert duration in row
    assert "12:54:47, 12.91 hours worked" in result.stdout
    assert "1291.31 USD" in result.stdout
    assert "1291.3055" not in result.stdout


def test_seed_json_total_is_46487_seconds(seed):
    result = run(seed, *SEED_ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["total"] == {
        "sessions": 8, "seconds": 46487, "billed_seconds": 46487, "hours": "12.91",
        "amount": "1291.31", "currency": "USD", "amounts": {"USD": "1291.31"}}
    first = document["sessions"][0]
    assert first["author"] == "Asher Pembroke <apembroke@gmail.com>"
    assert first["start"] == "2020-01-03T18:44:04-05:00"
    assert first["end"] == "2020-01-03T20:31:57-05:00"
    assert (first["seconds"], first["hours"]) == (6473, "1.80")
    assert len(first["in_commit"]) == 40 and len(first["out_commit"]) == 40
    assert document["open"] == [] and document["anomalies"] == []


def test_seed_without_author_filter_pairs_both_names_of_one_email(seed):
    # Identity is the email: asherp's sessions join Asher Pembroke's without anomalies.
    result = run(seed, *[a for a in SEED_ARGS if a != "Asher Pembroke" and a != "--author"],
                 "--format", "json")
    document = json.loads(result.stdout)
    assert document["total"]["sessions"] == 10
    assert document["total"]["seconds"] == 46487 + 5400 + 10800
    assert document["anomalies"] == []


def test_ignore_drops_the_pro_bono_session(seed):
    args = ["--since", "2020-01-06", "--until", "2020-01-07", "--tz", "America/New_York"]
    assert "hours worked" in run(seed, *args).stdout
    assert "1:00:00, 1.00 hours worked" in run(seed, *args).stdout
    result = run(seed, *args, "--ignore", "PRO BONO")
    assert "0:00:00, 0.00 hours worked" in result.stdout
    assert "Ignored 1 session(s) matching 'PRO BONO'" in result.stderr


@pytest.mark.parametrize("by", ["session", "day", "week", "author"])
def test_seed_rows_add_up_to_the_1291_31_total(seed, by):
    document = json.loads(run(seed, *SEED_ARGS, "--rate", "100 USD", "--format", "json", "--by", by).stdout)
    assert document["total"]["amount"] == "1291.31" and document["total"]["hours"] == "12.91"
    rows = document["sessions"] if by == "session" else document["groups"]
    amounts = [r["amount"] for r in rows] if by == "session" else [r["amounts"]["USD"] for r in rows]
    assert sum(Decimal(a) for a in amounts) == Decimal("1291.31")
    assert sum(Decimal(r["hours"]) for r in rows) == Decimal("12.91")
