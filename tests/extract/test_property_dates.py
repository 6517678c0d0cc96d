"""Property tests: date text from a page never makes the date parsers raise; impossible dates are ``None``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_archive.extract.dates import (
    cuid_timestamp,
    from_epoch_millis,
    is_impossible_date,
    parse_absolute,
    relative_window,
    resolve_date,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = ["秒", "分钟", "小时", "天", "日", "周", "星期", "个月", "月", "年", "世纪", ""]
# Fetch times: the reference of relative texts is always a real clock reading.
fetch_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


@st.composite
def date_shaped(draw: st.DrawFn) -> str:
    number = st.integers(min_value=0, max_value=99_999).map(str)
    shapes = [
        st.tuples(number, st.sampled_from(UNITS), st.sampled_from(["前", "后", ""])).map("".join),
        st.tuples(number, number, number, number, number).map(lambda p: f"{p[0]}-{p[1]}-{p[2]} {p[3]}:{p[4]}"),
        st.tuples(number, number, number).map(lambda p: f"{p[0]}年{p[1]}月{p[2]}日"),
        st.tuples(st.sampled_from(["今天", "昨天", "前天", "刚刚"]), number, number).map(
            lambda p: f"{p[0]} {p[1]}:{p[2]}"
        ),
        st.tuples(number, number).map(lambda p: f"{p[0]}-{p[1]}"),
    ]
    return draw(st.one_of(*shapes))


texts = st.one_of(st.text(max_size=40), date_shaped())


@FAST
@given(texts, fetch_times, st.one_of(st.none(), fetch_times))
def test_parsers_never_raise(text: str, now: datetime, hint: datetime | None) -> None:
    window = relative_window(text, now)
    absolute = parse_absolute(text, now)
    resolved = resolve_date(text, now, hint)
    impossible = is_impossible_date(text)
    if window is not None:
        assert window.start <= window.end
    if impossible:
        assert resolved is None and absolute is None and window is None


@FAST
@given(date_shaped(), fetch_times)
def test_a_resolved_date_is_utc_and_not_in_the_future(text: str, now: datetime) -> None:
    resolved = resolve_date(text, now)
    if resolved is not None and resolved.method != "absolute":
        assert resolved.moment.tzinfo is not None and resolved.moment <= now


@FAST
@given(
    st.one_of(
        st.integers(), st.integers(min_value=10**300, max_value=10**400), st.floats(), st.text(max_size=30),
        st.none(), st.booleans(), st.binary(max_size=8),
    )
)  # fmt: skip
def test_epoch_millis_never_raises(value: object) -> None:
    moment = from_epoch_millis(value)
    assert moment is None or moment.tzinfo is not None


@FAST
@given(st.one_of(st.text(max_size=30), st.from_regex(r"c[0-9a-z]{24}", fullmatch=True)))
def test_cuid_never_raises(text: str) -> None:
    moment = cuid_timestamp(text)
    if not re.fullmatch(r"c[0-9a-z]{24}", text):
        assert moment is None
    else:  # a CUID's time lies in 2000-2100 or is refused
        assert moment is None or (moment.tzinfo is not None and 2000 <= moment.year < 2100)
