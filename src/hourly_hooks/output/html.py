"""The timesheet as one self-contained HTML page, to send a client or print to PDF.

Everything is inline: the styles, a chart of hours per day drawn in SVG, no
script, no font, stylesheet or image fetched from anywhere, so the page looks
the same offline, in a mail attachment and years later. Every piece of text
from history (names, notes, commit subjects) goes through ``html.escape``.
The figures are the Timesheet's, formatted by the same money functions as
``hourly report``'s table, so the page and the table agree on every figure.
With the document (core/document.py) it is a bill a client files: who it is
from and to, its number, issue date and invoice, and the commits it was made
from; printed, one page holds as many sessions as fit, the head of the table
repeats, no session is cut by a page break, and the total comes once, last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from hourly_hooks.core import money
from hourly_hooks.core.document import Document
from hourly_hooks.core.timesheet import Timesheet
from hourly_hooks.output.rows import groups
from hourly_hooks.output.table import stamp, total_lines

WorkLog = Dict[str, list]  # worklog.WorkLog; not imported, so rendering never loads the git reader

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 24px auto; padding: 32px 40px; background: #fff;
       border: 1px solid #dde1e7; border-radius: 6px; }
header.title { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; }
h1 { font-size: 26px; margin: 0 0 16px; }
p.number { margin: 0; font-size: 15px; font-weight: 600; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #dde1e7; padding-bottom: 4px; }
div.head, section.parties { display: flex; flex-wrap: wrap; gap: 12px 48px; align-items: flex-start; }
div.head dl.facts { margin-top: 8px; }
.party { min-width: 220px; }
.party h2 { margin-top: 8px; border: 0; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #5b6474; }
.party address { font-style: normal; }
.party address > * { display: block; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: #5b6474; }
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
dl.invoice-facts + dl.invoice-facts { margin-top: 12px; }
a { color: #2a5699; }
table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 6px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #1d2330; font-size: 12px; text-transform: uppercase;
           letter-spacing: .04em; color: #5b6474; }
tbody.session tr:first-child td { border-top: 1px solid #dde1e7; }
td.num, th.num { text-align: right; white-space: nowrap; }
.when span { white-space: nowrap; }
tr.log td { padding-top: 0; color: #3d4555; }
tr.log ul { margin: 0 0 4px; padding-left: 18px; }
tr.log code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
section.totals { margin-top: 8px; border-top: 2px solid #1d2330; padding-top: 6px; text-align: right; }
.totals p { margin: 2px 0; font-size: 16px; font-weight: 600; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d2330; }
svg.chart rect.bar { fill: #3f6bb0; }
footer { margin-top: 28px; color: #8a93a3; font-size: 12px; }
footer p { margin: 2px 0; overflow-wrap: anywhere; }
/* No page size: A4 and Letter both take the page, whichever the printer holds. */
@page { margin: 12mm 12mm 14mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt system-ui, sans-serif;
                        color: #8a93a3; } }
@media print {
  body { background: #fff; font-size: 9pt; line-height: 1.3; }
  main { max-width: none; margin: 0; padding: 0; border: 0; border-radius: 0; }
  h1 { font-size: 16pt; margin-bottom: 6pt; }
  h2 { font-size: 10.5pt; margin: 10pt 0 4pt; break-after: avoid; }
  .party h2 { font-size: 8pt; margin-top: 0; }
  div.head { flex-wrap: nowrap; gap: 24pt; }
  section.parties { gap: 24pt; flex-wrap: nowrap; }
  .party { min-width: 0; }
  div.head dl.facts { margin-top: 0; }
  /* The chart repeats the rows: the printed copy is the document the client files. */
  section.chart { display: none; }
  table { font-size: 8pt; line-height: 1.2; }
  th, td { padding: 1pt 3pt; }
  thead { display: table-header-group; }
  thead th { font-size: 7pt; }
  tbody.session, tr, li, section.totals, footer { break-inside: avoid; }
  tr.log ul { margin-bottom: 1pt; padding-left: 12pt; }
  tr.log code { font-size: 7.5pt; }
  .totals p { font-size: 10pt; }
  footer { margin-top: 12pt; font-size: 7pt; }
  a { color: inherit; text-decoration: none; }
}
"""


def html(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
         worklog: Optional[WorkLog] = None, document: Optional[Document] = None,
         manifest: Union[Mapping, str, None] = None) -> str:
    """The whole page. With a work log, each session lists the commits made during it;
    with a document (core/document.py), the parties, number, invoice and origin; with a
    manifest, it is carried as data (output/manifest_block.py) for `hourly verify`."""
    from hourly_hooks.output import document as blocks
    from hourly_hooks.core.manifest import digest_of
    from hourly_hooks.output.manifest_block import sealed

    worked_by = _worked_by(sheet)
    period = _period(sheet)
    number = document.number if document else None
    title = f"Timesheet {number}: {period}" if number else f"Timesheet: {worked_by}, {period}"
    facts = ([("Issued", document.issued.isoformat())] if document else []) \
        + [("Period", period), ("Worked by", worked_by), ("Rate", _rates(sheet)),
           ("Time zone", str(sheet.selection.tz))]
    if sheet.selection.rounding:
        facts.append(("Rounding", f"each session to {sheet.selection.rounding}"))
    digest = digest_of(manifest)[:12] if manifest else ""
    if digest and digest != number:  # the number the invoice's description names (hourly verify)
        facts.append(("Timesheet", digest))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        '<header class="title"><h1>Timesheet</h1>'
        + (f'<p class="number">No. {escape(number)}</p>' if number else "") + "</header>",
        '<div class="head">' + (blocks.parties_html(document) if document else "")
        + '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        + "</dl></div>",
        blocks.invoices_html(document) if document else "",
    ]
    chart_by = by if by in ("day", "week", "month") else "day"
    data = _series(sheet, chart_by)
    if data:
        parts += ['<section class="chart">', f"<h2>Hours per {escape(chart_by)}</h2>", svg_chart(data),
                  "</section>"]
    if by != "session" and sheet.lines:
        parts += [f"<section><h2>By {escape(by)}</h2>", _groups(sheet, by), "</section>"]
    row_invoices = document.row_invoices if document else (billed or {})
    parts += ["<section>", "<h2>Sessions</h2>", _sessions(sheet, row_invoices, worklog), "</section>",
              _totals(sheet),
              blocks.footer_html(document) if document else
              "<footer>Made by hourly-hooks from the clock-in and clock-out commits in git history.</footer>",
              "</main>", "</body>", "</html>"]
    return sealed("\n".join(part for part in parts if part) + "\n", manifest)


def _worked_by(sheet: Timesheet) -> str:
    authors = list(dict.fromkeys(line.session.author for line in sheet.lines))
    return ", ".join(authors) if authors else "nobody: no sessions in this period"


def _day(moment: datetime, sheet: Timesheet) -> str:
    return moment.astimezone(sheet.selection.tz).date().isoformat()


def _period(sheet: Timesheet) -> str:
    """First and last day, both included: the selection's when it has bounds."""
    selection = sheet.selection
    first = selection.since or sheet.start
    # until is exclusive: a period to midnight of the 1st ends on the last of the month
    last = selection.until - timedelta(microseconds=1) if selection.until else sheet.end
    if first is None and last is None:
        return "all history"
    start = _day(first, sheet) if first else "the beginning"
    end = _day(last, sheet) if last else "now"
    return start if start == end else f"{start} to {end}"


def _rates(sheet: Timesheet) -> str:
    by_rate: Dict[str, List[str]] = {}
    for line in sheet.lines:
        text = f"{line.rate.amount:f} {line.rate.currency} per hour" if line.rate else "no rate"
        people = by_rate.setdefault(text, [])
        if line.session.author not in people:
            people.append(line.session.author)
    if not by_rate:
        return "no rate"
    if len(by_rate) == 1:
        return next(iter(by_rate))
    return "; ".join(f"{text} ({', '.join(people)})" for text, people in by_rate.items())


def _series(sheet: Timesheet, by: str) -> List[Tuple[str, Decimal]]:
    from hourly_hooks.output.chart import series

    return series(sheet, by)


def _amounts(sheet: Timesheet) -> str:
    return ", ".join(money.format_money(amount, currency) for currency, amount in sorted(sheet.amounts.items()))


def _stamp(moment: Optional[datetime], sheet: Timesheet) -> str:
    """A time as the table prints it, in two unbreakable halves (day, then time and offset):
    a narrow column wraps it onto two lines at most, never three."""
    if moment is None:
        return ""
    day, _, rest = stamp(moment.astimezone(sheet.selection.tz)).partition(" ")
    return f"<span>{escape(day)}</span> <span>{escape(rest)}</span>"


def _cell(text: str, css: str = "", tag: str = "td", markup: bool = False) -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<{tag}{attribute}>{text if markup else escape(text)}</{tag}>"


def _table(head: List[Tuple[str, str]], bodies: List[str]) -> str:
    """A table of (column, css class) over tbody elements; the head repeats on each printed page."""
    heads = "".join(_cell(column, css, "th") for column, css in head)
    return f"<table><thead><tr>{heads}</tr></thead>{''.join(bodies)}</table>"


def _groups(sheet: Timesheet, by: str) -> str:
    priced = bool(sheet.amounts)
    head = [(by.capitalize(), ""), ("Sessions", "num"), ("Duration", "num"), ("Hours", "num")]
    head += [("Amount", "num")] if priced else []
    rows = []
    for group in groups(sheet, by):
        cells = [_cell(group.key), _cell(str(len(group.sheet.lines)), "num"),
                 _cell(money.format_hms(group.sheet.worked_seconds), "num"),
                 _cell(money.format_hours(group.sheet.hours), "num")]
        if priced:
            cells.append(_cell(_amounts(group.sheet) or "-", "num"))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(head, ["<tbody>" + "".join(rows) + "</tbody>"])


def _sessions(sheet: Timesheet, invoices: Dict[str, str], worklog: Optional[WorkLog]) -> str:
    """One tbody per session (its row and its work log), kept on one printed page."""
    if not sheet.lines:
        return "<p>No sessions in this period.</p>"
    many_authors = len({line.session.identity for line in sheet.lines}) > 1
    many_repos = len({line.session.repo for line in sheet.lines}) > 1
    priced = bool(sheet.amounts)
    head = ([("Author", "")] if many_authors else []) + ([("Repo", "")] if many_repos else []) \
        + [("Start", "when"), ("End", "when"), ("Duration", "num"), ("Hours", "num")] \
        + ([("Amount", "num")] if priced else []) + ([("Invoice", "")] if invoices else []) + [("Note", "")]
    log = worklog or {}
    log_repos = len({c.repo for commits in log.values() for c in commits}) > 1
    bodies = []
    for line in sheet.lines:
        session = line.session
        cells = ([_cell(session.author)] if many_authors else []) + ([_cell(session.repo)] if many_repos else [])
        cells += [_cell(_stamp(session.start, sheet), "when", markup=True),
                  _cell(_stamp(session.end, sheet), "when", markup=True),
                  _cell(money.format_hms(session.seconds), "num"), _cell(money.format_hours(line.hours), "num")]
        if priced:
            amount = money.format_money(line.amount, line.rate.currency) \
                if line.rate and line.amount is not None else "-"
            cells.append(_cell(amount, "num"))
        if invoices:
            cells.append(_cell(invoices.get(session.clock_in.sha, "")))
        cells.append(_cell(session.note))
        rows = ["<tr>" + "".join(cells) + "</tr>"]
        commits = log.get(session.clock_in.sha) or []
        if commits:
            items = "".join(
                f"<li><code>{escape(c.short)}</code> {escape(c.subject)}"
                + (f" <span class=\"repo\">({escape(c.repo)})</span>" if log_repos else "") + "</li>"
                for c in commits)
            rows.append(f'<tr class="log"><td colspan="{len(head)}"><ul>{items}</ul></td></tr>')
        bodies.append('<tbody class="session">' + "".join(rows) + "</tbody>")
    return _table(head, bodies)


def _totals(sheet: Timesheet) -> str:
    """The grand total, once, after the last session (a tfoot would repeat on every printed page)."""
    lines = "".join(f'<p class="total">{escape(text)}</p>' for text in total_lines(sheet))
    return f'<section class="totals"><h2>Total</h2>{lines}</section>'


def svg_chart(data: Sequence[Tuple[str, Decimal]], width: int = 720) -> str:
    """Horizontal bars, one per (label, hours), each with its hours written beside it."""
    row, gap, top_pad = 22, 6, 4
    label_width = 8 * max(len(label) for label, _ in data) + 12
    figure_room = 60
    bar_room = max(width - label_width - figure_room, 40)
    most = max(hours for _, hours in data)
    height = top_pad * 2 + len(data) * (row + gap) - gap
    title = "Hours: " + ", ".join(f"{label} {hours:.2f}" for label, hours in data)
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
           f"<title>{escape(title)}</title>"]
    for index, (label, hours) in enumerate(data):
        y = top_pad + index * (row + gap)
        length = float(hours / most * bar_room) if most > 0 else 0.0
        if hours > 0:
            length = max(length, 2.0)
        middle = y + row / 2 + 4
        out.append(f'<text x="0" y="{middle:.1f}">{escape(label)}</text>')
        out.append(f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" height="{row}" rx="2"/>')
        out.append(f'<text x="{label_width + length + 6:.1f}" y="{middle:.1f}">{hours:.2f} h</text>')
    out.append("</svg>")
    return "".join(out)
