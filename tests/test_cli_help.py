"""`hourly --help` ends with what a script author needs: exit codes, environment, config files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from click.testing import CliRunner

from hourly_hooks import errors
from hourly_hooks.cli import main

SRC = Path(__file__).resolve().parent.parent / "src" / "hourly_hooks"


def help_text() -> str:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_every_exit_code():
    text = help_text()
    section = text[text.index("Exit codes:"):text.index("Environment:")]
    codes = {int(line.split()[0]) for line in section.splitlines()[1:] if line.strip()}
    defined = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    defined |= {cls.exit_code for cls in vars(errors).values()
                if isinstance(cls, type) and issubclass(cls, errors.HourlyError)}
    assert len(defined) > 5 and not (defined | {0}) - codes, sorted((defined | {0}) - codes)


def test_help_names_every_environment_variable_the_code_reads():
    text = help_text()
    section = text[text.index("Environment:"):text.index("Configuration files")]
    read = set()
    for path in SRC.rglob("*.py"):
        read |= set(re.findall(r"\b((?:HOURLY|BTCPAYSERVER)_[A-Z_]+)\b", path.read_text()))
    read.discard("HOURLY_PATH")  # a variable of the hook script, filled in at install
    assert read and not {name for name in read if name not in section}


def test_help_names_both_configuration_files():
    text = help_text()
    section = text[text.index("Configuration files"):]
    assert ".hourly.toml" in section and "[tool.hourly]" in section
    assert "~/.config/hourly/config.toml" in section and "XDG_CONFIG_HOME" in section


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["report", "--help"]])
def test_output_click_writes_itself_to_a_full_disk_is_one_line(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "hourly_hooks", *args], stdout=full,
                              stderr=subprocess.PIPE, text=True)
    assert done.returncode == 74, done.stderr
    assert done.stderr == "Error: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_stderr_keeps_the_exit_code_of_the_error(tmp_path):
    command = [sys.executable, "-m", "hourly_hooks", "report", "--rate", "bad"]
    said = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert said.returncode in (2, 3) and said.stderr.startswith("Error: "), said.stderr
    with open("/dev/full", "w") as full:
        silent = subprocess.run(command, stdout=subprocess.PIPE, stderr=full, cwd=tmp_path)
    assert silent.returncode == said.returncode  # not a crash (70), not a traceback's 1
