"""Every JSON document `hourly` prints: a `version` key, and --json / --format json alike."""

from __future__ import annotations

import json

import pytest

from hook_helpers import ALICE, HookedRepo

NOW = "2026-03-04T14:00:00+00:00"
ENV = {"GIT_AUTHOR_DATE": NOW, "GIT_COMMITTER_DATE": NOW,
       "GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1]}


@pytest.fixture
def worked(tmp_path) -> HookedRepo:
    repo = HookedRepo(tmp_path / "work")
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T11:00:00+00:00")
    return repo


def run(repo, *args, code=0):
    done = repo.hourly(*args, env=ENV)
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


@pytest.mark.parametrize("command", [("report", "--all"), ("status",), ("invoices",)])
def test_json_and_format_json_print_the_same_versioned_document(worked, command):
    by_flag = json.loads(run(worked, *command, "--json").stdout)
    by_format = json.loads(run(worked, *command, "--format", "json").stdout)
    assert by_flag == by_format
    assert by_flag["version"] == 1


@pytest.mark.parametrize("command, other", [(("report",), "csv"), (("status",), "text"),
                                            (("invoices",), "table")])
def test_json_with_another_format_is_a_usage_error(worked, command, other):
    done = run(worked, *command, "--json", "--format", other, code=2)
    assert done.stdout == ""
    assert f"--json means --format json; it cannot be combined with --format {other}" in done.stderr


def test_format_json_with_json_is_fine(worked):
    assert json.loads(run(worked, "report", "--json", "--format", "json").stdout)["total"]["hours"] == "2.00"


def test_invoices_json_is_an_object_holding_the_list(worked):
    assert json.loads(run(worked, "invoices", "--json").stdout) == {"version": 1, "invoices": []}


def test_config_json_is_an_object_holding_the_settings(worked):
    document = json.loads(run(worked, "config", "tz", "--json").stdout)
    assert document["version"] == 1
    assert [s["key"] for s in document["settings"]] == ["tz"]


def test_status_text_is_still_the_default(worked):
    assert run(worked, "status").stdout.startswith("Clocked out since 2026-03-02")
    assert run(worked, "status", "--format", "text").stdout.startswith("Clocked out since 2026-03-02")
