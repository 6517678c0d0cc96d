"""``dedup-report`` on third-party WARC files: chunked, gzip and GBK bodies, wget's bracketed URIs,
broken inputs beside good ones, filters, output safety and the CSV and table forms."""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portal_archive.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "portal_archive" / "demo" / "corpus" / "infoq.json"
ORIGINAL_URL = "http://news.example.cn/2024/03/01/courier.html"
COPY_URL = "http://portal.example.com/a/123.html"
OTHER_URL = "http://news.example.cn/2024/03/05/other.html"
TITLE = "城中村快递驿站夫妻连轴转"
COPY_TITLE = "=转载：城中村快递驿站夫妻连轴转"
ADDED = "本文经授权转载，转载请联系原作者获得授权，谢谢各位读者一直以来的支持与厚爱。"


def paragraphs(start: int, count: int) -> list[str]:
    """Real Chinese paragraphs from the demo corpus (long enough to compare)."""
    found = [p for article in json.loads(CORPUS.read_text("utf-8")) for p in article["paragraphs"] if len(p) > 60]
    return found[start : start + count]


def article_html(title: str, body: list[str], published: str, charset: str = "utf-8") -> bytes:
    """A plain news page: navigation, headline, body paragraphs, footer."""
    page = (
        f'<html><head><meta charset="{charset}"><title>{html.escape(title)}</title>'
        f'<meta property="article:published_time" content="{published}"></head><body>'
        '<div class="nav"><a href="/">首页</a> <a href="/news">新闻</a></div>'
        f"<h1>{html.escape(title)}</h1><div class='content'>"
        + "".join(f"<p>{html.escape(p)}</p>" for p in body)
        + "</div><div class='footer'>版权所有 2024</div></body></html>"
    )
    return page.encode(charset)


def chunked(data: bytes, size: int = 700) -> bytes:
    """HTTP/1.1 chunked transfer coding of ``data``."""
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def http_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    reason = {200: "OK", 404: "Not Found"}.get(status, "OK")
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def warc_record(fields: list[tuple[str, str]], block: bytes, version: str = "WARC/1.1") -> bytes:
    lines = [version, *(f"{k}: {v}" for k, v in fields), f"Content-Length: {len(block)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


_ids = iter(range(1, 1_000_000))


def record_id() -> str:
    return f"<urn:uuid:00000000-0000-4000-8000-{next(_ids):012d}>"


def response(url: str, block: bytes, date: str, *, wget: bool = False) -> bytes:
    target = f"<{url}>" if wget else url
    fields = [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", record_id()),
        ("WARC-Date", date),
        ("WARC-Target-URI", target),
        ("Content-Type", "application/http;msgtype=response"),
    ]
    return warc_record(fields, block, "WARC/1.0" if wget else "WARC/1.1")


def warcinfo(software: str) -> bytes:
    block = f"software: {software}\r\nformat: WARC File Format 1.0\r\n".encode()
    fields = [
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", record_id()),
        ("WARC-Date", "2024-03-03T00:00:00Z"),
        ("Content-Type", "application/warc-fields"),
    ]
    return warc_record(fields, block)


def write_warc(path: Path, records: list[bytes], *, gzipped: bool = True) -> Path:
    """One gzip member per record (``.warc.gz``), or plain."""
    with path.open("wb") as fh:
        for record in records:
            fh.write(gzip.compress(record, mtime=0) if gzipped else record)
    return path


@dataclass(frozen=True)
class Pages:
    """The bytes of a small news world: an original (GBK, chunked, gzip), its copy, an unrelated page."""

    original_body: list[str]
    copy_body: list[str]

    def original(self) -> bytes:
        page = article_html(TITLE, self.original_body, "2024-03-01T08:00:00+08:00", charset="gbk")
        headers = [
            ("Content-Type", "text/html; charset=GBK"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
        ]
        return http_response(200, headers, chunked(gzip.compress(page, mtime=0)))

    def copy(self) -> bytes:
        page = article_html(COPY_TITLE, self.copy_body, "2024-03-02T09:30:00+08:00")
        return http_response(200, [("Content-Type", "text/html; charset=utf-8")], page)

    def other(self) -> bytes:
        page = article_html("另一篇完全不同的报道", paragraphs(20, 6), "2024-03-05T10:00:00+08:00")
        return http_response(200, [("Content-Type", "text/html")], page)


def news_pages() -> Pages:
    body = paragraphs(0, 6)
    return Pages(original_body=body, copy_body=[*body, ADDED])


def third_party_warc(path: Path, pages: Pages | None = None, *, wget: bool = False) -> Path:
    """A crawl as wget or Heritrix would write it: pages, an image, a 404, a request record."""
    pages = pages or news_pages()
    png = http_response(200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    missing = http_response(404, [("Content-Type", "text/html")], article_html("404", paragraphs(30, 6), "2024"))
    request = warc_record(
        [
            ("WARC-Type", "request"),
            ("WARC-Record-ID", record_id()),
            ("WARC-Date", "2024-03-03T00:00:01Z"),
            ("WARC-Target-URI", f"<{COPY_URL}>" if wget else COPY_URL),
            ("Content-Type", "application/http;msgtype=request"),
        ],
        b"GET /a/123.html HTTP/1.1\r\nHost: portal.example.com\r\n\r\n",
        "WARC/1.0" if wget else "WARC/1.1",
    )
    records = [
        warcinfo("Wget/1.21.3" if wget else "heritrix/3.4.0"),
        response(ORIGINAL_URL, pages.original(), "2024-03-03T00:00:00Z", wget=wget),
        request,
        response(COPY_URL, pages.copy(), "2024-03-03T00:00:02Z", wget=wget),
        response("http://news.example.cn/logo.png", png, "2024-03-03T00:00:03Z", wget=wget),
        response("http://news.example.cn/gone.html", missing, "2024-03-03T00:00:04Z", wget=wget),
        response(OTHER_URL, pages.other(), "2024-03-03T00:00:05Z", wget=wget),
    ]
    return write_warc(path, records)


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    """Run ``dedup-report --format json``; return the exit code, the JSON and stderr."""
    code = main(["dedup-report", *args, "--format", "json", "--no-progress"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else None, captured.err


def clusters_of(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["canonical_url"]: {m["url"]: m["role"] for m in c["members"]} for c in data["clusters"]}


# -- third-party WARC files ------------------------------------------------------------------------


@pytest.mark.parametrize("wget", [False, True], ids=["heritrix-style", "wget-brackets"])
def test_third_party_warc_gives_the_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str], wget: bool) -> None:
    warc = third_party_warc(tmp_path / "crawl.warc.gz", wget=wget)
    code, data, err = report(capsys, str(warc))
    assert code == 0, err
    assert clusters_of(data) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}
    (cluster,) = data["clusters"]
    assert cluster["decided_by"] == "earliest publication"
    original, copy = cluster["members"]
    assert original["title"] == TITLE  # GBK, gzip and chunked, decoded once with the right charset
    assert original["site"] == "news.example.cn" and copy["domain"] == "portal.example.com"
    assert original["warc"]["filename"] == str(warc) and isinstance(original["warc"]["offset"], int)
    assert original["published_at"] == "2024-03-01T00:00:00+00:00"
    assert data["totals"]["pages_read"] == 3  # the image, the 404 and the request are not pages
    assert data["totals"]["articles"] == 3
    assert data["inputs"][0]["problem"] is None


def test_offsets_point_at_the_response_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from warcio.archiveiterator import ArchiveIterator

    warc = third_party_warc(tmp_path / "crawl.warc.gz", wget=True)
    _, data, _ = report(capsys, str(warc))
    for member in data["clusters"][0]["members"]:
        with warc.open("rb") as fh:
            fh.seek(member["warc"]["offset"])
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == member["url"]


def test_plain_uncompressed_warc_is_read_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gz = third_party_warc(tmp_path / "crawl.warc.gz")
    plain = tmp_path / "crawl.warc"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    code, data, _ = report(capsys, str(plain))
    assert code == 0
    assert clusters_of(data) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}


# -- broken inputs -----------------------------------------------------------------------------------


def truncated_gzip(path: Path) -> Path:
    """Three complete records, then the fourth member cut in half."""
    pages = news_pages()
    members = [
        gzip.compress(record, mtime=0)
        for record in (
            warcinfo("heritrix/3.4.0"),
            response("http://cut.example.cn/1.html", pages.other(), "2024-03-03T00:00:00Z"),
            response("http://cut.example.cn/2.html", pages.copy(), "2024-03-03T00:00:01Z"),
            response("http://cut.example.cn/3.html", pages.copy(), "2024-03-03T00:00:02Z"),
        )
    ]
    path.write_bytes(b"".join(members[:3]) + members[3][: len(members[3]) // 2])
    return path


def test_broken_inputs_are_named_and_the_rest_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = third_party_warc(tmp_path / "good.warc.gz")
    cut = truncated_gzip(tmp_path / "x.warc.gz")
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not an archive\n", encoding="utf-8")
    empty = tmp_path / "empty.warc"
    empty.touch()
    code, data, err = report(capsys, str(cut), str(notes), str(empty), str(good))
    assert code == 1
    lines = err.strip().splitlines()
    assert f"portal-archive dedup-report: {cut}: truncated gzip stream after record 3" in lines
    assert f"portal-archive dedup-report: {notes}: not a WARC file" in lines
    assert f"portal-archive dedup-report: {empty}: empty file" in lines
    assert len(lines) == 3
    # The two complete pages before the cut still count: copies of the good file's pages.
    assert clusters_of(data) == {
        "http://cut.example.cn/1.html": {"http://cut.example.cn/1.html": "original", OTHER_URL: "copy"},
        ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy", "http://cut.example.cn/2.html": "copy"},
    }
    problems = {Path(item["path"]).name: item["problem"] for item in data["inputs"]}
    assert problems == {
        "x.warc.gz": "truncated gzip stream after record 3",
        "notes.txt": "not a WARC file",
        "empty.warc": "empty file",
        "good.warc.gz": None,
    }
    # The complete records before the cut were read.
    assert data["inputs"][0]["records"] == 3 and data["inputs"][0]["pages"] == 2


def test_truncated_plain_warc_and_missing_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = third_party_warc(tmp_path / "good.warc.gz")
    plain = tmp_path / "cut.warc"
    records = [warcinfo("heritrix/3.4.0"), response(COPY_URL + "?x", news_pages().copy(), "2024-03-03T00:00:00Z")]
    data = b"".join(records)
    plain.write_bytes(data[: len(data) - 500])
    code, report_data, err = report(capsys, str(plain), str(tmp_path / "absent.warc.gz"), str(good))
    assert code == 1
    assert f"{plain}: truncated record after record 1" in err
    assert f"{tmp_path / 'absent.warc.gz'}: no such file or folder" in err
    assert clusters_of(report_data) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}


def test_gzip_that_is_not_a_warc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "logs.warc.gz"
    bogus.write_bytes(gzip.compress(b"2024-03-01 GET /index.html 200\n" * 20))
    code, data, err = report(capsys, str(bogus))
    assert code == 1
    assert f"{bogus}: not a WARC file" in err
    assert data["clusters"] == []


# -- options -------------------------------------------------------------------------------------------


def test_site_and_since_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = str(third_party_warc(tmp_path / "crawl.warc.gz"))
    for wanted in ("portal.example.com", "example.com", "news.example.cn"):
        _, data, _ = report(capsys, warc, "--site", wanted)
        assert len(data["clusters"]) == 1, wanted
    _, data, _ = report(capsys, warc, "--site", "elsewhere.cn")
    assert data["clusters"] == [] and data["totals"]["clusters"] == 1 and data["filters"]["site"] == "elsewhere.cn"
    _, data, _ = report(capsys, warc, "--since", "2024-03-02")
    assert len(data["clusters"]) == 1  # the copy was published on the 2nd
    _, data, _ = report(capsys, warc, "--since", "2024-03-04T00:00:00+00:00")
    assert data["clusters"] == []  # nothing published or fetched after the 3rd


def test_threshold_and_min_chars_reach_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = str(third_party_warc(tmp_path / "crawl.warc.gz"))
    _, data, _ = report(capsys, warc, "--threshold", "0.5", "--min-chars", "20000")
    assert data["parameters"]["threshold"] == 0.5 and data["parameters"]["min_chars"] == 20000
    assert data["clusters"] == [] and data["totals"]["too_short"] == 3


def test_replay_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = str(third_party_warc(tmp_path / "crawl.warc.gz"))
    _, data, _ = report(capsys, warc, "--replay-url", "http://127.0.0.1:8080/archive/")
    original = data["clusters"][0]["members"][0]
    assert original["replay_url"] == f"http://127.0.0.1:8080/archive/20240303000000/{ORIGINAL_URL}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "1.5"], "--threshold must be in (0, 1]"),
        (["--since", "last tuesday"], "--since 'last tuesday'"),
        (["--replay-url", "javascript:alert(1)//"], "--replay-url"),
        (["--index", "x.sqlite", "--threshold", "0.5"], "need WARC input"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    warc = str(third_party_warc(tmp_path / "crawl.warc.gz"))
    inputs = [] if "--index" in args else [warc]
    code = main(["dedup-report", *inputs, *args, "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_output_never_overwrites_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = third_party_warc(tmp_path / "crawl.warc.gz")
    before = warc.read_bytes()
    code = main(["dedup-report", str(warc), "-o", str(warc), "--no-progress"])
    assert code == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert warc.read_bytes() == before
    linked = tmp_path / "alias.warc.gz"
    linked.symlink_to(warc)
    assert main(["dedup-report", str(tmp_path), "-o", str(linked), "--no-progress"]) == 2
    assert warc.read_bytes() == before


def test_output_file_and_csv_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = third_party_warc(tmp_path / "crawl.warc.gz")
    out = tmp_path / "report.csv"
    assert main(["dedup-report", str(warc), "--format", "csv", "-o", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out == ""
    # A UTF-8 byte order mark first: Excel reads the Chinese right only with it.
    assert out.read_bytes().startswith(b"\xef\xbb\xbfcluster_id,")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["role"], r["url"]) for r in rows] == [("original", ORIGINAL_URL), ("copy", COPY_URL)]
    assert rows[1]["title"] == "'" + COPY_TITLE  # a title starting with "=" is no spreadsheet formula
    assert rows[1]["cluster_id"] == rows[0]["cluster_id"] and rows[1]["canonical_url"] == ORIGINAL_URL
    assert float(rows[1]["jaccard"]) > 0.7
    assert main(["dedup-report", str(warc), "--format", "csv", "-o", str(out), "--no-progress", "--no-bom"]) == 0
    assert out.read_bytes().startswith(b"cluster_id,")


def test_table_lists_the_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = third_party_warc(tmp_path / "crawl.warc.gz")
    assert main(["dedup-report", str(warc), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 clusters, 1 copies" in out
    assert TITLE in out and ORIGINAL_URL in out and COPY_URL in out
    assert "original decided by earliest publication" in out


def test_progress_is_silent_without_a_terminal(tmp_path: Path) -> None:
    from portal_archive.report.progress import ByteProgress

    stream = io.StringIO()
    with ByteProgress(1000, stream=stream) as progress:
        progress.advance(500)
    assert not progress.active and stream.getvalue() == ""


def test_progress_on_a_terminal_shows_articles_and_their_rate_without_a_thread() -> None:
    import threading
    import time

    from portal_archive.report.progress import ByteProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    threads = threading.active_count()
    with ByteProgress(1000, stream=stream) as progress:
        assert threading.active_count() == threads  # extraction processes may be forked from here
        progress.advance(500)
        time.sleep(0.15)
        progress.count_articles(1234)
    assert progress.active and "1,234 articles" in stream.getvalue()


def test_our_warc_without_metadata_records_is_extracted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A crawl with ``ARCHIVE_METADATA_ENABLED`` off: its pages are re-read by offset and extracted."""
    from portal_archive.warc.records import HttpExchange
    from portal_archive.warc.writer import RotatingWarcWriter

    pages = news_pages()
    writer = RotatingWarcWriter(
        directory=tmp_path, prefix="crawl", warcinfo=[("software", "portal-archive/0.1.0 (Scrapy/2.19.0)")], host="t"
    )
    for url, status, headers, body in (
        (ORIGINAL_URL, 200, [(b"Content-Type", b"text/html; charset=GBK")], article_html(
            TITLE, pages.original_body, "2024-03-01T08:00:00+08:00", charset="gbk")),
        (COPY_URL, 200, [(b"Content-Type", b"text/html; charset=utf-8")], article_html(
            COPY_TITLE, pages.copy_body, "2024-03-02T09:30:00+08:00")),
        ("http://news.example.cn/missing", 404, [(b"Content-Type", b"text/html")], b"<html>404</html>"),
    ):  # fmt: skip
        writer.write_exchange(HttpExchange(url=url, status=status, response_headers=headers, body=body))
    writer.close()
    code, data, err = report(capsys, str(tmp_path))
    assert code == 0, err
    assert clusters_of(data) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}
    (item,) = data["inputs"]
    assert item["metadata_records"] == 0 and item["reextracted"] == 2 and item["pages"] == 2


def test_index_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database", encoding="utf-8")
    code = main(["dedup-report", "--index", str(notes), "--no-progress"])
    assert code == 1
    assert "is not a near-duplicate index" in capsys.readouterr().err
    code = main(["dedup-report", "--index", str(tmp_path / "absent.sqlite"), "--no-progress"])
    assert code == 1
    assert "no near-duplicate index at" in capsys.readouterr().err
    assert main(["dedup-report", str(tmp_path), "--from", "index", "--no-progress"]) == 2
    assert "needs one folder holding dedup.sqlite" in capsys.readouterr().err


def test_warc_compressed_as_one_gzip_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``gzip crawl.warc`` makes one member for all records: read sequentially, without offsets."""
    members = third_party_warc(tmp_path / "members.warc.gz").read_bytes()
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(gzip.decompress(members), mtime=0))
    (tmp_path / "members.warc.gz").unlink()
    code, data, err = report(capsys, str(whole))
    assert code == 0, err
    assert clusters_of(data) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}
    assert all(m["warc"]["offset"] is None for m in data["clusters"][0]["members"])
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    whole.unlink()
    code, data, err = report(capsys, str(cut))
    assert code == 1
    assert f"{cut}: truncated gzip stream after record" in err
