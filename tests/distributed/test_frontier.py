"""The shared frontier's semantics against a real redis-server: nothing lost, nothing done twice."""

from __future__ import annotations

import json
import pickle
import re
import time
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from redis import Redis

from portal_archive.distributed import codec
from portal_archive.distributed.frontier import Frontier, WorkerIdInUse, score_text, spiders_with_frontiers

DB = 12
BASE = "portal-archive:crawl:bendi"
FP1, FP2 = b"\x01" * 20, b"\x02" * 20


@pytest.fixture
def client(redis_server: Any) -> Iterator[Redis]:
    with redis_server.empty_db(DB) as redis:
        yield redis


def worker(client: Redis, name: str, ttl: float = 30.0) -> Frontier:
    frontier = Frontier(client, BASE, name, ttl=ttl)
    frontier.claim_worker()
    return frontier


def payloads(frontier: Frontier, count: int = 100) -> list[bytes]:
    return [entry.payload for entry in frontier.pop(count)]


def test_push_filters_seen_fingerprints_in_the_same_step(client: Redis) -> None:
    a = worker(client, "a")
    assert a.push([(FP1, 0, b"one"), (FP1, 0, b"one again"), (None, 0, b"unfiltered"), (FP2, 0, b"two")]) == [
        True,
        False,
        True,
        True,
    ]
    assert client.scard(f"{BASE}:seen") == 2
    assert a.queue_length() == 3
    assert a.push([(FP2, 0, b"two again")]) == [False]


def test_pop_takes_the_highest_priority_first_then_in_order(client: Redis) -> None:
    a = worker(client, "a")
    a.push([(None, 0, b"first"), (None, -5, b"low"), (None, 0, b"second"), (None, 2, b"high")])
    assert payloads(a, 2) == [b"low", b"first"]  # scores are -priority: -5 is priority 5
    a.push([(None, 0, b"third")])
    assert payloads(a) == [b"second", b"third", b"high"]
    assert a.pop() == []


def test_a_popped_request_is_in_flight_until_acknowledged(client: Redis) -> None:
    a = worker(client, "a")
    a.push([(FP1, 0, b"page")])
    (entry,) = a.pop()
    assert client.hkeys(f"{BASE}:inflight:a") == [entry.id.encode()]
    assert a.pending().total == 1 and a.pending().in_flight == 1
    assert a.ack([entry]) == 0
    assert a.pending().total == 0
    assert not client.exists(f"{BASE}:queue") and not client.exists(f"{BASE}:inflight:a")
    assert client.hget(f"{BASE}:acked", "a") == b"1"
    assert client.sismember(f"{BASE}:seen", FP1)  # still seen: done means done


def test_dead_workers_requests_go_back_to_the_queue(client: Redis) -> None:
    dying = worker(client, "dying", ttl=0.3)
    survivor = worker(client, "survivor")
    dying.push([(FP1, 3, b"one"), (FP2, 0, b"two")])
    taken = dying.pop(2)
    assert survivor.pop() == []
    assert survivor.reclaim_dead() == (0, [])  # still alive: nothing to take back
    time.sleep(0.4)  # its heartbeat expires: the process was killed
    assert survivor.reclaim_dead() == (2, ["dying"])
    assert not client.hexists(f"{BASE}:workers", "dying")
    again = survivor.pop(2)
    assert [(e.id, e.payload) for e in again] == [(e.id, e.payload) for e in taken]  # same entries, same order
    assert survivor.reclaim_dead() == (0, [])


def test_an_ack_from_a_worker_taken_for_dead_removes_the_requeued_entry(client: Redis) -> None:
    slow = worker(client, "slow", ttl=0.3)
    other = worker(client, "other")
    slow.push([(FP1, 0, b"page")])
    (entry,) = slow.pop()
    time.sleep(0.4)
    assert other.reclaim_dead() == (1, ["slow"])
    assert slow.ack([entry]) == 1  # it was done after all: nobody fetches it again
    assert other.pop() == [] and other.pending().total == 0


def test_the_first_archived_record_is_kept_and_travels_with_the_entry(client: Redis) -> None:
    dying = worker(client, "dying", ttl=0.3)
    survivor = worker(client, "survivor")
    dying.push([(FP1, 0, b"page")])
    (entry,) = dying.pop()
    first = json.dumps({"record_id": "<urn:uuid:1>"}).encode()
    assert dying.mark_archived(entry.id, first)
    assert not dying.mark_archived(entry.id, b"later")
    assert not survivor.mark_archived(entry.id, b"not in flight there")
    time.sleep(0.4)
    survivor.reclaim_dead()
    (again,) = survivor.pop()
    assert again.archived == first
    survivor.ack([again])
    assert not client.exists(f"{BASE}:archived")


def test_a_worker_id_cannot_be_used_twice_at_once_and_a_restart_takes_its_requests_back(client: Redis) -> None:
    first = worker(client, "w", ttl=0.3)
    with pytest.raises(WorkerIdInUse, match="DISTRIBUTED_WORKER_ID"):
        Frontier(client, BASE, "w").claim_worker()
    first.push([(FP1, 0, b"page")])
    first.pop()
    time.sleep(0.4)
    restarted = Frontier(client, BASE, "w")
    assert restarted.claim_worker() == 1
    assert payloads(restarted) == [b"page"]


def test_leaving_hands_back_what_is_not_done(client: Redis) -> None:
    a = worker(client, "a")
    b = worker(client, "b")
    a.push([(FP1, 0, b"one"), (FP2, 0, b"two")])
    a.pop(2)
    assert a.leave() == 2
    assert not client.exists(f"{BASE}:alive:a") and not client.hexists(f"{BASE}:workers", "a")
    assert payloads(b) == [b"one", b"two"]


def test_start_urls_move_into_the_queue_whole(client: Redis) -> None:
    a = worker(client, "a")
    a.push_start([b"http://portal.test/", json.dumps({"url": "http://portal.test/feed", "priority": 5}).encode()])
    assert a.pending().start_urls == 2
    assert a.adopt_start(10) == 2
    assert a.pending().start_urls == 0 and a.queue_length() == 2
    assert payloads(a) == [b'{"url": "http://portal.test/feed", "priority": 5}', b"http://portal.test/"]
    assert a.adopt_start(10) == 0


def test_a_start_url_is_filtered_once_and_stays_its_entrys(client: Redis) -> None:
    a = worker(client, "a")
    a.push_start([b"http://portal.test/", b"http://portal.test/"])
    a.adopt_start(10)
    first, second = a.pop(2)
    assert a.start_seen(first.id, FP1)
    assert a.start_seen(first.id, FP1)  # taken again after a crash: still new for this entry
    assert not a.start_seen(second.id, FP1)  # the same URL seeded twice
    a.ack([first, second])
    assert not client.exists(f"{BASE}:startfp")


def test_pending_counts_every_workers_requests(client: Redis) -> None:
    a = worker(client, "a")
    b = worker(client, "b")
    a.push([(None, 0, b"1"), (None, 0, b"2"), (None, 0, b"3")])
    a.pop()
    b.pop()
    a.push_start([b"http://portal.test/"])
    pending = b.pending()
    assert (pending.queued, pending.start_urls, pending.in_flight, pending.total) == (1, 1, 2, 4)


def test_status_and_frontier_names(client: Redis) -> None:
    a = worker(client, "a")
    a.push([(FP1, 0, b"1"), (FP2, 0, b"2")])
    (entry,) = a.pop()
    a.ack([entry])
    a.pop()
    Frontier(client, "portal-archive:crawl:infoq").push_start([b"http://infoq.test/"])
    status = a.status()
    assert (status.queued, status.start_urls, status.seen, status.in_flight) == (0, 0, 2, 1)
    (row,) = status.workers
    assert (row.worker, row.alive, row.in_flight, row.acked) == ("a", True, 1, 1)
    assert spiders_with_frontiers(client, "portal-archive:crawl") == ["bendi", "infoq"]
    assert a.clear() > 0
    assert spiders_with_frontiers(client, "portal-archive:crawl") == ["infoq"]


def test_scores_are_written_as_redis_reads_them() -> None:
    assert [score_text(s) for s in (-0.0, 0, -3, 2.5)] == ["0", "0", "-3", "2.5"]


def test_codec_leaves_defaults_out_and_gives_them_back() -> None:
    from scrapy import Request
    from scrapy.utils.request import request_from_dict

    request = Request("http://portal.test/wxnews/abc", meta={"list_depth": 1, "list_page": 1})
    full = request.to_dict()
    stored = codec.dumps(full)
    assert codec.is_request(stored) and not codec.is_request(b"http://portal.test/")
    assert len(stored) < len(pickle.dumps(full, protocol=pickle.HIGHEST_PROTOCOL)) * 0.4
    back = request_from_dict(codec.loads(stored))
    assert back.to_dict() == full


def test_codec_keeps_what_portal_requests_carry_as_data() -> None:
    """A page waiting for its body from an API (its bytes, its item), a browser step, headers and a
    POST body as bytes, tuples and instants: all rebuilt equal, nothing pickled."""
    from datetime import UTC, datetime

    from scrapy_playwright.page import PageMethod

    from portal_archive.crawl.portal_api import AwaitingBody
    from portal_archive.extract.article import FetchedPage
    from portal_archive.extract.nuxt import ArticleState
    from portal_archive.items import ArticleItem, BoilerplateBlock

    fetched = datetime(2026, 12, 6, 8, tzinfo=UTC)
    body = "<html>正文</html>".encode()
    page = FetchedPage(url="http://portal.test/article/1", body=body, content_type=b"text/html", fetched_at=fetched)
    footer = BoilerplateBlock(kind="footer", text="版权")
    item = ArticleItem(url=page.url, title="标题", references=["http://a.test/"], boilerplate=[footer])
    item.extra["api_records"] = ["<urn:x>"]
    meta = {
        "awaiting_body": AwaitingBody(page, item, ("<urn:uuid:1>",)),
        "detail_state": ArticleState("标题", ("作者",), 1712000000000, ("AI",), "", content_url="http://c.test/1"),
        "playwright_page_methods": [PageMethod("wait_for_selector", "article .ProseMirror", timeout=5000)],
        "redirect_urls": ["http://portal.test/a"],
    }
    full = {
        "url": "http://portal.test/api/getDetail", "method": "POST", "body": b'{"uuid": "1"}',
        "headers": {b"Content-Type": [b"application/json"]}, "meta": meta, "callback": "parse_detail",
        "errback": "detail_failed", "priority": 1, "dont_filter": True,
    }  # fmt: skip
    back = codec.loads(codec.dumps(full))
    assert back["meta"]["awaiting_body"] == meta["awaiting_body"]
    assert back["meta"]["detail_state"] == meta["detail_state"]
    step = back["meta"]["playwright_page_methods"][0]
    assert (type(step), step.method) == (PageMethod, "wait_for_selector")
    assert (step.args, step.kwargs) == (("article .ProseMirror",), {"timeout": 5000})
    assert {k: v for k, v in back.items() if k != "meta"} == {k: v for k, v in full.items() if k != "meta"}


def test_codec_stores_data_only() -> None:
    """An object no request of this project holds is refused when queued, not pickled."""
    with pytest.raises(TypeError, match="only data is stored"):
        codec.dumps({"url": "http://portal.test/", "meta": {"x": object()}})


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (pickle.dumps({"url": "http://portal.test/"}), "a pickle"),
        (b"\x00\x01", "not a stored request"),
        (codec.MARKER + b"\xc1", "unreadable entry"),
        (codec.MARKER + msgpack.packb(["not", "a", "dict"]), "request dict with a URL"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "_class": "os.system"}), "not one of Scrapy's"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "callback": "__class__"}), "no public method name"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "errback": "os.system"}), "no public method name"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "meta": {"a": msgpack.ExtType(9, b"")}}),
         "unknown extension type 9"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "meta": {"a": msgpack.ExtType(3, msgpack.packb(
            ["Popen", {"args": ["id"]}]))}}), "never holds: 'Popen'"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "meta": {"a": msgpack.ExtType(3, msgpack.packb(
            ["ArticleItem", {"url": "u", "__class__": 1}]))}}), "has no field '__class__'"),
        (codec.MARKER + msgpack.packb({"url": "http://x/", "meta": {"a": msgpack.ExtType(3, msgpack.packb(
            ["PageMethod", {"method": None}]))}}), "must name its method"),
    ],
)  # fmt: skip
def test_codec_refuses_what_is_not_a_request_of_ours(payload: bytes, reason: str) -> None:
    with pytest.raises(codec.RefusedEntry, match=re.escape(reason)):
        codec.loads(payload)
