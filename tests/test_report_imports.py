"""A report never pays for the BTCPay client: with a BTCPay host configured, `hourly report`
checks the host (btcpay/hosts.py) without importing requests (~55 ms)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitrepo import GitRepo

PROBE = """
import sys
from click.testing import CliRunner
from hourly_hooks.cli import main
result = CliRunner().invoke(main, ["report", "--tz", "UTC"])
print(result.exit_code, "requests" in sys.modules, "hourly_hooks.btcpay.hosts" in sys.modules)
"""


def test_a_report_with_a_btcpay_host_imports_no_requests(repo: GitRepo):
    repo.commit("clock-in", "2026-11-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-11-02T10:00:00+00:00")
    user = Path(repo.env["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[btcpay]\nhost = "https://btcpay.example.com"\n')
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=repo.path, env=repo.env,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["0", "False", "True"], (done.stdout, done.stderr)
