"""Billing: what may go on an invoice, and the protocol that puts it there.

The invariant is on time, not on commits: per identity, time covered by an
invoice that holds it (anything but void) is never put on another invoice,
whatever period is asked for, however the commits were rebased or amended
(SHAs change, author times do not), from whichever clone, through either API.

A run therefore:
1. reads what holds time: the store's hourly invoices (each carries the
   identity and time ranges it bills, so another clone's invoices count),
   and this repository's ledger (invoices on other servers, and creates whose
   answer never came: those stay *pending* and block the same time);
2. splits the sessions asked for into billable, already covered (shown with
   the invoice that holds each), and partly covered (an anomaly: not billed);
3. derives the order id from the identities and time ranges billed, shows
   the preview, asks, and under the ledger lock asks the server again by
   order id, writes the pending entry, and only then creates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Dict, FrozenSet, List, Mapping, Optional, Protocol, Sequence, Tuple

from hourly_hooks.btcpay import (PARTLY_PAID, VOID, Backend, BTCPaySettings, Invoice, InvoiceRequest,
                                 order_id_for)
from hourly_hooks.btcpay import duplicates
from hourly_hooks.btcpay.authors import RawAuthors, emails_of, held_ranges, ranges_of, span
from hourly_hooks.core.manifest import DIGEST_KEY, compact, short
from hourly_hooks.btcpay.ledger import (VOID_STATUSES, Ledger, LedgerError, Order, same_server, server_of,
                                        time_json, time_of)
from hourly_hooks.errors import BTCPayError, NothingToBill, Rejected, UsageError

PENDING = "pending"

# How long an unanswered create may still turn up on the server. Past it,
# `hourly invoices` settles a pending entry the server does not show as failed.
PENDING_GRACE = timedelta(minutes=10)

Ranges = Tuple[Tuple[int, int], ...]


# ------------------------------------------------------------------ the pure part

@dataclass(frozen=True)
class Holder:
    """Something that holds time: an invoice, or a create still waiting for its answer."""

    ref: str                          # invoice id; the order id while pending
    status: str                       # a btcpay state (OPEN ... VOID), or PENDING
    time: Dict[str, Ranges]
    shas: FrozenSet[str] = frozenset()  # clock-in SHAs, for ledgers that predate time ranges
    url: Optional[str] = None
    invoice: Optional[Invoice] = None
    authors: Mapping[str, Ranges] = field(default_factory=dict)  # raw author email -> ranges (see authors.py)


@dataclass
class Split:
    billable: list = field(default_factory=list)           # lines
    covered: list = field(default_factory=list)            # (line, Holder)
    partial: list = field(default_factory=list)            # (line, [Holder])
    waiting: list = field(default_factory=list)            # (line, Holder): held by a pending create


def time_of_lines(lines) -> Dict[str, Ranges]:
    """identity -> sorted (start, end) of each line's session: what an invoice bills."""
    return ranges_of(lines, lambda session: (session.identity,))


def _overlaps(start: int, end: int, ranges: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
    if end <= start:  # a zero-length session is covered when its instant is
        return [(start, start)] if any(a <= start < b for a, b in ranges) else []
    return [(max(start, a), min(end, b)) for a, b in ranges if a < end and b > start]


def _covered_seconds(parts: List[Tuple[int, int]]) -> int:
    total, reach = 0, min(parts)[0] if parts else 0  # reach: where the time counted so far ends
    for a, b in sorted(parts):
        total += max(0, b - max(a, reach))
        reach = max(reach, b)
    return total


def split(lines, holders: Sequence[Holder], raw: RawAuthors = {}) -> Split:
    """Sort lines into billable, covered (wholly inside held time) and partly covered.

    `raw`: the marker commits' raw authors (authors.raw_authors), by which held
    time is matched whatever identity rule or .mailmap is in use now.
    """
    result = Split()
    for line in lines:
        session = line.session
        start, end = span(session)
        hits: List[Tuple[Holder, int]] = []
        parts: List[Tuple[int, int]] = []
        whole = False
        for holder in holders:
            if session.clock_in.sha in holder.shas:
                hits.append((holder, max(end - start, 1)))
                whole = True
                continue
            found = _overlaps(start, end, held_ranges(holder, session, (start, end), raw))
            if found:
                hits.append((holder, sum(b - a for a, b in found) or 1))
                parts.extend(found)
        if not hits:
            result.billable.append(line)
            continue
        if not whole and end > start and _covered_seconds(parts) < end - start:
            result.partial.append((line, [holder for holder, _ in hits]))
            continue
        best = max(hits, key=lambda hit: hit[1])[0]
        pending = next((holder for holder, _ in hits if holder.status == PENDING), None)
        if pending is not None:
            result.waiting.append((line, pending))
        else:
            result.covered.append((line, best))
    return result


def check_sessions(sheet, who: str) -> None:
    """Explain, instead of invoicing, a period that cannot be billed at all."""
    if sheet.open:
        first = min(sheet.open, key=lambda s: s.start)
        raise NothingToBill(
            f"A session is still open since {first.start.isoformat(timespec='seconds')} "
            f"({first.clock_in.short}): clock out first (hourly out), or end the period before it (--until).")
    if not sheet.lines or sheet.seconds <= 0:
        raise NothingToBill(f"No billable hours in the period for {who}.",
                            hint="Check the period with `hourly report` (and --author / --all).")
    if sheet.unpriced:  # before any request: no rate is a setup problem, whatever is billed already
        check_priced(sheet)


def check_priced(sheet) -> None:
    """Explain, instead of invoicing, anything that makes the amount wrong."""
    if sheet.unpriced:
        raise NothingToBill("No hourly rate for these sessions: pass --rate \"100 USD\" or set `rate` "
                            "(or [rates]) in .hourly.toml.")
    if sheet.currency is None:
        raise NothingToBill(f"The sessions are priced in several currencies ({', '.join(sheet.amounts)}): "
                            "invoice one currency at a time (--author or --rate).")
    if sheet.amount is None or sheet.amount <= 0:
        raise NothingToBill("The amount to bill is zero.")


def build_request(sheet, settings: BTCPaySettings, raw: RawAuthors = {},
                  manifest: Optional[dict] = None) -> InvoiceRequest:
    """The invoice of sheet. With the bill's manifest, the description names the timesheet's
    number and posData carries the manifest (compact), so invoice and timesheet point at each other."""
    time = time_of_lines(sheet.lines)
    number = f", timesheet {short(manifest[DIGEST_KEY])}" if manifest else ""
    return InvoiceRequest(
        amount=sheet.amount,
        currency=sheet.currency,
        # The order id stays the hash of the time billed: the same time must find the same
        # invoice from any clone, whatever HEAD is (the manifest names HEAD; its digest moves).
        order_id=order_id_for(time),
        item_desc=f"{sheet.hours} hours worked from {_when(sheet.start, sheet.selection.tz)} to "
                  f"{_when(sheet.end, sheet.selection.tz)}{number}",
        buyer_email=settings.buyer_email,
        buyer_name=settings.buyer_name,
        notification_url=settings.notification_url,
        redirect_url=settings.redirect_url,
        payment_methods=settings.payment_methods,
        time=time,
        hours=str(sheet.hours),
        expires_minutes=settings.expires,
        authors=ranges_of(sheet.lines, lambda session: emails_of(session, raw)),
        timesheet=compact(manifest) if manifest else None,
    )


# ------------------------------------------------------------- what holds time

def ledger_holders(orders: Dict[str, Order], skip: FrozenSet[str] = frozenset()) -> List[Holder]:
    """What holds time by this repository's ledger alone (`hourly report` uses it too)."""
    holders = []
    for order in orders.values():
        authors = time_of(order.details.get("authors"))
        if order.unsettled:
            holders.append(Holder(order.order_id, PENDING, order.time, frozenset(order.clock_ins),
                                  authors=authors))
            continue
        for invoice_id, record in order.invoices.items():
            if invoice_id in skip or record.get("status") in VOID_STATUSES:
                continue
            time = time_of(record.get("time")) or order.time
            holders.append(Holder(invoice_id, str(record.get("status")), time,
                                  frozenset(order.clock_ins) if not time else frozenset(), record.get("url"),
                                  authors=time_of(record.get("authors")) or authors))
    return holders



def _remember(ledger: Ledger, invoice: Invoice, backend, orders: Dict[str, Order]) -> None:
    """Write to the ledger what the server says, when the ledger does not know it yet."""
    order_id = invoice.order_id or invoice.id
    record = orders[order_id].invoices.get(invoice.id) if order_id in orders else None
    if record is None:
        ledger.created(order_id, invoice, backend, reused=True)
    elif record.get("status") != invoice.status or record.get("paid") != invoice.paid \
            or (invoice.time and not record.get("time")) or (invoice.authors and not record.get("authors")):
        ledger.status(order_id, invoice, backend)


@dataclass
class Known:
    """Everything that holds time, and the server's own hourly invoices by id."""

    holders: List[Holder]
    server: Dict[str, Invoice]
    unresolved: List[Order]           # pending creates the server does not show (yet)
    notes: List[str] = field(default_factory=list)   # what the user must be told (released records)


def known_time(ledger: Ledger, backend: Backend, *, write: bool = True) -> Known:
    """Ask the server (the record) and the ledger what holds time.

    Pending orders on this server are looked up by order id first: an
    invoice found settles them. With `write`, what the server says is added
    to the ledger, so `hourly report` sees it without a network call.
    """
    orders = ledger.orders()
    for order in orders.values():
        if order.unsettled and same_server(order.details, backend):
            found = backend.find(order.order_id)
            for invoice in found:
                if write:
                    ledger.created(order.order_id, invoice, backend, reused=True)
                else:
                    order.invoices[invoice.id] = {"status": invoice.status, "url": invoice.url}
                order.state = "created"
            if not found and order.state == "unclear":  # it answered with an error, and has no such invoice
                if write:
                    ledger.failed(order.order_id, "not on the server")
                order.state = "failed"
    server = {inv.id: inv for inv in backend.hourly_invoices()}
    if write:
        for invoice in server.values():
            _remember(ledger, invoice, backend, orders)
        orders = ledger.orders()
    # Invoices this ledger knows on this server that the store's hourly ones do
    # not include (made before invoices carried time, or an id the server never
    # had): their status is asked one by one, and one the server does not have
    # is released rather than holding its time forever.
    notes = []
    for order in orders.values():
        for invoice_id, record in list(order.invoices.items()):
            if invoice_id in server or not same_server(record, backend) or record.get("status") in VOID_STATUSES:
                continue
            current = duplicates.confirm(backend, invoice_id)
            if current is None:
                notes.append(f"Note: invoice {invoice_id} (order {order.order_id}) is not on the server "
                             f"{backend.host}: the time it held is released.")
                if write:
                    ledger.released(order.order_id, invoice_id, backend)
                record["status"] = VOID
                continue
            if write and current.status != record.get("status"):
                ledger.status(order.order_id, current, backend)
            record["status"] = current.status
    holders = [Holder(inv.id, inv.status, {k: tuple(v) for k, v in inv.time.items()}, url=inv.url, invoice=inv,
                      authors=dict(inv.authors)) for inv in server.values() if inv.status != VOID]
    holders += ledger_holders(orders, frozenset(server))
    unresolved = [order for order in orders.values() if order.unsettled]
    return Known(holders, server, unresolved, notes)


# ---------------------------------------------------------------- the protocol

class UI(Protocol):
    """What the click layer provides: lines to show, a question to ask, documents to print."""

    def line(self, text: str = "") -> None: ...
    def confirm(self, question: str) -> None:
        """Return when the user agrees; raise Rejected otherwise."""
    def document(self, document: dict, human_title: str) -> None: ...
    def invoice(self, invoice: Invoice, existing: bool, raced: bool = False) -> None:
        """Show the invoice to pay; `raced`: this run's own was a same-moment duplicate, now invalid."""
    def nothing_left(self, rows: List[dict]) -> None: ...


def _when(moment: datetime, tz) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def _wait_message(order_ref: str, since: Optional[datetime]) -> str:
    when = f" at {since.isoformat(timespec='seconds')}" if since else ""
    minutes = int(PENDING_GRACE.total_seconds() // 60)
    until = f" (until {(since + PENDING_GRACE).isoformat(timespec='seconds')})" if since else ""
    return (f"An earlier request for this time (order {order_ref}, sent{when}) got no answer and the server "
            f"does not show that invoice yet; nothing was created. It may still turn up for {minutes} minutes"
            f"{until}: run again then, or run `hourly invoices` after that to settle it.")


def invoice(sheet, settings: BTCPaySettings, ledger: Ledger, ui: UI, *, who: str, backend: Backend,
            dry_run: bool = False, replace: Sequence[str] = (), raw: RawAuthors = {},
            manifest_of: Optional[Callable[[object, List[str]], dict]] = None) -> Optional[Invoice]:
    """Bill the sessions of `sheet` that no invoice holds yet; returns the invoice made or found.

    manifest_of(bill, left_out) makes the bill's manifest (verification.manifest_for): left_out
    names the clock-ins of the period's sessions already on other invoices."""
    check_sessions(sheet, who)
    if dry_run:
        try:
            known = known_time(ledger, backend, write=False)
        except BTCPayError as error:
            ui.line(f"Warning: the server was not asked what is billed already ({error.message}); "
                    "this preview knows only this repository's ledger.")
            orders = ledger.orders()
            known = Known(ledger_holders(orders), {}, [order for order in orders.values() if order.unsettled])
    else:
        known = known_time(ledger, backend)
    for note in known.notes:
        ui.line(note)
    holders = _apply_replace(known, replace, ui)
    parts = split(sheet.lines, holders, raw)
    if parts.waiting:
        pending = parts.waiting[0][1]
        order = next((o for o in known.unresolved if o.order_id == pending.ref), None)
        raise Rejected(_wait_message(pending.ref, order.pending_since if order else None))
    tz = sheet.selection.tz
    if not parts.billable:
        _nothing_left(parts, ui, tz)
        return None
    bill = dataclasses.replace(sheet, lines=parts.billable)
    check_priced(bill)
    left_out = [line.session.clock_in.sha for line, _ in parts.covered + parts.partial]
    request = build_request(bill, settings, raw, manifest_of(bill, left_out) if manifest_of else None)
    _preview(ui, request, bill, backend, settings)
    _left_out(ui, parts, tz)
    earlier = [inv for inv in known.server.values() if inv.order_id == request.order_id and not inv.live]
    if dry_run:
        ui.document(backend.describe(request), human_title="Request (not sent):")
        return None
    for dead in earlier:
        ui.line(f"An earlier invoice for this time is {dead.status}: {dead.url}")
    ui.confirm("Create this invoice?" if earlier or replace else "Is this correct?")
    with ledger.lock():
        # Asked again under the lock: another run may have created it meanwhile.
        live = [inv for inv in backend.find(request.order_id) if inv.live and inv.id not in replace]
        if live:
            _remember(ledger, live[0], backend, ledger.orders())
            ui.invoice(live[0], existing=True)
            return live[0]
        again = split(bill.lines, ledger_holders(ledger.orders(), frozenset(known.server) | frozenset(replace)), raw)
        if again.waiting or again.covered or again.partial:
            raise Rejected("Another run billed some of this time meanwhile; nothing was created: run again.")
        ledger.pending(request.order_id, **_ledger_details(request, bill, backend))
        try:
            created = backend.create(request)
        except BTCPayError as error:
            if not error.maybe_created:
                ledger.failed(request.order_id, error.message)
            elif error.answered:
                ledger.unclear(request.order_id, error.message)
            raise
        created = duplicates.confirm_created(backend, ledger, request.order_id, created)
        try:
            ledger.created(request.order_id, created, backend)
        except LedgerError as error:
            ui.invoice(created, existing=False)  # it exists: the user must see where
            error.hint = ("The invoice was created, but the ledger could not record it; its pending entry "
                          "holds the time, and the next run finds the invoice on the server by its order id.")
            raise
    winner = duplicates.settle_race(backend, ledger, request.order_id, created, ui)
    ui.invoice(winner, existing=winner.id != created.id, raced=winner.id != created.id)
    return winner


def _apply_replace(known: Known, replace: Sequence[str], ui: UI) -> List[Holder]:
    holders = list(known.holders)
    for invoice_id in replace:
        matching = [h for h in holders if h.ref == invoice_id]
        if not matching:
            raise UsageError(f"--replace {invoice_id}: no invoice with that id holds time "
                             "(see `hourly invoices`).")
        status = matching[0].status
        if status != PARTLY_PAID:
            raise UsageError(f"--replace {invoice_id}: that invoice is {status}, not partly paid; "
                             "only a partly paid invoice can be replaced.")
        paid = matching[0].invoice.paid if matching[0].invoice else None
        ui.line(f"Replacing partly paid invoice {invoice_id}{f' (paid {paid})' if paid else ''}: "
                "settle what was paid on it with the client.")
        holders = [h for h in holders if h.ref != invoice_id]
    return holders


def _session_text(line, tz) -> str:
    session = line.session
    return f"{_when(session.start, tz)} to {_when(session.end, tz)} ({line.hours} h, {session.author})"


def _left_out(ui: UI, parts: Split, tz) -> None:
    if parts.covered:
        ui.line(f"  Left out, already on an invoice ({len(parts.covered)}):")
        for line, holder in parts.covered:
            ui.line(f"    {_session_text(line, tz)}: {holder.ref} ({holder.status})")
    for line, overlapping in parts.partial:
        refs = ", ".join(f"{h.ref} ({h.status})" for h in overlapping)
        ui.line(f"  Anomaly, not billed: {_session_text(line, tz)} overlaps time already on {refs} "
                "only in part; check the history (`hourly report`).")


def _nothing_left(parts: Split, ui: UI, tz) -> None:
    holders = {holder.ref: holder for _, holder in parts.covered}
    if len(holders) == 1 and not parts.partial:
        [holder] = holders.values()
        if holder.invoice is not None and holder.time == time_of_lines(line for line, _ in parts.covered):
            ui.invoice(holder.invoice, existing=True)  # the very time asked for: that invoice
            return None
    ui.line("Nothing left to bill: every session in the period is already on an invoice.")
    _left_out(ui, parts, tz)

    def row(line, **fields) -> dict:
        return {"session_start": _when(line.session.start, tz), "session_end": _when(line.session.end, tz), **fields}
    ui.nothing_left([row(line, invoice=holder.ref, status=holder.status) for line, holder in parts.covered]
                    + [row(line, invoice=None, status="anomaly", overlaps=[h.ref for h in hs])
                       for line, hs in parts.partial])


def _preview(ui: UI, request: InvoiceRequest, sheet, backend, settings: BTCPaySettings) -> None:
    from hourly_hooks import trust
    buyer = " ".join(filter(None, [request.buyer_name,
                                   f"<{request.buyer_email}>" if request.buyer_email else None]))
    expiry = f"{request.expires_minutes} minutes" if request.expires_minutes else "(the store's)"
    rows = [
        ("Amount", f"{request.amount_text} {request.currency}"),
        *trust.money_rows(sheet, settings.origins),  # a rate a cloned repository set is seen here
        ("Item", request.item_desc),
        ("Sessions", f"{len(sheet.lines)} ({', '.join(sorted({s.author for s in sheet.sessions}))})"),
        ("Order id", request.order_id),
        ("Buyer", buyer or "(none)"),
        ("Notification URL", request.notification_url or "(none)"),
        ("Redirect URL", request.redirect_url or "(none)"),
        ("Payment methods", ", ".join(request.payment_methods) or "(the store's)"),
        ("Expires after", expiry),
        ("Server", f"{backend.host} ({backend.name} API)"),
        ("Credentials", _credentials(backend, settings)),
    ]
    ui.line("Invoice preview:")
    for label, value in rows:
        ui.line(f"  {label + ':':<18}{value}")
    if request.notification_url and not getattr(backend, "supports_notification_url", True):
        ui.line("  Note: Greenfield does not send a per-invoice notification URL; use a store webhook.")
    if sheet.anomalies:
        ui.line(f"  Warning: {len(sheet.anomalies)} anomalies in the period (see `hourly report`).")


def _credentials(backend, settings: BTCPaySettings) -> str:
    from hourly_hooks.btcpay import transport  # here: `hourly report` imports this module, not requests

    if backend.name == "greenfield":
        return f"store {settings.store_id}, API key {transport.mask(settings.api_key)}"
    return f"private key (not shown), merchant token {transport.mask(settings.merchant_token)}"


def _ledger_details(request: InvoiceRequest, sheet, backend) -> dict:
    return {
        **server_of(backend),
        "amount": request.amount_text,
        "currency": request.currency,
        "hours": str(sheet.hours),
        "item_desc": request.item_desc,
        "time": time_json(request.time),
        "authors": time_json(request.authors),
        "clock_ins": [s.clock_in.sha for s in sheet.sessions],
    }
