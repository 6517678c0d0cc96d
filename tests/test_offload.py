"""The page worker: article pages are read on one worker thread, and their stats still add up."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import asdict

from scrapy.utils.test import get_crawler

from portal_archive.offload import PageWorker
from spiders.bendi import BendiSpider
from tests.test_spider_callbacks import NOW, items_of, page


def test_work_runs_on_one_named_worker_thread() -> None:
    worker = PageWorker(threaded=True)

    async def main() -> set[str]:
        names = await asyncio.gather(*(worker.run(lambda: threading.current_thread().name) for _ in range(20)))
        return set(names)

    try:
        names = asyncio.run(main())
    finally:
        worker.shutdown()
    assert len(names) == 1 and next(iter(names)).startswith("page-worker")


def test_calls_back_to_the_loop_land_before_the_result() -> None:
    """Stats incremented on the worker are applied on the loop thread, before the awaiting code resumes."""
    worker = PageWorker(threaded=True)
    counts: Counter[str] = Counter()
    threads: set[str] = set()

    def bump(key: str) -> None:
        threads.add(threading.current_thread().name)
        counts[key] += 1

    def work() -> int:
        for _ in range(1000):
            worker.call_on_loop(bump, "pages")
        return 1000

    async def main() -> tuple[int, int]:
        done = await worker.run(work)
        return done, counts["pages"]

    try:
        done, seen = asyncio.run(main())
    finally:
        worker.shutdown()
    assert done == seen == 1000
    assert threads == {threading.main_thread().name}


def test_inline_when_threading_is_off() -> None:
    worker = PageWorker(threaded=False)
    assert asyncio.run(worker.run(lambda: threading.current_thread().name)) == threading.main_thread().name
    worker.call_on_loop(lambda: None)  # no loop, no thread: runs in place


def _crawl_article(threaded: bool) -> tuple[list[object], dict[str, int], set[str]]:
    crawler = get_crawler(BendiSpider, settings_dict={"DATES_NOW": NOW, "EXTRACT_THREAD": threaded})
    crawler.stats.open_spider()
    spider = BendiSpider.from_crawler(crawler, base_url="http://bendi.test")
    seen: set[str] = set()
    read = spider.read_article

    def spying(response: object) -> object:
        seen.add(threading.current_thread().name)
        return read(response)  # type: ignore[arg-type]

    spider.read_article = spying  # type: ignore[method-assign,assignment]

    async def main() -> list[object]:
        return [result async for result in spider.parse_article(page("bendi_infoq_copy.html"))]

    try:
        results = asyncio.run(main())
    finally:
        spider.page_worker.shutdown()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int)}
    return results, stats, seen


def test_spider_reads_articles_on_the_worker_with_the_same_results_and_stats() -> None:
    threaded, threaded_stats, threaded_on = _crawl_article(True)
    inline, inline_stats, inline_on = _crawl_article(False)
    assert {name[: len("page-worker")] for name in threaded_on} == {"page-worker"}
    assert inline_on == {threading.main_thread().name}
    (threaded_item,), (inline_item,) = items_of(threaded), items_of(inline)
    assert asdict(threaded_item) == asdict(inline_item)
    assert [getattr(r, "url", None) for r in threaded] == [getattr(r, "url", None) for r in inline]
    assert threaded_stats == inline_stats and threaded_stats.get("spider/articles") == 1
