"""core/document.py on the pure core: parties, the number, the invoices, JSON (no git, no server)."""

from datetime import date, datetime, timezone

from hourly_hooks.core import markers
from hourly_hooks.core.document import Invoice, Source, build, invoice, party, party_lines
from hourly_hooks.core.sessions import MarkerCommit
from hourly_hooks.core.timesheet import Selection, build as build_sheet

ISSUED = date(2026, 12, 1)


def mc(message, when, sha):
    return MarkerCommit(sha=sha * 40, name="A", email="a@example.com", authored=datetime.fromisoformat(when),
                        marker=markers.parse(message), message=message)


def sheet():
    """Two sessions, clocked in by commits aaaa... and cccc..."""
    return build_sheet(Selection(tz=timezone.utc), [
        mc("clock-in", "2026-11-02T09:00:00+00:00", "a"), mc("clock-out", "2026-11-02T10:00:00+00:00", "b"),
        mc("clock-in", "2026-11-03T09:00:00+00:00", "c"), mc("clock-out", "2026-11-03T10:00:00+00:00", "d")])


def document(billed, records=(), number=None):
    return build(sheet(), ISSUED, contractor={}, client={}, billed=billed,
                 records={item.id: item for item in records}, sources=[Source("work", "f" * 40, ("0" * 40,))],
                 version="9.9", number=number)


def test_a_party_from_its_table_leaves_out_what_is_not_set():
    assert party({}) is None and party({"address": ()}) is None
    who = party({"name": "Ada", "address": "1 Engine Way", "tax_id": "GB1"})
    assert who is not None and who.address == ("1 Engine Way",) and who.email is None
    assert party_lines(who) == ["Ada", "1 Engine Way", "Tax ID: GB1"]
    assert party_lines(party({"email": "a@example.com", "address": ["x", " ", "y"]})) == ["x", "y", "a@example.com"]


def test_one_invoice_for_every_session_is_the_number_and_no_row_names_it():
    paid = invoice("INV1", {"status": "paid", "url": "https://pay.example/i/INV1", "amount": "200.00",
                            "currency": "EUR"}, "order-1")
    made = document({"a" * 40: "INV1", "c" * 40: "INV1"}, [paid], number="digest")
    assert made.number == "INV1" and made.row_invoices == {} and made.invoices == (paid,)
    assert not paid.due and paid.status_text == "paid"


def test_partly_invoiced_or_several_invoices_keep_the_given_number_and_name_each_row():
    some = document({"a" * 40: "INV1"}, [invoice("INV1", {"status": "open"})])
    assert some.number is None and some.row_invoices == {"a" * 40: "INV1", "c" * 40: ""}
    assert some.invoices[0].due
    two = document({"a" * 40: "INV1", "c" * 40: "INV2 + INV3"}, number="digest")
    assert two.number == "digest" and [i.id for i in two.invoices] == ["INV1", "INV2", "INV3"]
    assert all(i.status == "unknown" for i in two.invoices)   # not in the ledger: never made up


def test_a_pending_order_is_not_the_number():
    pending = invoice("order-1", {"status": "pending", "amount": "200.00"})
    made = document({"a" * 40: "order-1", "c" * 40: "order-1"}, [pending])
    assert made.number is None and "being created" in pending.status_text


def test_json_shape():
    made = document({}).to_json()
    assert made == {"number": None, "issued": "2026-12-01", "contractor": None, "client": None, "invoices": [],
                    "origin": {"tool": "hourly-hooks", "version": "9.9",
                               "repositories": [{"name": "work", "head": "f" * 40, "roots": ["0" * 40]}]}}
    assert Invoice("X", "void").to_json()["status"] == "void"


def test_only_an_http_link_is_a_link_and_every_text_is_escaped():
    from hourly_hooks.output.document import invoices_html, link

    assert link("https://pay.example/i/1?a=1&b=2") == \
        '<a href="https://pay.example/i/1?a=1&amp;b=2">https://pay.example/i/1?a=1&amp;b=2</a>'
    assert link("javascript:alert(1)") == "javascript:alert(1)"
    assert link('https://x.example/"onmouseover=1') == "https://x.example/&quot;onmouseover=1"
    made = document({"a" * 40: "<b>", "c" * 40: "<b>"}, [invoice("<b>", {"status": "open", "url": "data:x"})])
    text = invoices_html(made)
    assert "<b>" not in text and "&lt;b&gt;" in text and "href" not in text and "Pay at" in text
