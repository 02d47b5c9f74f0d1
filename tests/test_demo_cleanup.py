"""`hourly demo` says that the repository it printed is gone, and how to keep it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from hourly_hooks.cli import main


def test_demo_says_its_repository_was_removed_and_how_to_keep_it():
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    folder = Path(re.search(r"Demo repository: (\S+)", result.output)[1])
    assert not folder.exists()
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Removed the demo repository {folder}") and "hourly demo --keep" in last


def test_demo_keep_does_not_claim_removal():
    result = CliRunner().invoke(main, ["demo", "--keep"])
    folder = Path(re.search(r"Demo repository: (\S+)", result.output)[1])
    try:
        assert folder.is_dir() and "Removed" not in result.output
        assert f"Kept {folder}" in result.output
    finally:
        shutil.rmtree(folder, ignore_errors=True)
