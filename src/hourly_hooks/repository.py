"""The repository hourly works in: one probe shared by the hook, `status`, `report` and `invoice`.

``Repository(path)`` asks git once (``rev-parse`` and ``config`` side by side)
for everything the commands need: the work tree's top, the common git dir
(shared by worktrees; the marker store lives there), whether the clone is
shallow, HEAD and its parents, the comment character and the mailmap
settings. On the commit-msg hook's path: standard library only, no pathlib
(``top`` and ``git_dir`` build Path objects only when asked).
"""

from __future__ import annotations

import os

from hourly_hooks.errors import GitError
from hourly_hooks.gitcmd import finish, git_text, run_git, start_git


class Repository:
    """What git says about one repository, asked once."""

    def __init__(self, path=None):
        self.cwd = None if path is None else str(path)
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise GitError(f"{self.cwd}: no such directory")
        # The two questions are independent: ask them side by side.
        config = start_git(["config", "-z", "--get-regexp",
                            r"^(core\.commentchar|mailmap\.(file|blob))$"], self.cwd)
        # HEAD and its parents come in the same call: when the store was last
        # brought up to date at HEAD's parent, no ancestry question is needed.
        code, out, _ = run_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                                "--is-shallow-repository", "HEAD", "HEAD^@", "--"], self.cwd)
        if code:  # no commit yet (or not a work tree): ask again without HEAD
            code, out, _ = run_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                                    "--is-shallow-repository"], self.cwd)
            code = code or 1
        self._config = _read_config(finish(config)[1])
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3:
            from hourly_hooks.worktree import require_work_tree
            require_work_tree(self.cwd)  # a bare repository is named as one
            where = os.path.abspath(self.cwd or os.getcwd())
            raise GitError(f"{where} is not inside a git repository",
                           hint="Run hourly inside your project, or point at it with --repo PATH.")
        self.top_dir = lines[0]
        common = lines[1]
        self.common_dir = os.path.normpath(common if os.path.isabs(common)
                                           else os.path.join(self.cwd or os.getcwd(), common))
        self.shallow = lines[2] == "true"
        revs = [line for line in lines[3:] if line != "--"] if code == 0 else []
        self.head = revs[0] if revs else None  # None: no commit yet
        self.head_parents = revs[1:]
        self._digest = None

    # ------------------------------------------------------------ as paths
    @property
    def top(self):
        from pathlib import Path
        return Path(self.top_dir)

    @property
    def git_dir(self):
        """The common git dir (shared by worktrees)."""
        from pathlib import Path
        return Path(self.common_dir)

    @property
    def name(self) -> str:
        return os.path.basename(self.top_dir)

    def __repr__(self) -> str:
        return f"Repository({self.top_dir!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Repository) and (self.top_dir, self.common_dir) == (other.top_dir, other.common_dir)

    def __hash__(self) -> int:
        return hash((self.top_dir, self.common_dir))

    # ------------------------------------------------------------ settings
    def config(self) -> dict:
        return self._config

    def comment_char(self, text: str = "") -> str:
        value = self._config.get("core.commentchar", "#") or "#"
        if value == "auto":
            # git chose a character the message did not use; its template lines show which.
            for line in text.split("\n"):
                if line[:1] in "#;@!$%^&|:" and "Please enter the commit message" in line:
                    return line[0]
            return "#"
        return value[0]

    def mailmap_digest(self) -> str:
        """What %aN / %aE depend on besides the commits; "none" when nothing maps.

        The .mailmap file at the top, the mailmap.file file and the blob
        mailmap.blob names (as git resolves it now), with the settings.
        """
        if self._digest is not None:
            return self._digest
        config = self._config
        parts = []
        for path in (os.path.join(self.top_dir, ".mailmap"), config.get("mailmap.file")):
            if path:
                try:
                    with open(os.path.expanduser(path), "rb") as handle:
                        parts.append(handle.read())
                except OSError:
                    parts.append(b"-")
        if "mailmap.blob" in config:
            code, out, _ = run_git(["rev-parse", "-q", "--verify", config["mailmap.blob"] + "^{blob}"], self.cwd)
            parts.append(b"blob " + (out.strip() if code == 0 else b"-"))
        if all(part == b"-" for part in parts):
            self._digest = "none"
        else:
            import hashlib
            settings = "\0".join(f"{k}={v}" for k, v in sorted(config.items()) if k.startswith("mailmap."))
            self._digest = hashlib.sha1(settings.encode("utf-8", "surrogateescape") + b"\0"
                                        + b"\0".join(parts)).hexdigest()
        return self._digest

    def canonical_email(self, name: str, email: str) -> str:
        """The author's email after .mailmap, folded: the identity history uses."""
        if self.mailmap_digest() == "none":
            return email.lower()
        code, out, _ = run_git(["check-mailmap", f"{name} <{email}>"], self.cwd)
        text = out.decode("utf-8", "replace").strip()
        if code == 0 and text.endswith(">") and "<" in text:
            return text[text.rindex("<") + 1:-1].lower()
        return email.lower()

    def rewritten(self) -> bool:
        """Grafts or replace refs change which commits a tip reaches."""
        if os.path.exists(os.path.join(self.common_dir, "info", "grafts")):
            return True
        replace = os.path.join(self.common_dir, "refs", "replace")
        if os.path.isdir(replace) and any(os.scandir(replace)):
            return True
        try:
            with open(os.path.join(self.common_dir, "packed-refs"), "rb") as handle:
                return b" refs/replace/" in handle.read()
        except OSError:
            return False

    def parents(self, sha: str) -> list:
        if sha == self.head:
            return list(self.head_parents)
        return git_text(["rev-parse", f"{sha}^@", "--"], self.cwd).split()[:-1]

    def tips(self, all_refs: bool) -> list:
        """The commits a walk starts from: HEAD, or every ref and HEAD (as ``git log --all``)."""
        if not all_refs:
            return [self.head] if self.head else []
        return sorted(set(git_text(["rev-list", "--no-walk", "--all"], self.top_dir).split()))


def _read_config(out: bytes) -> dict:
    """core.commentChar and the mailmap settings (git config -z output)."""
    config = {}
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        name, _, value = item.partition("\n")
        if name:
            config[name.lower()] = value
    return config


def open_repository(path=".") -> Repository:
    """The repository containing path; GitError if there is none."""
    return Repository(path)


def author_ident(cwd=None) -> tuple:
    """(name, email, epoch, tz minutes) as git would stamp a commit now: ``git var GIT_AUTHOR_IDENT``
    (the environment, then config, then the clock)."""
    from hourly_hooks.clockrules import parse_tz
    ident = git_text(["var", "GIT_AUTHOR_IDENT"], cwd).strip()
    head, _, rest = ident.rpartition("<")
    email, _, date = rest.partition(">")
    stamp, tz = date.split()
    return head.strip(), email, int(stamp), parse_tz(tz)
