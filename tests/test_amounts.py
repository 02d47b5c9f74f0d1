"""Amounts a client can read: fixed point, rows that add up to the totals, rounded seconds billed."""

import csv
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hourly_hooks import history
from hourly_hooks.core import money
from hourly_hooks.cli import main
from hourly_hooks.core.timesheet import GROUPINGS, Rates, Selection, build, grouped

UTC = ZoneInfo("UTC")


def report(repo, *args):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def uncommented(text):
    """The CSV after its first line, the period as a comment."""
    comment, rest = text.split("\n", 1)
    assert comment.startswith("# period: ")
    return io.StringIO(rest)


def sessions(repo, *spans, name="Alice Martin", email="alice@example.com"):
    """Clock in and out at each (start, end) ISO pair."""
    for start, end in spans:
        repo.commit("clock-in", start, name=name, email=email)
        repo.commit("clock-out", end, name=name, email=email)
    return repo


@pytest.fixture
def thirds(repo):
    """Three 20-minute sessions on three days."""
    return sessions(repo, *[(f"2026-03-0{d}T09:00:00+00:00", f"2026-03-0{d}T09:20:00+00:00") for d in (2, 3, 4)])


def test_a_second_of_bitcoin_is_fixed_point_everywhere(repo):
    sessions(repo, ("2026-03-02T09:00:00+00:00", "2026-03-02T09:00:01+00:00"))
    rate = ("--rate", "0.0015 BTC")
    for by in ("session", "day"):
        for fmt in ("table", "markdown", "csv", "json"):
            text = report(repo, *rate, "--by", by, "--format", fmt)
            assert "E-" not in text and "e-" not in text, (by, fmt, text)
            assert "0.00000042" in text, (by, fmt, text)
    document = json.loads(report(repo, *rate, "--format", "json"))
    assert document["sessions"][0]["amount"] == "0.00000042"
    assert document["total"]["amount"] == "0.00000042" and document["total"]["amounts"] == {"BTC": "0.00000042"}
    assert document["total"]["hours"] == "0.00" and document["sessions"][0]["hours"] == "0.00"
    assert "0.00000042 BTC" in report(repo, *rate)


def test_a_zero_amount_is_zero_in_the_minor_unit(repo):
    sessions(repo, ("2026-03-02T09:00:00+00:00", "2026-03-02T09:00:01+00:00"))
    args = ("--rate", "0.0015 BTC", "--round", "15m", "--round-mode", "down")
    document = json.loads(report(repo, *args, "--format", "json"))
    assert document["sessions"][0]["amount"] == "0.00000000"
    assert document["total"]["amount"] == "0.00000000" and document["total"]["hours"] == "0.00"
    (row,) = csv.DictReader(uncommented(report(repo, *args, "--format", "csv")))
    assert row["amount"] == "0.00000000" and row["hours"] == "0.00"
    table = report(repo, *args)
    assert "0.00000000 BTC" in table and "0E" not in table


def test_rows_add_up_to_the_total_in_every_format(thirds):
    document = json.loads(report(thirds, "--rate", "100 USD", "--format", "json"))
    amounts = [s["amount"] for s in document["sessions"]]
    hours = [s["hours"] for s in document["sessions"]]
    assert document["total"]["amount"] == "100.00" and document["total"]["hours"] == "1.00"
    assert sorted(amounts) == ["33.33", "33.33", "33.34"] and sum(map(Decimal, amounts)) == Decimal("100.00")
    assert sorted(hours) == ["0.33", "0.33", "0.34"] and sum(map(Decimal, hours)) == Decimal("1.00")
    rows = list(csv.DictReader(uncommented(report(thirds, "--rate", "100 USD", "--format", "csv"))))
    assert [r["amount"] for r in rows] == amounts and [r["hours"] for r in rows] == hours
    table = report(thirds, "--rate", "100 USD")
    assert table.count("33.34 USD") == 1 and table.count("33.33 USD") == 2 and "100.00 USD" in table
    markdown = report(thirds, "--rate", "100 USD", "--format", "markdown")
    assert markdown.count("| 0.34 |") == 1 and markdown.count("| 0.33 |") == 2


@pytest.mark.parametrize("by", ["day", "week", "month", "author", "repo"])
def test_groups_add_up_to_the_total(thirds, by):
    document = json.loads(report(thirds, "--rate", "100 USD", "--by", by, "--format", "json"))
    total = document["total"]
    assert sum(Decimal(g["amounts"]["USD"]) for g in document["groups"]) == Decimal(total["amount"]) == 100
    assert sum(Decimal(g["hours"]) for g in document["groups"]) == Decimal(total["hours"]) == 1
    # The sessions beside the groups add up to them too.
    for group in document["groups"]:
        members = [s for s in document["sessions"] if by != "day" or s["start"].startswith(group["key"])]
        if by == "day":
            assert sum(Decimal(s["amount"]) for s in members) == Decimal(group["amounts"]["USD"])
    rows = list(csv.DictReader(uncommented(report(thirds, "--rate", "100 USD", "--by", by, "--format", "csv"))))
    assert sum(Decimal(r["amount"]) for r in rows) == 100 and sum(Decimal(r["hours"]) for r in rows) == 1


def test_by_day_rows_in_the_table_add_up(thirds):
    table = report(thirds, "--rate", "100 USD", "--by", "day")
    assert table.count("33.34 USD") == 1 and table.count("33.33 USD") == 2


def test_a_total_rounded_once_stands_when_rows_are_allocated(repo):
    # 12:54:47 at 100 USD/h is 1291.31 USD, rounded once from the exact seconds.
    sessions(repo, ("2026-03-02T09:00:00+00:00", "2026-03-02T15:00:00+00:00"),
             ("2026-03-03T09:00:00+00:00", "2026-03-03T15:54:47+00:00"))
    document = json.loads(report(repo, "--rate", "100 USD", "--format", "json"))
    assert document["total"]["amount"] == "1291.31" and document["total"]["hours"] == "12.91"
    assert [s["amount"] for s in document["sessions"]] == ["600.00", "691.31"]
    assert [s["hours"] for s in document["sessions"]] == ["6.00", "6.91"]


def test_an_increment_that_does_not_divide_an_hour_bills_the_rounded_seconds(repo):
    # Three 5-minute sessions rounded up to 10 minutes are 30 minutes: 50.00 at
    # 100/h, not 3 x 0.17 h = 51.00.
    sessions(repo, *[(f"2026-03-0{d}T09:00:00+00:00", f"2026-03-0{d}T09:05:00+00:00") for d in (2, 3, 4)])
    document = json.loads(report(repo, "--rate", "100 USD", "--round", "10m", "--format", "json"))
    assert [s["billed_seconds"] for s in document["sessions"]] == [600, 600, 600]
    assert document["total"]["amount"] == "50.00" and document["total"]["hours"] == "0.50"
    assert sum(Decimal(s["amount"]) for s in document["sessions"]) == Decimal("50.00")
    assert sum(Decimal(s["hours"]) for s in document["sessions"]) == Decimal("0.50")
    twenty = json.loads(report(repo, "--rate", "100 USD", "--round", "20m", "--format", "json"))
    assert twenty["total"]["amount"] == "100.00" and twenty["total"]["hours"] == "1.00"


def _sheet(repo, rates, tz=UTC):
    commits = history.read_all([history.open_repository(repo.path)])
    return build(Selection(tz=tz, rates=rates), commits)


def test_each_currency_adds_up_on_its_own(repo):
    thirds = [(f"2026-03-0{d}T09:00:00+00:00", f"2026-03-0{d}T09:20:00+00:00") for d in (2, 3, 4)]
    sessions(repo, *thirds)
    sessions(repo, *thirds, name="Bob", email="bob@example.com")
    sessions(repo, ("2026-03-05T09:00:00+00:00", "2026-03-05T09:00:01+00:00"), name="Carol", email="carol@example.com")
    rates = Rates(by_identity={"alice@example.com": money.parse_rate("100 USD"),
                               "bob@example.com": money.parse_rate("10 JPY"),
                               "carol@example.com": money.parse_rate("0.0015 BTC")})
    sheet = _sheet(repo, rates)
    assert sheet.amounts == {"USD": Decimal("100.00"), "JPY": Decimal("10"), "BTC": Decimal("0.00000042")}
    for currency, total in sheet.amounts.items():
        assert sum(line.amount for line in sheet.lines if line.rate.currency == currency) == total
    assert sum(line.hours for line in sheet.lines) == sheet.hours == Decimal("2.00")
    for by in GROUPINGS[1:]:
        parts = grouped(sheet, by)
        assert sum(g.sheet.hours for g in parts) == sheet.hours, by
        for currency, total in sheet.amounts.items():
            assert sum(g.sheet.amounts.get(currency, 0) for g in parts) == total, (by, currency)
        for group in parts:
            for currency, total in group.sheet.amounts.items():
                assert sum(l.amount for l in group.sheet.lines if l.rate.currency == currency) == total
    text = report(repo, "--by", "author")
    assert "E-" not in text


def test_a_group_is_within_one_unit_of_its_exact_amount(repo):
    # 40 sessions of 18 s at 1 USD/h cost exactly 0.005 each: the rows share
    # 0.20 out a cent to each of twenty of them, but the days get their own
    # share of the total first, 0.05 each, not 0.10, 0.10, 0 and 0.
    spans = [(f"2026-03-{d:02d}T09:{m:02d}:00+00:00", f"2026-03-{d:02d}T09:{m:02d}:18+00:00")
             for d in range(2, 6) for m in range(10)]
    sessions(repo, *spans)
    sheet = _sheet(repo, Rates(default=money.parse_rate("1 USD")))
    assert sheet.amount == Decimal("0.20")
    days = grouped(sheet, "day")
    assert [g.sheet.amount for g in days] == [Decimal("0.05")] * 4
    assert sum(line.amount for line in sheet.lines) == Decimal("0.20")


def test_a_line_of_a_sheet_keeps_the_names_invoices_read(thirds):
    sheet = _sheet(thirds, Rates(default=money.parse_rate("100 USD")))
    assert (sheet.amount, sheet.currency, sheet.hours) == (Decimal("100.00"), "USD", Decimal("1.00"))
    line = sheet.lines[0]
    assert (line.amount, line.hours, line.rate) == (Decimal("33.34"), Decimal("0.34"), money.parse_rate("100 USD"))


def test_a_sheet_of_fewer_lines_totals_them_anew(thirds):
    import dataclasses

    sheet = _sheet(thirds, Rates(default=money.parse_rate("100 USD")))
    fewer = dataclasses.replace(sheet, lines=sheet.lines[:2])
    assert (fewer.amount, fewer.hours) == (Decimal("66.67"), Decimal("0.67"))
    assert sorted(line.amount for line in fewer.lines) == [Decimal("33.33"), Decimal("33.34")]
    # The whole sheet's rows keep their own shares.
    assert sum(line.amount for line in sheet.lines) == Decimal("100.00")
