"""The timesheet as a document a client files (issue 16 §1): who, what, from where, printed.

Real histories (tests/gitrepo.py), real configuration files, an invoice made through the
loopback BTCPay server, and the page printed to PDF by headless Chromium.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from btcpay_helpers import SEED_ARGS, _collect_outputs, assert_ok, fake, greenfield, hourly, seed  # noqa: F401
from gitrepo import GitRepo
from hourly_hooks import __version__
from hourly_hooks.cli import main

CONTRACTOR = """[contractor]
name = "Ada Lovelace"
address = ["1 Engine Way", "London N1 9GU"]
email = "ada@example.com"
tax_id = "GB 123 4567 89"
"""
CLIENT = """[client]
name = "Babbage & <Sons> Ltd"
address = "12 Difference Row, Cambridge"
"""


class Blocks(HTMLParser):
    """The visible text inside each element carrying a class, by class; tags, links and styles."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.by_class: dict = {}
        self.tags: list = []
        self.script_types: list = []  # the type of each script element
        self.links: list = []
        self.styles: list = []
        self.headers: list = []  # the text of each th
        self._open: list = []   # (tag, classes) of the elements open now
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "script":
            self.script_types.append(attributes.get("type"))
        if tag == "a":
            self.links.append(attributes.get("href"))
        if tag not in ("br", "meta", "rect", "img"):
            self._open.append((tag, (attributes.get("class") or "").split(), attributes))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self._open and self._open[-1][0] == "style":
            self.styles.append(data)
            return
        if any(tag == "th" for tag, _, _ in self._open):
            self.headers.append(data)
        for _, classes, _ in self._open:
            for css in classes:
                self.by_class.setdefault(css, []).append(data)

    def text(self, css: str) -> str:
        return " ".join(" ".join(self.by_class.get(css, [])).split())


def report(repo: GitRepo, *args: str) -> str:
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def write_config(repo: GitRepo, user: str = "", repository: str = "", clone: str = "") -> None:
    if user:
        path = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"  # conftest's isolated home
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(user)
    if repository:
        (repo.path / ".hourly.toml").write_text(repository)
    if clone:
        path = repo.path / ".git" / "hourly" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(clone)


@pytest.fixture
def two_days(repo):
    repo.commit("clock-in", "2026-11-02T09:00:00+00:00")
    repo.commit("parser: handle CRLF", "2026-11-02T10:00:00+00:00", files={"a": "1"})
    repo.commit("clock-out", "2026-11-02T12:00:00+00:00")                       # 3:00
    repo.commit("clock-in", "2026-11-03T14:00:00+00:00")
    repo.commit("clock-out: T-30m", "2026-11-03T16:00:00+00:00")               # 1:30
    return repo


# --- who ------------------------------------------------------------------------------

def test_contractor_and_client_blocks_from_the_user_and_the_repository_files(two_days):
    write_config(two_days, user=CONTRACTOR, repository=CLIENT)
    page = Blocks(report(two_days, "--rate", "100 EUR", "--format", "html"))
    assert page.text("contractor") == "From Ada Lovelace 1 Engine Way London N1 9GU ada@example.com " \
                                      "Tax ID: GB 123 4567 89"
    assert page.text("client") == "Bill to Babbage & <Sons> Ltd 12 Difference Row, Cambridge"
    # No script runs: the one script element is the manifest, data (hourly verify).
    assert "address" in page.tags and page.script_types == ["application/json"]


def test_what_is_not_configured_is_left_out(two_days):
    write_config(two_days, clone='[client]\nemail = "accounts@client.example"\n')
    page = Blocks(report(two_days, "--format", "html"))
    assert page.text("client") == "Bill to accounts@client.example"
    assert page.text("contractor") == ""               # no [contractor]: no block, no empty heading
    assert "name" not in page.by_class                  # no name: no empty name line
    write_config(two_days, clone="")
    (two_days.path / ".git" / "hourly" / "config.toml").unlink()
    page = Blocks(report(two_days, "--format", "html"))
    assert "parties" not in page.by_class and "From" not in page.text("facts")


def test_a_command_line_value_wins_and_config_shows_its_origin(two_days):
    write_config(two_days, user=CONTRACTOR)
    result = CliRunner().invoke(main, ["-c", "contractor.name=Ada King", "report", "--repo", str(two_days.path),
                                       "--tz", "UTC", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["document"]["contractor"]["name"] == "Ada King"
    shown = CliRunner().invoke(main, ["config", "--repo", str(two_days.path)])
    assert shown.exit_code == 0, shown.output
    assert "contractor.tax_id=GB 123 4567 89" in shown.stdout
    assert "contractor.address=1 Engine Way, London N1 9GU" in shown.stdout


def test_a_typo_or_a_bad_email_is_named_with_its_file_and_line(two_days):
    write_config(two_days, repository='[client]\nname = "Babbage"\nadress = "x"\n')
    result = CliRunner().invoke(main, ["report", "--repo", str(two_days.path), "--format", "html"])
    assert result.exit_code == 4, result.output
    assert ".hourly.toml:3: unknown key 'client.adress' (did you mean 'client.address'?)" in result.stderr
    write_config(two_days, repository='[clinet]\nname = "Babbage"\n')
    result = CliRunner().invoke(main, ["report", "--repo", str(two_days.path)])
    assert "(did you mean 'client'?)" in result.stderr
    write_config(two_days, repository='[client]\nemail = "accounts at client"\n')
    result = CliRunner().invoke(main, ["report", "--repo", str(two_days.path)])
    assert result.exit_code == 4 and "'client.email': not an email address" in result.stderr


# --- what and from where -------------------------------------------------------------

def test_facts_origin_and_the_total_once_at_the_end(two_days):
    write_config(two_days, user=CONTRACTOR)
    head = two_days.git("rev-parse", "HEAD").strip()
    root = two_days.git("rev-list", "--max-parents=0", "HEAD").strip()
    text = report(two_days, "--rate", "100 EUR", "--since", "2026-11-01", "--until", "2026-11-30",
                  "--format", "html")
    page = Blocks(text)
    facts = page.text("facts")
    assert f"Issued {date.today().isoformat()}" in facts or \
        f"Issued {datetime.now(timezone.utc).date().isoformat()}" in facts
    assert "Period 2026-11-01 to 2026-11-30" in facts and "Rate 100 EUR per hour" in facts
    # Not invoiced: the number is the timesheet's own, its manifest's digest (hourly verify).
    assert re.fullmatch(r"No\. [0-9a-f]{12}", page.text("number"))
    footer = page.text("origin")
    assert f"hourly-hooks {__version__}" in footer
    assert f"Repository {two_days.path.name}: HEAD {head}, root commit {root}." in footer
    assert "tfoot" not in page.tags                    # a tfoot repeats on every printed page
    assert text.count("4:30:00, 4.50 hours worked") == 1 and text.count("450.00 EUR") == 1
    assert text.index("450.00 EUR") > text.index("</table>")  # after the last session
    assert page.text("totals") == "Total 4:30:00, 4.50 hours worked 450.00 EUR"
    assert page.by_class["session"] and len([t for t in page.tags if t == "tbody"]) == 2


def test_times_break_at_most_once(two_days):
    page = Blocks(report(two_days, "--format", "html"))
    assert "white-space: nowrap" in " ".join(page.styles) and ".when span" in " ".join(page.styles)
    stamp = page.text("when")
    assert "2026-11-02 09:00:00 +00:00 2026-11-02 12:00:00 +00:00" in stamp


def test_json_and_markdown_carry_the_document(two_days):
    write_config(two_days, user=CONTRACTOR, repository=CLIENT)
    head = two_days.git("rev-parse", "HEAD").strip()
    data = json.loads(report(two_days, "--json"))
    document = data["document"]
    assert document["number"] == data["manifest"]["digest"][:12] and document["invoices"] == []
    assert date.fromisoformat(document["issued"]) >= date(2026, 1, 1)
    assert document["contractor"] == {"name": "Ada Lovelace", "address": ["1 Engine Way", "London N1 9GU"],
                                      "email": "ada@example.com", "tax_id": "GB 123 4567 89"}
    assert document["client"]["address"] == ["12 Difference Row, Cambridge"] and document["client"]["email"] is None
    origin = document["origin"]
    assert origin["tool"] == "hourly-hooks" and origin["version"] == __version__
    assert origin["repositories"] == [{"name": two_days.path.name, "head": head,
                                       "roots": [two_days.git("rev-list", "--max-parents=0", "HEAD").strip()]}]
    markdown = report(two_days, "--format", "markdown").splitlines()
    assert markdown[0] == f"# Timesheet {document['number']}"  # the same bill, the same number
    assert "**From:** Ada Lovelace, 1 Engine Way, London N1 9GU, ada@example.com, Tax ID: GB 123 4567 89  " in markdown
    assert "**Bill to:** Babbage & \\<Sons\\> Ltd, 12 Difference Row, Cambridge  " in markdown
    assert any(line.startswith("**Issued:** ") for line in markdown)
    assert any(head in line for line in markdown)
    assert markdown.index("| Start | End | Duration | Hours | Note |") > markdown.index("**Issued:** "
                                                                                     + document["issued"] + "  ")


def test_the_table_and_csv_are_unchanged_by_the_document(two_days):
    write_config(two_days, user=CONTRACTOR)
    table = report(two_days)
    assert "Ada Lovelace" not in table and "Tax ID" not in table and table.startswith("Period: ")
    assert "Ada" not in report(two_days, "--format", "csv")


# --- invoiced: pay link, amount due, status -------------------------------------------

def test_an_invoiced_month_shows_its_invoice_once_with_pay_link_and_status(greenfield, fake, seed):
    args = SEED_ARGS
    assert_ok(hourly("invoice", *args, "--yes"))
    [invoice] = fake.invoices(greenfield["store"])
    page = Blocks(hourly("report", *args, "--format", "html").stdout)
    facts = page.text("invoice-facts")
    assert f"Invoice {invoice['id']}" in facts and "Status open, awaiting payment" in facts
    assert "Amount due 1291.31 USD" in facts
    assert page.links == [invoice["checkoutLink"]] and invoice["checkoutLink"] in page.text("url")
    assert f"No. {invoice['id']}" in page.text("number")
    # the id is in the head, not repeated on every row
    assert "Invoice" not in page.headers and invoice["id"] not in page.text("session")

    fake.set_status(invoice["id"], "Settled")
    assert_ok(hourly("invoices"))                      # refreshes the ledger
    document = json.loads(hourly("report", *args, "--json").stdout)["document"]
    assert document["number"] == invoice["id"]
    assert [(i["id"], i["status"], i["amount"], i["currency"], i["url"]) for i in document["invoices"]] == \
        [(invoice["id"], "paid", "1291.31", "USD", invoice["checkoutLink"])]
    facts = Blocks(hourly("report", *args, "--format", "html").stdout).text("invoice-facts")
    assert "Status paid" in facts and "Amount 1291.31 USD" in facts and "Amount due" not in facts
    assert f"Invoice page {invoice['checkoutLink']}" in facts
    markdown = hourly("report", *args, "--format", "markdown").stdout.splitlines()
    assert markdown[0] == f"# Timesheet {invoice['id']}"
    assert f"**Invoice:** {invoice['id']}, status paid, amount 1291.31 USD, invoice page <{invoice['checkoutLink']}>  " \
        in markdown
    assert "| Start | End | Duration | Hours | Amount | Note |" in markdown  # not the id on every row


def test_an_open_invoice_shows_its_expiry(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--expires", "2d", "--yes"))
    [invoice] = fake.invoices(greenfield["store"])
    expires = datetime.fromtimestamp(int(invoice["expirationTime"]), timezone.utc)
    document = json.loads(hourly("report", *SEED_ARGS, "--json").stdout)["document"]
    assert [datetime.fromisoformat(i["expires"]) for i in document["invoices"]] == [expires]
    facts = Blocks(hourly("report", *SEED_ARGS, "--format", "html").stdout).text("invoice-facts")
    assert "Expires " in facts and "Amount due 1291.31 USD" in facts


@pytest.mark.parametrize("server_status, ended", [("Expired", "expired"), ("Invalid", "invalid")])
def test_a_void_invoice_frees_the_time_and_the_ledger_says_why(greenfield, fake, seed, server_status, ended):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [invoice] = fake.invoices(greenfield["store"])
    fake.set_status(invoice["id"], server_status)
    listed = hourly("invoices")                        # refreshes the ledger, and says why it is void
    assert_ok(listed)
    assert f"void ({ended})" in listed.stdout and json.loads(hourly("invoices", "--json").stdout)
    # Nothing is due on a void invoice: the sessions are not invoiced any more, and the timesheet
    # is numbered by its own digest, not by the void invoice.
    data = json.loads(hourly("report", *SEED_ARGS, "--json").stdout)
    assert data["document"]["invoices"] == [] and data["document"]["number"] == data["manifest"]["digest"][:12]
    ledger = Path(seed.path) / ".git" / "hourly" / "invoices.jsonl"
    last = [json.loads(line) for line in ledger.read_text().splitlines()][-1]
    assert (last["invoice_id"], last["status"], last["ended"]) == (invoice["id"], "void", ended)


def test_sessions_of_several_invoices_name_theirs_per_row(greenfield, fake, seed):
    base = ["--author", "Asher Pembroke", "--rate", "100 USD", "--tz", "America/New_York"]
    assert_ok(hourly("invoice", "--since", "2020-01-01", "--until", "2020-01-04", *base, "--yes"))
    first = fake.invoices(greenfield["store"])[0]["id"]
    result = hourly("report", "--since", "2020-01-01", "--until", "2020-01-06", *base, "--format", "html")
    page = Blocks(result.stdout)
    # The sheet is not that invoice: its number is its own digest.
    assert re.fullmatch(r"No\. [0-9a-f]{12}", page.text("number")) and first not in page.text("number")
    assert f"Invoice {first}" in page.text("invoice-facts")
    assert "Invoice" in page.headers and first in page.text("session")  # the rows say which it bills


# --- printed ---------------------------------------------------------------------------

def _browser():
    return next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


def _pdf_pages(browser: str, page: Path, tmp_path: Path) -> int:
    pdf = tmp_path / "out.pdf"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-pdf-header-footer", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=180)
    assert pdf.exists()
    data = pdf.read_bytes()
    # Each page object is "/Type /Page" (the tree of pages is "/Type /Pages").
    return data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>") \
        + data.count(b"/Type/Page\n") + data.count(b"/Type/Page/") + data.count(b"/Type/Page>")


@pytest.fixture
def month(repo):
    """November 2026: two sessions every weekday, each with three commits (42 sessions)."""
    commits = []
    day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    while day.month == 11:
        if day.weekday() < 5:
            for start, length in ((8, 4), (13, 4)):
                at = day + timedelta(hours=start)
                commits.append((b"clock-in\n", int(at.timestamp()), "+0000"))
                for n in range(3):
                    subject = f"parser: handle case {n} of the CRLF line endings in uploaded files\n"
                    commits.append((subject.encode(), int((at + timedelta(minutes=50 * (n + 1))).timestamp()),
                                    "+0000"))
                commits.append((b"clock-out\n", int((at + timedelta(hours=length)).timestamp()), "+0000"))
        day += timedelta(days=1)
    repo.import_line(commits)
    repo.git("reset", "-q", "--hard")
    return repo


def test_a_month_prints_on_few_pages(month, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    write_config(month, user=CONTRACTOR, repository=CLIENT)
    page = tmp_path / "month.html"
    page.write_text(report(month, "--since", "2026-11-01", "--until", "2026-11-30", "--rate", "100 EUR",
                           "--format", "html"), encoding="utf-8")
    assert "168:00:00, 168.00 hours worked" in page.read_text()
    pages = _pdf_pages(browser, page, tmp_path)
    # 42 sessions with 3 commits each (168 rows), the parties, the facts and the total: three
    # Letter pages (Chromium's default paper; A4 is taller), the total on the last
    assert pages == 3, pages
