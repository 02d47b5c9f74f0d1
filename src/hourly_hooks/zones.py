"""Time zones by name, and the machine's own zone (read from TZ and /etc/localtime, so not in core/)."""

from __future__ import annotations

import os
from datetime import datetime, timezone, tzinfo
from typing import Optional

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hourly_hooks.errors import quoted


def zone(name: Optional[str]) -> tzinfo:
    """A time zone by IANA name ("America/New_York", "UTC"); the local zone for None."""
    if not name or name == "local":
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {quoted(name)} (expected an IANA name like Europe/Paris or UTC)") from None


def local_zone() -> tzinfo:
    """The machine's zone with its DST rules when it can be named, else its current offset."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _localtime_link()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return datetime.now().astimezone().tzinfo or timezone.utc


def _localtime_link() -> str:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:  # pragma: no cover
        return ""
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else ""
