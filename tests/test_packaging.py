"""The distributions: metadata, and an sdist that carries its own tests.

Builds with `python -m build` (isolated: the build backend comes from the
package index, as for any user), so it takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("src") / "hourly-hooks"
    source.mkdir()
    # Build from a copy of the tracked files (not the work tree's caches and venvs);
    # inside an unpacked sdist, which is no git repository, from all its files.
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True)
    if listed.returncode == 0 and (ROOT / ".git").exists():
        for name in filter(None, listed.stdout.decode().split("\0")):
            if (ROOT / name).is_file():
                (source / name).parent.mkdir(parents=True, exist_ok=True)
                (source / name).write_bytes((ROOT / name).read_bytes())
    else:
        shutil.copytree(ROOT, source, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".venv", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".pytest_cache"))
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "-o", str(out), str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_metadata_has_the_spdx_license_urls_and_keywords(dist):
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
        names = archive.namelist()
    assert "License-Expression: MIT" in metadata
    assert "Project-URL: " in metadata and "Keywords: git," in metadata
    assert not any(line.startswith("Classifier: License ::") for line in metadata.splitlines())
    assert "hourly_hooks/hooks/hook.sh" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_sdist_collects_its_own_test_suite(dist, tmp_path):
    sdist = next(dist.glob("*.tar.gz"))
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path)
    unpacked = next(tmp_path.glob("hourly_hooks-*"))
    for needed in ("tests/conftest.py", "tests/gitrepo.py", "tests/hook_helpers.py", "bench/synth.py",
                   ".pre-commit-hooks.yaml", "LICENSE", "src/hourly_hooks/hooks/hook.sh"):
        assert (unpacked / needed).is_file(), needed
    assert not list(unpacked.rglob("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(unpacked / "src"))
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=unpacked, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error" not in done.stdout.splitlines()[-1].lower()
    assert int(done.stdout.splitlines()[-1].split()[0]) > 300  # "N tests collected"
