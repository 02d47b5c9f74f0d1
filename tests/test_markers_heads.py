"""The hand-written marker heads accept exactly what the regular expressions they replaced accepted.

core/markers.py matches the head of a marker (``clock-in``, ``Clock: out``) by hand
so that the commit-msg hook need not import `re`. The regular expressions
below are those heads as they were written with `re` (ASCII, ignoring case),
kept here only as the oracle: over generated lines (any spacing and case,
Unicode look-alikes, CR, tabs, near misses) the matcher must agree with them.
"""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hourly_hooks.core import markers

_FLAGS = re.I | re.A | re.S
SUBJECT = re.compile(r"\s*clock[- ]?(?P<kind>in|out)(?P<rest>(?:[:\s].*)?)", _FLAGS)
TRAILER = re.compile(r"clock\s*:\s*(?P<kind>in|out)(?P<rest>(?:\s.*)?)", _FLAGS)
NEAR_SUBJECT = re.compile(markers._NEAR_SUBJECT, _FLAGS)
NEAR_TRAILER = re.compile(markers._NEAR_TRAILER, _FLAGS)

# What a head is made of, and what only looks like it: KELVIN SIGN lowers to
# "k", DOTLESS I and "İ" play "i", NO-BREAK SPACE, U+2028, U+3000, \x1c and
# NEL are white space to Python but not to git; dashes, "_" and "--" are
# near misses.
BLANKS = [" ", "\t", "\r", "\f", "\v", "\xa0", "\u2028", "\u3000", "\x1c", "\x85"]
LOOK_ALIKES = {"k": ["\u212a", "K"], "i": ["\u0131", "\u0130"], "c": ["\uff43", "\u0441"], "o": ["\u043e", "0"],
               "l": ["\u04cf", "1"], "n": ["\u0578"], "u": ["\u03bc"], "t": ["\u0442"]}  # KELVIN SIGN, ı, İ, ...
SEPARATORS = ["", "-", " ", "  ", "_", "--", "\t", ":", " : ", ": ", " :", "\u2013", "\u2014", "\xa0", "- ", " -"]


def _cased(word: str):
    """word in any mix of cases, now and then with a letter swapped for a look-alike of it."""
    cased = st.lists(st.sampled_from([str.lower, str.upper]), min_size=len(word), max_size=len(word)).map(
        lambda cases: "".join(case(ch) for case, ch in zip(cases, word)))
    return cased | st.builds(lambda text, index, pick: text[:index] + _alike(text[index], pick) + text[index + 1:],
                             cased, st.integers(0, len(word) - 1), st.integers(0, 1))


def _alike(letter: str, pick: int) -> str:
    alikes = LOOK_ALIKES[letter.lower()]
    return alikes[pick % len(alikes)]


blank = st.text(st.sampled_from(BLANKS), max_size=3)
rest = st.one_of(
    st.just(""),
    st.sampled_from([":", ": T-15m", " T-1h30m note", "-progress", "s", "put", ": -- T-shirt", "\r", " \r",
                     ":\r", "wise", "2", " - pro bono", "\tT-5m", ":x", "\xa0x", "\u2028"]),
    st.text(st.sampled_from(list("inoutT-+:1hm x") + BLANKS + ["\u212a", "\u0130"]), max_size=8),
)
head_line = st.builds(
    lambda before, clock, sep, kind, after: before + clock + sep + kind + after,
    blank, _cased("clock") | st.sampled_from(["clok", "clocks", "lock", "c lock"]),
    st.sampled_from(SEPARATORS), _cased("in") | _cased("out") | st.sampled_from(["i", "ou", "on", "inn"]), rest)
line = st.one_of(head_line, st.text(st.sampled_from(list("clockCLOCKinoutINOUT-_: T1hm") + BLANKS + ["\u212a"]),
                                    max_size=16), st.text(max_size=12).filter(lambda text: "\n" not in text))

EXAMPLES = ["clock-in", "clock-out", "Clock: in", "clock in", "clock-in:", "clockin", "Clock : in", "CLOCK OUT",
            "clock  in", "clock_in", "clock--in", "clock\tin", "clock-in-progress", "clockwork",
            "cloc\u212a-in", "CLOC\u212a: in",
            "clock-\u0131n", "\xa0clock-in", "clock-in\xa0note", "clock-in\r", "clock:in", "clock :out T-5m",
            "Clock: out\r", "clock\u2013out", "clock-ins", "  clock out - pro bono", "clock-in\u2028"]


def _oracle(pattern, text: str):
    match = pattern.fullmatch(text)
    return (match["kind"].lower(), match["rest"]) if match else None


@settings(max_examples=1000, deadline=None)
@given(line)
def test_the_subject_head_is_the_regular_expression(text):
    assert markers._subject_head(text) == _oracle(SUBJECT, text)


@settings(max_examples=1000, deadline=None)
@given(line)
def test_the_trailer_head_is_the_regular_expression(text):
    # parse() hands the trailer matcher each line stripped of ASCII blanks.
    stripped = text.strip(markers._WS)
    assert markers._trailer_head(stripped) == _oracle(TRAILER, stripped)


@pytest.mark.parametrize("text", EXAMPLES)
def test_the_examples_agree_with_the_regular_expressions(text):
    assert markers._subject_head(text) == _oracle(SUBJECT, text)
    stripped = text.strip(markers._WS)
    assert markers._trailer_head(stripped) == _oracle(TRAILER, stripped)


@settings(max_examples=1000, deadline=None)
@given(line)
@example("clock_in")
@example(" Clock: out T-5m")
def test_every_near_miss_starts_with_clock(text):
    """parse() tries the near-miss patterns only on a subject that starts with "clock"."""
    if NEAR_SUBJECT.fullmatch(text) or NEAR_TRAILER.fullmatch(text):
        assert markers._word_at(text.lstrip(markers._WS), 0, "clock")


def test_the_examples_cover_both_answers():
    """The fixed examples are not all accepted or all refused (a test that could not fail)."""
    answers = {markers._subject_head(case) is None for case in EXAMPLES}
    assert answers == {True, False}
    assert markers.parse("clock-in-progress") is None
    assert markers.parse("clockin").kind == markers.IN
    assert markers.parse("cloc\u212a-in") is None
    assert markers.parse("fix\n\nClock : in").form == "trailer"


def test_marker_is_a_tuple_of_its_fields():
    marker = markers.Marker("in", note="x")
    assert marker == ("in", markers._ZERO, "x", "subject", None, 0)
    assert (marker.kind, marker.offset, marker.note, marker.form, marker.problem, marker.line) == tuple(marker)
    assert marker._replace(line=3) == ("in", markers._ZERO, "x", "subject", None, 3)
    assert marker._asdict()["note"] == "x"
    assert repr(marker).startswith("Marker(kind='in', offset=")
    import copy
    import pickle
    assert copy.copy(marker) == marker and pickle.loads(pickle.dumps(marker)) == marker
    assert type(pickle.loads(pickle.dumps(marker))) is markers.Marker


def test_a_bare_marker_needs_no_regular_expressions():
    """The hook's usual case: parsing and writing a bare marker imports no `re`."""
    import subprocess
    import sys
    code = ("import sys; from hourly_hooks.core import markers\n"
            "for text in ['clock-in', 'Clock-Out', 'fix\\n\\nClock: in', 'clock in: fixing the build', 'nothing']:\n"
            "    marker = markers.parse(text)\n"
            "    marker and marker.canonical\n"
            "print('re' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# The offset after a marker and the durations in it, as regular expressions.
OFFSET = re.compile(r"T(?P<sign>[-+])(?P<body>(?:\S+(?:\s+\d\S*)*)?)(?P<after>.*)", _FLAGS)
DURATION = re.compile(r"\d+(?:d|hrs|hr|h|mins|min|m|s)(?:\s*\d+(?:d|hrs|hr|h|mins|min|m|s))*", _FLAGS)
DURATION_PART = re.compile(r"(\d+)(d|hrs|hr|h|mins|min|m|s)", _FLAGS)

duration_text = st.one_of(
    st.lists(st.tuples(st.sampled_from(["", " ", "  ", "\t", "\xa0", "-", "\u2028"]),
                       st.sampled_from(["0", "1", "15", "007", "\u0661", "\uff11", "99999999999999999999"]),
                       st.sampled_from(["d", "h", "H", "hr", "HRS", "hrs", "m", "min", "Mins", "mins", "s", "ms",
                                        "hs", "x", "", "\u0455", "min.", "h-", "\u212a"])),
             max_size=4).map(lambda parts: "".join(sep + n + unit for sep, n, unit in parts)),
    st.text(st.sampled_from(list("0123hmsdirn T-+x") + BLANKS), max_size=10),
)
offset_text = st.builds(lambda t, sign, body, tail: t + sign + body + tail,
                        st.sampled_from(["T", "t", "\u0442"]), st.sampled_from(["-", "+", "", "\u2013", " -"]),
                        duration_text, st.sampled_from(["", " note", " 30", " 30 min", " -- x", "\t5m x", " \u0663m",
                                                        "shirt", " ", "  2nd try"]))


@settings(max_examples=1000, deadline=None)
@given(offset_text)
@example("T-1h 30m after")
@example("T- 5m")
@example("T-1h \t")
def test_the_offset_split_is_the_regular_expression(text):
    match = OFFSET.fullmatch(text)
    assert markers._split_offset(text) == (match.group("sign", "body", "after") if match else None)


@settings(max_examples=1000, deadline=None)
@given(duration_text | offset_text)
@example("1h 30m ")
@example("1H30MINS")
@example("1ms")
def test_the_duration_parts_are_the_regular_expression(text):
    expected = ([(n, unit.lower()) for n, unit in DURATION_PART.findall(text)]
                if DURATION.fullmatch(text) else None)
    assert markers._duration_parts(text) == expected


def test_an_offset_needs_no_regular_expressions():
    """`hourly in --at` writes offsets: the hook reads them without `re` too."""
    import subprocess
    import sys
    code = ("import sys; from hourly_hooks.core import markers\n"
            "for text in ['clock-in: T-15m', 'clock-out T-1h 30m fixing', 'x\\n\\nClock: in T-2d', 'clock-in T-5x']:\n"
            "    marker = markers.parse(text)\n"
            "    marker.canonical\n"
            "print('re' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
