"""Incremental crawling, piece by piece: the crawl-state store, the middlewares, the revisit records."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from portal_archive.capture.meta import (
    DATE_META,
    FILENAME_META,
    NOT_MODIFIED_META,
    PAYLOAD_DIGEST_META,
    RECORD_ID_META,
    TYPE_META,
)
from portal_archive.capture.state import CrawlState, CrawlStateError, StoredPayloads
from portal_archive.config import SettingsError
from portal_archive.crawl.incremental import (
    BODY_CHANGED_META,
    STATUS_META,
    IncrementalConfig,
    IncrementalDownloaderMiddleware,
    IncrementalSpiderMiddleware,
    NotModified,
    state_key,
    takes_part,
)
from portal_archive.items import ArticleItem
from portal_archive.warc.check import check_files
from portal_archive.warc.records import REVISIT_IDENTICAL_PAYLOAD, REVISIT_SERVER_NOT_MODIFIED, HttpExchange
from portal_archive.warc.writer import PayloadOrigin, RotatingWarcWriter
from tests.conftest import LINT_WARC, counting_ids, fixed_clock, lint_available

URL = "http://news.example.cn/wxnews/c1"
ORIGIN = PayloadOrigin(
    "<urn:uuid:00000000-0000-4000-8000-000000000001>", URL, "2024-04-01T02:30:00.123456Z", "sha1:AAA"
)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[CrawlState]:
    store = CrawlState.open(tmp_path / "crawlstate.sqlite")
    yield store
    store.close()


# -- the store -------------------------------------------------------------------------------------


def test_pages_are_known_only_once_confirmed(state: CrawlState) -> None:
    assert state.page(URL) is None
    state.remember_page(URL, etag=b'W/"1"', last_modified=None, origin=ORIGIN, filename="a.warc.gz")
    page = state.page(URL)
    assert page is not None and not page.done and page.etag == b'W/"1"' and page.origin == ORIGIN
    state.confirm(URL)
    assert state.page(URL).done  # type: ignore[union-attr]
    changed = PayloadOrigin("<urn:uuid:2>", URL, "2024-04-02T00:00:00Z", "sha1:BBB")
    state.remember_page(URL, etag=b'W/"2"', last_modified=None, origin=changed, filename="b.warc.gz", new_version=True)
    page = state.page(URL)
    assert page is not None and page.versions == 2 and not page.done and page.record_id == "<urn:uuid:2>"


def test_a_304_refreshes_validators_it_carries(state: CrawlState) -> None:
    state.remember_page(URL, etag=b'"1"', last_modified=b"Mon, 01 Apr 2024 00:00:00 GMT", origin=ORIGIN, filename="a")
    state.touch(URL, etag=b'"1b"')
    page = state.page(URL)
    assert page is not None and page.etag == b'"1b"' and page.last_modified == b"Mon, 01 Apr 2024 00:00:00 GMT"


def test_forget_lost_drops_only_rows_of_records_that_did_not_survive(state: CrawlState) -> None:
    kept = PayloadOrigin("<urn:uuid:kept>", URL, "d", "sha1:K")
    lost = PayloadOrigin("<urn:uuid:lost>", URL + "x", "d", "sha1:L")
    state.remember_page(URL, etag=None, last_modified=None, origin=kept, filename="f.warc.gz")
    state.remember_page(URL + "x", etag=None, last_modified=None, origin=lost, filename="f.warc.gz")
    state.add_payload("sha1:K", kept, "f.warc.gz")
    state.add_payload("sha1:L", lost, "f.warc.gz")
    state.add_payload("sha1:O", ORIGIN, "other.warc.gz")
    assert state.forget_lost("f.warc.gz", {"<urn:uuid:kept>"}) == 2
    assert state.page(URL) is not None and state.page(URL + "x") is None
    assert state.payload("sha1:K") is not None and state.payload("sha1:L") is None
    assert state.payload("sha1:O") is not None


def test_stored_payloads_keep_the_first_origin_and_a_bounded_cache(state: CrawlState) -> None:
    payloads = StoredPayloads(state, lambda: "current.warc.gz", cache_size=3)
    for n in range(10):
        payloads.setdefault(f"sha1:{n}", PayloadOrigin(f"<urn:uuid:{n}>", URL, "d", f"sha1:{n}"))
    payloads.setdefault("sha1:0", PayloadOrigin("<urn:uuid:later>", URL, "d", "sha1:0"))
    assert len(payloads._cache) <= 3
    assert payloads["sha1:0"].record_id == "<urn:uuid:0>"
    assert state.payload("sha1:5").filename == "current.warc.gz"  # type: ignore[union-attr]
    assert "sha1:missing" not in payloads
    assert len(payloads) == 10


def test_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crawlstate.sqlite"
    CrawlState.open(path).close()
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(CrawlStateError, match="move it aside"):
        CrawlState.open(path)


def test_config_defaults_to_the_warc_folder(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"WARC_DIR": str(tmp_path)})
    assert IncrementalConfig.from_settings(crawler.settings).state_path == tmp_path / "crawlstate.sqlite"


def test_config_defaults_values_and_frozen(tmp_path: Path) -> None:
    assert IncrementalConfig.from_settings(Settings()) == IncrementalConfig()
    config = IncrementalConfig()
    assert (config.enabled, config.state_path, config.payload_cache) == (True, Path("archive/crawlstate.sqlite"), 2000)
    config = IncrementalConfig.from_settings(
        Settings(
            {
                "INCREMENTAL_ENABLED": "false",
                "INCREMENTAL_STATE_PATH": str(tmp_path / "state.sqlite"),
                "INCREMENTAL_PAYLOAD_CACHE": "10",
            }
        )
    )
    assert (config.enabled, config.state_path, config.payload_cache) == (False, tmp_path / "state.sqlite", 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.payload_cache = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"),
    [("INCREMENTAL_ENABLED", "perhaps"), ("INCREMENTAL_PAYLOAD_CACHE", "many"), ("INCREMENTAL_PAYLOAD_CACHE", "-1")],
)
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        IncrementalConfig.from_settings(Settings({key: value}))


# -- the writer: revisits across runs and 304s --------------------------------------------------


def _writer(directory: Path, state: CrawlState | None = None) -> RotatingWarcWriter:
    writer = RotatingWarcWriter(directory=directory, prefix="t", host="h", clock=fixed_clock(), new_id=counting_ids())
    if state is not None:
        writer.payloads = StoredPayloads(state, lambda: "t.warc.gz")
    return writer


def _exchange(
    status: int = 200, body: bytes = b"<html>same</html>", headers: tuple[tuple[bytes, bytes], ...] = ()
) -> HttpExchange:
    return HttpExchange(
        url=URL, status=status, body=body, response_headers=headers or ((b"Content-Length", str(len(body)).encode()),)
    )


def _records(directory: Path) -> list[Any]:
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            found += [(r.rec_type, dict(r.rec_headers.headers)) for r in ArchiveIterator(fh)]
    return found


def test_identical_payload_of_an_earlier_run_becomes_a_revisit(tmp_path: Path, state: CrawlState) -> None:
    first = _writer(tmp_path / "run1", state)
    written = first.write_exchange(_exchange())
    first.close()
    second = _writer(tmp_path / "run2", state)
    again = second.write_exchange(_exchange())
    second.close()
    assert written.warc_type == "response" and again.warc_type == "revisit"
    revisit = next(h for t, h in _records(tmp_path / "run2") if t == "revisit")
    assert revisit["WARC-Profile"] == REVISIT_IDENTICAL_PAYLOAD
    assert revisit["WARC-Refers-To"] == written.record_id
    assert revisit["WARC-Refers-To-Date"] == written.date


def test_a_304_to_a_conditional_request_is_a_server_not_modified_revisit(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    earlier = writer.write_exchange(_exchange())
    origin = PayloadOrigin(earlier.record_id, URL, earlier.date, earlier.payload_digest)
    not_modified = HttpExchange(url=URL, status=304, body=b"", response_headers=((b"ETag", b'W/"1"'),))
    written = writer.write_exchange(not_modified, not_modified=origin)
    writer.close()
    assert written.warc_type == "revisit"
    revisit = next(h for t, h in _records(tmp_path) if t == "revisit")
    assert revisit["WARC-Profile"] == REVISIT_SERVER_NOT_MODIFIED
    assert revisit["WARC-Refers-To"] == earlier.record_id
    assert revisit["WARC-Refers-To-Target-URI"] == URL
    assert revisit["WARC-Refers-To-Date"] == earlier.date
    assert revisit["WARC-Payload-Digest"] == earlier.payload_digest
    assert "WARC-Truncated" not in revisit
    assert check_files([tmp_path])[1] == []
    if lint_available():
        files = [str(p) for p in tmp_path.glob("*.warc.gz")]
        lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout


def test_a_304_without_a_named_record_stays_a_response(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    assert writer.write_exchange(_exchange(status=304, body=b"")).warc_type == "response"
    writer.close()


# -- the middlewares -------------------------------------------------------------------------------


class ArticleSpider(Spider):
    name = "articles"

    def is_article(self, url: str) -> bool:
        return "/wxnews/" in url


def _crawler(tmp_path: Path) -> Any:
    crawler = get_crawler(
        ArticleSpider,
        {"WARC_DIR": str(tmp_path), "EXTENSIONS": {"portal_archive.capture.extension.WarcCaptureExtension": 0}},
    )
    crawler.spider = ArticleSpider()
    return crawler


def _archived(request: Request, status: int = 200, body: bytes = b"<p>x</p>", etag: bytes = b'W/"1"') -> HtmlResponse:
    request.meta.update(
        {
            TYPE_META: "response",
            RECORD_ID_META: "<urn:uuid:rec>",
            DATE_META: "2024-04-01T00:00:00Z",
            FILENAME_META: "a.warc.gz",
            PAYLOAD_DIGEST_META: "sha1:" + body.hex(),
        }
    )
    return HtmlResponse(request.url, status=status, body=body, headers={"ETag": etag}, request=request)


def test_only_articles_and_opted_in_requests_take_part() -> None:
    spider = ArticleSpider()
    assert takes_part(Request(URL), spider)
    assert not takes_part(Request("http://news.example.cn/category/tech"), spider)
    assert takes_part(Request("http://news.example.cn/category/tech", meta={"incremental": True}), spider)
    assert not takes_part(Request(URL, meta={"incremental": False}), spider)
    assert not takes_part(Request(URL, meta={"playwright": True}), spider)
    assert not takes_part(Request(URL, method="POST"), spider)
    assert not takes_part(Request(URL), Spider("plain"))


def test_known_finished_pages_are_revalidated_and_a_304_ends_quietly(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    first = Request(URL)
    assert middleware.process_request(first) is None
    assert b"If-None-Match" not in first.headers
    middleware.process_response(first, _archived(first))
    assert first.meta[STATUS_META]["status"] == "new"
    assert crawler.stats.get_value("incremental/new") == 1

    unconfirmed = Request(URL)
    middleware.process_request(unconfirmed)
    assert b"If-None-Match" not in unconfirmed.headers  # its item never went through: fetch in full
    assert crawler.stats.get_value("incremental/unconfirmed") == 1

    middleware.item_finished(ArticleItem(url=URL))
    again = Request(URL)
    middleware.process_request(again)
    assert again.headers[b"If-None-Match"] == b'W/"1"'
    assert again.meta[NOT_MODIFIED_META].record_id == "<urn:uuid:rec>"
    with pytest.raises(NotModified):
        middleware.process_response(again, HtmlResponse(URL, status=304, body=b"", request=again))
    assert crawler.stats.get_value("incremental/not_modified") == 1
    middleware.spider_closed()
    middleware.engine_stopped()
    assert crawler.stats.get_value("incremental/pages") == 1


def test_a_changed_page_is_a_new_version(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    first = Request(URL)
    middleware.process_response(first, _archived(first, body=b"<p>one</p>"))
    middleware.item_finished(ArticleItem(url=URL))
    second = Request(URL)
    middleware.process_request(second)
    middleware.process_response(second, _archived(second, body=b"<p>two</p>", etag=b'W/"2"'))
    status = second.meta[STATUS_META]
    assert status["status"] == "changed" and status["version"] == 2
    assert status["previous_record_id"] == "<urn:uuid:rec>"
    assert crawler.stats.get_value("incremental/changed") == 1
    middleware.engine_stopped()


API = "http://news.example.cn/public/v1/article/getDetail"


def _answer(uuid: str, *, body: bytes) -> tuple[Request, HtmlResponse]:
    request = Request(API, method="POST", body=b'{"uuid": "%s"}' % uuid.encode(), meta={"incremental": True})
    return request, _archived(request, body=body, etag=b"")


def test_api_answers_are_remembered_per_request_body_and_counted_apart(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    one, two = _answer("a", body=b'{"content": "1"}'), _answer("b", body=b'{"content": "1"}')
    assert state_key(one[0]) != state_key(two[0]) and state_key(one[0]).startswith("POST " + API)
    assert state_key(Request(URL)) == URL
    for request, response in (one, two):
        middleware.process_request(request)
        middleware.process_response(request, response)
        assert request.meta[STATUS_META]["status"] == "new"
    again, edited = _answer("a", body=b'{"content": "1"}'), _answer("b", body=b'{"content": "2"}')
    for request, response in (again, edited):
        middleware.process_request(request)
        assert request.meta.get(NOT_MODIFIED_META) is None  # no validators: nothing to revalidate
        middleware.process_response(request, response)
    assert again[0].meta[STATUS_META]["status"] == "unchanged"
    assert edited[0].meta[STATUS_META]["status"] == "changed"
    # An answer has no item of its own: known at once, never "unconfirmed"; its stats are its own.
    assert middleware.state.page(state_key(again[0])).done  # type: ignore[union-attr]
    stats = crawler.stats.get_stats()
    assert {key: value for key, value in stats.items() if key.startswith("incremental/")} == {
        "incremental/answers/new": 2,
        "incremental/answers/unchanged": 1,
        "incremental/answers/changed": 1,
    }
    middleware.engine_stopped()


def test_a_page_fetched_again_for_a_new_body_is_asked_in_full_and_changed(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    first = Request(URL)
    middleware.process_response(first, _archived(first))
    middleware.item_finished(ArticleItem(url=URL))
    again = Request(URL, meta={BODY_CHANGED_META: True})
    middleware.process_request(again)
    assert b"If-None-Match" not in again.headers and NOT_MODIFIED_META not in again.meta
    middleware.process_response(again, _archived(again))  # the same HTML
    status = again.meta[STATUS_META]
    assert (status["status"], status["version"]) == ("changed", 2)
    middleware.engine_stopped()


def test_a_page_the_capture_could_not_archive_is_not_remembered(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    request = Request(URL)
    middleware.process_response(request, HtmlResponse(URL, body=b"<p>x</p>", request=request))
    assert middleware.state.page(URL) is None
    middleware.engine_stopped()


async def _run(middleware: IncrementalSpiderMiddleware, response: HtmlResponse, outputs: list[Any]) -> list[Any]:
    async def results() -> AsyncIterator[Any]:
        for output in outputs:
            yield output

    return [entry async for entry in middleware.process_spider_output(response, results())]


def test_items_of_new_and_changed_pages_are_flagged_unchanged_ones_skipped() -> None:
    crawler = get_crawler(ArticleSpider)
    middleware: IncrementalSpiderMiddleware = build_from_crawler(IncrementalSpiderMiddleware, crawler)
    changed = HtmlResponse(
        URL, body=b"", request=Request(URL, meta={STATUS_META: {"status": "changed", "known": True}})
    )
    link = Request("http://news.example.cn/wxnews/c2")
    out = asyncio.run(_run(middleware, changed, [ArticleItem(url=URL), link]))
    assert out[0].extra["incremental"]["status"] == "changed" and out[1] is link
    unchanged = HtmlResponse(
        URL, body=b"", request=Request(URL, meta={STATUS_META: {"status": "unchanged", "known": True}})
    )
    assert asyncio.run(_run(middleware, unchanged, [ArticleItem(url=URL)])) == []
    rendered = Request(URL, meta={"playwright": True})
    asyncio.run(_run(middleware, changed, [rendered]))
    assert rendered.meta[STATUS_META]["status"] == "changed"  # the rendered page's item is the one to flag
    assert crawler.stats.get_value("incremental/items/changed") == 1
    assert crawler.stats.get_value("incremental/items/unchanged_skipped") == 1


def test_a_status_flags_only_its_own_pages_item() -> None:
    """An API answer's response carries the answer's status, not the status of the page whose item
    it completes: that item takes its page's status (held), never the answer's."""
    crawler = get_crawler(ArticleSpider)
    crawler.spider = ArticleSpider()
    middleware: IncrementalSpiderMiddleware = build_from_crawler(IncrementalSpiderMiddleware, crawler)
    answer = HtmlResponse(
        API, body=b"", request=Request(API, method="POST", meta={STATUS_META: {"status": "unchanged", "known": True}})
    )
    out = asyncio.run(_run(middleware, answer, [ArticleItem(url=URL)]))
    assert len(out) == 1 and "incremental" not in out[0].extra
    assert crawler.stats.get_value("incremental/items/unchanged_skipped") is None


def test_the_store_says_whether_it_knows_an_article_of_the_portal(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    crawler.spider.origin = "http://news.example.cn"
    middleware: IncrementalDownloaderMiddleware = build_from_crawler(IncrementalDownloaderMiddleware, crawler)
    other = Request("http://news.example.cn/article/7", meta={"incremental": True})  # not this portal's article
    middleware.process_response(other, _archived(other))
    middleware.item_finished(ArticleItem(url=other.url))
    middleware.spider_closed()
    assert crawler.stats.get_value("incremental/has_known_articles") == 0
    first = Request(URL)
    middleware.process_response(first, _archived(first))
    middleware.spider_closed()
    assert crawler.stats.get_value("incremental/has_known_articles") == 0  # archived, its item never went through
    middleware.item_finished(ArticleItem(url=URL))
    middleware.spider_closed()
    assert crawler.stats.get_value("incremental/has_known_articles") == 1
    middleware.engine_stopped()
