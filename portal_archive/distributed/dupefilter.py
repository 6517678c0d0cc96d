"""The shared duplicate filter: one Redis set of Scrapy request fingerprints per spider frontier.

scrapy-redis's ``RFPDupeFilter`` with two changes: fingerprints are Scrapy's own
(``REQUEST_FINGERPRINTER_CLASS``, so the filter agrees with every other component) stored as their
20 raw bytes rather than 40 hex digits (``bench/dist.py`` measures the saving), and a worker that
closes never clears the set (it belongs to the whole crawl). The scheduler adds fingerprints in
the same Lua script that queues the request (``Frontier.push``); ``request_seen`` is for tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy_redis.dupefilter import RFPDupeFilter

from portal_archive.distributed.config import DistributedConfig, frontier_name
from portal_archive.distributed.connection import redis_client

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.utils.request import RequestFingerprinterProtocol


class RedisDupeFilter(RFPDupeFilter):  # type: ignore[misc] # scrapy-redis ships no type hints
    """Seen-request fingerprints in ``PREFIX:SPIDER:seen``, shared by every worker."""

    def __init__(self, server: Any, key: str, debug: bool = False, *, fingerprinter: RequestFingerprinterProtocol):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider: Spider) -> Self:
        settings = spider.crawler.settings
        config = DistributedConfig.from_settings(settings)
        key = f"{config.base_key(frontier_name(spider))}:seen"
        fingerprinter = spider.crawler.request_fingerprinter
        client = redis_client(config, settings)
        return cls(client, key, settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=fingerprinter)

    def request_fingerprint(self, request: Request) -> bytes:
        """Scrapy's fingerprint of the request, 20 raw bytes."""
        return self.fingerprinter.fingerprint(request)

    def request_seen(self, request: Request) -> bool:
        return int(self.server.sadd(self.key, self.request_fingerprint(request))) == 0

    def close(self, reason: str = "") -> None:
        """Nothing: the set is the crawl's, not this worker's."""
