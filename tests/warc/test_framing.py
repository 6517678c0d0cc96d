"""Record framing: offsets and lengths from gzip members, wrong lengths stepped over, damage named."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import pytest

from portal_archive.warc.check import WarcChecker
from portal_archive.warc.framing import PIECE, FrameReader, FramingError, open_frames
from portal_archive.warc.reader import WarcFileError, read_records, scan


def record(n: int, block: bytes = b"", *, length: int | None = None, eol: bytes = b"\r\n") -> bytes:
    block = block or b"payload %d" % n
    size = len(block) if length is None else length
    fields = [b"WARC/1.1", b"WARC-Type: resource", b"WARC-Record-ID: <urn:uuid:%d>" % n,
              b"WARC-Date: 2024-01-01T00:00:00Z", b"WARC-Target-URI: http://e.test/%d" % n,
              b"Content-Type: text/plain", b"Content-Length: %d" % size]  # fmt: skip
    return eol.join(fields) + eol + eol + block + b"\r\n\r\n"


def test_plain_records_have_offsets_and_lengths() -> None:
    data = record(1) + record(2)
    reader = open_frames(io.BytesIO(data))
    seen = [(f.offset, f.read(), f) for f in reader.frames()]
    assert [(offset, block) for offset, block, _ in seen] == [(0, b"payload 1"), (len(record(1)), b"payload 2")]
    assert [f.length for _, _, f in seen] == [len(record(1)) - 4, len(record(2)) - 4]  # CRLF CRLF not counted
    assert not reader.members_split and reader.members == 0


def test_gzip_members_give_offsets_and_compressed_lengths() -> None:
    members = [gzip.compress(record(n)) for n in range(3)]
    reader = open_frames(io.BytesIO(b"".join(members)))
    seen = [(f.offset, f.read(), f) for f in reader.frames()]
    starts = [sum(len(m) for m in members[:n]) for n in range(3)]
    assert [offset for offset, _, _ in seen] == starts
    assert [f.length for _, _, f in seen] == [len(m) for m in members]
    assert reader.members == 3 and not reader.members_split


def test_a_member_larger_than_a_piece_keeps_its_length() -> None:
    """The piece that ends a member may carry no bytes (the gzip trailer comes after the last ones)."""
    big = record(1, bytes(range(256)) * (3 * PIECE // 256))
    members = [gzip.compress(big, 9), gzip.compress(record(2))]
    reader = open_frames(io.BytesIO(b"".join(members)))
    seen = [(f.offset, len(f.read()), f) for f in reader.frames()]
    assert [(offset, size) for offset, size, _ in seen] == [(0, 3 * PIECE), (len(members[0]), 9)]
    assert seen[0][2].length == len(members[0]) and not reader.members_split


def test_whole_file_gzip_reads_in_order_without_offsets() -> None:
    reader = open_frames(io.BytesIO(gzip.compress(record(1) + record(2) + record(3))))
    offsets = [f.offset for f in reader.frames()]
    assert offsets == [0, None, None]
    assert reader.members_split and reader.members == 1


def test_header_lines_ending_in_cr_cr_lf_or_lf_are_read() -> None:
    for eol in (b"\r\r\n", b"\n"):
        reader = open_frames(io.BytesIO(record(1, eol=eol) + record(2)))
        found = [(f.get("WARC-Type"), f.get("Content-Length"), f.read()) for f in reader.frames()]
        assert found == [("resource", "9", b"payload 1"), ("resource", "9", b"payload 2")], eol


def test_a_wrong_content_length_is_marked_and_the_next_record_found_again() -> None:
    data = record(1, length=5) + record(2) + record(3, length=11)
    reader = open_frames(io.BytesIO(data))
    frames = []
    for frame in reader.frames():
        frame.read()
        frames.append(frame)
    assert [f.get("WARC-Record-ID") for f in frames] == ["<urn:uuid:1>", "<urn:uuid:2>", "<urn:uuid:3>"]
    assert [f.misframed for f in frames] == [True, False, True]  # the last one: at the end of the file
    assert reader.skipped_bytes > 0


def test_damage_is_named_after_the_complete_records() -> None:
    member = gzip.compress(record(1))
    cases = {
        b"hello this is text\n\n": "not a WARC file",
        gzip.compress(b"<html>not a warc</html>\r\n\r\n"): "not a WARC file (gzip data that is not WARC)",
        member + gzip.compress(record(2))[:-30]: "truncated gzip stream after record 1",
        member + b"trailing junk": "data after record 1 is not gzip",
        record(1) + record(2)[:-40]: "truncated record after record 1",
    }
    for data, problem in cases.items():
        with pytest.raises(FramingError) as failure:
            for frame in open_frames(io.BytesIO(data)).frames():
                frame.read()
        assert failure.value.problem == problem, data[:40]


def test_corrupt_deflate_data_is_named() -> None:
    member = bytearray(gzip.compress(record(2) * 20))
    member[40:60] = bytes(20)
    with pytest.raises(FramingError) as failure:
        for frame in open_frames(io.BytesIO(gzip.compress(record(1)) + bytes(member))).frames():
            frame.read()
    assert failure.value.problem == "corrupt gzip data after record 1"


def test_pieces_of_any_size_frame_alike() -> None:
    data = record(1, b"x" * 5000) + record(2) + record(3, length=3)
    whole = [(f.offset, f.read()) for f in FrameReader(iter([(-1, data, -1)]), gzipped=False).frames()]
    for size in (1, 7, 64):
        parts = iter([(-1, data[i : i + size], -1) for i in range(0, len(data), size)])
        assert [(f.offset, f.read()) for f in FrameReader(parts, gzipped=False).frames()] == whole, size


def test_reader_and_checker_name_a_wrong_length_after_the_last_record(tmp_path: Path) -> None:
    path = tmp_path / "x.warc"
    path.write_bytes(record(1) + record(2, length=4))
    assert [r.record_id for r in read_records(path, parse_http=False)] == ["<urn:uuid:1>", "<urn:uuid:2>"]
    causes = [(p.severity, p.cause, p.where) for p in WarcChecker(path).run()]
    assert (
        "error",
        "record not followed by CRLF CRLF: its Content-Length is wrong",
        "#2 resource http://e.test/2",
    ) in causes


def test_scan_counts_members_and_says_how_they_are_split(tmp_path: Path) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(gzip.compress(record(1) + record(2)) + gzip.compress(record(3)))
    found = scan(path)
    assert (found.records, found.members, found.whole_file_gzip) == (3, 2, True)
    assert found.layout_problem.startswith("2 gzip members for 3 records")
    causes = [p.cause for p in WarcChecker(path).run() if p.severity == "error"]
    assert any(c.startswith("2 gzip members for 3 records") for c in causes)


def test_read_records_raises_one_line_for_a_cut_file(tmp_path: Path) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(gzip.compress(record(1)) + zlib.compress(b"x")[:3])
    with pytest.raises(WarcFileError) as failure:
        list(read_records(path))
    assert failure.value.complete == 1 and "\n" not in str(failure.value)


def test_a_records_block_is_one_stream_however_often_it_is_asked_for(tmp_path: Path) -> None:
    block = b"GET / HTTP/1.1\r\nHost: e.test\r\n\r\nbody"
    head = (b"WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            b"WARC-Target-URI: http://e.test/\r\nContent-Length: %d\r\n\r\n" % len(block))  # fmt: skip
    path = tmp_path / "x.warc"
    path.write_bytes(head + block + b"\r\n\r\n")
    for record in read_records(path):
        assert record.http is not None and record.http.status_line == b"GET / HTTP/1.1"
        assert record.block.read(2) + record.block.read() == b"body"  # the bytes read past the head, once
        assert record.block_left == 0
