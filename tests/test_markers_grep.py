"""markers.GREP keeps every message markers.parse accepts, as the real readers run git.

The one reader (history.read_markers for the report, history.last_marker for the
hook and `hourly in/out/status`, both over git/log.py's git log) lets
`git log -i -E --grep` in the C locale choose the commits, and parses only what
git lists. A marker the grep drops is a session
that silently disappears, so this is checked on real repositories: generated
messages (every spelling, any spacing and case, CR, tabs, Unicode look-alikes,
leading blank lines) are committed with `git fast-import`, one commit per
message, each by its own author; then each reader must return exactly the
commits whose message parses.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitrepo import isolated_env

from hourly_hooks import history
from hourly_hooks.core import markers
from hourly_hooks.git.repository import Repository

# ASCII white space is what git's [[:space:]] means in the C locale; the rest
# are what Python's Unicode-aware \s and str.strip() also take for white space.
ASCII_SPACE = [" ", "\t", "\r", "\x0b", "\x0c"]
OTHER_SPACE = ["\u00a0", "\u2003", "\u3000", "\x1c", "\x1e", "\x85", "\u2028", "\u2029"]

# Each part of a marker line: (plain choices, odd ones). Odd ones are what a
# parser could wrongly take, or wrongly drop: Unicode white space and line
# separators, letters that Python's case-insensitive matching folds onto ASCII
# ones (KELVIN SIGN ~ k, DOTLESS I ~ i), near-miss separators, broken offsets.
PARTS = {
    "lead": (["", "", " ", "\t", "  "], OTHER_SPACE + ["\r", "\x0b", "\x0c", " \t\r"]),
    "clock": (["clock", "Clock", "CLOCK", "cLoCk"], ["cloc\u212a", "cl\u00f6ck", "cl\u03bfck", "clok", "clocks"]),
    "sep": (["", "-", " "], ["  ", "   ", "_", "\t", "--", " - ", "- ", " -", "\u2013", "\u2014", "\u2010",
                            "\u00a0", "\u2003", "\r", "\x0c", " \u2013 ", "_-"]),
    "colon": ([":", " :", ": ", " : ", ":\t", "\t:  "], ["\uff1a", "\ufe55", ";", ":\u00a0", "\u2003:", "::"]),
    "kind": (["in", "out", "In", "OUT", "IN", "Out"], ["\u0131n", "\u0130N", "\u00f6ut", "inn", "ou", "on"]),
    "after": (["", "", ":", " ", ": ", " - "], ["\t", "\u00a0", "::", "\x0b", "-", ":-", "\r", "x"]),
    "offset": (["", "", "T-5m", "t-1h 30m", "T-1h30m", "T-2hrs 5mins", "T-45M"],
               ["T+5m", "T-abc", "T-15", "T-99999999999999999999d", "T-99999d", "T-shirt", "-- T-shirt",
                "T-\u0661h", "T- 5m", "T-1h 30", "T-1h\u00a030m", "T-5m\r"]),
    "gap": ([" ", " ", "  "], ["", "\t", "\u00a0", "\r", " -- ", " - "]),
    "note": (["", "", "note", "pro bono", "fixed the parser"], ["- note", "-progress", "\u00a0x", "-- x", "2nd try"]),
}
SUBJECT = ["lead", "clock", "sep", "kind", "after", "offset", "gap", "note"]
TRAILER = ["lead", "clock", "colon", "kind", "after", "offset", "gap", "note"]


@st.composite
def marker_line(draw, order):
    """A marker line with none, one or two odd parts."""
    odd = set(draw(st.lists(st.sampled_from(order), max_size=2)))
    return "".join(draw(st.sampled_from(PARTS[name][name in odd])) for name in order)


def part(name):
    return st.one_of(*[st.sampled_from(PARTS[name][0])] * 3, st.sampled_from(PARTS[name][1]), st.text(max_size=3))


# Chaos: every part may be odd at once, or random text.
chaotic = st.tuples(*[part(name) for name in SUBJECT]).map("".join)
subject = st.one_of(marker_line(SUBJECT), marker_line(SUBJECT), marker_line(TRAILER), chaotic)
trailer = st.one_of(marker_line(TRAILER), marker_line(TRAILER), marker_line(SUBJECT),
                    st.tuples(*[part(name) for name in TRAILER]).map("".join))
prose = st.sampled_from(["fixed bug preventing users from clocking in", "had to clock out so it runs",
                         "clockwork", "clock-in-progress bar", "work", "Signed-off-by: A <a@b>",
                         "Revert \"clock-in\"", "fixup! clock-in", "Merge branch 'clock-in'", "",
                         "clock: in DST transitions, use UTC", "clock  inventory"])
line_break = st.one_of(st.just("\n"), st.sampled_from(["\n\n", "\r\n", "\r\n\r\n", "\n \n", "\n\t\n"]),
                       st.sampled_from(["\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029", "\n\u00a0\n"]))
blank = st.sampled_from(["", " ", "\t", "\r", "\x0c", "\x0b", "\u00a0", "\u2028", "\x1c"])
first_line = st.one_of(subject, subject, subject, prose, st.text(max_size=6))
body_line = st.one_of(trailer, prose, subject, st.text(max_size=12))
# The message: maybe blank lines first, the subject line, maybe more paragraphs
# and a trailer block, with any line breaks (git's "\n" and everything Python
# also splits lines at); or free-form pieces glued together.
structured = st.tuples(
    st.lists(st.tuples(blank, line_break), max_size=2).map(lambda pairs: "".join(a + b for a, b in pairs)),
    first_line,
    st.lists(st.tuples(line_break, body_line).map("".join), max_size=4).map("".join),
).map("".join)
glued = st.lists(st.one_of(subject, trailer, prose, line_break, st.text(max_size=6)), min_size=1, max_size=8) \
    .map("".join)
# A lone marker line (blank lines around it at most): no other line can get the message listed.
single = st.tuples(blank, line_break, subject, line_break).map("".join) | subject
message = st.one_of(single, single, structured, glued).map(lambda text: text.replace("\0", ""))


def fast_import(path: Path, env: dict, messages: list) -> list:
    """One commit per message on main (author i has email i@example.com); their SHAs, in order."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], env=env, check=True)
    stream = bytearray()
    for index, text in enumerate(messages, 1):
        data = text.encode("utf-8")
        stream += (f"commit refs/heads/main\nmark :{index}\n"
                   f"author A{index} <{index}@example.com> {1700000000 + index * 60} +0000\n"
                   f"committer C <c@example.com> {1700000000 + index * 60} +0000\n"
                   f"data {len(data)}\n").encode() + data + b"\n"
    marks = path / "marks"
    subprocess.run(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=path, env=env,
                   input=bytes(stream), check=True)
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    return [by_mark[f":{index}"] for index in range(1, len(messages) + 1)]


def listed_by_grep(path: Path, env: dict) -> set:
    """The SHAs `git log -i -E --grep=<markers.GREP>` lists, as both readers ask for them."""
    done = subprocess.run(["git", "log", "-z", "-i", "-E", "--format=%H", "HEAD",
                           *[f"--grep={pattern}" for pattern in markers.GREP]],
                          cwd=path, env=env, capture_output=True, check=True)
    return set(done.stdout.decode().split("\0")) - {""}


def check_readers(messages: list) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        home = Path(temporary)
        env = isolated_env(home)  # LC_ALL=C, as history.py runs git log
        path = home / "repo"
        shas = fast_import(path, env, messages)
        parsed = {sha: text for sha, text in zip(shas, messages) if markers.parse(text) is not None}
        # git may run in the user's own locale: check a UTF-8 one too.
        for locale in LOCALES:
            listed = listed_by_grep(path, {**env, "LC_ALL": locale})
            missed = [text for sha, text in parsed.items() if sha not in listed]
            assert not missed, f"with LC_ALL={locale}, git's grep drops these markers: {missed!r}"
        # And the real readers, end to end (the test's environment is isolated like env):
        # the report's...
        assert {c.sha for c in history.read_markers(history.open_repository(path))} == set(parsed)
        # ...and the hook's (one identity per commit, so every marker is someone's last).
        repo = Repository(path)
        lasts = {index: history.last_marker(repo, f"{index}@example.com") for index in range(1, len(shas) + 1)}
        assert {last.sha for last in lasts.values() if last is not None} == set(parsed)


def _locales() -> list:
    try:
        available = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    except OSError:
        available = []
    utf8 = [name for name in ("C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8") if name in available]
    return ["C", *utf8[:1]]


LOCALES = _locales()


# Each example is one repository of 20 to 60 commits: git's start-up, not the
# messages, is what an example costs.
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(message, min_size=20, max_size=60))
def test_grep_keeps_every_message_the_parser_accepts(batch):
    check_readers(batch)


def test_known_spellings_are_all_kept():
    # The property test's generators aside, the spellings the README and the tests name.
    check_readers([
        "clock-in", "clock in", "Clock-In", "CLOCK OUT", "clock-out: T-1h 30m", "clock out - pro bono",
        "\n\n  clock-in: T-25m", "\r\nclock-in\r\n", "\tclock-out", "work\n\nClock: out T-10m",
        "work\r\n\r\n\tclock :  IN", "clock  out", "CLOCK   OUT", "clock_out", "clock\u2013out",
        "clock\u2014in", "Clock: out", "clock-in: -- T-shirt design", "clock-out: T-99999999999999999999d",
    ])
