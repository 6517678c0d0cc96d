"""Instants in one place: parsed leniently, kept in UTC, written in the three forms the archive uses.

- ISO 8601, whole seconds (``2024-04-01T02:30:00+00:00``): items, metadata records, run summaries;
- ``WARC-Date`` (``2024-04-01T02:30:00.123456Z``): WARC/1.1 allows the fraction, 1.0 does not;
- 14 digits (``20240401023000``): CDXJ index keys, replay URLs and ``show --at``.

Every parser returns an aware UTC ``datetime`` (a stamp without a zone is read in ``naive_zone``,
UTC unless a caller knows better, as pages printed in Beijing time do) or ``None`` for text that
is no instant; callers that must refuse bad input say so in their own words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Final

__all__ = [
    "as_utc",
    "from_timestamp14",
    "iso_basic",
    "iso_z",
    "parse_iso",
    "parse_timestamp_prefix",
    "timestamp14",
    "timestamp14_of",
    "to_iso",
    "utc_now",
    "warc_date",
]

_TIMESTAMP14_RE: Final = re.compile(r"^\d{14}$")
_WARC_DATE_RE: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\Z")
_NOT_DIGITS: Final = re.compile(r"[^\d]")
_PREFIX_RE: Final = re.compile(r"^\d{4,14}$")
_ISO_PARTS_RE: Final = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?)?)?)?(?:Z|[+-]00:?00)?$"
)
_PERIOD_START: Final = "0101000000"
"""What a prefix of a 14-digit timestamp is padded with: the start of the period it names."""


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """``moment`` in UTC; a naive one is read in ``naive_zone``."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=naive_zone)).astimezone(UTC)


def parse_iso(text: object, naive_zone: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date or instant (``2024-06-01``, ``…T02:30:00Z``, fractions, offsets) in UTC.

    ``None`` for anything else, ``None`` and empty text included: page and record text never raises.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return as_utc(moment, naive_zone)


def to_iso(moment: datetime) -> str:
    """ISO 8601 in UTC, whole seconds, as items and records carry times (naive means UTC)."""
    return as_utc(moment).isoformat(timespec="seconds")


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, whole seconds (``2024-04-01T02:30:00Z``), as WACZ files date things."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_basic(moment: datetime) -> str:
    """ISO 8601 basic format in UTC (``20240401T023000Z``): sortable, and safe in file names."""
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def warc_date(moment: datetime) -> str:
    """``WARC-Date`` of WARC/1.1: UTC with a microsecond fraction (naive means UTC)."""
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"


def timestamp14(moment: datetime) -> str:
    """The 14-digit form (``20240401023000``) of CDXJ keys and replay URLs."""
    return as_utc(moment).strftime("%Y%m%d%H%M%S")


def timestamp14_of(iso: str | None) -> str:
    """The 14-digit form of an ISO 8601 instant as the archive writes them; ``""`` when there is none."""
    moment = parse_iso(iso) if iso else None
    return timestamp14(moment) if moment is not None else ""


def timestamp14_of_warc_date(value: str) -> str | None:
    """The 14-digit form of a ``WARC-Date`` as CDX indexers read it; None when it names no instant.

    Digits are taken in order (year, month, day, hour, minute, second; fractions dropped), so a
    date written without its seconds still counts from the start of its minute, as warcio reads it.
    """
    if _WARC_DATE_RE.match(value):
        stamp = value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
        if "01" <= stamp[4:6] <= "12" and "01" <= stamp[6:8] <= "28" and stamp[8:10] <= "23" and stamp[10:12] <= "59" \
                and stamp[12:14] <= "59":  # fmt: skip
            return stamp  # a valid day of any month: no calendar needed
    numbers = [int(part) for part in _NOT_DIGITS.split(value) if part][:6]
    if len(numbers) < 3:
        return None
    year, month, day, hour, minute, second = numbers + [0] * (6 - len(numbers))
    try:
        return datetime(year, month, day, hour, minute, second).strftime("%Y%m%d%H%M%S")
    except (ValueError, OverflowError):
        return None


def from_timestamp14(stamp: str) -> datetime:
    """The instant of a 14-digit timestamp.

    Raises:
        ValueError: not 14 digits, or no such date (``20240230…``).
    """
    if not _TIMESTAMP14_RE.match(stamp):
        raise ValueError(f"not a 14-digit timestamp: {stamp!r}")
    return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def parse_timestamp_prefix(text: str) -> str:
    """``2024``, ``20240401``, ``20240401023000`` or ISO 8601 UTC (``2024-04-01T02:30:00Z``) -> 14 digits.

    Missing parts count from the start of the period (``2024`` is 2024-01-01 00:00:00), as replay
    tools read a timestamp prefix.

    Raises:
        ValueError: anything else, with the accepted forms.
    """
    match = _ISO_PARTS_RE.match(text)
    if match:
        digits = "".join(part for part in match.groups() if part)
    elif _PREFIX_RE.match(text) and len(text) % 2 == 0:
        digits = text
    else:
        raise ValueError(f"not a timestamp: {text!r} (use YYYY[MM[DD[hh[mm[ss]]]]] or YYYY-MM-DDThh:mm:ssZ)")
    padded = digits + _PERIOD_START[len(digits) - 4 :]
    try:
        from_timestamp14(padded)
    except ValueError as exc:
        raise ValueError(f"not a timestamp: {text!r} ({exc})") from exc
    return padded
