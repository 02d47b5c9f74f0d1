"""Decimal money, currencies' minor units, rounding increments, dates and periods."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hourly_hooks import money, periods


@pytest.mark.parametrize("text, amount, currency", [
    ("100 USD", "100", "USD"), ("USD 100", "100", "USD"), ("0.0015 btc", "0.0015", "BTC"),
    ("1,250 JPY", "1250", "JPY"), ("2500 SATS", "2500", "SATS"), ("99.5EUR", "99.5", "EUR"),
])
def test_parse_rate(text, amount, currency):
    rate = money.parse_rate(text)
    assert rate == money.Rate(Decimal(amount), currency)
    assert isinstance(rate.amount, Decimal)


@pytest.mark.parametrize("text", ["100", "USD", "-5 USD", "0 USD", "ten USD", ""])
def test_parse_rate_rejects(text):
    with pytest.raises(ValueError):
        money.parse_rate(text)


@pytest.mark.parametrize("seconds, rate, expected", [
    (46487, "100 USD", "1291.31"),         # the seed: never 1291.3055555555554
    (46487, "100 EUR", "1291.31"),
    (46487, "15000 JPY", "193696"),
    (46487, "0.0015 BTC", "0.01936958"),
    (46487, "150000 SATS", "1936958"),
    (1, "100 USD", "0.03"),                # half-up at the minor unit
])
def test_amounts_round_to_the_minor_unit(seconds, rate, expected):
    rate = money.parse_rate(rate)
    assert rate.cost(money.exact_hours(seconds)) == Decimal(expected)
    assert str(rate.cost(money.exact_hours(seconds))) == expected


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
def test_parse_when(text, expected):
    assert periods.parse_when(text, NY).isoformat() == expected


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
        periods.zone("Nowhere/City")
    with pytest.raises(ValueError, match="unknown period"):
        periods.period("next-week", NY)
