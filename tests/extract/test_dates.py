"""Date parsing: CUID decoding, relative windows, hint resolution, and impossible input."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from portal_archive.demo import relative_date_text
from portal_archive.extract.dates import (
    SHANGHAI,
    DateWindow,
    cuid_timestamp,
    from_epoch_millis,
    parse_absolute,
    relative_window,
    resolve_date,
)
from portal_archive.timestamps import to_iso

NOW = datetime(2024, 10, 18, 7, 42, 30, tzinfo=UTC)


def test_cuid_of_the_seed_page_decodes_to_its_ingest_time() -> None:
    moment = cuid_timestamp("cls46zk260023lpnyhyekusue")
    assert moment is not None
    assert to_iso(moment) == "2024-02-02T05:15:52+00:00"


@pytest.mark.parametrize(
    "text", ["", "cls46zk26", "Cls46zk260023lpnyhyekusue", "cls46zk260023lpnyhyekusu!", "c" + "0" * 24]
)
def test_cuid_rejects_malformed_or_implausible_ids(text: str) -> None:
    assert cuid_timestamp(text) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("刚刚", NOW - timedelta(minutes=1), NOW),
        ("12分钟前", NOW - timedelta(minutes=13), NOW - timedelta(minutes=12)),
        ("3小时前", NOW - timedelta(hours=4), NOW - timedelta(hours=3)),
        ("3天前", NOW - timedelta(days=4), NOW - timedelta(days=3)),
        ("7月前", NOW - timedelta(days=240), NOW - timedelta(days=210)),
        ("7个月前", NOW - timedelta(days=240), NOW - timedelta(days=210)),
        ("2年前", NOW - timedelta(days=3 * 365), NOW - timedelta(days=2 * 365)),
        (" 2 周前 ", NOW - timedelta(weeks=3), NOW - timedelta(weeks=2)),
    ],
)
def test_relative_windows(text: str, start: datetime, end: datetime) -> None:
    assert relative_window(text, NOW) == DateWindow(start, end)


def test_yesterday_covers_the_calendar_day_and_24_to_48_hours() -> None:
    window = relative_window("昨天", NOW)
    assert window is not None
    # NOW is 15:42 in Beijing on 18 October: calendar yesterday is 17 Oct 00:00-24:00 +08:00.
    assert window.start == min(datetime(2024, 10, 17, tzinfo=SHANGHAI), NOW - timedelta(days=2))
    assert window.end == datetime(2024, 10, 18, tzinfo=SHANGHAI)
    assert window.contains(NOW - timedelta(hours=30))
    day_before = relative_window("前天", NOW)
    assert day_before is not None and day_before.contains(NOW - timedelta(hours=50))


def test_named_day_with_a_clock_time_is_exact() -> None:
    window = relative_window("昨天 09:05", NOW)
    assert window is not None
    assert window.start == datetime(2024, 10, 17, 9, 5, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text", ["13月前", "60分钟前", "24小时前", "61秒前", "101年前", "昨天 25:00", "明天", "7月後", "前"]
)
def test_impossible_relative_texts_give_none(text: str) -> None:
    assert relative_window(text, NOW) is None
    assert resolve_date(text, NOW) is None


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "2023年2月29日", "2024-04-01 25:61"])
def test_impossible_absolute_dates_give_none(text: str) -> None:
    assert parse_absolute(text) is None
    assert resolve_date(text, NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-01 10:30", datetime(2024, 4, 1, 2, 30, tzinfo=UTC)),
        ("2024年4月1日", datetime(2024, 3, 31, 16, 0, tzinfo=UTC)),
        ("发布于 2024/04/01 10:30:15", datetime(2024, 4, 1, 2, 30, 15, tzinfo=UTC)),
        ("10-17 09:00", datetime(2024, 10, 17, 1, 0, tzinfo=UTC)),
        ("12-31", datetime(2023, 12, 30, 16, 0, tzinfo=UTC)),
    ],
)
def test_absolute_dates_are_beijing_time(text: str, expected: datetime) -> None:
    assert parse_absolute(text, NOW) == expected
    resolved = resolve_date(text, NOW)
    assert resolved is not None and resolved.method == "absolute" and resolved.moment == expected


def test_hint_inside_the_window_is_the_estimate_else_the_window_start() -> None:
    ingest = NOW - timedelta(days=215, hours=3)
    resolved = resolve_date("7月前", NOW, hint=ingest)
    assert resolved is not None and (resolved.moment, resolved.method) == (ingest, "hint")
    far = NOW - timedelta(days=400)
    fallback = resolve_date("7月前", NOW, hint=far)
    assert fallback is not None and (fallback.moment, fallback.method) == (NOW - timedelta(days=240), "window_start")


def test_relative_dates_resolve_within_the_day_against_the_demo_wording() -> None:
    """Whatever the demo portal prints for a CUID time, the CUID comes back exactly; without it, the window holds it."""
    rng = random.Random(7)
    for _ in range(2000):
        elapsed = timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
        moment = NOW - elapsed
        text = relative_date_text(moment, NOW)
        # The page is rendered up to a few seconds before our clock reads the fetch time.
        fetched = NOW + timedelta(seconds=rng.uniform(0, 3))
        window = relative_window(text, fetched)
        assert window is not None, text
        assert window.contains(moment), (text, moment, window)
        resolved = resolve_date(text, fetched, hint=moment)
        assert resolved is not None and resolved.moment == moment, text
        if elapsed < timedelta(days=2):
            unhinted = resolve_date(text, fetched)
            assert unhinted is not None and abs(unhinted.moment - moment) < timedelta(days=1), text


def test_epoch_millis_and_iso_output() -> None:
    moment = from_epoch_millis(1707183000000)
    assert moment == datetime(2024, 2, 6, 1, 30, tzinfo=UTC)
    assert to_iso(datetime(2024, 4, 1, 10, 30, 0, 500000, tzinfo=SHANGHAI)) == "2024-04-01T02:30:00+00:00"
    for bad in (None, True, "soon", float("nan"), 1e30, -1):
        assert from_epoch_millis(bad) is None
