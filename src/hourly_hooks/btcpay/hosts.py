"""The BTCPay host URL: its one normal form, which hosts may be spoken to over plain http,
and the bare form an error may show (no userinfo, query or fragment).

Kept apart from transport.py, which imports requests: the configuration checks a
host with these on every command (`hourly report` too), and must not pay for
requests to do it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from hourly_hooks.errors import ConfigError


def is_loopback(hostname: str) -> bool:
    if hostname.lower() in ("localhost", "localhost.localdomain") or hostname.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def is_onion(hostname: str) -> bool:
    return hostname.lower().rstrip(".").endswith(".onion")


def normalize_host(url: str) -> str:
    """The server's base URL exactly as BTCPay reconstructs it.

    The legacy API signs `host + path`, and the server verifies against the URL
    it rebuilds (scheme, host, non-default port, path base, no trailing slash):
    any difference breaks the signature, so both backends use this form.
    """
    raw = (url or "").strip()
    if not raw:
        raise ConfigError("No BTCPay Server host: set BTCPAYSERVER_HOST or `host` in the [btcpay] config table.")
    if "://" not in raw:
        raise ConfigError(f"BTCPay host {raw!r} needs a scheme, e.g. https://{raw}")
    try:
        parts = urlsplit(raw)
        port = parts.port  # urllib checks the brackets and the port's range only when asked
    except ValueError as error:
        raise ConfigError(f"BTCPay host {raw!r} is not a valid URL ({error}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"BTCPay host {raw!r} is not an http(s) URL.")
    if parts.username or parts.password:
        raise ConfigError("Put credentials in BTCPAYSERVER_API_KEY / BTCPAYSERVER_MERCHANT, not in the host URL.")
    if parts.query or parts.fragment:
        raise ConfigError(f"BTCPay host {raw!r} must not have a query or fragment.")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))


def require_safe_scheme(base_url: str) -> None:
    """HTTPS everywhere except where plain HTTP cannot be sniffed."""
    parts = urlsplit(base_url)
    hostname = parts.hostname or ""
    if parts.scheme == "https" or is_loopback(hostname) or is_onion(hostname):
        return  # loopback never leaves the machine; Tor encrypts end to end
    raise ConfigError(f"Refusing plain http:// to {hostname}: use https:// (http is allowed only for "
                      "loopback and .onion hosts).")


def bare_url(url: str) -> str:
    """scheme://host[:port]/path of `url`: never its userinfo, query or fragment (a key may hide there)."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return "(an address that is not a valid URL)"
    if not parts.scheme or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit((parts.scheme, host if port is None else f"{host}:{port}", parts.path, "", ""))
