"""How the clock hook reads spellings: near misses refused with the spelling meant,
spaced offsets joined, a note that starts like an offset, absurd offsets.

Driven by real `git commit` through the installed hook, as in test_hook.py.
"""

from __future__ import annotations

import json

import pytest

from hook_helpers import at, hooked  # noqa: F401 (a fixture)

from hourly_hooks.core import markers


def refusal_keeps_the_message(output: str) -> None:
    assert "COMMIT_EDITMSG" in output and "git commit -e -F" in output
    assert "--no-verify" in output


@pytest.mark.parametrize("written, meant", [
    ("clock  out", "clock-out"),
    ("CLOCK   OUT", "clock-out"),
    ("clock_out", "clock-out"),
    ("clock\u2013out", "clock-out"),
    ("clock\u2014out: done for today", "clock-out: done for today"),
    ("Clock: out", "clock-out"),
    ("clock\tout T-10m", "clock-out: T-10m"),
])
def test_near_misses_are_refused_with_the_spelling_meant(hooked, written, meant):
    hooked.accept("clock-in", when=at("09:00"))
    output = hooked.refuse(written, when=at("10:00"))
    assert f"did you mean `{meant}`?" in output
    assert "near miss" in output
    refusal_keeps_the_message(output)
    # The session is still open: the spelling meant is accepted right after.
    assert hooked.accept(meant, when=at("10:01")) == meant


def test_a_near_miss_clock_in_is_refused_too(hooked):
    output = hooked.refuse("Clock  In", "Body.", when=at("09:00"))
    assert "did you mean `clock-in`?" in output


@pytest.mark.parametrize("message", [
    "fixed bug preventing users from clocking in",
    "had to clock out so the notebook runs",
    "clockwork: tune the escapement",
    "clock-in-progress bar",
    "clock: in DST transitions, use UTC",
    "clock_interval: make it configurable",
    "Update clock: in/out icons",
])
def test_prose_passes_untouched(hooked, message):
    assert hooked.accept(message, when=at("09:00")) == message


def test_spaced_offset_parts_are_one_offset_written_back_joined(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    assert hooked.accept("clock-out: T-1h 30m", when=at("12:00")) == "clock-out: T-1h30m"
    report = hooked.hourly("report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert [s["seconds"] for s in json.loads(report.stdout)["sessions"]] == [3 * 3600 - 5400]


@pytest.mark.parametrize("written", ["clock-in: T-abc", "clock-in: T-half an hour", "clock-in: T-15",
                                     "clock-in: T-1h 30 min"])
def test_anything_else_after_t_minus_is_refused(hooked, written):
    output = hooked.refuse(written, when=at("09:00"))
    assert "malformed offset" in output
    refusal_keeps_the_message(output)


def test_a_note_starting_with_t_minus_is_refused_with_a_spelling_that_works(hooked):
    output = hooked.refuse("clock-in: T-shirt design", when=at("09:00"))
    suggested = "clock-in: -- T-shirt design"
    assert f"put -- before it: {suggested}" in output
    # The suggestion is accepted as written, and read back as the note.
    assert hooked.accept(suggested, when=at("09:01")) == suggested
    assert markers.parse(hooked.message()).note == "T-shirt design"


def test_the_trailer_form_gets_its_own_suggestion(hooked):
    hooked.accept("clock-in", when=at("09:00"))
    output = hooked.refuse("work", "Clock: out T-shirt design", when=at("10:00"))
    suggested = "Clock: out -- T-shirt design"
    assert suggested in output
    assert hooked.accept("work", suggested, when=at("10:01")) == f"work\n\n{suggested}"


@pytest.mark.parametrize("written", ["clock-in: T-99999d", "clock-in: T-99999999999999999999d"])
def test_absurd_offsets_are_refused(hooked, written):
    output = hooked.refuse(written, when=at("09:00"))
    assert "is absurd" in output
    assert "Traceback" not in output


def test_an_absurd_marker_in_history_does_not_break_the_hook(hooked):
    # Committed past the hook, it used to crash every later commit's check (OverflowError).
    hooked.commit("clock-out: T-99999999999999999999d", at("08:00"))
    hooked.accept("clock-in", when=at("09:00"))
    hooked.accept("clock-out", when=at("10:00"))
