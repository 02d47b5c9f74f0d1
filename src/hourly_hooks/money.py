"""Rates, currencies and rounding, in Decimal only (pure: no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from hourly_hooks.markers import format_duration, parse_duration

# Digits after the point that an amount is rounded to. ISO 4217 for fiat;
# BTC to the satoshi; SATS are whole. An unlisted code gets two digits.
MINOR_UNITS = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "MXN": 2, "BRL": 2,
    "INR": 2, "CNY": 2, "HKD": 2, "SGD": 2, "ZAR": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
    "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3,
    "BTC": 8, "SATS": 0, "LTC": 8,
}
HOURS_PLACES = Decimal("0.01")
_SECONDS_PER_HOUR = Decimal(3600)
_RATE = re.compile(r"^\s*(?:(?P<a>[0-9][0-9_,]*(?:\.[0-9]+)?)\s*(?P<c>[A-Za-z]{3,5})"
                   r"|(?P<c2>[A-Za-z]{3,5})\s*(?P<a2>[0-9][0-9_,]*(?:\.[0-9]+)?))\s*$")


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit: 1291.3055... USD -> 1291.31."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    """An hourly rate: ``Rate(Decimal("100"), "USD")``."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}/h"

    def cost(self, hours: Decimal) -> Decimal:
        return round_amount(hours * self.amount, self.currency)


def parse_rate(text) -> Rate:
    """``"100 USD"``, ``"USD 100"``, ``"0.0015 BTC"`` -> Rate; ValueError otherwise."""
    if isinstance(text, (int, Decimal)):
        raise ValueError(f"a rate needs a currency: {text} (try \"{text} USD\")")
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"not a rate: {text!r} (expected an amount and a currency, like \"100 USD\")")
    raw = (match["a"] or match["a2"]).replace("_", "").replace(",", "")
    currency = (match["c"] or match["c2"]).upper()
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"not a rate: {text!r}") from None
    if amount <= 0:
        raise ValueError(f"a rate must be positive: {text!r}")
    return Rate(amount, currency)


_MODES = {"up": ROUND_CEILING, "nearest": ROUND_HALF_UP, "down": ROUND_FLOOR}


@dataclass(frozen=True)
class Rounding:
    """Billing increment applied to each session: ``Rounding(360, "up")`` is 6 minutes, up."""

    seconds: int
    mode: str = "up"

    def apply(self, seconds: int) -> int:
        steps = (Decimal(seconds) / self.seconds).quantize(Decimal(1), rounding=_MODES[self.mode])
        return int(steps) * self.seconds

    def __str__(self) -> str:
        return f"{format_duration(timedelta(seconds=self.seconds))} {self.mode}"


def parse_rounding(text: str, mode: str | None = None) -> Rounding:
    """``"6m"``, ``"15m nearest"`` (or a separate mode) -> Rounding; ValueError otherwise."""
    words = str(text).split()
    if not words or len(words) > 2:
        raise ValueError(f"not a rounding: {text!r} (expected an increment like 6m, and up|nearest|down)")
    if len(words) == 2:
        mode = mode or words[1]
    mode = (mode or "up").lower()
    if mode not in _MODES:
        raise ValueError(f"unknown rounding mode {mode!r} (expected up, nearest or down)")
    seconds = int(parse_duration(words[0]).total_seconds())
    if seconds <= 0:
        raise ValueError(f"a rounding increment must be positive: {text!r}")
    return Rounding(seconds, mode)


def hours(seconds: int) -> Decimal:
    """Seconds -> hours with two decimals, as shown on the timesheet."""
    return (Decimal(seconds) / _SECONDS_PER_HOUR).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def exact_hours(seconds: int) -> Decimal:
    return Decimal(seconds) / _SECONDS_PER_HOUR


def format_hms(seconds: int) -> str:
    """46487 -> ``12:54:47``; days fold into hours so totals stay readable."""
    sign = "-" if seconds < 0 else ""
    h, rest = divmod(abs(int(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}"
