"""`hourly invoice` (bill a period on BTCPay Server) and `hourly invoices` (the ledger).

The order of events is what makes "never twice" hold:
1. the order id is derived from the sessions billed (same work, same id);
2. the server is asked for invoices with that id: a live one is shown, not
   replaced; an expired/invalid one is replaced only after confirmation;
3. after confirmation, under a lock, the server is asked again, a `pending`
   ledger entry is written, and only then is the invoice created.
"""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import click

from hourly_hooks.btcpay import (BACKENDS, BTCPaySettings, Invoice, InvoiceRequest, backend_from,
                                 order_id_for, settings_from)
from hourly_hooks.btcpay import transport
from hourly_hooks.btcpay.ledger import Ledger, billed_commits, same_server
from hourly_hooks.gitcmd import run_git
from hourly_hooks.commands.options import load_timesheet, selection_options
from hourly_hooks.errors import BTCPayError, HourlyError, NothingToBill, Rejected, UsageError
from hourly_hooks.history import author_pattern, open_repository, refuse_shallow


# --------------------------------------------------------------- hourly invoice

@click.command()
@selection_options
@click.option("--buyer-email", metavar="EMAIL", help="The client's email (default: btcpay.buyer_email).")
@click.option("--buyer-name", metavar="NAME", help="The client's name (default: btcpay.buyer_name).")
@click.option("--backend", type=click.Choice(BACKENDS), help="Which BTCPay API (default: config, else the credentials present).")
@click.option("-y", "--yes", is_flag=True, help="Create the invoice without asking.")
@click.option("--dry-run", is_flag=True, help="Show the exact request and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the invoice as JSON.")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
def invoice(buyer_email, buyer_name, backend, yes, dry_run, as_json, insecure, **params) -> None:
    """Invoice your sessions in a period on your BTCPay Server.

    \b
    Examples:
      hourly invoice --period last-month
      hourly invoice --since 2020-01-01 --until 2020-01-06 --rate "100 USD" --dry-run
    """
    repo = open_repository((params.get("repo") or (".",))[0])
    refuse_shallow(repo)  # a cut history under-bills
    email = None if params.get("author") else _my_email(repo)
    authors = () if email is None else (author_pattern(email),)
    loaded = load_timesheet(params, authors)
    sheet = loaded.timesheet
    _billable(sheet, who=email or " / ".join(params["author"]))
    settings = settings_from(loaded.config.table("btcpay"), repo_root=str(repo.top), backend=backend,
                             insecure=insecure, buyer_email=buyer_email, buyer_name=buyer_name)
    request = build_request(sheet, settings)
    chosen = backend_from(settings)
    say = _Output(as_json, settings)

    if dry_run:
        say.preview(request, sheet, chosen)
        say.document(chosen.describe(request), human_title="Request (not sent):")
        return

    existing = chosen.find(request.order_id)
    ledger = Ledger(repo.git_dir)
    live = [inv for inv in existing if inv.live]
    if live:
        _record_known(ledger, request.order_id, live, chosen)
        say.invoice(live[0], existing=True)
        return

    say.preview(request, sheet, chosen)
    _mention_elsewhere(say, ledger, request.order_id, chosen)
    _mention_overlap(say, ledger, request.order_id, sheet)
    for dead in existing:
        say.line(f"An earlier invoice for this work is {dead.status}: {dead.url}")
    _confirm(yes, "Replace it with this new invoice?" if existing else "Is this correct?")

    with ledger.lock():
        # Asked again under the lock: another run may have created it meanwhile.
        live = [inv for inv in chosen.find(request.order_id) if inv.live]
        if live:
            _record_known(ledger, request.order_id, live, chosen)
            say.invoice(live[0], existing=True)
            return
        ledger.pending(request.order_id, **_ledger_details(request, sheet, chosen))
        try:
            created = chosen.create(request)
        except BTCPayError as error:
            if not getattr(error, "maybe_created", False):
                ledger.failed(request.order_id, error.message)
            raise
        ledger.created(request.order_id, created, chosen)
    say.invoice(created, existing=False)


def build_request(sheet, settings: BTCPaySettings) -> InvoiceRequest:
    tz = sheet.selection.tz
    start = sheet.start.astimezone(tz).isoformat(timespec="seconds")
    end = sheet.end.astimezone(tz).isoformat(timespec="seconds")
    return InvoiceRequest(
        amount=sheet.amount,
        currency=sheet.currency,
        order_id=order_id_for(sheet.sessions),
        item_desc=f"{sheet.hours} hours worked from {start} to {end}",
        buyer_email=settings.buyer_email,
        buyer_name=settings.buyer_name,
        notification_url=settings.notification_url,
        redirect_url=settings.redirect_url,
        payment_methods=settings.payment_methods,
    )


def _billable(sheet, who: str) -> None:
    """Explain, instead of invoicing, anything that makes the bill wrong."""
    if sheet.open:
        first = min(sheet.open, key=lambda s: s.start)
        raise NothingToBill(
            f"A session is still open since {first.start.isoformat(timespec='seconds')} "
            f"({first.clock_in.short}): clock out first (hourly out), or end the period before it (--until).")
    if not sheet.lines or sheet.seconds <= 0:
        raise NothingToBill(f"No billable hours in the period for {who}.",
                            hint="Check the period with `hourly report` (and --author / --all).")
    if sheet.unpriced:
        raise NothingToBill("No hourly rate for these sessions: pass --rate \"100 USD\" or set `rate` "
                            "(or [rates]) in .hourly.toml.")
    if sheet.currency is None:
        raise NothingToBill(f"The sessions are priced in several currencies ({', '.join(sheet.amounts)}): "
                            "invoice one currency at a time (--author or --rate).")
    if sheet.amount is None or sheet.amount <= 0:
        raise NothingToBill("The amount to bill is zero.")


def _my_email(repo) -> str:
    email = run_git(["config", "user.email"], repo.top)[1].decode("utf-8", "replace").strip()
    if not email:
        raise UsageError("git user.email is not set: set it, or choose whose hours to bill with --author.")
    return email


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Rejected("Not creating an invoice without a confirmation: no terminal to ask on.",
                       hint="Check the preview (or --dry-run), then run again with --yes.")
    if not click.confirm(question, default=False, err=True):
        raise Rejected("Nothing was created.")


def _record_known(ledger: Ledger, order_id: str, invoices: List[Invoice], backend) -> None:
    """Add to the ledger invoices the server has but it does not (e.g. after a crash)."""
    orders = ledger.orders()
    known = orders[order_id].invoices if order_id in orders else {}
    for inv in invoices:
        if inv.id not in known:
            ledger.created(order_id, inv, backend, reused=True)


def _mention_elsewhere(say, ledger: Ledger, order_id: str, backend) -> None:
    """The ledger may know an invoice for this work on another server or store."""
    order = ledger.orders().get(order_id)
    for invoice_id, record in (order.invoices.items() if order else ()):
        if not same_server(record, backend) and record.get("status") not in ("expired", "invalid"):
            say.line(f"Note: invoice {invoice_id} for this work exists on {record.get('host')} "
                     f"(last seen {record.get('status')}).")


def _mention_overlap(say, ledger: Ledger, order_id: str, sheet) -> None:
    """Sessions already on another live invoice (say, last week's) would be billed twice."""
    billed = billed_commits(ledger.git_dir)
    others = {billed[s.clock_in.sha] for s in sheet.sessions if s.clock_in.sha in billed}
    order = ledger.orders().get(order_id)
    others -= set(order.invoices) if order else set()
    if others:
        count = sum(1 for s in sheet.sessions if billed.get(s.clock_in.sha) in others)
        say.line(f"Warning: {count} of these sessions are already billed on invoice "
                 f"{', '.join(sorted(others))} (see `hourly report`); narrow the period to avoid billing them twice.")


def _ledger_details(request: InvoiceRequest, sheet, backend) -> dict:
    return {
        "backend": backend.name,
        "host": backend.host,
        "store_id": getattr(backend, "store_id", None),
        "amount": str(request.amount),
        "currency": request.currency,
        "hours": str(sheet.hours),
        "item_desc": request.item_desc,
        "clock_ins": [s.clock_in.sha for s in sheet.sessions],
        "clock_outs": [s.clock_out.sha for s in sheet.sessions],
    }


class _Output:
    """Human lines go to stdout, or to stderr when --json keeps stdout for JSON."""

    def __init__(self, as_json: bool, settings: BTCPaySettings):
        self.as_json = as_json
        self.settings = settings

    def line(self, text: str = "") -> None:
        click.echo(transport.redact(text, self.settings.secrets), err=self.as_json)

    def preview(self, request: InvoiceRequest, sheet, backend) -> None:
        buyer = " ".join(filter(None, [request.buyer_name,
                                       f"<{request.buyer_email}>" if request.buyer_email else None]))
        rows = [
            ("Amount", f"{request.amount} {request.currency}"),
            ("Item", request.item_desc),
            ("Sessions", f"{len(sheet.lines)} ({', '.join(sorted({s.author for s in sheet.sessions}))})"),
            ("Order id", request.order_id),
            ("Buyer", buyer or "(none)"),
            ("Notification URL", request.notification_url or "(none)"),
            ("Redirect URL", request.redirect_url or "(none)"),
            ("Payment methods", ", ".join(request.payment_methods) or "(the store's)"),
            ("Server", f"{backend.host} ({backend.name} API)"),
            ("Credentials", self._credentials(backend)),
        ]
        self.line("Invoice preview:")
        for label, value in rows:
            self.line(f"  {label + ':':<18}{value}")
        if request.notification_url and not getattr(backend, "supports_notification_url", True):
            self.line("  Note: Greenfield does not send a per-invoice notification URL; use a store webhook.")
        if sheet.anomalies:
            self.line(f"  Warning: {len(sheet.anomalies)} anomalies in the period (see `hourly report`).")

    def _credentials(self, backend) -> str:
        if backend.name == "greenfield":
            return f"store {self.settings.store_id}, API key {transport.mask(self.settings.api_key)}"
        return f"private key (not shown), merchant token {transport.mask(self.settings.merchant_token)}"

    def document(self, document: dict, human_title: str) -> None:
        text = transport.redact(json.dumps(document, indent=2, ensure_ascii=False), self.settings.secrets)
        if not self.as_json:
            click.echo(human_title)
        click.echo(text)

    def invoice(self, inv: Invoice, existing: bool) -> None:
        if self.as_json:
            click.echo(json.dumps(dict(inv.to_json(), existing=existing), indent=2))
            return
        if existing:
            click.echo(f"An invoice for this work already exists ({inv.status}, {inv.amount} {inv.currency}); "
                       "no new one was created.")
            click.echo(f"It may be paid here: {inv.url}")
        else:
            click.echo(f"Success! Your invoice may be paid here: {inv.url}")


# -------------------------------------------------------------- hourly invoices

@click.command()
@click.option("--repo", type=click.Path(file_okay=False), metavar="PATH", help="Repository (default: current).")
@click.option("--backend", type=click.Choice(BACKENDS), help="Which BTCPay API to ask for live status.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
def invoices(repo: Optional[str], backend: Optional[str], as_json: bool, insecure: bool) -> None:
    """List the invoices made from this repository, with their live status."""
    from hourly_hooks import config as config_module

    repository = open_repository(repo or ".")
    ledger = Ledger(repository.git_dir)
    orders = ledger.orders()
    settings = settings_from(config_module.load(repository.top).table("btcpay"),
                             repo_root=str(repository.top), backend=backend, insecure=insecure)
    client, problem = None, None
    if orders:
        try:
            client = backend_from(settings)
        except HourlyError as error:  # no credentials here: still list what the ledger knows
            problem = error.message
    rows = []
    with ledger.lock():  # a concurrent `hourly invoice` may be creating a pending order
        for order in orders.values():
            problem = _refresh(order, ledger, client) or problem
            rows.extend(_rows(order))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        _table(rows)
    if problem:
        click.echo(f"Warning: statuses not refreshed from the server: {problem}", err=True)


def _refresh(order, ledger: Ledger, client) -> Optional[str]:
    """Update the order's statuses from the server; returns a problem, if any."""
    if client is None:
        return None
    try:
        if not order.invoices and order.state == "pending" and same_server(order.details, client):
            # A create whose answer never reached the ledger: ask by order id.
            found = client.find(order.order_id)
            for inv in found:
                ledger.created(order.order_id, inv, client, reused=True)
            if not found:
                ledger.failed(order.order_id, "not on the server")
        for invoice_id, record in list(order.invoices.items()):
            if not same_server(record, client):
                continue  # made on another server or store: its last known status is shown
            current = client.get(invoice_id)
            if current.status != record.get("status"):
                ledger.status(order.order_id, current, client)
    except BTCPayError as error:
        return error.message
    fresh = ledger.orders()[order.order_id]
    order.invoices, order.state = fresh.invoices, fresh.state
    return None


def _rows(order) -> list:
    details = order.details
    base = {"order_id": order.order_id, "hours": details.get("hours"), "item_desc": details.get("item_desc"),
            "sessions": len(order.clock_ins), "backend": details.get("backend")}
    if not order.invoices:
        state = "pending (unknown: run again when the server is reachable)" if order.state == "pending" else "not created"
        return [dict(base, id=None, url=None, amount=details.get("amount"), currency=details.get("currency"),
                     status=state, created=None)]
    return [dict(base, id=invoice_id, url=rec.get("url"), amount=rec.get("amount"),
                 currency=rec.get("currency"), status=rec.get("status"), created=rec.get("created"))
            for invoice_id, rec in order.invoices.items()]


def _table(rows: list) -> None:
    if not rows:
        click.echo("No invoices yet (hourly invoice creates one).")
        return
    for row in rows:
        when = (row["created"] or "")[:10] or "-"
        click.echo(f"{when}  {row['id'] or '-':<24} {row['amount'] or '?':>10} {row['currency'] or '':<4} "
                   f"{row['status']:<11} {row['hours'] or '?'} h  {row['url'] or ''}")
