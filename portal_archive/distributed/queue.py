"""The reliable request queue (``SCHEDULER_QUEUE_CLASS``): scrapy-redis's queue API on ``Frontier``.

``push`` queues a request unless its fingerprint was seen (one script); ``take`` moves one entry
into this worker's in-flight hash and ``decode`` makes it a request again. Acknowledging is the
scheduler's part (``portal_archive.distributed.scheduler``), which knows when a request is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import Base

from portal_archive.distributed import codec
from portal_archive.distributed.config import DistributedConfig
from portal_archive.distributed.frontier import Entry, Frontier
from portal_archive.distributed.start import method_name, request_from_start_data

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Spider


def request_to_dict(request: Request, spider: Spider) -> dict[str, Any]:
    """``Request.to_dict(spider=…)``, with callbacks found by name instead of by scanning the spider."""
    data: dict[str, Any] = {
        "url": request.url,
        "callback": method_name(spider, request.callback),
        "errback": method_name(spider, request.errback),
        "headers": dict(request.headers),
    }
    for attribute in request.attributes:
        data.setdefault(attribute, getattr(request, attribute))
    if type(request) is not Request:
        data["_class"] = f"{type(request).__module__}.{type(request).__name__}"
    return data


class ReliableQueue(Base):  # type: ignore[misc] # scrapy-redis ships no type hints
    """One spider's frontier, for one worker: ``key`` is the frontier's base key."""

    def __init__(self, server: Redis, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer if serializer is not None else codec)
        config = DistributedConfig.from_settings(spider.crawler.settings)
        self.frontier = Frontier(server, self.key, config.worker_id, ttl=config.heartbeat_ttl)

    def _encode_request(self, request: Request) -> bytes:
        data: bytes = self.serializer.dumps(request_to_dict(request, self.spider))
        return data

    def __len__(self) -> int:
        return self.frontier.queue_length()

    def push(self, request: Request, fingerprint: bytes | None = None) -> bool:
        """Queue ``request`` unless ``fingerprint`` (when given) was seen; whether it was queued."""
        return self.frontier.push([(fingerprint, -request.priority, self._encode_request(request))])[0]

    def take(self) -> Entry | None:
        """The next entry, now in flight at this worker (``ReliableScheduler`` acknowledges it)."""
        entries = self.frontier.pop(1)
        return entries[0] if entries else None

    def decode(self, entry: Entry) -> Request:
        """The request an entry holds: a serialized request, or start-URL data."""
        if codec.is_request(entry.payload) or not codec.is_text(entry.payload):
            return request_from_dict(self.serializer.loads(entry.payload), spider=self.spider)
        return request_from_start_data(entry.payload, self.spider)

    def pop(self, timeout: int = 0) -> Request | None:
        """scrapy-redis's ``pop``: the request stays in flight until ``ReliableScheduler`` acknowledges it."""
        entry = self.take()
        return self.decode(entry) if entry is not None else None

    def clear(self) -> None:
        self.frontier.clear()
