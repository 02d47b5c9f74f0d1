"""The installed hook script itself: how git starts Python for the commit-msg check."""

from __future__ import annotations

from hook_helpers import HookedRepo, at, install_plain_hooks


def test_a_module_at_the_top_of_the_repository_does_not_run_in_the_hook(tmp_path):
    """git runs hooks at the top of the work tree, and `python -c` looks there first:
    a committed re.py (the marker parser imports re) must not be imported instead."""
    hooked = HookedRepo(tmp_path / "hooked")
    install_plain_hooks(hooked)
    for name in ("re.py", "sqlite3.py", "datetime.py", "os.py"):
        (hooked.path / name).write_text("raise SystemExit('a module of the repository ran in the hook')\n")
    done = hooked.try_commit("clock-in", when=at("09:00"))
    assert done.returncode == 0, done.stderr
    assert "module of the repository" not in done.stderr
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"))
