"""``check`` in parallel runs of whole records: the findings of one pass, in the same words and order."""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import partial
from pathlib import Path

import pytest

from portal_archive.warc import runs
from portal_archive.warc.check import WarcChecker, _check_run


@pytest.fixture(autouse=True)
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of a few kilobytes, so a small file is read by several processes."""
    monkeypatch.setattr(runs, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(runs, "RUN_BYTES", 1)


def sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - WARC digests


def record(warc_type: str, n: int, block: bytes, *, record_id: int | None = None, extra: bytes = b"",
           length_off: int = 0, digest: str | None = None) -> bytes:  # fmt: skip
    content_type = {
        "response": b"application/http;msgtype=response",
        "warcinfo": b"application/warc-fields",
        "metadata": b"application/warc-fields",
    }[warc_type]
    head = (
        b"WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n"
        b"WARC-Date: 2024-04-01T02:30:%02dZ\r\nWARC-Target-URI: http://e.test/page/%d\r\n"
        b"WARC-Block-Digest: %s\r\nContent-Type: %s\r\n%sContent-Length: %d\r\n\r\n"
    ) % (warc_type.encode(), n if record_id is None else record_id, n % 60, n,
         (digest or sha1(block)).encode(), content_type, extra, len(block) + length_off)  # fmt: skip
    return head + block + b"\r\n\r\n"


def response(n: int, *, declared: int | None = None) -> bytes:
    body = b"<html><body>page %d</body></html>" % n + bytes(range(256)) * (n % 5)
    length = len(body) if declared is None else declared
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % length + body


def damaged_archive(software: bytes) -> list[bytes]:
    """A warcinfo, then responses with a finding every few records: wrong digests, a Content-Length
    that misframes the record, duplicate ids (of captures and of metadata), bodies shorter than said."""
    members = [record("warcinfo", 0, b"software: %s\r\n" % software)]
    for n in range(1, 150):
        if n % 11 == 0:
            members.append(record("response", n, response(n), digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        elif n % 13 == 0:
            members.append(record("response", n, response(n), length_off=-2))  # misframed
        elif n % 17 == 0:
            members.append(record("response", n, response(n), record_id=n - 10))  # a capture's id again
        elif n % 19 == 0:
            members.append(record("metadata", n, b"via: x\r\n", record_id=1_000))  # metadata ids repeated
        elif n % 7 == 0:
            members.append(record("response", n, response(n, declared=5_000)))  # the body is shorter than said
        else:
            members.append(record("response", n, response(n)))
    return [gzip.compress(member) for member in members]


def findings(path: Path, jobs: int, *, group: bool) -> list[str]:
    return [str(problem) for problem in WarcChecker(path, group=group, jobs=jobs).run()]


@pytest.mark.parametrize("software", [b"wget/1.21", b"Browsertrix-Crawler 1.0"])
def test_runs_find_what_one_pass_finds(tmp_path: Path, software: bytes) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(b"".join(damaged_archive(software)))
    assert len(runs.split_runs(path, 4)) == 4 * runs.RUNS_PER_JOB
    for group in (True, False):
        one = findings(path, 1, group=group)
        assert one == findings(path, 2, group=group) == findings(path, 4, group=group)
    every = " | ".join(findings(path, 1, group=False))
    assert every.count("duplicate WARC-Record-ID") == 8 + 6  # 8 repeated capture ids, 6 repeats of one metadata id
    assert every.count("its Content-Length is wrong") == 10
    assert every.count("bytes between records belong to no record") == 1  # summed up for the file, in every run
    assert every.count("WARC-Block-Digest does not match") == 13 + 10  # wrong digests, misframed blocks
    # Bodies shorter than their Content-Length (17, and the 10 misframed): errors, but notes in a browser
    # capture, whose bodies are decoded; the first record tells, and every run must know it.
    cut = every.count("HTTP body cut short")
    assert cut == (27 if software == b"wget/1.21" else 0)


def test_damage_in_a_later_run_is_counted_from_the_start_of_the_file(tmp_path: Path) -> None:
    members = damaged_archive(b"wget/1.21")
    members[140] = members[140][:-25]
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(b"".join(members[:141]))
    one = findings(path, 1, group=True)
    assert any("truncated gzip stream after record 140" in line for line in one)
    assert findings(path, 3, group=True) == one


def test_a_plain_warc_file_is_checked_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "x.warc"
    path.write_bytes(b"".join(gzip.decompress(member) for member in damaged_archive(b"wget/1.21")))
    assert runs.split_runs(path, 4) == [(0, None)]
    assert findings(path, 4, group=False) == findings(path, 1, group=False)


def test_runs_that_do_not_join_up_give_way_to_one_pass(tmp_path: Path) -> None:
    """Records in two gzip members, the second opening on block bytes that read like a record: a run cut
    there does not end where the next begins, and the file is checked in one pass (what the runs before
    found forgotten)."""
    members = []
    for n in range(60):
        whole = record("response", n, response(n) + b"\r\nWARC/1.1\r\nWARC-Type: response\r\n\r\nlooks like one")
        cut = whole.index(b"\r\nWARC/1.1\r\nWARC-Type") + 2 if n >= 30 else len(whole)  # the first runs join
        members += [gzip.compress(part) for part in (whole[:cut], whole[cut:]) if part]
    path = tmp_path / "split.warc.gz"
    path.write_bytes(b"".join(members))
    splits = runs.split_runs(path, 4)
    reached = [run.stopped_at for run in runs.in_processes(partial(_check_run, browser_capture=False), path, splits, 4)]
    joined = [end == stop for end, (_, stop) in zip(reached, splits, strict=True)]
    assert joined[0] and not all(joined)  # a later run reads on past its end
    one = findings(path, 1, group=True)
    assert len(one) > 1 and findings(path, 4, group=True) == one
