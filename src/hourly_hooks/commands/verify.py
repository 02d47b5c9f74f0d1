"""`hourly verify FILE` and `hourly verify --invoice ID`: check a bill against the history."""

from __future__ import annotations

from typing import Optional, Tuple

import click

from hourly_hooks.btcpay import BACKENDS
from hourly_hooks.commands.btcpay import host_and_pem
from hourly_hooks.core.manifest import DIGEST_KEY, short
from hourly_hooks.core.reconcile import EQUAL
from hourly_hooks.errors import Altered, Incomplete, NotReproduced, UsageError
from hourly_hooks.history import open_repository


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--invoice", "invoice_id", metavar="ID",
              help="Verify the invoice with this id, from its posData (a view-only key is enough).")
@click.option("--repo", multiple=True, type=click.Path(file_okay=False), metavar="PATH",
              help="The clone to verify in (default: the current one); one per repository the bill read.")
@click.option("--backend", type=click.Choice(BACKENDS), help="With --invoice: which BTCPay API to ask.")
@host_and_pem
@click.option("--insecure", is_flag=True, help="Accept a self-signed TLS certificate (with a warning).")
def verify(file: Optional[str], invoice_id: Optional[str], repo: Tuple[str, ...], backend: Optional[str],
           host: Optional[str], pem: Optional[str], insecure: bool) -> None:
    """Recompute a timesheet (HTML or JSON) or an invoice from this clone's history.

    Each billed session is recomputed from the commits the bill names, under
    the bill's own rules (not this clone's configuration), and shown as equal
    or with what differs; then the recomputed total beside the billed one.
    Exit 0 only when the bill is reproduced to the cent.

    \b
    Examples:
      hourly verify timesheet.html
      hourly verify timesheet.json --repo ~/src/client-project
      hourly verify --invoice 7Xc2kq9VhQ3cZ1vR8tYb2a
    """
    from hourly_hooks import verification

    if bool(file) == bool(invoice_id):
        raise UsageError("give a timesheet FILE or --invoice ID (one of them)",
                         hint="hourly verify timesheet.html, or hourly verify --invoice ID")
    repos = [open_repository(path) for path in (repo or (".",))]
    claim = verification.read_file(file) if file else \
        verification.from_invoice(_fetched(str(invoice_id), repos[0], backend, host, pem, insecure))
    outcome = verification.verify(claim, repos)
    _show(outcome)
    _conclude(outcome)


def _fetched(invoice_id: str, repository, backend, host, pem, insecure):
    """The invoice, as the server has it (a Greenfield key that may only view invoices is enough)."""
    from hourly_hooks.btcpay import backend_from
    from hourly_hooks.commands.btcpay import load_settings

    settings = load_settings(repository.top, backend=backend, host=host, pem=pem, insecure=insecure)
    return backend_from(settings).get(invoice_id)


def _show(outcome) -> None:
    claim, verdict = outcome.claim, outcome.verdict
    data = claim.manifest
    period = data.get("period") if isinstance(data.get("period"), dict) else {}
    number = str(data.get(DIGEST_KEY) or "?")
    click.echo(f"Timesheet {short(number)} ({claim.origin}), made by hourly-hooks {data.get('tool')}")
    start, end = period.get("start"), period.get("end")
    click.echo(f"Period: {start or 'the beginning'} to {end or 'the end'} (end excluded)")
    for problem in claim.altered:
        click.echo(f"Altered: {problem}")
    for note in outcome.notes:
        click.echo(f"Note: {note}")
    if outcome.tips_missing:
        click.echo(f"This clone lacks the commit(s) the bill was made from: {', '.join(outcome.tips_missing)}")
    if outcome.tips_rewritten:
        click.echo(f"Note: no branch here contains the commit(s) the bill was made from (fetched by SHA, or "
                   f"the history was rewritten since): {', '.join(outcome.tips_rewritten)}")
    if outcome.read_from:
        click.echo(f"Recomputed from this clone's history instead: {', '.join(sha[:10] for sha in outcome.read_from)}")
    for finding in verdict.findings:
        click.echo(f"  {finding.status:<8} {finding.title}")
        for detail in finding.details:
            click.echo(f"           {detail}")
    click.echo(f"Billed:      {_figures(verdict.billed_hours, verdict.billed)}")
    click.echo(f"Recomputed:  {_figures(verdict.recomputed_hours, verdict.recomputed)}")


def _figures(hours: Optional[str], amounts: dict) -> str:
    money = ", ".join(f"{amount} {currency}" for currency, amount in sorted(amounts.items()))
    return f"{hours or '?'} h" + (f", {money}" if money else "")


def _conclude(outcome) -> None:
    verdict = outcome.verdict
    if outcome.claim.altered:
        raise Altered(f"{outcome.claim.origin} is not as it was made: its figures are not the ones it bills",
                      hint="Ask the sender for the original timesheet; the invoice carries the same digest.")
    if verdict.reproduced:
        click.echo("Verified: the history gives this bill, to the cent.")
        return
    if verdict.fetch or outcome.shallow:
        raise Incomplete(f"this clone lacks {len(verdict.fetch) or 'some'} commit(s) the bill names; "
                         "nothing was guessed", hint=_fetch_hint(outcome))
    count = sum(1 for f in verdict.findings if f.status != EQUAL)
    hint = (f"If the bill's commit exists upstream, fetch it and verify again: git fetch origin "
            f"{outcome.tips_missing[0]}") if outcome.tips_missing else None
    raise NotReproduced(f"the history does not give this bill: {count} session(s) differ (see above)" if count
                        else "the history does not give this bill's total (see above)", hint=hint)


def _fetch_hint(outcome) -> str:
    if outcome.shallow:
        return "This is a shallow clone: fetch the whole history with `git fetch --unshallow`, then verify again."
    fetches = " && ".join(f"git fetch origin {sha}" for sha in outcome.verdict.fetch[:5])
    more = f" (and {len(outcome.verdict.fetch) - 5} more)" if len(outcome.verdict.fetch) > 5 else ""
    return f"Fetch them: {fetches}{more}, or `git fetch --all`, then verify again."
