"""Cut oversized downloads short instead of throwing them away.

Scrapy cancels a download larger than ``DOWNLOAD_MAXSIZE`` and the bytes already received are
lost, so the archive would hold nothing of the page. This extension stops the download itself
(``StopDownload(fail=False)``) at the same limit: the response reaches the capture extension with
what was received and is archived as a cut record (``WARC-Truncated: length``).

Stats: ``fetch/oversize``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured, StopDownload

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

TRUNCATED_META = "warc_truncated"


class ResponseSizeGuard:
    """Stops a response at ``DOWNLOAD_MAXSIZE`` (or ``meta["download_maxsize"]``), keeping its bytes."""

    def __init__(self, maxsize: int, stats: StatsCollector) -> None:
        self.maxsize = maxsize
        self.stats = stats
        self._received: dict[Request, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if not crawler.settings.getbool("FETCH_GUARD_ENABLED", True) or maxsize <= 0:
            raise NotConfigured("FETCH_GUARD_ENABLED is False or DOWNLOAD_MAXSIZE is unlimited")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        guard = cls(maxsize, crawler.stats)
        crawler.signals.connect(guard.headers_received, signal=signals.headers_received)
        crawler.signals.connect(guard.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(guard.request_left_downloader, signal=signals.request_left_downloader)
        return guard

    def _limit(self, request: Request) -> int:
        return int(request.meta.get("download_maxsize", self.maxsize) or 0)

    def _stop(self, request: Request, size: int, limit: int) -> None:
        request.meta[TRUNCATED_META] = "length"
        self.stats.inc_value("fetch/oversize")
        logger.info(
            "Cutting %(url)s at %(size)d bytes (limit %(limit)d); archived as truncated",
            {"url": request.url, "size": size, "limit": limit},
        )
        raise StopDownload(fail=False)

    def headers_received(self, headers: Headers, body_length: int | str, request: Request) -> None:
        """Announced too large: keep the headers, archive an empty, truncated body."""
        limit = self._limit(request)
        # Twisted reports an unknown length as the string constant UNKNOWN_LENGTH.
        if limit and isinstance(body_length, int) and body_length > limit:
            self._stop(request, body_length, limit)

    def bytes_received(self, data: bytes, request: Request) -> None:
        """Grown too large while streaming: keep what arrived."""
        limit = self._limit(request)
        if not limit:
            return
        size = self._received.get(request, 0) + len(data)
        self._received[request] = size
        if size >= limit:
            self._stop(request, size, limit)

    def request_left_downloader(self, request: Request) -> None:
        """Forget the byte count of a finished download."""
        self._received.pop(request, None)
