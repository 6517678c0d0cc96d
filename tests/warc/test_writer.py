"""The WARC writer: byte-exact records, revisits, rotation, and conformance of what it writes."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.timestamps import warc_date
from portal_archive.warc.check import WarcChecker
from portal_archive.warc.records import (
    HttpExchange,
    WarcRecordBuilder,
    consistent_response_headers,
    http_request_block,
    sha1_digest,
)
from portal_archive.warc.writer import RotatingWarcWriter
from tests.conftest import LINT_WARC, counting_ids, fixed_clock, lint_available

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
WARCIO_CLI = "import sys; from warcio.cli import main; sys.exit(main())"
GBK_BODY = "<html><head><title>人民日报</title></head><body><p>中文正文</p></body></html>".encode("gbk")


def gbk_exchange() -> HttpExchange:
    return HttpExchange(
        url="http://news.example.cn/a/b?id=1&x=2",
        request_headers=[(b"User-Agent", b"portal-archive-test"), (b"Accept-Encoding", b"gzip")],
        status=200,
        response_headers=[
            (b"Content-Type", b"text/html; charset=GBK"),
            (b"Content-Length", str(len(GBK_BODY)).encode()),
            (b"Set-Cookie", b"a=1; Path=/"),
            (b"Set-Cookie", b"b=2; Path=/"),
            (b"X-Editor", "编辑".encode("gbk")),
        ],
        body=GBK_BODY,
        ip_address="127.0.0.1",
    )


def make_writer(directory: Path, **kwargs: object) -> RotatingWarcWriter:
    options: dict[str, object] = {
        "directory": directory,
        "prefix": "test",
        "warcinfo": [("software", "portal-archive-test"), ("format", "WARC File Format 1.1")],
        "host": "testhost",
        "clock": fixed_clock(),
        "new_id": counting_ids(),
    }
    options.update(kwargs)
    return RotatingWarcWriter(**options)  # type: ignore[arg-type]


def test_golden_response_record_is_byte_identical() -> None:
    builder = WarcRecordBuilder(warcinfo_id="<urn:uuid:00000000-0000-4000-8000-000000000000>")
    exchange = gbk_exchange()
    record = builder.response(
        exchange,
        record_id="<urn:uuid:00000000-0000-4000-8000-000000000001>",
        date=warc_date(fixed_clock()()),
        payload_digest=sha1_digest(exchange.body),
    )
    assert record.to_bytes() == (RESOURCES / "golden_response.warc").read_bytes()


def test_golden_file_is_byte_identical_across_runs(tmp_path: Path) -> None:
    outputs = []
    for run in ("one", "two"):
        writer = make_writer(tmp_path / run)
        writer.write_exchange(gbk_exchange())
        path = writer.close()
        assert path is not None
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]
    assert gzip.decompress(outputs[0]).startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")


def test_headers_and_body_bytes_are_kept(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    with path.open("rb") as fh:
        records = list(ArchiveIterator(fh))
    response = next(r for r in records if r.rec_type == "response")
    assert response.http_headers.statusline == "200 OK"
    assert response.http_headers.protocol == "HTTP/1.1"
    raw_headers = response.http_headers.headers
    assert [v for k, v in raw_headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"


def test_request_record_has_path_query_and_host() -> None:
    block = http_request_block(gbk_exchange())
    assert block.startswith(b"GET /a/b?id=1&x=2 HTTP/1.1\r\nHost: news.example.cn\r\n")
    assert block.endswith(b"\r\n\r\n")


def test_request_and_response_share_date_and_are_linked(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, clock=lambda: datetime.now(UTC))
    written = writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    with path.open("rb") as fh:
        records = {r.rec_type: r.rec_headers for r in ArchiveIterator(fh)}
    assert records["request"].get_header("WARC-Concurrent-To") == written.record_id
    assert records["request"].get_header("WARC-Date") == records["response"].get_header("WARC-Date")


def test_identical_payload_becomes_revisit_with_refers_to(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    first = writer.write_exchange(gbk_exchange())
    second_exchange = HttpExchange(
        url="http://news.example.cn/mirror",
        status=200,
        response_headers=gbk_exchange().response_headers,
        body=GBK_BODY,
    )
    second = writer.write_exchange(second_exchange)
    path = writer.close()
    assert path is not None
    assert (first.warc_type, second.warc_type) == ("response", "revisit")
    with path.open("rb") as fh:
        revisit = next(r for r in ArchiveIterator(fh) if r.rec_type == "revisit")
        headers = revisit.rec_headers
        assert headers.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
        assert headers.get_header("WARC-Refers-To") == first.record_id
        assert headers.get_header("WARC-Refers-To-Target-URI") == "http://news.example.cn/a/b?id=1&x=2"
        assert headers.get_header("WARC-Refers-To-Date") == first.date
        assert headers.get_header("WARC-Payload-Digest") == sha1_digest(GBK_BODY)
        assert headers.get_header("WARC-Truncated") == "length"
        assert revisit.content_stream().read() == b""


def test_empty_payloads_are_never_revisits(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    redirect = HttpExchange(
        url="http://e.test/old", status=301, response_headers=[(b"Location", b"/new"), (b"Content-Length", b"0")]
    )
    kinds = [writer.write_exchange(redirect).warc_type for _ in range(2)]
    writer.close()
    assert kinds == ["response", "response"]


def test_dechunked_body_renames_transfer_encoding() -> None:
    exchange = HttpExchange(
        url="http://e.test/", status=200, response_headers=[(b"Transfer-Encoding", b"chunked")], body=b"hello"
    )
    assert consistent_response_headers(exchange) == [(b"X-Orig-Transfer-Encoding", b"chunked")]


def test_decoded_body_renames_content_encoding_and_fixes_length() -> None:
    exchange = HttpExchange(
        url="http://e.test/",
        status=200,
        body=b"plain text",
        body_decoded=True,
        response_headers=[(b"Content-Encoding", b"gzip"), (b"Content-Length", b"30")],
    )
    assert consistent_response_headers(exchange) == [
        (b"X-Orig-Content-Encoding", b"gzip"),
        (b"X-Orig-Content-Length", b"30"),
        (b"Content-Length", b"10"),
    ]


def test_gzip_body_keeps_content_encoding() -> None:
    body = gzip.compress(b"<p>x</p>", mtime=0)
    exchange = HttpExchange(
        url="http://e.test/", status=200, body=body, response_headers=[(b"Content-Encoding", b"gzip")]
    )
    assert consistent_response_headers(exchange) == [(b"Content-Encoding", b"gzip")]


def test_rotation_opens_new_file_with_warcinfo_and_renames_on_close(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, max_size=1_000, clock=lambda: datetime.now(UTC))
    for i in range(5):
        writer.write_exchange(HttpExchange(url=f"http://e.test/{i}", status=200, body=random.Random(i).randbytes(900)))
        if writer.current_path is not None:
            assert writer.current_path.name.endswith(".warc.gz.open")
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) == 5
    assert not list(tmp_path.glob("*.open"))
    serials = []
    for path in files:
        prefix, stamp, serial, host = path.name.removesuffix(".warc.gz").split("-")
        assert (prefix, host, len(stamp)) == ("test", "testhost", 17)
        serials.append(serial)
        with path.open("rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"
        assert WarcChecker(path).run() == []
    assert serials == sorted(serials) and len(set(serials)) == 5


def test_uncompressed_files_are_named_warc(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, gzip_level=0)
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None and path.name.endswith(".warc")
    assert path.read_bytes().startswith(b"WARC/1.1\r\n")
    assert WarcChecker(path).run() == []


def test_one_gzip_member_per_record(tmp_path: Path) -> None:
    from portal_archive.warc.reader import scan

    writer = make_writer(tmp_path)
    for i in range(3):
        writer.write_exchange(HttpExchange(url=f"http://e.test/{i}", status=200, body=b"body %d" % i))
    path = writer.close()
    assert path is not None
    found = scan(path)
    assert (found.members, found.records, found.whole_file_gzip) == (1 + 3 * 2, 1 + 3 * 2, False)


@pytest.mark.skipif(not lint_available(), reason="shared WARC linter not present")
def test_writer_output_passes_shared_linter_and_warcio_check(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, clock=lambda: datetime.now(UTC))
    writer.write_exchange(gbk_exchange())
    writer.write_exchange(HttpExchange(url="http://e.test/mirror", status=200, body=GBK_BODY))
    writer.write_exchange(
        HttpExchange(
            url="http://e.test/c", status=200, body=b"chunk", response_headers=[(b"Transfer-Encoding", b"chunked")]
        )
    )
    path = writer.close()
    assert path is not None
    lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", str(path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    warcio = subprocess.run([sys.executable, "-c", WARCIO_CLI, "check", str(path)], capture_output=True, text=True)
    assert warcio.returncode == 0, warcio.stdout + warcio.stderr
