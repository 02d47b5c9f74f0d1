import re
from pathlib import Path

from click.testing import CliRunner

from hourly_hooks.cli import main


def test_demo_reports_a_week_and_removes_its_repository():
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    folder = Path(re.search(r"Demo repository: (\S+)", result.output)[1])
    assert not folder.exists()
    assert "Alice Martin <alice@example.com>" in result.output and "Bob Keller" in result.output
    assert "38:44:00, 38.73 hours worked" in result.output and "4035.50 USD" in result.output
    assert "Ignored 1 session(s) matching 'pro bono'" in result.output
    assert "clock-in-while-clocked-in" in result.output
    assert "Open (clocked in, not billed)" in result.output


def test_demo_keep_leaves_the_repository(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--keep"])
    folder = Path(re.search(r"Demo repository: (\S+)", result.output)[1])
    try:
        assert (folder / ".hourly.toml").is_file() and (folder / ".git").is_dir()
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
