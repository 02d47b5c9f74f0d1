"""`hourly completion bash|zsh|fish`: the scripts, and what they complete, through real shells."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hook_helpers import PYTHON, HookedRepo

BIN = str(__import__("pathlib").Path(PYTHON).parent)


@pytest.fixture
def people(tmp_path) -> HookedRepo:
    repo = HookedRepo(tmp_path / "work")
    repo.commit("clock-in", "2026-03-02T09:00:00-05:00", name="Alice Martin", email="alice+work@example.com")
    repo.commit("clock-out", "2026-03-02T10:00:00-05:00", name="Alice Martin", email="alice+work@example.com")
    repo.commit("clock-in", "2026-03-02T11:00:00-05:00", name="bob", email="bob@old.example")
    repo.commit("clock-out", "2026-03-02T12:00:00-05:00", name="bob", email="bob@old.example")
    repo.commit("work", "2026-03-02T12:30:00-05:00", name="Alice Martin", email="alice+work@example.com")
    (repo.path / ".mailmap").write_text("Bob Okafor <bob@example.com> <bob@old.example>\n")
    return repo


def bash_complete(repo: HookedRepo, *words: str) -> list:
    """Source `hourly completion bash` in a real bash and complete the last of words."""
    if not shutil.which("bash"):
        pytest.skip("no bash")
    script = ('source <(hourly completion bash) || exit 9\n'
              'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()\n'
              '_hourly_completion hourly\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    done = repo.run("bash", "-c", script, "bash", "hourly", *words,
                    env={"PATH": BIN + ":" + repo.env["PATH"]})
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completes_commands_and_zones(people):
    assert bash_complete(people, "compl") == ["completion"]
    assert bash_complete(people, "report", "--tz", "Europe/Pa") == ["Europe/Paris"]
    assert "America/New_York" in bash_complete(people, "status", "--tz", "america/new")


def test_bash_completes_authors_after_mailmap_quoted_and_usable(people):
    candidates = bash_complete(people, "report", "--author", "")
    assert candidates == ["'Alice Martin <alice\\+work@example.com>'", "'Bob Okafor <bob@example.com>'"]
    assert bash_complete(people, "report", "--author", "bob@") == ["'Bob Okafor <bob@example.com>'"]
    # The candidate, as bash would insert it, selects exactly that person's sessions.
    done = people.run("bash", "-c", f'eval "set -- {candidates[0]}"; exec hourly report --author "$1" --format csv',
                      env={"PATH": BIN + ":" + people.env["PATH"]})
    assert done.returncode == 0, done.stderr
    rows = done.stdout.strip().splitlines()[2:]  # after the period comment and the header
    assert len(rows) == 1 and "alice+work@example.com" in rows[0]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_are_clicks_and_complete_zones(people, shell):
    printed = people.run(PYTHON, "-m", "hourly_hooks", "completion", shell)
    assert printed.returncode == 0, printed.stderr
    direct = people.run(BIN + "/hourly", env={"_HOURLY_COMPLETE": f"{shell}_source"})
    assert printed.stdout.strip() == direct.stdout.strip() and "_HOURLY_COMPLETE" in printed.stdout
    # What the script asks hourly for, as the shell would (click's completion protocol).
    words = "hourly report --tz Europe/Pa"
    env = {"_HOURLY_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": "3"}
    if shell == "fish":
        env = {"_HOURLY_COMPLETE": "fish_complete", "COMP_WORDS": words, "COMP_CWORD": "Europe/Pa"}
    answer = people.run(BIN + "/hourly", env=env)
    assert "Europe/Paris" in answer.stdout
    authors = people.run(BIN + "/hourly", env={**env, "COMP_WORDS": "hourly report --author Al",
                                               "COMP_CWORD": "3" if shell == "zsh" else "Al"})
    assert "Alice Martin <alice\\+work@example.com>" in authors.stdout
    assert "'" not in authors.stdout  # zsh and fish quote for themselves


def test_unknown_shell_is_a_usage_error(people):
    done = people.hourly("completion", "powershell")
    assert done.returncode == 2
