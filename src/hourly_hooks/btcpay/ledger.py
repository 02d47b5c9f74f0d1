"""The invoice ledger: what this repository has billed, kept inside `.git/`.

`<git common dir>/hourly/invoices.jsonl`, one JSON event per line, append
only. It lives in the git directory so it is never committed, survives
checkouts and is shared by worktrees.

Crash safety: a `pending` event (with the order id) is written and fsynced
BEFORE the create request is sent, and `created` after the answer. A run that
finds a pending order without an invoice asks the server by order id before
doing anything else, so a crash between the server's answer and the ledger
write can never lead to a second invoice. No secret is ever written here.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List

try:  # POSIX; on Windows concurrent runs are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

LEDGER = Path("hourly") / "invoices.jsonl"
LOCK = Path("hourly") / "invoice.lock"


@dataclass
class Order:
    """Everything the ledger knows about one order id (one piece of billed work)."""

    order_id: str
    state: str = "pending"            # pending | created | failed
    details: dict = field(default_factory=dict)   # amount, currency, hours, commits, ... of the last attempt
    invoices: Dict[str, dict] = field(default_factory=dict)  # invoice id -> {url, status, amount, ...}

    @property
    def clock_ins(self) -> List[str]:
        return list(self.details.get("clock_ins", []))


def ledger_path(git_common_dir) -> Path:
    return Path(git_common_dir) / LEDGER


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Ledger:
    def __init__(self, git_common_dir):
        self.git_dir = Path(git_common_dir)
        self.path = ledger_path(git_common_dir)

    # -- writing -------------------------------------------------------------

    def append(self, event: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = dict(event, at=_now())
        line = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
        if _ends_mid_line(self.path):
            line = "\n" + line  # a crash cut the last line short: start a fresh one
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)  # the pending entry must be on disk before the request goes out
        finally:
            os.close(fd)

    def pending(self, order_id: str, **details) -> None:
        self.append({"event": "pending", "order_id": order_id, **details})

    def created(self, order_id: str, invoice, backend, *, reused: bool = False) -> None:
        """`reused`: found on the server rather than created by this run."""
        self.append({"event": "created", "order_id": order_id, "reused": reused,
                     **server_of(backend), **_invoice_fields(invoice)})

    def failed(self, order_id: str, reason: str) -> None:
        self.append({"event": "failed", "order_id": order_id, "reason": reason})

    def status(self, order_id: str, invoice, backend) -> None:
        self.append({"event": "status", "order_id": order_id, **server_of(backend), **_invoice_fields(invoice)})

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise look-up-then-create between concurrent runs in this repository."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / LOCK.name, "a") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # -- reading -------------------------------------------------------------

    def events(self) -> List[dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        events = []
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: its pending twin is still there
            if isinstance(event, dict) and event.get("order_id"):
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
                if order.state != "created":
                    order.state = "pending"
            elif kind in ("created", "status") and event.get("invoice_id"):
                record = order.invoices.pop(event["invoice_id"], {})
                record.update({k: v for k, v in event.items() if k not in ("event", "order_id")})
                order.invoices[event["invoice_id"]] = record  # re-insert: latest last
                order.state = "created"
            elif kind == "failed" and order.state == "pending":
                order.state = "failed"
        return orders


def billed_commits(git_common_dir) -> Dict[str, str]:
    """clock-in commit SHA -> invoice id, for work billed on a live invoice.

    An order whose every invoice was last seen expired or invalid is not
    billed any more (its work can be invoiced again), nor is a pending order
    the server has not confirmed yet.
    """
    billed: Dict[str, str] = {}
    for order in Ledger(git_common_dir).orders().values():
        live = [i for i, rec in order.invoices.items() if rec.get("status") not in ("expired", "invalid")]
        if order.state != "created" or not live:
            continue
        for sha in order.clock_ins:
            billed[sha] = live[-1]
    return billed


def server_of(backend) -> dict:
    """Which server an invoice lives on: statuses are only asked where it is."""
    return {"backend": backend.name, "host": backend.host, "store_id": getattr(backend, "store_id", None)}


def same_server(record: dict, backend) -> bool:
    return all(record.get(k) in (None, v) for k, v in server_of(backend).items())


def _invoice_fields(invoice) -> dict:
    return {
        "invoice_id": invoice.id,
        "url": invoice.url,
        "status": invoice.status,
        "amount": None if invoice.amount is None else str(invoice.amount),
        "currency": invoice.currency,
        "created": invoice.created.isoformat() if invoice.created else None,
    }


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
