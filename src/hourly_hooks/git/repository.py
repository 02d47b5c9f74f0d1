"""The repository hourly works in: one probe shared by the hook, `status`, `report` and `invoice`.

``Repository(path)`` asks git once (``rev-parse`` and ``config`` side by side)
for everything the commands need: the work tree's top, the common git dir
(shared by worktrees; the marker store lives there), whether the clone is
shallow, HEAD and its parents, the comment character and the mailmap
settings. The commit-msg hook's ``Repository.started()`` reads the layout
(top, common dir, shallowness, HEAD) from the files where they leave no
doubt, and asks git for the config only, while it imports the rest. On the
hook's path: standard library only, no pathlib (``top`` and ``git_dir``
build Path objects only when asked).
"""

from __future__ import annotations

import os

from hourly_hooks.errors import GitError
from hourly_hooks.git.run import finish, git_text, run_git, start_git


_CONFIG = r"^(core\.(commentchar|worktree|bare)|mailmap\.(file|blob)|extensions\.refstorage)$"
_LAYOUT_KEYS = ("core.worktree", "core.bare", "extensions.refstorage")  # asked only to trust the files
_FALSE = ("false", "no", "off", "0")  # (a bare `bare` line in a config file means true)


class Repository:
    """What git says about one repository, asked once."""

    def __init__(self, path=None, _wait=True):
        self.cwd = None if path is None else str(path)
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise GitError(f"{self.cwd}: no such directory")
        self._digest = self._parents = self._all_tips = self._rewritten = None
        # The two questions are independent: ask them side by side.
        self._config_job = start_git(["config", "-z", "--get-regexp", _CONFIG], self.cwd)
        self._probe_job = None
        self._layout = None if _wait else layout_from_files(self.cwd or os.getcwd())
        if self._layout is not None:  # known before git answers (ready() may still ask git instead)
            self.top_dir, self.common_dir, self.shallow, self.head = self._layout
        else:
            self._probe_job = self._start_probe()
        if _wait:
            self.ready()

    @classmethod
    def started(cls, path=None) -> "Repository":
        """A probe on its way: git config runs while the caller imports; call ready() before use.

        The layout (top, common dir, shallowness, HEAD) comes from the files
        git reads, where they answer beyond doubt (see layout_from_files),
        instead of from a ``git rev-parse``: the commit-msg hook's way.
        """
        return cls(path, _wait=False)

    def _start_probe(self):
        # HEAD and its parents come in the same call: when the store was last
        # brought up to date at HEAD's parent, no ancestry question is needed.
        return start_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                          "--is-shallow-repository", "HEAD", "HEAD^@", "--"], self.cwd)

    def ready(self) -> "Repository":
        """Wait for the probe's answers (once); self."""
        job, self._config_job = self._config_job, None
        if job is None:
            return self
        self._config = _read_config(finish(job)[1])
        layout = {key: self._config.pop(key) for key in _LAYOUT_KEYS if key in self._config}
        if self._layout is not None and (layout.get("core.worktree") is not None
                                         or layout.get("extensions.refstorage") is not None
                                         or layout.get("core.bare", "false").lower() not in _FALSE):
            self._layout = None  # git places the work tree or keeps the refs where the files do not say
            self._probe_job = self._start_probe()
        if self._layout is not None:
            return self
        code, out, _ = finish(self._probe_job)
        self._probe_job = None
        if code:  # no commit yet (or not a work tree): ask again without HEAD
            code, out, _ = run_git(["rev-parse", "--show-toplevel", "--git-common-dir",
                                    "--is-shallow-repository"], self.cwd)
            code = code or 1
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3:
            from hourly_hooks.git.worktree import require_work_tree
            require_work_tree(self.cwd)  # a bare repository is named as one
            where = os.path.abspath(self.cwd or os.getcwd())
            raise GitError(f"{where} is not inside a git repository",
                           hint="Run hourly inside your project, or point at it with --repo PATH.")
        self.top_dir = lines[0]
        self.common_dir = os.path.normpath(os.path.join(self.cwd or os.getcwd(), lines[1]))  # joined: if relative
        self.shallow = lines[2] == "true"
        revs = [line for line in lines[3:] if line != "--"] if code == 0 else []
        self.head = revs[0] if revs else None  # None: no commit yet
        self._parents = revs[1:]
        return self

    @property
    def known(self) -> bool:
        """Whether top_dir, common_dir, shallow and head are known already (read from the files)."""
        return self._layout is not None

    @property
    def head_parents(self) -> list:
        """HEAD's parents (asked of git only when the layout came from the files)."""
        if self._parents is None:
            self._parents = [] if self.head is None else \
                git_text(["rev-parse", f"{self.head}^@", "--"], self.cwd).split()[:-1]
        return self._parents

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

    # Set when another repository of a report has the same folder name (commands/options.py).
    label: str | None = None  # (annotations are never evaluated: no typing import on the hook's path)

    @property
    def name(self) -> str:
        """What a report calls it: its folder's name, or its label."""
        return self.label or os.path.basename(self.top_dir)

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
        """Grafts or replace refs change which commits a tip reaches (asked once, like tips)."""
        if self._rewritten is None:
            common = self.common_dir
            replace = os.path.join(common, "refs", "replace")
            self._rewritten = (os.path.exists(os.path.join(common, "info", "grafts"))
                               or (os.path.isdir(replace) and any(os.scandir(replace)))
                               or b" refs/replace/" in _read_or_empty(os.path.join(common, "packed-refs")))
        return self._rewritten

    def parents(self, sha: str) -> list:
        return list(self.head_parents) if sha == self.head else \
            git_text(["rev-parse", f"{sha}^@", "--"], self.cwd).split()[:-1]

    def tips(self, all_refs: bool) -> list:
        """The commits a walk starts from: HEAD, or every ref and HEAD (as ``git log --all``).

        Asked once, as HEAD is: whatever reads the history for one command
        reads it from the same tips.
        """
        if not all_refs:
            return [self.head] if self.head else []
        if self._all_tips is None:
            self._all_tips = sorted(set(git_text(["rev-list", "--no-walk", "--all"], self.top_dir).split()))
        return list(self._all_tips)


def layout_from_files(cwd: str):
    """(top, common dir, shallow, HEAD) of the work tree whose top is cwd, read as git
    reads them, or None wherever git might answer otherwise (then git is asked).

    git runs hooks at the top of the work tree, so there ``.git`` (a directory,
    or a file naming one: a linked worktree) is in cwd, or git exported
    GIT_DIR (it does in a linked worktree) and cwd is the top. Not trusted:
    GIT_WORK_TREE, GIT_COMMON_DIR, GIT_NAMESPACE or GIT_IMPLICIT_WORK_TREE
    set, a git dir or work tree owned by someone else (git's
    safe.directory check), a HEAD that is
    not a branch under refs/heads or a commit, an unborn branch, a symbolic
    ref, a reftable. core.worktree, core.bare and extensions.refStorage come
    with the config the probe reads anyway (Repository.ready checks them).
    """
    env = os.environ
    if any(env.get(name) for name in ("GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_NAMESPACE",
                                      "GIT_IMPLICIT_WORK_TREE")):
        return None
    try:
        top = os.path.realpath(cwd)  # as git shows the top: symbolic links resolved
        git_dir = os.path.normpath(os.path.join(top, env["GIT_DIR"])) if env.get("GIT_DIR") else git_dir_of(top)
        if git_dir is None:
            return None
        common_dir = common_dir_of(git_dir)
        uid = os.geteuid() if hasattr(os, "geteuid") else None
        for where in (top, git_dir, common_dir):
            if uid is None or os.stat(where).st_uid != uid:
                return None
        if not all(os.path.isdir(os.path.join(common_dir, name)) for name in ("objects", "refs")) \
                or os.path.exists(os.path.join(common_dir, "reftable")):
            return None  # not a repository git would take, or refs kept where no file shows them
        head = read_head(git_dir, common_dir)
        if head is None:
            return None
        shallow = os.path.exists(os.path.join(common_dir, "shallow"))  # git: the file's presence
    except (OSError, ValueError):
        return None
    return top, common_dir, shallow, head


def git_dir_of(top: str):
    """The git dir of the work tree at top, read as git reads its ``.git``: a directory, or a
    file naming one (a linked worktree, a submodule); None if it is neither."""
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return os.path.normpath(dot_git)
    try:
        with open(dot_git, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    if not text.startswith("gitdir: ") or text.count("\n") > 1:
        return None
    return os.path.normpath(os.path.join(top, text[len("gitdir: "):].rstrip("\r\n")))


def common_dir_of(git_dir: str) -> str:
    """The common git dir of git_dir (where refs, objects and hourly's files live): the one its
    ``commondir`` file names in a linked worktree, else git_dir itself. The one place hourly
    finds it without git (Repository asks git: ``rev-parse --git-common-dir``). OSError if
    ``commondir`` is there but cannot be read (git would fail too)."""
    try:
        with open(os.path.join(git_dir, "commondir"), "rb") as handle:
            common = handle.read().decode("utf-8", "surrogateescape").rstrip("\r\n")
    except FileNotFoundError:
        return os.path.normpath(git_dir)
    return os.path.normpath(os.path.join(git_dir, common))


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def read_head(git_dir: str, common_dir: str):
    """The commit HEAD names, from HEAD, the loose ref and packed-refs; None if unsure."""
    with open(os.path.join(git_dir, "HEAD"), "rb") as handle:
        head = handle.read().decode("ascii").rstrip("\n")
    if _is_sha(head):
        return head  # detached
    if not head.startswith("ref: refs/heads/"):
        return None
    ref = head[len("ref: "):]
    parts = ref.split("/")
    if any(not part or part.startswith(".") or part.endswith(".lock") for part in parts) or "\\" in ref:
        return None  # not a name git would store as a plain file (refs/heads/.invalid: a reftable)
    try:
        with open(os.path.join(common_dir, *parts), "rb") as handle:
            value = handle.read().decode("ascii").rstrip("\n")
        return value if _is_sha(value) else None  # a symbolic ref: let git follow it
    except FileNotFoundError:
        pass
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as handle:
            packed = handle.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None  # an unborn branch (no commit yet): git says so best
    for line in packed.split("\n"):
        sha, _, name = line.partition(" ")
        if name == ref and _is_sha(sha):
            return sha
    return None


def _read_config(out: bytes) -> dict:
    """core.commentChar and the mailmap settings (git config -z output)."""
    items = (item.partition("\n") for item in out.decode("utf-8", "surrogateescape").split("\0"))
    return {name.lower(): value for name, _, value in items if name}


def _read_or_empty(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def open_repository(path=".") -> Repository:
    """The repository containing path; GitError if there is none."""
    return Repository(path)


def repository_top(path="."):
    """The top level (a Path) of the repository containing path, or None outside one."""
    try:
        return Repository(path).top
    except GitError:
        return None


def author_ident(cwd=None) -> tuple:
    """(name, email, epoch, tz minutes) as git would stamp a commit now: ``git var GIT_AUTHOR_IDENT``
    (the environment, then config, then the clock)."""
    from hourly_hooks.core.clockrules import parse_tz
    ident = git_text(["var", "GIT_AUTHOR_IDENT"], cwd).strip()
    head, _, rest = ident.rpartition("<")
    email, _, date = rest.partition(">")
    stamp, tz = date.split()
    return head.strip(), email, int(stamp), parse_tz(tz)


def start_roots(repo: Repository, known_tip=None):
    """Start asking git for the root commits HEAD descends from; ``roots`` reads the answer.

    The walk reads every commit (0.15 s at 200k, 0.8 s at 1M), so the report
    starts it first and reads it last: it runs beside the history's reading.
    known_tip: a commit HEAD descends from whose roots are known: only the
    commits since it are walked (their roots, if any, are the new ones).
    """
    if repo.head is None:
        return None  # no commit yet: no root
    since = ["^" + known_tip] if known_tip else []
    return start_git(["rev-list", "--max-parents=0", repo.head, *since, "--"], repo.top_dir)


def roots(started) -> list:
    """The root commits of a start_roots() question, oldest first as git lists them; [] on failure."""
    if started is None:
        return []
    code, out, _ = finish(started)
    return out.decode("ascii", "replace").split() if code == 0 else []


def descends_from(repo: Repository, ancestor: str) -> bool:
    """True when HEAD descends from ancestor (or is it); False too when git cannot say."""
    return repo.head is not None and \
        run_git(["merge-base", "--is-ancestor", ancestor, repo.head], repo.top_dir)[0] == 0
