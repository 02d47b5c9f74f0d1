"""When the installed hook set starts Python, and that the shell's shortcuts never skip a check.

The plain hooks (`hourly install-hook`) decide in sh whether Python is needed:
commit-msg greps the message, pre-commit has git grep the staged blobs, and
prepare-commit-msg writes its note in sh. Here the hooks are installed naming
a probe for Python (a script that notes each start), so a test sees whether a
commit would have started it; the decisions are held to what the Python
checks themselves find (hooks/entry.py, hooks/keycheck.py) over every marker
spelling the tests know and every key form, and the note to the one
hourly-clock-source writes.
"""

from __future__ import annotations

import base64
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import test_hook_spelling
import test_markers
from hook_helpers import PYTHON, HookedRepo, at, install_plain_hooks
from test_key_bypass import API_KEY, EC_PEM, KEY_FORMS, ORDINARY, body, der

from hourly_hooks.core import markers
from hourly_hooks.hooks import entry
from hourly_hooks.hooks import install as hookinstall
from hourly_hooks.hooks.keycheck import KeyRules

DEFAULT_RULES = KeyRules(["btcpayserver.pem"], [])


class Probed(HookedRepo):
    """A repository whose installed hooks name a probe instead of Python: each start is noted."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.log = path.parent / "python-starts.log"
        probe = path.parent / "probe-python"
        probe.write_text(f"#!/bin/sh\necho started >> '{self.log}'\nexit 0\n")
        probe.chmod(0o755)
        hookinstall.install(cwd=self.path, python=str(probe))
        # Where the hooks are, asked of git once: the tests run hooks hundreds of times, and no
        # test moves the repository's git dir (a linked worktree has its own, hooks shared).
        self.hooks = self.git_dir() / "hooks"

    def starts(self) -> int:
        """Python starts since the last call."""
        if not self.log.exists():
            return 0
        count = len(self.log.read_text().splitlines())
        self.log.unlink()
        return count

    def hook(self, name: str, *args: str, env=None) -> subprocess.CompletedProcess:
        return self.run(str(self.hooks / name), *args, env=env)

    def precommit_starts(self, name: str, data: bytes, env=None) -> bool:
        """Would the pre-commit hook start Python with just `name` (holding data) staged?"""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.git("--literal-pathspecs", "add", "--", name)
        try:
            done = self.hook("pre-commit", env=env)
            assert done.returncode == 0, done.stderr
            return self.starts() == 1
        finally:
            self.git("--literal-pathspecs", "rm", "-q", "--cached", "--", name)
            target.unlink()


@pytest.fixture
def probed(tmp_path) -> Probed:
    repo = Probed(tmp_path / "work")
    repo.commit("base", at("08:00"))
    return repo


# ------------------------------------------------------------ whole commits

def test_an_ordinary_commit_starts_no_python(probed):
    (probed.path / "app.py").write_text("print('hello')\n")
    probed.git("add", "app.py")
    done = probed.try_commit("add app", when=at("09:00"))
    assert done.returncode == 0, done.stderr
    assert probed.starts() == 0
    assert probed.try_commit("empty", when=at("09:01")).returncode == 0
    assert probed.starts() == 0


def test_a_marker_commit_starts_python_once(probed):
    done = probed.try_commit("clock-in", when=at("09:00"))
    assert done.returncode == 0, done.stderr
    assert probed.starts() == 1  # the commit-msg check; prepare-commit-msg is sh


def test_a_staged_key_starts_the_key_check(probed):
    (probed.path / "notes.txt").write_text(EC_PEM)
    probed.git("add", "notes.txt")
    probed.try_commit("notes", when=at("09:00"))
    assert probed.starts() == 1


# ------------------------------------------------------------ commit-msg: the message grep

def _spellings() -> list:
    """Every message string in the marker and spelling tests' parameters, and variants of each."""
    found = set()
    for module in (test_markers, test_hook_spelling):
        for function in vars(module).values():
            for mark in getattr(function, "pytestmark", []):
                if mark.name != "parametrize":
                    continue
                for case in mark.args[1]:
                    found.update(item for item in (case if isinstance(case, tuple) else (case,))
                                 if isinstance(item, str))
    variants = set()
    for text in found:
        variants |= {text, text.upper(), text.title(), text.swapcase(), text.replace("k", "\u212a"),
                     text.replace("K", "\u212a").replace("k", "\u212a"), "work\n\n" + text,
                     "\ufeff" + text, "amend! " + text, text.replace("\n", "\r\n")}
    return sorted(variants | {"squash! work", "amend! work", "work", "update the docs", "Clo ck-in", ""})


def test_the_message_grep_starts_python_exactly_when_the_check_would_look(probed):
    spellings = _spellings()
    assert len(spellings) > 300
    message = probed.path / "MSG"
    for text in spellings:
        message.write_bytes(text.encode("utf-8"))
        assert probed.hook("commit-msg", str(message)).returncode == 0
        looks = "clock" in text.lower() or any(prefix in text for prefix in entry.AUTOSQUASHED)
        assert (probed.starts() == 1) == looks, repr(text)
        if markers.parse(text) is not None:
            assert looks, repr(text)  # every marker and near miss reaches Python


def test_an_unreadable_message_file_is_left_to_python(probed):
    assert probed.hook("commit-msg", str(probed.path / "missing")).returncode == 0
    assert probed.starts() == 1  # which says what is wrong (exit 2), as before


# ------------------------------------------------------------ pre-commit: the key grep

def _der_short_encrypted() -> bytes:
    """An encrypted PKCS#8 key short enough for a one-byte DER length (no test key is)."""
    oid = bytes.fromhex("06092a864886f70d01050d")  # PBES2
    algorithm = bytes([0x30, len(oid) + 2]) + oid + b"\x05\x00"
    octets = b"\x04\x20" + bytes(range(1, 33))
    content = algorithm + octets
    return bytes([0x30, len(content)]) + content


def _key_corpus() -> dict:
    rng = random.Random(15)
    corpus = {f"form {name}": data for name, (data, _) in KEY_FORMS.items()}
    short = _der_short_encrypted()
    corpus["short encrypted PKCS#8, DER"] = short
    corpus["short encrypted PKCS#8, base64"] = base64.b64encode(short) + b"\n"
    tiny_sec1 = b"\x30\x05\x02\x01\x01\x04\x00" + bytes(rng.getrandbits(8) for _ in range(40))
    corpus["a small SEC1 SEQUENCE leading a base64 run"] = b"x = " + base64.b64encode(tiny_sec1) + b"\n"
    for name, (data, _) in KEY_FORMS.items():
        if data[:1] == b"0":  # DER: as base64 behind each character a token may follow
            encoded = base64.b64encode(data)
            for before in (b"", b"KEY=", b'"', b": ", b"\t", b"(", b"\\n", b"-"):
                corpus[f"{name}, base64 after {before!r}"] = b"line one\n" + before + encoded + b"\n"
            wrapped = b"\n".join(encoded[i:i + 64] for i in range(0, len(encoded), 64))
            corpus[f"{name}, base64 wrapped in YAML"] = b"key: |\n  " + wrapped.replace(b"\n", b"\n  ") + b"\n"
        else:
            text = data.decode("utf-8", "replace")
            corpus[f"{name}, UTF-16 BE"] = b"\xfe\xff" + text.encode("utf-16-be")
            corpus[f"{name}, in the middle of a file"] = b"start\n" + data + b"\nend\n"
    for seed in range(60):  # DER-shaped noise: must reach Python whenever Python would refuse it
        size = rng.randrange(30, 200)
        blob = bytes([0x30, rng.choice([size - 2, 0x81, 0x82])]) + bytes(rng.getrandbits(8) for _ in range(size))
        corpus[f"noise {seed}"] = blob
        corpus[f"noise {seed}, base64"] = base64.b64encode(blob)
    return corpus


def test_every_file_the_key_check_refuses_starts_it(probed):
    corpus = _key_corpus()
    refused = 0
    for name, data in sorted(corpus.items()):
        why = DEFAULT_RULES.why("docs/file.txt", data)
        refused += why is not None
        if why is not None:
            assert probed.precommit_starts("docs/file.txt", data), f"{name}: Python was skipped ({why})"
    assert refused >= len(KEY_FORMS) + 40  # the corpus holds keys, not only noise


ORDINARY_TEXT = {
    "src/app.py": b"import os\n\ndef main():\n    return os.getcwd()\n",
    "README.md": b"# Project\n\nMore words, MERGE notes and Makefile targets.\n",
    "data.csv": b"day,hours\n2026-01-02,7.5\n2026-01-03,0\n",
    "config.yaml": b"name: x\nMaxRetries: 3\n",
    "logo.png": ORDINARY["logo.png"],
}


@pytest.mark.parametrize("name", sorted(ORDINARY_TEXT))
def test_ordinary_files_do_not_start_python(probed, name):
    assert DEFAULT_RULES.why(name, ORDINARY_TEXT[name]) is None
    assert not probed.precommit_starts(name, ORDINARY_TEXT[name])


def test_the_btcpay_key_file_by_name_starts_python(probed):
    assert probed.precommit_starts("keys/btcpayserver.pem", b"nothing yet\n")


def test_a_configured_secret_starts_python_for_any_staged_file(probed, isolated):
    text = b"hello\n"
    user = isolated / ".config" / "hourly" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    home = {"HOME": str(isolated), "XDG_CONFIG_HOME": str(isolated / ".config")}
    user.write_text('tz = "UTC"\n')
    assert not probed.precommit_starts("a.txt", text, env=home)
    user.write_text(f'[btcpay]\napi_key = "{API_KEY}"\n')
    assert probed.precommit_starts("a.txt", text, env=home)
    user.write_text(f'[btcpay]\n"api\\u005fkey" = "{API_KEY}"\n')  # the key spelled with a TOML escape
    assert probed.precommit_starts("a.txt", text, env=home)
    user.unlink()
    assert probed.precommit_starts("a.txt", text, env={**home, "BTCPAYSERVER_MERCHANT": "x" * 12})
    local = probed.git_dir() / "hourly" / "config.toml"
    local.parent.mkdir(parents=True)
    local.write_text('[btcpay]\npem = "deploy.pem"\n')
    assert probed.precommit_starts("a.txt", text, env=home)


def test_a_symbolic_link_starts_python(probed):
    os.symlink("target", probed.path / "link")
    probed.git("add", "link")
    assert probed.hook("pre-commit").returncode == 0
    assert probed.starts() == 1


def test_the_real_check_still_refuses_a_key_the_grep_let_through_to_it(tmp_path):
    """With the real Python installed: the shortcut hands over, the check refuses."""
    repo = install_plain_hooks(HookedRepo(tmp_path / "real"))
    (repo.path / "k.txt").write_text(body(EC_PEM))
    repo.git("add", "k.txt")
    done = repo.try_commit("k", when=at("09:00"))
    assert done.returncode == 1 and "refusing to commit k.txt" in done.stderr, done.stderr


# ------------------------------------------------------------ prepare-commit-msg: the note in sh

def _python_note(repo: HookedRepo, args: list, env=None) -> list:
    code = "import sys; from hourly_hooks.hooks.entry import source_main; source_main(sys.argv[1:])"
    done = repo.run(PYTHON, "-c", code, *args, env=env)
    assert done.returncode == 0, done.stderr
    return _take_note(repo, args[0])


def _take_note(repo: HookedRepo, message_file: str) -> list:
    note = Path(repo.path, message_file).parent / entry.SOURCE_FILE
    lines = note.read_text().split("\n")
    note.unlink()
    return lines


def _same_note(repo: Probed, args: list, env=None) -> list:
    assert repo.hook("prepare-commit-msg", *args, env=env).returncode == 0
    assert repo.starts() == 0
    shell = _take_note(repo, args[0])
    python = _python_note(repo, args, env)
    assert shell[:3] == python[:3] and shell[4:] == python[4:] == [""]
    assert abs(int(shell[3]) - int(python[3])) <= 2
    return shell


def test_the_note_is_the_one_hourly_clock_source_writes(probed):
    message = ".git/COMMIT_EDITMSG"
    head = probed.head()
    assert _same_note(probed, [message, "commit", "HEAD"])[:3] == ["commit", "HEAD", head]
    assert _same_note(probed, [message, "message"])[:3] == ["message", "", head]
    assert _same_note(probed, [message], env={"PRE_COMMIT_COMMIT_MSG_SOURCE": "commit",
                                              "PRE_COMMIT_COMMIT_OBJECT_NAME": "HEAD"})[:2] == ["commit", "HEAD"]
    probed.git("pack-refs", "--all", "--prune")
    assert _same_note(probed, [message])[2] == head  # the branch in packed-refs only
    probed.git("checkout", "-q", "--detach")
    assert _same_note(probed, [message])[2] == head
    probed.git("checkout", "-q", "--orphan", "fresh")
    assert _same_note(probed, [message])[2] == ""  # an unborn branch: the files do not say


def test_the_note_in_a_linked_worktree(probed, tmp_path):
    probed.git("worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    side = probed.git_dir() / "worktrees" / "side"
    note = _same_note(probed, [str(side / "COMMIT_EDITMSG"), "commit", "HEAD"])
    assert note[2] == probed.head()


def test_the_note_is_private_whatever_the_umask(probed):
    hook = probed.git_dir() / "hooks" / "prepare-commit-msg"
    done = probed.run("sh", "-c", 'umask 000 && exec "$0" "$@"', str(hook), ".git/COMMIT_EDITMSG", "message")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((probed.git_dir() / entry.SOURCE_FILE).stat().st_mode) == 0o600



def test_the_key_check_reads_the_configuration_only_where_a_secret_may_be_set(probed, isolated):
    code = ("import sys; from hourly_hooks.hooks.keycheck import KeyRules; rules = KeyRules.configured(); "
            "print('hourly_hooks.config' in sys.modules, sorted(rules.pem_names), len(rules.secrets))")
    home = {"HOME": str(isolated), "XDG_CONFIG_HOME": str(isolated / ".config")}
    assert probed.run(PYTHON, "-c", code, env=home).stdout.split() == ["False", "['btcpayserver.pem']", "0"]
    (probed.path / ".hourly.toml").write_text('tz = "UTC"\n')
    assert probed.run(PYTHON, "-c", code, env=home).stdout.split()[0] == "False"
    local = probed.git_dir() / "hourly" / "config.toml"
    local.parent.mkdir(parents=True)
    local.write_text(f'[btcpay]\npem = "deploy.pem"\napi_key = "{API_KEY}"\n')
    assert probed.run(PYTHON, "-c", code, env=home).stdout.split() == ["True", "['btcpayserver.pem',", "'deploy.pem']", "1"]


@pytest.mark.parametrize("name", ["dir with space/-k [x].txt", "cl\u00e9 \u00fcber.txt", "*.txt", ":(glob)a.txt",
                                  "tab\there.txt", "quote\"d.txt"])
def test_unusual_names_are_grepped_as_named(probed, name):
    """git's pathspec magic, globs, spaces, a leading dash, names git quotes: a key is still found."""
    assert probed.precommit_starts(name, body(EC_PEM).encode())
    if "\t" not in name and '"' not in name:  # names git quotes start Python whatever they hold
        assert not probed.precommit_starts(name, b"harmless\n")
