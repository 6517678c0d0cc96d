"""``ReliableScheduler`` on a real redis-server: when a request counts as done, and what happens then."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import scrapy
from redis import Redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from portal_archive.distributed import scheduler as scheduler_module
from portal_archive.distributed.frontier import Frontier, WorkerIdInUse
from portal_archive.distributed.scheduler import ARCHIVED_META, ENTRY_META, ReliableScheduler

DB = 13
BASE = "portal-archive:crawl:dist-test"


class DistTestSpider(scrapy.Spider):
    name = "dist-test"

    def parse(self, response: Any, **kwargs: Any) -> Any:
        return []

    def other(self, response: Any) -> Any:
        return []

    def failed(self, failure: Any) -> None:
        pass


class FakeScraper:
    """Stands for Scrapy's scraper: each response waits until the test says it is handled."""

    def __init__(self) -> None:
        self.waiting: dict[str, Deferred[None]] = {}

    def enqueue_scrape(self, result: Any, request: Request) -> Deferred[None]:
        deferred: Deferred[None] = Deferred()
        self.waiting[request.url] = deferred
        return deferred


class FakeLoop:
    running = False

    def __init__(self, *args: Any) -> None:
        pass

    def start(self, interval: float, now: bool = True) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


@pytest.fixture
def client(redis_server: Any) -> Iterator[Redis]:
    with redis_server.empty_db(DB) as redis:
        yield redis


@pytest.fixture
def make(redis_server: Any, client: Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``make(worker_id)`` -> ``(scheduler, crawler, spider)``, open, on a fake engine."""
    monkeypatch.setattr(scheduler_module, "create_looping_call", FakeLoop)
    opened: list[ReliableScheduler] = []

    def build(worker: str = "w1", **settings: Any) -> tuple[ReliableScheduler, Any, DistTestSpider]:
        crawler = get_crawler(
            DistTestSpider,
            {
                "DISTRIBUTED_REDIS_URL": redis_server.url_for(DB),
                "DISTRIBUTED_WORKER_ID": worker,
                "ADDONS": {"portal_archive.distributed.addon.DistributedAddon": 0},
                **settings,
            },
        )
        spider = DistTestSpider.from_crawler(crawler)
        crawler.spider = spider
        wakes: list[int] = []
        crawler.engine = SimpleNamespace(
            scraper=FakeScraper(), _slot=SimpleNamespace(nextcall=SimpleNamespace(schedule=lambda: wakes.append(1)))
        )
        crawler.wakes = wakes
        scheduler = ReliableScheduler.from_crawler(crawler)
        scheduler.open(spider)
        opened.append(scheduler)
        return scheduler, crawler, spider

    yield build
    for scheduler in opened:
        if scheduler._loop.running:
            scheduler.close("finished")


def scrape(crawler: Any, request: Request) -> Deferred[None]:
    """What the engine does with a downloaded response: hand it to the (wrapped) scraper."""
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    crawler.engine.scraper.enqueue_scrape(response, request)
    return crawler.engine.scraper.waiting[request.url]


def in_flight(client: Redis, worker: str = "w1") -> int:
    return int(client.hlen(f"{BASE}:inflight:{worker}"))


def test_a_request_is_done_once_its_response_is_fully_handled(make: Any, client: Redis) -> None:
    scheduler, crawler, spider = make()
    assert scheduler.enqueue_request(Request("http://portal.test/", callback=spider.parse, errback=spider.failed))
    assert not scheduler.enqueue_request(Request("http://portal.test/"))  # seen
    request = scheduler.next_request()
    assert request is not None and request.meta[ENTRY_META]
    assert request.callback == spider.parse and request.errback == spider.failed
    assert in_flight(client) == 1
    handled = scrape(crawler, request)
    # a link of the page, meta copied from the response: not a replacement of the page
    child = Request("http://portal.test/a", meta=dict(request.meta))
    assert scheduler.enqueue_request(child)
    assert ENTRY_META not in child.meta
    assert in_flight(client) == 1
    handled.callback(None)
    assert in_flight(client) == 0
    stats = crawler.stats.get_stats()
    assert (stats["dist/popped"], stats["dist/acked"], stats["dist/enqueued"], stats["dist/filtered"]) == (1, 1, 2, 1)
    assert scheduler.has_pending_requests()  # the link


def test_a_redirect_or_retry_completes_the_request_it_replaces(make: Any, client: Redis) -> None:
    scheduler, crawler, _ = make()
    scheduler.enqueue_request(Request("http://portal.test/old"))
    request = scheduler.next_request()
    assert request is not None
    redirected = request.replace(url="http://portal.test/new")  # what RedirectMiddleware does
    assert scheduler.enqueue_request(redirected)
    assert in_flight(client) == 0
    retry = scheduler.next_request()
    assert retry is not None and retry.url == "http://portal.test/new"
    assert retry.meta[ENTRY_META] != request.meta[ENTRY_META]
    again = retry.replace(dont_filter=True)  # what RetryMiddleware does
    assert scheduler.enqueue_request(again)
    assert in_flight(client) == 0 and scheduler.has_pending_requests()
    assert crawler.stats.get_value("dist/acked") == 2


def test_the_warc_records_are_flushed_before_the_request_is_forgotten(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, crawler, _ = make()
    events: list[str] = []
    writer = SimpleNamespace(flush=lambda: events.append("flush"))
    monkeypatch.setattr(scheduler, "_warc_writer", lambda: writer)
    ack = scheduler.frontier.ack
    monkeypatch.setattr(scheduler.frontier, "ack", lambda ids: events.append("ack") or ack(ids))
    scheduler.enqueue_request(Request("http://portal.test/"))
    request = scheduler.next_request()
    assert request is not None
    scrape(crawler, request).callback(None)
    assert events == ["flush", "ack"]


def test_an_archived_response_is_noted_on_its_entry_and_its_meta(make: Any, client: Redis) -> None:
    scheduler, crawler, spider = make()
    scheduler.enqueue_request(Request("http://portal.test/page"))
    request = scheduler.next_request()
    assert request is not None
    request.meta.update(
        warc_type="response",
        warc_record_id="<urn:uuid:1>",
        warc_date="2026-11-25T00:00:00Z",
        warc_payload_digest="sha1:ABC",
    )
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    crawler.signals.send_catch_log(signals.response_downloaded, response=response, request=request, spider=spider)
    expected = {
        "record_id": "<urn:uuid:1>",
        "uri": "http://portal.test/page",
        "date": "2026-11-25T00:00:00Z",
        "digest": "sha1:ABC",
    }
    assert json.loads(client.hget(f"{BASE}:archived", request.meta[ENTRY_META]) or b"") == expected
    assert request.meta[ARCHIVED_META] == expected  # carried by its retries and redirects
    assert crawler.stats.get_value("dist/archived_marked") == 1


def test_a_dead_workers_archived_page_is_fetched_again_as_a_revisit(
    make: Any, client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, crawler, spider = make()
    payloads: dict[str, Any] = {}
    capture = SimpleNamespace(writer=SimpleNamespace(payloads=payloads, flush=lambda: None))
    monkeypatch.setattr(
        "portal_archive.capture.extension.WarcCaptureExtension.of", classmethod(lambda cls, crawler: capture)
    )
    dead = Frontier(client, BASE, "dead", ttl=0.2)
    dead.claim_worker()
    scheduler.queue.push(Request("http://portal.test/page", callback=spider.other))
    (entry,) = dead.pop()
    note = {"record_id": "<urn:uuid:9>", "uri": "http://portal.test/page", "date": "D", "digest": "sha1:XYZ"}
    dead.mark_archived(entry.id, json.dumps(note).encode())
    assert scheduler.next_request() is None
    time.sleep(0.3)
    scheduler._tick()  # heartbeat: the dead worker's request comes back
    request = scheduler.next_request()
    assert request is not None and request.callback == spider.other
    origin = payloads["sha1:XYZ"]
    assert (origin.record_id, origin.target_uri, origin.date) == ("<urn:uuid:9>", "http://portal.test/page", "D")
    stats = crawler.stats.get_stats()
    assert stats["dist/reclaimed_from_dead_workers"] == stats["dist/dead_workers"] == 1
    assert stats["dist/refetched_archived"] == 1
    assert crawler.wakes  # the engine was asked to look for work


def test_the_spider_stays_open_while_any_worker_has_work(make: Any, client: Redis) -> None:
    scheduler, _, _ = make("w1")
    other, other_crawler, _ = make("w2")
    other.enqueue_request(Request("http://portal.test/"))
    request = other.next_request()
    assert request is not None
    with pytest.raises(DontCloseSpider):
        scheduler._spider_idle()  # the other worker's page may lead anywhere
    scrape(other_crawler, request).callback(None)
    scheduler._spider_idle()  # nothing left anywhere: it may close


def test_a_worker_waits_for_a_seed_only_on_a_frontier_never_seeded(make: Any, client: Redis) -> None:
    scheduler, _, _ = make(DISTRIBUTED_SEED_TIMEOUT=0.3)
    with pytest.raises(DontCloseSpider):
        scheduler._spider_idle()
    time.sleep(0.35)
    scheduler._spider_idle()  # no seed came: it may close
    later, _, _ = make("w2", DISTRIBUTED_SEED_TIMEOUT=30)
    busy, _, _ = make("w3")
    busy.enqueue_request(Request("http://portal.test/"))
    request = busy.next_request()
    assert request is not None
    with pytest.raises(DontCloseSpider):
        later._spider_idle()  # another worker's request is not done
    busy._done(request.meta[ENTRY_META])
    later._spider_idle()  # the frontier had work and all of it is done: no waiting for a seed


def test_requests_scrapy_dropped_silently_are_done_when_the_engine_idles(make: Any, client: Redis) -> None:
    scheduler, crawler, _ = make()
    scheduler.enqueue_request(Request("http://portal.test/"))
    assert scheduler.next_request() is not None
    scheduler._spider_idle()  # idle although one request was never reported back
    assert in_flight(client) == 0
    assert crawler.stats.get_value("dist/acked_at_idle") == 1


def test_closing_hands_unfinished_requests_back(make: Any, client: Redis) -> None:
    scheduler, crawler, _ = make()
    scheduler.enqueue_request(Request("http://portal.test/a"))
    scheduler.enqueue_request(Request("http://portal.test/b"))
    assert scheduler.next_request() is not None
    scheduler.close("shutdown")
    assert crawler.stats.get_value("dist/requeued") == 1
    assert in_flight(client) == 0 and client.zcard(f"{BASE}:queue") == 2
    assert not client.hexists(f"{BASE}:workers", "w1")


def test_start_urls_are_read_from_redis_and_filtered_once(make: Any, client: Redis) -> None:
    scheduler, crawler, spider = make()
    frontier = Frontier(client, BASE)
    frontier.push_start(
        [
            json.dumps({"url": "http://portal.test/feed", "callback": "other", "meta": {"list_depth": 0}}).encode(),
            b"http://portal.test/feed",
            b"http://portal.test/",
        ]
    )
    scheduler._tick()
    first = scheduler.next_request()
    assert first is not None and first.url == "http://portal.test/feed" and first.callback == spider.other
    assert first.meta["list_depth"] == 0
    second = scheduler.next_request()  # the same URL again: filtered, done
    assert second is not None and second.url == "http://portal.test/" and second.callback is None
    stats = crawler.stats.get_stats()
    assert (stats["dist/start_urls_adopted"], stats["dist/filtered"], stats["dist/popped"]) == (3, 1, 2)
    assert in_flight(client) == 2


def test_entries_that_cannot_be_read_are_dropped_loudly(make: Any, client: Redis) -> None:
    scheduler, crawler, _ = make()
    Frontier(client, BASE).push_start([json.dumps({"url": "http://portal.test/", "callback": "nope"}).encode()])
    scheduler._tick()
    assert scheduler.next_request() is None
    assert crawler.stats.get_value("dist/undecodable") == 1
    assert in_flight(client) == 0
    assert not scheduler.enqueue_request(Request("http://portal.test/x", callback=lambda response: None))
    assert crawler.stats.get_value("dist/unserializable") == 1


class RunsCode:
    """A pickle that runs code when unpickled: what a writable Redis could queue for pickling workers."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (open, (self.marker, "w"))


def test_hostile_entries_are_refused_counted_and_never_run(make: Any, client: Redis, tmp_path: Any) -> None:
    import pickle

    import msgpack

    from portal_archive.distributed import codec

    scheduler, crawler, _ = make()
    marker = tmp_path / "ran"
    popen = msgpack.ExtType(3, msgpack.packb(["Popen", {"args": "touch /tmp/x"}]))
    hostile = [
        pickle.dumps({"url": "http://portal.test/", "x": RunsCode(str(marker))}, protocol=pickle.HIGHEST_PROTOCOL),
        codec.MARKER + msgpack.packb({"url": "http://portal.test/a", "_class": "subprocess.Popen"}),
        codec.MARKER + msgpack.packb({"url": "http://portal.test/b", "callback": "__init__"}),
        codec.MARKER + msgpack.packb({"url": "http://portal.test/c", "meta": {"x": popen}}),
        codec.MARKER + b"\xff\xff",
    ]
    Frontier(client, BASE).push([(None, 0.0, entry) for entry in hostile])
    scheduler._tick()
    assert scheduler.next_request() is None
    assert crawler.stats.get_value("dist/refused") == len(hostile)
    assert not marker.exists()  # the pickle was never loaded
    assert in_flight(client) == 0 and Frontier(client, BASE).queue_length() == 0
    # A request of this worker's own still goes through.
    assert scheduler.enqueue_request(Request("http://portal.test/ok", callback=crawler.spider.parse))
    scheduler._tick()
    request = scheduler.next_request()
    assert request is not None and request.url == "http://portal.test/ok"


def test_a_worker_id_in_use_is_refused(make: Any) -> None:
    make("same")
    with pytest.raises(WorkerIdInUse, match="same"):
        make("same")


def test_scrapys_engine_still_has_what_the_hooks_use() -> None:
    from scrapy.core import engine
    from scrapy.core.scraper import Scraper

    assert "enqueue_scrape" in vars(Scraper)
    assert "nextcall" in inspect.signature(engine._Slot.__init__).parameters


def test_requests_redis_holds_here_but_this_process_does_not_know_go_back(make: Any, client: Redis) -> None:
    scheduler, crawler, _ = make()
    scheduler.enqueue_request(Request("http://portal.test/"))
    scheduler.frontier.pop()  # as a Redis restored from an older append-only file would have it
    with pytest.raises(DontCloseSpider):
        scheduler._spider_idle()  # the request is queued again, so there is work
    assert crawler.stats.get_value("dist/requeued_orphans") == 1
    assert in_flight(client) == 0 and client.zcard(f"{BASE}:queue") == 1
