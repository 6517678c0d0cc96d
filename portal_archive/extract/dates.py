"""Publication dates as portals print them, resolved to UTC: absolute, relative, and CUID-assisted.

Chinese portals print Beijing wall-clock time (``2024-03-12 09:30``) or elapsed time relative to
the moment the page was rendered (``7月前``, ``3小时前``, ``昨天``). A relative text only gives a
window: ``7月前`` means 210 to 240 days before the fetch. Aggregators such as Bendi News name
their pages with a CUID v1 whose characters 2-9 are the ingest time in base-36 milliseconds;
when that instant falls inside the window it is the best point estimate, otherwise the window's
start is (the earliest the text allows). Impossible input (``13月前``, ``2024-02-30``) gives
``None``: nothing here raises on page text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from portal_archive.timestamps import as_utc, parse_iso, to_iso

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China Standard Time has had no daylight saving since 1991, so a fixed offset is exact."""

CUID_RE: Final = re.compile(r"c[0-9a-z]{24}")
_CUID_TIME_SLICE: Final = slice(1, 9)
_CUID_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_CUID_LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# Elapsed-time units, as "timeago" widgets (and the demo portal) count them: months of 30 days,
# years of 365 days; the largest count each unit may show before the next unit takes over.
_UNITS: Final[dict[str, tuple[timedelta, int]]] = {
    "秒": (timedelta(seconds=1), 59),
    "分钟": (timedelta(minutes=1), 59),
    "分鐘": (timedelta(minutes=1), 59),
    "小时": (timedelta(hours=1), 23),
    "小時": (timedelta(hours=1), 23),
    "天": (timedelta(days=1), 364),
    "日": (timedelta(days=1), 364),
    "周": (timedelta(weeks=1), 52),
    "週": (timedelta(weeks=1), 52),
    "星期": (timedelta(weeks=1), 52),
    "个月": (timedelta(days=30), 12),
    "個月": (timedelta(days=30), 12),
    "月": (timedelta(days=30), 12),
    "年": (timedelta(days=365), 100),
}
_MONTH: Final = timedelta(days=30)
_YEAR: Final = timedelta(days=365)
_MONTHS_PER_YEAR: Final = 12
_RELATIVE_RE: Final = re.compile(r"^(\d{1,4})\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\s*前$")
_JUST_NOW: Final = frozenset({"刚刚", "剛剛"})
_NAMED_DAYS: Final = {"今天": 0, "昨天": 1, "昨日": 1, "前天": 2}
_NAMED_DAY_RE: Final = re.compile(r"^(今天|昨天|昨日|前天)\s*(?:(\d{1,2})\s*[:：]\s*(\d{2}))?$")
ABSOLUTE_DATE_RE: Final = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(\d{1,2})\s*[:：时]\s*(\d{2})(?:\s*[:：分]\s*(\d{2}))?)?"
)
_MONTH_DAY_RE: Final = re.compile(r"^(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2})\s*[:：]\s*(\d{2}))?$")
JUST_NOW_SPAN: Final = timedelta(minutes=1)
CLOCK_SKEW: Final = timedelta(minutes=5)
"""Slack around a window when testing a hint: the page was rendered a little before our clock read."""


@dataclass(frozen=True)
class DateWindow:
    """Where a moment may lie, given a date text and the time the page was fetched."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime, slack: timedelta = CLOCK_SKEW) -> bool:
        """Whether ``moment`` lies in the window widened by ``slack`` on both sides."""
        return self.start - slack <= moment <= self.end + slack


def cuid_timestamp(cuid: str) -> datetime | None:
    """The UTC instant encoded in characters 2-9 of a CUID v1; ``None`` for anything else."""
    if not CUID_RE.fullmatch(cuid):
        return None
    moment = _EPOCH + timedelta(milliseconds=int(cuid[_CUID_TIME_SLICE], 36))
    return moment if _CUID_EARLIEST <= moment < _CUID_LATEST else None


def _local_midnight(moment: datetime, days_back: int) -> datetime:
    local = as_utc(moment).astimezone(SHANGHAI)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)
    return midnight.astimezone(UTC)


def relative_window(text: str, now: datetime) -> DateWindow | None:
    """The window a relative date text allows, or ``None`` when the text is not one (or impossible).

    ``N<unit>前`` means at least N and fewer than N+1 units elapsed. ``昨天``/``前天`` accept
    both readings seen on portals: the calendar day in Beijing and 24-48 (48-72) hours ago.
    """
    cleaned = text.strip()
    now = as_utc(now).astimezone(UTC)
    if cleaned in _JUST_NOW:
        return DateWindow(now - JUST_NOW_SPAN, now)
    match = _RELATIVE_RE.match(cleaned)
    if match:
        count = int(match.group(1))
        unit, largest = _UNITS[match.group(2)]
        if count > largest:
            return None
        nearest = unit * count
        if unit == _YEAR and count == 1:
            nearest = _MONTH * _MONTHS_PER_YEAR  # "1年前" takes over from "11月前" at 360 days, not 365
        return DateWindow(now - unit * (count + 1), now - nearest)
    named = _NAMED_DAY_RE.match(cleaned)
    if named:
        days_back = _NAMED_DAYS[named.group(1)]
        day_start = _local_midnight(now, days_back)
        if named.group(2) is not None:
            hour, minute = int(named.group(2)), int(named.group(3))
            if hour > 23 or minute > 59:
                return None
            moment = day_start + timedelta(hours=hour, minutes=minute)
            return DateWindow(moment, moment + timedelta(minutes=1))
        day_end = day_start + timedelta(days=1)
        if days_back == 0:
            return DateWindow(day_start, now)
        elapsed_start = now - timedelta(days=days_back + 1)
        elapsed_end = now - timedelta(days=days_back)
        return DateWindow(min(day_start, elapsed_start), max(day_end, elapsed_end))
    return None


def parse_absolute(text: str, now: datetime | None = None) -> datetime | None:
    """``2024-03-12 09:30``-style text as Beijing time, in UTC; ``None`` if absent or impossible.

    A date without a year (``03-12 09:30``) is read as the latest such date not after ``now``,
    when ``now`` is given.
    """
    match = ABSOLUTE_DATE_RE.search(text)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)
        except ValueError:
            return None
    short = _MONTH_DAY_RE.match(text.strip())
    if short is None or now is None:
        return None
    month, day = int(short.group(1)), int(short.group(2))
    hour, minute = (int(short.group(3)), int(short.group(4))) if short.group(3) else (0, 0)
    local_now = as_utc(now).astimezone(SHANGHAI)
    for year in (local_now.year, local_now.year - 1):
        try:
            candidate = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
        except ValueError:
            continue
        if candidate <= local_now + CLOCK_SKEW:
            return candidate.astimezone(UTC)
    return None


@dataclass(frozen=True)
class ResolvedDate:
    """A resolved publication time and how it was obtained (``absolute``, ``hint``, ``window_start``)."""

    moment: datetime
    method: str


def resolve_date(text: str, now: datetime, hint: datetime | None = None) -> ResolvedDate | None:
    """Resolve a date text to UTC: absolute text first, then a relative window.

    Args:
        text: the date as the page shows it.
        now: when the page was fetched (the reference of relative texts).
        hint: an independent estimate, e.g. a CUID ingest time; used when the window admits it.

    Returns:
        ``None`` when the text is neither an absolute nor a relative date, or is impossible.
    """
    absolute = parse_absolute(text, now)
    if absolute is not None:
        return ResolvedDate(absolute, "absolute")
    if ABSOLUTE_DATE_RE.search(text):
        return None  # a full date that does not exist (2024-02-30): not a relative text either
    window = relative_window(text, now)
    if window is None:
        return None
    if hint is not None and window.contains(as_utc(hint)):
        return ResolvedDate(as_utc(hint).astimezone(UTC), "hint")
    return ResolvedDate(window.start, "window_start")


def is_impossible_date(text: str) -> bool:
    """Whether ``text`` is shaped like a date that cannot exist: ``13月前``, ``2024-02-30``, ``昨天 25:00``.

    Such text is a fault of the page, worth counting apart from text that is no date at all.
    """
    cleaned = text.strip()
    if ABSOLUTE_DATE_RE.search(cleaned):
        return parse_absolute(cleaned) is None
    if _RELATIVE_RE.match(cleaned) or _NAMED_DAY_RE.match(cleaned):
        return relative_window(cleaned, _CUID_EARLIEST) is None
    short = _MONTH_DAY_RE.match(cleaned)
    if short is None:
        return False
    hour = int(short.group(3)) if short.group(3) else 0
    minute = int(short.group(4)) if short.group(4) else 0
    try:
        datetime(2000, int(short.group(1)), int(short.group(2)), hour, minute)  # a leap year: 02-29 exists
    except ValueError:
        return True
    return False


def from_epoch_millis(value: object) -> datetime | None:
    """An epoch-milliseconds number (as JSON state carries publish times) in UTC; ``None`` if implausible."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        millis = float(value)
    except (ValueError, OverflowError):  # not a number, or an int beyond float range
        return None
    if millis != millis:  # NaN
        return None
    try:
        moment = _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        return None
    return moment if _CUID_EARLIEST <= moment < _CUID_LATEST else None


_ISO_RE: Final = re.compile(
    r"^\s*\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)
RELATIVE_DATE_RE: Final = re.compile(
    r"^\s*(?:\d+\s*(?:秒|分钟|分鐘|小时|小時|天|日|周|週|星期|个月|個月|月|年)前|刚刚|剛剛|昨天|前天|今天)\s*$"
)
DATE_LIKE_RE: Final = re.compile(
    r"(?:19|20)\d{2}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}|\d+\s*(?:秒|分钟|小时|天|个月|月|年)前"
)


def parse_absolute_date(text: str) -> str | None:
    """``2024-03-12 09:30`` style dates, read as Asia/Shanghai time, returned as ISO UTC."""
    moment = parse_absolute(text)
    return to_iso(moment) if moment is not None else None


def parse_machine_date(text: str) -> str | None:
    """An ISO 8601 stamp from a ``<meta>`` or ``<time>``; zone-less stamps are Shanghai time."""
    if not _ISO_RE.match(text):
        return parse_absolute_date(text)
    stamp = parse_iso(text, naive_zone=SHANGHAI)
    return to_iso(stamp) if stamp is not None else parse_absolute_date(text)


def date_text(line: str) -> str:
    """The date part of a metadata line (``2024-03-12 09:30 来源：…`` gives the date and time)."""
    match = ABSOLUTE_DATE_RE.search(line)
    return match.group(0).strip() if match else line
