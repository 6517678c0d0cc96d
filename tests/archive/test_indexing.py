"""CDXJ lines in parallel runs of whole records: the same lines and findings as one pass."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from portal_archive.archive import indexing
from portal_archive.archive.indexing import index_warc
from portal_archive.warc import runs
from portal_archive.warc.framing import member_splits


def response(n: int) -> bytes:
    body = b"<html><body>page %d</body></html>" % n + bytes(range(256)) * (n % 7)
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body)
    block = http + body
    head = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n"
        b"WARC-Date: 2024-04-01T02:30:%02dZ\r\nWARC-Target-URI: http://e.test/page/%d\r\n"
        b"Content-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n" % (n, n % 60, n, len(block))
    )
    return head + block + b"\r\n\r\n"


def write(path: Path, members: list[bytes]) -> Path:
    path.write_bytes(b"".join(members))
    return path


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of a few kilobytes, so a small file is read by several processes."""
    monkeypatch.setattr(runs, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(runs, "RUN_BYTES", 1)


def lines_and_scan(path: Path, jobs: int) -> tuple[bytes, tuple[object, ...]]:
    out = io.BytesIO()
    found = index_warc(path, out, jobs=jobs)
    problem = found.problem.problem if found.problem else None
    facts = (found.records, found.captures, found.members, found.whole_file_gzip, found.last_complete_offset, problem)
    return out.getvalue(), facts


def test_member_splits_fall_on_record_starts(tmp_path: Path) -> None:
    members = [gzip.compress(response(n)) for n in range(60)]
    path = write(tmp_path / "x.warc.gz", members)
    starts = {sum(len(m) for m in members[:n]) for n in range(60)}
    with path.open("rb") as fh:
        splits = member_splits(fh, path.stat().st_size, 4)
    assert len(splits) == 3 and set(splits) <= starts and splits == sorted(splits)


@pytest.mark.usefixtures("small_runs")
def test_parallel_runs_write_the_lines_of_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path / "x.warc.gz", [gzip.compress(response(n)) for n in range(120)])
    one, facts = lines_and_scan(path, 1)
    assert one.count(b"\n") == 120 and facts[:4] == (120, 120, 120, False)
    assert lines_and_scan(path, 3) == (one, facts)


@pytest.mark.usefixtures("small_runs")
def test_damage_in_a_later_run_is_counted_from_the_start_of_the_file(tmp_path: Path) -> None:
    members = [gzip.compress(response(n)) for n in range(90)]
    members[70] = members[70][:-25]  # cut: the file ends inside the member… and the rest follows
    path = write(tmp_path / "x.warc.gz", members[:71])
    one = lines_and_scan(path, 1)
    assert one[1][5] == "truncated gzip stream after record 70"
    assert lines_and_scan(path, 3) == one


@pytest.mark.usefixtures("small_runs")
def test_a_whole_file_gzip_is_read_in_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path / "x.warc.gz", [gzip.compress(b"".join(response(n) for n in range(80)))])
    one = lines_and_scan(path, 1)
    assert one[0] == b"" and one[1][3] is True
    assert lines_and_scan(path, 2) == one


# -- the URL key: the fast way for plain URLs must give surt's key exactly --------------------------

SURT_CASES = [
    "http://www.Example.com/A/b/?b=2&a=1#frag",
    "https://www2.example.com:443/",
    "http://example.com",
    "http://example.com:80/x/",
    "https://example.com:80/x",
    "http://example.com:8080/x",
    "http://example.com/?a",
    "http://example.com/x?a&a=&=b&&c=d=e",
    "http://www.1.2.3.4/",
    "http://1.2.3.4/",
    "http://0x7f.1/",
    "http://example.com/a//b",
    "http://example.com/a/./b/../c",
    "http://example.com/a/b/..",
    "http://example.com/x;jsessionid=0123456789ABCDEF0123456789ABCDEF?q=1",
    "http://example.com/x?PHPSESSID=0123456789abcdef0123456789abcdef&x=1",
    "http://example.com/(S(0123456789abcdefghijklmn))/page.aspx",
    "http://example.com/%41%2Fb?q=%7e",
    "http://user:pw@example.com/",
    "http://example.com./",
    "HTTP://EXAMPLE.COM/",
    "http://例子.测试/路径",
    "http://example.com/?",
    "http://https://example.com/",
    "https://www.infoq.cn/article/AbCdEf123?utm_source=rss&utm_medium=article",
    "https://bendi.news/wxnews/abcdefghijklmnopqrstuvwxy",
    "dns:example.com",
    "urn:uuid:00000000-0000-4000-8000-000000000000",
]


@pytest.mark.parametrize("url", SURT_CASES)
def test_url_key_is_surts_key(url: str) -> None:
    import surt

    assert indexing.url_key(url) == surt.surt(url)


def test_the_fast_url_key_matches_surt_on_generated_urls() -> None:
    """Hosts, ports, paths and queries built from every character the fast way accepts, and some it does not."""
    import random

    import surt

    rng = random.Random(20241206)
    host_chars, path_chars, query_chars = "abcXYZ019-", "aZ09/._~!$&'()*+,;=:@-%", "aZ09/._~!$&'()*+,;=:@?-&&==%"

    def some(chars: str, low: int, high: int) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(low, high)))

    fast = 0
    for _ in range(20_000):
        host = ".".join(some(host_chars, 1, 4) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            host = rng.choice(["www.", "WWW.", "www12.", "Www."]) + host
        if rng.random() < 0.1:
            host = ".".join(str(rng.randint(0, 300)) for _ in range(rng.randint(1, 4)))
        url = rng.choice(["http://", "https://"]) + host + rng.choice(["", ":80", ":443", ":8080"])
        if rng.random() < 0.8:
            url += "/" + some(path_chars, 0, 10)
        if rng.random() < 0.5:
            url += "?" + some(query_chars, 1, 10)
        if rng.random() < 0.2:
            url += "#" + some(query_chars + " é\n", 0, 5)
        key = indexing._plain_url_key(url)
        if key is None:
            continue
        fast += 1
        assert key == surt.surt(url), url
    assert fast > 5_000  # the fast way was taken, not only the fallback
