"""Cut oversized downloads short instead of throwing them away.

Scrapy cancels a download larger than ``DOWNLOAD_MAXSIZE`` and the bytes already received are
lost, so the archive would hold nothing of the page. This extension stops the download itself
(``StopDownload(fail=False)``) at the same limit: the response reaches the capture extension with
what was received and is archived as a cut record (``WARC-Truncated: length``).

Settings: ``FETCH_GUARD_ENABLED`` (default True), Scrapy's ``DOWNLOAD_MAXSIZE`` (0: unlimited, no guard).
Stats: ``fetch/oversize``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured, StopDownload

from portal_archive import settings as project
from portal_archive.capture.meta import TRUNCATED_META
from portal_archive.config import SettingsError, read_bool, read_int

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FetchGuardConfig:
    """``FETCH_GUARD_*`` settings, and the limit the guard enforces (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.FETCH_GUARD_ENABLED
    max_size: int = project.DOWNLOAD_MAXSIZE
    """Scrapy's ``DOWNLOAD_MAXSIZE``: bytes of a body, at most (0: unlimited)."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate; raise ``SettingsError`` naming the key."""
        config = cls(
            enabled=read_bool(settings, "FETCH_GUARD_ENABLED", cls.enabled),
            max_size=read_int(settings, "DOWNLOAD_MAXSIZE", cls.max_size),
        )
        if config.max_size < 0:
            raise SettingsError(f"DOWNLOAD_MAXSIZE must be >= 0 bytes (0: unlimited), got {config.max_size}")
        return config


class ResponseSizeGuard:
    """Stops a response at ``DOWNLOAD_MAXSIZE`` (or ``meta["download_maxsize"]``), keeping its bytes."""

    def __init__(self, maxsize: int, stats: StatsCollector) -> None:
        self.maxsize = maxsize
        self.stats = stats
        self._received: dict[Request, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = FetchGuardConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("FETCH_GUARD_ENABLED is False")
        if not config.max_size:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0: downloads are unlimited")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        guard = cls(config.max_size, crawler.stats)
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
