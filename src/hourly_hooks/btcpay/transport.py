"""HTTP discipline shared by both backends.

Everything that touches the network goes through a `Session` built here, so
every request has a timeout, TLS is verified unless the user said otherwise,
proxies are chosen on purpose (Tor for `.onion`), and every failure becomes
one clear `BTCPayError` line that never contains a secret (no URL with its
query string, no header, no raw exception text from requests).
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Callable, Mapping, Optional, Sequence
from urllib.parse import urljoin, urlsplit

import click
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from hourly_hooks.btcpay.hosts import bare_url, is_loopback, is_onion, normalize_host, require_safe_scheme  # noqa: F401 (the backends' names)
from hourly_hooks.errors import BTCPayError, ConfigError

# (connect, read) seconds. Connect is short: an unreachable server should fail
# fast. Read is longer: invoice creation asks the rate provider and derives an
# address, which takes a few seconds on a small server.
DEFAULT_TIMEOUT = (10.0, 30.0)

# Reads (GET) that fail for a passing reason are tried again; nothing else is.
# A connection that could not be made or was dropped, or a 429/502/503/504
# answer (a proxy in front of a restarting server, a rate limit), is retried up
# to RETRIES times, waiting 0, 1 and 2 s (urllib3's backoff for RETRY_BACKOFF),
# or what Retry-After asks; no retry starts, or waits, past RETRY_BUDGET
# seconds after the first failure. A read timeout is not retried (it has
# already cost the whole read timeout), a 500 is a bug on the server (asking
# again gives the same answer), and a POST (an invoice's create) is never sent
# twice by this layer: the billing protocol asks the server by order id instead.
RETRIES = 3
RETRY_BACKOFF = 0.5
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_BUDGET = 15.0

NOTHING_CREATED = "nothing was created"
MAY_EXIST = "the invoice may exist: run `hourly invoices`"


def require_private_route(base_url: str, proxies: Mapping[str, str]) -> None:
    """Plain http:// is accepted for loopback because it never leaves the machine;
    through a proxy it does (the credentials would reach the proxy, and whatever
    "127.0.0.1" means where the proxy runs, in clear). Only Tor (.onion), which
    encrypts end to end, may carry plain http:// through a proxy."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not any(proxies.values()) or is_onion(parts.hostname or ""):
        return
    raise ConfigError(f"Refusing to send credentials over plain http:// to {parts.hostname} through a proxy: "
                      "use https://, or unset BTCPAYSERVER_PROXY for a server on this machine.")


def choose_proxies(base_url: str, env: Mapping[str, str]) -> dict:
    """BTCPAYSERVER_PROXY wins; else the usual *_PROXY / NO_PROXY; never for loopback."""
    hostname = urlsplit(base_url).hostname or ""
    explicit = env.get("BTCPAYSERVER_PROXY", "").strip()
    if explicit:
        proxy = explicit
        if is_onion(hostname) and proxy.startswith("socks5://"):
            # A .onion name only resolves inside Tor: let the proxy do the DNS.
            proxy = "socks5h://" + proxy[len("socks5://"):]
        return {"http": proxy, "https": proxy}
    if is_loopback(hostname):
        return {}
    proxies = {k: v for k, v in requests.utils.get_environ_proxies(base_url).items()
               if k in ("http", "https", "all")}
    if is_onion(hostname) and not proxies:
        raise ConfigError(f"{hostname} is a Tor address: set BTCPAYSERVER_PROXY=socks5h://127.0.0.1:9050 "
                          "(or ALL_PROXY) to reach it through Tor.")
    return proxies


def warn_insecure() -> None:
    click.echo("Warning: TLS certificate verification is off (--insecure): use it only for your own "
               "server's self-signed certificate.", err=True)


def parse_timeout(value) -> tuple:
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"BTCPay timeout {value!r} is not a number of seconds.") from None
    if seconds <= 0:
        raise ConfigError("BTCPay timeout must be a positive number of seconds.")
    return (min(seconds, DEFAULT_TIMEOUT[0]), seconds)


class GetRetry(Retry):
    """urllib3's Retry, for GET only, never after a read timeout, within RETRY_BUDGET."""

    deadline: Optional[float] = None   # monotonic time, set at the first failure

    def new(self, **kw):
        retry = super().new(**kw)
        retry.deadline = self.deadline
        return retry

    def get_retry_after(self, response):
        try:
            return super().get_retry_after(response)
        except InvalidHeader:   # a Retry-After that is neither seconds nor a date: the backoff
            return None

    def is_retry(self, method, status_code, has_retry_after=False):
        # By hand rather than allowed_methods, which urllib3 before 1.26 names otherwise.
        return method.upper() == "GET" and super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if (method or "").upper() != "GET" or isinstance(error, ReadTimeoutError):
            # What requests does without retries (Retry(0, read=False)): the same errors, raised the same way.
            return Retry(0, read=False).increment(method, url, response, error, _pool, _stacktrace)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        now = time.monotonic()
        if retry.deadline is None:
            retry.deadline = now + RETRY_BUDGET
        wait = self.get_retry_after(response) if response is not None else None
        if now + (retry.get_backoff_time() if wait is None else wait) > retry.deadline:
            raise MaxRetryError(_pool, url, error or ResponseError(f"retry budget spent ({RETRY_BUDGET:g} s)"))
        return retry


def retry_policy() -> GetRetry:
    # raise_on_status=False: the last 5xx/429 answer comes back, and becomes one line (http_error).
    # A refused or failed connect is asked again once, at once: a server that is not there
    # answers no better a few seconds later, and the user waits for nothing (a dropped
    # connection, a 5xx or a 429 are asked again RETRIES times, with backoff).
    return GetRetry(total=RETRIES, connect=1, read=RETRIES, status=RETRIES,
                    backoff_factor=RETRY_BACKOFF, status_forcelist=RETRY_STATUSES,
                    raise_on_status=False, respect_retry_after_header=True)


class Session(requests.Session):
    """A requests session with a default timeout and Decimal-parsed JSON.

    btcpay-python calls `self.s.get/post` without a timeout and `r.json()`
    without arguments; installing this session on its client fixes both
    without forking it.
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT, base_url: str = ""):
        super().__init__()
        self.timeout = timeout
        self.base_url = base_url
        adapter = HTTPAdapter(max_retries=retry_policy())
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        # The environment is consulted once, on purpose, in build_session():
        # with trust_env, requests lets *_PROXY override explicit proxies and
        # a ~/.netrc entry replace our Authorization header.
        self.trust_env = False

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        # Every request carries credentials (the API key, or the legacy token and
        # signature): following a redirect would hand them, and the invoice body,
        # to whatever host the Location names. btcpay-python does not ask.
        kwargs["allow_redirects"] = False
        response = super().request(method, url, **kwargs)
        if 300 <= response.status_code < 400:
            raise redirect_error(response, self.base_url)
        # Money arrives as JSON numbers in the legacy API: never go via float.
        response.json = partial(response.json, parse_float=Decimal)
        return response


def build_session(base_url: str, *, insecure: bool = False, timeout=DEFAULT_TIMEOUT) -> Session:
    env = os.environ
    require_safe_scheme(base_url)
    session = Session(timeout=timeout, base_url=base_url)
    session.proxies = choose_proxies(base_url, env)
    require_private_route(base_url, session.proxies)
    if insecure:
        session.verify = False
        warn_insecure()
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    else:
        session.verify = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True
    session.headers.update({"Accept": "application/json", "User-Agent": "hourly-hooks"})
    return session


# ---------------------------------------------------------------- errors
#
# `stage` says where the request sits in the invoice flow, so a failure can
# tell the user what state the server is in: "create" (the POST that makes an
# invoice: a lost answer means it may exist), "prepare" (a lookup before
# creating: nothing was created), or None (anything else).

def _tail(stage: Optional[str], sent: bool = True) -> str:
    if stage == "create":
        return f"; {MAY_EXIST}." if sent else f"; {NOTHING_CREATED}."
    if stage == "prepare":
        return f"; {NOTHING_CREATED}."
    return "."


def network_error(exc: Exception, *, stage: Optional[str] = None, host: str = "") -> BTCPayError:
    """One line for a request that got no usable HTTP answer.

    str(exc) is never shown: requests puts the full URL (with the legacy
    `token=` query) in its messages.
    """
    if isinstance(exc, requests.exceptions.InvalidSchema) and "SOCKS" in str(exc):
        return BTCPayError("SOCKS proxy support is missing: pip install 'requests[socks]' (PySocks)"
                           + _tail(stage, sent=False))
    never_sent = _never_sent(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        what = "the TLS certificate was not accepted (--insecure accepts your own self-signed one)"
    elif isinstance(exc, requests.exceptions.ProxyError) or (never_sent and "SOCKS" in repr(exc.args)):
        what = "the proxy could not be reached or could not connect (is it, or Tor, running?)"
    elif isinstance(exc, requests.exceptions.Timeout):
        what = "the request timed out"
    elif never_sent:
        what = "the server could not be reached"
    else:
        what = "the connection broke before an answer arrived"
    where = f" at {host}" if host else ""
    return BTCPayError(f"BTCPay Server{where}: {what}" + _tail(stage, sent=not never_sent),
                       maybe_created=stage == "create" and not never_sent)


def _never_sent(exc: Exception) -> bool:
    """True when the request provably never reached the server."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError,
                        requests.exceptions.ProxyError, requests.exceptions.InvalidSchema)):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    text = repr(exc.args)
    return any(mark in text for mark in ("NewConnectionError", "NameResolutionError",
                                         "Connection refused", "Failed to resolve"))


def http_error(response: requests.Response, *, api: str, stage: Optional[str] = None,
               what: str = "request", secrets: Sequence[Optional[str]] = ()) -> BTCPayError:
    """Map an HTTP error answer to one clear line (BTCPay's legacy and Greenfield error bodies).

    The line quotes the server's answer, which could echo what was sent (the
    legacy API sends its token in the URL): `secrets` are masked in it.
    """
    status = response.status_code
    body = _json_or_none(response)

    def fail(message: str, maybe_created: bool = False) -> BTCPayError:
        return BTCPayError(redact(message, secrets), maybe_created=maybe_created, answered=True, status=status,
                           has_body=bool(response.content))

    detail = _message(body) or _short_text(response)
    if status == 401:
        fix = ("check BTCPAYSERVER_API_KEY" if api == "greenfield"
               else "check the key and BTCPAYSERVER_MERCHANT, or pair again with `hourly btcpay pair CODE`")
        return fail(f"BTCPay Server refused the credentials (401): {detail or 'unauthenticated'}; {fix}.")
    if status == 403:
        missing = body.get("missingPermission") if isinstance(body, dict) else None
        if missing:
            # The real server also answers this for an unknown store id.
            return fail(f"The API key lacks the permission {missing} (403), or the store id is wrong.")
        if api == "greenfield":
            return fail(f"BTCPay Server forbids this {what} (403): {detail or 'unknown store, or no access to it'}.")
        return fail("BTCPay Server does not know this key (403): pair it with `hourly btcpay pair CODE`.")
    if status == 404:
        # BTCPay's 404 messages name the missing thing ("Store not found", "The
        # invoice was not found", "The specified pairingCode is not found").
        return fail(f"BTCPay Server (404): {detail}." if detail else f"BTCPay Server: unknown {what} (404).")
    if status == 422:
        return fail(f"BTCPay Server rejected the {what} (422): {_fields(body) or detail}.")
    if status == 429:
        after = response.headers.get("Retry-After", "").strip()
        wait = f", and asks to wait {after} s" if after.isdigit() else ""
        return fail(f"BTCPay Server is limiting requests (429){wait}: {detail or 'too many requests'}; "
                    "try again later" + _tail(stage, sent=False))
    if 400 <= status < 500:
        return fail(f"BTCPay Server refused the {what} ({status}): {detail or response.reason}.")
    return fail(f"BTCPay Server failed ({status} {response.reason})" + _tail(stage),
                maybe_created=stage == "create")


def redirect_error(response: requests.Response, base_url: str = "") -> BTCPayError:
    """A 3xx answer, not followed: one line naming where it pointed (no userinfo, no query)."""
    location = response.headers.get("Location", "")
    target = bare_url(urljoin(response.url, location)) if location else ""
    asked = bare_url(response.url)
    fix = "set the BTCPay host (--host, BTCPAYSERVER_HOST or [btcpay] host) to the server's own address"
    suggested = _redirected_base(asked, target, base_url)
    if suggested:
        fix += f", e.g. {suggested}"
    where = f" to {target}" if target else " without a Location"
    return BTCPayError(f"BTCPay Server at {bare_url(base_url) or asked} answered {response.status_code} "
                       f"(a redirect){where}; not followed, so your credentials were not sent there: {fix}.",
                       answered=True, status=response.status_code)


def _redirected_base(asked: str, target: str, base_url: str) -> str:
    """The host setting that would have reached `target` directly, when the redirect only
    upgraded http to https on the same name and kept the request's path: "" otherwise.
    Another server is never suggested: it may be anyone's, and trusting it is the user's call."""
    base = bare_url(base_url)
    if not (base and target and asked.startswith(base)):
        return ""
    was, now = urlsplit(base), urlsplit(target)
    if (was.scheme, now.scheme) != ("http", "https") or was.hostname != now.hostname:
        return ""
    path = asked[len(base):]
    if not path or not target.endswith(path):
        return ""
    return target[:len(target) - len(path)]


def malformed(*, stage: Optional[str] = None) -> BTCPayError:
    return BTCPayError("BTCPay Server sent an answer this tool does not understand" + _tail(stage),
                       maybe_created=stage == "create", answered=True)


def parse_answer(parse: Callable, data, *, stage: Optional[str] = None):
    """parse(data), or `malformed` when the answer lacks what parse needs (or holds a bad value)."""
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation, OverflowError):
        raise malformed(stage=stage) from None


def _json_or_none(response):
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


def _message(body) -> str:
    if isinstance(body, dict):
        for key in ("message", "error"):
            if isinstance(body.get(key), str):
                return _one_line(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return _one_line(str(errors[0].get("error", "")))
    return ""


def _fields(body) -> str:
    if not isinstance(body, list):
        return ""
    parts = [f"{item.get('path', '?')}: {item.get('message', '')}".strip()
             for item in body if isinstance(item, dict)]
    return "; ".join(_one_line(p) for p in parts)


def _short_text(response) -> str:
    # An HTML error page (proxy, web server) says nothing useful on one line.
    return "" if "html" in response.headers.get("Content-Type", "") else _one_line(response.text)[:200]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().rstrip(".")


def every_page(fetch: Callable[[int], object], parse: Callable, size: int, stage: str) -> list:
    """Every item of a paged list endpoint, parsed: fetch(offset) returns one page
    (a list); a page shorter than size is the last."""
    found: list = []
    offset = 0
    while True:
        data = fetch(offset)
        if not isinstance(data, list):
            raise malformed(stage=stage)
        found += [parse_answer(parse, item, stage=stage) for item in data]
        if len(data) < size:
            return found
        offset += size


def mask(secret: Optional[str]) -> str:
    return "********" if secret else "(not set)"


def redact(text: str, secrets: Sequence[Optional[str]]) -> str:
    """Last line of defence for anything echoed that might embed a secret."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "********")
    return text
