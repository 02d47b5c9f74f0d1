"""The report's table shows each billed session's invoice with the status the ledger last saw
(issue 16 §6): `INV1 (paid)`, read without a network call; JSON and CSV keep the bare id.
Both APIs, the real CLI, the loopback server."""

from __future__ import annotations

import csv
import io
import json
import re

from btcpay_helpers import _collect_outputs, assert_ok, fake, hourly  # noqa: F401
from test_billing import MONTH, api, month  # noqa: F401
from hourly_hooks.btcpay.ledger import Ledger
from hourly_hooks.btcpay.listing import last_statuses, with_status


def invoice_cells(table: str, invoice_id: str) -> list:
    return re.findall(re.escape(invoice_id) + r"(?: \([^)]*\))?", table)


def test_the_table_shows_the_last_seen_status_without_asking_the_server(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    report = hourly("report", *MONTH)
    assert_ok(report)
    assert invoice_cells(report.stdout, invoice["id"]) == [f"{invoice['id']} (open)"] * 3
    fake.set_status(invoice["id"], "Settled")
    assert invoice_cells(hourly("report", *MONTH).stdout, invoice["id"]) == [f"{invoice['id']} (open)"] * 3
    assert_ok(hourly("invoices"))                        # refreshes the ledger
    fake.stop()                                          # the report needs no server
    report = hourly("report", *MONTH)
    assert_ok(report)
    assert invoice_cells(report.stdout, invoice["id"]) == [f"{invoice['id']} (paid)"] * 3


def test_json_and_csv_keep_the_bare_invoice_id(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    sessions = json.loads(hourly("report", *MONTH, "--json").stdout)["sessions"]
    assert [s["invoice"] for s in sessions] == [invoice["id"]] * 3
    text = hourly("report", *MONTH, "--format", "csv").stdout
    rows = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("# period:")))
    assert [row["invoice"] for row in rows] == [invoice["id"]] * 3


def test_last_statuses_reads_every_ledger_state(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.pending("hourly-waiting", time={"a@example.com": [[100, 200]]})
    ledger.pending("hourly-made", time={"a@example.com": [[300, 400]]})
    for invoice_id, status in (("INV1", "open"), ("INV1", "paid late"), ("INV2", "partly paid")):
        ledger.append({"event": "created", "order_id": "hourly-made", "invoice_id": invoice_id, "status": status})
    ledger.released("hourly-made", "INV2", type("B", (), {"name": "greenfield", "host": "https://h"})())
    assert last_statuses([tmp_path]) == {"hourly-waiting": "pending", "INV1": "paid late",
                                         "INV2": "not on the server (released)"}
    assert last_statuses([tmp_path / "none"]) == {}


def test_with_status_names_each_of_invoices_that_bill_the_same_time():
    statuses = {"A": "paid late", "B": "open"}
    assert with_status("A", statuses) == "A (paid late)"
    assert with_status("A + B", statuses) == "A + B (paid late, open)"
    assert with_status("A + C", statuses) == "A + C (paid late, ?)"
    assert with_status("C", statuses) == "C"
