"""Modes of the files and folders hourly writes for itself, whatever the umask.

Under `<git common dir>/hourly/` live the invoice ledger, this clone's BTCPay
settings (a merchant token) and the marker store: hourly's own, and some
secret, so folders are made 0700 and files 0600 explicitly. The umask only
ever narrows a mode: under umask 000 a plain `open()` or
`mkdir()` would make them writable by everyone, which would let another user
of the machine rewrite what was billed or plant a host.

Standard library `os` only: the commit-msg hook imports this (through the store).
"""

from __future__ import annotations

import errno
import os
import stat

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(directory) -> None:
    """Create `directory` and its missing parents 0700, whatever the umask.

    `directory` itself is narrowed to 0700 when it exists already (another
    tool, or an earlier version, may have made it with the umask's mode).
    """
    directory = os.fspath(directory)
    missing = []
    parent = directory
    while parent and not os.path.exists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(path, DIR_MODE)  # a umask such as 0o277 would leave it unusable
    mode = os.stat(directory).st_mode
    if not stat.S_ISDIR(mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory)
    if os.name == "posix" and mode & 0o077:
        os.chmod(directory, DIR_MODE)


def open_private(path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """os.open(path, flags) for a file only its owner may read or write (0600, whatever the umask)."""
    fd = os.open(path, flags, FILE_MODE)
    try:
        if os.name == "posix" and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, FILE_MODE)  # made earlier with the umask's mode
    except OSError:
        os.close(fd)
        raise
    return fd


def narrow(path) -> None:
    """Make a file that another library created (SQLite) 0600, when it is not."""
    try:
        if os.name == "posix" and os.stat(path).st_mode & 0o077:
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass
