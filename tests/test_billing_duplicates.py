"""Two or three clones invoicing the same time at the same moment end with one payable
invoice (issue 14, section 2): real `hourly invoice --yes` processes in separate clones of
one repository, started together against one loopback server whose creates are slow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from btcpay_helpers import PERMISSIONS, _collect_outputs, assert_ok, fake, hourly  # noqa: F401
from gitrepo import GitRepo, isolated_env

MONTH = ["--since", "2026-11-01", "--until", "2026-12-01", "--tz", "UTC", "--rate", "100 USD"]
MODIFY = "btcpay.store.canmodifyinvoices"
PAYABLE = ("New", "Processing", "Settled")


def _origin(path: Path) -> GitRepo:
    """Alice's November: 2 h on the 2nd, 3 h on the 4th (UTC)."""
    repo = GitRepo(path)
    repo.git("config", "user.email", "alice@example.com")
    for day, start, end in (("02", "09", "11"), ("04", "13", "16")):
        repo.commit("clock-in", f"2026-11-{day}T{start}:00:00+00:00")
        repo.commit("clock-out", f"2026-11-{day}T{end}:00:00+00:00")
    return repo


def _clones(origin: GitRepo, base: Path, count: int) -> List[GitRepo]:
    clones = []
    for n in range(count):
        target = base / f"clone{n}"
        origin.git("clone", "-q", str(origin.path), str(target))
        clone = GitRepo(target, env=origin.env, init=False)
        clone.git("config", "user.email", "alice@example.com")
        clones.append(clone)
    return clones


def _race(clones: List[GitRepo], env: Dict[str, str]) -> List[subprocess.CompletedProcess]:
    """`hourly invoice --yes` in every clone, all started before any is waited for."""
    started = [subprocess.Popen([sys.executable, "-m", "hourly_hooks", "invoice", *MONTH, "--yes"],
                                cwd=clone.path, env={**clone.env, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for clone in clones]
    done = []
    for process in started:
        out, err = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def _payable(fake, store) -> List[dict]:
    return [inv for inv in fake.invoices(store) if inv["status"] in PAYABLE]


def _slow_creates(fake, seconds: float = 1.5) -> None:
    fake.delay_seconds = seconds
    fake.fault("delay", "invoices", method="POST", times=None)


def _greenfield_env(fake, permissions) -> tuple:
    store = fake.new_store()
    key = fake.new_api_key(permissions, store_id=store)
    return store, {"BTCPAYSERVER_HOST": fake.url, "BTCPAYSERVER_STORE_ID": store, "BTCPAYSERVER_API_KEY": key}


@pytest.mark.parametrize("runs,trials", [(2, 3), (3, 2)])
def test_simultaneous_runs_leave_one_payable_invoice(fake, tmp_path, runs, trials):
    _slow_creates(fake)
    raced = 0
    for trial in range(trials):
        store, env = _greenfield_env(fake, PERMISSIONS + [MODIFY])
        origin = _origin(tmp_path / f"t{trial}" / "origin")
        done = _race(_clones(origin, tmp_path / f"t{trial}", runs), env)
        assert all(d.returncode == 0 for d in done), [(d.returncode, d.stderr) for d in done]
        [payable] = _payable(fake, store)                    # exactly one, in every trial
        made = fake.invoices(store)
        raced += len(made) > 1
        for loser in (inv for inv in made if inv["id"] != payable["id"]):
            assert (loser["status"], loser["additionalStatus"]) == ("Invalid", "Marked")
        # Every run ends pointing at the one payable invoice.
        assert all(f"{payable['checkoutLink']}\n" in d.stdout for d in done), [d.stdout for d in done]
        losing = [d for d in done if "Success!" not in d.stdout]
        assert len(losing) == len(made) - 1
        for d in losing:
            assert "marked Invalid, so only one can be paid" in d.stdout, d.stdout
            assert "The invoice to pay is the other run's (open" in d.stdout and "no new one" not in d.stdout
    assert raced, "no trial created more than one invoice: the race was not exercised"


def _legacy_env(fake, origin: GitRepo, monkeypatch) -> Dict[str, str]:
    monkeypatch.chdir(origin.path)
    assert_ok(hourly("btcpay", "keygen", "--pem", str(origin.path.parent / "key.pem")))
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url,
                    "--pem", str(origin.path.parent / "key.pem"))
    assert_ok(result)
    token = re.search(r"BTCPAYSERVER_MERCHANT=(\S+)", result.stdout).group(1)
    return {"BTCPAYSERVER_HOST": fake.url, "BTCPAYSERVER_MERCHANT": token,
            "BTCPAYSERVER_PEM": str(origin.path.parent / "key.pem")}


@pytest.mark.parametrize("api", ["greenfield-without-modify", "legacy"])
def test_a_loser_that_cannot_mark_names_the_duplicate_and_both_are_flagged(fake, tmp_path, monkeypatch, api):
    _slow_creates(fake)
    for trial in range(3):                                   # until a trial really races (bounded)
        origin = _origin(tmp_path / f"t{trial}" / "origin")
        if api == "legacy":
            store, env = fake.default_store_id, _legacy_env(fake, origin, monkeypatch)
        else:
            store, env = _greenfield_env(fake, PERMISSIONS)
        clones = _clones(origin, tmp_path / f"t{trial}", 2)
        before = len(fake.invoices(store))
        done = _race(clones, env)
        if len(fake.invoices(store)) - before == 2:
            break
    else:
        pytest.fail("no trial created two invoices: the race was not exercised")
    made = fake.invoices(store)[before:]
    winner = min(made, key=lambda inv: inv["createdTime"])
    [won] = [d for d in done if d.returncode == 0]
    [lost] = [d for d in done if d.returncode != 0]
    loser = next(inv for inv in made if inv is not winner)
    assert "Success!" in won.stdout
    assert lost.returncode == 5, lost.stderr
    assert f"Duplicate invoice: this run created {loser['id']}" in lost.stderr
    assert f"Mark {loser['id']} Invalid by hand" in lost.stderr and winner["id"] in lost.stderr
    if api != "legacy":
        assert MODIFY in lost.stderr                         # what makes it automatic
    else:
        check = _hourly(clones[0], {**clones[0].env, **env}, "btcpay", "check")
        assert "Duplicates:" in check.stdout and "marked by hand: the legacy API cannot" in check.stdout
    clone = clones[done.index(lost)]
    env = {**clone.env, **env}
    note = f"Duplicate: invoices {winner['id']} (open), {loser['id']} (open) bill the same time: " \
           f"keep {winner['id']} and mark {loser['id']} Invalid"
    offline = {**env, "BTCPAYSERVER_HOST": "http://127.0.0.1:9"}   # the losing clone's report needs no server
    report = _hourly(clone, offline, "report", "--format", "json")
    assert {s["invoice"] for s in json.loads(report.stdout)["sessions"]} == {f"{winner['id']} + {loser['id']}"}
    assert note in report.stderr
    listing = _hourly(clone, env, "invoices")
    assert note in listing.stderr, listing.stderr
    assert f"SAME TIME AS {loser['id']}" in listing.stdout and f"SAME TIME AS {winner['id']}" in listing.stdout
    report = _hourly(clone, env, "report", "--format", "json")
    assert {s["invoice"] for s in json.loads(report.stdout)["sessions"]} == {f"{winner['id']} + {loser['id']}"}
    assert note in report.stderr
    fake.set_status(loser["id"], "Invalid", "Marked")        # done by hand, as told
    listing = _hourly(clone, env, "invoices")
    assert "Duplicate" not in listing.stderr and "SAME TIME" not in listing.stdout
    report = _hourly(clone, env, "report", "--format", "json")
    assert {s["invoice"] for s in json.loads(report.stdout)["sessions"]} == {winner["id"]}


def _hourly(clone: GitRepo, env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "hourly_hooks", *args, *(MONTH if args[0] == "report" else ())],
                          cwd=clone.path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def test_btcpay_check_says_which_permission_marks_duplicates(fake, tmp_path, monkeypatch):
    monkeypatch.chdir(_origin(tmp_path / "origin").path)
    for permissions, state in ((PERMISSIONS, "missing (optional: with it, a duplicate"),
                               (PERMISSIONS + [MODIFY], "ok (a duplicate made by two runs")):
        store, env = _greenfield_env(fake, permissions)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = hourly("btcpay", "check")
        assert_ok(result)
        assert re.search(rf"{MODIFY}:?\s+{re.escape(state)}", result.stdout), result.stdout
        assert "broader than needed" not in result.stdout     # scoped to the store: not broader


def test_the_mark_status_and_archive_endpoints_follow_the_document(fake):
    """The test server's new endpoints, as BTCPay 2.4.1 defines them (held to the document by the fixture)."""
    import requests
    store = fake.new_store()
    viewer = fake.new_api_key(PERMISSIONS, store_id=store)
    modifier = fake.new_api_key(PERMISSIONS + [MODIFY], store_id=store)

    def call(method, path, key, body=None, agent="hourly-hooks"):   # a wrong body by hand: another agent
        return requests.request(method, fake.url + path, json=body, timeout=10,
                                headers={"Authorization": f"token {key}", "User-Agent": agent})

    created = call("POST", f"/api/v1/stores/{store}/invoices", modifier, {"amount": "1.00", "currency": "USD"}).json()
    mark = f"/api/v1/invoices/{created['id']}/status"
    refused = call("POST", mark, viewer, {"status": "Invalid"})
    assert refused.status_code == 403 and refused.json()["code"] == "missing-permission"
    assert call("POST", "/api/v1/invoices/nosuchinvoice/status", modifier, {"status": "Invalid"}).status_code == 403
    assert call("POST", mark, modifier, {"status": "Paid"}, agent="by hand").status_code == 422
    marked = call("POST", mark, modifier, {"status": "Invalid"})
    assert marked.status_code == 200
    assert (marked.json()["status"], marked.json()["additionalStatus"]) == ("Invalid", "Marked")
    scoped = call("POST", f"/api/v1/stores/{store}/invoices/nosuch/status", modifier, {"status": "Invalid"})
    assert scoped.status_code == 404 and scoped.json()["code"] == "invoice-not-found"
    archived = call("DELETE", f"/api/v1/invoices/{created['id']}", modifier)
    assert archived.status_code == 200 and archived.content == b""
    listed = call("GET", f"/api/v1/stores/{store}/invoices", viewer).json()
    assert listed == []                                          # archived: left out unless asked for
    restored = call("POST", f"/api/v1/invoices/{created['id']}/unarchive", modifier)
    assert restored.status_code == 200 and restored.json()["archived"] is False
