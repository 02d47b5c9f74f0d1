"""A loopback fake of BTCPay Server (2.4.x) for the test-suite.

It speaks both invoice APIs the way BTCPay Server 2.4.1's source shows the real server
behave, so the project's clients meet the real quirks, not a friendlier imitation:

* **Legacy (BitPay-compatible) API** -- its routing (``POST //invoices/`` is a 404, POST
  needs ``Content-Type: application/json``); BitId authentication (the signature covers
  ``scheme://Host + raw path+query + body``, lax DER, high-S accepted, SIN derived from
  ``X-Identity`` *as sent*, the ``token`` value ignored); its error bodies (401 JSON
  challenge, 403 with an empty body, 404 "Object not found"); pairing codes (7 base58
  characters, 15 minutes, single use); the invoice shape (times in milliseconds, ``price``
  a JSON number, a fresh ``guid``/``token`` in every response) and the list/get endpoints.
* **Greenfield API** -- ``token``/``bearer`` API keys and per-store permissions (401
  ``unauthenticated``, 403 ``missing-permission``, 422 lists with PascalCase paths, 400
  ``generic-error``, 404 ``invoice-not-found``); create/list/get (``amount`` echoed as a
  string keeping the input's scale, times in seconds, a bare array newest first, exact and
  repeatable ``orderId``); ``/api/v1/api-keys/current`` and ``/api/v1/health``. Its answers
  are checked against BTCPay's OpenAPI document by the tests (tests/btcpay_openapi.py).
* Both APIs share one set of stores and invoices.

On top of that, fault switches (``FakeBTCPay.fault``) make the next requests slow, fail,
answer garbage, or do the work and then drop the connection, which is how a client's
idempotency and error handling get tested.

Only the standard library is used, plus ``ecdsa`` for the BitId signatures. Usage::

    with btcpay_server() as fake:
        code = fake.new_pairing_code()
        key = fake.new_api_key(["btcpay.store.cancreateinvoice"], fake.default_store_id)
        ... point a client at fake.url ...
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import secrets
import sys
import threading
import traceback
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import parse_qsl, unquote

import ecdsa
from ecdsa.curves import SECP256k1

__all__ = ["FakeBTCPay", "btcpay_server", "sin_from_public_key", "verify_bitid_signature",
           "ripemd160", "b58encode", "b58check_encode", "b58check_decode"]


# ---------------------------------------------------------------------------
# Server constants
# ---------------------------------------------------------------------------

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
PAIRING_CODE_TTL = 15 * 60                     # seconds
MAX_AMOUNT = Decimal(2 ** 64 - 1)              # GreenfieldConstants.MaxAmount

NO_WALLET_MESSAGE = ("No wallet has been linked to your BTCPay Store. See the following link for more "
                     "information on how to connect your store and wallet. "
                     "(https://docs.btcpayserver.org/WalletSetup/)\n")          # ends with "\n"
NO_MATCH_MESSAGE = "Error retrieving a matching payment method or rate.\n"    # (+ log lines)


@dataclass(frozen=True)
class _Currency:
    digits: int         # decimal places the server rounds prices to
    name: str
    btc_rate: Decimal   # the fake's price of 1 BTC in this currency


# The fake's "rate provider": a currency missing here has no rate, which is what makes the
# real server refuse an invoice in an unknown currency (400).
CURRENCIES: Dict[str, _Currency] = {
    "USD": _Currency(2, "US Dollar", Decimal("100000")),
    "EUR": _Currency(2, "Euro", Decimal("92000")),
    "GBP": _Currency(2, "British Pound", Decimal("79000")),
    "CAD": _Currency(2, "Canadian Dollar", Decimal("137000")),
    "AUD": _Currency(2, "Australian Dollar", Decimal("150000")),
    "CHF": _Currency(2, "Swiss Franc", Decimal("88000")),
    "CZK": _Currency(2, "Czech Koruna", Decimal("2300000")),
    "JPY": _Currency(0, "Japanese Yen", Decimal("15000000")),
    "BTC": _Currency(8, "Bitcoin", Decimal("1")),
    "SATS": _Currency(0, "Satoshis", Decimal("100000000")),
}

# Payment-method handlers the server knows (2.x ids); what a store *has* is per store.
PAYMENT_METHOD_HANDLERS = ("BTC-CHAIN", "BTC-LN", "BTC-LNURL")
WALLET_PAYMENT_METHODS = ("BTC-CHAIN", "BTC-LN")
_PM_KINDS = {"": "CHAIN", "chain": "CHAIN", "onchain": "CHAIN", "bitcoinlike": "CHAIN", "btclike": "CHAIN",
             "ln": "LN", "lightninglike": "LN", "lightningnetwork": "LN", "offchain": "LN",
             "lnurl": "LNURL", "lnurlpay": "LNURL"}

STATUSES = ("New", "Processing", "Expired", "Invalid", "Settled")
ADDITIONAL_STATUSES = ("None", "PaidLate", "PaidPartial", "Marked", "PaidOver")
# InvoiceRepository.NormalizeStatus, shared by both APIs' status filters.
_STATUS_ALIASES = {"new": "New", "paid": "Processing", "processing": "Processing",
                   "complete": "Settled", "confirmed": "Settled", "settled": "Settled",
                   "expired": "Expired", "invalid": "Invalid"}
_LEGACY_STATUS = {"New": "new", "Processing": "paid", "Settled": "complete",
                  "Expired": "expired", "Invalid": "invalid"}
_LEGACY_EXCEPTION_STATUS = {"None": False, "PaidPartial": "paidPartial", "PaidOver": "paidOver",
                            "PaidLate": "paidLater", "Marked": "marked"}
SPEED_POLICIES = ("HighSpeed", "MediumSpeed", "LowSpeed", "LowMediumSpeed")
_LEGACY_SPEEDS = {"high": "HighSpeed", "medium": "MediumSpeed", "low-medium": "LowMediumSpeed",
                  "low": "LowSpeed"}
# A sample of the checkout languages; FindLanguage also matches on the two-letter prefix.
LANGUAGES = ("en", "de-DE", "es-ES", "fr-FR", "it-IT", "ja-JP", "nl-NL", "pt-BR", "pt-PT", "ru-RU",
             "cs-CZ", "pl", "tr", "zh-SP")

# Which policy includes which (BTCPay's policy map; "canmodifyinvoices includes both").
_INCLUDED_POLICIES = {
    "btcpay.store.canmodifystoresettings": ("btcpay.store.canmodifyinvoices",
                                            "btcpay.store.canviewstoresettings"),
    "btcpay.store.canmodifyinvoices": ("btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"),
    "btcpay.store.canviewstoresettings": ("btcpay.store.canviewinvoices",),
}
CAN_CREATE_INVOICE = "btcpay.store.cancreateinvoice"
CAN_VIEW_INVOICES = "btcpay.store.canviewinvoices"
CAN_VIEW_STORE = "btcpay.store.canviewstoresettings"
CAN_MODIFY_INVOICES = "btcpay.store.canmodifyinvoices"

FAULT_KINDS = ("delay", "500", "malformed", "drop_after_create", "redirect", "phantom",
               "502", "503", "504", "429", "drop")
# Answers a proxy or a busy server gives before the request reaches BTCPay: no work done.
_GATEWAY_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
                    429: "Too Many Requests"}


# ---------------------------------------------------------------------------
# Encodings and BitId cryptography
# ---------------------------------------------------------------------------

def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = BASE58_ALPHABET[rest] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def b58decode(text: str) -> Optional[bytes]:
    number = 0
    for char in text:
        position = BASE58_ALPHABET.find(char)
        if position < 0:
            return None
        number = number * 58 + position
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + _sha256d(payload)[:4])


def b58check_decode(text: str) -> Optional[bytes]:
    raw = b58decode(text)
    if raw is None or len(raw) < 4 or _sha256d(raw[:-4])[:4] != raw[-4:]:
        return None
    return raw[:-4]


def _random_base58(nbytes: int) -> str:
    return b58encode(secrets.token_bytes(nbytes))


def ripemd160(data: bytes) -> bytes:
    """RIPEMD-160 from hashlib, or the pure-python fallback when OpenSSL 3 lacks it.

    btcpay-python calls ``hashlib.new('ripemd160')`` unguarded; the fake must not
    share that failure, or it could not verify anything on such a system.
    """
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:
        return _ripemd160_pure(data)


# RIPEMD-160 tables (Dobbertin, Bosselaers, Preneel 1996): message word order and
# rotations of the left and right lines, and the five round constants of each line.
_RMD_R = [*range(16), 7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
          3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12, 1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7,
          15, 14, 5, 6, 2, 4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13]
_RMD_RP = [5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12, 6, 11, 3, 7, 0, 13, 5, 10, 14, 15,
           8, 12, 4, 9, 1, 2, 15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13, 8, 6, 4, 1, 3, 11,
           15, 0, 5, 12, 2, 13, 9, 7, 10, 14, 12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11]
_RMD_S = [11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8, 7, 6, 8, 13, 11, 9, 7, 15, 7, 12,
          15, 9, 11, 7, 13, 12, 11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5, 11, 12, 14,
          15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12, 9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11,
          8, 5, 6]
_RMD_SP = [8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6, 9, 13, 15, 7, 12, 8, 9, 11, 7, 7,
           12, 7, 6, 15, 13, 11, 9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5, 15, 5, 8,
           11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8, 8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15,
           13, 11, 11]
_RMD_K = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_RMD_KP = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_MASK32 = 0xFFFFFFFF


def _rmd_f(round_: int, x: int, y: int, z: int) -> int:
    if round_ == 0:
        return x ^ y ^ z
    if round_ == 1:
        return (x & y) | (~x & z)
    if round_ == 2:
        return (x | ~y) ^ z
    if round_ == 3:
        return (x & z) | (y & ~z)
    return x ^ (y | ~z)


def _rol(value: int, bits: int) -> int:
    value &= _MASK32
    return ((value << bits) | (value >> (32 - bits))) & _MASK32


def _ripemd160_pure(data: bytes) -> bytes:
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    padded = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + (8 * len(data)).to_bytes(8, "little")
    for offset in range(0, len(padded), 64):
        words = [int.from_bytes(padded[offset + 4 * i:offset + 4 * i + 4], "little") for i in range(16)]
        a, b, c, d, e = state
        ap, bp, cp, dp, ep = state
        for j in range(80):
            rnd = j // 16
            t = _rol(a + _rmd_f(rnd, b, c, d) + words[_RMD_R[j]] + _RMD_K[rnd], _RMD_S[j]) + e
            a, e, d, c, b = e, d, _rol(c, 10), b, t & _MASK32
            t = _rol(ap + _rmd_f(4 - rnd, bp, cp, dp) + words[_RMD_RP[j]] + _RMD_KP[rnd], _RMD_SP[j]) + ep
            ap, ep, dp, cp, bp = ep, dp, _rol(cp, 10), bp, t & _MASK32
        t = (state[1] + c + dp) & _MASK32
        state[1] = (state[2] + d + ep) & _MASK32
        state[2] = (state[3] + e + ap) & _MASK32
        state[3] = (state[4] + a + bp) & _MASK32
        state[4] = (state[0] + b + cp) & _MASK32
        state[0] = t
    return b"".join(word.to_bytes(4, "little") for word in state)


def sin_from_public_key(public_key: bytes) -> str:
    """Base58Check(0x0F 0x02 || HASH160(key bytes as sent)): the server's GetBitIDSIN."""
    return b58check_encode(b"\x0f\x02" + ripemd160(hashlib.sha256(public_key).digest()))


def _is_valid_sin(sin) -> bool:
    """What POST /tokens accepts as ``id``: Base58Check of 22 bytes starting 0x0F 0x02."""
    payload = b58check_decode(sin) if isinstance(sin, str) else None
    return payload is not None and len(payload) == 22 and payload[:2] == b"\x0f\x02"


def _der_length(sig: bytes, pos: int) -> Optional[Tuple[int, int]]:
    """Read a DER length at ``pos``; return (length, position after it)."""
    if pos >= len(sig):
        return None
    first = sig[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if pos + 1 + count > len(sig):
        return None
    return int.from_bytes(sig[pos + 1:pos + 1 + count], "big"), pos + 1 + count


def parse_der_lax(sig: bytes) -> Optional[Tuple[int, int]]:
    """(r, s) of a DER signature, read as leniently as libsecp256k1's lax parser.

    NBitcoin uses ``ecdsa_signature_parse_der_lax``: the sequence length is not
    checked, integers may carry extra padding and trailing bytes are ignored; only the
    two INTEGER tags must be there.
    """
    if not sig or sig[0] != 0x30:
        return None
    header = _der_length(sig, 1)
    if header is None:
        return None
    pos, values = header[1], []
    for _ in range(2):
        if pos >= len(sig) or sig[pos] != 0x02:
            return None
        read = _der_length(sig, pos + 1)
        if read is None or read[1] + read[0] > len(sig):
            return None
        length, pos = read
        values.append(int.from_bytes(sig[pos:pos + length], "big"))
        pos += length
    return values[0], values[1]


def verify_bitid_signature(identity_hex: str, signature_hex: str, message: str) -> Optional[str]:
    """The SIN of ``identity_hex`` if ``signature_hex`` signs SHA256(message), else None.

    Mirrors AuthExtensions.CheckBitIDSignature: a single SHA-256 of the UTF-8
    message, a 33- or 65-byte SEC1 key, and high S normalised to low S before verifying
    (python-ecdsa, hence btcpay-python, emits high-S signatures about half the time).
    """
    try:
        public_key, signature = bytes.fromhex(identity_hex), bytes.fromhex(signature_hex)
    except ValueError:
        return None
    if not ((len(public_key) == 33 and public_key[0] in (2, 3)) or
            (len(public_key) == 65 and public_key[0] == 4)):
        return None
    rs = parse_der_lax(signature)
    if rs is None:
        return None
    r, s = rs
    order = SECP256k1.order
    if s > order // 2:
        s = order - s
    digest = hashlib.sha256(message.encode("utf-8")).digest()
    try:
        key = ecdsa.VerifyingKey.from_string(public_key, curve=SECP256k1)
        key.verify_digest((r, s), digest, sigdecode=lambda sig, _order: sig)
    except (ecdsa.BadSignatureError, ecdsa.MalformedPointError, ValueError, AssertionError):
        return None
    return sin_from_public_key(public_key)


# ---------------------------------------------------------------------------
# JSON and money, the way the server's Newtonsoft/C# decimal code does them
# ---------------------------------------------------------------------------

_RAW_OPEN, _RAW_CLOSE = "\ue000", "\ue001"   # private-use marks around numbers written verbatim
_RAW_NUMBER = re.compile(f'"{_RAW_OPEN}([^{_RAW_CLOSE}]*){_RAW_CLOSE}"')


def _newtonsoft_decimal(value: Decimal) -> str:
    """Newtonsoft writes a decimal with its scale and always with a point: 10 -> 10.0, 12.50 -> 12.50."""
    text = format(value, "f")
    return text if "." in text else text + ".0"


def _mark_decimals(obj):
    if isinstance(obj, Decimal):
        return _RAW_OPEN + _newtonsoft_decimal(obj) + _RAW_CLOSE
    if isinstance(obj, dict):
        return {key: _mark_decimals(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_mark_decimals(value) for value in obj]
    return obj


def dumps(obj) -> bytes:
    """Compact UTF-8 JSON, Decimals as bare numbers keeping their scale (JSON has no decimal type)."""
    text = json.dumps(_mark_decimals(obj), ensure_ascii=False, separators=(",", ":"))
    return _RAW_NUMBER.sub(r"\1", text).encode("utf-8")


def _decimal_text(value: Decimal) -> str:
    """C# decimal.ToString(Invariant): the scale as stored, never an exponent."""
    return format(value, "f")


def _round_places(value: Decimal, places: int) -> Decimal:
    """decimal.Round(value, places, AwayFromZero): like C#, it never *adds* trailing zeros."""
    if -value.as_tuple().exponent <= places:
        return value
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_to_significant(value: Decimal, places: int) -> Decimal:
    """BTCPay's RoundToSignificant: round to the currency's places, keeping more
    places as long as rounding would move the value by 1 % or more."""
    if value == 0:
        return value
    while True:
        rounded = _round_places(value, places)
        if abs(rounded - value) / value < Decimal("0.01"):
            return rounded
        places += 1


def _btc_text(sats: int) -> str:
    return f"{Decimal(sats) / Decimal(100_000_000):.8f}"


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


# ---------------------------------------------------------------------------
# Server-side records
# ---------------------------------------------------------------------------

@dataclass
class _Store:
    id: str
    name: str
    payment_methods: Tuple[str, ...]
    anyone_can_invoice: bool = False
    default_currency: str = "USD"
    speed_policy: str = "MediumSpeed"
    invoice_expiration: int = 15 * 60          # seconds (store default 15 min)
    monitoring_expiration: int = 1440 * 60     # seconds (store default 1440 min)
    payment_tolerance: float = 0.0
    redirect_automatically: bool = False
    default_lang: str = "en"


@dataclass
class _PairingCode:
    code: str
    store_id: str
    facade: str
    created: float
    expires: float


@dataclass
class _Token:
    """A completed pairing: the SIN now belongs to the store."""
    token: str
    sin: str
    store_id: str
    facade: str
    label: Optional[str]


@dataclass
class _ApiKey:
    key: str
    permissions: List[str]
    label: str


@dataclass
class _InvoiceSpec:
    """What either API asked for, after its own parsing."""
    amount: Optional[Decimal]                   # None: a top-up invoice
    currency: Optional[str] = None
    metadata: dict = field(default_factory=dict)
    payment_methods: Optional[List[str]] = None  # None: every method the store has
    expiration: Optional[float] = None          # seconds from now
    monitoring: Optional[float] = None          # seconds after expiration
    speed_policy: Optional[str] = None
    payment_tolerance: Optional[float] = None
    redirect_url: Optional[str] = None
    redirect_automatically: Optional[bool] = None
    default_language: Optional[str] = None
    default_payment_method: Optional[str] = None
    receipt: dict = field(default_factory=dict)
    search_terms: List[str] = field(default_factory=list)
    legacy_options: dict = field(default_factory=dict)   # notificationURL etc., kept, unused


@dataclass
class _Invoice:
    id: str
    store_id: str
    seq: int                     # creation order ("newest first" must not depend on clock ties)
    source: str                  # "legacy" or "greenfield"
    server_url: str              # the root the invoice was created through (legacy links)
    created: float
    expiration: float
    monitoring_expiration: float
    amount: Decimal
    type: str                    # "Standard" or "TopUp"
    currency: str
    metadata: dict
    payment_methods: List[str]
    destinations: Dict[str, str]
    spec: _InvoiceSpec
    status: str = "New"
    additional_status: str = "None"
    archived: bool = False
    paid_amount: Optional[Decimal] = None    # what was received, in the invoice's currency

    @property
    def received(self) -> Decimal:
        """Money received: all of it once paid (or paid late), else what set_status said."""
        if self.paid_amount is not None:
            return self.paid_amount
        if self.paid or self.additional_status in ("PaidLate", "PaidOver"):
            return self.amount
        return Decimal(0)

    @property
    def order_id(self) -> Optional[str]:
        value = self.metadata.get("orderId")
        return None if value is None else str(value)

    @property
    def paid(self) -> bool:
        return self.status in ("Processing", "Settled")

    def refresh(self, now: float) -> None:
        """Let an unpaid invoice expire when its time is up, as the invoice watcher would."""
        if self.status == "New" and now >= self.expiration:
            self.status = "Expired"


@dataclass
class _Fault:
    kind: str
    path_contains: str
    method: Optional[str]
    remaining: Optional[int]     # None: until cleared

    def matches(self, request: "_Request") -> bool:
        return (self.path_contains in request.target and
                (self.method is None or self.method.upper() == request.method))


class _BusinessError(Exception):
    """Refused by invoice creation itself: 400 in both APIs, each with its own envelope."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------

@dataclass
class _Request:
    method: str
    target: str                  # raw path + query, exactly as on the request line
    headers: HTTPMessage
    body: bytes
    local_host: str

    # The target is split by hand: urlsplit() would read "//invoices/" as a host name.
    @property
    def path(self) -> str:
        return unquote(self.target.partition("?")[0])

    @property
    def query(self) -> List[Tuple[str, str]]:
        return parse_qsl(self.target.partition("?")[2], keep_blank_values=True)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)

    def query_values(self, name: str) -> List[str]:
        # ASP.NET query keys are case-insensitive (btcpay-python sends "storeID").
        return [value for key, value in self.query if key.lower() == name.lower()]

    def query_first(self, name: str) -> Optional[str]:
        values = self.query_values(name)
        return values[0] if values else None

    @property
    def base_url(self) -> str:
        """scheme://host as the server sees it; X-Forwarded-* are trusted."""
        scheme = _last_forwarded(self.header("X-Forwarded-Proto")) or "http"
        host = _last_forwarded(self.header("X-Forwarded-Host")) or self.header("Host") or self.local_host
        return f"{scheme}://{host}"

    @property
    def absolute_url(self) -> str:
        """GetEncodedUrl(): what a BitId signature covers, together with the body."""
        return self.base_url + self.target


def _last_forwarded(value: Optional[str]) -> Optional[str]:
    """The entry the nearest proxy added (ForwardLimit = 1)."""
    return (value.split(",")[-1].strip() or None) if value else None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)


_DROP = _Response(0)   # sentinel: close the connection without answering


def _json(status: int, obj, content_type: str = "application/json; charset=utf-8") -> _Response:
    return _Response(status, dumps(obj), {"Content-Type": content_type})


def _legacy_error(status: int, message: str) -> _Response:
    """BitpayErrorsModel: only "error", as "errors" is null and omitted."""
    return _json(status, {"error": message})


def _legacy_challenge(reason: str) -> _Response:
    """401 from the BitPay authentication handler, written with a bare content type."""
    return _json(401, {"errors": [{"error": reason}], "error": reason}, "application/json")


def _api_error(status: int, code: str, message: str) -> _Response:
    return _json(status, {"code": code, "message": message})


def _unauthenticated(message: str) -> _Response:
    return _json(401, {"code": "unauthenticated", "message": message}, "application/json")


def _missing_permission(policy: str) -> _Response:
    message = (f'Insufficient API Permissions. Please use an API key with permission "{policy}". '
               "You can create an API key in your account's settings / Api Keys.")
    return _json(403, {"code": "missing-permission", "message": message, "missingPermission": policy},
                 "application/json")


def _validation_error(errors: List[Tuple[str, str]]) -> _Response:
    """422 with one {path, message} per model-state error."""
    return _json(422, [{"path": path, "message": message} for path, message in errors])


def _malformed_body() -> _Response:
    """What a client gets when something in front of the server answers instead of it."""
    page = b"<!DOCTYPE html>\n<html><head><title>BTCPay Server</title></head><body></body></html>\n"
    return _Response(200, page, {"Content-Type": "text/html; charset=utf-8"})


# ---------------------------------------------------------------------------
# Invoice representations (server-side record -> wire JSON)
# ---------------------------------------------------------------------------

def _sats(invoice: _Invoice) -> int:
    currency = CURRENCIES.get(invoice.currency)
    if currency is None:
        return 0
    return int((invoice.amount / currency.btc_rate * 100_000_000).to_integral_value(ROUND_HALF_UP))


def _markable_statuses(invoice: _Invoice) -> List[str]:
    marked = invoice.additional_status == "Marked"
    result = []
    if invoice.status in ("New", "Processing", "Expired", "Invalid") or (marked and invoice.status != "Settled"):
        result.append("Settled")
    if invoice.status in ("New", "Processing", "Expired") or (marked and invoice.status != "Invalid"):
        result.append("Invalid")
    return result


def greenfield_view(invoice: _Invoice, base_url: str) -> dict:
    """InvoiceData (GreenfieldInvoiceController.ToModel): times in seconds, amounts as strings."""
    spec = invoice.spec
    paid = _decimal_text(invoice.received)
    return {
        "id": invoice.id,
        "storeId": invoice.store_id,
        "amount": _decimal_text(invoice.amount),
        "paidAmount": paid,
        "currency": invoice.currency,
        "type": invoice.type,
        "checkoutLink": f"{base_url}/i/{invoice.id}",
        "status": invoice.status,
        "additionalStatus": invoice.additional_status,
        "createdTime": int(invoice.created),
        "expirationTime": int(invoice.expiration),
        "monitoringExpiration": int(invoice.monitoring_expiration),
        "availableStatusesForManualMarking": _markable_statuses(invoice),
        "archived": invoice.archived,
        "metadata": copy.deepcopy(invoice.metadata),
        "checkout": {
            "speedPolicy": spec.speed_policy,
            "paymentMethods": list(invoice.payment_methods),
            "defaultPaymentMethod": spec.default_payment_method,
            "expirationMinutes": int((invoice.expiration - invoice.created) // 60),
            "monitoringMinutes": int((invoice.monitoring_expiration - invoice.expiration) // 60),
            "paymentTolerance": spec.payment_tolerance,
            "redirectURL": spec.redirect_url,
            "redirectAutomatically": spec.redirect_automatically,
            "defaultLanguage": spec.default_language,
            "lazyPaymentMethods": None,
        },
        "receipt": {"enabled": True, "showQR": True, "showPayments": True, **spec.receipt},
    }


def _payment_urls(invoice: _Invoice, pm: str, btc: str) -> dict:
    destination = invoice.destinations[pm]
    if pm == "BTC-CHAIN":
        return {"BIP21": f"bitcoin:{destination}?amount={btc}", "BIP72": None, "BIP72b": None,
                "BIP73": None, "BOLT11": None}
    return {"BOLT11": f"lightning:{destination}"}


def _crypto_info(invoice: _Invoice, pm: str, rate: Decimal, root: str) -> dict:
    sats = _sats(invoice)
    price, paid = _btc_text(sats), _btc_text(sats if invoice.paid else 0)
    due = _btc_text(0 if invoice.paid else sats)
    return {
        "cryptoCode": "BTC", "paymentType": pm, "rate": rate, "exRates": {invoice.currency: rate},
        "paid": paid, "price": price, "due": due, "paymentUrls": _payment_urls(invoice, pm, price),
        "address": invoice.destinations[pm], "url": f"{root}/i/{pm}/{invoice.id}", "totalDue": due,
        "networkFee": _btc_text(0), "txCount": 1 if invoice.paid else 0, "cryptoPaid": paid, "payments": [],
    }


def _legacy_buyer(metadata: dict) -> dict:
    """The response's buyer uses other names than the request's."""
    names = (("name", "buyerName"), ("address1", "buyerAddress1"), ("address2", "buyerAddress2"),
             ("locality", "buyerCity"), ("region", "buyerState"), ("postalCode", "buyerZip"),
             ("country", "buyerCountry"), ("phone", "buyerPhone"), ("email", "buyerEmail"))
    return {out: metadata.get(key) for out, key in names}


def legacy_view(invoice: _Invoice, now: float) -> dict:
    """InvoiceResponse (InvoiceEntity.EntityToDTO): times in milliseconds, price a number."""
    currency = CURRENCIES.get(invoice.currency)
    rate = currency.btc_rate if currency else Decimal(0)
    root, metadata, sats = invoice.server_url, invoice.metadata, _sats(invoice)
    onchain = "BTC-CHAIN" in invoice.payment_methods
    btc_price = _btc_text(sats) if onchain else None
    received = (int((Decimal(sats) * invoice.received / invoice.amount).to_integral_value(ROUND_HALF_UP))
                if invoice.amount else 0)
    pos_data = metadata.get("posData")
    data = {
        "id": invoice.id,
        "url": f"{root}/invoice?id={invoice.id}",
        "posData": pos_data if pos_data is None or isinstance(pos_data, str) else json.dumps(pos_data),
        "status": _LEGACY_STATUS[invoice.status],
        "btcPrice": btc_price,
        "btcDue": _btc_text(max(sats - received, 0)) if onchain else None,
        "btcPaid": _btc_text(received) if onchain else None,
        "cryptoInfo": [_crypto_info(invoice, pm, rate, root) for pm in invoice.payment_methods],
        "price": invoice.amount,
        "currency": invoice.currency,
        "exRates": {invoice.currency: Decimal(0)},    # the server's quirk: built before the rate is set
        "buyerTotalBtcAmount": None,
        "itemDesc": metadata.get("itemDesc"),
        "itemCode": metadata.get("itemCode"),
        "orderId": invoice.order_id,
        "guid": str(uuid.uuid4()),                    # new on every response
        "invoiceTime": _ms(invoice.created),
        "expirationTime": _ms(invoice.expiration),
        "currentTime": _ms(now),
        "lowFeeDetected": False,
        "rate": rate,
        "exceptionStatus": _LEGACY_EXCEPTION_STATUS[invoice.additional_status],
        "paymentUrls": _payment_urls(invoice, "BTC-CHAIN", btc_price) if onchain else None,
        "refundAddressRequestPending": False,
        "buyerPaidBtcMinerFee": None,
        "bitcoinAddress": invoice.destinations.get("BTC-CHAIN"),
        "token": _random_base58(16),                  # random per response, "no idea what it is useful for"
        "flags": None,
        "paymentSubtotals": {_subtotal_key(pm): sats for pm in invoice.payment_methods},
        "paymentTotals": {_subtotal_key(pm): sats for pm in invoice.payment_methods},
        "amountPaid": received,
        "minerFees": {"BTC": {"satoshisPerByte": Decimal(1), "totalFee": 0}} if onchain else {},
        "exchangeRates": {"BTC": {invoice.currency: rate}},
        "supportedTransactionCurrencies": {"BTC": {"enabled": True, "reason": None}},
        "addresses": {_subtotal_key(pm): invoice.destinations[pm] for pm in invoice.payment_methods},
        "paymentCodes": {_subtotal_key(pm): {k: v for k, v in _payment_urls(invoice, pm, _btc_text(sats)).items()
                                             if v is not None} for pm in invoice.payment_methods},
        "buyer": _legacy_buyer(metadata),
    }
    tax = metadata.get("taxIncluded")
    if tax:                                           # omitted when 0
        data["taxIncluded"] = Decimal(str(tax))
    return data


def _subtotal_key(pm: str) -> str:
    """Keyed by cryptoCode for on-chain, by payment method id otherwise."""
    return "BTC" if pm == "BTC-CHAIN" else pm


def _fake_destination(pm: str, sats: int) -> str:
    """Look-alike regtest address / BOLT11 (not valid encodings: nothing pays them)."""
    chars = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    tail = "".join(secrets.choice(chars) for _ in range(38 if pm == "BTC-CHAIN" else 180))
    return "bcrt1q" + tail if pm == "BTC-CHAIN" else f"lnbcrt{sats * 10}n1p{tail}"


# ---------------------------------------------------------------------------
# The fake server
# ---------------------------------------------------------------------------

class FakeBTCPay:
    """One BTCPay Server with its stores, pairings, API keys and invoices, on 127.0.0.1.

    All state lives in memory and is guarded by one lock; the helper methods below are the
    "admin UI" a test uses to set the server up and to look at it from the server's side.
    """

    def __init__(self):
        self.url = ""
        self.delay_seconds = 5.0
        # The "redirect" fault's answer: status and Location (a proxy's http -> https, another host).
        self.redirect_status = 302
        self.redirect_location = ""
        # The "429" fault's Retry-After header (seconds, or an HTTP date; None: no header).
        self.retry_after: Optional[str] = "1"
        self.requests: List[dict] = []
        self._lock = threading.RLock()
        self._stores: Dict[str, _Store] = {}
        self._pairing_codes: Dict[str, _PairingCode] = {}
        self._tokens: List[_Token] = []
        self._api_keys: Dict[str, _ApiKey] = {}
        self._invoices: Dict[str, _Invoice] = {}
        self._faults: List[_Fault] = []
        self._server: Optional[_HTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._legacy = _LegacyApi(self)
        self._greenfield = _GreenfieldApi(self)
        # The store new_pairing_code() uses when given none.
        self.default_store_id = self.new_store("Default store")

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> "FakeBTCPay":
        self._server = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="fake-btcpay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeBTCPay":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- legacy API set-up ------------------------------------------------------

    def new_pairing_code(self, store_id: Optional[str] = None, facade: str = "merchant") -> str:
        """A server-initiated pairing code, as Store -> Access Tokens creates it."""
        with self._lock:
            store_id = store_id or self.default_store_id
            self._store(store_id)
            code = ""
            # Base58 of 6 random bytes, redrawn until exactly 7 characters long.
            while len(code) != 7 or code in self._pairing_codes:
                code = _random_base58(6)
            now = time.time()
            self._pairing_codes[code] = _PairingCode(code, store_id, facade, now, now + PAIRING_CODE_TTL)
            return code

    def expire_pairing_code(self, code: str) -> None:
        with self._lock:
            self._pairing_codes[code].expires = time.time() - 1

    @property
    def legacy_invoices(self) -> List[dict]:
        """Invoices created through the legacy API, in creation order, as GET /invoices/{id} shows them."""
        with self._lock:
            now = time.time()
            return [self._legacy_snapshot(inv, now) for inv in self._invoices.values() if inv.source == "legacy"]

    # -- Greenfield set-up ------------------------------------------------------

    def new_store(self, name: str = "Test store", wallet: bool = True, anyone_can_invoice: bool = False) -> str:
        """A store; ``wallet=False`` is a store nobody linked a wallet to (invoices get 400)."""
        with self._lock:
            store_id = _random_base58(32)
            methods = WALLET_PAYMENT_METHODS if wallet else ()
            self._stores[store_id] = _Store(store_id, name, methods, anyone_can_invoice)
            return store_id

    def new_api_key(self, permissions: List[str], store_id: Optional[str] = None, label: str = "test key") -> str:
        """A Greenfield key (40 hex chars); with ``store_id`` its store permissions are scoped to it."""
        with self._lock:
            key = secrets.token_hex(20)
            granted = [_scoped(p, store_id) for p in permissions]
            self._api_keys[key] = _ApiKey(key, granted, label)
            return key

    def invoices(self, store_id: Optional[str] = None) -> List[dict]:
        """Every invoice of a store (default: the default store), both APIs, in creation order,
        in Greenfield's shape; archived ones included."""
        with self._lock:
            store_id = store_id or self.default_store_id
            now = time.time()
            result = []
            for invoice in self._invoices.values():
                if invoice.store_id == store_id:
                    invoice.refresh(now)
                    result.append(greenfield_view(invoice, self.url))
            return result

    def set_status(self, invoice_id: str, status: str, additional_status: Optional[str] = None,
                   paid_amount: Optional[str] = None) -> None:
        """Move an invoice as payments (or an admin) would: "Settled", "Expired", "processing", "paid"...

        ``paid_amount`` (in the invoice's currency) is what a partial payment brought in.
        """
        canonical = status if status in STATUSES else _STATUS_ALIASES.get(status.lower())
        if canonical is None:
            raise ValueError(f"unknown invoice status {status!r}; use one of {', '.join(STATUSES)}")
        if additional_status is not None and additional_status not in ADDITIONAL_STATUSES:
            raise ValueError(f"unknown additional status {additional_status!r}")
        with self._lock:
            invoice = self._invoices[invoice_id]
            invoice.status = canonical
            invoice.additional_status = additional_status or "None"
            invoice.paid_amount = None if paid_amount is None else Decimal(paid_amount)

    # -- faults -----------------------------------------------------------------

    def fault(self, kind: str, path_contains: str = "", method: Optional[str] = None,
              times: Optional[int] = 1) -> None:
        """Make the next ``times`` matching requests misbehave (``times=None``: until cleared).

        Kinds: "delay" (sleep ``delay_seconds``, then answer normally), "500" (answer 500
        without doing the work), "malformed" (do the work, answer 200 with a non-JSON body),
        "drop_after_create" (do the work, then close the connection without answering),
        "redirect" (answer ``redirect_status`` with ``Location: redirect_location``, without the work),
        "phantom" (answer normally, then forget every invoice the request created: an id
        the server does not have), "502" / "503" / "504" (a proxy's answer while the server
        restarts, without the work), "429" (a rate limit, with ``Retry-After: retry_after``,
        without the work), "drop" (close the connection without answering or doing the work).
        A request gets at most one fault: the earliest registered one that matches.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for 'until cleared'")
        with self._lock:
            self._faults.append(_Fault(kind, path_contains, method, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- request handling -------------------------------------------------------

    def _handle(self, request: _Request) -> _Response:
        response = self._answer(request)
        with self._lock:   # what was answered, for contract checks (BTCPay's OpenAPI document)
            exchange = next(r for r in reversed(self.requests) if r.get("_request") is request)
            exchange.pop("_request")
            exchange["status"] = response.status
            exchange["response"] = response.body.decode("utf-8", "replace") if response is not _DROP else ""
            exchange["response_type"] = response.headers.get("Content-Type", "")
        return response

    def _answer(self, request: _Request) -> _Response:
        fault = self._record_and_take_fault(request)
        kind = fault.kind if fault else None
        if kind == "delay":
            time.sleep(self.delay_seconds)       # outside the lock: other requests go on
        if kind == "500":
            return _Response(500)
        if kind == "redirect":
            return _Response(self.redirect_status, b"", {"Location": self.redirect_location})
        if kind == "drop":
            return _DROP
        if kind in ("502", "503", "504", "429"):
            status = int(kind)
            headers = {"Content-Type": "text/html"}
            if status == 429 and self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
            return _Response(status, f"<html><body>{status} {_GATEWAY_REASONS[status]}</body></html>".encode(),
                             headers)
        try:
            with self._lock:
                if request.path.lower().startswith("/api/"):
                    response = self._greenfield.handle(request)
                else:
                    response = self._legacy.handle(request)
        except Exception:   # a bug in the fake: say so loudly rather than drop the connection
            return _Response(500, traceback.format_exc().encode(), {"Content-Type": "text/plain; charset=utf-8",
                                                                   "X-Fake-BTCPay-Error": "1"})
        if kind == "phantom":
            self._forget_invoices_in(response)
        if kind == "malformed":
            return _malformed_body()
        if kind == "drop_after_create":
            return _DROP
        return response

    def _forget_invoices_in(self, response: _Response) -> None:
        try:
            answer = json.loads(response.body)
        except ValueError:
            return
        answer = answer.get("data", answer) if isinstance(answer, dict) else answer
        with self._lock:
            if isinstance(answer, dict):
                self._invoices.pop(str(answer.get("id")), None)

    def _record_and_take_fault(self, request: _Request) -> Optional[_Fault]:
        with self._lock:
            self.requests.append({"method": request.method, "path": request.target,
                                  "headers": dict(request.headers.items()), "body": request.text,
                                  "_request": request})
            for fault in self._faults:
                if fault.matches(request):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
            return None

    # -- shared server logic (callers hold the lock) ---------------------------------

    def _store(self, store_id: str) -> _Store:
        try:
            return self._stores[store_id]
        except KeyError:
            raise KeyError(f"no store {store_id!r} on the fake server") from None

    def _store_of_sin(self, sin: str) -> Optional[_Store]:
        """TokenRepository.GetTokens(sin).FirstOrDefault()?.StoreId."""
        for token in self._tokens:
            if token.sin == sin:
                return self._stores.get(token.store_id)
        return None

    def _pair(self, sin: str, code: str, label: Optional[str]) -> _Response:
        """POST /tokens with a pairing code."""
        pairing = self._pairing_codes.get(code)
        if pairing is None:
            return _legacy_error(404, "The specified pairingCode is not found")
        if time.time() > pairing.expires:
            return _legacy_error(400, "Error while pairing (Expired)")
        del self._pairing_codes[code]           # consumed, even when the key is refused below
        paired = self._store_of_sin(sin)
        if paired is not None and paired.id != pairing.store_id:
            return _legacy_error(400, "Error while pairing (ReusedKey)")
        token = _Token(_random_base58(32), sin, pairing.store_id, pairing.facade, label)
        self._tokens.append(token)
        return _json(200, {"data": [{
            "policies": [], "pairingCode": code, "pairingExpiration": _ms(pairing.expires),
            "dateCreated": _ms(pairing.created), "facade": token.facade, "token": token.token,
            "label": label}]})

    def _tokens_of_sin(self, sin: str) -> List[_Token]:
        return [token for token in self._tokens if token.sin == sin]

    def _key_grants(self, key: _ApiKey, policy: str, store_id: str) -> bool:
        """BuiltInPermissionHandler: an unknown store fails like a missing permission."""
        if store_id not in self._stores:
            return False
        for permission in key.permissions:
            name, _, scope = permission.partition(":")
            name = name.lower()
            if name == "unrestricted":
                return True
            if scope and scope != store_id:
                continue
            if policy in _policy_closure(name):
                return True
        return False

    def _create_invoice(self, store: _Store, spec: _InvoiceSpec, source: str, server_url: str) -> _Invoice:
        """UIInvoiceController.CreateInvoiceCoreRaw, the part both APIs share."""
        currency = (spec.currency or "").strip().upper() or store.default_currency
        top_up = spec.amount is None
        amount = Decimal(0) if top_up or spec.amount < 0 else min(spec.amount, MAX_AMOUNT)
        if currency in CURRENCIES:
            amount = round_to_significant(amount, CURRENCIES[currency].digits)
        email = spec.metadata.get("buyerEmail")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            raise _BusinessError("Invalid email")
        # A standard invoice of 0 needs no payment method, hence no wallet and no rate.
        methods = self._invoice_methods(store, spec, currency) if top_up or amount != 0 else []
        now = time.time()
        expiration = now + (spec.expiration if spec.expiration is not None else store.invoice_expiration)
        monitoring = spec.monitoring if spec.monitoring is not None else store.monitoring_expiration
        # The invoice keeps the store's settings for what the request left out.
        spec.speed_policy = spec.speed_policy or store.speed_policy
        if spec.redirect_automatically is None:
            spec.redirect_automatically = store.redirect_automatically
        spec.payment_tolerance = (spec.payment_tolerance if spec.payment_tolerance is not None
                                  else store.payment_tolerance)
        invoice = _Invoice(
            id=_random_base58(16), store_id=store.id, seq=len(self._invoices), source=source,
            server_url=server_url, created=now, expiration=expiration,
            monitoring_expiration=expiration + monitoring, amount=amount,
            type="TopUp" if top_up else "Standard", currency=currency, metadata=spec.metadata,
            payment_methods=methods, destinations={}, spec=spec)
        invoice.destinations = {pm: _fake_destination(pm, _sats(invoice)) for pm in methods}
        self._invoices[invoice.id] = invoice
        return invoice

    @staticmethod
    def _invoice_methods(store: _Store, spec: _InvoiceSpec, currency: str) -> List[str]:
        if not store.payment_methods:
            raise _BusinessError(NO_WALLET_MESSAGE)
        wanted = spec.payment_methods
        methods = [pm for pm in store.payment_methods if wanted is None or pm in wanted]
        if currency not in CURRENCIES:
            raise _BusinessError(NO_MATCH_MESSAGE + f"BTC_{currency}: no rate available\n")
        if not methods:
            raise _BusinessError(NO_MATCH_MESSAGE + "No payment method of the store is allowed by the invoice\n")
        return methods

    def _legacy_snapshot(self, invoice: _Invoice, now: float) -> dict:
        invoice.refresh(now)
        return legacy_view(invoice, now)

    def _greenfield_snapshot(self, invoice: _Invoice, base_url: str, now: float) -> dict:
        invoice.refresh(now)
        return greenfield_view(invoice, base_url)


def _scoped(permission: str, store_id: Optional[str]) -> str:
    if store_id and permission.lower().startswith("btcpay.store.") and ":" not in permission:
        return f"{permission}:{store_id}"
    return permission


def _policy_closure(policy: str) -> set:
    result = {policy}
    for included in _INCLUDED_POLICIES.get(policy, ()):
        result |= _policy_closure(included)
    return result


def _normalise_status(value: str) -> Optional[str]:
    return _STATUS_ALIASES.get(value.strip().lower())


# ---------------------------------------------------------------------------
# Legacy (BitPay-compatible) API
# ---------------------------------------------------------------------------

@dataclass
class _Identity:
    kind: str                    # "sin" or "anonymous"
    sin: Optional[str] = None


class _LegacyApi:
    def __init__(self, fake: FakeBTCPay):
        self.fake = fake

    def handle(self, request: _Request) -> _Response:
        endpoint = self._select(request)
        return endpoint(request) if endpoint else _Response(404)

    def _select(self, request: _Request) -> Optional[Callable[[_Request], _Response]]:
        """BitpayEndpointSelectorPolicy.IsBitpayAPI; anything else is a 404."""
        path, method = request.path.lower(), request.method
        if method == "OPTIONS":
            legacy = path in ("/invoices", "/invoices/", "/tokens") or path.startswith(("/invoices/", "/rates"))
            return self._preflight if legacy else None
        bitpay_auth = (request.header("Authorization") is not None
                       or (request.header("X-Signature") is not None and request.header("X-Identity") is not None)
                       or request.query_first("storeId") is not None)
        # [MediaTypeConstraint("application/json")] compares case-sensitively.
        json_body = (request.header("Content-Type") or "").startswith("application/json")
        if path in ("/invoices", "/invoices/") and bitpay_auth:
            if method == "POST" and json_body:
                return self._create_invoice
            if method == "GET":
                return self._list_invoices
        has_token = request.query_first("token") is not None
        if method == "GET" and path.startswith("/invoices/") and (json_body or has_token):
            return self._get_invoice
        if method == "GET" and path.startswith("/rates"):
            return self._rates
        if path == "/tokens" and method in ("GET", "POST"):
            return self._pair if method == "POST" else self._list_tokens
        return None

    @staticmethod
    def _preflight(request: _Request) -> _Response:
        return _Response(204, headers={"Access-Control-Allow-Origin": "*",
                                       "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                       "Access-Control-Allow-Headers": "*"})

    # -- authentication / authorization ----------------------------

    @staticmethod
    def _authenticate(request: _Request) -> Union[_Identity, _Response]:
        """BitId first, then a legacy API key, else anonymous (which still counts as authenticated)."""
        signature, identity = request.header("X-Signature"), request.header("X-Identity")
        if signature and identity:
            sin = verify_bitid_signature(identity, signature, request.absolute_url + request.text)
            return _Identity("sin", sin) if sin else _legacy_challenge("BitId authentication failed")
        if request.header("Authorization") is not None:
            # The fake issues no legacy API keys, and a "token ..." header fails here too.
            return _legacy_challenge("ApiKey authentication failed")
        return _Identity("anonymous")

    def _store_for(self, request: _Request, identity: _Identity, anonymous_allowed=lambda store: False
                   ) -> Optional[_Store]:
        """The store a request acts on, or None for 403: the ``token`` value is never looked at."""
        if identity.kind == "sin":
            return self.fake._store_of_sin(identity.sin)
        store = self.fake._stores.get(request.query_first("storeId") or "")
        return store if store is not None and anonymous_allowed(store) else None

    def _authorized_store(self, request: _Request, anonymous_allowed=lambda store: False
                          ) -> Union[_Store, _Response]:
        identity = self._authenticate(request)
        if isinstance(identity, _Response):
            return identity
        store = self._store_for(request, identity, anonymous_allowed)
        return store if store is not None else _Response(403)     # empty body

    # -- endpoints ------------------------------------------------------------------

    def _pair(self, request: _Request) -> _Response:
        try:
            payload = json.loads(request.body) if request.body.strip() else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _legacy_error(400, "The request body is missing")
        sin = self._signed_sin(request) or payload.get("id")
        if not _is_valid_sin(sin):
            return _legacy_error(400, "'id' property is required, alternatively, use BitId")
        code = payload.get("pairingCode")
        if not code:
            # The client-initiated flow (admin approval in the UI) is not faked.
            return _legacy_error(400, "The fake supports server-initiated pairing only: send a pairingCode")
        label = payload.get("label")
        return self.fake._pair(sin, str(code), label if isinstance(label, str) else None)

    @staticmethod
    def _signed_sin(request: _Request) -> Optional[str]:
        signature, identity = request.header("X-Signature"), request.header("X-Identity")
        if signature and identity:
            return verify_bitid_signature(identity, signature, request.absolute_url + request.text)
        return None

    def _list_tokens(self, request: _Request) -> _Response:
        sin = self._signed_sin(request)
        tokens = self.fake._tokens_of_sin(sin) if sin else []
        return _json(200, {"data": [{token.facade: token.token} for token in tokens]})

    def _create_invoice(self, request: _Request) -> _Response:
        store = self._authorized_store(request, anonymous_allowed=lambda s: s.anyone_can_invoice)
        if isinstance(store, _Response):
            return store
        try:
            spec = _legacy_spec(_load_json(request.body, parse_float=Decimal), time.time())
            invoice = self.fake._create_invoice(store, spec, "legacy", request.base_url)
        except _BusinessError as error:
            return _legacy_error(400, error.message)
        return _json(200, {"facade": "pos/invoice", "data": legacy_view(invoice, time.time())})

    def _list_invoices(self, request: _Request) -> _Response:
        store = self._authorized_store(request)        # "Forbid" for Anonymous on the list
        if isinstance(store, _Response):
            return store
        now = time.time()
        invoices = [inv for inv in self.fake._invoices.values() if inv.store_id == store.id]
        for invoice in invoices:
            invoice.refresh(now)
        invoices = [inv for inv in invoices if _legacy_filter(request, inv)]
        invoices.sort(key=lambda inv: inv.seq, reverse=True)
        offset = _int_or(request.query_first("offset"), 0)
        limit = _int_or(request.query_first("limit"), None)
        invoices = invoices[offset:] if limit is None else invoices[offset:offset + limit]
        return _json(200, {"data": [legacy_view(inv, now) for inv in invoices]})

    def _get_invoice(self, request: _Request) -> _Response:
        invoice_id = request.path[len("/invoices/"):]
        if "/" in invoice_id:
            return _Response(404)                  # no such route
        store = self._authorized_store(request)
        if isinstance(store, _Response):
            return store
        invoice = self.fake._invoices.get(invoice_id)
        if invoice is None or invoice.store_id != store.id:
            return _legacy_error(404, "Object not found")
        return _json(200, {"data": self.fake._legacy_snapshot(invoice, time.time())})

    def _rates(self, request: _Request) -> _Response:
        """GET /rates[/]; the /rates/{base}[/{quote}] variants are not faked."""
        if request.path.lower() not in ("/rates", "/rates/"):
            return _Response(404)
        store = self._authorized_store(request, anonymous_allowed=lambda s: True)
        if isinstance(store, _Response):
            return store
        pairs = request.query_first("currencyPairs")
        crypto = request.query_first("cryptoCode")
        if pairs:
            wanted = [p.strip().upper() for p in pairs.split(",") if p.strip()]
        elif crypto:
            # No default pairs configured: the server builds "<DefaultCurrency>_<cryptoCode>".
            wanted = [f"{store.default_currency}_{crypto.upper()}"]
        else:
            return _legacy_error(400, "You need to setup the default currency pairs in 'Store Settings / Rates' "
                                      "or specify 'currencyPairs' query parameter (eg. BTC_USD,LTC_CAD).")
        return _json(200, {"data": [entry for entry in map(_rate_entry, wanted) if entry]})


def _rate_entry(pair: str) -> Optional[dict]:
    base, _, quote = pair.partition("_")
    if base not in CURRENCIES or quote not in CURRENCIES:
        return None
    rate = CURRENCIES[quote].btc_rate / CURRENCIES[base].btc_rate
    return {"name": CURRENCIES[quote].name, "cryptoCode": base, "currencyPair": pair, "code": quote, "rate": rate}


def _int_or(value: Optional[str], default):
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _legacy_date(value: Optional[str]) -> Optional[float]:
    """dateStart/dateEnd are MM/dd/yyyy; an unreadable one is not applied."""
    if not value:
        return None
    for pattern in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def _legacy_filter(request: _Request, invoice: _Invoice) -> bool:
    order_id, item_code = request.query_first("orderId"), request.query_first("itemCode")
    if order_id is not None and invoice.order_id != order_id:
        return False
    if item_code is not None and invoice.metadata.get("itemCode") != item_code:
        return False
    status = _normalise_status(request.query_first("status") or "")
    if status is not None and invoice.status != status:     # unknown values filter nothing
        return False
    start, end = _legacy_date(request.query_first("dateStart")), _legacy_date(request.query_first("dateEnd"))
    if start is not None and invoice.created < start:
        return False
    if end is not None and invoice.created >= end + 86400:      # dateEnd gets one more day
        return False
    return True


def _load_json(body: bytes, **options):
    """The JSON body, or _BusinessError("Invalid invoice") when it cannot be bound."""
    try:
        return json.loads(body.decode("utf-8"), **options)
    except (ValueError, UnicodeDecodeError):
        raise _BusinessError("Invalid invoice") from None


def _legacy_text(payload: dict, key: str) -> Optional[str]:
    """A string property as Newtonsoft binds it: numbers become their text, objects fail."""
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise _BusinessError("Invalid invoice")


def _legacy_bool(payload: dict, key: str) -> Optional[bool]:
    value = payload.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _BusinessError("Invalid invoice")


def _legacy_decimal(value) -> Optional[Decimal]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise _BusinessError("Invalid invoice")
    try:
        return Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise _BusinessError("Invalid invoice") from None


_LEGACY_BUYER_FIELDS = (("buyerName", "name"), ("buyerAddress1", "address1"), ("buyerAddress2", "address2"),
                        ("buyerCity", "city"), ("buyerState", "state"), ("buyerZip", "zip"),
                        ("buyerCountry", "country"), ("buyerEmail", "email"), ("buyerPhone", "phone"))


def _legacy_metadata(payload: dict, price: Optional[Decimal]) -> dict:
    metadata = {key: _legacy_text(payload, key) for key in ("orderId", "itemDesc", "itemCode")}
    pos_data = _legacy_text(payload, "posData")
    if pos_data is not None:
        try:    # a JSON-object string is stored as an object
            parsed = json.loads(pos_data)
            metadata["posData"] = parsed if isinstance(parsed, dict) else pos_data
        except ValueError:
            metadata["posData"] = pos_data
    buyer = payload.get("buyer") if isinstance(payload.get("buyer"), dict) else {}
    for flat, nested in _LEGACY_BUYER_FIELDS:       # the flat field wins, the buyer object fills in
        metadata[flat] = _legacy_text(payload, flat) or _legacy_text(buyer, nested)
    if isinstance(payload.get("physical"), bool):
        metadata["physical"] = payload["physical"]
    tax = _legacy_decimal(payload.get("taxIncluded"))
    if tax is not None:
        metadata["taxIncluded"] = min(max(tax, Decimal(0)), price or Decimal(0))
    return {key: value for key, value in metadata.items() if value is not None}


def _legacy_payment_methods(payload: dict) -> Optional[List[str]]:
    """paymentCurrencies + enabled supportedTransactionCurrencies; "BTC" means on-chain only."""
    currencies = payload.get("paymentCurrencies")
    wanted = list(currencies) if isinstance(currencies, list) else []
    supported = payload.get("supportedTransactionCurrencies")
    if isinstance(supported, dict):
        wanted += [pm for pm, opts in supported.items() if isinstance(opts, dict) and opts.get("enabled")]
    if not wanted:
        return None
    return [pm for pm in (_parse_payment_method(str(w)) for w in wanted) if pm]


def _legacy_spec(payload, now: float) -> _InvoiceSpec:
    """BitpayCreateInvoiceRequest -> what the invoice core needs."""
    if not isinstance(payload, dict):
        raise _BusinessError("Invalid invoice")
    price = _legacy_decimal(payload.get("price"))
    expiration = None
    if payload.get("expirationTime") is not None:
        expiration_ms = _legacy_decimal(payload["expirationTime"])
        if expiration_ms / 1000 < Decimal(now + 30):
            raise _BusinessError("The expirationTime is set too soon")
        expiration = float(expiration_ms) / 1000 - now
    options = {key: payload.get(key) for key in ("notificationURL", "notificationEmail", "fullNotifications",
                                                 "extendedNotifications") if payload.get(key) is not None}
    return _InvoiceSpec(
        amount=price,
        currency=_legacy_text(payload, "currency"),
        metadata=_legacy_metadata(payload, price),
        payment_methods=_legacy_payment_methods(payload),
        expiration=expiration,
        speed_policy=_LEGACY_SPEEDS.get(_legacy_text(payload, "transactionSpeed") or ""),
        redirect_url=(_legacy_text(payload, "redirectURL") or "").strip() or None,
        redirect_automatically=_legacy_bool(payload, "redirectAutomatically"),
        default_payment_method=_legacy_text(payload, "defaultPaymentMethod"),
        legacy_options=options,
    )


def _parse_payment_method(text: str) -> Optional[str]:
    """PaymentMethodId.TryParse of 2.x: "BTC", "BTC_LightningLike", "btc-ln" ... -> "BTC-LN"."""
    match = re.fullmatch(r"\s*([A-Za-z0-9]+)(?:[-_]([A-Za-z]+))?\s*", text)
    kind = _PM_KINDS.get((match.group(2) or "").lower()) if match else None
    return f"{match.group(1).upper()}-{kind}" if kind else None


# ---------------------------------------------------------------------------
# Greenfield API
# ---------------------------------------------------------------------------

_ANONYMOUS, _ANY_KEY = "anonymous", "any API key"


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: "re.Pattern[str]"
    handler: str
    policy: str                  # _ANONYMOUS, _ANY_KEY or a store policy checked against {store_id}


def _route(method: str, template: str, handler: str, policy: str) -> _Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?"    # ASP.NET ignores a trailing slash
    return _Route(method, re.compile(regex, re.IGNORECASE), handler, policy)


class _GreenfieldApi:
    ROUTES = (
        _route("GET", "/api/v1/health", "_health", _ANONYMOUS),
        _route("GET", "/api/v1/api-keys/current", "_current_key", _ANY_KEY),
        _route("GET", "/api/v1/stores/{store_id}", "_get_store", CAN_VIEW_STORE),
        _route("GET", "/api/v1/stores/{store_id}/invoices", "_list_invoices", CAN_VIEW_INVOICES),
        _route("POST", "/api/v1/stores/{store_id}/invoices", "_create_invoice", CAN_CREATE_INVOICE),
        _route("GET", "/api/v1/stores/{store_id}/invoices/{invoice_id}", "_get_invoice", CAN_VIEW_INVOICES),
        # Since 2.4.0, and the only GET of one invoice in the 2.4.1 OpenAPI document: the
        # permission is checked against the invoice's own store.
        _route("GET", "/api/v1/invoices/{invoice_id}", "_get_invoice_storeless", _ANY_KEY),
        # Mark status, archive, unarchive: 2.4.1 documents the store-less routes (the store
        # is the invoice's); the store-scoped ones are what older servers have.
        _route("POST", "/api/v1/invoices/{invoice_id}/status", "_mark_status_storeless", _ANY_KEY),
        _route("POST", "/api/v1/stores/{store_id}/invoices/{invoice_id}/status", "_mark_status", CAN_MODIFY_INVOICES),
        _route("DELETE", "/api/v1/invoices/{invoice_id}", "_archive_storeless", _ANY_KEY),
        _route("DELETE", "/api/v1/stores/{store_id}/invoices/{invoice_id}", "_archive", CAN_MODIFY_INVOICES),
        _route("POST", "/api/v1/invoices/{invoice_id}/unarchive", "_unarchive_storeless", _ANY_KEY),
        _route("POST", "/api/v1/stores/{store_id}/invoices/{invoice_id}/unarchive", "_unarchive",
               CAN_MODIFY_INVOICES),
    )

    def __init__(self, fake: FakeBTCPay):
        self.fake = fake

    def handle(self, request: _Request) -> _Response:
        """Routing (404/405), then authentication (401), then authorization (403), then the action."""
        matches = [(route, m) for route in self.ROUTES if (m := route.pattern.fullmatch(request.path))]
        if not matches:
            return _Response(404)
        chosen = next(((route, m) for route, m in matches if route.method == request.method), None)
        if chosen is None:
            return _Response(405, headers={"Allow": ", ".join(route.method for route, _ in matches)})
        route, match = chosen
        args = match.groupdict()
        if route.policy == _ANONYMOUS:
            return getattr(self, route.handler)(request, **args)
        key = self._authenticate(request)
        if isinstance(key, _Response):
            return key
        if route.policy != _ANY_KEY and not self.fake._key_grants(key, route.policy, args["store_id"]):
            return _missing_permission(route.policy)
        return getattr(self, route.handler)(request, key=key, **args)

    def _authenticate(self, request: _Request) -> Union[_ApiKey, _Response]:
        """``Authorization: token|bearer <key>`` (APIKeyExtensions.GetAPIKey)."""
        match = re.match(r"^(token|bearer)\s+(\S+)", request.header("Authorization") or "", re.IGNORECASE)
        if not match:
            return _unauthenticated("Authentication is required for accessing this endpoint")
        key = self.fake._api_keys.get(match.group(2))
        if key is None:
            return _unauthenticated("ApiKey authentication failed: Unknown API Key")
        return key

    # -- endpoints ------------------------------------------------------------------

    @staticmethod
    def _health(request: _Request) -> _Response:
        return _json(200, {"synchronized": True})

    @staticmethod
    def _current_key(request: _Request, key: _ApiKey) -> _Response:
        return _json(200, {"apiKey": key.key, "label": key.label, "permissions": list(key.permissions)})

    def _get_store(self, request: _Request, key: _ApiKey, store_id: str) -> _Response:
        store = self.fake._stores[store_id]
        return _json(200, {
            "id": store.id, "name": store.name, "website": None, "defaultCurrency": store.default_currency,
            "invoiceExpiration": store.invoice_expiration, "monitoringExpiration": store.monitoring_expiration,
            "speedPolicy": store.speed_policy, "paymentTolerance": store.payment_tolerance,
            "anyoneCanCreateInvoice": store.anyone_can_invoice, "defaultLang": store.default_lang,
            "archived": False, "lazyPaymentMethods": False, "redirectAutomatically": store.redirect_automatically,
            "receipt": {"enabled": True, "showQR": True, "showPayments": True},
            "defaultPaymentMethod": store.payment_methods[0] if store.payment_methods else None,
        })

    def _create_invoice(self, request: _Request, key: _ApiKey, store_id: str) -> _Response:
        content_type = (request.header("Content-Type") or "").lower()
        if not (content_type.startswith(("application/json", "text/json")) or "+json" in content_type):
            return _json(415, {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
                               "title": "Unsupported Media Type", "status": 415},
                         "application/problem+json; charset=utf-8")
        errors: List[Tuple[str, str]] = []
        bound = _bind_create_request(request.body, errors)      # model binding: JSON paths
        if errors:
            return _validation_error(errors)
        errors = _validate_create_request(bound)                # the action's checks: C# paths
        if errors:
            return _validation_error(errors)
        try:
            invoice = self.fake._create_invoice(self.fake._stores[store_id], _greenfield_spec(bound),
                                                "greenfield", request.base_url)
        except _BusinessError as error:
            return _api_error(400, "generic-error", error.message)
        return _json(200, greenfield_view(invoice, request.base_url))

    def _list_invoices(self, request: _Request, key: _ApiKey, store_id: str) -> _Response:
        errors: List[Tuple[str, str]] = []
        start, end = _query_time(request, "startDate", errors), _query_time(request, "endDate", errors)
        skip, take = _query_int(request, "skip", errors), _query_int(request, "take", errors)
        if start is not None and end is not None and start > end:
            errors += [("startDate", "startDate should not be above endDate"),
                       ("endDate", "endDate should not be below startDate")]
        if errors:
            return _validation_error(errors)
        now = time.time()
        invoices = [inv for inv in self.fake._invoices.values() if inv.store_id == store_id]
        for invoice in invoices:
            invoice.refresh(now)
        invoices = [inv for inv in invoices if _greenfield_filter(request, inv, start, end)]
        invoices.sort(key=lambda inv: inv.seq, reverse=True)                  # newest first
        invoices = invoices[skip or 0:]
        if take is not None:
            invoices = invoices[:take]
        return _json(200, [greenfield_view(inv, request.base_url) for inv in invoices])

    def _get_invoice(self, request: _Request, key: _ApiKey, store_id: str, invoice_id: str) -> _Response:
        invoice = self.fake._invoices.get(invoice_id)
        # An invoice of another store is "not found" here: the route's store is the scope.
        if invoice is None or invoice.store_id != store_id:
            return _api_error(404, "invoice-not-found", "The invoice was not found")
        return _json(200, self.fake._greenfield_snapshot(invoice, request.base_url, time.time()))

    def _get_invoice_storeless(self, request: _Request, key: _ApiKey, invoice_id: str) -> _Response:
        invoice = self.fake._invoices.get(invoice_id)
        # An unknown id leaves no store to check the permission against: 403, like a foreign one.
        if invoice is None or not self.fake._key_grants(key, CAN_VIEW_INVOICES, invoice.store_id):
            return _missing_permission(CAN_VIEW_INVOICES)
        return _json(200, self.fake._greenfield_snapshot(invoice, request.base_url, time.time()))


    # -- mark status, archive, unarchive (GreenfieldInvoiceController) -----------------

    def _own_invoice(self, key: _ApiKey, invoice_id: str, store_id: Optional[str] = None
                     ) -> Union[_Invoice, _Response]:
        """The invoice, else the answer: store-less, an unknown id is 403 (no store to check
        the permission against); store-scoped, 404 invoice-not-found."""
        invoice = self.fake._invoices.get(invoice_id)
        if store_id is None:
            if invoice is None or not self.fake._key_grants(key, CAN_MODIFY_INVOICES, invoice.store_id):
                return _missing_permission(CAN_MODIFY_INVOICES)
        elif invoice is None or invoice.store_id != store_id:
            return _api_error(404, "invoice-not-found", "The invoice was not found")
        return invoice

    def _mark_status(self, request: _Request, key: _ApiKey, invoice_id: str, store_id: Optional[str] = None
                     ) -> _Response:
        invoice = self._own_invoice(key, invoice_id, store_id)
        if isinstance(invoice, _Response):
            return invoice
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return _malformed_body_error()
        wanted = body.get("status") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) - {"status"} or wanted not in ("Invalid", "Settled"):
            return _validation_error([("status", "Status can only be Invalid or Settled")])
        invoice.refresh(time.time())
        if wanted not in _markable_statuses(invoice):
            return _validation_error([("Status", "Status can only be marked to invalid or settled within "
                                                 "certain conditions.")])
        invoice.status, invoice.additional_status = wanted, "Marked"
        return _json(200, greenfield_view(invoice, request.base_url))

    def _mark_status_storeless(self, request: _Request, key: _ApiKey, invoice_id: str) -> _Response:
        return self._mark_status(request, key, invoice_id)

    def _archive(self, request: _Request, key: _ApiKey, invoice_id: str, store_id: Optional[str] = None,
                 archived: bool = True) -> _Response:
        invoice = self._own_invoice(key, invoice_id, store_id)
        if isinstance(invoice, _Response):
            return invoice
        invoice.archived = archived
        if archived:
            return _Response(200)                      # "The invoice has been archived": no body
        return _json(200, greenfield_view(invoice, request.base_url))

    def _archive_storeless(self, request: _Request, key: _ApiKey, invoice_id: str) -> _Response:
        return self._archive(request, key, invoice_id)

    def _unarchive(self, request: _Request, key: _ApiKey, invoice_id: str, store_id: Optional[str] = None
                   ) -> _Response:
        return self._archive(request, key, invoice_id, store_id, archived=False)

    def _unarchive_storeless(self, request: _Request, key: _ApiKey, invoice_id: str) -> _Response:
        return self._archive(request, key, invoice_id, archived=False)


def _malformed_body_error() -> _Response:
    return _validation_error([("", "The request body is not valid JSON")])


def _query_int(request: _Request, name: str, errors: List[Tuple[str, str]]) -> Optional[int]:
    value = request.query_first(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        errors.append((name, f"The value '{value}' is not valid for {name}."))
        return None


def _query_time(request: _Request, name: str, errors: List[Tuple[str, str]]) -> Optional[float]:
    """Unix seconds, or a date the model binder can read."""
    value = request.query_first(name)
    if value is None or value == "":
        return None
    try:
        return float(int(value))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    except ValueError:
        errors.append((name, f"The value '{value}' is not valid for {name}."))
        return None


def _greenfield_filter(request: _Request, invoice: _Invoice, start: Optional[float], end: Optional[float]) -> bool:
    order_ids = request.query_values("orderId")
    if order_ids and invoice.order_id not in order_ids:                   # exact match, repeatable
        return False
    statuses = {s for s in map(_normalise_status, request.query_values("status")) if s}
    if statuses and invoice.status not in statuses:                       # unknown values dropped
        return False
    if invoice.archived and (request.query_first("includeArchived") or "").lower() != "true":
        return False
    if (start is not None and invoice.created < start) or (end is not None and invoice.created > end):
        return False
    text = request.query_first("textSearch")
    return not text or any(term.lower().startswith(text.lower()) for term in _search_terms(invoice))


def _search_terms(invoice: _Invoice) -> List[str]:
    metadata = invoice.metadata
    terms = [invoice.id] + [str(metadata[k]) for k in ("orderId", "itemCode", "itemDesc", "buyerEmail")
                            if metadata.get(k) is not None]
    return terms + list(invoice.spec.search_terms)


# -- Greenfield model binding (Newtonsoft into CreateInvoiceRequest) -------------------


class _BindError(Exception):
    pass


def _bind_optional(kind: type, label: str):
    def bind(value):
        if value is None:
            return None
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
            return value
        raise _BindError(f"Error converting value {json.dumps(value)} to type '{label}'.")
    return bind


def _bind_amount(value) -> Optional[Decimal]:
    """NumericStringJsonConverter: a JSON string, integer or float; "" or null is a top-up.

    A JSON number goes through a double (10.50 -> "10.5"); a string keeps its scale.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise _BindError("The input was not valid.")
    if isinstance(value, float):
        value = str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        raise _BindError("The input was not valid.")
    return Decimal(text)


_TIMESPAN = re.compile(r"\s*(-)?(?:(\d+)|(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?)\s*")


def _bind_minutes(value) -> Optional[float]:
    """TimeSpanJsonConverter.Minutes: an integer of minutes or a TimeSpan string; never a float."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 60.0
    match = _TIMESPAN.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise _BindError("Invalid timespan")
    sign, days_only, days, hours, minutes, seconds, fraction = match.groups()
    if days_only is not None:
        total = int(days_only) * 86400.0
    else:
        if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
            raise _BindError("Invalid timespan")
        total = (int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
                 + float("0." + (fraction or "0")))
    return -total if sign else total


def _bind_speed_policy(value) -> Optional[str]:
    if value is None:
        return None
    for policy in SPEED_POLICIES:       # StringEnumConverter reads case-insensitively
        if isinstance(value, str) and value.lower() == policy.lower():
            return policy
    raise _BindError(f"Error converting value {json.dumps(value)} to type 'SpeedPolicy'.")


def _bind_string_list(value) -> Optional[list]:
    if value is None:
        return None
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return value
    raise _BindError("Cannot deserialize the value into type 'String[]'.")


def _bind_object(fields: Dict[str, Callable]):
    """A nested object: each known member bound with its own binder, unknown ones ignored."""
    def bind(value, path: str = "", errors: Optional[list] = None):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _BindError("Cannot deserialize the value into an object.")
        return _bind_members(value, fields, path, errors)
    bind.members = fields
    return bind


def _bind_members(obj: dict, fields: Dict[str, Callable], prefix: str, errors: list) -> dict:
    bound = {}
    for name, binder in fields.items():
        if name not in obj:
            continue
        path = f"{prefix}.{name}" if prefix else name
        try:
            if hasattr(binder, "members"):
                bound[name] = binder(obj[name], path, errors)
            else:
                bound[name] = binder(obj[name])
        except _BindError as error:
            errors.append((path, str(error)))
    return bound


_CHECKOUT_FIELDS = {
    "speedPolicy": _bind_speed_policy,
    "paymentMethods": _bind_string_list,
    "defaultPaymentMethod": _bind_optional(str, "String"),
    "lazyPaymentMethods": _bind_optional(bool, "Boolean"),
    "expirationMinutes": _bind_minutes,
    "monitoringMinutes": _bind_minutes,
    "paymentTolerance": _bind_optional(float, "Double"),
    "redirectURL": _bind_optional(str, "String"),
    "redirectAutomatically": _bind_optional(bool, "Boolean"),
    "defaultLanguage": _bind_optional(str, "String"),
}
_RECEIPT_FIELDS = {name: _bind_optional(bool, "Boolean") for name in ("enabled", "showQR", "showPayments")}
_CREATE_FIELDS = {
    "amount": _bind_amount,
    "currency": _bind_optional(str, "String"),
    "metadata": _bind_optional(dict, "JObject"),
    "checkout": _bind_object(_CHECKOUT_FIELDS),
    "receipt": _bind_object(_RECEIPT_FIELDS),
    "additionalSearchTerms": _bind_string_list,
}


def _bind_create_request(body: bytes, errors: List[Tuple[str, str]]) -> dict:
    """Newtonsoft binding of CreateInvoiceRequest; errors carry JSON paths."""
    if not body.strip():
        errors.append(("", "A non-empty request body is required."))
        return {}
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        where = f", line {error.lineno}, position {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        errors.append(("", f"Unexpected character encountered while parsing value. Path ''{where}."))
        return {}
    if not isinstance(document, dict):
        errors.append(("", "Cannot deserialize the current JSON value into type 'CreateInvoiceRequest'."))
        return {}
    return _bind_members(document, _CREATE_FIELDS, "", errors)


def _find_language(code: str) -> Optional[str]:
    """LanguageService.FindLanguage: exact code, else the same two-letter language."""
    wanted = code.strip().lower()
    for language in LANGUAGES:
        if language.lower() == wanted:
            return language
    prefix = wanted.split("-")[0]
    return next((language for language in LANGUAGES if language.lower().split("-")[0] == prefix), None)


def _validate_create_request(bound: dict) -> List[Tuple[str, str]]:
    """GreenfieldInvoiceController.CreateInvoice's own checks; paths are C# expressions."""
    errors = []
    amount = bound.get("amount")
    if amount is not None and amount < 0:
        errors.append(("Amount", "The amount should be 0 or more."))
    if amount is not None and amount > MAX_AMOUNT:
        errors.append(("Amount", f"The amount should less than {MAX_AMOUNT}."))
    checkout = bound.get("checkout") or {}
    for i, pm in enumerate(checkout.get("paymentMethods") or []):
        if pm is None or _parse_payment_method(pm) not in PAYMENT_METHOD_HANDLERS:
            errors.append((f"Checkout.PaymentMethods[{i}]", "Invalid PaymentMethodId"))
    expiration = checkout.get("expirationMinutes")
    if expiration is not None and expiration < 30:
        errors.append(("Checkout.Expiration", "Expiration time must be at least 30 seconds"))
    tolerance = checkout.get("paymentTolerance")
    if tolerance is not None and not 0 <= tolerance <= 100:
        errors.append(("Checkout.PaymentTolerance", "PaymentTolerance can only be between 0 and 100 percent"))
    language = checkout.get("defaultLanguage")
    if language is not None and _find_language(language) is None:
        errors.append(("Checkout.DefaultLanguage",
                       "The requested defaultLang does not exists, Browse the ~/misc/lang page of your "
                       "BTCPay Server instance to see the list of supported languages."))
    return errors


def _greenfield_spec(bound: dict) -> _InvoiceSpec:
    checkout = bound.get("checkout") or {}
    methods = checkout.get("paymentMethods")
    language = checkout.get("defaultLanguage")
    return _InvoiceSpec(
        amount=bound.get("amount"),
        currency=bound.get("currency"),
        metadata=copy.deepcopy(bound.get("metadata") or {}),
        # [] is not "all": it excludes every method, which ends in a 400.
        payment_methods=None if methods is None else [_parse_payment_method(pm) for pm in methods],
        expiration=checkout.get("expirationMinutes"),
        monitoring=checkout.get("monitoringMinutes"),
        speed_policy=checkout.get("speedPolicy"),
        payment_tolerance=checkout.get("paymentTolerance"),
        redirect_url=(checkout.get("redirectURL") or "").strip() or None,
        redirect_automatically=checkout.get("redirectAutomatically"),
        default_language=_find_language(language) if language else None,
        default_payment_method=checkout.get("defaultPaymentMethod"),
        receipt={k: v for k, v in (bound.get("receipt") or {}).items() if v is not None},
        search_terms=[t for t in bound.get("additionalSearchTerms") or [] if t],
    )


# ---------------------------------------------------------------------------
# The HTTP server
# ---------------------------------------------------------------------------

class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True          # a handler sleeping in a "delay" fault must not block stop()
    fake: FakeBTCPay

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout) before a delayed answer is expected, not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests.Session expects from a real server
    server: _HTTPServer

    def version_string(self) -> str:
        return "Kestrel"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host, port = self.server.server_address[:2]
        # self.path has a leading "//" collapsed to "/" (CPython's open-redirect hardening);
        # the raw request line keeps what the client sent, which routing and BitId need.
        words = self.requestline.split()
        target = words[1] if len(words) >= 2 else self.path
        request = _Request(self.command, target, self.headers, body, f"{host}:{port}")
        response = self.server.fake._handle(request)
        if response is _DROP:
            self.close_connection = True   # nothing written: the client sees the connection close
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args) -> None:   # keep test output clean
        pass


@contextlib.contextmanager
def btcpay_server() -> Iterator[FakeBTCPay]:
    """``with btcpay_server() as fake:`` -- a started fake, stopped on exit."""
    fake = FakeBTCPay().start()
    try:
        yield fake
    finally:
        fake.stop()
