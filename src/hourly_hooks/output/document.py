"""The timesheet's document parts (core/document.py) as HTML blocks and as a Markdown header.

Who it is from and to, its number and issue date, the invoice (pay link,
amount, expiry, status) and where it was made from. Every text from the
configuration or the ledger is escaped; a pay link is a link only when it is
an http(s) URL.
"""

from __future__ import annotations

from html import escape
from typing import List, Tuple

from hourly_hooks.core.document import Document, Invoice, Party, party_lines
from hourly_hooks.output.table import markdown_escape

PARTY_TITLES = (("contractor", "From"), ("client", "Bill to"))


def _parties(document: Document) -> List[Tuple[str, str, Party]]:
    """(css class, title, party) of each party the configuration names."""
    found = [(css, title, getattr(document, css)) for css, title in PARTY_TITLES]
    return [(css, title, who) for css, title, who in found if who is not None]


def parties_html(document: Document) -> str:
    """The From and Bill to blocks side by side; "" when neither is configured."""
    blocks = []
    for css, title, who in _parties(document):
        lines = party_lines(who)[1 if who.name else 0:]
        body = "".join(f'<span class="line">{escape(line)}</span>' for line in lines)
        name = f'<strong class="name">{escape(who.name)}</strong>' if who.name else ""
        blocks.append(f'<div class="party {css}"><h2>{title}</h2><address>{name}{body}</address></div>')
    return f'<section class="parties">{"".join(blocks)}</section>' if blocks else ""


def _linkable(url: str) -> bool:
    return url.lower().startswith(("https://", "http://")) and not any(c.isspace() or c in "<>\"" for c in url)


def link(url: str) -> str:
    """An http(s) URL as a link showing itself (a printed page keeps the address); anything else as text."""
    text = escape(url)
    if _linkable(url):
        return f'<a href="{escape(url, quote=True)}">{text}</a>'
    return text


def invoice_facts(item: Invoice) -> List[Tuple[str, str]]:
    """(label, text) of what a client needs to pay an invoice, each only when known."""
    facts = [("Invoice", item.id), ("Status", item.status_text)]
    if item.amount:
        amount = f"{item.amount} {item.currency or ''}".strip()
        facts.append(("Amount due" if item.due else "Amount", amount))
    if item.paid:
        facts.append(("Paid", item.paid))
    if item.expires and item.due:
        facts.append(("Expires", item.expires))
    return facts


def _link_label(item: Invoice) -> str:
    return "Pay at" if item.due else "Invoice page"


def invoices_html(document: Document) -> str:
    if not document.invoices:
        return ""
    blocks = []
    for item in document.invoices:
        rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in invoice_facts(item))
        if item.url:
            rows += f'<dt>{_link_label(item)}</dt><dd class="url">{link(item.url)}</dd>'
        blocks.append(f'<dl class="facts invoice-facts" data-status="{escape(item.status, quote=True)}">'
                      f'{rows}</dl>')
    title = "Invoice" if len(document.invoices) == 1 else "Invoices"
    return f'<section class="invoice"><h2>{title}</h2>{"".join(blocks)}</section>'


def origin_lines(document: Document) -> List[str]:
    """The tool and each repository with the commits the timesheet was made from."""
    lines = [f"Made by {document.tool} {document.version}".rstrip() + " from the clock-in and clock-out "
             "commits in git history."]
    for source in document.sources:
        text = f"Repository {source.name}: HEAD {source.head or '(no commit)'}"
        if source.roots:
            text += f", root commit{'s' if len(source.roots) > 1 else ''} {', '.join(source.roots)}"
        lines.append(text + ".")
    return lines


def footer_html(document: Document) -> str:
    return '<footer class="origin">' + "".join(f"<p>{escape(line)}</p>" for line in origin_lines(document)) \
        + "</footer>"


def markdown_header(document: Document) -> List[str]:
    """The Markdown report's header block: title, parties, issue date, invoice, origin; a blank line last."""
    title = "# Timesheet" + (f" {markdown_escape(document.number)}" if document.number else "")
    lines = [title, ""]
    for _, label, who in _parties(document):
        lines.append(f"**{label}:** " + ", ".join(markdown_escape(line) for line in party_lines(who)) + "  ")
    lines.append(f"**Issued:** {document.issued.isoformat()}  ")
    for item in document.invoices:
        facts = [f"{label.lower()} {markdown_escape(text)}" if label != "Invoice" else markdown_escape(text)
                 for label, text in invoice_facts(item)]
        if item.url:
            label = _link_label(item).lower()
            facts.append(f"{label} <{item.url}>" if _linkable(item.url) else f"{label} {markdown_escape(item.url)}")
        lines.append("**Invoice:** " + ", ".join(facts) + "  ")
    lines += [f"*{markdown_escape(line)}*  " for line in origin_lines(document)]
    lines[-1] = lines[-1].rstrip()
    return lines + [""]
