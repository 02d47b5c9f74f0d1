"""The manifest inside an HTML timesheet: a data block, and reading it back.

A ``<script type="application/json">`` element is data the browser never
runs. Its JSON is written with ``<``, ``>`` and ``&`` as ``\\u`` escapes, so
``</script>`` (or ``<!--``) cannot occur in it whatever a commit message or
name holds, and json.loads reads the same values back.
"""

from __future__ import annotations

import json
import re
from typing import Mapping, Optional

ELEMENT_ID = "hourly-manifest"
_OPEN = f'<script type="application/json" id="{ELEMENT_ID}">'
_BLOCK = re.compile(r'<script type="application/json" id="' + ELEMENT_ID + r'">(.*?)</script>', re.S)


def html_block(manifest: Optional[Mapping]) -> str:
    """The element that carries the manifest ("" without one)."""
    if manifest is None:
        return ""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"{_OPEN}{text}</script>"


def manifest_in_html(page: str) -> Optional[dict]:
    """The manifest an HTML timesheet carries, None when it has none; ValueError when the
    block is there but is not a JSON object, or when there are two (which one was billed?)."""
    found = _BLOCK.findall(page)
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f"{len(found)} manifest blocks (id=\"{ELEMENT_ID}\"): a timesheet carries one")
    try:
        value = json.loads(found[0])
    except ValueError as error:
        raise ValueError(f"the manifest block is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError("the manifest block is not a JSON object")
    return value
