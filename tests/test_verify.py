"""`hourly verify`: the client recomputes the bill in their own clone (real git, the real CLI).

The timesheet is made in the contractor's repository; every check runs in a
separate `git clone` of it, as a client would, through file:// so that the
clone holds only what was published (a local clone would copy every object).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import PERMISSIONS, _collect_outputs, assert_ok, fake, hourly  # noqa: F401
from gitrepo import GitRepo
from hourly_hooks.core.manifest import digest
from hourly_hooks.output.manifest_block import html_block, manifest_in_html, page_intact, sealed

NOVEMBER = ["--since", "2026-11-01", "--until", "2026-11-30", "--tz", "Europe/Paris"]


def _contractor(path: Path) -> GitRepo:
    """Alice's November, in two repositories' worth of sessions: 3.5 h on the 3rd, 1:50 on the 4th
    (a clock-out with an offset), 1 h on the 10th; and one session in October, outside the period."""
    repo = GitRepo(path)
    repo.commit("clock-in", "2026-10-30T09:00:00+01:00")
    repo.commit("clock-out", "2026-10-30T10:00:00+01:00")
    repo.commit("clock-in", "2026-11-03T09:00:00+01:00")
    repo.commit("parser: handle CRLF", "2026-11-03T10:00:00+01:00", files={"a.txt": "1"})
    repo.commit("clock-out", "2026-11-03T12:30:00+01:00")
    repo.commit("clock-in", "2026-11-04T09:00:00+01:00")
    repo.commit("clock-out: T-10m", "2026-11-04T11:00:00+01:00")
    repo.commit("clock-in", "2026-11-10T14:00:00+01:00", name="Bob Stone", email="bob@example.com")
    repo.commit("clock-out", "2026-11-10T15:00:00+01:00", name="Bob Stone", email="bob@example.com")
    (repo.path / ".hourly.toml").write_text('round = "15m"\n[rates]\ndefault = "100 USD"\n'
                                            '"bob@example.com" = "80 EUR"\n')
    repo.git("add", ".hourly.toml")
    repo.commit("settings", "2026-11-20T08:00:00+01:00")
    return repo


@pytest.fixture
def work(tmp_path) -> GitRepo:
    return _contractor(tmp_path / "contractor")


def _clone(source: GitRepo, dest: Path, *flags: str) -> GitRepo:
    source.git("clone", "-q", *flags, f"file://{source.path}", str(dest))
    return GitRepo(dest, env=source.env, init=False)


def _timesheet(work: GitRepo, fmt: str, dest: Path) -> Path:
    result = hourly("report", "--repo", str(work.path), *NOVEMBER, "--format", fmt, "-o", str(dest))
    assert_ok(result)
    return dest


def _verify(clone: GitRepo, *args: str):
    return hourly("verify", "--repo", str(clone.path), *[str(a) for a in args])


def _manifest(path: Path) -> dict:
    text = path.read_text()
    return json.loads(text)["manifest"] if path.suffix == ".json" else manifest_in_html(text)


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_an_untouched_timesheet_is_reproduced_in_a_separate_clone(work, tmp_path, fmt):
    sheet = _timesheet(work, fmt, tmp_path / f"timesheet.{fmt}")
    clone = _clone(work, tmp_path / "client")
    # The client's own settings are not the bill's: verify uses the bill's rules.
    (clone.path / ".git" / "hourly").mkdir(parents=True)
    (clone.path / ".git" / "hourly" / "config.toml").write_text('round = "1h"\n[rates]\ndefault = "1 JPY"\n')
    work.commit("clock-in", "2026-12-01T09:00:00+01:00")  # the contractor's history moved on
    result = _verify(clone, sheet)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    manifest = _manifest(sheet)
    assert result.stdout.startswith(f"Timesheet {manifest['digest'][:12]} ({sheet})")
    assert result.stdout.count("  equal ") == 3 and "differs" not in result.stdout
    # 3:30 and 1:50 (rounded to 2:00) at 100 USD; Bob's hour at 80 EUR; October left out.
    assert "Billed:      6.50 h, 80.00 EUR, 550.00 USD" in result.stdout
    assert "Recomputed:  6.50 h, 80.00 EUR, 550.00 USD" in result.stdout
    assert "Verified: the history gives this bill, to the cent." in result.stdout


def test_a_clone_with_another_mailmap_is_told_and_its_identities_compared(work, tmp_path):
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    clone = _clone(work, tmp_path / "client")
    (tmp_path / "client.mailmap").write_text("Robert Stone <robert@example.com> <bob@example.com>\n")
    clone.git("config", "mailmap.file", str(tmp_path / "client.mailmap"))
    result = _verify(clone, sheet)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert "Note: this clone's .mailmap" in result.stdout and "is not the bill's (none)" in result.stdout
    assert "identity: billed bob@example.com, the history gives robert@example.com" in result.stdout


def test_the_manifest_holds_the_rules_sessions_and_raw_emails(work, tmp_path):
    (work.path / ".mailmap").write_text("Bob Stone <robert@example.com> <bob@example.com>\n")
    manifest = _manifest(_timesheet(work, "json", tmp_path / "t.json"))
    head = work.git("rev-parse", "HEAD").strip()
    assert manifest["repos"][0]["tips"] == [head] and manifest["repos"][0]["mailmap"] != "none"
    assert manifest["period"] == {"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00"}
    rules = manifest["rules"]
    assert rules["rounding"] == {"seconds": 900, "mode": "up"} and rules["identity"] == "email"
    assert rules["rates"]["by_identity"] == {"bob@example.com": {"amount": "80", "currency": "EUR"}}
    bob = manifest["sessions"][-1]
    assert bob["identity"] == "robert@example.com" and bob["emails"] == ["bob@example.com"]
    second = manifest["sessions"][1]
    assert (second["start"], second["end"], second["seconds"], second["billed_seconds"]) == \
        ("2026-11-04T09:00:00+01:00", "2026-11-04T10:50:00+01:00", 6600, 7200)
    assert manifest["digest"] == digest(manifest)


def _edit(path: Path, change) -> None:
    """Change the manifest of a timesheet file in place, its digest left as it was."""
    text = path.read_text()
    if path.suffix == ".json":
        document = json.loads(text)
        change(document["manifest"])
        path.write_text(json.dumps(document))
    else:
        manifest = manifest_in_html(text)
        change(manifest)
        path.write_text(re.sub(r'<script type="application/json" id="hourly-manifest"[^>]*>.*?</script>',
                               lambda _: html_block(manifest), text, flags=re.S))


def _later_end(manifest: dict) -> None:
    session = manifest["sessions"][0]
    session["end"], session["seconds"], session["billed_seconds"] = "2026-11-03T13:30:00+01:00", 16200, 16200


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_session_edited_in_the_file_is_reported_as_altered(work, tmp_path, fmt):
    sheet = _timesheet(work, fmt, tmp_path / f"timesheet.{fmt}")
    _edit(sheet, _later_end)
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 9, (result.stdout, result.stderr)
    assert "the manifest's digest is" in result.stdout and "is not as it was made" in result.stderr


def test_a_grouped_json_timesheet_is_reproduced(work, tmp_path):
    result = hourly("report", "--repo", str(work.path), *NOVEMBER, "--by", "week", "--format", "json",
                    "-o", str(tmp_path / "weeks.json"))
    assert_ok(result)
    assert _verify(_clone(work, tmp_path / "client"), tmp_path / "weeks.json").exit_code == 0


def test_the_json_carries_the_manifest_as_its_canonical_text(work, tmp_path):
    """As the HTML page does: sorted keys, no whitespace; the digest is the sha256 of that
    text without its digest member, so anyone can check it with any JSON tool."""
    import hashlib
    text = _timesheet(work, "json", tmp_path / "timesheet.json").read_text()
    manifest = json.loads(text)["manifest"]
    carried = text[text.index('"manifest": ') + len('"manifest": '):].split(', "budget": ')[0]
    assert carried == json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    body = json.dumps({k: v for k, v in manifest.items() if k != "digest"}, sort_keys=True, separators=(",", ":"))
    assert manifest["digest"] == hashlib.sha256(body.encode()).hexdigest() == digest(manifest)
    assert len(manifest["sessions"]) == 3


def test_a_time_edited_in_the_html_table_is_reported(work, tmp_path):
    sheet = _timesheet(work, "html", tmp_path / "timesheet.html")
    text = sheet.read_text()
    shown = "<span>2026-11-03</span> <span>12:30:00 +01:00</span>"  # the 3rd's end, as the table shows it
    assert text.count(shown) == 1
    sheet.write_text(text.replace(shown, shown.replace("12:30", "13:30")))
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 9, (result.stdout, result.stderr)
    assert "Altered: the page's text is not the one it was made with" in result.stdout
    assert result.stdout.count("  equal ") == 3  # the manifest itself is what the history gives


def test_a_json_total_edited_beside_the_manifest_is_reported(work, tmp_path):
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    document = json.loads(sheet.read_text())
    document["total"]["amounts"]["USD"] = "950.00"
    sheet.write_text(json.dumps(document))
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 9 and "the total shown" in result.stdout


def test_a_recomputed_digest_does_not_hide_the_session_that_differs(work, tmp_path):
    sheet = _timesheet(work, "html", tmp_path / "timesheet.html")

    def forge(manifest: dict) -> None:  # what someone who knows the format would do
        _later_end(manifest)
        manifest["digest"] = digest(manifest)
    _edit(sheet, forge)
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    [differs] = [i for i, line in enumerate(lines) if line.startswith("  differs ")]
    assert "2026-11-03 09:00:00+01:00" in lines[differs]
    assert "end: billed 2026-11-03T13:30:00+01:00, the history gives 2026-11-03T12:30:00+01:00" in lines[differs + 1]
    assert "seconds worked: billed 16200, the history gives 12600" in result.stdout
    assert result.stdout.count("  equal ") == 2


def _amend_the_4ths_clock_out(work: GitRepo) -> None:
    """The contractor amends the 4th's clock-out to a later time and rewrites what follows."""
    log = work.git("log", "--format=%H %s", "main").splitlines()
    [out_sha] = [line.split()[0] for line in log if line.endswith("clock-out: T-10m")]
    work.git("checkout", "-q", out_sha)
    work.git("commit", "-q", "--amend", "--allow-empty", "--no-edit", "--no-verify",
             "--date", "2026-11-04T11:30:00+01:00", env={"GIT_COMMITTER_DATE": "2026-11-04T11:30:00+01:00"})
    work.git("rebase", "-q", "--onto", "HEAD", out_sha, "main")


def test_a_rewritten_history_shows_the_session_that_differs(work, tmp_path):
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    _amend_the_4ths_clock_out(work)
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert "This clone lacks the commit(s) the bill was made from" in result.stdout
    assert "end: billed 2026-11-04T10:50:00+01:00, the history gives 2026-11-04T11:20:00+01:00" in result.stdout
    assert "Recomputed:  7.00 h, 80.00 EUR, 600.00 USD" in result.stdout
    assert "git fetch origin" in result.stderr


def test_a_clone_that_still_holds_the_billed_commits_is_told_the_branches_give_another_bill(work, tmp_path):
    """The client cloned before the rewrite and fetched after it: the billed commits are still
    here, on no branch. The bill is reproduced from them, but the branches give another: exit 7."""
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    client = _clone(work, tmp_path / "client")
    _amend_the_4ths_clock_out(work)
    client.git("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    client.git("reset", "-q", "--hard", "origin/main")
    result = _verify(client, sheet)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert "no branch here contains the commit(s) the bill was made from" in result.stdout
    assert "this clone's branches give another bill" in result.stdout
    assert "end: billed 2026-11-04T10:50:00+01:00, the history gives 2026-11-04T11:20:00+01:00" in result.stdout
    # A clone made after the rewrite lacks the billed commits: another bill too.
    assert _verify(_clone(work, tmp_path / "late"), sheet).exit_code == 7


def test_a_marker_whose_author_was_rewritten_is_named(work, tmp_path):
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    work.git("filter-branch", "-f", "--env-filter",
             'if [ "$GIT_AUTHOR_EMAIL" = bob@example.com ]; then GIT_AUTHOR_EMAIL=carol@example.com; fi', "HEAD",
             env={"FILTER_BRANCH_SQUELCH_WARNING": "1"})
    result = _verify(_clone(work, tmp_path / "client"), sheet)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert "identity: billed bob@example.com, the history gives carol@example.com" in result.stdout
    assert "author emails: billed bob@example.com, the history gives carol@example.com" in result.stdout
    # Carol has no rate of her own: the default prices her hour in USD, not Bob's EUR.
    assert "Recomputed:  6.50 h, 650.00 USD" in result.stdout


def test_a_shallow_clone_is_told_what_to_fetch(work, tmp_path):
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    clone = _clone(work, tmp_path / "client", "--depth", "2")
    result = _verify(clone, sheet)
    assert result.exit_code == 8, (result.stdout, result.stderr)
    assert "is not in this clone" in result.stdout and "git fetch --unshallow" in result.stderr
    clone.git("fetch", "-q", "--unshallow")
    assert _verify(clone, sheet).exit_code == 0


def test_commits_on_a_branch_not_fetched_are_named(work, tmp_path):
    work.git("checkout", "-q", "-b", "extra")
    work.commit("clock-in", "2026-11-21T09:00:00+01:00")
    work.commit("clock-out", "2026-11-21T10:00:00+01:00")
    sheet = _timesheet(work, "json", tmp_path / "timesheet.json")
    work.git("checkout", "-q", "main")
    clone = _clone(work, tmp_path / "client", "--single-branch", "--branch", "main")
    result = _verify(clone, sheet)
    assert result.exit_code == 8, (result.stdout, result.stderr)
    tip = work.git("rev-parse", "extra").strip()
    assert f"git fetch origin {tip}" in result.stderr
    clone.git("fetch", "-q", "origin", tip)
    assert _verify(clone, sheet).exit_code == 0


def test_ignored_sessions_and_two_repositories_are_reproduced(work, tmp_path):
    other = GitRepo(tmp_path / "other")
    other.commit("clock-in", "2026-11-12T09:00:00+01:00")
    other.commit("clock-out - pro bono", "2026-11-12T10:00:00+01:00")
    other.commit("clock-in", "2026-11-13T09:00:00+01:00")
    other.commit("clock-out", "2026-11-13T09:45:00+01:00")
    sheet = tmp_path / "both.json"
    assert_ok(hourly("report", "--repo", str(work.path), "--repo", str(other.path), *NOVEMBER,
                     "--ignore", "pro bono", "--format", "json", "-o", str(sheet)))
    manifest = _manifest(sheet)
    assert manifest["rules"]["ignore"] == ["pro bono"] and len(manifest["repos"]) == 2
    mine, theirs = _clone(work, tmp_path / "client-a"), _clone(other, tmp_path / "client-b")
    result = hourly("verify", "--repo", str(mine.path), "--repo", str(theirs.path), str(sheet))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    # Each repository is billed by its own configuration: "other" has no rate, so its 0.75 h
    # are unpriced (550.00 USD, not 625.00 at the first repository's rate), and verify agrees.
    assert result.stdout.count("  equal ") == 4 and "Billed:      7.25 h, 80.00 EUR, 550.00 USD" in result.stdout
    assert [("rules" in repo) for repo in manifest["repos"]] == [True, True]
    one = hourly("verify", "--repo", str(mine.path), str(sheet))
    assert one.exit_code == 2 and "give each with --repo" in one.stderr


def test_not_a_timesheet_is_a_usage_error_naming_the_file(work, tmp_path):
    plain = tmp_path / "notes.json"
    plain.write_text('{"sessions": []}')
    result = _verify(work, plain)
    assert result.exit_code == 2 and str(plain) in result.stderr and "no manifest" in result.stderr
    assert _verify(work).exit_code == 2  # neither FILE nor --invoice


def test_the_html_block_is_data_that_cannot_end_early():
    manifest = {"rules": {"ignore": ["</script><script>alert(1)</script>", "a & b <!--"]}}
    block = html_block(manifest)
    assert block.count("</script>") == 1 and "<!--" not in block and block.endswith("</script>")
    assert manifest_in_html(f"<html><body>{block}</body></html>") == manifest
    page = sealed("<html><body><p>3.50 h</p>\n</body></html>\n", manifest)
    assert manifest_in_html(page) == manifest and page_intact(page) is True
    assert page_intact(page.replace("3.50", "4.50")) is False
    assert page_intact(f"<html><body>{block}</body></html>") is None  # no seal: nothing to tell


# -- the invoice points back ---------------------------------------------------------------

def _greenfield(fake, monkeypatch) -> dict:
    store = fake.new_store()
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=store))
    # What the client is given: a key that may only view the store's invoices.
    return {"store": store, "client": ["BTCPAYSERVER_API_KEY",
                                       fake.new_api_key(["btcpay.store.canviewinvoices"], store_id=store)]}


def _legacy(fake, monkeypatch, work: GitRepo) -> dict:
    monkeypatch.chdir(work.path)
    assert_ok(hourly("btcpay", "keygen"))
    paired = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url)
    assert_ok(paired)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", paired.stdout.split("=", 1)[1].strip())
    return {"store": fake.default_store_id, "client": ["BTCPAYSERVER_PEM", str(work.path / "btcpayserver.pem")]}


def _pos_data(created: dict) -> dict:
    data = created["metadata"]["posData"] if "metadata" in created else created["posData"]
    return (json.loads(data) if isinstance(data, str) else data)["hourlyHooks"]


@pytest.mark.parametrize("api", ["greenfield", "legacy"])
def test_an_invoice_carries_the_number_and_verify_reproduces_it(api, work, tmp_path, fake, monkeypatch):
    server = _greenfield(fake, monkeypatch) if api == "greenfield" else _legacy(fake, monkeypatch, work)
    monkeypatch.chdir(work.path)
    # Alice's 3rd is invoiced first: the month's invoice leaves it out, and says so.
    assert_ok(hourly("invoice", "--since", "2026-11-03", "--until", "2026-11-03", "--tz", "Europe/Paris",
                     "--author", "alice", "--yes"))
    assert_ok(hourly("invoice", *NOVEMBER, "--author", "alice", "--yes"))
    by_hours = {_pos_data(inv)["hours"]: inv for inv in fake.invoices(server["store"])}
    first, month = by_hours["3.50"], by_hours["2.00"]
    data = _pos_data(month)
    number = data["timesheet"]["digest"]
    desc = month["metadata"]["itemDesc"] if "metadata" in month else month["itemDesc"]
    assert data["v"] == 3 and desc.endswith(f", timesheet {number[:12]}") and data["hours"] == "2.00"
    assert [s[2] for s in data["timesheet"]["sessions"]] == [7200] and len(json.dumps(data)) < 3000
    assert data["timesheet"]["left_out"] == [_pos_data(first)["timesheet"]["sessions"][0][0]]
    # The client: a clone, and read access to the invoice.
    clone = _clone(work, tmp_path / "client")
    monkeypatch.chdir(clone.path)
    monkeypatch.setenv(*server["client"])
    if api == "greenfield":
        monkeypatch.delenv("BTCPAYSERVER_MERCHANT", raising=False)
    for created, billed in ((first, "3.50 h, 350.00 USD"), (month, "2.00 h, 200.00 USD")):
        result = hourly("verify", "--invoice", created["id"])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert result.stdout.startswith(f"Timesheet {_pos_data(created)['timesheet']['digest'][:12]} "
                                        f"(invoice {created['id']})")
        assert f"Billed:      {billed}" in result.stdout and f"Recomputed:  {billed}" in result.stdout
        assert result.stdout.count("  equal ") == 1


def test_an_invoice_asking_more_than_its_timesheet_bills_is_reported(work, tmp_path, fake, monkeypatch):
    from hourly_hooks.btcpay import InvoiceRequest
    from hourly_hooks.btcpay.greenfield import GreenfieldBackend

    server = _greenfield(fake, monkeypatch)
    monkeypatch.chdir(work.path)
    assert_ok(hourly("invoice", *NOVEMBER, "--author", "alice", "--yes"))
    [honest] = fake.invoices(server["store"])
    # Someone makes another invoice with the same posData and a larger amount.
    backend = GreenfieldBackend(fake.url, server["store"], fake.new_api_key(PERMISSIONS, store_id=server["store"]))
    forged = backend.create(InvoiceRequest(amount=Decimal("900.00"), currency="USD", order_id="copy",
                                           item_desc="copy", time={"x": ((1, 2),)},
                                           timesheet=_pos_data(honest)["timesheet"]))
    monkeypatch.setenv(*server["client"])
    result = hourly("verify", "--invoice", forged.id)
    assert result.exit_code == 9, (result.stdout, result.stderr)
    assert "the invoice asks 900.00 USD, but the timesheet it carries bills 550.00 USD" in result.stdout
    assert result.stdout.count("  equal ") == 2  # what the timesheet bills is still the history's


@pytest.mark.parametrize("api", ["greenfield", "legacy"])
def test_the_invoice_and_the_timesheet_it_writes_carry_one_number(api, work, tmp_path, fake, monkeypatch):
    """`hourly invoice --timesheet FILE` writes the document with the very manifest the invoice carries:
    the description's number is the page's, and the client verifies either against the history."""
    server = _greenfield(fake, monkeypatch) if api == "greenfield" else _legacy(fake, monkeypatch, work)
    monkeypatch.chdir(work.path)
    page = tmp_path / "bill.html"
    result = hourly("invoice", *NOVEMBER, "--author", "alice", "--yes", "--timesheet", str(page))
    assert_ok(result)
    [invoice] = fake.invoices(server["store"])
    carried = _pos_data(invoice)["timesheet"]["digest"]
    desc = invoice["metadata"]["itemDesc"] if "metadata" in invoice else invoice["itemDesc"]
    manifest = _manifest(page)
    assert manifest["digest"] == carried and desc.endswith(f", timesheet {carried[:12]}")
    text = page.read_text()
    assert f"No. {invoice['id']}" in text and f"<dt>Timesheet</dt><dd>{carried[:12]}</dd>" in text
    clone = _clone(work, tmp_path / "client")
    assert _verify(clone, page).exit_code == 0
    # A dry run writes nothing.
    assert_ok(hourly("invoice", *NOVEMBER, "--author", "bob", "--dry-run", "--timesheet", str(tmp_path / "no.html")))
    assert not (tmp_path / "no.html").exists()


def test_the_json_timesheet_an_invoice_writes_carries_its_number_and_manifest(work, tmp_path, fake, monkeypatch):
    server = _greenfield(fake, monkeypatch)
    monkeypatch.chdir(work.path)
    sheet = tmp_path / "bill.json"
    assert_ok(hourly("invoice", *NOVEMBER, "--author", "alice", "--yes", "--timesheet", str(sheet)))
    [invoice] = fake.invoices(server["store"])
    document = json.loads(sheet.read_text())
    assert document["document"]["number"] == invoice["id"]
    assert document["manifest"]["digest"] == _pos_data(invoice)["timesheet"]["digest"]
    assert _verify(_clone(work, tmp_path / "client"), sheet).exit_code == 0
