"""The marker store: every clock marker of a repository, kept in SQLite; SQLite only.

The store (``<git common dir>/hourly/markers.sqlite3``, WAL) keeps one row
per marker commit (records.COLUMNS: the mailmapped author, the author date
and its UTC offset, every ``markers.Marker`` field, the message), indexed by
author date and by identity, so warm reads parse no message. The author
(name, email) and the marker's fields (its *shape*: a few hundred distinct
ones in a large history) are kept once each, in tables of their own, and a
marker row holds their ids: a warm report then reads two small numbers per
marker where it read eight columns (SQLite makes a Python object of each). For each *scope* (HEAD of one work tree, or ``--all``; with the
``--author`` patterns) it keeps the tips it was last brought up to date at,
and the set of marker commits reachable from them (its members). It also
remembers the ancestry answers of same-second ties (records.tie_pairs).

What goes in comes from git/log.py; history.py brings a scope up to date
and asks the questions. This module only reads and writes the file, through
one Store per question, opened by ``connect()``.

Bypassed (every answer read from git as if there were no store) with
HOURLY_NO_CACHE=1, in shallow clones, with grafts or replace refs (they
change what a tip reaches), and where the store cannot be opened or written
(a read-only git dir). A file that SQLite finds damaged is deleted and
rebuilt. The file records the store format, ``markers.GREP`` and the mailmap
digest; if any differs, the store starts empty.
"""

from __future__ import annotations

import os
from operator import itemgetter

from hourly_hooks.core import markers
from hourly_hooks.private import make_private_dirs, narrow, open_private

FORMAT_VERSION = "4"
FILE = ("hourly", "markers.sqlite3")
# What a marker row holds: a row (records.COLUMNS) with its author and shape as ids.
_STORED = "sha, author, ident, epoch, tz, shape, body"
_SHAPE = "kind, off, note, form, problem, line"  # a Marker's fields (records.COLUMNS)
_READ = "sha, author, epoch, tz, shape"  # what a report reads of a marker row (the message later, if asked)


def enabled() -> bool:
    return not os.environ.get("HOURLY_NO_CACHE")


def store_path(repo) -> str:
    return os.path.join(repo.common_dir, *FILE)


class Unavailable(Exception):
    """The store cannot be used here, or failed meanwhile; answer from git directly."""


def transient(error) -> bool:
    """A store error that says nothing about the file's health (it is left alone)."""
    text = str(error).lower()
    return any(word in text for word in ("locked", "busy", "readonly", "read-only", "unable to open",
                                         "disk i/o", "full", "permission"))


def connect(repo, prefetched=None) -> "_Connection":
    """The repository's Store for one question (``with connect(repo) as store:``), closed after it;
    None where it must not or cannot be used.

    An error of the file inside (locked too long, damaged, a row no reader
    wrote) closes it, deletes it if damaged (the next run rebuilds it), and is
    raised as Unavailable: the caller answers from git instead.
    prefetched: a history.Prefetch whose connection to the file is taken over if it is this one.
    """
    return _Connection(_open(repo, prefetched))


class _Connection:
    """connect()'s context manager: a class, not contextlib's (the commit-msg hook would import it and
    collections, functools and more, a few ms on every marker commit)."""

    def __init__(self, opened):
        self.opened = opened

    def __enter__(self):
        return self.opened

    def __exit__(self, kind, error, traceback) -> None:
        opened = self.opened
        if opened is None:
            return
        try:
            if isinstance(error, opened.sqlite3.DatabaseError):
                if not transient(error):
                    opened.discard()  # damaged under our feet (a transient error leaves the file alone)
                raise Unavailable(str(error)) from None
            if isinstance(error, ValueError):
                opened.discard()  # a row no reader wrote: damaged
                raise Unavailable(str(error)) from None
        finally:
            opened.close()


def _open(repo, prefetched):
    if not enabled() or repo.shallow or repo.rewritten():
        return None
    # What decides the rows git gives for given tips besides the commits themselves
    # (a store made under another key starts empty).
    key = "\0".join([FORMAT_VERSION, repr(markers.GREP), repo.mailmap_digest()])
    try:
        path = store_path(repo)
        return Store(path, key, prefetched.adopt(path) if prefetched is not None else None)
    except Unavailable:
        return None


def open_file(sqlite3, path: str):
    """A connection to the store file at path, made private (0600) if new."""
    if not os.path.exists(path):
        # Made 0600 here, not by SQLite with the umask's mode: SQLite gives its -wal
        # and -shm files the mode of the database file.
        os.close(open_private(path, os.O_WRONLY | os.O_CREAT))
    else:
        for suffix in ("", "-wal", "-shm"):  # made by an earlier version with the umask's mode
            narrow(path + suffix)
    return sqlite3.connect(path, timeout=10, isolation_level=None)


def scope_tips(path: str, name: str):
    """(an open connection, the stored tips text) of scope `name` in the file at path, or None.

    For the hook's prefetch (history.Prefetch), before the repository probe:
    any failure (no sqlite3, no file, an old format, locked) answers None.
    """
    if not os.path.isfile(path):
        return None
    try:
        import sqlite3
        db = open_file(sqlite3, path)
    except Exception:
        return None
    try:
        row = db.execute("SELECT tips FROM scopes WHERE name = ?", (name,)).fetchone()
    except Exception:
        row = None
    if row is None or not row[0]:
        db.close()
        return None
    return db, row[0]


def stored_messages(path: str, shas: set) -> dict:
    """sha -> message of those of shas the store file holds ({} if it cannot be read)."""
    """sha -> message of those of shas the store file holds ({} if it cannot be read)."""
    try:
        import sqlite3

        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except Exception:  # no sqlite3, or no file any more
        return {}
    try:
        if len(shas) > 1000:  # most of the table: one walk beats a lookup per SHA
            return {sha: body for sha, body in db.execute("SELECT sha, body FROM markers") if sha in shas}
        found: dict = {}
        wanted = list(shas)
        for start in range(0, len(wanted), 500):
            batch = wanted[start:start + 500]
            found.update(db.execute(f"SELECT sha, body FROM markers WHERE sha IN ({', '.join('?' * len(batch))})",
                                    batch))
        return found
    except sqlite3.Error:  # damaged or rebuilt meanwhile: git answers
        return {}
    finally:
        db.close()


class Store:
    """One repository's SQLite marker store (see the module docstring)."""

    def __init__(self, path: str, key: str, db=None):
        self.path, self.key = path, key
        self._ids: tuple | None = None  # ({(name, email): id}, {shape: id}) while writing, see _encoded
        try:
            import sqlite3
        except ImportError:  # pragma: no cover - Python built without sqlite3
            raise Unavailable("no sqlite3") from None
        self.sqlite3 = sqlite3
        try:
            make_private_dirs(os.path.dirname(path))
            self._open(db)
        except sqlite3.DatabaseError as error:
            if transient(error):
                raise Unavailable(str(error)) from None  # locked, read-only: not damaged, leave it
            self.discard()  # damaged: behave as if there were none
            try:
                self._open()
            except (sqlite3.Error, OSError) as error:
                raise Unavailable(str(error)) from None
        except (sqlite3.Error, OSError) as error:
            raise Unavailable(str(error)) from None

    def _open(self, db=None) -> None:
        if db is None:
            db = open_file(self.sqlite3, self.path)
        self.db = db
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL itself is set once, when the file is made
            meta = {}
            try:
                meta = dict(db.execute("SELECT k, v FROM meta"))
            except self.sqlite3.OperationalError as error:
                if "no such table" not in str(error):
                    raise
            if meta.get("key") != self.key:
                self._create()
        except BaseException:
            db.close()
            raise

    def _create(self) -> None:
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer (the hook during a report)
        db.execute("BEGIN IMMEDIATE")
        for table in ("meta", "markers", "authors", "shapes", "scopes", "members", "ancestry"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
        # A rowid table: rows (with their messages) are appended as read, and
        # only the small indexes take random inserts.
        db.execute("CREATE TABLE markers (sha TEXT NOT NULL, author INTEGER, ident TEXT, epoch INTEGER, "
                   "tz INTEGER, shape INTEGER, body TEXT)")
        db.execute("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        db.execute("CREATE TABLE shapes (id INTEGER PRIMARY KEY, kind TEXT CHECK (kind IN ('in', 'out')), "
                   "off INTEGER, note TEXT, form TEXT, problem TEXT, line INTEGER)")
        db.execute("CREATE TABLE scopes (id INTEGER PRIMARY KEY, name TEXT UNIQUE, authors TEXT, tips TEXT)")
        db.execute("CREATE TABLE members (scope INTEGER, sha TEXT)")
        self._indexes()
        db.execute("CREATE TABLE ancestry (a TEXT, b TEXT, yes INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID")
        db.execute("INSERT INTO meta VALUES ('key', ?)", (self.key,))
        db.execute("COMMIT")

    INDEXES = ("CREATE UNIQUE INDEX IF NOT EXISTS markers_sha ON markers (sha)",
               "CREATE INDEX IF NOT EXISTS markers_epoch ON markers (epoch)",
               "CREATE INDEX IF NOT EXISTS markers_ident ON markers (ident, epoch)",
               "CREATE UNIQUE INDEX IF NOT EXISTS members_key ON members (scope, sha)")

    def _indexes(self) -> None:
        for statement in self.INDEXES:
            self.db.execute(statement)

    def discard(self) -> None:
        try:
            self.db.close()
        except Exception:
            pass
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except OSError:
                pass

    def close(self) -> None:
        try:
            self.db.close()
        except Exception:
            pass

    # ------------------------------------------------------------ transactions
    def fact(self, name: str):
        """A small fact kept beside the markers (meta), or None."""
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", ("fact:" + name,)).fetchone()
        return row[0] if row else None

    def keep_fact(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", ("fact:" + name, value))

    def begin(self) -> None:
        """Open a read transaction (WAL: a snapshot, kept until end() or close())."""
        self.db.execute("BEGIN")

    def end(self) -> None:
        self.db.execute("COMMIT")

    def writing(self) -> "_Writing":
        """The write lock, held for a ``with`` block: committed at its end, rolled back if it fails."""
        return _Writing(self)

    # ------------------------------------------------------------ scopes
    def scope(self, name: str):
        """(id, tips text or None) of scope `name`, or None if there is none."""
        return self.db.execute("SELECT id, tips FROM scopes WHERE name = ?", (name,)).fetchone()

    def tips_of(self, scope: int):
        row = self.db.execute("SELECT tips FROM scopes WHERE id = ?", (scope,)).fetchone()
        return None if row is None else row[0]

    def add_scope(self, name: str, authors_text: str) -> tuple:
        """(the id of a new scope without tips, the latest other scope (id, tips) of the same authors or None)."""
        db = self.db
        scope = int(db.execute("INSERT INTO scopes (name, authors, tips) VALUES (?, ?, NULL)",
                               (name, authors_text)).lastrowid or 0)
        base = db.execute("SELECT id, tips FROM scopes WHERE authors = ? AND id != ? AND tips IS NOT NULL "
                          "ORDER BY id DESC LIMIT 1", (authors_text, scope)).fetchone()
        return scope, base

    def set_tips(self, scope: int, tips_text: str) -> None:
        self.db.execute("UPDATE scopes SET tips = ? WHERE id = ?", (tips_text, scope))

    def copy_members(self, scope: int, base: int) -> None:
        """Make scope's members those of base."""
        self.db.execute("DELETE FROM members WHERE scope = ?", (scope,))
        self.db.execute("INSERT INTO members SELECT ?, sha FROM members WHERE scope = ?", (scope, base))

    def remove(self, scope: int, rows) -> None:
        """Take rows out of the scope (they stay in the table: another scope may hold them)."""
        self.db.executemany("DELETE FROM members WHERE scope = ? AND sha = ?", [(scope, r[0]) for r in rows])

    def insert(self, scope: int, rows) -> None:
        """Rows into the table (once each) and into the scope."""
        if not rows:
            return
        db = self.db
        db.executemany(f"INSERT OR IGNORE INTO markers ({_STORED}) VALUES (?, ?, ?, ?, ?, ?, ?)", self._encoded(rows))
        db.executemany("INSERT OR IGNORE INTO members VALUES (?, ?)", [(scope, r[0]) for r in rows])

    def _encoded(self, rows) -> list:
        """Rows as the markers table holds them: author and shape as ids, new ones added (under the write lock)."""
        if self._ids is None:
            self._ids = ({tuple(author): id_ for id_, *author in self.db.execute("SELECT id, name, email FROM authors")},
                         {tuple(shape): id_ for id_, *shape in self.db.execute(f"SELECT id, {_SHAPE} FROM shapes")})
        authors, shapes = self._ids
        encoded = []
        for row in rows:
            author, shape = authors.get(row[1:3]), shapes.get(row[5:11])
            if author is None:
                author = authors[row[1:3]] = self.db.execute("INSERT INTO authors (name, email) VALUES (?, ?)",
                                                             row[1:3]).lastrowid
            if shape is None:
                shape = shapes[row[5:11]] = self.db.execute(f"INSERT INTO shapes ({_SHAPE}) VALUES (?, ?, ?, ?, ?, ?)",
                                                            row[5:11]).lastrowid
            encoded.append((row[0], author, row[2].lower(), row[3], row[4], shape, row[11]))
        return encoded

    def _decoder(self):
        """A function that makes rows (records.COLUMNS, with or without the message) of stored ones."""
        authors = {id_: tuple(author) for id_, *author in self.db.execute("SELECT id, name, email FROM authors")}
        shapes = {id_: tuple(shape) for id_, *shape in self.db.execute(f"SELECT id, {_SHAPE} FROM shapes")}

        def decoded(stored, body: bool = False) -> list:
            try:
                if body:
                    return [(sha, *authors[author], epoch, tz, *shapes[shape], text)
                            for sha, author, epoch, tz, shape, text in stored]
                return [(sha, *authors[author], epoch, tz, *shapes[shape]) for sha, author, epoch, tz, shape in stored]
            except KeyError:
                raise ValueError("a marker row names an author or shape the store does not hold") from None
        return decoded

    # ------------------------------------------------------------ a full read
    def empty_scope(self, scope: int) -> bool:
        """Empty the scope for a full read; whether the whole table is empty (then see append)."""
        db = self.db
        db.execute("DELETE FROM members WHERE scope = ?", (scope,))
        db.execute("PRAGMA cache_size = -16384")  # 16 MiB: the indexes of a large fill stay in memory
        empty = db.execute("SELECT 1 FROM markers LIMIT 1").fetchone() is None
        if empty:
            # Into an empty store (a first read), rows go in without indexes, which
            # are then built once, sorted (filled()): much cheaper than 100k random inserts.
            for index in ("markers_sha", "markers_epoch", "markers_ident", "members_key"):
                db.execute(f"DROP INDEX IF EXISTS {index}")
        return empty

    def append(self, rows) -> None:
        """Rows into an empty store's table, without a check (one git log lists each commit once)."""
        if rows:
            self.db.executemany(f"INSERT INTO markers ({_STORED}) VALUES (?, ?, ?, ?, ?, ?, ?)", self._encoded(rows))

    def filled(self, scope: int, read_back: bool):
        """After append(): every row is the scope's member; the indexes built. The rows (in
        table order) if read_back, else None."""
        db = self.db
        db.execute("INSERT INTO members SELECT ?, sha FROM markers", (scope,))
        self._indexes()
        if not read_back:
            return None
        return self._decoder()(db.execute(f"SELECT {_READ}, body FROM markers"), body=True)

    # ------------------------------------------------------------ answers
    def rows(self, scope: int, since=None, identity=None, before=None) -> list:
        """The scope's rows from epoch `since` on (all if None) and before epoch `before` (to the last
        if None), of one identity or all, by author date.

        Without the message (the last of records.COLUMNS): see history.Messages.
        """
        db = self.db
        decoded = self._decoder()
        if since is None and identity is None and before is None:
            total = db.execute("SELECT count(*) FROM markers").fetchone()[0]
            size = db.execute("SELECT count(*) FROM members WHERE scope = ?", (scope,)).fetchone()[0]
            # Most of the table: one walk of it and a sort in memory cost far less
            # than a lookup in the scope per row.
            if size == total:
                # A scope's members are always rows of markers (both are written
                # together, and no marker row is ever deleted alone): as many
                # members as rows are every row.
                rows = decoded(db.execute(f"SELECT {_READ} FROM markers"))
            elif 2 * size >= total:
                members = {sha for (sha,) in db.execute("SELECT sha FROM members WHERE scope = ?", (scope,))}
                rows = decoded([row for row in db.execute(f"SELECT {_READ} FROM markers") if row[0] in members])
            else:
                rows = None
            if rows is not None:
                rows.sort(key=itemgetter(3))
                return rows
        where, args = ["s.scope = ?"], [scope]
        if since is not None:
            where.append("m.epoch >= ?")
            args.append(since)
        if before is not None:
            where.append("m.epoch < ?")
            args.append(before)
        if identity is not None:
            where.append("m.ident = ?")
            args.append(identity)
        # CROSS JOIN: walk the author-date index and look each row up in the scope,
        # rather than sort the whole scope for a month.
        return decoded(db.execute(f"SELECT {', '.join('m.' + c.strip() for c in _READ.split(','))} "
                                  f"FROM markers m CROSS JOIN members s ON s.sha = m.sha WHERE {' AND '.join(where)} "
                                  "ORDER BY m.epoch", args))

    def lowest_effective(self, since: int):
        """The lowest effective time (author date less the marker's offset) of the markers from
        epoch `since` on, in any scope (None if there are none): see sessions.cut_after."""
        return self.db.execute("SELECT min(m.epoch - s.off) FROM markers m JOIN shapes s ON s.id = m.shape "
                               "WHERE m.epoch >= ?", (since,)).fetchone()[0]

    def last_second(self, scope: int, until: int):
        """The scope's latest author second at or before `until` (an epoch), or None."""
        row = self.db.execute("SELECT m.epoch FROM markers m CROSS JOIN members s ON s.sha = m.sha "
                              "WHERE s.scope = ? AND m.epoch <= ? ORDER BY m.epoch DESC LIMIT 1",
                              (scope, until)).fetchone()
        return row[0] if row else None

    def latest(self, scope: int, identity: str) -> list:
        """The identity's rows at its latest author second in the scope (usually one)."""
        columns = ", ".join("m." + c.strip() for c in (_READ + ", body").split(","))
        top = self.db.execute("SELECT m.epoch FROM markers m JOIN members s ON s.sha = m.sha AND s.scope = ? "
                              "WHERE m.ident = ? ORDER BY m.epoch DESC LIMIT 1", (scope, identity)).fetchone()
        if top is None:
            return []
        return self._decoder()(self.db.execute(f"SELECT {columns} FROM markers m JOIN members s ON s.sha = m.sha "
                                               "AND s.scope = ? WHERE m.ident = ? AND m.epoch = ?",
                                               (scope, identity, top[0])), body=True)

    def ancestry(self, pairs) -> tuple:
        """({(a, b): whether a is an ancestor of b} remembered for tie pairs, the pairs not remembered)."""
        known: dict = {}
        missing = []
        for a, b in pairs:
            found = self.db.execute("SELECT a, b, yes FROM ancestry WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)",
                                    (a, b, b, a)).fetchall()
            if len(found) == 2:
                known.update(((x, y), bool(yes)) for x, y, yes in found)
            else:
                missing.append((a, b))
        return known, missing

    def remember(self, answers: dict) -> None:
        """Ancestry answers (as ancestry() gives them), kept if the file can be written."""
        try:
            self.db.executemany("INSERT OR REPLACE INTO ancestry VALUES (?, ?, ?)",
                                [(a, b, int(yes)) for (a, b), yes in answers.items()])
        except self.sqlite3.Error:
            pass  # remembered next time, or not: the answer is the same


class _Writing:
    """Store.writing()'s context manager (a class: see _Connection)."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> None:
        self.store.db.execute("BEGIN IMMEDIATE")
        self.store._ids = None  # read again under the lock: another writer may have added some

    def __exit__(self, kind, error, traceback) -> None:
        store = self.store
        if kind is None:
            store.db.execute("COMMIT")
            return
        try:
            store.db.execute("ROLLBACK")
        except store.sqlite3.Error:
            pass
