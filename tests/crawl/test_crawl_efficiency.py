"""What keeps a crawl cheap: one parse per page, no repeated requests or source inspection, the
plain HTTP handler when nothing renders, batched index commits, and no throttling on loopback."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pipelines.dedup import NearDuplicatePipeline
from portal_archive.crawl.politeness import apply_crawl_pace
from portal_archive.crawl.spider import PLAIN_HANDLER, PLAYWRIGHT_HANDLER, use_plain_handlers
from portal_archive.dedup import DedupConfig, DedupEngine, Document
from portal_archive.dedup.config import DedupSettingsError
from portal_archive.dedup.minhash import MinHasher, affine32_permutations
from portal_archive.extract import article_to_dict, extract_article, extract_parsed, parse_page
from portal_archive.items import ArticleItem
from spiders.bendi import BendiSpider
from spiders.infoq import InfoqSpider
from tests.dedup.test_texts import ASTRONOMY, LIBRARY

PAGE = """<html><head><meta charset="utf-8"><title>标题</title></head><body>
<div class="site-nav"><a href="/category/tech">科技</a><a href="/">首页</a></div>
<h1 class="article-title">城市图书馆延长开放时间</h1>
<div id="article-content"><p>{body}</p></div>
<div class="related-news"><a href="/wxnews/c0123456789abcdefghijklmn">相关</a><a href="/">首页</a></div>
</body></html>"""
BODY = "市图书馆宣布，自下月起工作日开放时间延长至晚上十点，以方便上班族和学生。" * 4
PLAYWRIGHT_HANDLERS = {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER}


def bendi() -> BendiSpider:
    return BendiSpider.from_crawler(get_crawler(BendiSpider), base_url="http://bendi.test")


def article_response(url: str = "http://bendi.test/wxnews/c9999999999999999999999999") -> HtmlResponse:
    body = PAGE.format(body=BODY).encode("utf-8")
    return HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url))


# -- one parse per page --------------------------------------------------------------------------


def test_a_parsed_page_gives_its_links_and_the_same_article_as_the_bytes() -> None:
    data = PAGE.format(body=BODY).encode("utf-8")
    page = parse_page(data, content_type="text/html; charset=utf-8")
    # Read before extraction, which removes the related block from the tree.
    assert page.hrefs() == ["/category/tech", "/", "/wxnews/c0123456789abcdefghijklmn", "/"]
    parsed = extract_parsed(page, url="http://bendi.test/a")
    assert article_to_dict(parsed) == article_to_dict(extract_article(data, url="http://bendi.test/a"))
    assert BODY in parsed.body_text


@pytest.mark.parametrize(("data", "reason"), [(b"", "empty document"), (b"\x00\x01\x02" * 50, "binary content")])
def test_unparseable_pages_have_no_links_and_say_why(data: bytes, reason: str) -> None:
    page = parse_page(data)
    assert page.root is None and page.hrefs() == []
    assert extract_parsed(page, url="x").empty_reason == reason


def test_an_article_page_is_parsed_once_and_its_links_still_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    spider = bendi()

    def no_second_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the article page was parsed a second time for its links")

    monkeypatch.setattr(HtmlResponse, "css", no_second_parse)
    results = list(spider.parse_article(article_response()))
    items = [r for r in results if isinstance(r, ArticleItem)]
    urls = {r.url for r in results if isinstance(r, Request)}
    assert len(items) == 1 and BODY in items[0].body_text
    assert {"http://bendi.test/category/tech", "http://bendi.test/wxnews/c0123456789abcdefghijklmn"} <= urls


# -- requests: each URL once, one callback object ------------------------------------------------


def test_a_link_already_requested_is_not_yielded_again() -> None:
    spider = bendi()
    first = list(spider.parse_article(article_response()))
    again = list(spider.parse_article(article_response("http://bendi.test/wxnews/c8888888888888888888888888")))
    assert [r for r in first if isinstance(r, Request)]
    assert not [r for r in again if isinstance(r, Request)]
    assert spider.route("http://bendi.test/category/tech#top") is None


def test_requests_share_one_callback_object() -> None:
    spider = bendi()
    first = spider.route("http://bendi.test/wxnews/c" + "1" * 24)
    second = spider.route("http://bendi.test/wxnews/c" + "2" * 24)
    assert first is not None and second is not None
    # Scrapy caches its source inspection of a callback weakly: one object keeps the cache warm.
    assert first.callback is second.callback and first.errback is second.errback
    assert first.callback == spider.parse_article


# -- download handlers -----------------------------------------------------------------------------


def test_a_portal_that_never_renders_uses_scrapys_plain_handler() -> None:
    # Settings still open, as in ``scrapy crawl`` (get_crawler would have frozen them).
    crawler = Crawler(BendiSpider, Settings({"DOWNLOAD_HANDLERS": PLAYWRIGHT_HANDLERS}))
    BendiSpider.from_crawler(crawler, base_url="http://bendi.test")
    assert crawler.settings.getdict("DOWNLOAD_HANDLERS") == {"http": PLAIN_HANDLER, "https": PLAIN_HANDLER}


def test_a_portal_that_renders_keeps_the_browser_handler() -> None:
    crawler = Crawler(InfoqSpider, Settings({"DOWNLOAD_HANDLERS": PLAYWRIGHT_HANDLERS}))
    InfoqSpider.from_crawler(crawler, base_url="http://infoq.test")
    assert crawler.settings.getdict("DOWNLOAD_HANDLERS") == PLAYWRIGHT_HANDLERS


def test_handlers_given_on_the_command_line_win() -> None:
    settings = Settings()
    settings.set("DOWNLOAD_HANDLERS", PLAYWRIGHT_HANDLERS, priority="cmdline")
    assert use_plain_handlers(settings) is False
    assert settings.getdict("DOWNLOAD_HANDLERS") == PLAYWRIGHT_HANDLERS
    frozen = Settings({"DOWNLOAD_HANDLERS": PLAYWRIGHT_HANDLERS})
    frozen.freeze()
    assert use_plain_handlers(frozen) is False


# -- loopback crawls run unthrottled ---------------------------------------------------------------


def test_loopback_crawls_run_without_autothrottle_unless_told_otherwise() -> None:
    settings = Settings({"AUTOTHROTTLE_ENABLED": True})
    apply_crawl_pace(settings, 2.0, "http://127.0.0.1:8080")
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    remote = Settings({"AUTOTHROTTLE_ENABLED": True})
    apply_crawl_pace(remote, 2.0, "https://bendi.news")
    assert remote.getbool("AUTOTHROTTLE_ENABLED") is True
    pinned = Settings()
    pinned.set("AUTOTHROTTLE_ENABLED", True, priority="cmdline")
    apply_crawl_pace(pinned, 2.0, "http://localhost:8080")
    assert pinned.getbool("AUTOTHROTTLE_ENABLED") is True


# -- near-duplicate index: batched, time-bounded commits -------------------------------------------


def committed(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM documents").fetchone()[0])


def test_commit_interval_is_read_and_checked() -> None:
    assert DedupConfig.from_settings(Settings({"DEDUP_COMMIT_INTERVAL": "0.5"})).commit_interval == 0.5
    assert DedupConfig().commit_interval == 0.0
    with pytest.raises(DedupSettingsError, match="DEDUP_COMMIT_INTERVAL"):
        DedupConfig(commit_interval=-1.0)


def test_documents_are_committed_in_batches_or_when_the_interval_is_over(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupEngine.open(DedupConfig(index_path=path, commit_every=100)) as engine:
        engine.add(Document(url="https://a.example/1", text=LIBRARY))
        assert committed(path) == 0  # a batch of 100 is still open
        engine.commit()
        assert committed(path) == 1
    with DedupEngine.open(DedupConfig(index_path=path, commit_every=100, commit_interval=1e-9)) as engine:
        engine.add(Document(url="https://a.example/2", text=ASTRONOMY))
        engine.add(Document(url="https://a.example/3", text=ASTRONOMY + "天文台"))
        assert committed(path) >= 2  # the interval was over at the second document


def test_the_pipeline_commits_an_idle_crawls_transaction(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    settings = {"DEDUP_INDEX_PATH": str(path), "DEDUP_COMMIT_EVERY": 100, "DEDUP_COMMIT_INTERVAL": 0.05}
    pipeline = build_from_crawler(NearDuplicatePipeline, get_crawler(settings_dict=settings))

    async def crawl() -> tuple[int, int]:
        pipeline.open_spider()
        pipeline.process_item(ArticleItem(url="https://a.example/1", body_text=LIBRARY))
        before = committed(path)
        await asyncio.sleep(0.3)
        after = committed(path)
        pipeline.close_spider()
        return before, after

    assert asyncio.run(crawl()) == (0, 1)


# -- MinHash without importing datasketch ----------------------------------------------------------


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (100, 7), (3, 12345)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = affine32_permutations(num_perm, seed)
    expected = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert np.array_equal(a, expected[0]) and np.array_equal(b, expected[1])


@pytest.mark.parametrize("size", [1, 40, 1023, 1024, 1025, 4000])
def test_short_and_long_documents_sign_as_datasketch_does(size: int) -> None:
    hashes = np.random.default_rng(size).integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32)
    expected = MinHash(num_perm=100, seed=3, scheme="affine32", hashfunc=int)
    expected.update_batch([int(h) for h in hashes])
    assert np.array_equal(MinHasher(num_perm=100, seed=3).signature(hashes), expected.hashvalues)
