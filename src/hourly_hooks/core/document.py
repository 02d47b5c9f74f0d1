"""The timesheet as a document a client files: who it is from and to, what it bills, where it came from.

Pure data, built from what the command layer read: the Timesheet, the
``[contractor]`` and ``[client]`` configuration tables, the ledger's records
of the invoices that bill the sheet's sessions, and the repositories' facts
(name, root commit, HEAD). The renderers (output/html.py, output/document.py,
the JSON report) only format it. What is not known is left out, never made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from hourly_hooks.core.timesheet import Timesheet

# How `hourly invoices` names an invoice's state (btcpay.state_of), as a client reads it.
# "void" is an invoice that expired unpaid or was marked invalid: nothing is due on it.
STATUS_TEXT = {
    "open": "open, awaiting payment",
    "paying": "payment received, awaiting confirmation",
    "paid": "paid",
    "paid late": "paid late",
    "partly paid": "partly paid",
    "void": "void (expired unpaid, or invalid)",
    "expired": "expired",        # ledgers of earlier versions
    "invalid": "invalid",
    "pending": "being created (no answer from the server yet)",
}
# The state in which the invoice can still be paid through its link. A partly paid invoice
# has expired on the server (BTCPay's Expired + PaidPartial): what was paid is shown instead.
DUE_STATES = ("open",)


@dataclass(frozen=True)
class Party:
    """The contractor or the client: each part optional."""

    name: Optional[str] = None
    address: Tuple[str, ...] = ()
    email: Optional[str] = None
    tax_id: Optional[str] = None

    def to_json(self) -> dict:
        return {"name": self.name, "address": list(self.address), "email": self.email, "tax_id": self.tax_id}


def party(settings: Mapping[str, Any]) -> Optional[Party]:
    """A party from its configuration table (config.table("client")); None when nothing is set."""
    address = settings.get("address") or ()
    if isinstance(address, str):
        address = (address,)
    found = Party(settings.get("name") or None, tuple(line for line in address if line.strip()),
                  settings.get("email") or None, settings.get("tax_id") or None)
    return None if found == Party() else found


@dataclass(frozen=True)
class Invoice:
    """What the ledger last recorded of one invoice (refreshed by `hourly invoices`)."""

    id: str
    status: str
    url: Optional[str] = None
    amount: Optional[str] = None        # fixed-point text, as the ledger keeps it
    currency: Optional[str] = None
    paid: Optional[str] = None          # "what was paid of what was asked", when partly paid
    created: Optional[str] = None
    expires: Optional[str] = None
    order_id: Optional[str] = None

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status)

    @property
    def due(self) -> bool:
        """The amount is still owed on it."""
        return self.status in DUE_STATES

    def to_json(self) -> dict:
        return {"id": self.id, "order_id": self.order_id, "status": self.status, "url": self.url,
                "amount": self.amount, "currency": self.currency, "paid": self.paid,
                "created": self.created, "expires": self.expires}


def invoice(invoice_id: str, record: Mapping[str, Any], order_id: Optional[str] = None) -> Invoice:
    """An Invoice from a ledger record (btcpay/ledger.py: an order's invoice record, or a
    pending order's details with status "pending"). A void invoice says why when the record
does ("ended": expired unpaid, or invalid); ``expires`` is read when the record has it."""
    def text(key: str) -> Optional[str]:
        value = record.get(key)
        return None if value in (None, "") else str(value)
    status = text("status") or "unknown"
    if status == "void" and text("ended") in ("expired", "invalid"):  # the ledger says which
        status = str(text("ended"))
    return Invoice(invoice_id, status, text("url"), text("amount"), text("currency"),
                   text("paid"), text("created"), text("expires"), order_id)


@dataclass(frozen=True)
class Source:
    """One repository the sheet was read from: the commits a reader can check it against."""

    name: str
    head: Optional[str]
    roots: Tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "head": self.head, "roots": list(self.roots)}


@dataclass(frozen=True)
class Document:
    """Who, what and from where: everything on the timesheet that is not a session row."""

    issued: date
    contractor: Optional[Party] = None
    client: Optional[Party] = None
    number: Optional[str] = None
    invoices: Tuple[Invoice, ...] = ()
    sources: Tuple[Source, ...] = ()
    tool: str = "hourly-hooks"
    version: str = ""
    # Clock-in SHA -> invoice id, shown per row only when the rows do not share one invoice.
    row_invoices: Dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "issued": self.issued.isoformat(),
            "contractor": self.contractor.to_json() if self.contractor else None,
            "client": self.client.to_json() if self.client else None,
            "invoices": [item.to_json() for item in self.invoices],
            "origin": {"tool": self.tool, "version": self.version,
                       "repositories": [source.to_json() for source in self.sources]},
        }


def build(sheet: Timesheet, issued: date, *, contractor: Mapping[str, Any], client: Mapping[str, Any],
          billed: Mapping[str, str], records: Mapping[str, Invoice], sources: Sequence[Source],
          version: str, number: Optional[str] = None) -> Document:
    """The document of sheet.

    billed: clock-in SHA -> the invoice id (or ids, " + "-joined) holding the session
    (commands/report.billed_sessions); records: invoice id -> what the ledger knows.
    The number is the invoice's id when one invoice bills every session, else the
    number given (the timesheet's own, when the caller has one), else none.
    """
    # (Nothing billed, the usual case, asks nothing per session: a whole history has 43k.)
    ids = [billed.get(line.session.clock_in.sha, "") for line in sheet.lines] if billed else []
    shown = list(dict.fromkeys(ref for value in ids if value for ref in value.split(" + ")))
    invoices = tuple(records.get(ref) or Invoice(ref, "unknown") for ref in shown)
    one = len(set(ids)) == 1 and len(shown) == 1 and invoices[0].status != "pending"
    return Document(
        issued=issued, contractor=party(contractor), client=party(client),
        number=shown[0] if one else number, invoices=invoices, sources=tuple(sources), version=version,
        row_invoices={} if one or not shown else {line.session.clock_in.sha: value
                                                  for line, value in zip(sheet.lines, ids)},
    )


def party_lines(who: Party) -> List[str]:
    """The party as the lines of an address block, the name first."""
    lines = [who.name] if who.name else []
    lines += list(who.address)
    if who.email:
        lines.append(who.email)
    if who.tax_id:
        lines.append(f"Tax ID: {who.tax_id}")
    return lines
