"""One invoice interface over BTCPay Server's two APIs.

`legacy` is the BitPay-compatible API through btcpay-python (a paired secp256k1
key); `greenfield` is BTCPay's current REST API (an API key). Both are driven
through `Backend`, built by `backend_from(settings)`; nothing here talks to
the network until a backend method is called.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Dict, List, Mapping, Optional, Protocol, Tuple

from hourly_hooks.errors import ConfigError, UsageError

BACKENDS = ("legacy", "greenfield")

# One vocabulary for an invoice's state, whichever API reported it (see state_of).
OPEN, PAYING, PAID, PAID_LATE, PARTLY_PAID, VOID = "open", "paying", "paid", "paid late", "partly paid", "void"

# Every hourly invoice carries this item code and search term, so a run can
# read back what any clone billed: legacy filters GET /invoices by itemCode,
# Greenfield's textSearch matches search terms (itemCode is one) by prefix.
ITEM_CODE = "hourly-hooks"
PAGE = 100  # invoices asked for per page when reading them back
METADATA_KEY = "hourlyHooks"     # inside metadata.posData (legacy: the posData JSON string)

# Permissions a Greenfield key needs: create, and view so that "never twice"
# (reading the store's hourly invoices before creating) is possible at all.
REQUIRED_PERMISSIONS = ("btcpay.store.cancreateinvoice", "btcpay.store.canviewinvoices")
# Optional: lets the run whose invoice lost a same-moment race mark it Invalid itself.
MODIFY_PERMISSION = "btcpay.store.canmodifyinvoices"

_METHOD_ALIASES = {
    "onchain": "BTC-CHAIN", "on-chain": "BTC-CHAIN", "chain": "BTC-CHAIN", "btc": "BTC-CHAIN",
    "btc-chain": "BTC-CHAIN", "btc-onchain": "BTC-CHAIN", "btc_chain": "BTC-CHAIN",
    "lightning": "BTC-LN", "ln": "BTC-LN", "btc-ln": "BTC-LN", "btc_ln": "BTC-LN",
    "btc-lightningnetwork": "BTC-LN", "btc_lightninglike": "BTC-LN",
    "lnurl": "BTC-LNURL", "btc-lnurl": "BTC-LNURL", "btc-lnurlpay": "BTC-LNURL",
}

# Time an invoice bills: identity -> sorted (start, end) pairs, unix seconds, end exclusive.
# The same time keyed by the marker commits' raw author emails (as git recorded
# them, before .mailmap and identity rules) is an invoice's `authors`: what
# holds the time whatever identity rule or .mailmap a later run uses.
TimeRanges = Mapping[str, Tuple[Tuple[int, int], ...]]


def moment_of(value, per_second: int) -> Optional[datetime]:
    """A server's unix time (seconds; the legacy API's milliseconds with per_second=1000) as an
    aware UTC datetime; None when it is absent or not a number."""
    try:
        return None if value in (None, "") else datetime.fromtimestamp(int(value) / per_second, timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def state_of(status: str, additional: Optional[str] = None) -> str:
    """The state of an invoice from Greenfield's `status` + `additionalStatus`.

    Only VOID (invalid, or expired with no payment at all) releases the time
    an invoice bills; an expired invoice that received money is paid late
    (in full) or partly paid, and is never replaced behind the user's back.
    Raises KeyError for a status this tool does not know.
    """
    status = status.lower()
    if status == "expired":
        return {"paidlate": PAID_LATE, "paidpartial": PARTLY_PAID}.get((additional or "").lower(), VOID)
    return {"new": OPEN, "processing": PAYING, "settled": PAID, "invalid": VOID}[status]


@dataclass(frozen=True)
class InvoiceRequest:
    """What to bill, independent of the API it is sent through."""

    amount: Decimal
    currency: str
    order_id: str
    item_desc: str
    buyer_email: Optional[str] = None
    buyer_name: Optional[str] = None
    notification_url: Optional[str] = None
    redirect_url: Optional[str] = None
    payment_methods: Tuple[str, ...] = ()
    time: TimeRanges = field(default_factory=dict)
    hours: Optional[str] = None
    expires_minutes: Optional[int] = None
    authors: TimeRanges = field(default_factory=dict)
    timesheet: Optional[dict] = None   # the compact manifest (core/manifest.compact): `hourly verify --invoice`

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            raise TypeError("InvoiceRequest.amount must be a Decimal")

    @property
    def amount_text(self) -> str:
        """Fixed point in the currency's minor unit: never an exponent (4.2E-7)."""
        from hourly_hooks.core import money
        return format(self.amount.quantize(money.quantum(self.currency)), "f")

    def hourly_data(self) -> dict:
        """What the invoice carries about the time it bills (read back by `time_from`).

        v2 adds `authors` (raw author emails) beside `time` (identities): a
        v1 reader ignores it, and a v1 invoice still holds its time by identity.
        v3 adds `timesheet`, the bill's manifest with its digest (hourly verify --invoice).
        """
        data = {"v": 3 if self.timesheet else 2 if self.authors else 1, "hours": self.hours,
                "time": _ranges_data(self.time)}
        if self.authors:
            data["authors"] = _ranges_data(self.authors)
        if self.timesheet:  # v3: the timesheet's manifest, compact; older readers ignore the key
            data["timesheet"] = self.timesheet
        return data

    def search_terms(self) -> List[str]:
        return [ITEM_CODE] + [f"{ITEM_CODE}-{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:16]}"
                              for identity in sorted(self.time)]


def _ranges_data(time: TimeRanges) -> dict:
    return {key: [[_iso(start), _iso(end)] for start, end in ranges] for key, ranges in sorted(time.items())}


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text) -> int:
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("a time without a zone")
    return int(value.timestamp())


Ranges = Dict[str, Tuple[Tuple[int, int], ...]]


def time_from(pos_data) -> Tuple[Ranges, Optional[str], Ranges]:
    """(time ranges, hours, raw-author ranges) from an invoice's posData; ({}, None, {}) when it carries none.

    Tolerant: an invoice someone else made, or edited, is not an hourly one.
    """
    data = _hourly_part(pos_data)
    if not isinstance(data, dict) or not isinstance(data.get("time"), dict):
        return {}, None, {}
    try:
        time = _parse_ranges(data["time"])
        authors = _parse_ranges(data["authors"]) if isinstance(data.get("authors"), dict) else {}
    except (TypeError, ValueError):
        return {}, None, {}
    hours = data.get("hours")
    return time, None if hours is None else str(hours), authors


def timesheet_from(pos_data) -> Optional[dict]:
    """The compact manifest an invoice's posData carries (v3), or None."""
    data = _hourly_part(pos_data)
    sheet = data.get("timesheet") if isinstance(data, dict) else None
    return sheet if isinstance(sheet, dict) else None


def _hourly_part(pos_data):
    """What hourly put in an invoice's posData (a dict, or the legacy API's JSON string)."""
    if isinstance(pos_data, str):
        try:
            pos_data = json.loads(pos_data)
        except ValueError:
            return None
    return pos_data.get(METADATA_KEY) if isinstance(pos_data, dict) else None


def _parse_ranges(value: dict) -> Ranges:
    result: Ranges = {}
    for key, ranges in value.items():
        pairs = tuple(sorted((_seconds(start), _seconds(end)) for start, end in ranges))
        if pairs:
            result[str(key)] = pairs
    return result


@dataclass(frozen=True)
class Invoice:
    """An invoice as the server reports it, normalised across the two APIs."""

    id: str
    url: str
    amount: Optional[Decimal]
    currency: str
    status: str                       # OPEN, PAYING, PAID, PAID_LATE, PARTLY_PAID or VOID
    order_id: Optional[str] = None
    created: Optional[datetime] = None
    paid: Optional[str] = None        # "what was paid of what was asked", when partly paid
    time: TimeRanges = field(default_factory=dict)
    hours: Optional[str] = None
    authors: TimeRanges = field(default_factory=dict)   # raw author email -> ranges (v2 posData)
    expires: Optional[datetime] = None  # when an open invoice can no longer be paid
    ended: Optional[str] = None         # why a VOID one is void: "expired" (unpaid) or "invalid"
    timesheet: Optional[dict] = None                     # the bill's compact manifest (v3 posData)

    @property
    def live(self) -> bool:
        """True while it holds its time: anything but void."""
        return self.status != VOID

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "url": self.url,
            "amount": None if self.amount is None else format(self.amount, "f"),
            "currency": self.currency,
            "status": self.status,
            "paid": self.paid,
            "order_id": self.order_id,
            "hours": self.hours,
            "created": self.created.isoformat() if self.created else None,
        }


def invoice_from(*, status: str, raw_status: str, pos_data, created, expires, per_second: int,
                 **fields) -> Invoice:
    """An Invoice from either API's answer: the time it bills from posData, its moments (the
    legacy API counts milliseconds: per_second=1000), and why a void one ended."""
    time, hours, authors = time_from(pos_data)
    raw = raw_status.lower()
    return Invoice(status=status, time=time, hours=hours, authors=authors, timesheet=timesheet_from(pos_data),
                   created=datetime.fromtimestamp(int(created) / per_second, timezone.utc) if created else None,
                   expires=moment_of(expires, per_second),
                   ended=raw if status == VOID and raw in ("expired", "invalid") else None, **fields)


@dataclass
class CheckResult:
    """`hourly btcpay check`: facts to show, and problems that make it fail."""

    lines: List[Tuple[str, str]] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)


class Backend(Protocol):
    name: str
    host: str

    def find(self, order_id: str) -> List[Invoice]: ...
    def hourly_invoices(self) -> List[Invoice]:
        """Every invoice of the store that carries hourly time (see ITEM_CODE)."""
    def create(self, request: InvoiceRequest) -> Invoice: ...
    def get(self, invoice_id: str) -> Invoice:
        """The invoice; a BTCPayError with `status` 404 when the server has no such invoice."""
    def mark_invalid(self, invoice_id: str) -> Invoice:
        """Mark an invoice Invalid (Greenfield); NotImplementedError where the API cannot."""
    def check(self) -> CheckResult: ...
    def describe(self, request: InvoiceRequest) -> dict:
        """The exact request `create` would send, secrets masked (for --dry-run)."""


@dataclass
class BTCPaySettings:
    """Everything a backend needs, already resolved (see config.py for the precedence)."""

    backend: Optional[str] = None
    host: Optional[str] = None
    store_id: Optional[str] = None
    api_key: Optional[str] = field(default=None, repr=False)
    merchant_token: Optional[str] = field(default=None, repr=False)
    pem: Optional[str] = field(default=None, repr=False)   # an absolute path, or PEM text
    repo_root: Optional[str] = None
    insecure: bool = False
    timeout: object = None
    buyer_email: Optional[str] = None
    buyer_name: Optional[str] = None
    notification_url: Optional[str] = None
    redirect_url: Optional[str] = None
    payment_methods: Tuple[str, ...] = ()
    expires: Optional[int] = None                           # minutes; None: the store's setting
    # Where the money settings came from ("rates.default" -> "file:.hourly.toml:2"), for the preview.
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> Tuple[Optional[str], ...]:
        return (self.api_key, self.merchant_token, self.pem if _is_pem_text(self.pem) else None)


# The click options a BTCPay command may pass to settings_from, as config keys.
FLAG_KEYS = {"backend": "btcpay.backend", "host": "btcpay.host", "pem": "btcpay.pem",
             "insecure": "btcpay.insecure", "buyer_email": "btcpay.buyer_email",
             "buyer_name": "btcpay.buyer_name", "expires": "btcpay.expires",
             "payment_methods": "btcpay.payment_methods"}


def settings_from(table: Optional[Mapping] = None, env: Optional[Mapping[str, str]] = None,
                  *, repo_root: Optional[str] = None, **flags) -> BTCPaySettings:
    """The BTCPay settings: the resolved configuration under the command's flags.

    `table` is `config.table("btcpay")` of a resolved configuration (which
    already holds the files, the environment and `-c`), or a plain mapping of
    [btcpay] settings, then merged under `env` (default: os.environ).
    `flags` are the click options (None when not given): backend, host, pem,
    insecure, buyer_email, buyer_name.
    """
    from hourly_hooks import config as config_module

    unknown = set(flags) - set(FLAG_KEYS)
    if unknown:
        raise TypeError(f"settings_from: unknown flags {sorted(unknown)}")
    pem_flag = flags.get("pem")
    if pem_flag and _is_pem_text(pem_flag):
        # A key on the command line ends up in shell history and `ps` output.
        raise UsageError("--pem takes a file path, not the key itself: the process list would show it.",
                         hint="Use --pem PATH, --pem - (the key on stdin), BTCPAYSERVER_PEM, "
                              f"or `pem` under [btcpay] in {config_module.user_file()}.")
    resolved = table.config if isinstance(table, config_module.Table) else \
        config_module.resolve(table=("btcpay", table or {}), environ=env)
    if isinstance(flags.get("payment_methods"), str):  # --payment-methods onchain,lightning
        flags["payment_methods"] = tuple(p.strip() for p in flags["payment_methods"].split(",") if p.strip())
    cfg = resolved.with_flags({FLAG_KEYS[name]: value for name, value in flags.items()})

    texts = {key: cfg.get(f"btcpay.{key}") for key in ("backend", "host", "store_id", "api_key", "merchant_token",
                                                       "buyer_email", "buyer_name", "notification_url", "redirect_url")}
    return BTCPaySettings(
        **{key: None if value in (None, "") else str(value) for key, value in texts.items()},
        pem=_pem_source(cfg.setting("btcpay.pem"), repo_root),
        repo_root=repo_root,
        insecure=bool(cfg.get("btcpay.insecure")),
        timeout=cfg.get("btcpay.timeout"),
        payment_methods=cfg.parsed("btcpay.payment_methods", normalize_payment_methods),
        expires=cfg.parsed("btcpay.expires", _minutes),
        origins=_money_origins(cfg),
    )


def _money_origins(cfg) -> Dict[str, str]:
    """Each rate's and the rounding's origin, as `hourly config` prints them."""
    keys = [key for key in ("rates.default", "round", "round_mode") if cfg.setting(key) is not None]
    keys += [f"rates.{name}" for name in cfg.table("rates") if name != "default"]
    return {key: str(cfg.setting(key).origin) for key in keys}


def choose_backend(settings: BTCPaySettings) -> str:
    """Configured backend, else the one whose credentials are present."""
    if settings.backend:
        return settings.backend
    if settings.api_key or settings.store_id:
        return "greenfield"  # BTCPay's current API wins when both are set up
    if settings.merchant_token:
        return "legacy"
    raise ConfigError("No BTCPay credentials: set BTCPAYSERVER_API_KEY and BTCPAYSERVER_STORE_ID (Greenfield), "
                      "or pair a key with `hourly btcpay pair CODE` and set BTCPAYSERVER_MERCHANT (legacy).")


def backend_from(settings: BTCPaySettings) -> Backend:
    name = choose_backend(settings)
    if name == "greenfield":
        from hourly_hooks.btcpay.greenfield import GreenfieldBackend
        return GreenfieldBackend.from_settings(settings)
    from hourly_hooks.btcpay.legacy import LegacyBackend
    return LegacyBackend.from_settings(settings)


def order_id_for(time: TimeRanges) -> str:
    """The order id of a piece of work: the same time always gives the same id.

    Built from the identities and the time ranges billed (not the SHAs, which
    a rebase or an amend changes, nor the rate, the period flags or the time
    zone), so re-running `hourly invoice` over the same time, from any clone,
    finds the invoice already made for it.
    """
    canonical = json.dumps({identity: [list(r) for r in sorted(ranges)] for identity, ranges in time.items()},
                           sort_keys=True, separators=(",", ":"))
    return "hourly-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def normalize_payment_methods(value) -> Tuple[str, ...]:
    """Config spellings ("onchain", "lightning", "BTC-LN", ...) to BTCPay 2.x ids."""
    if value in (None, ""):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError("btcpay.payment_methods must be a list such as [\"onchain\", \"lightning\"].")
    texts = (str(item).strip() for item in items)
    return tuple(dict.fromkeys(_METHOD_ALIASES.get(text.lower(), text.upper()) for text in texts if text))


def _pem_source(setting, repo_root) -> Optional[str]:
    """PEM text, or an absolute path. A path from the command line or the
    environment is relative to the current directory; one from a config file to
    the repository's top level. ``--pem -`` reads the key text from stdin."""
    if setting is None or not setting.value:
        return None
    value = str(setting.value)
    if _is_pem_text(value):
        return value
    if value == "-" and setting.layer.kind == "flag":
        text = sys.stdin.read()
        if not _is_pem_text(text):
            raise UsageError("--pem -: no PEM private key on stdin (expected -----BEGIN ... PRIVATE KEY-----).")
        return text
    path = os.path.expanduser(value)
    if setting.layer.kind in ("user", "pyproject", "repo", "table") and repo_root and not os.path.isabs(path):
        return os.path.join(repo_root, path)
    return os.path.abspath(path)


def _minutes(value) -> Optional[int]:
    """`btcpay.expires` / `--expires` ("24h", "90m", "2d": markers.parse_duration, the one
    duration parser) in whole minutes, as both APIs take it; None when unset."""
    if not value:
        return None
    from hourly_hooks.core.markers import parse_duration
    minutes = int(parse_duration(str(value)).total_seconds()) // 60
    if minutes < 1:
        raise ValueError(f"{value!r} is shorter than a minute")
    return minutes


def _is_pem_text(value: Optional[str]) -> bool:
    return bool(value) and "-----BEGIN" in str(value)
