"""Decimal money, currencies' minor units, rounding increments, dates and periods."""

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hourly_hooks.core import money, periods
from hourly_hooks import zones


@pytest.mark.parametrize("text, amount, currency", [
    ("100 USD", "100", "USD"), ("USD 100", "100", "USD"), ("0.0015 btc", "0.0015", "BTC"),
    ("1_250 JPY", "1250", "JPY"), ("2500 SATS", "2500", "SATS"), ("99.5EUR", "99.5", "EUR"),
    ("150 ARS", "150", "ARS"), ("7.5 KWD", "7.5", "KWD"),
])
def test_parse_rate(text, amount, currency):
    rate = money.parse_rate(text)
    assert rate == money.Rate(Decimal(amount), currency)
    assert isinstance(rate.amount, Decimal)


@pytest.mark.parametrize("text", ["100", "USD", "-5 USD", "0 USD", "0.00 USD", "ten USD", "",
                                  "inf USD", "nan USD", "1e999 USD", "USD inf", "Infinity EUR",
                                  100, Decimal("100"), float("inf"), float("nan")])
def test_parse_rate_rejects(text):
    with pytest.raises(ValueError):
        money.parse_rate(text)


@pytest.mark.parametrize("text, hint", [
    ("1,5 EUR", "use 1.5 EUR"), ("100,50 EUR", "use 100.50 EUR"), ("EUR 1,5", "use 1.5 EUR"),
    ("1,250 JPY", "use 1250 JPY"),
])
def test_a_comma_in_a_rate_is_refused_with_a_hint(text, hint):
    # "1,5 EUR" once read as 15 EUR/h and "100,50 EUR" as 10050.
    with pytest.raises(ValueError, match="comma") as caught:
        money.parse_rate(text)
    assert hint in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_currencies_are_refused_unless_known():
    with pytest.raises(ValueError, match="unknown currency 'XYZ'.*currencies"):
        money.parse_rate("100 XYZ")
    assert money.parse_rate("100 xyz", known=("XYZ",)) == money.Rate(Decimal(100), "XYZ")
    assert money.parse_rate("0.5 ETH", known=["eth"]).currency == "ETH"


@pytest.mark.parametrize("amount, currency, text", [
    ("4.2E-7", "BTC", "0.00000042"), ("0E-8", "BTC", "0.00000000"), ("0", "BTC", "0.00000000"),
    ("1291.3055", "USD", "1291.31"), ("1E+3", "USD", "1000.00"), ("1E+3", "JPY", "1000"),
    ("0.5", "JPY", "1"), ("12.3456", "KWD", "12.346"), ("0E-2", "USD", "0.00"),
])
def test_amounts_are_fixed_point_in_the_minor_unit(amount, currency, text):
    assert money.format_amount(Decimal(amount), currency) == text
    assert money.format_money(Decimal(amount), currency) == f"{text} {currency}"


@pytest.mark.parametrize("value, text", [("0E-2", "0.00"), ("1E+2", "100.00"), ("12.914", "12.91"),
                                         ("0.005", "0.01")])
def test_hours_are_fixed_point(value, text):
    assert money.format_hours(Decimal(value)) == text


def test_rate_text_is_fixed_point():
    assert str(money.parse_rate("0.00000001 BTC")) == "0.00000001 BTC/h"


@pytest.mark.parametrize("total, numerators, denominator, expected", [
    (10000, [33333333, 33333333, 33333334], 10000, [3333, 3333, 3334]),  # 100.00 in thirds, cents
    (100, [3333, 3333, 3334], 100, [33, 33, 34]),                        # 1.00 in thirds
    (50, [1666, 1667, 1667], 100, [16, 17, 17]),                         # 0.50 in three
    (2, [5, 5, 5, 5], 10, [1, 1, 0, 0]),                                 # ties: the earlier rows
    (1000, [100, 200, 300], 1, [234, 333, 433]),                         # any total is met exactly
])
def test_allocate_units_sums_to_the_total(total, numerators, denominator, expected):
    shares = money.allocate_units(total, numerators, denominator)
    assert shares == expected
    assert sum(shares) == total


@given(st.lists(st.integers(min_value=0, max_value=10 ** 7), min_size=1, max_size=40),
       st.sampled_from(["100 USD", "0.0015 BTC", "15000 JPY", "7.5 KWD", "33.33 EUR"]))
def test_priced_rows_add_up_and_stay_within_a_unit(seconds, rate_text):
    # As a timesheet prices its rows (core/timesheet.py): each session's exact price in the
    # currency's minor units, the total rounded half up, shared out so the rows add up to it.
    rate = money.parse_rate(rate_text)
    places = money.minor_units(rate.currency)
    exact = [rate.cost_units(s, places) for s in seconds]
    denominator = exact[0][1]
    assert all(d == denominator for _, d in exact)  # one rate: one denominator
    numerators = [n for n, _ in exact]
    total = money.half_up(sum(numerators), denominator)
    shares = money.allocate_units(total, numerators, denominator)
    assert sum(shares) == total
    assert all(abs(Fraction(share) - Fraction(n, denominator)) < 1 for share, n in zip(shares, numerators))


@pytest.mark.parametrize("seconds, rate, expected", [
    (46487, "100 USD", "1291.31"),         # 12:54:47 at 100/h: never 1291.3055555555554
    (46487, "100 EUR", "1291.31"),
    (46487, "15000 JPY", "193696"),
    (46487, "0.0015 BTC", "0.01936958"),
    (46487, "150000 SATS", "1936958"),
    (1, "100 USD", "0.03"),                # half-up at the minor unit
])
def test_amounts_round_to_the_minor_unit(seconds, rate, expected):
    rate = money.parse_rate(rate)
    assert rate.price(seconds) == Decimal(expected)
    assert str(rate.price(seconds)) == expected


@pytest.mark.parametrize("increment, mode, seconds, expected", [
    ("6m", "up", 1, 360), ("6m", "up", 360, 360), ("6m", "up", 361, 720),
    ("15m", "nearest", 449, 0), ("15m", "nearest", 450, 900), ("15m", "down", 899, 0),
    ("1h", "up", 3601, 7200),
])
def test_rounding(increment, mode, seconds, expected):
    assert money.parse_rounding(increment, mode).apply(seconds) == expected


def test_rounding_mode_in_the_same_value():
    assert money.parse_rounding("15m nearest") == money.Rounding(900, "nearest")
    with pytest.raises(ValueError):
        money.parse_rounding("15m sideways")


def test_hours_and_hms():
    assert money.hours(46487) == Decimal("12.91")
    assert money.format_hms(46487) == "12:54:47"
    assert money.format_hms(90061) == "25:01:01"


NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize("text, expected", [
    ("2020-01-06", "2020-01-06T00:00:00-05:00"),
    ("Jan 6, 2020", "2020-01-06T00:00:00-05:00"),
    ("January 6, 2020", "2020-01-06T00:00:00-05:00"),
    ("2020-07-06", "2020-07-06T00:00:00-04:00"),           # summer time
    ("2020-01-06T09:30:00+01:00", "2020-01-06T09:30:00+01:00"),
    ("2020-01-06T09:30:00Z", "2020-01-06T09:30:00+00:00"),
    ("2020-01-06 09:30", "2020-01-06T09:30:00-05:00"),
])
def test_a_since_bound_is_the_moment_named(text, expected):
    assert periods.parse_bound(text, NY, False).isoformat() == expected


def test_periods_around_a_fixed_now_across_dst():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=NY)  # DST began on Sunday 2026-03-08
    start, end = periods.period("last-week", NY, now)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00")
    utc = ZoneInfo("UTC")
    assert (end.astimezone(utc) - start.astimezone(utc)).total_seconds() == 7 * 86400 - 3600   # that week was an hour short
    start, end = periods.period("last-month", NY, now)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-02-01", "2026-03-01")
    start, end = periods.period("this-month", NY, datetime(2026, 12, 31, 23, 0, tzinfo=NY))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-12-01", "2027-01-01")


def test_unknown_zone_and_period():
    with pytest.raises(ValueError, match="unknown time zone"):
        zones.zone("Nowhere/City")
    with pytest.raises(ValueError, match="unknown period"):
        periods.period("next-week", NY)
