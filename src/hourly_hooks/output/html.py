"""The timesheet as one self-contained HTML page, to send a client or print to PDF.

Everything is inline: the styles, a chart of hours per day drawn in SVG, no
script, no font, stylesheet or image fetched from anywhere, so the page looks
the same offline, in a mail attachment and years later. Every piece of text
from history (names, notes, commit subjects) goes through ``html.escape``.
The cells are the table renderer's rows, so the page and ``hourly report``
always agree on every figure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Dict, List, Optional, Sequence, Tuple

from hourly_hooks.core.timesheet import Timesheet

# render.py registers this renderer at import, so render is imported where it is
# used: either module can then be imported first.

WorkLog = Dict[str, list]  # worklog.WorkLog; not imported, so rendering never loads the git reader

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 24px auto; padding: 32px 40px; background: #fff;
       border: 1px solid #dde1e7; border-radius: 6px; }
h1 { font-size: 26px; margin: 0 0 16px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #dde1e7; padding-bottom: 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: #5b6474; }
dl.facts dd { margin: 0; font-weight: 600; }
.totals p { margin: 2px 0; font-size: 16px; font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 6px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #1d2330; font-size: 12px; text-transform: uppercase;
           letter-spacing: .04em; color: #5b6474; }
tbody tr.session td { border-top: 1px solid #dde1e7; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.when { white-space: nowrap; }
tr.log td { padding-top: 0; color: #3d4555; }
tr.log ul { margin: 0 0 4px; padding-left: 18px; }
tr.log code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
tfoot td { border-top: 2px solid #1d2330; font-weight: 700; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d2330; }
svg.chart rect.bar { fill: #3f6bb0; }
footer { margin-top: 28px; color: #8a93a3; font-size: 12px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { background: #fff; font-size: 10pt; }
  main { max-width: none; margin: 0; padding: 0; border: 0; border-radius: 0; }
  h2 { break-after: avoid; }
  tr, li, svg.chart { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 9pt; }
  td.when { white-space: normal; }
  svg.chart rect.bar { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def html(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
         worklog: Optional[WorkLog] = None, manifest: Optional[dict] = None) -> str:
    """The whole page. With a work log, each session lists the commits made during it;
    with a manifest, it is carried as data (output/manifest_block.py) for `hourly verify`."""
    from hourly_hooks.output import render
    from hourly_hooks.output.manifest_block import sealed

    billed = billed or {}
    who = _who(sheet)
    period = _period(sheet)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(f'Timesheet: {who}, {period}')}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        "<h1>Timesheet</h1>",
        '<dl class="facts">',
        f"<dt>Who</dt><dd>{escape(who)}</dd>",
        f"<dt>Period</dt><dd>{escape(period)}</dd>",
        f"<dt>Rate</dt><dd>{escape(_rates(sheet))}</dd>",
        f"<dt>Time zone</dt><dd>{escape(str(sheet.selection.tz))}</dd>",
        *([f"<dt>Rounding</dt><dd>each session to {escape(str(sheet.selection.rounding))}</dd>"]
          if sheet.selection.rounding else []),
        "</dl>",
        "</header>",
        '<section class="totals">',
        "<h2>Total</h2>",
        *[f'<p class="total">{escape(text)}</p>' for text in render.total_lines(sheet)],
        "</section>",
    ]
    chart_by = by if by in ("day", "week", "month") else "day"
    data = _series(sheet, chart_by)
    if data:
        parts += ['<section class="chart">', f"<h2>Hours per {escape(chart_by)}</h2>", svg_chart(data),
                  "</section>"]
    if by != "session" and sheet.lines:
        parts += [f"<section><h2>By {escape(by)}</h2>", _table(render._group_rows(sheet, by)), "</section>"]
    parts += ["<section>", "<h2>Sessions</h2>", _sessions(sheet, billed, worklog), "</section>",
              "<footer>Made by hourly-hooks from the clock-in and clock-out commits in git history.</footer>",
              "</main>", "</body>", "</html>"]
    return sealed("\n".join(parts) + "\n", manifest)


def _who(sheet: Timesheet) -> str:
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


def _cell(column: str, text: str, tag: str = "td") -> str:
    from hourly_hooks.output import render

    classes = []
    if column in render._RIGHT:
        classes.append("num")
    if column in ("Start", "End"):
        classes.append("when")
    attribute = f' class="{" ".join(classes)}"' if classes else ""
    return f"<{tag}{attribute}>{escape(text)}</{tag}>"


def _head(columns: Sequence[str]) -> str:
    return "<thead><tr>" + "".join(_cell(c, c, "th") for c in columns) + "</tr></thead>"


def _table(rows: List[Dict[str, str]]) -> str:
    if not rows:
        return "<p>No sessions in this period.</p>"
    columns = list(rows[0])
    body = "".join("<tr>" + "".join(_cell(c, row[c]) for c in columns) + "</tr>" for row in rows)
    return f"<table>{_head(columns)}<tbody>{body}</tbody></table>"


def _sessions(sheet: Timesheet, billed: Dict[str, str], worklog: Optional[WorkLog]) -> str:
    from hourly_hooks.output import render

    rows = render._session_rows(sheet, billed)
    if not rows:
        return "<p>No sessions in this period.</p>"
    columns = list(rows[0])
    log = worklog or {}
    many_repos = len({c.repo for commits in log.values() for c in commits}) > 1
    body = []
    for row, line in zip(rows, sheet.lines):
        body.append('<tr class="session">' + "".join(_cell(c, row[c]) for c in columns) + "</tr>")
        commits = log.get(line.session.clock_in.sha) or []
        if commits:
            items = "".join(
                f"<li><code>{escape(c.short)}</code> {escape(c.subject)}"
                + (f" <span class=\"repo\">({escape(c.repo)})</span>" if many_repos else "") + "</li>"
                for c in commits)
            body.append(f'<tr class="log"><td colspan="{len(columns)}"><ul>{items}</ul></td></tr>')
    foot = _foot(sheet, columns)
    return f"<table>{_head(columns)}<tbody>{''.join(body)}</tbody>{foot}</table>"


def _foot(sheet: Timesheet, columns: List[str]) -> str:
    """A total row under the figures columns: duration, hours and, when priced, amount."""
    from hourly_hooks.core import money
    from hourly_hooks.output import render

    totals = {"Duration": money.format_hms(sheet.worked_seconds), "Hours": str(sheet.hours)}
    if "Amount" in columns:
        totals["Amount"] = render._amount_text(sheet)
    cells = [_cell(c, totals.get(c, "Total" if i == 0 else "")) for i, c in enumerate(columns)]
    return "<tfoot><tr>" + "".join(cells) + "</tr></tfoot>"


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
