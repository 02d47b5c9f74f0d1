"""`hourly invoices --watch`: poll the open invoices until each is paid, expired or invalid.

Each poll asks the server for every watched invoice by id (a GET: transport.py
already tries a passing failure again). The wait before a poll starts at the
floor (`--interval`) and doubles while nothing changes, up to CEILING; a change
brings it back to the floor, since a payment seen is soon followed by its
confirmation. Every change is written to the ledger, as `hourly invoices`
writes what it sees, so `hourly report` shows it without a network call.

A server that cannot be asked (unreachable, 5xx, 429) is asked again on the
same back-off, until it has failed for `give_up` seconds in a row; an answer
that asking again cannot change (bad credentials, a redirect) ends the watch
at once. Ctrl-C never cuts a ledger record short: the signal waits until the
record is written.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Iterator, List, Optional

from hourly_hooks.btcpay import OPEN, PAYING, Backend, duplicates
from hourly_hooks.btcpay.ledger import RELEASED, Ledger, same_server
from hourly_hooks.core.markers import format_duration
from hourly_hooks.errors import BTCPayError

# States that change by themselves (a payment arrives, gets confirmed, or the time runs out).
WATCHED = (OPEN, PAYING)
CEILING = 60.0           # seconds: the longest wait between two polls
GIVE_UP = 600.0          # seconds the server may fail in a row before the watch ends (exit 5)


@dataclass(frozen=True)
class Watched:
    """An open invoice as the ledger last saw it."""

    order_id: str
    invoice_id: str
    status: str
    amount: Optional[str]
    currency: str


@dataclass(frozen=True)
class Change:
    at: datetime
    invoice: Watched
    new: str
    paid: Optional[str] = None

    def line(self) -> str:
        """time, invoice id, old -> new status, amount (and what was paid of a partly paid one)."""
        amount = f"  {self.invoice.amount} {self.invoice.currency}".rstrip() if self.invoice.amount else ""
        paid = f"  paid {self.paid}" if self.paid else ""
        return (f"{self.at.isoformat(timespec='seconds')}  {self.invoice.invoice_id}  "
                f"{self.invoice.status} -> {self.new}{amount}{paid}")


def open_invoices(ledger: Ledger, backend: Backend) -> Dict[str, Watched]:
    """The ledger's invoices on this server whose last-seen status can still change."""
    found = {}
    for order in ledger.orders().values():
        for invoice_id, record in order.invoices.items():
            if record.get("status") in WATCHED and not record.get("missing") and same_server(record, backend):
                found[invoice_id] = Watched(order.order_id, invoice_id, str(record["status"]),
                                            record.get("amount"), str(record.get("currency") or ""))
    return found


class Backoff:
    """The wait before the next poll: the floor, doubled after each poll that saw no change."""

    def __init__(self, floor: float, ceiling: float = CEILING):
        self.floor = floor
        self.ceiling = max(ceiling, floor)
        self.wait = floor

    def after(self, changed: bool) -> None:
        self.wait = self.floor if changed else min(self.wait * 2, self.ceiling)


def watch(ledger: Ledger, backend: Backend, *, interval: float, show: Callable[[str], None],
          warn: Callable[[str], None], give_up: float = GIVE_UP,
          sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
    """Poll until no watched invoice is open; every change goes to the ledger and to `show`."""
    watched = open_invoices(ledger, backend)
    backoff = Backoff(interval)
    down_since: Optional[float] = None
    while watched:
        sleep(backoff.wait)
        changed = False
        try:
            for change in poll(ledger, backend, watched):
                show(change.line())
                changed = True
        except BTCPayError as error:
            if not passing(error):
                raise
            if down_since is None:
                down_since = clock()
                warn(f"Warning: {error.message.rstrip('.')}: asking again, for up to {_span(give_up)}.")
            elif clock() - down_since >= give_up:
                raise gave_up(error, give_up, watched) from None
        else:
            if down_since is not None:
                warn("BTCPay Server answers again.")
                down_since = None
        backoff.after(changed)


def poll(ledger: Ledger, backend: Backend, watched: Dict[str, Watched]) -> Iterator[Change]:
    """Ask for each watched invoice; yield (and record) each change, dropping what is no longer open."""
    for invoice_id, known in list(watched.items()):
        current = duplicates.confirm(backend, invoice_id)
        # A change is recorded and shown under one hold of Ctrl-C (the caller prints it while this
        # generator waits inside the block): the ledger never holds a change the user was not shown.
        if current is None:   # the server has no such invoice: its time is released, as `hourly invoices` does
            with uninterrupted():
                ledger.released(known.order_id, invoice_id, backend)
                del watched[invoice_id]
                yield Change(_now(), known, RELEASED)
            continue
        if current.status == known.status:
            continue
        with uninterrupted():
            ledger.status(known.order_id, current, backend)
            if current.status in WATCHED:
                watched[invoice_id] = replace(known, status=current.status)
            else:
                del watched[invoice_id]
            yield Change(_now(), known, current.status, current.paid)


def passing(error: BTCPayError) -> bool:
    """Whether asking again may help: no answer, a server error, a rate limit."""
    status = error.status
    return status is None or status >= 500 or status == 429


def gave_up(error: BTCPayError, seconds: float, watched: Dict[str, Watched]) -> BTCPayError:
    ids = ", ".join(sorted(watched))
    return BTCPayError(f"{error.message.rstrip('.')}, for {_span(seconds)} in a row: stopped watching; "
                       f"still open as last seen: {ids}.",
                       hint="Run `hourly invoices --watch` again when the server answers (--give-up sets how "
                            "long to wait); the ledger holds every change seen so far.")


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) until the block is done, then raise it: a ledger record is written whole."""
    if threading.current_thread() is not threading.main_thread():
        yield   # only the main thread receives signals (and may set their handlers)
        return
    caught: List[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        # None: a handler set outside Python, which cannot be put back; Python's own is the nearest.
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt


def _now() -> datetime:
    return datetime.now(timezone.utc).astimezone()   # the machine's zone, with its offset


def _span(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds >= 1 else f"{seconds:g}s"
