"""`hourly report` and `hourly demo`."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from datetime import datetime
from typing import Optional

import click

from hourly_hooks.core import budget
from hourly_hooks.output import extras
from hourly_hooks.output import period as periods
from hourly_hooks.output.chart import for_terminal
from hourly_hooks.commands.jsonflag import output_format
from hourly_hooks.commands.options import bulk, left_at_exit, load_timesheet, open_repos, selection_options
from hourly_hooks.errors import ConfigError, OutputError, Rejected
from hourly_hooks.history import shallow_warning
from hourly_hooks.pipes import page, reader_gone, silence_stdout
from hourly_hooks.output.render import FORMATS, GROUPINGS, anomaly_lines, render

LEDGER_FILE = ("hourly", "invoices.jsonl")  # btcpay.ledger.LEDGER, without importing it
OLD_REPORTS = ("hourly", "reports")  # where earlier versions remembered reports
DOCUMENT_FORMATS = ("json", "markdown", "html")  # the formats that carry the document (core/document.py)


def _read_worklog(loaded, params: dict):
    """The work log of a loaded report, read from the repositories and refs it read."""
    from hourly_hooks.git.worklog import for_sessions  # only when a report asks for it

    sheet = loaded.timesheet
    # --all is in the configuration (its flag layer), as the sessions were read with it.
    return for_sessions(sheet.sessions, loaded.repos, sheet.selection.identity, bool(loaded.config.get("all")),
                        tuple(params.get("author") or ()))


def billed_sessions(repos, sheet, with_status: bool = False) -> tuple:
    """(clock-in SHA -> invoice ids, notes about invoices that bill the same time).

    `with_status`: each id followed by the status the ledger last saw, "INV1 (paid)".

    Matched by the marker commits' raw authors and time (btcpay/authors.py),
    so a changed identity rule or .mailmap still shows billed time as billed.
    A session two live invoices hold shows both ids until one is invalid.
    """
    with_ledger = [repo for repo in repos if repo.git_dir.joinpath(*LEDGER_FILE).exists()]
    if not with_ledger or sheet is None:
        return {}, []  # the common case: no invoice yet, and no need to load the BTCPay code
    from hourly_hooks.btcpay.authors import raw_authors, touching
    from hourly_hooks.btcpay.billing import ledger_holders, split
    from hourly_hooks.btcpay.duplicates import group_note, overlapping_groups
    from hourly_hooks.btcpay.ledger import Ledger

    orders = [Ledger(repo.git_dir).orders() for repo in with_ledger]
    holders = [holder for each in orders for holder in ledger_holders(each)]
    parts = split(sheet.lines, holders, raw_authors(repos, touching(sheet.lines, holders)))
    billed = {line.session.clock_in.sha: holder.ref for line, holder in parts.covered + parts.waiting}
    groups = [group for each in orders for group in overlapping_groups(each)]
    together = {r.id: " + ".join(other.id for other in group) for group in groups for r in group}
    billed = {sha: together.get(ref, ref) for sha, ref in billed.items()}
    if with_status:
        from hourly_hooks.btcpay import listing
        statuses = listing.last_statuses(repo.git_dir for repo in with_ledger)
        billed = {sha: listing.with_status(refs, statuses) for sha, refs in billed.items()}
    # A session that an invoice's time covers only in part (the history changed after billing):
    # `hourly invoice` refuses to bill it, so the report says so rather than show it as unbilled.
    from hourly_hooks.core.markers import format_time

    tz = sheet.selection.tz
    partial = [f"Warning: the session from {format_time(line.session.start.astimezone(tz))} "
               f"({line.session.identity}) overlaps time {', '.join(h.ref for h in holders)} holds, only in "
               "part: `hourly invoice` will not bill it; check the history (amended or rewritten markers?)"
               for line, holders in parts.partial]
    return billed, [group_note(group) for group in groups] + partial


@click.command()
@selection_options
@click.option("--by", type=click.Choice(GROUPINGS), default="session", show_default=True,
              help="One row per session, or totals per period, author or repository.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Output format [default: table].")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write to FILE instead of stdout (- is stdout).")
@click.option("--strict", is_flag=True, help="Exit 1 when there are anomalies (for CI).")
@click.option("--worklog", is_flag=True, help="List the commits made during each session (html always does).")
@click.option("--chart", is_flag=True, help="After the table, a bar chart of hours per day (or per --by group).")
@click.option("--wide", is_flag=True, help="The table with full times, offsets, durations and emails (wider than 80 columns).")
@click.option("--anomalies", "list_anomalies", is_flag=True,
              help="List each anomaly with its commits (default: a count per kind; --strict lists them).")
@click.option("--check", is_flag=True, help="Print the anomalies and the verdict only, not the timesheet (for CI).")
@click.option("--no-pager", is_flag=True, help="Do not page the output on a terminal.")
def report(by: str, fmt: Optional[str], as_json: bool, output: str, strict: bool, worklog: bool, chart: bool,
           wide: bool, list_anomalies: bool, check: bool, no_pager: bool, **params) -> None:
    """Print the timesheet for a period.

    \b
    Examples:
      hourly report --period last-month --rate "100 USD"
      hourly report --period 2026-11 --tz America/New_York
      hourly report --since 2020-01-01 --until 2020-01-05 --tz America/New_York
      hourly report --all --by week --format csv -o week.csv
    """
    fmt = output_format(fmt, as_json, "table")
    extras.check_flags(fmt, output, worklog, chart)
    left_at_exit()
    with bulk():
        # The document's root commits walk the whole history: asked first, read last.
        repos = open_repos(params)
        roots = start_roots(repos) if fmt in DOCUMENT_FORMATS and not check else None
        loaded = load_timesheet(params, repos=repos)
        _forget_old_reports(loaded.repos)
        sheet = loaded.timesheet
        cut = [warning for warning in map(shallow_warning, loaded.repos) if warning]
        for warning in cut:
            click.echo(f"Warning: {warning}", err=True)
        log = _read_worklog(loaded, params) if extras.wants_worklog(fmt, worklog) else None
        # The table's invoice column says the status too; every other format keeps the bare id
        # (a key to look the invoice up by; the timesheet's document shows the status itself).
        billed, billing_notes = billed_sessions(loaded.repos, sheet, with_status=fmt == "table")
        spent = _budget(loaded, params)
        # The JSON and HTML timesheets carry the manifest (hourly verify); its digest is the
        # document's number until an invoice gives it one (built beside a big sheet's rows).
        manifest = _manifest(loaded, params, fmt) if roots is not None else None
        document = document_of(loaded, billed, roots) if roots is not None else None
        text = "" if check else render_report(fmt, sheet, by, billed, log, spent, document, manifest, wide)
    drawn = "\n" + for_terminal(sheet, by) if chart and not check else ""
    if output and output != "-" and not check:
        write_file(output, text)
        click.echo(f"Wrote {len(sheet.lines)} session(s) to {output}", err=True)
        if fmt == "timeclock" and not output.endswith(".timeclock"):
            click.echo(f"Warning: hledger reads {output} as a journal, not timeclock: name it *.timeclock, "
                       f"or read it with hledger -f timeclock:{output}", err=True)
        text = ""  # the chart, if any, still goes to stdout
    if text + drawn:
        show(text + drawn, pager=not no_pager)
    _explain(sheet, full=list_anomalies or strict or check)
    if check:
        click.echo(_verdict(sheet, strict))
    for note in billing_notes:
        click.echo(note, err=True)
    if spent is not None:
        click.echo(spent.line(), err=True)
    if strict and sheet.anomalies:
        raise Rejected(f"{len(sheet.anomalies)} anomalies in the period (see above)")
    if strict and cut:
        raise Rejected("the history is cut (shallow clone); see the warning above")
    if strict and spent is not None and spent.exceeded:
        raise Rejected(f"the budget is exceeded: {spent.used} h used of {spent.limit} h")


def render_report(fmt: str, sheet, by: str, billed: dict, log, spent, document, manifest, wide: bool) -> str:
    """The report's text; the document (None outside DOCUMENT_FORMATS) heads the Markdown,
    is the JSON's "document" key and makes the HTML page a bill; the manifest (built, or
    being built: a Beside of its text) is the JSON's "manifest" key and the HTML page's
    data block, and its digest numbers the document that no one invoice numbers."""
    from hourly_hooks.beside import Beside
    from hourly_hooks.core.manifest import digest_of, short, text_of

    def carried() -> str:  # the manifest's text, waited for when it is being built
        return manifest.result() if isinstance(manifest, Beside) else text_of(manifest)

    def numbered():
        if document.number or manifest is None:
            return document
        return dataclasses.replace(document, number=short(digest_of(carried())))

    if fmt == "html":
        from hourly_hooks.output.html import html

        return html(sheet, by, billed, log, document and numbered(), None if manifest is None else carried())
    if document is not None and fmt == "markdown":
        from hourly_hooks.output.document import markdown_header

        # The invoice is in the header: a row names its own only when the rows differ.
        body = render(fmt, sheet, by, document.row_invoices, log)
        return "\n".join(markdown_header(numbered())) + "\n" + body
    # The JSON document carries the budget (null without one) as its last key; the document
    # and the manifest go in last of all (jsontext.json_text), once the manifest is built.
    extra = {"document": lambda: json.dumps(numbered().to_json()), "manifest": carried} \
        if document is not None and fmt == "json" else {}
    return render(fmt, sheet, by, billed, log, dict(extra, budget=spent.to_json() if spent else None), wide)


def start_roots(repos) -> list:
    """The root-commit question of each repository the report reads, started (history.Roots)."""
    from hourly_hooks.history import Roots

    return [Roots(repo) for repo in repos]


def document_of(loaded, billed: dict, roots: list):
    """The timesheet's document (core/document.py) from the configuration, the ledger and git;
    numbered by its one invoice, if one bills every session (else render_report numbers it)."""
    from hourly_hooks import __version__
    from hourly_hooks.core.document import Source, build

    sheet = loaded.timesheet
    sources = [Source(repo.name, repo.head, tuple(job.result())) for repo, job in zip(loaded.repos, roots)]
    return build(sheet, datetime.now(sheet.selection.tz).date(), contractor=loaded.config.table("contractor"),
                 client=loaded.config.table("client"), billed=billed, records=_invoice_records(loaded.repos, billed),
                 sources=sources, version=__version__)


def _invoice_records(repos, billed: dict) -> dict:
    """Invoice id (or a pending order's id) -> what the ledgers last recorded of it, for the ids in billed."""
    wanted = {ref for value in billed.values() for ref in value.split(" + ")}
    if not wanted:
        return {}
    from hourly_hooks.btcpay.ledger import Ledger
    from hourly_hooks.core.document import invoice

    found = {}
    for repo in repos:
        for order in Ledger(repo.git_dir).orders().values():
            if order.order_id in wanted and not order.invoices:
                found[order.order_id] = invoice(order.order_id, dict(order.details, status="pending"))
            for invoice_id, record in order.invoices.items():
                if invoice_id in wanted:
                    found[invoice_id] = invoice(invoice_id, record, order.order_id)
    return found


def _manifest(loaded, params: dict, fmt: str):
    """What `hourly verify` recomputes the timesheet from (verification.py): its text, started
    in a child beside the rendering of a big timesheet's rows (beside.py). The JSON carries it
    last; the Markdown header, which shows its digest, goes on once the rows are rendered. The
    HTML page shows the digest before its rows: it would only wait, so it makes it in place."""
    from hourly_hooks import __version__
    from hourly_hooks.beside import Beside
    from hourly_hooks.core.manifest import build
    from hourly_hooks.git.commits import source_of

    sheet = loaded.timesheet
    # What git knows (the tips, the raw emails) is read here: the child only computes.
    source = source_of(loaded.repos, bool(loaded.config.get("all")), tuple(params.get("author") or ()), sheet.lines,
                       __version__)
    return Beside(lambda: build(sheet, source).text, len(sheet.lines) if fmt != "html" else 0)


def _forget_old_reports(repos) -> None:
    """Delete the reports an older hourly remembered (up to 64 MiB per clone): nothing reads
    them now. Quietly, and in effect once: after that, one stat finds nothing."""
    for repo in repos:
        folder = os.path.join(repo.common_dir, *OLD_REPORTS)
        if os.path.isdir(folder):
            shutil.rmtree(folder, ignore_errors=True)


def _budget(loaded, params: dict) -> Optional[budget.Usage]:
    """The configured budget's use, in the period holding the report's end (else now).

    The same authors and repositories as the report; the budget's period
    is read on its own when the report's window does not cover it.
    """
    cfg = loaded.config
    try:
        plan = budget.spec_of(cfg.get("budget"), cfg.get("contract"), cfg.get("contract_start"))
    except ValueError as error:  # the configuration's checks have read each key's format
        raise ConfigError(f"budget: {error}") from None
    if plan is None:
        return None
    selection = loaded.timesheet.selection
    tz = selection.tz
    moment = budget.reference(selection.until, datetime.now(tz))
    start, end = budget.bounds(plan, moment, tz)
    if plan.per == "contract":
        end = selection.until  # a contract's use so far, up to the report's end
    sheet = loaded.timesheet
    covered = (selection.since is None or selection.since <= start) and \
        (selection.until is None or (end is not None and selection.until >= end))
    if not covered:
        sheet = load_timesheet(dict(params, period=None, since=start.isoformat(),
                                    until=end.isoformat() if end else None)).timesheet
    spent = [(line.session.start, line.seconds) for line in sheet.lines
             if end is None or line.session.start < end]
    return budget.usage(plan, spent, moment, tz)


def write_file(path: str, text: str) -> None:
    """Write text to path; OutputError, in one line, when it cannot be written."""
    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as error:  # a missing folder, no permission: the file is as it was
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with handle:
            handle.write(text)
    except OSError as error:
        if os.path.isfile(path):  # a truncated report must not pass for a whole one
            try:
                os.unlink(path)
            except OSError:
                pass
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def show(text: str, pager: bool = True) -> None:
    """Print text; on a terminal through the pager (pipes.page), as git does, unless asked not to."""
    if not (pager and sys.stdout.isatty() and page(text)):
        write_stdout(text)


def write_stdout(text: str) -> None:
    """Print text; OutputError when stdout cannot take it (stdout is /dev/full), and a
    quiet exit when the reader of the pipe has gone (`hourly report | head`)."""
    try:
        # Off a terminal, click strips terminal codes with a pattern scan of the whole text
        # (20 MB at 1M commits, 40 ms): where there is none (no ESC), color=True skips it.
        click.echo(text, nl=False, color=None if "\x1b" in text else True)
    except OSError as error:
        silence_stdout()
        if reader_gone(error):
            raise click.exceptions.Exit(OutputError.exit_code) from None
        raise OutputError(f"cannot write the report to stdout: {error.strerror or error}") from None


def _verdict(sheet, strict: bool) -> str:
    """One line for CI: what was checked and whether it passed; no hours, no amounts."""
    sessions = f"{len(sheet.lines)} session(s), {periods.of(sheet.selection).text}"
    if not sheet.anomalies:
        return f"hourly: OK, no anomalies in {sessions}"
    count = len(sheet.anomalies)
    return f"hourly: {'FAILED' if strict else 'found'} {count} anomal{'y' if count == 1 else 'ies'} in {sessions}"


def _explain(sheet, err: bool = True, full: bool = False) -> None:
    """What was left out and why, on stderr so redirected output stays clean."""
    for warning in sheet.warnings:
        click.echo(warning, err=err)
    if sheet.ignored:
        words = ", ".join(repr(text) for text in sheet.selection.ignore)
        click.echo(f"Ignored {len(sheet.ignored)} session(s) matching {words}.", err=err)
    lines = anomaly_lines(sheet, full)
    if lines:  # in one write: a big history has thousands
        click.echo("\n".join(lines), err=err)


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo repository and print its path.")
def demo(keep: bool) -> None:
    """Build a throwaway repository with a realistic week and report on it."""
    from hourly_hooks.demo import demo_repository

    with demo_repository(keep=keep) as path:
        click.echo(f"Demo repository: {path}\n")
        click.echo("$ hourly report --all --tz America/New_York\n")
        loaded = load_timesheet({"repo": (str(path),), "all_refs": True, "tz": "America/New_York"})
        click.echo(render("table", loaded.timesheet), nl=False)
        click.echo()
        _explain(loaded.timesheet, err=False)
        click.echo("\n$ hourly report --all --tz America/New_York --by author\n")
        click.echo(render("table", loaded.timesheet, "author"), nl=False)
        if keep:
            click.echo(f"\nKept {path}; try: cd {path} && hourly report --format json")
    if not keep:
        click.echo(f"\nRemoved the demo repository {path}; run `hourly demo --keep` to keep it and play with it.")
