"""One payable invoice per piece of work, even when runs race.

Each clone's pending entry lives in its own ledger, and BTCPay does not keep
order ids unique, so two runs at the same moment can both create. That cannot
be prevented before the create; it is resolved right after it:

1. the created invoice is confirmed with a GET (an id the server does not
   have must not hold time: `confirm_created`);
2. the store's hourly invoices are read back: when more than one live invoice
   holds any of the same time, all runs agree on one winner, the earliest
   created (`race_key`), and the run whose invoice lost marks it Invalid
   (Greenfield, btcpay.store.canmodifyinvoices) and points at the winner, or,
   when it cannot, fails naming the duplicate to invalidate by hand;
3. until one is invalid, `hourly invoices` and `hourly report` flag both
   (`flag`, `overlapping_groups`), and say so when both were paid.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from hourly_hooks.btcpay import MODIFY_PERMISSION, PAID, PAID_LATE, PARTLY_PAID, PAYING, Invoice
from hourly_hooks.btcpay.authors import overlapping
from hourly_hooks.btcpay.ledger import VOID_STATUSES, time_of
from hourly_hooks.errors import BTCPayError

# States in which money reached an invoice: a second one of these is a refund to make.
MONEY_IN = (PAYING, PAID, PAID_LATE)
# A partly paid invoice's time is billed again on purpose (`hourly invoice --replace`):
# it never counts as a rival or a duplicate.
_NOT_RIVALS = VOID_STATUSES + (PARTLY_PAID,)


def confirm(backend, invoice_id: str) -> Optional[Invoice]:
    """The invoice as the server has it now; None when the server says it has no such invoice."""
    try:
        return backend.get(invoice_id)
    except BTCPayError as error:
        if error.status == 404:
            return None
        raise


def confirm_created(backend, ledger, order_id: str, created: Invoice) -> Invoice:
    """The created invoice, confirmed by a GET before it holds any time.

    Only a "no such invoice" answer disowns it: when the GET itself fails, the
    create's answer is recorded, and later runs ask for it again (known_time).
    """
    try:
        confirmed = confirm(backend, created.id)
    except BTCPayError:
        return created
    if confirmed is not None:
        return confirmed
    ledger.failed(order_id, f"the create answered with invoice {created.id}, which the server does not have")
    raise BTCPayError(f"BTCPay Server answered the create with invoice {created.id}, but has no such invoice: "
                      "nothing is billed and no time is held.",
                      hint="Run `hourly invoices` to see what the server holds, then run again.")


def same_time(a, b) -> bool:
    """Whether two invoices (or ledger records as Invoice-like) bill some of the same time."""
    return overlapping(a.authors, b.authors) if a.authors and b.authors else overlapping(a.time, b.time)


def race_key(invoice: Invoice, rank: int) -> Tuple:
    """Earliest created wins; Greenfield's createdTime is whole seconds, so within a
    second the server's own order (it lists by full-precision creation time) decides,
    then the id: every run reading the store sees the same order."""
    created = invoice.created.timestamp() if invoice.created else float("inf")
    return (created, rank, invoice.id)


def settle_race(backend, ledger, order_id: str, created: Invoice, ui) -> Invoice:
    """The invoice to pay for this time: `created`, unless a same-moment run's was earlier."""
    try:
        listed = backend.hourly_invoices()               # newest first, like the server lists them
    except BTCPayError as error:
        ui.line(f"Warning: could not check for a same-moment duplicate ({error.message}): "
                "run `hourly invoices`, which names any.")
        return created
    ranks = {inv.id: len(listed) - index for index, inv in enumerate(listed)}
    ranks.setdefault(created.id, len(listed) + 1)        # not listed yet: the newest
    rivals = {inv.id: inv for inv in listed
              if inv.status not in _NOT_RIVALS and inv.id != created.id and same_time(inv, created)}
    if not rivals:
        return created
    group = [created, *rivals.values()]
    winner = min(group, key=lambda inv: race_key(inv, ranks[inv.id]))
    if winner.id == created.id:
        return created                                   # the later ones are their runs' to resolve
    try:
        marked = backend.mark_invalid(created.id)
    except (NotImplementedError, BTCPayError) as error:
        # Both remembered, so `hourly report` and `hourly invoices` here flag the pair
        # (offline too) and name the same one to invalidate.
        ledger.created(winner.order_id or order_id, winner, backend, reused=True)
        ledger.append({"event": "status", "order_id": order_id, "invoice_id": created.id,
                       "duplicate_of": winner.id})
        raise _by_hand(created, winner, error) from None
    ledger.status(order_id, marked, backend)
    ui.line(f"Another run billed the same time at the same moment; its invoice {winner.id} was created first. "
            f"This run's invoice {created.id} is marked Invalid, so only one can be paid.")
    return winner


def _by_hand(created: Invoice, winner: Invoice, error: Exception) -> BTCPayError:
    why = "the legacy API cannot mark an invoice" if isinstance(error, NotImplementedError) else \
        f"marking it Invalid failed: {getattr(error, 'message', error)}"
    return BTCPayError(
        f"Duplicate invoice: this run created {created.id} ({created.url}) for time that {winner.id} "
        f"({winner.url}), created a moment earlier by another run, already bills. Mark {created.id} Invalid "
        f"by hand in BTCPay (Invoices, {created.id}, Mark as invalid); {winner.id} is the one to pay ({why}).",
        hint=f"With {MODIFY_PERMISSION} on a Greenfield API key, hourly marks such a duplicate itself.")


# ------------------------------------------------------- flags in listings and reports

class _Record:
    """A ledger invoice record, shaped for same_time."""

    def __init__(self, invoice_id: str, record: dict, order):
        self.id = invoice_id
        self.status = str(record.get("status"))
        self.created = str(record.get("created") or "")
        self.url = record.get("url")
        self.time = time_of(record.get("time")) or order.time
        self.authors = time_of(record.get("authors")) or time_of(order.details.get("authors"))
        self.duplicate_of = record.get("duplicate_of")


def overlapping_groups(orders) -> List[List[_Record]]:
    """Groups (two or more) of live ledger invoices that bill some of the same time, oldest first."""
    records = [_Record(invoice_id, record, order) for order in orders.values()
               for invoice_id, record in order.invoices.items()
               if record.get("status") not in _NOT_RIVALS and not record.get("missing")]
    groups: List[List[_Record]] = []
    for record in records:
        joined = [g for g in groups if any(same_time(record, other) for other in g)]
        merged = [record] + [r for g in joined for r in g]
        groups = [g for g in groups if g not in joined] + [merged]
    return [sorted(g, key=lambda r: (r.created, bool(r.duplicate_of), r.id)) for g in groups if len(g) > 1]


def group_note(group: Sequence[_Record]) -> str:
    """What to do about invoices that bill the same time."""
    names = ", ".join(f"{r.id} ({r.status})" for r in group)
    paid = [r for r in group if r.status in MONEY_IN]
    if len(paid) > 1:
        return (f"Paid twice: invoices {names} bill the same time and more than one was paid: "
                f"refund one (BTCPay: Invoices, the invoice, Refund).")
    candidates = paid or [r for r in group if not r.duplicate_of] or list(group)
    first = [r for r in candidates if r.created == candidates[0].created]
    if len(first) > 1:   # made in the same second: only the run that made them knew the order
        return (f"Duplicate: invoices {names} bill the same time: keep one of {', '.join(r.id for r in first)} "
                "(the one `hourly invoice` pointed at) and mark the others Invalid in BTCPay "
                "(Invoices, the invoice, Mark as invalid).")
    others = ", ".join(r.id for r in group if r is not first[0])
    return (f"Duplicate: invoices {names} bill the same time: keep {first[0].id} and mark {others} Invalid "
            "in BTCPay (Invoices, the invoice, Mark as invalid).")


def flag(rows: List[dict], orders) -> List[str]:
    """Mark in `rows` the invoices that bill the same time as another; the notes to show."""
    notes = []
    by_id: Dict[str, dict] = {row["id"]: row for row in rows if row.get("id")}
    for group in overlapping_groups(orders):
        notes.append(group_note(group))
        for record in group:
            if record.id in by_id:
                by_id[record.id]["same_time_as"] = [r.id for r in group if r is not record]
    return notes
