"""The configuration's schema: every key, its type, default, environment variable and check.

One table (``KEYS``), in one module, so that a new section is one hunk here.
The checks that need heavier modules (time zones, money) import them only when
they run: the hooks read the configuration and must start fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from hourly_hooks.config.layers import Config

# Key names that hold a secret wherever they appear in a tracked file, even
# where the schema knows no such key: the refusal must say "secret", not "typo".
SECRET_KEYS = {"api_key", "apikey", "merchant", "merchant_token", "token", "private_key", "pem_text"}


def _check_zone(value: str, config: "Config") -> None:
    from hourly_hooks import zones
    zones.zone(value)


def _check_rate(value: str, config: "Config") -> None:
    from hourly_hooks.core.money import parse_rate
    parse_rate(value, config.get("currencies") or ())


def _check_rounding(value: str, config: "Config") -> None:
    from hourly_hooks.core.money import parse_rounding
    parse_rounding(value)


def _check_duration(value: str, config: "Config") -> None:
    from hourly_hooks.core.markers import parse_duration
    if parse_duration(value).total_seconds() < 60:
        raise ValueError(f"{value!r} is shorter than a minute")


def _each(pattern: str, what: str, expected: str) -> Callable[[Sequence[str], "Config"], None]:
    """The check of a list whose every value must match pattern."""
    compiled = re.compile(pattern)

    def check(values: Sequence[str], config: "Config") -> None:
        for value in values:
            if not compiled.fullmatch(value):
                raise ValueError(f"not {what}: {value!r} ({expected})")
    return check


_check_shas = _each(r"[0-9a-fA-F]{4,40}", "a commit SHA prefix", "expected 4 to 40 hex digits")
_check_currencies = _each(r"[A-Za-z]{3,5}", "a currency code", "expected 3 to 5 letters, like CHF")


def _check_host(value: str, config: "Config") -> None:
    from hourly_hooks.btcpay.hosts import normalize_host  # not transport: that imports requests
    from hourly_hooks.errors import HourlyError
    from hourly_hooks.trust import refuse_secret_url
    refuse_secret_url(value)  # first: normalize_host's own errors repeat the URL
    try:
        normalize_host(value)
    except HourlyError as error:  # the layer that set it is named by the caller
        raise ValueError(error.message) from None


# A plausible address, not RFC 5322: one @, no spaces, a dotted domain.
_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}")


def _check_email(value: str, config: "Config") -> None:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"not an email address: {value!r} (expected name@example.com)")


def _check_seconds(value: Any, config: "Config") -> None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds < float("inf"):
        raise ValueError(f"must be a positive number of seconds, not {value!r}")


def _check_budget(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_budget
    parse_budget(value)
    if config.get("contract"):
        raise ValueError("set budget or contract, not both")


def _check_contract(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_limit
    parse_limit(value)  # contract_start's own check reads the day
    if not config.get("contract_start"):
        raise ValueError("contract needs contract_start, the day the contract began (like \"2026-01-01\")")


def _check_contract_start(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_start
    parse_start(value)


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, environment variable and check."""

    name: str
    kind: str                        # string | choice | bool | list | strings | seconds
    default: Any = None
    choices: Tuple[str, ...] = ()
    env: Optional[str] = None
    secret: bool = False
    check: Optional[Callable[[Any, "Config"], None]] = None
    expected: str = ""               # how the type error describes a good value

    def describe(self) -> str:
        if self.expected:
            return self.expected
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return {"string": "a string", "bool": "true or false", "list": "a list of strings",
                "strings": "a string or a list of strings", "seconds": "a number of seconds"}[self.kind]


KEYS: Dict[str, Key] = {key.name: key for key in (
    Key("tz", "string", "local", env="HOURLY_TZ", check=_check_zone,
        expected='a time zone name like "Europe/Paris" or "UTC"'),
    Key("rates.default", "string", env="HOURLY_RATE", check=_check_rate, expected='a rate like "100 USD"'),
    Key("round", "string", env="HOURLY_ROUND", check=_check_rounding,
        expected='an increment like "6m" or "15m nearest"'),
    Key("round_mode", "choice", "up", choices=("up", "nearest", "down")),
    Key("identity", "choice", "email", choices=("email", "name", "name+email"), env="HOURLY_IDENTITY"),
    Key("all", "bool", False),
    Key("ignore", "strings", ()),
    Key("exclude", "list", (), check=_check_shas, expected='a list of commit SHA prefixes like ["3f2a9c1"]'),
    Key("max_session", "string", "24h", check=_check_duration, expected='a duration like "24h"'),
    Key("allow_long", "list", (), check=_check_shas, expected='a list of commit SHA prefixes like ["3f2a9c1"]'),
    Key("currencies", "list", (), check=_check_currencies, expected='a list of currency codes like ["CHF"]'),
    Key("budget", "string", check=_check_budget, expected='hours per week or month, like "40h/week"'),
    Key("contract", "string", check=_check_contract, expected='a total of hours, like "120h"'),
    Key("contract_start", "string", check=_check_contract_start),
    Key("btcpay.backend", "choice", choices=("legacy", "greenfield"), env="HOURLY_BACKEND"),
    Key("btcpay.host", "string", env="BTCPAYSERVER_HOST", check=_check_host),
    Key("btcpay.store_id", "string", env="BTCPAYSERVER_STORE_ID"),
    Key("btcpay.api_key", "string", env="BTCPAYSERVER_API_KEY", secret=True),
    Key("btcpay.merchant_token", "string", env="BTCPAYSERVER_MERCHANT", secret=True),
    Key("btcpay.pem", "string", env="BTCPAYSERVER_PEM", expected="a path to the private key file"),
    Key("btcpay.insecure", "bool", False),
    Key("btcpay.timeout", "seconds", 30, env="BTCPAYSERVER_TIMEOUT", check=_check_seconds),
    Key("btcpay.expires", "string", check=_check_duration, expected='a duration like "24h"'),
    Key("btcpay.buyer_email", "string", check=_check_email, expected="an email address like name@example.com"),
    Key("btcpay.buyer_name", "string"),
    Key("btcpay.notification_url", "string"),
    Key("btcpay.redirect_url", "string"),
    Key("btcpay.payment_methods", "strings", (), expected='a list such as ["onchain", "lightning"]'),
    # Who the timesheet is from and to (core/document.py): [contractor] and [client], any layer.
    *(key for party in ("contractor", "client") for key in (
        Key(f"{party}.name", "string"),
        Key(f"{party}.address", "strings",
            expected='an address line, or a list of lines like ["1 Main St", "Springfield"]'),
        Key(f"{party}.email", "string", check=_check_email, expected="an email address like name@example.com"),
        Key(f"{party}.tax_id", "string", expected='a tax or VAT number like "DE123456789"'),
    )),
)}
# Tables whose keys are not fixed: [rates] maps any identity to a rate.
_RATE_KEY = Key("rates.*", "string", check=_check_rate, expected='a rate like "100 USD"')
TABLES = ("rates", "btcpay", "contractor", "client")
ENVIRONMENT = {key.env: key.name for key in KEYS.values() if key.env}
# Words people reach for that are not keys (difflib cannot see these).
_SYNONYMS = {"timezone": "tz", "time_zone": "tz", "zone": "tz", "rounding": "round",
             "rounding_mode": "round_mode", "hourly_rate": "rate", "default_rate": "rate",
             "url": "host", "server": "host", "token": "merchant_token", "store": "store_id",
             "key": "api_key", "methods": "payment_methods", "expiry": "expires",
             "expiration": "expires", "max_hours": "max_session"}
_FLAGS = {"rates.default": "--rate"}


def key_spec(dotted: str) -> Optional[Key]:
    rate = dotted.startswith("rates.") and dotted != "rates."  # [rates] takes any name
    return KEYS.get(dotted) or (_RATE_KEY if rate else None)


def is_secret(dotted: str, value: Any) -> bool:
    """Secret keys always; the PEM setting when it holds the key text itself."""
    spec = key_spec(dotted)
    return bool(spec and spec.secret) or (dotted == "btcpay.pem" and "-----BEGIN" in str(value))


def did_you_mean(dotted: str) -> str:
    """`` (did you mean 'tz'?)`` for an unknown key near a known one, else ""."""
    table, _, name = dotted.rpartition(".")
    if table == "rates":
        return ""
    scope = [k.split(".", 1)[1] for k in KEYS if k.startswith(f"{table}.")] if table \
        else [k for k in KEYS if "." not in k] + ["rate", *TABLES]
    if not table and f"btcpay.{name}" in KEYS:
        return f" (did you mean 'btcpay.{name}', under [btcpay]?)"
    import difflib  # only once a key is wrong

    wanted = _SYNONYMS.get(name.lower().replace("-", "_"), name.lower().replace("-", "_"))
    close = [wanted] if wanted in scope else difflib.get_close_matches(wanted, scope, n=1, cutoff=0.6)
    return f" (did you mean '{table + '.' if table else ''}{close[0]}'?)" if close else ""
