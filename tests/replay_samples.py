"""A small archive folder for the index, show, WACZ and replay tests, written with the project's writer.

Two WARC files: a GBK article (with a GBK header value), a gzip-encoded UTF-8 article, a 301, a
list page, a 500 page fetched twice (the second a revisit), and the article metadata record of
the GBK article. Each exchange is one minute after the previous one.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal_archive import __version__
from portal_archive.archive.metadata import CONTENT_TYPE, article_metadata, encode, metadata_uri
from portal_archive.items import ArticleItem, BoilerplateBlock
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter
from tests.conftest import counting_ids

HOST = "http://news.example.cn"
GBK_URL = f"{HOST}/gbk/1.html"
GZIP_URL = f"{HOST}/gz/2.html"
REDIRECT_URL = f"{HOST}/old"
LIST_URL = f"{HOST}/"
FLAKY_URL = f"{HOST}/flaky"
SHADOWED_URL = f"{HOST}/shadowed.html"

GBK_TITLE = "城中村快递驿站夫妻连轴转"
GBK_PARAGRAPHS = [
    "腊月十二早上七点，天色还灰蒙蒙的，城西区和平里社区一间四十多平方米的快递驿站已经亮起了灯。" * 2,
    "这家驿站是何建军和妻子刘秀芬二〇一九年盘下来的，几年下来，驿站日均进出件从三四百件涨到一千件出头。" * 2,
    "进了腊月，最多的一天到过两千三百多件，夫妻俩又在门外屋檐下临时加了两排铁架，用防水布盖着。",
]
GBK_HTML = (
    f"<html><head><title>{GBK_TITLE}</title></head><body><div class='nav'><a href='/'>首页</a></div>"
    f"<h1>{GBK_TITLE}</h1><div id='content'>" + "".join(f"<p>{p}</p>" for p in GBK_PARAGRAPHS) + "</div>"
    "<div class='footer'>版权所有</div></body></html>"
).encode("gbk")
GZIP_TITLE = "大模型推理芯片发布"
GZIP_PLAIN = (
    "<html><head><meta charset='utf-8'><title>" + GZIP_TITLE + "</title></head><body><h1>" + GZIP_TITLE + "</h1>"
    "<div id='content'>"
    + "".join(
        f"<p>芯澜微电子发布首款大模型推理芯片，第{n}批样片已交付客户测试，称能效比提升二点三倍。</p>"
        for n in range(1, 9)
    )
    + "</div>"
    "</body></html>"
).encode("utf-8")
GZIP_WIRE = gzip.compress(GZIP_PLAIN, mtime=0)
LIST_HTML = "<html><head><title>首页</title></head><body><a href='/gbk/1.html'>驿站</a></body></html>".encode()
FLAKY_HTML = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
START = datetime(2024, 4, 1, 2, 30, 0, tzinfo=UTC)
WARCINFO = (("software", f"portal-archive/{__version__}"), ("format", "WARC File Format 1.1"))
"""What the crawl's capture writes first in its files: readers tell our archives by it."""


def minute_clock(start: datetime = START) -> Callable[[], datetime]:
    """Each call one minute after the previous one."""
    ticks = iter(range(10_000))
    return lambda: start + timedelta(minutes=next(ticks))


@dataclass
class SampleArchive:
    """What was written, for the assertions."""

    directory: Path
    record_ids: dict[str, list[str]] = field(default_factory=dict)
    dates: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def timestamp(self, url: str, n: int = 0) -> str:
        return "".join(ch for ch in self.dates[url][n] if ch.isdigit())[:14]


def _exchange(url: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> HttpExchange:
    return HttpExchange(
        url=url,
        request_headers=[(b"User-Agent", b"portal-archive-test")],
        status=status,
        response_headers=[*headers, (b"Content-Length", str(len(body)).encode())],
        body=body,
        ip_address="127.0.0.1",
    )


def gbk_article_item(record_id: str, filename: str, offset: int) -> ArticleItem:
    """The item a spider would have yielded for the GBK article."""
    return ArticleItem(
        url=GBK_URL,
        site="sample",
        title=GBK_TITLE,
        body_text="\n".join(GBK_PARAGRAPHS),
        boilerplate=[BoilerplateBlock(kind="nav", text="首页", links=[{"title": "首页", "url": "/"}])],
        published_text="2年前",
        source="南方都市报",
        fetched_at="2024-04-01T02:31:00+00:00",
        warc_record_id=record_id,
        warc_filename=filename,
        warc_offset=offset,
        extra={
            "dedup": {
                "cluster_id": "c1",
                "canonical_url": GBK_URL,
                "role": "original",
                "similarity": 1.0,
                "signature": {"num_perm": 128, "seed": 1, "shingle_size": 5},
            }
        },
    )


def write_sample_archive(directory: Path, *, metadata: bool = True, shadowing_control: bool = False) -> SampleArchive:
    """Write the sample folder; ``shadowing_control`` adds a metadata record filed under a page's own URL."""
    sample = SampleArchive(directory)
    clock = minute_clock()
    ids = counting_ids()

    def record(url: str, written_id: str, date: str) -> None:
        sample.record_ids.setdefault(url, []).append(written_id)
        sample.dates.setdefault(url, []).append(date)

    first = RotatingWarcWriter(
        directory=directory, prefix="sample-a", host="testhost", clock=clock, new_id=ids, warcinfo=WARCINFO
    )
    gbk = first.write_exchange(
        _exchange(
            GBK_URL, 200, [(b"Content-Type", b"text/html; charset=GBK"), (b"X-Editor", "编辑".encode("gbk"))], GBK_HTML
        )
    )
    record(GBK_URL, gbk.record_id, gbk.date)
    gz = first.write_exchange(
        _exchange(
            GZIP_URL, 200, [(b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Encoding", b"gzip")], GZIP_WIRE
        )
    )
    record(GZIP_URL, gz.record_id, gz.date)
    moved = first.write_exchange(_exchange(REDIRECT_URL, 301, [(b"Location", GBK_URL.encode())], b""))
    record(REDIRECT_URL, moved.record_id, moved.date)
    if metadata:
        first.write_related(
            "metadata",
            url=metadata_uri(GBK_URL),
            content_type=CONTENT_TYPE,
            block=encode(article_metadata(gbk_article_item(gbk.record_id, gbk.filename, gbk.offset))),
            refers_to=gbk.record_id,
            concurrent_to=gbk.record_id,
        )
    sample.files.append(first.close() or directory)

    second = RotatingWarcWriter(
        directory=directory, prefix="sample-b", host="testhost", clock=clock, new_id=ids, warcinfo=WARCINFO
    )
    listing = second.write_exchange(
        _exchange(LIST_URL, 200, [(b"Content-Type", b"text/html; charset=utf-8")], LIST_HTML)
    )
    record(LIST_URL, listing.record_id, listing.date)
    for _ in range(2):
        flaky = second.write_exchange(
            _exchange(FLAKY_URL, 500, [(b"Content-Type", b"text/html; charset=utf-8")], FLAKY_HTML)
        )
        record(FLAKY_URL, flaky.record_id, flaky.date)
    if shadowing_control:
        page = second.write_exchange(_exchange(SHADOWED_URL, 200, [(b"Content-Type", b"text/html")], GBK_HTML))
        record(SHADOWED_URL, page.record_id, page.date)
        second.write_related(
            "metadata",
            url=SHADOWED_URL,
            content_type=CONTENT_TYPE,
            block=b'{"schema":"not-ours"}',
            refers_to=page.record_id,
            concurrent_to=page.record_id,
        )
    sample.files.append(second.close() or directory)
    return sample


def add_bad_files(directory: Path) -> tuple[list[Path], Path]:
    """Every kind of file a folder command must survive, beside a sample archive's two WARC files.

    Returns the sound WARC files and the one cut 50 bytes short (its complete records still count).
    """
    good, other = sorted(p for p in directory.iterdir() if p.name.endswith(".warc.gz"))
    (directory / "broken.warc.gz").write_bytes(b"\x1f\x8b\x08\x00not gzip at all")
    (directory / "x.warc.gz").write_text("hello this is not a warc file\n")
    (directory / "empty.warc").write_bytes(b"")
    (directory / "one-stream.warc.gz").write_bytes(gzip.compress(gzip.decompress(good.read_bytes()), mtime=0))
    cut = directory / "cut.warc"
    cut.write_bytes(gzip.decompress(other.read_bytes())[:-50])
    (directory / "crawl.warc.wat.gz").write_bytes(gzip.compress(b"WARC/1.0\r\n", mtime=0))
    return [good, other], cut
