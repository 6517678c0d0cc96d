"""The aggregator's relative date text ("3小时前"), the only clock-driven part of a page."""

from __future__ import annotations

from datetime import datetime
from typing import Final

SECONDS_PER_MINUTE: Final = 60
MINUTES_PER_HOUR: Final = 60
HOURS_PER_DAY: Final = 24
DAYS_PER_MONTH: Final = 30
DAYS_PER_YEAR: Final = 365
MONTHS_PER_YEAR: Final = 12


def relative_date_text(moment: datetime, now: datetime) -> str:
    """Elapsed time as Bendi News shows it; "昨天" means 24-48 hours, months are 30 days."""
    seconds = (now - moment).total_seconds()
    if seconds < SECONDS_PER_MINUTE:
        return "刚刚"
    minutes = int(seconds // SECONDS_PER_MINUTE)
    if minutes < MINUTES_PER_HOUR:
        return f"{minutes}分钟前"
    hours = minutes // MINUTES_PER_HOUR
    if hours < HOURS_PER_DAY:
        return f"{hours}小时前"
    days = hours // HOURS_PER_DAY
    if days < 2:
        return "昨天"
    if days < DAYS_PER_MONTH:
        return f"{days}天前"
    months = days // DAYS_PER_MONTH
    if months < MONTHS_PER_YEAR:
        return f"{months}月前"
    return f"{max(1, days // DAYS_PER_YEAR)}年前"
