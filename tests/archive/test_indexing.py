"""CDXJ lines in parallel runs of whole records: the same lines and findings as one pass."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from portal_archive.archive import indexing
from portal_archive.archive.indexing import index_warc
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
    monkeypatch.setattr(indexing, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(indexing, "_RUN_BYTES", 1)


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
