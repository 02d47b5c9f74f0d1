"""Every spelling markers are written in, near misses, and the prose that is not a marker."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_markers_grep as grep_cases
from hourly_hooks.core import markers

M = timedelta(minutes=1)
H = timedelta(hours=1)


@pytest.mark.parametrize("message, kind, offset, note, canonical", [
    ("clock-in", "in", 0 * M, "", "clock-in"),
    ("clock in", "in", 0 * M, "", "clock-in"),
    ("Clock-In", "in", 0 * M, "", "clock-in"),
    ("CLOCK OUT", "out", 0 * M, "", "clock-out"),
    ("clock-in: T-25m", "in", 25 * M, "", "clock-in: T-25m"),
    ("clock in T-10m", "in", 10 * M, "", "clock-in: T-10m"),
    ("clock in T-1hr", "in", 1 * H, "", "clock-in: T-1h"),
    ("clock-out: T-1h22m", "out", 82 * M, "", "clock-out: T-1h22m"),
    ("clock-out: T-5h", "out", 5 * H, "", "clock-out: T-5h"),
    ("clock out - pro bono", "out", 0 * M, "pro bono", "clock-out: pro bono"),
    ("clock-out:", "out", 0 * M, "", "clock-out"),
    ("clock-in: payment options", "in", 0 * M, "payment options", "clock-in: payment options"),
    ("Clock In T-15M fixing", "in", 15 * M, "fixing", "clock-in: T-15m fixing"),
    ("clock-out: T-2hrs30mins long one", "out", 150 * M, "long one", "clock-out: T-2h30m long one"),
    ("clock-in\n\nbody text stays", "in", 0 * M, "", "clock-in"),
])
def test_subject_form(message, kind, offset, note, canonical):
    marker = markers.parse(message)
    assert (marker.kind, marker.offset, marker.note, marker.form, marker.problem) == (
        kind, offset, note, "subject", None)
    assert marker.canonical == canonical


@pytest.mark.parametrize("message", [
    "fixed bug preventing users from clocking in",
    "had to clock out so the notebook runs",
    "PT-123 fix clock skew",
    "clock-in-progress bar",
    "Revert \"clock-in\"",
    "fixup! clock-in",
    "Merge branch 'clock-in'",
    "",
    "work\n\nmentions clock-in in the body",
    # prose that starts like a near miss is left alone
    "clockwork: tune the escapement",
    "clock: in DST transitions, use UTC",
    "clock: out-of-range hours are clamped",
    "clock  inventory",
    "clock_interval: make it configurable",
    "clock - output format",
    "clock-in-progress",
    # Python's Unicode-aware \s, strip() and case folding see markers here; git's grep does not
    "cloc\u212a-in",                  # KELVIN SIGN
    "clock-\u0131n",                  # DOTLESS I
    "\u00a0clock-in",                 # NO-BREAK SPACE before it
    "\u2028clock-in",                 # LINE SEPARATOR: not a line break for git
    "work\n\nsee below\u2028Clock: in",
    "work\n\nsee below\rClock: in",
    "work\n\n\u00a0Clock: in",
])
def test_not_markers(message):
    assert markers.parse(message) is None


@pytest.mark.parametrize("message, problem", [
    ("clock-in: T-abc", "malformed offset T-abc"),
    ("clock-out T+5m", "offset T+5m points into the future"),
    ("clock in T-1hr45", "malformed offset T-1hr45"),
])
def test_malformed_offsets_are_reported_not_raised(message, problem):
    marker = markers.parse(message)
    assert marker is not None and problem in marker.problem
    assert marker.offset == timedelta(0)


@pytest.mark.parametrize("message, kind, offset", [
    ("parser: handle CRLF\n\nLonger body.\n\nClock: out", "out", 0 * M),
    ("parser: handle CRLF\n\nClock: out T-10m\nSigned-off-by: A <a@b>", "out", 10 * M),
    ("work\n\nclock: IN", "in", 0 * M),
])
def test_trailer_form(message, kind, offset):
    marker = markers.parse(message)
    assert (marker.kind, marker.offset, marker.form) == (kind, offset, "trailer")


def test_trailer_must_be_in_the_last_paragraph():
    assert markers.parse("work\n\nClock: out\n\nfinal words here") is None


def test_strip_comments_honours_comment_char_and_scissors():
    text = "clock-in\n; a comment\nbody\n; ------------------------ >8 ------------------------\ndiff"
    assert markers.kept_lines(text.split("\n"), ";") == [0, 2]  # clock-in, body


@pytest.mark.parametrize("text, seconds", [("1h22m", 4920), ("45m", 2700), ("1hr", 3600), ("2d", 172800),
                                           ("90s", 90), ("1H30M", 5400)])
def test_parse_duration(text, seconds):
    assert markers.parse_duration(text).total_seconds() == seconds
    assert markers.parse_duration(markers.format_duration(timedelta(seconds=seconds))).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1.5h", "abc", "10", "-5m", "5 m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        markers.parse_duration(text)


@pytest.mark.parametrize("message, problem", [
    ("clock-in: T-half an hour", "malformed offset T-half"),
    ("clock-in: T-15", "malformed offset T-15"),
    ("clock-in: T-1h 30", "malformed offset T-1h 30"),
    ("clock-in: T-1h 30 min", "malformed offset T-1h 30"),
    ("clock-in: T- 5m", "malformed offset T-"),
    ("clock-in: T-15m 2nd try", "malformed offset T-15m 2nd"),
    ("clock-in: T-\u0661h", "malformed offset T-\u0661h"),   # ARABIC-INDIC DIGIT ONE is not a digit here
])
def test_anything_but_a_whole_duration_after_t_minus_is_malformed(message, problem):
    marker = markers.parse(message)
    assert problem in marker.problem and marker.offset == timedelta(0)


@pytest.mark.parametrize("message, offset, note, canonical", [
    ("clock-out: T-1h 30m", 90 * M, "", "clock-out: T-1h30m"),
    ("clock-out: T-1h  30m fixed the parser", 90 * M, "fixed the parser", "clock-out: T-1h30m fixed the parser"),
    ("clock in t-2hrs 5mins", 125 * M, "", "clock-in: T-2h5m"),
    ("clock-in: T-1d 2h 3m 4s", 86400 * timedelta(seconds=1) + 2 * H + 3 * M + timedelta(seconds=4), "",
     "clock-in: T-1d2h3m4s"),
    ("work\n\nClock: out T-1h 30m tidy", 90 * M, "tidy", "Clock: out T-1h30m tidy"),
])
def test_offset_parts_may_stand_apart(message, offset, note, canonical):
    marker = markers.parse(message)
    assert (marker.offset, marker.note, marker.problem) == (offset, note, None)
    assert marker.canonical == canonical


@pytest.mark.parametrize("message, note, canonical", [
    ("clock-in: -- T-shirt design", "T-shirt design", "clock-in: -- T-shirt design"),
    ("clock-in -- T-shirt design", "T-shirt design", "clock-in: -- T-shirt design"),
    ("clock-in: - T-shirt design", "T-shirt design", "clock-in: -- T-shirt design"),
    ("clock-in: T-15m -- T+1 plan", "T+1 plan", "clock-in: T-15m T+1 plan"),  # -- not needed there
    ("clock-out: T-15m -- 2nd try", "2nd try", "clock-out: T-15m -- 2nd try"),
    ("work\n\nClock: in -- T-shirt design", "T-shirt design", "Clock: in -- T-shirt design"),
    ("clock-out: -- - x", "- x", "clock-out: -- - x"),
])
def test_a_note_after_double_dash_is_never_an_offset(message, note, canonical):
    marker = markers.parse(message)
    assert (marker.note, marker.problem) == (note, None)
    assert marker.canonical == canonical
    assert markers.parse(canonical if marker.form == "subject" else f"work\n\n{canonical}")[:3] == marker[:3]


def test_the_formatter_quotes_a_note_that_would_read_as_an_offset():
    assert markers.format_marker("in", note="T-shirt design") == "clock-in: -- T-shirt design"
    assert markers.format_marker("in", 15 * M, "2nd try") == "clock-in: T-15m -- 2nd try"
    assert markers.format_marker("in", note="2nd try") == "clock-in: 2nd try"
    assert markers.format_trailer("out", note=": x") == "Clock: out -- : x"
    assert markers.format_marker("out", note="parser") == "clock-out: parser"


@pytest.mark.parametrize("message, kind, spelling", [
    ("clock  out", "out", "clock-out"),
    ("CLOCK   OUT", "out", "clock-out"),
    ("clock_out", "out", "clock-out"),
    ("clock\u2013out", "out", "clock-out"),          # EN DASH
    ("clock\u2014in", "in", "clock-in"),             # EM DASH
    ("clock\tin", "in", "clock-in"),
    ("clock -- in: parser", "in", "clock-in: parser"),
    ("clock_out: T-10m tidy", "out", "clock-out: T-10m tidy"),
    ("Clock: out", "out", "clock-out"),
    ("Clock: in", "in", "clock-in"),
    ("clock : in T-5m", "in", "clock-in: T-5m"),
    ("Clock: out\n\nA body, but no trailer.", "out", "clock-out"),
    ("\n\n  clock  out\r\n", "out", "clock-out"),
])
def test_near_misses_are_markers_with_a_problem(message, kind, spelling):
    marker = markers.parse(message)
    assert (marker.kind, marker.form, marker.offset) == (kind, markers.NEAR_MISS, timedelta(0))
    assert "near miss" in marker.problem and f"did you mean `{spelling}`?" in marker.problem


@pytest.mark.parametrize("message", [
    "clock-out: T-99999999999999999999d",
    "clock-in: T-99999d",
    "clock-in: T-3651d",
    "clock-in: T-3650d 1s",
    "clock-in: T-" + "9" * 5000 + "d",
    "work\n\nClock: out T-99999999999999999999d",
])
def test_absurd_offsets_are_problems_not_crashes(message):
    marker = markers.parse(message)
    assert "is absurd" in marker.problem and marker.offset == timedelta(0)
    assert len(marker.problem) < 200


def test_the_largest_offset_still_parses():
    assert markers.parse("clock-in: T-3650d").offset == markers.MAX_OFFSET


def test_parse_duration_takes_spaced_parts_and_refuses_huge_ones():
    assert markers.parse_duration("1h 30m") == 90 * M
    with pytest.raises(ValueError):
        markers.parse_duration("99999999999999999999d")


@settings(max_examples=500, deadline=None)
@given(st.one_of(grep_cases.message, st.text()))
def test_parse_never_raises_and_the_canonical_form_reads_back_the_same(text):
    marker = markers.parse(text)
    if marker is None:
        return
    assert timedelta(0) <= marker.offset <= markers.MAX_OFFSET
    if marker.problem is None:
        line = marker.canonical if marker.form == "subject" else f"work\n\n{marker.canonical}"
        assert markers.parse(line)[:4] == marker[:4]
        # What the hook writes back is itself found by git's grep: one line, ASCII around the marker.
        assert "\n" not in marker.canonical and marker.canonical.startswith(("clock-", "Clock: "))
