"""`hourly install-hook` / `uninstall-hook`: where the hook goes, what it keeps, what it removes."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from hook_helpers import PYTHON, ROOT, HookedRepo

from hourly_hooks.hooks import install as hookinstall

FOREIGN = "#!/bin/sh\necho foreign ran >> \"$(git rev-parse --git-dir)/foreign.log\"\n" \
          "if grep -q WIP \"$1\"; then echo 'foreign: no WIP commits' >&2; exit 1; fi\n"


def at(hhmm: str) -> str:
    return f"2025-03-03T{hhmm}:00+01:00"


@pytest.fixture
def repo(tmp_path) -> HookedRepo:
    return HookedRepo(tmp_path / "work")


def hook_path(repo: HookedRepo, name: str = "commit-msg"):
    return repo.git_dir() / "hooks" / name


def write_foreign(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FOREIGN)
    path.chmod(0o755)


def test_install_writes_an_executable_hook_that_knows_this_python(repo):
    done = repo.install_hook()
    target = hook_path(repo)
    assert str(target) in done.stdout
    assert target.stat().st_mode & stat.S_IXUSR
    text = target.read_text()
    assert hookinstall.signature("commit-msg") in text.splitlines()[1]
    assert f"INSTALL_PYTHON='{PYTHON}'" in text
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_install_is_idempotent(repo):
    repo.install_hook()
    first = hook_path(repo).read_text()
    done = repo.install_hook()
    assert "refreshed" in done.stdout
    assert hook_path(repo).read_text() == first
    assert sorted(p.name for p in hook_path(repo).parent.iterdir() if p.name.startswith("commit-msg") and not p.name.endswith(".sample")) == ["commit-msg"]
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_foreign_hook_is_chained_and_still_runs_first(repo):
    write_foreign(hook_path(repo))
    done = repo.install_hook()
    assert "commit-msg.pre-hourly" in done.stdout
    assert hook_path(repo, "commit-msg.pre-hourly").read_text() == FOREIGN
    assert "foreign: no WIP" in repo.refuse("clock-in WIP", when=at("09:00"))
    repo.accept("clock-in", when=at("09:00"))
    assert (repo.git_dir() / "foreign.log").read_text().count("foreign ran") == 2
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))
    repo.install_hook()  # again: still chained once, not twice
    assert hook_path(repo, "commit-msg.pre-hourly").read_text() == FOREIGN


def test_force_replaces_a_foreign_hook(repo):
    write_foreign(hook_path(repo))
    done = repo.install_hook("--force")
    assert "--force" in done.stdout
    assert not hook_path(repo, "commit-msg.pre-hourly").exists()
    repo.accept("clock-in WIP", when=at("09:00"))


def test_refuses_when_both_names_are_taken(repo):
    write_foreign(hook_path(repo))
    write_foreign(hook_path(repo, "commit-msg.pre-hourly"))
    done = repo.hourly("install-hook")
    assert done.returncode == 1
    assert "--force" in done.stderr
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_removes_ours_and_restores_the_chained_hook(repo):
    write_foreign(hook_path(repo))
    repo.install_hook()
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0, done.stderr
    assert hook_path(repo).read_text() == FOREIGN
    assert not hook_path(repo, "commit-msg.pre-hourly").exists()
    repo.accept("clock-in", when=at("09:00"))
    repo.accept("clock-in", when=at("09:30"))  # no clock hook any more


def test_uninstall_leaves_a_foreign_hook_alone(repo):
    write_foreign(hook_path(repo))
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 1
    assert "not installed by hourly" in done.stderr
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_without_a_hook_is_harmless(repo):
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0 and "nothing to remove" in done.stdout


def test_core_hooks_path_is_honoured(repo):
    repo.git("config", "core.hooksPath", ".githooks")
    done = repo.install_hook()
    assert (repo.path / ".githooks" / "commit-msg").exists()
    assert not hook_path(repo).exists()
    assert ".githooks" in done.stdout
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_install_from_a_worktree_serves_the_whole_repository(repo, tmp_path):
    repo.accept("start", when=at("08:00"))
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "wt", str(worktree))
    repo.install_hook(cwd=worktree)
    assert hook_path(repo).exists()  # the common git dir's hooks
    assert repo.try_commit("clock-in", when=at("09:00"), cwd=worktree).returncode == 0
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"), cwd=worktree)


def test_outside_a_repository(tmp_path):
    repo = HookedRepo(tmp_path / "norepo", init=False)
    repo.path.mkdir()
    done = repo.hourly("install-hook")
    assert done.returncode == 3
    assert "not a git repository" in done.stderr.lower()


def test_one_packaged_script_serves_both_hooks():
    # The top-level hooks/ folder is generated from this template (tests/test_hooks_folder.py holds it equal).
    assert hookinstall.template() == (ROOT / "src" / "hourly_hooks" / "hooks" / "hook.sh").read_text()
    for hook in ("commit-msg", "prepare-commit-msg", "pre-commit"):
        text = hookinstall.render("/usr/bin/python3", hook=hook)
        assert text.splitlines()[1] == hookinstall.signature(hook)
        assert "@" not in text.replace("$@", "")  # every placeholder filled in


def test_printed_script_installed_by_hand_works(repo):
    done = repo.hourly("install-hook", "--print")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == hookinstall.signature("commit-msg")
    assert f"INSTALL_PYTHON='{PYTHON}'" in done.stdout
    assert not hook_path(repo).exists()  # --print changes nothing
    target = hook_path(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(done.stdout)
    target.chmod(0o755)
    repo.accept("Clock In", when=at("09:00"))
    assert repo.subject() == "clock-in"
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))
    assert repo.hourly("status", "--json").stdout.count('"hook": "installed"') == 1


def test_printed_script_copied_to_another_machine_finds_hourly_on_path(repo):
    # Copied without its Python (INSTALL_PYTHON emptied), the script falls back
    # to hourly-clock / python3 on PATH.
    text = repo.hourly("install-hook", "--print").stdout
    text = text.replace(f"INSTALL_PYTHON='{PYTHON}'", "INSTALL_PYTHON=''")
    target = hook_path(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(0o755)
    repo.accept("Clock In", when=at("09:00"))
    assert repo.subject() == "clock-in"
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_hook_whose_python_is_gone_explains_itself(repo, tmp_path):
    repo.install_hook()
    target = hook_path(repo)
    target.write_text(target.read_text().replace(f"INSTALL_PYTHON='{PYTHON}'", "INSTALL_PYTHON='/nonexistent/python'"))
    # PATH without any Python that has hourly_hooks, nor hourly-clock.
    empty = tmp_path / "emptybin"
    empty.mkdir()
    for tool in ("git", "sh", "grep", "dirname"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, empty / tool)
    done = repo.try_commit("clock-in", when=at("09:00"), env={"PATH": str(empty), "PYTHONPATH": ""})
    assert done.returncode == 1
    assert "hourly-hooks is not installed" in done.stderr
    assert "--no-verify" in done.stderr


EC_KEY = ("-----BEGIN EC PRIVATE KEY-----\n"
          "MHQCAQEEIODKQhOgHbvSwVj7b9z0RuD1hI9IjqGdxpm2wH+9SAJuoAcGBSuBBAAK\n"
          "-----END EC PRIVATE KEY-----\n")
FOREIGN_PRE_COMMIT = "#!/bin/sh\necho pre ran >> \"$(git rev-parse --git-dir)/pre.log\"\n" \
                     "if git diff --cached --name-only | grep -q '^forbidden'; then echo 'foreign: no' >&2; exit 1; fi\n"


def test_install_protects_private_keys_too(repo):
    done = repo.install_hook()
    assert str(hook_path(repo, "pre-commit")) in done.stdout
    assert hook_path(repo, "pre-commit").read_text().splitlines()[1] == hookinstall.signature("pre-commit")
    output = repo.refuse("add deploy notes", when=at("09:00"), files={"docs/deploy.txt": EC_KEY})
    assert "refusing to commit docs/deploy.txt: it holds a private key" in output
    repo.git("rm", "-q", "--cached", "docs/deploy.txt")
    repo.accept("ordinary", when=at("09:05"), files={"notes.txt": "nothing secret\n"})


def test_print_pre_commit_prints_the_key_check(repo):
    done = repo.hourly("install-hook", "--print=pre-commit")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == hookinstall.signature("pre-commit")
    target = hook_path(repo, "pre-commit")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(done.stdout)
    target.chmod(0o755)
    assert "holds a private key" in repo.refuse("key", when=at("09:00"), files={"k.txt": EC_KEY})


def test_foreign_pre_commit_hook_is_chained_runs_first_and_comes_back(repo):
    target = hook_path(repo, "pre-commit")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(FOREIGN_PRE_COMMIT)
    target.chmod(0o755)
    done = repo.install_hook()
    assert "pre-commit.pre-hourly" in done.stdout
    assert hook_path(repo, "pre-commit.pre-hourly").read_text() == FOREIGN_PRE_COMMIT
    assert "foreign: no" in repo.refuse("x", when=at("09:00"), files={"forbidden.txt": "x\n"})
    repo.git("rm", "-q", "--cached", "forbidden.txt")
    assert "holds a private key" in repo.refuse("k", when=at("09:00"), files={"k.txt": EC_KEY})
    assert (repo.git_dir() / "pre.log").read_text().count("pre ran") == 2
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0, done.stderr
    assert "pre-commit" in done.stdout and "commit-msg" in done.stdout
    assert target.read_text() == FOREIGN_PRE_COMMIT
    assert not hook_path(repo, "pre-commit.pre-hourly").exists()
    assert not hook_path(repo).exists()
    repo.accept("key now allowed", when=at("09:10"))  # no hourly hook left


def test_install_refuses_before_writing_when_a_chained_name_is_taken(repo):
    write_foreign(hook_path(repo, "pre-commit"))
    write_foreign(hook_path(repo, "pre-commit.pre-hourly"))
    done = repo.hourly("install-hook")
    assert done.returncode == 1 and "pre-commit.pre-hourly" in done.stderr
    assert not hook_path(repo).exists()  # not even the commit-msg hook: no half install


def test_uninstall_removes_ours_and_leaves_a_foreign_one_alone(repo):
    repo.install_hook("--force")
    write_foreign(hook_path(repo, "pre-commit"))  # someone replaced our pre-commit hook
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0, done.stderr
    assert "Left" in done.stdout and "not installed by hourly" in done.stdout
    assert hook_path(repo, "pre-commit").read_text() == FOREIGN
    assert not hook_path(repo).exists()


def test_bare_repository_is_named_as_one(tmp_path):
    bare = HookedRepo(tmp_path / "bare.git", init=False)
    bare.run("git", "init", "-q", "--bare", str(bare.path), cwd=tmp_path)
    for command in ("install-hook", "uninstall-hook"):
        done = bare.hourly(command)
        assert done.returncode == 3, done.stderr
        assert "is a bare repository: hourly needs a work tree" in done.stderr
        assert "not inside" not in done.stderr


FOREIGN_PREPARE = "#!/bin/sh\necho \"prepare ran $2 $3\" >> \"$(git rev-parse --git-dir)/prepare.log\"\n"


def test_prepare_commit_msg_is_installed_chained_and_restored(repo):
    target = hook_path(repo, "prepare-commit-msg")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(FOREIGN_PREPARE)
    target.chmod(0o755)
    done = repo.install_hook()
    assert "prepare-commit-msg.pre-hourly" in done.stdout
    assert target.read_text().splitlines()[1] == hookinstall.signature("prepare-commit-msg")
    assert "INSTALL_PYTHON" not in target.read_text()  # plain sh: it starts no Python
    repo.accept("clock-in", when=at("09:00"))
    # The foreign hook still runs first, with git's arguments; ours consumed its note.
    repo.accept(when=at("09:00"), amend=True, args=("--no-edit",))
    assert repo.subject() == "clock-in"
    assert not (repo.git_dir() / "hourly-commit-source").exists()
    assert (repo.git_dir() / "prepare.log").read_text().splitlines()[-1] == "prepare ran commit HEAD"
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0, done.stderr
    assert "prepare-commit-msg" in done.stdout
    assert target.read_text() == FOREIGN_PREPARE
    assert not hook_path(repo, "prepare-commit-msg.pre-hourly").exists()


def test_the_prepare_hook_needs_no_python(repo, tmp_path):
    # prepare-commit-msg runs even under --no-verify: it is plain sh, so even an install whose
    # Python is gone (and none on PATH) neither blocks a commit nor says a word; the note is written.
    text = hookinstall.render(str(tmp_path / "gone" / "python3"), package_parent=str(tmp_path / "gone"),
                              hook="prepare-commit-msg")
    target = hook_path(repo, "prepare-commit-msg")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(0o755)
    bare_path = {"PATH": "/usr/bin:/bin"}  # neither hourly-clock-source nor this Python's python3
    done = repo.run("git", "commit", "-q", "--allow-empty", "--no-verify", "-m", "work", env=bare_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    note = (repo.path / ".git" / "hourly-commit-source").read_text().split("\n")
    assert note[:3] == ["message", "", ""] and note[3].isdigit()


def test_a_hook_installed_by_an_older_version_still_runs(repo):
    # Older versions wrote `from hourly_hooks.hook import clock_main` into the installed script;
    # hourly_hooks/hook.py keeps that import working. The console-script fallback is cut here,
    # so the old import itself must carry the commit.
    old = hookinstall.render(PYTHON, hook="commit-msg").replace(
        "from hourly_hooks.hooks.entry import", "from hourly_hooks.hook import")
    old = old.replace("if command -v hourly-clock ", "if false && command -v hourly-clock ")
    assert "from hourly_hooks.hook import clock_main as main" in old and "if false &&" in old
    target = hook_path(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(old)
    target.chmod(0o755)
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))
