"""Rates, currencies and rounding, in Decimal only (pure: no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import MAX_EMAX, MIN_EMIN, ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Iterable, List, Sequence, Tuple, Union

from hourly_hooks.errors import quoted
from hourly_hooks.core.markers import format_duration, parse_duration

# Digits after the point that an amount is rounded to: ISO 4217's minor units
# for its active currencies, BTC and LTC to 1e-8 (the satoshi), SATS whole.
# A code outside this table is refused unless configuration lists it
# (`currencies`); such a code gets two digits.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF SATS"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_EIGHT = "BTC LTC"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP "
    "GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK "
    "LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK "
    "NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD "
    "SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG "
    "YER ZAR ZMW ZWG ZWL"
)
MINOR_UNITS = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
    **{code: 8 for code in _EIGHT.split()},
}
HOURS_PLACES = Decimal("0.01")
_SECONDS_PER_HOUR = 3600
_NUMBER = r"[0-9][0-9_,]*(?:\.[0-9]*)?|\.[0-9]+"
# Bounds on what a rate or a rounding may be. A billion an hour is past any
# real rate in any currency (in SATS, 10 BTC an hour; in the weakest
# currencies, tens of thousands of dollars); eight decimals is the satoshi.
# A rounding step longer than a day would bill every session as days.
MAX_RATE = Decimal(10) ** 9
MAX_RATE_DECIMALS = 8
MAX_ROUNDING = timedelta(hours=24)
_LONGEST = 40  # characters of a bad value an error repeats (errors.quoted cuts there too)
_RATE = re.compile(rf"^\s*(?:(?P<a>{_NUMBER})\s*(?P<c>[A-Za-z]{{3,5}})"
                   rf"|(?P<c2>[A-Za-z]{{3,5}})\s*(?P<a2>{_NUMBER}))\s*$")

Exact = Union[Decimal, Fraction, int]
_EXACT = Context(prec=200, Emax=MAX_EMAX, Emin=MIN_EMIN)  # wide enough that quantize never gives up


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_to(value: Exact, step: Decimal) -> Decimal:
    """An exact value half-up to a multiple of step (a power of ten), as a Decimal."""
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == step.as_tuple().exponent:
            return value  # already a multiple of step, as every allocated value is
        return value.quantize(step, rounding=ROUND_HALF_UP, context=_EXACT)
    units = Fraction(value) / Fraction(step)
    return from_units(half_up(units.numerator, units.denominator), -_exponent(step))


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half up to an integer."""
    return (2 * numerator + denominator) // (2 * denominator)


@lru_cache(maxsize=8192)  # rows repeat the same few values: 0.25 h, 100.00 USD
def from_units(units: int, places: int) -> Decimal:
    """A whole number of 10**-places: ``from_units(42, 8)`` is 0.00000042."""
    return Decimal(units).scaleb(-places)


def _exponent(step: Decimal) -> int:
    exponent = step.as_tuple().exponent
    assert isinstance(exponent, int), "a finite step"
    return exponent


@lru_cache(maxsize=None)
def scaled(amount: Decimal) -> Tuple[int, int]:
    """A finite Decimal as (n, p) with amount == n * 10**-p and p >= 0: 0.0015 -> (15, 4)."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int), "a finite amount"
    n = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return (n * 10 ** exponent, 0) if exponent >= 0 else (n, -exponent)


@lru_cache(maxsize=16384)  # equal Decimals print alike here: 1.0 and 1.00 USD are both 1.00
def format_amount(amount: Decimal, currency: str) -> str:
    """Fixed point in the currency's minor unit, never scientific: ``4.2E-7`` BTC -> ``0.00000042``."""
    return format(round_to(amount, quantum(currency)), "f")


def format_money(amount: Decimal, currency: str) -> str:
    """``0.00000042 BTC``: format_amount and the code."""
    return f"{format_amount(amount, currency)} {currency}"


@lru_cache(maxsize=16384)
def format_hours(value: Decimal) -> str:
    """Hours with two decimals, never scientific: ``Decimal('0E-2')`` -> ``0.00``."""
    return format(round_to(value, HOURS_PLACES), "f")


def allocate_units(total: int, numerators: Sequence[int], denominator: int) -> List[int]:
    """Split total whole units into shares near numerators[i] / denominator that sum to it.

    Largest remainder: every share starts at its exact value rounded down, and
    the units left over go one each to the shares whose cut-off part was
    largest (the earlier share on a tie), so that rows printed under a total
    add up to it.
    """
    if not numerators:
        return []
    shares, remainders = [], []
    for numerator in numerators:
        whole, rest = divmod(numerator, denominator)
        shares.append(whole)
        remainders.append(rest)
    left = total - sum(shares)
    if not left:
        return shares
    # left is within [0, len) when total is the rounded sum of the exact values;
    # any other total is met too: every share moves by the same whole part first.
    whole, left = divmod(left, len(shares))
    if whole:
        shares = [share + whole for share in shares]
    for i in sorted(range(len(shares)), key=remainders.__getitem__, reverse=True)[:left]:  # stable: ties keep order
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class Rate:
    """An hourly rate: ``Rate(Decimal("100"), "USD")``."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}/h"

    def price(self, seconds: int) -> Decimal:
        """The price of seconds at this rate, half up to the currency's minor unit
        (12:54:47 at 100 USD/h: 1291.31, never 1291.3055555555554)."""
        places = minor_units(self.currency)
        return from_units(half_up(*self.cost_units(seconds, places)), places)

    def cost_units(self, seconds: int, places: int) -> Tuple[int, int]:
        """The unrounded price of seconds in units of 10**-places, as (numerator,
        denominator) with denominator 3600 * 10**p (p: the rate's decimals), so
        that prices at rates with as many decimals share a denominator."""
        n, p = scaled(self.amount)
        return seconds * n * 10 ** places, _SECONDS_PER_HOUR * 10 ** p


def known_currencies(extra: Iterable[str] = ()) -> frozenset:
    return frozenset(MINOR_UNITS) | {str(code).upper() for code in extra}


def parse_rate(text, known: Iterable[str] = ()) -> Rate:
    """``"100 USD"``, ``"USD 100"``, ``"0.0015 BTC"`` -> Rate; ValueError otherwise.

    The currency must be an ISO 4217 code, BTC, LTC or SATS, or one of known
    (configuration's `currencies`). The number takes a decimal point and
    optional ``_`` between digits; a comma is refused, as ``1,5`` (one and a
    half in much of Europe) and ``1,500`` (fifteen hundred) cannot both be meant.
    """
    if isinstance(text, bool) or isinstance(text, (int, float, Decimal)):
        raise ValueError(f"a rate needs a currency: {text} (try \"{text} USD\")")
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"not a rate: {quoted(text)} (expected a positive amount and a currency, like \"100 USD\")")
    raw = match["a"] or match["a2"]
    currency = (match["c"] or match["c2"]).upper()
    if "," in raw:
        raise ValueError(f"a comma in the rate {text!r}: rates take a decimal point and no thousands separator "
                         f"(use {_comma_hint(raw)} {currency})")
    amount = _rate_amount(raw.replace("_", ""), text)
    if currency not in known_currencies(known):
        raise ValueError(f"unknown currency {currency!r} in the rate {text!r} (expected an ISO 4217 "
                         "code like USD or EUR, BTC or SATS; list other codes in the `currencies` setting)")
    return Rate(amount, currency)


def _rate_amount(digits: str, text) -> Decimal:
    """The amount of a rate, within MAX_RATE and MAX_RATE_DECIMALS; ValueError otherwise.

    Bounded on the text, before any arithmetic: thousands of digits would
    otherwise reach int() and Decimal's limits in the middle of a report."""
    whole, _, fraction = digits.partition(".")
    if len(whole.lstrip("0")) > len(str(MAX_RATE)) or len(fraction.rstrip("0")) > MAX_RATE_DECIMALS:
        raise ValueError(_rate_bounds(text))
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"not a rate: {quoted(text)}") from None
    if amount <= 0:
        raise ValueError(f"a rate must be a positive amount: {quoted(text)}")
    if amount > MAX_RATE:
        raise ValueError(_rate_bounds(text))
    return amount


def _rate_bounds(text) -> str:
    return (f"the rate {quoted(text)} is out of bounds: at most {MAX_RATE:,f} an hour, with at most "
            f"{MAX_RATE_DECIMALS} decimals (a typo?)")


def _comma_hint(raw: str) -> str:
    """``1,5`` -> ``1.5``; ``1,250`` -> ``1250`` (a comma before three digits groups thousands)."""
    head, _, tail = raw.rpartition(",")
    if len(tail.split(".")[0]) == 3 and "." not in head:
        return raw.replace(",", "")
    return head.replace(",", "") + "." + tail


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
        raise ValueError(f"not a rounding: {quoted(text)} (expected an increment like 6m, and up|nearest|down)")
    if len(words) == 2:
        mode = mode or words[1]
    mode = (mode or "up").lower()
    if mode not in _MODES:
        raise ValueError(f"unknown rounding mode {quoted(mode)} (expected up, nearest or down)")
    return Rounding(_rounding_seconds(words[0], text), mode)


def _rounding_seconds(step: str, text) -> int:
    """The increment in seconds, above zero and at most MAX_ROUNDING; ValueError otherwise."""
    # Past _LONGEST characters no increment is within bounds; parse_duration would repeat it all.
    seconds = int(parse_duration(step).total_seconds()) if len(step) <= _LONGEST else None
    if seconds is None or seconds > MAX_ROUNDING.total_seconds():
        raise ValueError(f"the rounding {quoted(text)} is out of bounds: an increment of at most "
                         f"{MAX_ROUNDING.total_seconds() // 3600:.0f}h, like 6m or 15m")
    if seconds <= 0:
        raise ValueError(f"a rounding increment must be positive: {quoted(text)}")
    return seconds


# A hundredth of an hour, the unit hours are shown in, is 36 seconds.
SECONDS_PER_HOURS_PLACE = 36


def hours(seconds: int) -> Decimal:
    """Seconds -> hours with two decimals, half up, as the timesheet totals them."""
    return from_units(half_up(seconds, SECONDS_PER_HOURS_PLACE), 2)


def format_hms(seconds: int) -> str:
    """46487 -> ``12:54:47``; days fold into hours so totals stay readable."""
    sign = "-" if seconds < 0 else ""
    h, rest = divmod(abs(int(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}"
