"""The report in hledger's timeclock format (``hledger -f FILE.timeclock balance``).

The first line, a ``;`` comment, names the period; hledger skips it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import List, Optional, Tuple, cast

from hourly_hooks.core import money
from hourly_hooks.output.rows import Rows


def timeclock(rows: Rows) -> str:
    """hledger's timeclock format: ``i`` and ``o`` lines in sheet's zone, so that
    ``hledger -f FILE balance`` totals exactly the hours the table shows.

    hledger reads the times as wall-clock times (it ignores any UTC offset
    written after them), ends an entry that crosses midnight at 23:59:59
    (dropping a second) and rounds each entry to the hundredth of an hour. So
    each session is written as its shown hours (``line.hours``, which add up
    to the table's total), laid out from its start in real time, and cut
    before each midnight and each change of UTC offset (DST) into pieces that
    are whole hundredths of an hour (36 s): within a piece, wall-clock time
    runs as real time, so hledger's difference is the piece's length and its
    rounding changes nothing, and every time written exists on the wall clock
    (none in the hour skipped in spring; the hour repeated in autumn is
    written twice, as it happened). Times may so differ from the session's by
    up to a minute or so.
    """
    tz = rows.sheet.selection.tz
    out: List[str] = [f"; period: {rows.period.text}"]
    for line in sorted(rows.sheet.lines, key=lambda l: l.session.start):
        session = line.session
        account = " ".join(f"{session.repo}:{session.clock_in.name}".split())
        note = " ".join(session.note.split())
        opening = f" {account}" + (f"  {note}" if note else "")
        seconds = int(line.hours.scaleb(2)) * money.SECONDS_PER_HOURS_PLACE
        for begin, end in _wall_pieces(session.clock_in.effective_epoch, seconds, tz):
            out.append(f"i {begin:%Y/%m/%d %H:%M:%S}{opening}")
            out.append(f"o {end:%Y/%m/%d %H:%M:%S}")
    return "\n".join(out) + "\n"


def _wall_pieces(start: int, seconds: int, tz: tzinfo) -> List[Tuple[datetime, datetime]]:
    """Wall-clock (begin, end) pieces that sum to seconds from the epoch second start,
    each within one day and one UTC offset, ending by the second before the next
    midnight or offset change; whole hundredths of an hour each when seconds is."""
    step = money.SECONDS_PER_HOURS_PLACE
    pieces: List[Tuple[datetime, datetime]] = []
    cursor, left = start, seconds
    while True:
        begin = datetime.fromtimestamp(cursor, tz)
        change = _wall_change(cursor, cursor + left, tz)
        room = left if change is None else change - 1 - cursor
        piece = left if left <= room else room // step * step
        if piece or not pieces and left == 0:
            pieces.append((begin, begin + timedelta(seconds=piece)))  # same offset: wall = real
        left -= piece
        if left <= 0:
            return pieces
        cursor = cast(int, change)


def _wall(epoch: int, tz: tzinfo) -> Tuple[date, Optional[timedelta]]:
    moment = datetime.fromtimestamp(epoch, tz)
    return moment.date(), moment.utcoffset()


def _wall_change(start: int, end: int, tz: tzinfo) -> Optional[int]:
    """The first epoch second in (start, end] whose day or UTC offset on the wall clock
    differs from start's, or None; by bisection (once per midnight or DST change)."""
    first = _wall(start, tz)
    if _wall(end, tz) == first and end - start < 86400:
        return None
    low, high = start, min(end, start + 86400)  # a change within a day, always
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(middle, tz) == first:
            low = middle
        else:
            high = middle
    return high
