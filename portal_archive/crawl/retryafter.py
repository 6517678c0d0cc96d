"""Honour ``Retry-After`` on 429 and 503 answers: wait as long as the server asks, then retry.

Scrapy's ``RetryMiddleware`` retries a 429 as soon as a download slot is free, which a
rate-limited portal answers with another 429 until the retries run out. This middleware runs just
before it: when the answer carries ``Retry-After`` (seconds or an HTTP date) it waits that long,
capped at ``RETRY_AFTER_MAX``, and then hands back the retry request, built and counted by
Scrapy's own ``get_retry_request`` (``RETRY_TIMES``, ``retry/*`` stats, the give-up log line). The
429 itself was archived at ``response_downloaded`` like any response.

Settings: ``RETRY_AFTER_ENABLED`` (default True), ``RETRY_AFTER_MAX`` (seconds, default 60).
Stats: ``fetch/retry_after`` (retries made after waiting), ``fetch/retry_after_capped``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Final, Self

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_bool, read_float

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES: Final = frozenset({429, 503})


@dataclass(frozen=True, kw_only=True)
class RetryAfterConfig:
    """``RETRY_AFTER_*`` settings, and Scrapy's ``RETRY_ENABLED`` (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.RETRY_AFTER_ENABLED
    max_wait: float = project.RETRY_AFTER_MAX
    """Seconds: a longer ``Retry-After`` is capped here."""
    retries_enabled: bool = project.RETRY_ENABLED
    """Scrapy's ``RETRY_ENABLED``: without retries there is nothing to wait for."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate; raise ``SettingsError`` naming the key."""
        config = cls(
            enabled=read_bool(settings, "RETRY_AFTER_ENABLED", cls.enabled),
            max_wait=read_float(settings, "RETRY_AFTER_MAX", cls.max_wait),
            retries_enabled=read_bool(settings, "RETRY_ENABLED", cls.retries_enabled),
        )
        if config.max_wait < 0:
            raise SettingsError(f"RETRY_AFTER_MAX must not be negative, got {config.max_wait}")
        return config


def parse_retry_after(value: bytes | None, now: datetime) -> float | None:
    """Seconds to wait for a ``Retry-After`` value (delta-seconds or HTTP date); ``None`` if unusable.

    A date in the past means "now" (0 seconds).
    """
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the reactor Scrapy installed, imported only once it runs

    await maybe_deferred_to_future(deferLater(reactor, seconds))


class RetryAfterMiddleware:
    """Waits out ``Retry-After`` (capped) before retrying a 429 or 503."""

    def __init__(self, crawler: Crawler, stats: StatsCollector, max_wait: float) -> None:
        self.crawler = crawler
        self.stats = stats
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = RetryAfterConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("RETRY_AFTER_ENABLED is False")
        if not config.retries_enabled:
            raise NotConfigured("RETRY_ENABLED is False")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before middlewares
        return cls(crawler, crawler.stats, config.max_wait)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """The retry request after the wait; the response itself when there is nothing to wait for."""
        if response.status not in RETRY_AFTER_STATUSES or request.meta.get("dont_retry", False):
            return response
        asked = parse_retry_after(response.headers.get(b"Retry-After"), datetime.now(UTC))
        if asked is None:
            return response  # RetryMiddleware decides, as for any 429 or 503
        spider = self.crawler.spider
        assert spider is not None  # noqa: S101 - responses only arrive while a spider runs
        retry = get_retry_request(request, spider=spider, reason=f"{response.status} with Retry-After")
        if retry is None:
            request.meta["dont_retry"] = True  # given up (and logged) once; RetryMiddleware must not repeat it
            return response
        wait = min(asked, self.max_wait)
        if asked > self.max_wait:
            self.stats.inc_value("fetch/retry_after_capped")
        self.stats.inc_value("fetch/retry_after")
        logger.info(
            "Server answered %(status)d with Retry-After %(asked)gs for %(url)s: retrying in %(wait)gs",
            {"status": response.status, "asked": asked, "url": request.url, "wait": wait},
        )
        if wait > 0:
            await _sleep(wait)
        return retry
