"""The line of a TOML file that sets a key: for error messages and ``hourly config``'s origins.

A cheap reading of the usual forms, never the parser (tomllib is).
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

_KEY_PART = re.compile(r"\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*")
_TABLE = re.compile(r"\[\[?\s*([^\]]+?)\s*\]\]?")


def _dotted(text: str) -> Tuple[List[str], Optional[int]]:
    """The parts of the TOML dotted key text starts with (quotes honoured), and where the key
    ends; None where a part was wanted and none stands (text ends, or a dot leads nowhere)."""
    parts: List[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(text, position)
        if not match:
            return parts, None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if text[position:position + 1] != ".":
            return parts, position
        position += 1


def _split_key(text: str) -> List[str]:
    """``a."b.c".d`` -> ["a", "b.c", "d"] (TOML dotted keys, quotes honoured)."""
    return _dotted(text)[0]


def _key_of_line(line: str) -> Optional[List[str]]:
    """The dotted key a ``key = value`` line assigns, or None."""
    parts, end = _dotted(line)
    return parts if end is not None and line[end:end + 1] == "=" else None


def find_line(text: str, path: Sequence[str]) -> Optional[int]:
    """The line that sets the TOML key ``path`` (a tuple of parts), or None.

    A cheap reading of the usual forms (``[table]`` headers, dotted keys,
    inline tables): it only points at the line, it is never the parser.
    """
    wanted = tuple(path)
    table: Tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            header = _TABLE.match(line)
            if header:
                table = tuple(_split_key(header.group(1)))
                if table == wanted:
                    return number
            continue
        key = _key_of_line(line)
        if key is None:
            continue
        full = table + tuple(key)
        if full == wanted or (len(full) < len(wanted) and wanted[:len(full)] == full):
            return number  # the key itself, or an inline table holding it
    return None
