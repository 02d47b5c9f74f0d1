"""The source is type-checked: mypy over src/ (its settings are in pyproject.toml) reports nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_error_in_src():
    pytest.importorskip("mypy", reason="mypy is a test dependency: pip install -e '.[test]'")
    if not (ROOT / "src" / "hourly_hooks").is_dir() or not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not run from a source tree")
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir",
                           str(ROOT / ".mypy_cache")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
