"""The scheduler of a distributed crawl (``SCHEDULER``): scrapy-redis's, on a queue that loses nothing.

A request taken from the shared queue stays in this worker's in-flight hash until it is done, and
"done" is decided here:

- its response (or download failure) has gone through the spider and the pipelines: every item
  processed, every new request queued (``hooks.on_scrape_done``); or
- the downloader replaced it (a redirect, a retry): the replacement, which carries the entry id in
  its meta, has been queued; or
- the engine went idle with the request still counted here: Scrapy dropped it on a path that
  tells nobody, so there is nothing left to wait for.

Only then are the WARC records flushed to the OS and the request acknowledged: a worker killed
before that leaves it in flight, and a live worker puts it back in the queue once the dead one's
heartbeat has expired. A response already archived is marked on the entry first, so the worker
that fetches it again writes an identical-payload revisit of that record, not a second copy.

The spider stays open while any work is left anywhere (queued, start URLs, in flight at another
worker): another worker's page may still lead to more requests.

Stats: ``dist/popped``, ``dist/enqueued``, ``dist/filtered``, ``dist/acked``,
``dist/acked_after_reclaim``, ``dist/acked_at_idle``, ``dist/requeued_orphans``, ``dist/archived_marked``,
``dist/refetched_archived``, ``dist/requeued``, ``dist/requeued_stale``,
``dist/reclaimed_from_dead_workers``, ``dist/dead_workers``, ``dist/start_urls_adopted``,
``dist/undecodable``, ``dist/unserializable``, ``dist/redis_errors``, ``dist/heartbeat_errors``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Self

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

from portal_archive.capture.meta import DATE_META, PAYLOAD_DIGEST_META, RECORD_ID_META, TYPE_META
from portal_archive.distributed import codec, hooks
from portal_archive.distributed.addon import COMPONENTS
from portal_archive.distributed.config import DistributedConfig, DistributedSettingsError, frontier_name, redact_url
from portal_archive.distributed.connection import check_reachable, redis_client
from portal_archive.distributed.dupefilter import RedisDupeFilter
from portal_archive.distributed.frontier import Entry, Frontier
from portal_archive.distributed.queue import ReliableQueue
from portal_archive.distributed.start import StartDataError

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

    from portal_archive.warc.writer import RotatingWarcWriter

logger = logging.getLogger(__name__)

ENTRY_META: Final = "dist_entry"
"""Request meta key holding the frontier entry a request was taken as (copied into replacements)."""


ARCHIVED_META: Final = "dist_archived"
"""Request meta key: the full record written for this request's last response (id, URI, date, digest)."""


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


@dataclass
class _InFlight:
    request: Request
    entry: Entry
    scraping: bool = False


class ReliableScheduler(Scheduler):  # type: ignore[misc] # scrapy-redis ships no type hints
    """Takes requests from the shared frontier, and gives each back only when it is done."""

    server: Redis
    spider: Spider
    queue: ReliableQueue
    df: RedisDupeFilter

    def __init__(self, server: Redis, *, crawler: Crawler, config: DistributedConfig) -> None:
        settings = crawler.settings
        super().__init__(
            server,
            persist=True,  # the frontier belongs to the crawl, not to this worker
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or COMPONENTS["SCHEDULER_QUEUE_CLASS"],
            dupefilter_cls=settings.get("DUPEFILTER_CLASS") or COMPONENTS["DUPEFILTER_CLASS"],
            serializer=codec,
        )
        self.crawler = crawler
        self.config = config
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before the scheduler
        self.stats: StatsCollector = crawler.stats
        self.frontier: Frontier | None = None
        self._in_flight: dict[str, _InFlight] = {}
        self._entry_of: dict[Request, str] = {}
        self._loop: Any = None
        self._idle_since: float | None = None
        self._failing_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Connect to ``DISTRIBUTED_REDIS_URL``.

        Raises:
            DistributedSettingsError: the switch is off, or a ``DISTRIBUTED_*`` value is unusable.
            DistributedConnectionError: the server does not answer.
        """
        config = DistributedConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise DistributedSettingsError("SCHEDULER is the distributed one, but DISTRIBUTED_REDIS_URL is empty")
        server = redis_client(config, crawler.settings)
        check_reachable(server, config)
        return cls(server, crawler=crawler, config=config)

    # -- lifecycle -----------------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        """Join the frontier: claim the worker id, take start URLs, start the heartbeat."""
        self.spider = spider
        queue_cls = load_object(self.queue_cls)
        if not issubclass(queue_cls, ReliableQueue):
            raise DistributedSettingsError(f"SCHEDULER_QUEUE_CLASS must be a ReliableQueue, got {self.queue_cls}")
        base = self.config.base_key(frontier_name(spider))
        self.queue = queue_cls(server=self.server, spider=spider, key=base, serializer=self.serializer)
        if getattr(self, "df", None) is None:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        frontier: Frontier = self.queue.frontier
        self.frontier = frontier
        stale = frontier.claim_worker()
        if stale:
            self.stats.inc_value("dist/requeued_stale", stale)
            logger.info("Queued again %(n)d request(s) this worker id left in flight before", {"n": stale})
        self._adopt_start()
        hooks.on_scrape_done(self.crawler, self._entered_scraper, self._scrape_done)
        self.crawler.signals.connect(self._archived, signal=signals.response_downloaded)
        self.crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)
        self._loop = create_looping_call(self._tick)
        self._loop.start(self.config.heartbeat_interval, now=False)
        pending = frontier.pending()
        logger.info(
            "Worker %(worker)s on frontier %(base)s at %(url)s: %(queued)d queued, %(start)d start URL(s), "
            "%(in_flight)d in flight elsewhere",
            {
                "worker": self.config.worker_id,
                "base": base,
                "url": redact_url(self.config.redis_url),
                "queued": pending.queued,
                "start": pending.start_urls,
                "in_flight": pending.in_flight,
            },
        )

    def close(self, reason: str) -> None:
        """Leave the frontier; requests not done are queued again for the others."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.crawler.signals.disconnect(self._archived, signal=signals.response_downloaded)
        self.crawler.signals.disconnect(self._spider_idle, signal=signals.spider_idle)
        if self.frontier is not None:
            try:
                moved = self.frontier.leave()
            except RedisError as exc:
                self._redis_error("leaving the frontier", exc)
            else:
                if moved:
                    self.stats.inc_value("dist/requeued", moved)
                    logger.info("Queued again %(n)d request(s) this worker had not finished", {"n": moved})
        super().close(reason)

    # -- requests in -----------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        """Queue a request (unless seen); a replacement of a request in flight here completes it."""
        entry_id = request.meta.pop(ENTRY_META, None)
        replaced = None
        if entry_id is not None:
            in_flight = self._in_flight.get(str(entry_id))
            if in_flight is not None and not in_flight.scraping:
                replaced = str(entry_id)  # the downloader's redirect or retry of it; not a page's link
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            added: bool = self.queue.push(request, fingerprint)
        except (StartDataError, ValueError, TypeError, AttributeError) as exc:
            self.stats.inc_value("dist/unserializable")
            logger.error("Cannot queue %(request)s in Redis: %(error)s", {"request": request, "error": exc})
            added = False
        if replaced is not None:
            self._done(replaced)
        if added:
            self.stats.inc_value("scheduler/enqueued/redis")
            self.stats.inc_value("dist/enqueued")
        else:
            self.stats.inc_value("dist/filtered")
            self.df.log(request, self.spider)
        return added

    # -- requests out ----------------------------------------------------------------------------

    def next_request(self) -> Request | None:
        """The next request of the shared queue, now in flight here."""
        while True:
            try:
                entry = self.queue.take()
                request = self._decode(entry) if entry is not None else None
            except RedisError as exc:
                self._redis_error("taking a request", exc)
                return None
            if entry is None:
                return None
            if request is None:
                continue
            request.meta[ENTRY_META] = entry.id
            self._in_flight[entry.id] = _InFlight(request, entry)
            self._entry_of[request] = entry.id
            if entry.archived:
                # A dead worker archived this response but did not finish with it.
                self.stats.inc_value("dist/refetched_archived")
                self._seed_origin(_json(entry.archived))
            elif isinstance(request.meta.get(ARCHIVED_META), dict):
                # A retry or redirect of a response archived (perhaps by another worker).
                self._seed_origin(request.meta[ARCHIVED_META])
            self.stats.inc_value("scheduler/dequeued/redis")
            self.stats.inc_value("dist/popped")
            return request

    def _decode(self, entry: Entry) -> Request | None:
        try:
            request: Request = self.queue.decode(entry)
        except codec.RefusedEntry as exc:  # not data this worker builds a request from: never run
            self.stats.inc_value("dist/refused")
            logger.error("Refusing frontier entry %(id)s: %(error)s", {"id": entry.id, "error": exc})
            self._ack([entry])
            return None
        except Exception as exc:  # a missing spider method, bad start-URL data: the entry is unusable
            self.stats.inc_value("dist/undecodable")
            logger.error("Dropping frontier entry %(id)s: %(error)s", {"id": entry.id, "error": exc})
            self._ack([entry])
            return None
        # A start URL is filtered when taken; taken again after a crash, it is still this entry's.
        is_start = not codec.is_request(entry.payload) and not request.dont_filter
        if is_start and not self.frontier_or_fail().start_seen(entry.id, self.df.request_fingerprint(request)):
            self.stats.inc_value("dist/filtered")
            self._ack([entry])
            return None
        return request

    def _seed_origin(self, info: Any) -> None:
        """Make the writer take ``info``'s record as the origin of its payload: an identical answer to
        this request (a dead worker's page fetched again, the retry of a page another worker
        archived) is then written as a revisit of that record instead of a second full copy."""
        from portal_archive.capture.extension import WarcCaptureExtension
        from portal_archive.warc.writer import PayloadOrigin

        capture = WarcCaptureExtension.of(self.crawler)
        if capture is None:
            return
        try:
            origin = PayloadOrigin(str(info["record_id"]), str(info["uri"]), str(info["date"]), str(info["digest"]))
        except (KeyError, TypeError):
            logger.warning("Ignoring an unreadable archived-record note: %(info)r", {"info": info})
            return
        if origin.payload_digest:
            capture.writer.payloads.setdefault(origin.payload_digest, origin)

    def has_pending_requests(self) -> bool:
        try:
            return len(self.queue) > 0
        except RedisError as exc:
            self._redis_error("reading the queue length", exc)
            return False

    # -- done ------------------------------------------------------------------------------------

    def _entered_scraper(self, request: Request) -> None:
        entry_id = self._entry_of.get(request)
        if entry_id is not None:
            self._in_flight[entry_id].scraping = True

    def _scrape_done(self, request: Request) -> None:
        entry_id = self._entry_of.get(request)
        if entry_id is not None:
            self._done(entry_id)

    def _archived(self, response: Response, request: Request) -> None:
        """``response_downloaded``, after the capture extension: note the full record written for it."""
        entry_id = self._entry_of.get(request)
        meta = request.meta
        if entry_id is None or meta.get(TYPE_META) != "response" or not meta.get(RECORD_ID_META):
            return
        info = {
            "record_id": meta[RECORD_ID_META],
            "uri": response.url,
            "date": meta.get(DATE_META, ""),
            "digest": meta.get(PAYLOAD_DIGEST_META, ""),
        }
        request.meta[ARCHIVED_META] = info  # travels with the request's retries and redirects
        try:
            if self.frontier_or_fail().mark_archived(entry_id, json.dumps(info).encode("utf-8")):
                self.stats.inc_value("dist/archived_marked")
        except RedisError as exc:
            self._redis_error("marking a response archived", exc)

    def _done(self, entry_id: str) -> None:
        in_flight = self._in_flight.pop(entry_id, None)
        if in_flight is None:
            return
        self._entry_of.pop(in_flight.request, None)
        self._flush_warc()
        self._ack([in_flight.entry])

    def _ack(self, entries: list[Entry]) -> None:
        try:
            lost = self.frontier_or_fail().ack(entries)
        except RedisError as exc:
            self._redis_error("acknowledging a request", exc)
            return
        self.stats.inc_value("dist/acked", len(entries))
        if lost:
            self.stats.inc_value("dist/acked_after_reclaim", lost)

    def _flush_warc(self) -> None:
        """Hand the WARC records written so far to the OS: an acknowledged request must be in the file."""
        writer = self._warc_writer()
        if writer is not None:
            writer.flush()

    def _warc_writer(self) -> RotatingWarcWriter | None:
        from portal_archive.capture.extension import WarcCaptureExtension

        capture = WarcCaptureExtension.of(self.crawler)
        return capture.writer if capture is not None else None

    # -- idle and heartbeat ----------------------------------------------------------------------

    def _spider_idle(self) -> None:
        """Stay open while anything is left anywhere; close when the whole frontier is done."""
        if self._in_flight:
            # The engine is idle, so these are done: Scrapy dropped them without telling (see module doc).
            left = list(self._in_flight)
            logger.warning("Engine idle with %(n)d request(s) still counted in flight: done", {"n": len(left)})
            self.stats.inc_value("dist/acked_at_idle", len(left))
            for entry_id in left:
                self._done(entry_id)
        try:
            frontier = self.frontier_or_fail()
            if frontier.pending().in_flight and (orphans := frontier.requeue_own()):
                # Held here in Redis but not in this process (a server restored from its append-only
                # file holds an older state): nobody else would ever take them back.
                self.stats.inc_value("dist/requeued_orphans", orphans)
                logger.warning("Queued again %(n)d request(s) Redis had in flight here unknown", {"n": orphans})
            self._adopt_start()
            pending = frontier.pending()
        except RedisError as exc:
            self._redis_error("checking for work left", exc)
            assert self._failing_since is not None  # noqa: S101 - set by _redis_error
            if time.monotonic() - self._failing_since < self.config.heartbeat_ttl:
                raise DontCloseSpider from exc
            return  # Redis has been unreachable for longer than a heartbeat lives: give up, close
        self._failing_since = None
        if pending.total:
            raise DontCloseSpider
        if not pending.started:
            # Nothing was ever queued: wait DISTRIBUTED_SEED_TIMEOUT for `portal-archive dist seed`.
            now = time.monotonic()
            if self._idle_since is None:
                self._idle_since = now
            if now - self._idle_since < self.config.seed_timeout:
                raise DontCloseSpider

    def _tick(self) -> None:
        """Heartbeat; take back dead workers' requests; read start URLs; let the engine look for work."""
        try:
            frontier = self.frontier_or_fail()
            frontier.heartbeat()
            moved, dead = frontier.reclaim_dead()
            if dead:
                self.stats.inc_value("dist/dead_workers", len(dead))
                self.stats.inc_value("dist/reclaimed_from_dead_workers", moved)
                logger.warning(
                    "Queued again %(n)d request(s) of dead worker(s) %(workers)s",
                    {"n": moved, "workers": ", ".join(dead)},
                )
            self._adopt_start()
        except RedisError as exc:
            self._redis_error("the heartbeat", exc)
        except Exception:
            # A looping call stops at its first exception: without heartbeats this worker would be taken for dead.
            self.stats.inc_value("dist/heartbeat_errors")
            logger.exception("Heartbeat failed")
        else:
            self._failing_since = None
        hooks.wake(self.crawler)

    def _adopt_start(self) -> None:
        adopted = self.frontier_or_fail().adopt_start(self.config.start_batch)
        if adopted:
            self.stats.inc_value("dist/start_urls_adopted", adopted)
            logger.info("Queued %(n)d start URL(s) from the start list", {"n": adopted})

    def frontier_or_fail(self) -> Frontier:
        if self.frontier is None:
            raise RuntimeError("the scheduler is not open")
        return self.frontier

    def _redis_error(self, doing: str, exc: RedisError) -> None:
        self.stats.inc_value("dist/redis_errors")
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        logger.warning("Redis error while %(doing)s: %(error)s", {"doing": doing, "error": exc})


__all__ = ["ARCHIVED_META", "ENTRY_META", "ReliableScheduler"]
