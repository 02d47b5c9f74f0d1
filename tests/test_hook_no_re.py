"""The commit-msg hook reads a marker commit without importing `re` (and the enum module its flags need).

`re` was most of what a marker commit added to the hook's start-up: the marker
heads and offsets are now read by hand, near misses alone use patterns.
"""

from __future__ import annotations

import subprocess

import pytest

from hook_helpers import ALICE, PYTHON, at, hooked  # noqa: F401 (a fixture)


def _modules_after_hook(hooked, tmp_path, text: str, date: str) -> tuple:
    message = tmp_path / "m"
    message.write_text(text)
    code = ("import sys\nfrom hourly_hooks.hooks.entry import clock_main\n"
            f"code = clock_main([{str(message)!r}])\n"
            "print(code, 're' in sys.modules, 'enum' in sys.modules)")
    done = subprocess.run([PYTHON, "-c", code], cwd=hooked.path, capture_output=True, text=True,
                          env={**hooked.env, "GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1],
                               "GIT_AUTHOR_DATE": date})
    return tuple(done.stdout.split()), message.read_text()


@pytest.mark.parametrize("text, canonical", [
    ("clock-out\n", "clock-out\n"),
    ("Clock Out: T-0h 30m tidy\n", "clock-out: T-30m tidy\n"),
    ("work\n\nbody\n\nclock : OUT t-10m\n", "work\n\nbody\n\nClock: out T-10m\n"),
])
def test_a_marker_commit_imports_no_re(hooked, tmp_path, text, canonical):
    # Once the marker store knows HEAD the hook starts no git (no subprocess,
    # whose locale module would import re): the hook's usual case.
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("clock-out", when=at("09:30"))
    hooked.accept("clock-in", when=at("10:00"))
    assert _modules_after_hook(hooked, tmp_path, text, "@1741017600 -0500") == (("0", "False", "False"), canonical)


def test_a_near_miss_still_gets_its_patterns(hooked, tmp_path):
    """The refusal of `clock_out` names the marker meant (the near-miss patterns ran)."""
    hooked.accept("clock-in", when=at("09:00"))
    modules, _ = _modules_after_hook(hooked, tmp_path, "clock_out\n", "@1741017600 -0500")
    assert modules == ("1", "True", "True")
