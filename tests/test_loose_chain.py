"""The hook's differences of HEAD and the store's tip read from loose objects, against git log.

store.loose_chain answers ``HEAD ^T`` without git where HEAD reaches T through
loose commits of one parent each. Wherever it answers, its rows must be
exactly those of ``git log --left-right HEAD...T`` (store.start_sides), and
nothing removed; everywhere else it must leave the question to git.
"""

from __future__ import annotations

import random
import subprocess

from gitrepo import GitRepo
from hook_helpers import ALICE, BOB, HookedRepo, at
from hourly_hooks import store

MESSAGES = ["clock-in", "clock-out", "work", "clock-in: T-15m fixing the build", "Clock-Out -- done",
            "clock  out", "feature\n\nbody\n\nClock: in T-5m", "clock-in\r\n\r\nCRLF body\r\n",
            "fix: clocking in", "clock-out: T-1h 30m", "  clock-in", "clock_in", "", "clock-in\n\n\n"]
AUTHORS = [("Alice Martin", "alice@example.com"), ("Bob Okafor", "bob@example.com"),
           ("Zoë Ünal", "zoe@example.com"), ("Carol", "CAROL@Example.com")]


def git_sides(repo: GitRepo, head: str, old: str):
    added, removed = store.finish_sides(store.start_sides(str(repo.path), head, old))
    return sorted(added), sorted(removed)


def commit_raw(repo: GitRepo, raw: bytes) -> str:
    """A commit object written as given (git hash-object --literally), made HEAD."""
    done = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"], cwd=repo.path,
                          env=repo.env, input=raw, capture_output=True, check=True)
    sha = done.stdout.decode().strip()
    repo.git("update-ref", "HEAD", sha)
    return sha


def test_loose_reads_agree_with_git_log_wherever_they_answer(repo):
    rng = random.Random(20261202)
    shas = [repo.commit("root", at("08:00"))]
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    answered = declined = 0
    for step in range(70):
        action = rng.choice(["commit"] * 6 + ["merge", "raw", "encoding", "gc", "reset"])
        when = f"2025-03-03T09:{step % 60:02d}:{rng.randint(0, 59):02d}{rng.choice(['-05:00', '+00:00', '+05:30'])}"
        name, email = rng.choice(AUTHORS)
        if action == "commit":
            repo.git("commit", "-q", "--allow-empty", "--allow-empty-message", "--no-verify", "--cleanup=verbatim",
                     "-m", rng.choice(MESSAGES),
                     env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when})
        elif action == "merge":
            repo.git("branch", "-f", "side", rng.choice(shas))
            repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "clock-out", "side", check=False)
        elif action == "raw":  # author lines git itself would not write, read by git its own way
            head = repo.git("rev-parse", "HEAD").strip()
            author = rng.choice([b"Odd  Spaces  <odd@example.com> 1741010000 -0500",
                                 b"<nameless@example.com> 1741010000 +0000",
                                 b"Two <a@example.com> <b@example.com> 1741010000 +0000",
                                 b"Zero <zero@example.com> 0001741010000 +0000",
                                 b"Tab\t<tab@example.com> 1741010000 +0100",
                                 b"Wide <wide@example.com> 1741010000 +05000",
                                 b"Plain <plain@example.com> 1741010000 +0200"])
            commit_raw(repo, b"tree %s\nparent %s\nauthor %s\ncommitter C <c@example.com> 1741010000 +0000\n\n"
                       b"clock-in\n" % (tree.encode(), head.encode(), author))
        elif action == "encoding":
            repo.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "--no-verify",
                     "-m", "clock-in caf\u00e9", env={"GIT_AUTHOR_NAME": "Ren\u00e9", "GIT_AUTHOR_EMAIL": email,
                                                        "GIT_AUTHOR_DATE": when})
        elif action == "gc":
            repo.git("gc", "-q")
        elif action == "reset" and len(shas) > 3:
            repo.git("reset", "-q", "--hard", rng.choice(shas[-4:]))
        head = repo.git("rev-parse", "HEAD").strip()
        shas.append(head)
        common = str(repo.path / ".git")
        for old in {shas[-2], rng.choice(shas), shas[max(0, len(shas) - 6)]}:
            got = store.loose_chain(common, head, old)
            if got is None:
                declined += 1
                continue
            answered += 1
            rows, walked = got
            assert (sorted(rows), []) == git_sides(repo, head, old), (step, action, old)
            assert walked == len(repo.git("rev-list", f"{head}", f"^{old}").split())
    assert answered > 30 and declined > 10  # both ways were taken, so both were compared


def test_a_long_or_packed_or_merged_chain_is_left_to_git(repo):
    first = repo.commit("clock-in", at("09:00"))
    for minute in range(store.LOOSE_CHAIN + 1):
        repo.commit("work", at(f"10:{minute % 60:02d}"))
    head = repo.git("rev-parse", "HEAD").strip()
    common = str(repo.path / ".git")
    assert store.loose_chain(common, head, first) is None  # too long: git is cheaper
    assert store.loose_chain(common, head, repo.git("rev-parse", "HEAD~3").strip())[1] == 3
    repo.git("gc", "-q")
    assert store.loose_chain(common, head, repo.git("rev-parse", "HEAD~3").strip()) is None  # packed
    assert store.loose_chain(common, head, head) == ([], 0)


def test_a_mailmap_from_config_sends_the_hook_to_git(tmp_path):
    """No .mailmap at the top, but mailmap.file maps Bob to Alice: the names in the
    object files are not the ones git shows, so the loose rows must not be used."""
    hooked = HookedRepo(tmp_path / "hooked")
    mailmap = tmp_path / "people.mailmap"
    mailmap.write_text(f"{ALICE[0]} <{ALICE[1]}> <{BOB[1]}>\n")
    hooked.git("config", "mailmap.file", str(mailmap))
    hooked.commit("start", at("08:00"))
    hooked.install_hook()  # reads the history into the store: its tip is this commit
    assert hooked.try_commit("clock-in", when=at("09:00"), who=BOB).returncode == 0  # Alice, mapped
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"), who=ALICE)
    assert hooked.try_commit("clock-out", when=at("10:00"), who=ALICE).returncode == 0


def test_the_hook_answers_from_loose_objects_without_git_log(tmp_path):
    """Real commits: after the store's read, each hook's question is one loose commit away."""
    hooked = HookedRepo(tmp_path / "hooked")
    hooked.commit("start", at("08:00"))
    hooked.install_hook()
    trace = tmp_path / "trace"
    env = {"GIT_TRACE": str(trace)}
    assert hooked.try_commit("clock-in", when=at("09:00"), env=env).returncode == 0
    assert hooked.try_commit("work", when=at("09:10")).returncode == 0
    trace.unlink()
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"), env=env)
    assert hooked.try_commit("clock-out", when=at("10:00"), env=env).returncode == 0
    logged = trace.read_text()
    assert "git config" in logged and "git log" not in logged and "rev-parse" not in logged, logged
