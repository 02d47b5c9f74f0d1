"""The manifest inside an HTML timesheet: a data block sealed to the page, and reading it back.

A ``<script type="application/json">`` element is data the browser never
runs. Its JSON is written with ``<``, ``>`` and ``&`` as ``\\u`` escapes, so
``</script>`` (or ``<!--``) cannot occur in it whatever a commit message or
name holds, and json.loads reads the same values back.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Mapping, Optional, Tuple, Union

from hourly_hooks.core.manifest import text_of

ELEMENT_ID = "hourly-manifest"
SEAL = "data-page-sha256"
_BLOCK = re.compile(r'<script type="application/json" id="' + ELEMENT_ID + r'"(?: ' + SEAL
                    + r'="([0-9a-f]*)")?>(.*?)</script>\n?', re.S)


def html_block(manifest: Union[Mapping, str, None], seal: Optional[str] = None) -> str:
    """The element that carries the manifest ("" without one); seal: the page's digest."""
    if manifest is None:
        return ""
    text = text_of(manifest)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    sealed = f' {SEAL}="{seal}"' if seal else ""
    return f'<script type="application/json" id="{ELEMENT_ID}"{sealed}>{text}</script>'


def sealed(page: str, manifest: Union[Mapping, str, None]) -> str:
    """page with the manifest block before its last </body>, sealed with the sha256 of the page
    as it was without the block: an edit anywhere in the page (a session's time in the table)
    is then seen, though the manifest is untouched."""
    if manifest is None:
        return page
    seal = hashlib.sha256(page.encode("utf-8")).hexdigest()
    cut = page.rindex("</body>")
    return page[:cut] + html_block(manifest, seal) + "\n" + page[cut:]


def manifest_in_html(page: str) -> Optional[dict]:
    """The manifest an HTML timesheet carries, None when it has none; ValueError when the
    block is there but is not a JSON object, or when there are two (which one was billed?)."""
    return _read(page)[0]


def page_intact(page: str) -> Optional[bool]:
    """Whether the page is as it was made around its manifest (None: no seal to tell)."""
    return _read(page)[1]


def _read(page: str) -> Tuple[Optional[dict], Optional[bool]]:
    found = list(_BLOCK.finditer(page))
    if not found:
        return None, None
    if len(found) > 1:
        raise ValueError(f"{len(found)} manifest blocks (id=\"{ELEMENT_ID}\"): a timesheet carries one")
    block = found[0]
    try:
        value = json.loads(block.group(2))
    except ValueError as error:
        raise ValueError(f"the manifest block is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError("the manifest block is not a JSON object")
    if not block.group(1):
        return value, None
    rest = page[:block.start()] + page[block.end():]
    return value, hashlib.sha256(rest.encode("utf-8")).hexdigest() == block.group(1)
