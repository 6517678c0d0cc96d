"""Near-duplicate item pipeline: annotate every article with its syndication verdict; never drop.

Each item's body is indexed in the persistent near-duplicate index (the SQLite file
``DEDUP_INDEX_PATH``, or the Redis server ``DEDUP_INDEX_URL`` shared by crawl workers on several
machines, docs/dedup-redis.md) and the verdict is written to ``item.extra["dedup"]``: ``status``
(``indexed``, ``revisit``, ``too_short``, ``error``), ``doc_id``, ``cluster_id``, ``role``
(``unique``, ``original``, ``copy``, ``excerpt``, ``related``), ``canonical_url``, ``similarity``
and ``containment`` to the original, ``matches``, ``evidence``, ``flags`` and the ``stripped``
attribution lines. Copies are kept: an archive wants both the original and where it was
republished.

Settings: the ``DEDUP_*`` family (``portal_archive.dedup.config.DedupConfig``).
Stats: ``dedup/indexed``, ``dedup/too_short``, ``dedup/revisits``, ``dedup/errors``, per role
``dedup/unique``, ``dedup/originals``, ``dedup/copies``, ``dedup/excerpts``, ``dedup/related``, and
``dedup/clusters`` (clusters formed), ``dedup/cluster_merges``, ``dedup/oversized``,
``dedup/index_documents`` (index size at close); with a Redis index, ``dedup/redis/round_trips``
(requests this crawl sent) and ``dedup/redis/unavailable`` (items whose check failed because the
server could not be reached; they are counted in ``dedup/errors`` too).

An index that is configured but cannot be opened (a mismatch, an unreachable Redis server) stops
the crawl at start-up with its message: it is never skipped silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from portal_archive.dedup import DedupConfig, DedupEngine, DedupIndexUnavailable, Verdict, document_from_item

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ROLE_STATS: Final = {
    "unique": "dedup/unique",
    "original": "dedup/originals",
    "copy": "dedup/copies",
    "excerpt": "dedup/excerpts",
    "related": "dedup/related",
}


class NearDuplicatePipeline:
    """Indexes article bodies and annotates items with their near-duplicate verdict."""

    def __init__(self, config: DedupConfig, stats: StatsCollector) -> None:
        self.config = config
        self.stats = stats
        self.engine: DedupEngine | None = None
        self._commit_timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Read ``DEDUP_*`` once; ``NotConfigured`` when ``DEDUP_ENABLED`` is off."""
        config = DedupConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("DEDUP_ENABLED is False")
        if crawler.stats is None:  # pragma: no cover - Scrapy always provides a stats collector
            raise NotConfigured("the near-duplicate pipeline needs crawler.stats")
        return cls(config, crawler.stats)

    def open_spider(self) -> None:
        """Open (or create) the index; a parameter mismatch stops the crawl with its message."""
        self._open()
        self._schedule_commit()

    def _schedule_commit(self) -> None:
        """Commit every ``DEDUP_COMMIT_INTERVAL`` seconds, so an idle crawl never holds the write lock.

        Only inside a running crawl (its asyncio loop); called directly, as in tests, commits
        follow ``commit_every`` and ``commit_interval`` at each document.
        """
        if self.config.commit_interval <= 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._commit_timer = loop.call_later(self.config.commit_interval, self._timed_commit)

    def _timed_commit(self) -> None:
        self._commit_timer = None
        if self.engine is None:
            return
        try:
            self.engine.commit()
        except Exception:  # a busy or failing index must not stop the timer; the next add retries
            logger.exception("Near-duplicate index commit failed")
            self.stats.inc_value("dedup/errors")
        self._schedule_commit()

    def _open(self) -> DedupEngine:
        if self.engine is None:
            self.engine = DedupEngine.open(self.config)
            self.engine.warm_up()
            logger.info(
                "Near-duplicate index %(path)s: %(count)d documents",
                {"path": self.config.index_location, "count": len(self.engine.index)},
            )
        return self.engine

    def close_spider(self) -> None:
        """Commit and close the index."""
        if self._commit_timer is not None:
            self._commit_timer.cancel()
            self._commit_timer = None
        if self.engine is None:
            return
        engine, self.engine = self.engine, None
        try:
            self.stats.set_value("dedup/index_documents", len(engine.index))
        finally:
            engine.close()
            round_trips = getattr(engine.index, "round_trips", None)
            if isinstance(round_trips, int):
                self.stats.set_value("dedup/redis/round_trips", round_trips)

    def process_item(self, item: Any) -> Any:
        """Annotate ``item.extra["dedup"]`` and return the item (never dropped, even on error)."""
        adapter = ItemAdapter(item)
        engine = self._open()
        try:
            verdict = engine.add(document_from_item(item))
        except Exception as exc:  # an index failure must not lose the item: log, count, annotate
            logger.exception("Near-duplicate check failed for %(url)s", {"url": adapter.get("url")})
            self.stats.inc_value("dedup/errors")
            if isinstance(exc, DedupIndexUnavailable):
                self.stats.inc_value("dedup/redis/unavailable")
            self._annotate(adapter, {"status": "error", "error": f"{type(exc).__name__}: {exc}"})
            return item
        self._count(verdict)
        self._annotate(adapter, verdict.as_dict())
        return item

    def _count(self, verdict: Verdict) -> None:
        if verdict.status == "too_short":
            self.stats.inc_value("dedup/too_short")
            return
        self.stats.inc_value("dedup/indexed" if verdict.status == "indexed" else "dedup/revisits")
        if verdict.role:
            self.stats.inc_value(ROLE_STATS[verdict.role])
        if verdict.new_cluster:
            self.stats.inc_value("dedup/clusters")
        if verdict.merged_clusters:
            self.stats.inc_value("dedup/cluster_merges", len(verdict.merged_clusters))
        if "oversized" in verdict.flags:
            self.stats.inc_value("dedup/oversized")

    def _annotate(self, adapter: ItemAdapter, annotation: dict[str, Any]) -> None:
        try:
            extra = adapter.get("extra")
            if not isinstance(extra, dict):
                extra = {}
                adapter["extra"] = extra
            extra["dedup"] = annotation
        except KeyError:
            logger.warning(
                "Item of type %(type)s has no 'extra' field: near-duplicate verdict not recorded",
                {"type": type(adapter.item).__name__},
            )
            self.stats.inc_value("dedup/unannotated")
