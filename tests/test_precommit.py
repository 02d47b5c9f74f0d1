"""The hooks through the real pre-commit framework: the manifest, try-repo, and an installed config.

pre-commit builds its own virtualenv from a snapshot of this checkout (once per
test session: PRE_COMMIT_HOME is shared), so these tests exercise what users
get from `repo: https://github.com/<owner>/hourly-hooks`.
"""

from __future__ import annotations

import os
import shutil

import pytest

from hook_helpers import ALICE, BOB, PYTHON, ROOT, HookedRepo, snapshot_checkout

EC_KEY = ("-----BEGIN EC PRIVATE KEY-----\n"
          "MHQCAQEEIODKQhOgHbvSwVj7b9z0RuD1hI9IjqGdxpm2wH+9SAJuoAcGBSuBBAAK\n"
          "-----END EC PRIVATE KEY-----\n")
MERCHANT = "8mQt5bXkX3sYwJ9qLrV2nD7cA1fE4gH6"


def at(hhmm: str) -> str:
    return f"2025-03-03T{hhmm}:00-05:00"


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory):
    """(snapshot repo, its commit, a PRE_COMMIT_HOME shared by every test).

    Shared by the xdist workers too (their base folders have one parent): the snapshot is
    made once under a lock, and pre-commit's own store lock lets the first worker install
    the hook environment while the others wait for it, instead of each installing its own.
    """
    import fcntl
    import subprocess

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    base = root / "precommit-shared"
    with open(root / "precommit-shared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        snapshot = base / "hourly-hooks"
        if not (snapshot / ".git").is_dir():
            base.mkdir(exist_ok=True)
            snapshot = snapshot_checkout(snapshot)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=snapshot, capture_output=True,
                         text=True, check=True).stdout.strip()
    return snapshot, sha, base / "pre-commit-home"


def pre_commit(repo: HookedRepo, hook_source, *args: str, env=None):
    return repo.run(PYTHON, "-m", "pre_commit", *args,
                    env={"PRE_COMMIT_HOME": str(hook_source[2]), **(env or {})})


@pytest.fixture(scope="session")
def configured_template(tmp_path_factory, hook_source) -> HookedRepo:
    """A work repository whose .pre-commit-config.yaml points at the snapshot, installed: made
    once per test process, for `configured` to copy.

    What the config commit and `pre-commit install` leave (the config, one commit at fixed dates,
    hook scripts naming this interpreter and the config's relative path) is the same in every
    repository of the session, so each test gets a copy instead of its own start of pre-commit.
    """
    snapshot, sha, home = hook_source
    repo = HookedRepo(tmp_path_factory.mktemp("configured") / "work")
    repo.env["PRE_COMMIT_HOME"] = str(home)
    (repo.path / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, commit-msg]\n"
        "repos:\n"
        f"  - repo: {snapshot}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: hourly-clock\n"
        "      - id: hourly-protect-keys\n")
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "--no-verify", "-m", "pre-commit config",
             env={"GIT_AUTHOR_DATE": at("08:00"), "GIT_COMMITTER_DATE": at("08:00")})
    done = pre_commit(repo, hook_source, "install")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo.git_dir() / "hooks" / "commit-msg").exists()
    assert str(repo.path) not in (repo.git_dir() / "hooks" / "commit-msg").read_text()  # a copy works anywhere
    return repo


@pytest.fixture
def configured(tmp_path, configured_template) -> HookedRepo:
    """A copy of configured_template of its own: the config committed, pre-commit installed."""
    shutil.copytree(configured_template.path, tmp_path / "work", symlinks=True)
    repo = HookedRepo(tmp_path / "work", init=False)
    repo.env["PRE_COMMIT_HOME"] = configured_template.env["PRE_COMMIT_HOME"]
    return repo


def test_manifest_is_valid(tmp_path):
    repo = HookedRepo(tmp_path / "any")
    done = repo.run(PYTHON, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    import yaml  # pre-commit's own dependency

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"hourly", "hourly-clock", "hourly-clock-source", "hourly-protect-keys", "hourly-report-ci"}
    assert hooks["hourly"]["stages"] == ["commit-msg"]  # the README's setup: one stage, one start
    assert hooks["hourly-clock-source"]["stages"] == ["prepare-commit-msg"]
    assert all(h["language"] == "python" and h["minimum_pre_commit_version"] for h in hooks.values())
    assert hooks["hourly-clock"]["stages"] == ["commit-msg"]
    assert "always_run" not in hooks["hourly-clock"]  # the message file is passed anyway
    assert hooks["hourly-protect-keys"]["stages"] == ["pre-commit", "pre-push", "manual"]
    ci = hooks["hourly-report-ci"]
    assert (ci["stages"], ci["always_run"], ci["pass_filenames"]) == (["manual"], True, False)


def test_try_repo_normalises(tmp_path, hook_source):
    """try-repo installs the hook from a clone of the snapshot and runs it on a message file.

    try-repo ignores PRE_COMMIT_HOME: every call builds the hook's environment afresh in a
    temporary store (pip installs the package: the slowest seconds of the suite), so it is
    called once. Its refusal is `pre-commit run` on the same hook: test_commits_through_installed_pre_commit
    shows the hook refusing through pre-commit ("already clocked in", the commit not made), and
    the manual-stage tests (hourly-report-ci, hourly-protect-keys) `pre-commit run` exiting 1
    with the hook's words on stdout.
    """
    repo = HookedRepo(tmp_path / "work")
    repo.commit("start", at("08:00"))
    message = tmp_path / "MSG"
    message.write_text("Clock In T-15M fixing\n")
    author = {"GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1], "GIT_AUTHOR_DATE": "@1741010400 -0500"}
    args = ("try-repo", str(hook_source[0]), "hourly", "--hook-stage", "commit-msg",  # as docs/reference.md says
            "--commit-msg-filename", str(message), "--verbose")
    done = pre_commit(repo, hook_source, *args, env=author)
    assert done.returncode == 0, done.stdout + done.stderr
    assert message.read_text() == "clock-in: T-15m fixing\n"


def test_commits_through_installed_pre_commit(configured):
    repo = configured
    assert repo.accept("Clock In T-15M fixing", when=at("09:15")) == "clock-in: T-15m fixing"
    output = repo.refuse("clock-in", "second thoughts", when=at("09:30"))
    assert "already clocked in" in output and "clocked in since 2025-03-03 09:00 -05:00" in output
    assert (repo.git_dir() / "COMMIT_EDITMSG").read_text().startswith("clock-in\n\nsecond thoughts")
    # Another author is independent.
    repo.accept("clock-in", when=at("09:40"), who=BOB)
    # A work commit carries Alice's clock-out as a trailer. Amending it with -m (and without
    # hourly-clock-source, any --amend) cannot be told from a new commit: refused, never a second one.
    repo.accept("parser: CRLF", "Clock: out", when=at("11:00"), files={"p.py": "x = 1\n"})
    output = repo.refuse("parser: handle CRLF", "Clock: out", amend=True, when=at("11:05"))
    assert "cannot be told from an --amend" in output and "hourly-clock-source" in output
    assert repo.message() == "parser: CRLF\n\nClock: out"
    assert "not clocked in" in repo.refuse("clock-out", when=at("11:10"))
    repo.accept("clock-out", when=at("11:20"), who=BOB)


def test_merge_passes_through_pre_commit(configured):
    repo = configured
    repo.accept("clock-in", when=at("09:00"))
    repo.git("switch", "-q", "-c", "side")
    repo.accept("side", when=at("09:10"), files={"s.txt": "s\n"})
    repo.git("switch", "-q", "main")
    repo.accept("main", when=at("09:20"), files={"m.txt": "m\n"})
    done = repo.run("git", "merge", "--no-ff", "-m", "Merge branch 'side'", "side",
                    env={"GIT_AUTHOR_DATE": at("09:30"), "GIT_COMMITTER_DATE": at("09:30")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.subject() == "Merge branch 'side'"


@pytest.mark.parametrize("name, content, env, reason", [
    ("docs/notes.txt", EC_KEY, {}, "holds a private key (-----BEGIN EC PRIVATE KEY-----)"),
    ("id", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", {}, "holds a private key"),
    ("keys/btcpayserver.pem", "not even a key\n", {}, "is the BTCPay private key file"),
    ("settings.env", f"BTCPAYSERVER_MERCHANT={MERCHANT}\n", {"BTCPAYSERVER_MERCHANT": MERCHANT},
     "contains the BTCPay merchant token"),
    ("ci.yml", f"api: {MERCHANT}\n", {"BTCPAYSERVER_API_KEY": MERCHANT}, "contains the BTCPay API key"),
])
def test_protect_keys_refuses_secrets_under_any_name(configured, name, content, env, reason):
    repo = configured
    output = repo.refuse("add config", when=at("09:00"), files={name: content}, env=env)
    assert f"refusing to commit {name}: it {reason}" in output
    assert f"git restore --staged -- '{name}'" in output and ".gitignore" in output
    assert MERCHANT not in output  # the secret itself is never printed


def test_protect_keys_lets_ordinary_files_through(configured):
    repo = configured
    repo.accept("docs", when=at("09:00"), files={"README.md": "BEGIN PRIVATE KEY is a string we document\n"},
                env={"BTCPAYSERVER_MERCHANT": MERCHANT})


def test_protect_keys_without_pre_commit_reads_the_index(tmp_path, monkeypatch, capsys):
    """Run bare (no file arguments) it checks what is staged, not the work tree."""
    from hourly_hooks.hooks import entry as hook
    repo = HookedRepo(tmp_path / "work")
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo.path)
    (repo.path / "deploy.txt").write_text(EC_KEY)
    repo.git("add", "deploy.txt")
    (repo.path / "deploy.txt").write_text("harmless now, but the key is what is staged\n")
    (repo.path / "untracked.pem").write_text(EC_KEY)  # not staged: not our business
    assert hook.protect_keys_main([]) == 1
    err = capsys.readouterr().err
    assert "refusing to commit deploy.txt: it holds a private key" in err
    assert "untracked.pem" not in err
    repo.git("rm", "-q", "--cached", "-f", "deploy.txt")
    assert hook.protect_keys_main([]) == 0


def test_protect_keys_honours_the_configured_pem_name(tmp_path, monkeypatch, capsys):
    from hourly_hooks.hooks import entry as hook
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store-key.pem").write_text("anything\n")
    monkeypatch.setenv("BTCPAYSERVER_PEM", "/secrets/store-key.pem")
    assert hook.protect_keys_main(["store-key.pem"]) == 1
    assert "is the BTCPay private key file" in capsys.readouterr().err
    monkeypatch.delenv("BTCPAYSERVER_PEM")
    assert hook.protect_keys_main(["store-key.pem"]) == 0


def pre_commit_status(repo: HookedRepo) -> str:
    done = repo.hourly("status", "--json", env={"GIT_AUTHOR_DATE": at("09:00")})
    assert done.returncode == 0, done.stderr
    import json
    return json.loads(done.stdout)["hook"]


def test_status_knows_the_hook_comes_through_pre_commit(configured):
    assert pre_commit_status(configured) == "pre-commit"


# ------------------------------------------------------------ the CI hook, pre-push, manual

def with_config(repo: HookedRepo, hook_source, *hook_ids: str) -> HookedRepo:
    """repo with a committed .pre-commit-config.yaml using hook_ids from the snapshot.

    `pre-commit run` then reuses the environment built for the snapshot's commit
    (try-repo would build a new one for every call: minutes each).
    """
    snapshot, sha, home = hook_source
    repo.env["PRE_COMMIT_HOME"] = str(home)
    hooks = "".join(f"      - id: {hook_id}\n" for hook_id in hook_ids)
    (repo.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {snapshot}\n    rev: {sha}\n    hooks:\n{hooks}")
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "--no-verify", "-m", "pre-commit config",
             env={"GIT_AUTHOR_DATE": at("08:00"), "GIT_COMMITTER_DATE": at("08:00")})
    return repo


def test_report_ci_hook_fails_on_anomalies_in_the_history(tmp_path, hook_source):
    repo = with_config(HookedRepo(tmp_path / "work"), hook_source, "hourly-report-ci")
    repo.commit("clock-in", at("09:00"))
    repo.commit("clock-out", at("10:00"))
    args = ("run", "hourly-report-ci", "--hook-stage", "manual", "--verbose")
    done = pre_commit(repo, hook_source, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hourly: OK, no anomalies in 1 session(s), all history" in done.stdout  # it did read the history
    assert "1.00" not in done.stdout  # the verdict, not the timesheet and its hours
    repo.commit("clock-out", at("11:00"))  # a clock-out without a clock-in
    done = pre_commit(repo, hook_source, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "without a clock-in" in done.stdout and "hourly: FAILED 1 anomaly in 1 session(s)" in done.stdout
    assert "1.00" not in done.stdout
    plain = pre_commit(repo, hook_source, "run", "--all-files")  # the manual stage only runs when asked
    assert plain.returncode == 0 and "whole history" not in plain.stdout


def test_protect_keys_over_every_tracked_file_at_the_manual_stage(tmp_path, hook_source):
    repo = with_config(HookedRepo(tmp_path / "work"), hook_source, "hourly-protect-keys")
    repo.commit("ordinary", at("09:00"), files={"notes.txt": "hello\n"})
    args = ("run", "hourly-protect-keys", "--hook-stage", "manual", "--all-files")
    done = pre_commit(repo, hook_source, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    repo.commit("oops", at("09:10"), files={"deploy/key.txt": EC_KEY})  # committed with --no-verify
    done = pre_commit(repo, hook_source, *args)
    assert done.returncode == 1
    assert "refusing to commit deploy/key.txt: it holds a private key" in done.stdout


def test_protect_keys_at_push_time(configured, tmp_path, hook_source):
    repo = configured
    done = pre_commit(repo, hook_source, "install", "--hook-type", "pre-push")
    assert done.returncode == 0, done.stdout + done.stderr
    remote = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.accept("docs", when=at("09:00"), files={"README.md": "hello\n"})
    assert repo.run("git", "push", "-q", "origin", "main").returncode == 0
    repo.try_commit("oops", when=at("09:10"), files={"id.txt": EC_KEY}, args=("--no-verify",))
    done = repo.run("git", "push", "-q", "origin", "main")
    assert done.returncode != 0
    assert "refusing to commit id.txt: it holds a private key" in done.stdout + done.stderr


# ------------------------------------------------------------ the README's configuration, as written

def _readme_pre_commit_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("### With pre-commit"):text.index("### Without pre-commit")]


def test_readme_configuration_works_as_written(tmp_path, hook_source):
    """The README's .pre-commit-config.yaml and commands, copied literally; only the URL
    points at a local clone of this checkout."""
    import re
    section = _readme_pre_commit_section()
    config = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    commands = re.search(r"```console\n(.*?)```", section, re.S).group(1)
    url = "https://github.com/<owner>/hourly-hooks"
    assert config.count(url) == 1
    snapshot = hook_source[0]
    repo = HookedRepo(tmp_path / "work")
    repo.env["PRE_COMMIT_HOME"] = str(hook_source[2])
    (repo.path / ".pre-commit-config.yaml").write_text(config.replace(url, str(snapshot)))
    for line in commands.splitlines():
        command = line.lstrip("$ ").split("#")[0].split()
        assert command[0] == "pre-commit", line
        done = pre_commit(repo, hook_source, *command[1:])
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    status = pre_commit_status(repo)
    assert status == "pre-commit", status  # `hourly status` sees the hook comes through pre-commit
    # One stage, so one start of pre-commit per commit.
    assert (repo.git_dir() / "hooks" / "commit-msg").exists()
    assert not (repo.git_dir() / "hooks" / "prepare-commit-msg").exists()
    assert not (repo.git_dir() / "hooks" / "pre-commit").exists()
    pinned = re.search(r"rev: (\S+)", (repo.path / ".pre-commit-config.yaml").read_text()).group(1)
    assert pinned == hook_source[1]  # autoupdate pinned the newest commit (no tag yet)
    repo.git("add", ".pre-commit-config.yaml")
    assert repo.accept("Clock In T-15M fixing", when=at("09:15")) == "clock-in: T-15m fixing"
    output = repo.refuse("key", when=at("09:20"), files={"k.txt": EC_KEY})
    assert "refusing to commit k.txt: it holds a private key" in output
    assert "Your message is kept in" in output
    assert (repo.git_dir() / "COMMIT_EDITMSG").read_text().startswith("key")
    # What `git commit -a` stages (in a temporary index git names to the hook) is checked too.
    repo.git("rm", "-q", "--cached", "k.txt")
    (repo.path / "tracked.txt").write_text("harmless\n")
    repo.git("add", "tracked.txt")
    repo.git("commit", "-q", "--no-verify", "-m", "tracked", env={"GIT_AUTHOR_DATE": at("09:25")})
    (repo.path / "tracked.txt").write_text(EC_KEY)
    done = repo.run("git", "commit", "-a", "-m", "edit", env={"GIT_AUTHOR_DATE": at("09:30")})
    assert done.returncode == 1 and "refusing to commit tracked.txt" in done.stdout + done.stderr
    # The marker check still runs, after the key check.
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:40"))


def test_readme_names_a_rev_that_exists_today(hook_source):
    import re
    section = _readme_pre_commit_section()
    config = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    rev = re.search(r"rev: (\S+)", config).group(1)
    import subprocess
    found = subprocess.run(["git", "rev-parse", "-q", "--verify", f"{rev}^{{commit}}"], cwd=hook_source[0],
                           capture_output=True, text=True)
    assert found.returncode == 0, f"rev: {rev} does not exist in a clone of this repository"


def test_same_second_clock_out_and_amend_with_the_prepare_stage(tmp_path, hook_source):
    import time
    snapshot, sha, home = hook_source
    repo = HookedRepo(tmp_path / "work")
    repo.env["PRE_COMMIT_HOME"] = str(home)
    (repo.path / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, prepare-commit-msg, commit-msg]\n"
        "repos:\n"
        f"  - repo: {snapshot}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: hourly-clock-source\n"
        "      - id: hourly-clock\n")
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "--no-verify", "-m", "pre-commit config",
             env={"GIT_AUTHOR_DATE": at("08:00"), "GIT_COMMITTER_DATE": at("08:00")})
    done = pre_commit(repo, hook_source, "install")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo.git_dir() / "hooks" / "prepare-commit-msg").exists()
    when = f"@{int(time.time())} +0000"
    repo.accept("clock-in", when=when)
    # --amend (git says `commit HEAD`, pre-commit hands it on): not a second clock-in.
    done = repo.try_commit(when=when, amend=True, args=("--no-edit",))
    assert done.returncode == 0, done.stdout + done.stderr
    # A new commit from the editor in the same second: the clock-out.
    done = repo.try_commit(when=when, env={"GIT_EDITOR": "printf 'work\\n\\nClock: out\\n' >"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.message() == "work\n\nClock: out"
    assert repo.git("rev-list", "--count", "HEAD").strip() == "3"
    assert "not clocked in" in repo.refuse("clock-out", when=f"@{int(time.time()) + 1} +0000")


def test_same_second_with_m_through_pre_commit_is_refused(tmp_path, hook_source):
    # For -m git says `message`, amending or not, and pre-commit hands on just that: in HEAD's
    # second the hook refuses either; in the editor git says which.
    import time
    snapshot, sha, home = hook_source
    repo = HookedRepo(tmp_path / "work")
    repo.env["PRE_COMMIT_HOME"] = str(home)
    (repo.path / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [prepare-commit-msg, commit-msg]\n"
        "repos:\n"
        f"  - repo: {snapshot}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: hourly-clock-source\n"
        "      - id: hourly-clock\n")
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "--no-verify", "-m", "pre-commit config",
             env={"GIT_AUTHOR_DATE": at("08:00"), "GIT_COMMITTER_DATE": at("08:00")})
    done = pre_commit(repo, hook_source, "install")
    assert done.returncode == 0, done.stdout + done.stderr
    epoch = int(time.time()) - 20
    when = f"@{epoch} +0000"
    repo.accept("clock-in", when=when, args=("--no-verify",))
    for amend in (True, False):
        output = repo.refuse("clock-in: T-1m", when=when, amend=amend)
        assert "cannot be told from an --amend" in output and "wait a second" in output
    done = repo.try_commit(when=when, amend=True, env={"GIT_EDITOR": "printf 'clock-in: T-1m\\n' >"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.git("rev-list", "--count", "HEAD").strip() == "2"  # replaced, not added
    done = repo.try_commit(when=when, env={"GIT_EDITOR": "printf 'work\\n\\nClock: out\\n' >"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo.git("log", "--format=%s").split("\n")[:2] == ["work", "clock-in: T-1m"]
    assert "not clocked in" in repo.refuse("clock-out", when=f"@{epoch + 1} +0000")
