"""Every spelling of the predecessor's real history, and the near-misses that are not markers."""

from datetime import timedelta

import pytest

from hourly_hooks import markers

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
    "Clock: in",  # a lone subject is not a trailer block
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


def test_normalise_rewrites_only_the_marker_line():
    message = "Clock In T-15M fixing\n\nbody line\n"
    assert markers.normalise(message, markers.parse(message)) == "clock-in: T-15m fixing\n\nbody line\n"
    trailer = "fix\n\nclock:out   t-5M\n"
    assert markers.normalise(trailer, markers.parse(trailer)) == "fix\n\nClock: out T-5m\n"


def test_strip_comments_honours_comment_char_and_scissors():
    text = "clock-in\n; a comment\nbody\n; ------------------------ >8 ------------------------\ndiff"
    assert markers.strip_comments(text, ";") == "clock-in\nbody"


@pytest.mark.parametrize("text, seconds", [("1h22m", 4920), ("45m", 2700), ("1hr", 3600), ("2d", 172800),
                                           ("90s", 90), ("1H30M", 5400)])
def test_parse_duration(text, seconds):
    assert markers.parse_duration(text).total_seconds() == seconds
    assert markers.parse_duration(markers.format_duration(timedelta(seconds=seconds))).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1.5h", "abc", "10", "-5m", "5 m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        markers.parse_duration(text)
