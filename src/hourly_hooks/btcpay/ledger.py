"""The invoice ledger: what this repository has billed, kept inside `.git/`.

`<git common dir>/hourly/invoices.jsonl`, one JSON event per line, append
only. It lives in the git directory so it is never committed, survives
checkouts and is shared by worktrees. It is a cache of the server, which is
the record (another clone has its own ledger): every event carries the time
ranges billed, per identity, so `hourly report` can mark billed sessions
without a network call.

Crash safety: a `pending` event (with the order id and the time) is written
and fsynced BEFORE the create request is sent, and `created` after the
answer. Until the server shows that order id (or the entry is settled as
failed), the time stays held: a lost answer can never lead to a second
invoice. No secret is ever written here.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from hourly_hooks.errors import OutputError
from hourly_hooks.private import make_private_dirs, open_private

try:  # POSIX; on Windows concurrent runs are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LEDGER = Path("hourly") / "invoices.jsonl"
# Statuses that release an invoice's time ("expired"/"invalid": ledgers of earlier versions).
VOID_STATUSES = ("void", "expired", "invalid")
LOCK = Path("hourly") / "invoice.lock"
# The status of an invoice the server said it does not have (its time is released).
RELEASED = "not on the server (released)"


@dataclass
class Order:
    """Everything the ledger knows about one order id (one piece of billed work)."""

    order_id: str
    state: str = "pending"            # pending | unclear | created | failed
    details: dict = field(default_factory=dict)   # amount, currency, hours, commits, ... of the last attempt
    invoices: Dict[str, dict] = field(default_factory=dict)  # invoice id -> {url, status, amount, ...}

    @property
    def clock_ins(self) -> List[str]:
        """Clock-in SHAs, which ledgers written before time ranges were recorded hold instead."""
        return list(self.details.get("clock_ins", []))

    @property
    def time(self) -> Dict[str, Tuple[Tuple[int, int], ...]]:
        return time_of(self.details.get("time"))

    @property
    def unsettled(self) -> bool:
        """A create whose outcome the server has not confirmed either way."""
        return self.state in ("pending", "unclear") and not self.invoices

    @property
    def pending_since(self) -> Optional[datetime]:
        """When the unanswered create was sent, while the order is pending without an invoice."""
        if self.state != "pending" or self.invoices:
            return None
        try:
            return datetime.fromisoformat(str(self.details.get("at")))
        except ValueError:
            return None


def time_of(value) -> Dict[str, Tuple[Tuple[int, int], ...]]:
    """Time ranges as the ledger stores them ({identity: [[start, end], ...]}, unix seconds)."""
    if not isinstance(value, dict):
        return {}
    result = {}
    for identity, ranges in value.items():
        try:
            result[str(identity)] = tuple(sorted((int(a), int(b)) for a, b in ranges))
        except (TypeError, ValueError):
            continue
    return result


def time_json(time) -> Dict[str, List[List[int]]]:
    return {identity: [[int(a), int(b)] for a, b in ranges] for identity, ranges in time.items()}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LedgerError(OutputError):
    """The ledger cannot be written. Raised before any request that needs the
    entry, so nothing is created on the server that the ledger would not know."""

    def __init__(self, path, error: OSError, doing: str = "write"):
        super().__init__(f"cannot {doing} the invoice ledger {path}: {error.strerror or error}",
                         hint=f"Make {Path(path).parent} writable (or free some disk space) and run again; "
                              "`hourly invoices` shows what the server already holds.")


class Ledger:
    def __init__(self, git_common_dir):
        self.git_dir = Path(git_common_dir)
        self.path = self.git_dir / LEDGER

    # -- writing -------------------------------------------------------------

    def append(self, event: dict) -> None:
        record = dict(event, at=_now())
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            make_private_dirs(self.path.parent)
            if _ends_mid_line(self.path):
                line = "\n" + line  # a crash cut the last line short: start a fresh one
            new = not self.path.exists()
            fd = open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                _write_all(fd, line.encode("utf-8"))
                os.fsync(fd)  # the pending entry must be on disk before the request goes out
            finally:
                os.close(fd)
            if new:
                _fsync_folder(self.path.parent)  # and the new file's name with it
        except OSError as error:  # a read-only git dir, a full disk, a file size limit
            raise LedgerError(self.path, error) from None

    def pending(self, order_id: str, **details) -> None:
        self.append({"event": "pending", "order_id": order_id, **details})

    def created(self, order_id: str, invoice, backend, *, reused: bool = False) -> None:
        """`reused`: found on the server rather than created by this run."""
        self.append({"event": "created", "order_id": order_id, "reused": reused,
                     **server_of(backend), **_invoice_fields(invoice)})

    def failed(self, order_id: str, reason: str) -> None:
        self.append({"event": "failed", "order_id": order_id, "reason": reason})

    def unclear(self, order_id: str, reason: str) -> None:
        """The server answered the create with an error: asking it by order id settles it."""
        self.append({"event": "unclear", "order_id": order_id, "reason": reason})

    def status(self, order_id: str, invoice, backend) -> None:
        self.append({"event": "status", "order_id": order_id, **server_of(backend), **_invoice_fields(invoice)})

    def released(self, order_id: str, invoice_id: str, backend) -> None:
        """The server says it has no such invoice (404): the time it held is released."""
        self.append({"event": "status", "order_id": order_id, "invoice_id": invoice_id, "status": "void",
                     "missing": True, **server_of(backend)})

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise look-up-then-create between concurrent runs in this repository."""
        try:
            make_private_dirs(self.path.parent)
            handle = os.fdopen(open_private(self.path.parent / LOCK.name, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "a")
        except OSError as error:
            raise LedgerError(self.path.parent / LOCK.name, error) from None
        with handle:  # closing the file releases the lock, whatever the block raised
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    # -- reading -------------------------------------------------------------

    def events(self) -> List[dict]:
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return []  # no ledger yet (or a file where its folder should be: no ledger either)
        except OSError as error:
            raise LedgerError(self.path, error, "read") from None
        events = []
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            event, damage = _record(raw)
            if event is None:
                # Skipped, never repaired: the line is the user's evidence, and every
                # other line still holds its time.
                _warn_damaged(self.path, number, damage)
            else:
                events.append(event)
        return events

    def orders(self) -> Dict[str, Order]:
        """Fold the events into one Order per order id, in first-seen order."""
        orders: Dict[str, Order] = {}
        for event in self.events():
            order = orders.setdefault(event["order_id"], Order(event["order_id"]))
            kind = event.get("event")
            if kind == "pending":
                order.details = {k: v for k, v in event.items() if k not in ("event", "order_id")}
                if not order.invoices:
                    order.state = "pending"
            elif kind in ("created", "status") and event.get("invoice_id"):
                record = order.invoices.pop(event["invoice_id"], {})
                record.update({k: v for k, v in event.items() if k not in ("event", "order_id")})
                order.invoices[event["invoice_id"]] = record  # re-insert: latest last
                order.state = "created"
            elif kind == "failed" and order.state in ("pending", "unclear"):
                order.state = "failed"
            elif kind == "unclear" and order.state == "pending":
                order.state = "unclear"
        for order in orders.values():  # an invoice found on the server carries its own time
            if not order.details.get("time"):
                for record in order.invoices.values():
                    if record.get("time"):
                        order.details = dict(order.details, time=record["time"], hours=record.get("hours"))
        return orders


def server_of(backend) -> dict:
    """Which server an invoice lives on: statuses are only asked where it is."""
    return {"backend": backend.name, "host": backend.host, "store_id": getattr(backend, "store_id", None)}


def same_server(record: dict, backend) -> bool:
    return all(record.get(k) in (None, v) for k, v in server_of(backend).items())


def _invoice_fields(invoice) -> dict:
    fields = {
        "invoice_id": invoice.id,
        "url": invoice.url,
        "status": invoice.status,
        "paid": invoice.paid,
        "amount": None if invoice.amount is None else format(invoice.amount, "f"),
        "currency": invoice.currency,
        "created": invoice.created.isoformat() if invoice.created else None,
        "expires": invoice.expires.isoformat() if getattr(invoice, "expires", None) else None,
    }
    if getattr(invoice, "ended", None):  # void: expired unpaid, or marked invalid
        fields["ended"] = invoice.ended
    if invoice.time:
        fields.update(time=time_json(invoice.time), hours=invoice.hours)
    if getattr(invoice, "authors", None):  # raw author emails (btcpay/authors.py)
        fields.update(authors=time_json(invoice.authors))
    return fields


def _ends_mid_line(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except FileNotFoundError:
        return False


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte or raise: a short write (a full disk, a file size limit) must not
    pass for a record on disk. What this call wrote of a cut record is taken back."""
    start = os.fstat(fd).st_size
    written = 0
    try:
        while written < len(data):
            count = os.write(fd, data[written:])
            if count <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written += count
    except OSError:
        if written and os.fstat(fd).st_size == start + written:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)  # only our own bytes: nobody appended meanwhile
        raise


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # pragma: no cover - folders cannot be opened there
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record(raw: bytes) -> Tuple[Optional[dict], str]:
    """(the event, "") for an intact line, else (None, what is wrong with it)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "is not UTF-8"
    try:
        event = json.loads(text)
    except ValueError:
        return None, "is cut short or not JSON"
    if not isinstance(event, dict) or not isinstance(event.get("order_id"), str) or not event["order_id"] \
            or not isinstance(event.get("invoice_id", ""), (str, type(None))):
        return None, "is not a ledger record"
    return event, ""


# Damaged lines already reported, when no click command is running (see _warned).
_WARNED: set = set()


def _warned() -> set:
    """The damaged lines reported during this command: a command reads the ledger
    several times, and says so once. Kept in click's context, which lives exactly as
    long as the command (several commands may run in one process, as in the tests)."""
    click = sys.modules.get("click")  # imported by every command; never imported here
    context = click.get_current_context(silent=True) if click is not None else None
    return _WARNED if context is None else context.find_root().meta.setdefault("hourly_hooks.ledger.damaged", set())


def _warn_damaged(path: Path, number: int, damage: str) -> None:
    warned, path = _warned(), Path(os.path.abspath(path))  # the same file read from any folder
    if (str(path), number) in warned:
        return
    warned.add((str(path), number))
    print(f"Warning: {path} line {number} {damage}: skipped (the file is left as it is). Every other "
          "record still holds its time; `hourly invoices` reads the server's invoices back into the ledger.",
          file=sys.stderr, flush=True)  # flushed: a buffered stderr (click 8.1's test runner) would lose it
