"""docs/migrating.md ("Coming from asherp/hourly") names only commands, flags and keys that exist."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from hourly_hooks.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"
REFERENCE = (DOCS / "reference.md").read_text()


def section() -> str:
    return (DOCS / "migrating.md").read_text()


def help_of(*command: str) -> str:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, (command, result.output)
    return result.output


def test_every_command_and_flag_in_the_mapping_exists():
    rows = [line.split("|")[1:3] for line in section().splitlines()
            if line.startswith("| `") or line.startswith("| ")]
    ours = [right for _, right in rows[2:]]  # below the header and its rule
    assert len(ours) > 10
    known = help_of("report") + help_of("invoice") + help_of("in")
    checked = 0
    for cell in ours:
        for code in re.findall(r"`([^`]+)`", cell):
            if code.startswith("hourly "):
                words = [w for w in code.split()[1:] if not w.startswith("-") and w.isalpha() and w.islower()]
                help_of(*words[:2])  # `hourly btcpay pair CODE` -> hourly btcpay pair --help
                checked += 1
            for flag in re.findall(r"(--[a-z][a-z-]*)", code):
                assert flag in known, f"{flag} (in {code!r}) is no flag of hourly report/invoice/in"
                checked += 1
    assert checked > 15


def test_config_keys_named_in_the_mapping_are_documented_keys():
    configuration = REFERENCE[REFERENCE.index("## Configuration"):REFERENCE.index("### Environment variables")]
    for key in re.findall(r"`(\w+) = \[", section()):
        assert f"\n{key} = " in configuration, key
    assert "[rates]" in configuration


def test_both_command_names_and_version_check():
    text = section()
    assert "Both install a command named `hourly`" in text
    result = CliRunner().invoke(main, ["--version"])
    assert f"`{result.output.strip()}`" in text
