"""`--json` and `--format json`, alike on every command that prints JSON.

`--json` is short for `--format json`, so that scripts written for either
spelling work on `hourly report`, `hourly status` and `hourly invoices`.
"""

from __future__ import annotations

from typing import Optional

from hourly_hooks.errors import UsageError


def output_format(fmt: Optional[str], as_json: bool, default: str) -> str:
    """The format asked for; UsageError (exit 2) when --json contradicts --format."""
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json means --format json; it cannot be combined with --format {fmt}")
    return "json" if as_json else fmt or default
