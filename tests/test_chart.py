"""The terminal bar chart: pure lines from figures and a width, and `hourly report --chart`."""

from decimal import Decimal

import pytest
from click.testing import CliRunner

from hourly_hooks.output.chart import EIGHTHS, FULL, MIN_BAR, bars
from hourly_hooks.cli import main

D = Decimal


def bar_of(line):
    return line.split("  ")[-1].strip()


def cells(bar):
    """Width of a bar in eighths of a cell."""
    return sum(8 if ch in (FULL, "#") else EIGHTHS.index(ch) + 1 for ch in bar)


def test_lines_carry_label_figure_and_a_proportional_bar():
    lines = bars([("2026-03-02", D("3.00")), ("2026-03-03", D("1.50")), ("2026-03-09", D("0.33"))], width=40)
    assert lines[0].startswith("2026-03-02  3.00  ") and lines[2].startswith("2026-03-09  0.33  ")
    room = 40 - len("2026-03-02") - len("3.00") - 4
    assert cells(bar_of(lines[0])) == room * 8                 # the longest fills the room
    assert cells(bar_of(lines[1])) == room * 4                 # half the hours, half the bar
    assert cells(bar_of(lines[2])) == round(room * 8 * 0.33 / 3)
    assert max(len(line) for line in lines) == 40


@pytest.mark.parametrize("width", [39, 57, 80, 200])  # 39: the label, figure and MIN_BAR
def test_never_wider_than_the_width(width):
    data = [(f"2026-W{n:02d} (2026-03-02)", D(n) / 3) for n in range(1, 12)]
    assert max(len(line) for line in bars(data, width)) <= width


def test_readable_without_block_characters():
    lines = bars([("a", D("2.00")), ("b", D("1.00"))], width=1 + 4 + 4 + 10, unicode=False)
    assert lines == ["a  2.00  ##########", "b  1.00  #####"]


def test_no_hours_no_bar_and_any_hours_a_sliver():
    lines = bars([("busy", D("100.00")), ("idle", D("0.00")), ("blip", D("0.01"))], width=60)
    assert lines[1] == "idle    0.00"
    assert bar_of(lines[2]) == EIGHTHS[0]
    assert bars([("busy", D("100.00")), ("blip", D("0.01"))], 60, unicode=False)[1].endswith("#")


def test_a_narrow_terminal_keeps_a_minimum_bar():
    (line,) = bars([("2026-03-02", D("8.00"))], width=10)
    assert cells(bar_of(line)) == MIN_BAR * 8


def test_nothing_to_chart():
    assert bars([], 80) == []


# --- hourly report --chart ---------------------------------------------------------------

@pytest.fixture
def week(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00-05:00")
    repo.commit("clock-out", "2026-03-02T12:00:00-05:00")   # 3:00
    repo.commit("clock-in", "2026-03-02T13:00:00-05:00")
    repo.commit("clock-out", "2026-03-02T14:00:00-05:00")   # 1:00, same day
    repo.commit("clock-in", "2026-03-04T09:00:00-05:00")
    repo.commit("clock-out", "2026-03-04T11:00:00-05:00")   # 2:00
    repo.commit("clock-in", "2026-03-10T09:00:00-05:00")
    repo.commit("clock-out", "2026-03-10T10:00:00-05:00")   # 1:00, next week
    return repo


def chart_report(repo, *args, columns="60"):
    return CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "America/New_York",
                                     "--chart", *args], env={"COLUMNS": columns})


def test_report_chart_after_the_totals_fitted_to_the_terminal(week):
    result = chart_report(week)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("7.00 hours worked") < text.index("Hours per day:")
    chart = text[text.index("Hours per day:"):].splitlines()[1:]
    assert [line.split()[:2] for line in chart] == [["2026-03-02", "4.00"], ["2026-03-04", "2.00"],
                                                    ["2026-03-10", "1.00"]]
    assert max(len(line) for line in chart) == 60
    narrow = chart_report(week, columns="40").stdout
    assert max(len(line) for line in narrow[narrow.index("Hours per day:"):].splitlines()) == 40


def test_report_chart_per_week(week):
    text = chart_report(week, "--by", "week").stdout
    chart = text[text.index("Hours per week:"):].splitlines()[1:]
    assert [line.split("  ")[:2] for line in chart] == [["2026-W10 (2026-03-02)", "6.00"],
                                                        ["2026-W11 (2026-03-09)", "1.00"]]


def test_chart_with_machine_output_needs_a_file(week, tmp_path):
    refused = chart_report(week, "--format", "csv")
    assert refused.exit_code == 2 and "--chart" in refused.stderr and refused.stdout == ""
    to_stdout = chart_report(week, "--format", "json", "-o", "-")
    assert to_stdout.exit_code == 2 and to_stdout.stdout == ""
    target = tmp_path / "week.csv"
    written = chart_report(week, "--format", "csv", "-o", str(target))
    assert written.exit_code == 0 and "Hours per day:" in written.stdout
    assert target.read_text().split("\n")[1].startswith("author,")  # after the period comment
