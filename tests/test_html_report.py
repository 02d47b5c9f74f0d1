"""`hourly report --format html`: one self-contained page, parsed and rendered in headless Chromium."""

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main

HOSTILE = 'parse <script>alert("x")</script> & <img src="https://evil.example/p.png">'


class Page(HTMLParser):
    """Tags, attributes, style text and visible text of a page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.styles, self.text, self.scripts = [], [], [], [], []
        self._in = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in.append(tag)

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if self._in[-1:] == ["script"]:  # the manifest: data, never shown (test_verify.py reads it)
            self.scripts.append(data)
            return
        (self.styles if self._in[-1:] == ["style"] else self.text).append(data)

    @property
    def visible(self):
        return " ".join(" ".join(self.text).split())


@pytest.fixture
def week(repo):
    shas = {}
    repo.commit("clock-in: client <b>call</b>", "2026-03-02T09:00:00-05:00")
    shas["parser"] = repo.commit(HOSTILE, "2026-03-02T10:00:00-05:00", files={"a": "1"})
    repo.commit("clock-out: T-30m", "2026-03-02T12:30:00-05:00")               # 3:00
    repo.commit("clock-in", "2026-03-03T22:00:00-05:00")
    shas["wrap"] = repo.commit("wrap up\n\nClock: out", "2026-03-04T01:30:00-05:00", files={"a": "2"})  # 3:30
    repo.commit("clock-in", "2026-03-09T09:00:00-04:00")  # daylight saving time from March 8
    repo.commit("clock-out", "2026-03-09T09:20:00-04:00")                      # 0:20
    return repo, shas


STARTS = ["2026-03-02 09:00:00 -05:00", "2026-03-03 22:00:00 -05:00", "2026-03-09 09:00:00 -04:00"]
TOTAL = "6:50:00, 6.83 hours worked"


def html_report(repo, *args):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "America/New_York",
                                       "--rate", "100 USD", "--format", "html", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_self_contained_escaped_and_complete(week):
    repo, shas = week
    text = html_report(repo)
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>") and text.lower().count("<script") == 1
    # The one script element is the manifest: JSON data, which no browser runs.
    assert ("script", "type", "application/json") in page.attributes and len(page.scripts) == 1
    assert "img" not in page.tags and "link" not in page.tags
    assert not [a for a in page.attributes if "http:" in a[2] or "https:" in a[2] or a[1] == "src"]
    styles = " ".join(page.styles)
    assert "url(" not in styles and "@import" not in styles
    for start in STARTS:
        assert start in page.visible
    assert TOTAL in page.visible and "683.33 USD" in page.visible
    # the work log, with a hostile subject shown as text, and its person and period on top
    assert f"{shas['parser'][:7]} {HOSTILE}" in page.visible
    assert f"{shas['wrap'][:7]} wrap up" in page.visible
    assert "client <b>call</b>" in page.visible
    assert "Worked by Alice Martin <alice@example.com>" in page.visible
    assert "Period 2026-03-02 to 2026-03-09" in page.visible and "Rate 100 USD per hour" in page.visible


def test_chart_and_print_styles(week):
    repo, _ = week
    text = html_report(repo)
    page = Page(text)
    bars = [a for a in page.attributes if a[0] == "rect" and a[1] == "width"]
    assert len(bars) == 3                                   # one per day with work
    widths = [float(value) for _, _, value in bars]
    assert widths[1] == max(widths) and widths[2] < widths[0] < widths[1]
    assert abs(widths[0] / widths[1] - 3 / 3.5) < 0.01
    assert "3.50 h" in page.visible and "@media print" in " ".join(page.styles)


def test_period_from_the_selection_and_grouped_summary(week):
    repo, _ = week
    page = Page(html_report(repo, "--since", "2026-03-01", "--until", "2026-03-31", "--by", "week"))
    assert "Period 2026-03-01 to 2026-03-31" in page.visible
    assert "By week" in page.visible and "2026-W10 (2026-03-02)" in page.visible
    assert "Hours per week" in page.visible


def test_rounding_is_stated_and_billed_as_the_table_does(week):
    repo, _ = week
    page = Page(html_report(repo, "--round", "15m"))
    assert "Rounding each session to 15m up" in page.visible
    assert "7.00 hours billed" in page.visible and "700.00 USD" in page.visible


def test_no_sessions_still_a_page(week):
    repo, _ = week
    page = Page(html_report(repo, "--since", "2027-01-01"))
    assert "No sessions in this period." in page.visible and "0.00 hours" in page.visible


# --- rendered by a real browser -----------------------------------------------------------

def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _chromium(browser, tmp_path, *args):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([browser, *flags, *args], capture_output=True, timeout=180)


def read_png(data):
    """(width, height, rows of pixel tuples) of an 8-bit, non-interlaced PNG: enough for Chromium's."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks, header = 8, [], None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6), header
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        # one loop per filter type: a branch per byte makes this several times slower
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                up = previous[i]
                corner = previous[i - channels] if i >= channels else 0
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def test_read_png_on_a_known_image():
    # 2x1, RGB: a red and a white pixel; second row filter: none, written by hand
    raw = b"\x00" + bytes([255, 0, 0, 255, 255, 255])
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    assert read_png(png) == (2, 1, [[(255, 0, 0), (255, 255, 255)]])


def test_renders_in_headless_chromium(week, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    repo, shas = week
    page_file = tmp_path / "timesheet.html"
    page_file.write_text(html_report(repo), encoding="utf-8")
    url = page_file.as_uri()

    shot = tmp_path / "page.png"
    done = _chromium(browser, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", url)
    assert shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    width, height, rows = read_png(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    pixels = [pixel for row in rows[::4] for pixel in row[::4]]
    distinct = set(pixels)
    white = sum(1 for pixel in pixels if pixel == (255, 255, 255))     # the sheet
    ink = sum(1 for pixel in pixels if max(pixel) < 160)              # text and bars
    assert len(distinct) > 20, "the screenshot is nearly one colour"
    assert (63, 107, 176) in distinct, "no chart bars drawn"
    assert white > len(pixels) // 5 and len(pixels) // 200 < ink < len(pixels) // 4

    dom = _chromium(browser, tmp_path, "--dump-dom", url)
    text = Page(dom.stdout.decode("utf-8")).visible
    for start in STARTS:
        assert start in text
    assert TOTAL in text and "683.33 USD" in text and HOSTILE in text


def test_a_tiny_rate_is_written_in_fixed_point(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC", "--format", "html",
                                       "--rate", "0.0000001 BTC"])
    assert result.exit_code == 0, result.output
    page = Page(result.stdout).visible
    assert "0.0000001 BTC per hour" in page and "E-" not in page
