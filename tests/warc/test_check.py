"""``portal-archive check`` finds what breaks replay, one line per problem, exit 1."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portal_archive.cli import main
from portal_archive.warc.check import WarcChecker, digest_matches
from portal_archive.warc.records import HttpExchange
from tests.warc.test_writer import gbk_exchange, make_writer

HTML = b"<html><body><p>hello</p></body></html>"


def warcio_file(
    path: Path,
    records: list[tuple[str, str, list[tuple[str, str]], bytes]],
    warcinfo: bool = True,
    gzip_records: bool = True,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write a WARC with warcio (a third-party writer) so each defect is planted on purpose."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_records, warc_version="1.1")
        if warcinfo:
            writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for url, status, headers, body in records:
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
                warc_headers_dict=extra or {},
            )
            writer.write_record(record)
    return path


def problems_of(path: Path) -> list[str]:
    return [p.message for p in WarcChecker(path).run()]


def test_our_writer_output_is_clean(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write_exchange(gbk_exchange())
    writer.write_exchange(HttpExchange(url="http://e.test/copy", status=200, body=gbk_exchange().body))
    path = writer.close()
    assert path is not None
    assert problems_of(path) == []


def test_gzip_header_over_plain_body(tmp_path: Path) -> None:
    path = warcio_file(
        tmp_path / "a.warc.gz",
        [("http://e.test/", "200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(HTML)))], HTML)],
    )
    assert "Content-Encoding: gzip but the stored body is not gzip" in problems_of(path)


def test_stale_content_length(tmp_path: Path) -> None:
    path = warcio_file(tmp_path / "a.warc.gz", [("http://e.test/", "200 OK", [("Content-Length", "5")], HTML)])
    assert f"HTTP Content-Length 5 != stored entity length {len(HTML)}" in problems_of(path)


def test_chunked_header_over_dechunked_body(tmp_path: Path) -> None:
    path = warcio_file(tmp_path / "a.warc.gz", [("http://e.test/", "200 OK", [("Transfer-Encoding", "chunked")], HTML)])
    assert "Transfer-Encoding: chunked but the stored body is not chunked" in problems_of(path)


def test_missing_reason_phrase_and_warcinfo(tmp_path: Path) -> None:
    gz = gzip.compress(HTML, mtime=0)
    path = warcio_file(
        tmp_path / "a.warc.gz",
        [("http://e.test/", "200", [("Content-Encoding", "gzip"), ("Content-Length", str(len(gz)))], gz)],
        warcinfo=False,
    )
    found = problems_of(path)
    assert "first record is not warcinfo" in found
    assert any(m.startswith("HTTP status line without protocol, code and reason phrase") for m in found)


def test_revisit_without_refers_to(tmp_path: Path) -> None:
    path = tmp_path / "r.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        record = writer.create_revisit_record(
            "http://e.test/",
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri="http://e.test/",
            refers_to_date="2024-01-01T00:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [], protocol="HTTP/1.1"),
        )
        writer.write_record(record)
    assert "revisit without WARC-Refers-To" in problems_of(path)


def test_corrupted_payload_digest(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    raw = gzip.decompress(path.read_bytes()).replace("中文正文".encode("gbk"), "中文正午".encode("gbk"))
    broken = tmp_path / "broken.warc"
    broken.write_bytes(raw)
    found = problems_of(broken)
    assert "WARC-Block-Digest does not match the block" in found
    assert "WARC-Payload-Digest does not match the entity body" in found


def test_whole_file_gzip_is_not_per_record(tmp_path: Path) -> None:
    plain = warcio_file(tmp_path / "a.warc", [("http://e.test/", "200 OK", [], HTML)], gzip_records=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    assert any("not one member per record" in m for m in problems_of(whole))


def test_garbage_and_truncated_files_are_reported_not_raised(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"this is not a warc file at all\n" * 10)
    assert problems_of(garbage)
    writer = make_writer(tmp_path / "w")
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-40])
    assert problems_of(cut)
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert problems_of(empty) == ["no WARC records"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("sha1:GADFZKSA5MTG3MOKF2JHACULVAW6474A", True),
        ("sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", False),
        ("md5:00", False),
        ("crc32:1234", None),
    ],
)
def test_digest_labels(label: str, expected: bool | None) -> None:
    assert digest_matches(label, gbk_exchange().body) is expected


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writer = make_writer(tmp_path / "ok")
    writer.write_exchange(gbk_exchange())
    good = writer.close()
    bad = warcio_file(tmp_path / "bad.warc.gz", [("http://e.test/", "200 OK", [("Content-Length", "5")], HTML)])
    assert main(["check", str(good)]) == 0
    assert main(["check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{bad}: #2 response http://e.test/: HTTP Content-Length 5 != stored entity length {len(HTML)}"]
    assert main(["check", str(tmp_path / "missing.warc.gz")]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["check"])
    assert usage.value.code == 2
