"""Publication dates: absolute dates as pages print them, read as Asia/Shanghai time.

Chinese portals print local time without a zone, so a bare ``2024-03-12 09:30`` means +08:00.
Machine-readable stamps (``<meta property="article:published_time">``, ``<time datetime>``)
carry their own zone when they have one. Relative dates (``7月前``, ``3小时前``) are kept as
text only: resolving them needs the fetch time and only gives an approximation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from portal_archive.dates import ABSOLUTE_DATE_RE, SHANGHAI, parse_absolute

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
    return moment.isoformat() if moment is not None else None


def parse_machine_date(text: str) -> str | None:
    """An ISO 8601 stamp from a ``<meta>`` or ``<time>``; zone-less stamps are Shanghai time."""
    if not _ISO_RE.match(text):
        return parse_absolute_date(text)
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return parse_absolute_date(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=SHANGHAI)
    return stamp.astimezone(UTC).isoformat()


def date_text(line: str) -> str:
    """The date part of a metadata line (``2024-03-12 09:30 来源：…`` gives the date and time)."""
    match = ABSOLUTE_DATE_RE.search(line)
    return match.group(0).strip() if match else line
