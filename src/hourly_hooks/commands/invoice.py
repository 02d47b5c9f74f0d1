"""`hourly invoice` (bill a period on BTCPay Server) and `hourly invoices` (what is billed).

The protocol (what may be billed, and in which order things are asked,
recorded and created) is in btcpay/billing.py; this is the click layer.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import List, Optional, Tuple

import click

from hourly_hooks.btcpay import BACKENDS, BTCPaySettings, Invoice, backend_from, billing
from hourly_hooks.btcpay.authors import raw_authors
from hourly_hooks.btcpay.listing import listing
from hourly_hooks.btcpay import transport
from hourly_hooks.btcpay.ledger import Ledger
from hourly_hooks.commands.btcpay import host_and_pem, load_settings
from hourly_hooks import JSON_VERSION as VERSION
from hourly_hooks.commands.jsonflag import output_format
from hourly_hooks.commands.options import load_timesheet, open_repos, selection_options
from hourly_hooks.core.markers import parse_duration
from hourly_hooks.errors import EXIT_INTERRUPTED, HourlyError, NothingToBill, Rejected, UsageError
from hourly_hooks.git.run import run_git
from hourly_hooks.history import author_pattern, open_repository, refuse_shallow


# --------------------------------------------------------------- hourly invoice

@click.command()
@selection_options
@click.option("--buyer-email", metavar="EMAIL", help="The client's email (default: btcpay.buyer_email).")
@click.option("--buyer-name", metavar="NAME", help="The client's name (default: btcpay.buyer_name).")
@click.option("--backend", type=click.Choice(BACKENDS), help="Which BTCPay API (default: config, else the credentials present).")
@host_and_pem
@click.option("--expires", metavar="SPAN", help="How long the invoice can be paid, e.g. 24h, 90m, 2d (default: btcpay.expires, else the store's).")
@click.option("--payment-methods", metavar="LIST", help="onchain, lightning or both, comma-separated (default: btcpay.payment_methods, else the store's).")
@click.option("--replace", multiple=True, metavar="INVOICE_ID", help="Bill again the time of this partly paid invoice. Repeatable.")
@click.option("-y", "--yes", is_flag=True, help="Create the invoice without asking.")
@click.option("--dry-run", is_flag=True, help="Show the exact request and create nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the invoice as JSON.")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
@click.option("--timesheet", "timesheet_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write the invoice's timesheet (HTML; .json or .md by the name) with the manifest the "
                   "invoice carries: the document to send with it.")
@click.option("--each-repo", is_flag=True,
              help="With several --repo: one invoice per repository (each client billed apart), one after the other.")
def invoice(each_repo, **params) -> None:
    """Invoice your sessions in a period that no invoice holds yet.

    With several --repo, one invoice holds them all only when they bill the
    same client (same [client], BTCPay store, buyer and currency); otherwise
    it is refused: add --each-repo for one invoice per repository.

    \b
    Examples:
      hourly invoice --period last-month
      hourly invoice --period 2026-11
      hourly invoice --since 2020-01-01 --until 2020-01-05 --rate "100 USD" --dry-run
      hourly invoice --period 2026-11 --repo ../acme --repo ../globex --each-repo
    """
    paths = tuple(params.get("repo") or (".",))
    if not each_repo or len(paths) == 1:
        if len(paths) > 1:
            _refuse_mixed_clients(paths, params)
        _invoice_one(**params)
        return
    empty = []
    for path in paths:
        click.echo(f"== {path} ==", err=params["as_json"])
        try:
            _invoice_one(**dict(params, repo=(path,)))
        except NothingToBill as error:  # the other clients may still have time to bill
            click.echo(f"{path}: {error.message}", err=True)
            empty.append(path)
    if len(empty) == len(paths):
        raise NothingToBill(f"Nothing to bill in any of the {len(paths)} repositories.")


def _refuse_mixed_clients(paths: Tuple[str, ...], params: dict) -> None:
    """UsageError when the repositories bill different clients: one invoice never mixes them."""
    clients = {path: _client_of(path, params) for path in paths}
    if len(set(clients.values())) == 1:
        return
    first = paths[0]
    differ = [path for path in paths if clients[path] != clients[first]]
    keys = [label for index, (label, _) in enumerate(clients[first])
            if any(clients[path][index] != clients[first][index] for path in differ)]
    described = "; ".join(f"{path}: " + ", ".join(f"{label} {dict(clients[path])[label] or '(none)'}"
                                                   for label in keys) for path in paths)
    raise UsageError(f"{first} and {', '.join(differ)} bill different clients ({described}): "
                     "one invoice never mixes clients or currencies.",
                     hint="Invoice each repository on its own (hourly invoice --repo PATH ...), "
                          "or add --each-repo for one invoice per repository.")


def _client_of(path: str, params: dict) -> Tuple[Tuple[str, str], ...]:
    """Who a repository bills, as its own configuration (and the flags over it) says."""
    from hourly_hooks import config as config_module
    from hourly_hooks.btcpay import settings_from
    from hourly_hooks.commands.options import selection_flags, rates_of

    repo = open_repository(path)
    cfg = config_module.load(repo.top, flags=selection_flags(params))
    settings = settings_from(cfg.table("btcpay"), repo_root=str(repo.top), host=params.get("host"),
                             buyer_email=params.get("buyer_email"), buyer_name=params.get("buyer_name"))
    rates = rates_of(cfg)
    currencies = sorted({rate.currency for rate in (rates.default, *rates.by_identity.values()) if rate})
    client = ", ".join(f"{key}={value}" for key, value in sorted(cfg.table("client").items()))
    return (("[client]", client), ("host", settings.host or ""), ("store", settings.store_id or ""),
            ("buyer", settings.buyer_email or settings.buyer_name or ""), ("currency", "/".join(currencies)))


def _invoice_one(buyer_email, buyer_name, backend, host, pem, expires, payment_methods, replace, yes, dry_run,
                 as_json, insecure, timesheet_file=None, **params) -> None:
    """One invoice: the repositories of params["repo"] bill one client."""
    repos = open_repos(params)
    repo = repos[0]
    refuse_shallow(repo)  # a cut history under-bills
    email = None if params.get("author") else _my_email(repo)
    authors = () if email is None else (author_pattern(email),)
    loaded = load_timesheet(params, authors, repos=repos)
    for warning in loaded.timesheet.warnings:  # a [rates] key that matches no one
        click.echo(warning, err=True)
    billing.check_sessions(loaded.timesheet, who=email or " / ".join(params["author"]))
    settings = load_settings(repo.top, loaded.config, backend=backend, host=host, pem=pem,
                             insecure=insecure, buyer_email=buyer_email, buyer_name=buyer_name,
                             expires=expires, payment_methods=payment_methods)
    chosen = backend_from(settings)
    ui = _Output(as_json, settings, yes)
    raw = raw_authors(loaded.repos, loaded.timesheet.lines)
    made: dict = {}  # the bill and the manifest the invoice carries, for --timesheet

    def manifest_of(bill, left_out):
        made.update(bill=bill, manifest=_manifest_of(loaded, params, authors)(bill, left_out))
        return made["manifest"]

    roots = None
    if timesheet_file and not dry_run:  # the origin's root commits, asked beside the billing
        from hourly_hooks.commands.report import start_roots

        roots = start_roots(loaded.repos)
    created = billing.invoice(loaded.timesheet, settings, Ledger(repo.git_dir), ui,
                              who=email or " / ".join(params["author"]), backend=chosen, dry_run=dry_run,
                              replace=tuple(replace), raw=raw, manifest_of=manifest_of)
    if created is not None and timesheet_file and "bill" in made:
        _write_timesheet(timesheet_file, dataclasses.replace(loaded, timesheet=made["bill"]), made["manifest"],
                         created.id, roots)


def _write_timesheet(path: str, loaded, manifest: dict, invoice_id: str, roots) -> None:
    """The invoice's timesheet, with the very manifest its posData carries (the same number)."""
    from hourly_hooks.commands.report import document_of, render_report, write_file

    fmt = {".json": "json", ".md": "markdown"}.get(os.path.splitext(path)[1].lower(), "html")
    billed = {line.session.clock_in.sha: invoice_id for line in loaded.timesheet.lines}
    document = document_of(loaded, billed, roots)
    write_file(path, render_report(fmt, loaded.timesheet, "session", billed, None, None, document, manifest, False))
    click.echo(f"Wrote the invoice's timesheet ({len(loaded.timesheet.lines)} session(s)) to {path}", err=True)


def _manifest_of(loaded, params: dict, authors):
    """How the bill's manifest is made: from the repositories read, as the report's is."""
    from hourly_hooks.verification import manifest_for

    all_refs = bool(loaded.config.get("all"))  # --all is in it, as the sessions were read
    read = tuple(params.get("author") or ()) or tuple(authors)  # the --author patterns the sessions were read with
    return lambda bill, left_out: manifest_for(bill, loaded.repos, all_refs, read, left_out)


def _my_email(repo) -> str:
    """Your address as history reads it: git user.email, through .mailmap (which may map it)."""
    email = run_git(["config", "user.email"], repo.top)[1].decode("utf-8", "replace").strip()
    if not email:
        raise UsageError("git user.email is not set: set it, or choose whose hours to bill with --author.")
    name = run_git(["config", "user.name"], repo.top)[1].decode("utf-8", "replace").strip()
    # With the name too: a .mailmap line may match on "Old Name <old@address>" only.
    code, out, _ = run_git(["check-mailmap", f"{name} <{email}>" if name else f"<{email}>"], repo.top)
    mapped = out.decode("utf-8", "replace").strip().rpartition("<")[2].rstrip(">") if code == 0 else ""
    return mapped or email


@dataclasses.dataclass
class _Output:
    """Human lines go to stdout, or to stderr when --json keeps stdout for JSON."""

    as_json: bool
    settings: BTCPaySettings
    yes: bool = False

    def line(self, text: str = "") -> None:
        click.echo(transport.redact(text, self.settings.secrets), err=self.as_json)

    def confirm(self, question: str) -> None:
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise Rejected("Not creating an invoice without a confirmation: no terminal to ask on.",
                           hint="Check the preview (or --dry-run), then run again with --yes.")
        if not _ask(question):
            raise Rejected("Nothing was created.")

    def document(self, document: dict, human_title: str) -> None:
        if self.as_json:
            document = {"version": VERSION, **document}
        text = transport.redact(json.dumps(document, indent=2, ensure_ascii=False), self.settings.secrets)
        if not self.as_json:
            click.echo(human_title)
        click.echo(text)

    def nothing_left(self, rows: List[dict]) -> None:
        if self.as_json:
            click.echo(json.dumps({"version": VERSION, "created": None, "left_out": rows}, indent=2))

    def invoice(self, inv: Invoice, existing: bool, raced: bool = False) -> None:
        if self.as_json:
            click.echo(json.dumps({"version": VERSION, **inv.to_json(), "existing": existing}, indent=2))
            return
        if raced:
            click.echo(f"The invoice to pay is the other run's ({inv.status}, {inv.amount} {inv.currency}).")
            click.echo(f"It may be paid here: {inv.url}")
        elif existing:
            paid = f", paid {inv.paid}" if inv.paid else ""
            click.echo(f"An invoice for this time already exists ({inv.status}{paid}, "
                       f"{inv.amount} {inv.currency}); no new one was created.")
            click.echo(f"It may be paid here: {inv.url}")
        else:
            click.echo(f"Success! Your invoice may be paid here: {inv.url}")


def _ask(question: str) -> bool:
    """click.confirm, but Ctrl-C exits 130 (click would say "Aborted!" and exit 1)
    and an end of input (Ctrl-D) is a no: neither creates anything."""
    while True:
        try:  # the prompt inside: a Ctrl-C that lands just after it is printed is the same answer
            click.echo(f"{question} [y/N]: ", nl=False, err=True)
            answer = sys.stdin.readline()
        except KeyboardInterrupt:
            click.echo("\nInterrupted: nothing was created.", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        if not answer:  # end of input
            click.echo(err=True)
            return False
        answer = answer.strip().lower()
        if answer in ("", "n", "no", "y", "yes"):
            return answer.startswith("y")
        click.echo("Error: answer y or n.", err=True)


# -------------------------------------------------------------- hourly invoices

@click.command()
@click.option("--repo", type=click.Path(file_okay=False), metavar="PATH", help="Repository (default: current).")
@click.option("--backend", type=click.Choice(BACKENDS), help="Which BTCPay API to ask for live status.")
@host_and_pem
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default=None,
              help="Output format [default: table].")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
@click.option("--watch", is_flag=True,
              help="Then ask again until no invoice is open (paid, expired or invalid), one line per change.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, metavar="SECONDS",
              help="--watch: the shortest wait between two polls (it doubles while nothing changes, up to 60 s).")
@click.option("--give-up", "give_up", default="10m", show_default=True, metavar="SPAN",
              help="--watch: stop (exit 5) when the server cannot be asked for this long, e.g. 90s, 30m.")
def invoices(repo: Optional[str], backend: Optional[str], host: Optional[str], pem: Optional[str],
             fmt: Optional[str], as_json: bool, insecure: bool, watch: bool, interval: float,
             give_up: str) -> None:
    """List the hourly invoices (this repository's ledger and the store's), with their live status.

    \b
    Examples:
      hourly invoices
      hourly invoices --watch          # until each open invoice is paid, expired or invalid
    """
    as_json = output_format(fmt, as_json, "table") == "json"
    patience = _watch_flags(watch, as_json, give_up)
    repository = open_repository(repo or ".")
    ledger = Ledger(repository.git_dir)
    client, problem = None, None
    try:
        client = backend_from(load_settings(repository.top, backend=backend, host=host, pem=pem, insecure=insecure))
    except UsageError:  # a value typed on this command line is never passed over
        raise
    except HourlyError as error:  # no credentials here: still list what the ledger knows
        if watch:
            raise  # watching is asking the server
        if ledger.orders():
            problem = error.message
    listed = listing(ledger, client)
    problem = listed.problem or problem
    if as_json:
        notes = {"notes": listed.notes} if listed.notes else {}  # only when invoices bill the same time
        click.echo(json.dumps({"version": VERSION, "invoices": listed.rows, **notes}, indent=2))
    else:
        _table(listed.rows)
    for note in listed.notes:
        click.echo(note, err=True)
    if problem:
        click.echo(f"Warning: statuses not refreshed from the server: {problem}", err=True)
    if watch and client is not None:
        _watch(ledger, client, interval, patience)


def _watch_flags(watch: bool, as_json: bool, give_up: str) -> float:
    """The --give-up span in seconds, once the --watch flags are known to fit together."""
    if watch and as_json:
        raise UsageError("--watch prints one line per change: it does not combine with --json / --format json.")
    try:
        seconds = parse_duration(give_up).total_seconds()
    except ValueError as error:
        raise UsageError(f"--give-up: {error}") from None
    if seconds <= 0:
        raise UsageError("--give-up must be longer than zero, e.g. 10m.")
    return seconds


def _watch(ledger: Ledger, client, interval: float, give_up: float) -> None:
    from hourly_hooks.btcpay import watch as watching

    count = len(watching.open_invoices(ledger, client))
    if not count:
        click.echo("No open invoice to watch.", err=True)
        return
    click.echo(f"Watching {count} open invoice(s) on {client.host} (Ctrl-C stops)...", err=True)
    try:
        watching.watch(ledger, client, interval=interval, give_up=give_up, show=click.echo,
                       warn=lambda text: click.echo(text, err=True))
    except KeyboardInterrupt:
        left = watching.open_invoices(ledger, client)
        click.echo(f"\nStopped watching: {len(left)} invoice(s) still open; every change seen is in the ledger.",
                   err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    click.echo("No open invoice left: each is paid, expired or invalid.", err=True)


def _table(rows: list) -> None:
    if not rows:
        click.echo("No invoices yet (hourly invoice creates one).")
        return
    for row in rows:
        when = (row["created"] or "")[:10] or "-"
        paid = f"  paid {row['paid']}" if row.get("paid") else ""
        status = row["status"] + (f" ({row['ended']})" if row.get("ended") else "") \
            + (f" (last seen {row['last_status']})" if row.get("last_status") else "")
        same = f"  SAME TIME AS {', '.join(row['same_time_as'])}" if row.get("same_time_as") else ""
        click.echo(f"{when}  {row['id'] or '-':<24} {row['amount'] or '?':>10} {row['currency'] or '':<4} "
                   f"{status:<11} {row['hours'] or '?'} h  {row['url'] or ''}{paid}{same}")


__all__: Tuple[str, ...] = ("invoice", "invoices")
