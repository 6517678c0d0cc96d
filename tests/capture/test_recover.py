"""Recovering ``.open`` WARC files of crawls that died: what is kept, what is cut, what is left alone."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from portal_archive.capture.recover import recover_directory
from portal_archive.capture.state import CrawlState
from portal_archive.cli import main
from portal_archive.warc.check import check_files
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import OPEN_SUFFIX, PayloadOrigin, RotatingWarcWriter, WrittenExchange
from tests.conftest import counting_ids, fixed_clock

BASE = "http://news.example.cn"


def _exchange(n: int) -> HttpExchange:
    body = f"<html><body><p>第{n}篇文章</p></body></html>".encode()
    return HttpExchange(
        url=f"{BASE}/wxnews/c{n}",
        status=200,
        body=body,
        response_headers=((b"Content-Length", str(len(body)).encode()), (b"ETag", f'W/"{n}"'.encode())),
    )


def _finished_warc(directory: Path, count: int, gzip_level: int = 6) -> tuple[Path, list[WrittenExchange]]:
    """A finished WARC of ``count`` exchanges and a metadata record about the first one."""
    writer = RotatingWarcWriter(
        directory=directory, prefix="t", host="h", clock=fixed_clock(), new_id=counting_ids(), gzip_level=gzip_level
    )
    written = [writer.write_exchange(_exchange(n)) for n in range(count)]
    writer.write_related(
        "metadata", url=f"urn:article:{BASE}/wxnews/c0", content_type="application/json", block=b"{}",
        refers_to=written[0].record_id,
    )  # fmt: skip
    final = writer.close()
    assert final is not None
    return final, written


def _orphan(final: Path, data: bytes) -> Path:
    """Turn a finished file back into the ``.open`` file a killed crawl would have left."""
    orphan = final.with_name(final.name + OPEN_SUFFIX)
    orphan.write_bytes(data)
    final.unlink()
    return orphan


def test_torn_tail_is_cut_and_the_file_renamed(tmp_path: Path) -> None:
    final, _ = _finished_warc(tmp_path, 3)
    intact = final.read_bytes()
    torn_member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"x" * 500)[:-20]
    orphan = _orphan(final, intact + torn_member)
    report = recover_directory(tmp_path)
    (outcome,) = report.recovered
    assert outcome.final_path == final and not orphan.exists()
    assert outcome.bytes_cut == len(torn_member)
    assert final.read_bytes() == intact
    assert [r.warc_type for r in outcome.records].count("response") == 3
    assert check_files([final])[1] == []


def test_a_response_without_its_request_is_cut_too(tmp_path: Path) -> None:
    final, written = _finished_warc(tmp_path, 3)
    data = final.read_bytes()
    last = written[-1]
    _orphan(final, data[: last.offset + last.length])  # the response made it, its request did not
    (outcome,) = recover_directory(tmp_path).recovered
    assert outcome.reason == "last exchange without its request record"
    assert len(final.read_bytes()) == last.offset
    assert [r.record_id for r in outcome.records if r.warc_type == "response"] == [w.record_id for w in written[:2]]
    assert check_files([final])[1] == []


def test_a_record_failing_its_digest_ends_what_is_kept(tmp_path: Path) -> None:
    final, written = _finished_warc(tmp_path, 3)
    data = bytearray(final.read_bytes())
    second = written[1]
    member = gzip.decompress(bytes(data[second.offset : second.offset + second.length]))
    damaged = gzip.compress(member.replace("第1篇".encode(), "第9篇".encode()))
    _orphan(final, bytes(data[: second.offset]) + damaged + bytes(data[second.offset + second.length :]))
    (outcome,) = recover_directory(tmp_path).recovered
    assert "Block-Digest" in outcome.reason or "Payload-Digest" in outcome.reason
    assert [r.record_id for r in outcome.records if r.warc_type == "response"] == [written[0].record_id]
    assert check_files([final])[1] == []


def test_nothing_but_warcinfo_left_means_the_file_goes(tmp_path: Path) -> None:
    final, written = _finished_warc(tmp_path, 1)
    orphan = _orphan(final, final.read_bytes()[: written[0].offset + 7])
    (outcome,) = recover_directory(tmp_path).recovered
    assert outcome.removed and not orphan.exists() and not final.exists()


def test_uncompressed_warc_is_recovered_by_content_length(tmp_path: Path) -> None:
    final, _ = _finished_warc(tmp_path, 2, gzip_level=0)
    assert final.name.endswith(".warc")
    intact = final.read_bytes()
    _orphan(final, intact + b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 900\r\n\r\npartial")
    (outcome,) = recover_directory(tmp_path).recovered
    assert outcome.final_path == final and outcome.reason.startswith("torn record")
    assert final.read_bytes() == intact
    assert check_files([final])[1] == []


def test_a_file_a_live_writer_holds_is_left_alone(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(directory=tmp_path, prefix="live", host="h")
    writer.write_exchange(_exchange(1))
    assert writer.current_path is not None
    size = writer.current_path.stat().st_size
    report = recover_directory(tmp_path)
    assert report.recovered == [] and report.live == [writer.current_path]
    assert writer.current_path.stat().st_size == size
    writer.close()


def test_the_crawl_state_follows_what_survived(tmp_path: Path) -> None:
    final, written = _finished_warc(tmp_path, 3)
    state = CrawlState.open(tmp_path / "crawlstate.sqlite")
    for n, exchange in enumerate(written):
        origin = PayloadOrigin(exchange.record_id, f"{BASE}/wxnews/c{n}", exchange.date, exchange.payload_digest)
        if n < 2:  # the crawl remembered the first two pages; the third was never committed
            state.remember_page(origin.target_uri, etag=None, last_modified=None, origin=origin, filename=final.name)
            state.add_payload(exchange.payload_digest, origin, final.name)
    last = written[1]
    data = final.read_bytes()
    _orphan(final, data[: last.offset + last.length])  # exchange 1 loses its request: it is cut
    (outcome,) = recover_directory(tmp_path).recovered
    assert outcome.state_dropped == 2  # page and payload rows of the cut record
    assert state.page(f"{BASE}/wxnews/c1") is None
    page = state.page(f"{BASE}/wxnews/c0")
    assert page is not None and page.record_id == written[0].record_id
    state.close()


def test_surviving_records_the_state_never_heard_of_are_adopted(tmp_path: Path) -> None:
    final, written = _finished_warc(tmp_path, 2)
    CrawlState.open(tmp_path / "crawlstate.sqlite").close()
    _orphan(final, final.read_bytes())
    (outcome,) = recover_directory(tmp_path).recovered
    assert outcome.state_adopted == 2
    state = CrawlState.open(tmp_path / "crawlstate.sqlite")
    first, second = state.page(f"{BASE}/wxnews/c0"), state.page(f"{BASE}/wxnews/c1")
    assert first is not None and first.done  # its metadata record survived: the item went through
    assert second is not None and not second.done and second.etag == b'W/"1"'
    assert state.payload(written[1].payload_digest) is not None
    state.close()


def test_recover_command_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    final, _ = _finished_warc(tmp_path, 2)
    _orphan(final, final.read_bytes() + b"\x1f\x8b\x08")
    assert main(["recover", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"recovered {final}: " in out and "3 byte(s) cut" in out
    assert (tmp_path / "indexes" / "index.cdxj").is_file()
    assert main(["recover", str(tmp_path)]) == 0
    assert "no unfinished WARC files" in capsys.readouterr().err


def test_recovery_leaves_finished_files_alone(tmp_path: Path) -> None:
    final, _ = _finished_warc(tmp_path, 2)
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(final, copy / final.name)
    assert recover_directory(copy).recovered == []
    assert (copy / final.name).read_bytes() == final.read_bytes()
