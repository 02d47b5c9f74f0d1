"""`hourly invoices`: the ledger's invoices and the store's hourly ones, refreshed.

What is listed and how it is flagged: the invoices of a server that could not
be asked (unreachable, or an error answer) are unknown, a pending create the server never made is settled after
PENDING_GRACE, and invoices that bill the same time are named (duplicates.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Mapping, Optional

from hourly_hooks.btcpay import VOID, Backend
from hourly_hooks.btcpay import duplicates
from hourly_hooks.btcpay.billing import PENDING_GRACE, known_time
from hourly_hooks.btcpay.ledger import RELEASED, Ledger, Order, same_server, time_of
from hourly_hooks.errors import BTCPayError

@dataclass
class Listing:
    rows: List[dict]
    problem: Optional[str] = None               # why the statuses were not refreshed
    notes: List[str] = field(default_factory=list)   # duplicates, paid twice, released records


def listing(ledger: Ledger, backend: Optional[Backend], *, now: Optional[datetime] = None) -> Listing:
    """The ledger's invoices (and the store's hourly ones), refreshed from the server.

    With no backend or a server that cannot be asked, the last known statuses
    are listed and `problem` says why; an unreachable server's invoices show
    as unknown. Invoices that bill the same time are flagged in their rows and
    explained in `notes`.
    """
    result = Listing([])
    unknown = None   # why the server's word on each invoice is not known now
    if backend is not None:
        with ledger.lock():  # a concurrent `hourly invoice` may be creating a pending order
            try:
                result.notes += known_time(ledger, backend).notes
                _settle_pending(ledger, backend, now or datetime.now(timezone.utc))
            except BTCPayError as error:
                result.problem = error.message
                # Answered or not, the last status seen is not the server's word now.
                unknown = "not refreshed" if error.answered else "server unreachable"
    orders = ledger.orders()
    result.rows = [row for order in orders.values() for row in _rows(order)]
    if unknown and backend is not None:
        _unknown(result.rows, orders, backend, unknown)
    result.notes += duplicates.flag(result.rows, orders)
    return result


def last_statuses(git_dirs: Iterable) -> Dict[str, str]:
    """Invoice id -> the status the ledgers last saw (a pending create: its order id -> "pending").

    Read from the ledgers alone, no network: what `hourly report` and a timesheet show
    beside each billed session; `hourly invoices` (or `--watch`) refreshes it.
    """
    statuses: Dict[str, str] = {}
    for git_dir in git_dirs:
        for order in Ledger(git_dir).orders().values():
            if order.unsettled:
                statuses[order.order_id] = "pending"
            for invoice_id, record in order.invoices.items():
                statuses[invoice_id] = RELEASED if record.get("missing") else str(record.get("status"))
    return statuses


def with_status(refs: str, statuses: Mapping[str, str]) -> str:
    """"INV1" -> "INV1 (paid)"; invoices that bill the same time, "A + B" -> "A + B (paid late, open)"."""
    known = [statuses.get(ref) for ref in refs.split(" + ")]
    return f"{refs} ({', '.join(status or '?' for status in known)})" if any(known) else refs


def _unknown(rows: List[dict], orders: Dict[str, Order], backend: Backend, why: str) -> None:
    """The server could not be asked: what it says now is unknown, not the last status seen."""
    for row in rows:
        order = orders[row["order_id"]]
        record = order.invoices.get(row["id"], order.details) if row["id"] else order.details
        if row["id"] and same_server(record, backend) and row["status"] != VOID:
            row["last_status"] = row["status"]
            row["status"] = f"unknown, {why}"


def _settle_pending(ledger: Ledger, backend: Backend, now: datetime) -> None:
    """A pending create the server still does not show after PENDING_GRACE never happened."""
    for order in ledger.orders().values():
        since = order.pending_since
        if since is None or not same_server(order.details, backend):
            continue
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        if now - since >= PENDING_GRACE and not backend.find(order.order_id):
            ledger.failed(order.order_id, "not on the server")


def _rows(order: Order) -> List[dict]:
    details = order.details
    base = {"order_id": order.order_id, "item_desc": details.get("item_desc"), "backend": details.get("backend")}
    if not order.invoices:
        state = "pending (no answer yet: wait and run again)" if order.state == "pending" else "not created"
        return [dict(base, id=None, url=None, amount=details.get("amount"), currency=details.get("currency"),
                     status=state, paid=None, hours=details.get("hours"), sessions=_count(order.time),
                     created=None)]
    rows = []
    for invoice_id, rec in order.invoices.items():
        time = time_of(rec.get("time")) or order.time
        status = RELEASED if rec.get("missing") else rec.get("status")
        rows.append(dict(base, id=invoice_id, url=rec.get("url"), amount=rec.get("amount"),
                         currency=rec.get("currency"), status=status, paid=rec.get("paid"),
                         hours=rec.get("hours") or details.get("hours"),
                         sessions=_count(time) or len(order.clock_ins), created=rec.get("created"),
                         backend=rec.get("backend") or details.get("backend"),
                         ended=rec.get("ended") if status == VOID else None))  # expired unpaid, or invalid
    return rows


def _count(time) -> int:
    return sum(len(ranges) for ranges in time.values())
