"""How fast a crawl may go: per-profile delay, robots.txt ``Crawl-delay``, and loopback crawls.

Scrapy obeys robots.txt ``Disallow`` but ignores ``Crawl-delay``, and AutoThrottle lowers a
slot's delay whenever the server answers quickly. ``CrawlDelayExtension`` reads the delay from
the parsed robots.txt (``robots_parsed`` signal) and keeps it as a floor on that host's download
slot: each time a request reaches the downloader and each time a response comes back (right
after AutoThrottle's adjustment), so AutoThrottle can only slow down from there. The slot's random
jitter is switched off, since it would take some gaps below the minimum.

A profile's ``delay`` becomes ``DOWNLOAD_DELAY`` (AutoThrottle's minimum) unless the command
line sets one; a crawl of a loopback address (the demo portal, a local mirror) runs without any
delay and without AutoThrottle, since the only server it can overload is our own.

Settings: ``CRAWL_DELAY_ENABLED`` (default True), ``CRAWL_DELAY_MAX`` (seconds, default 60: a
larger robots.txt value is capped, and the cap is logged).
Stats: ``politeness/crawl_delay`` (the largest delay applied), ``politeness/crawl_delay/hosts``,
``politeness/crawl_delay/capped``, ``politeness/crawl_delay/enforced``, ``politeness/loopback``.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_bool, read_float
from portal_archive.urls import hostname_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_SPIDER_PRIORITY = "spider"


@dataclass(frozen=True, kw_only=True)
class CrawlDelayConfig:
    """``CRAWL_DELAY_*`` settings, and the robots.txt settings of Scrapy's they depend on.

    Defaults: ``portal_archive.settings``.
    """

    enabled: bool = project.CRAWL_DELAY_ENABLED
    max_delay: float = project.CRAWL_DELAY_MAX
    """Seconds: a longer ``Crawl-delay`` is capped here (and the cap logged)."""
    robots_obeyed: bool = project.ROBOTSTXT_OBEY
    """Scrapy's ``ROBOTSTXT_OBEY``: without it robots.txt is never read, so there is no Crawl-delay."""
    user_agent: str = project.ROBOTSTXT_USER_AGENT or project.USER_AGENT
    """Whose ``Crawl-delay`` applies: Scrapy's ``ROBOTSTXT_USER_AGENT``, else ``USER_AGENT``."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate; raise ``SettingsError`` naming the key."""
        config = cls(
            enabled=read_bool(settings, "CRAWL_DELAY_ENABLED", cls.enabled),
            max_delay=read_float(settings, "CRAWL_DELAY_MAX", cls.max_delay),
            robots_obeyed=read_bool(settings, "ROBOTSTXT_OBEY", cls.robots_obeyed),
            user_agent=str(settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""),
        )
        if config.max_delay < 0:
            raise SettingsError(f"CRAWL_DELAY_MAX must not be negative, got {config.max_delay}")
        return config


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    host = hostname_of(url)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def apply_crawl_pace(settings: BaseSettings, profile_delay: float, base_url: str) -> float:
    """Set ``DOWNLOAD_DELAY`` and ``AUTOTHROTTLE_START_DELAY`` for a crawl of ``base_url``.

    A loopback ``base_url`` also turns AutoThrottle off: aiming at one request in flight
    (``AUTOTHROTTLE_TARGET_CONCURRENCY``), it would hold the crawl to one page per response time,
    even when the server is fast or only slow to answer. All are set at ``spider`` priority, so
    ``-s`` on the command line still wins. Must run
    before the crawler freezes its settings (a spider's ``from_crawler`` does); on frozen
    settings nothing changes. Returns the delay in effect.
    """
    if settings.frozen:
        logger.info("Settings are already frozen: the profile's delay is not applied")
        return settings.getfloat("DOWNLOAD_DELAY")
    loopback = is_loopback(base_url)
    delay = 0.0 if loopback else max(0.0, profile_delay)
    settings.set("DOWNLOAD_DELAY", delay, priority=_SPIDER_PRIORITY)
    if loopback:
        settings.set("AUTOTHROTTLE_ENABLED", False, priority=_SPIDER_PRIORITY)
    if delay == 0.0:
        settings.set("AUTOTHROTTLE_START_DELAY", 0.0, priority=_SPIDER_PRIORITY)
    else:
        start = max(delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        settings.set("AUTOTHROTTLE_START_DELAY", start, priority=_SPIDER_PRIORITY)
    return settings.getfloat("DOWNLOAD_DELAY")


class CrawlDelayExtension:
    """Honours robots.txt ``Crawl-delay`` for the crawl's user agent, per download slot."""

    def __init__(self, crawler: Crawler, stats: StatsCollector, max_delay: float, user_agent: str) -> None:
        self.crawler = crawler
        self.stats = stats
        self.max_delay = max_delay
        self.floors: dict[str, float] = {}
        """Download slot key → the delay robots.txt asks for."""
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = CrawlDelayConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("CRAWL_DELAY_ENABLED is False")
        if not config.robots_obeyed:
            raise NotConfigured("ROBOTSTXT_OBEY is False: robots.txt is not read")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        extension = cls(crawler, crawler.stats, config.max_delay, config.user_agent)
        crawler.signals.connect(extension.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(extension.request_reached_downloader, signal=signals.request_reached_downloader)
        # Connected after AutoThrottle's own handler (extensions are built in EXTENSIONS order and
        # AutoThrottle comes first), so the floor is back before the slot dequeues its next request.
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        return extension

    def robots_parsed(self, robotparser: RobotParser, request: Request, **kwargs: Any) -> None:
        """Remember the host's ``Crawl-delay`` (if any) and apply it to its slot right away."""
        reader = getattr(robotparser, "crawl_delay", None)
        if reader is None:
            logger.info("The robots.txt parser %(parser)s cannot read Crawl-delay", {"parser": type(robotparser)})
            return
        delay = reader(self.user_agent)
        if delay is None or delay <= 0:
            return
        if delay > self.max_delay:
            logger.info(
                "robots.txt of %(host)s asks for Crawl-delay %(delay)s s; capped at CRAWL_DELAY_MAX %(max)s s",
                {"host": hostname_of(request.url), "delay": delay, "max": self.max_delay},
            )
            self.stats.inc_value("politeness/crawl_delay/capped")
            delay = self.max_delay
        key = self._slot_key(request)
        self.floors[key] = float(delay)
        self.stats.inc_value("politeness/crawl_delay/hosts")
        self.stats.max_value("politeness/crawl_delay", float(delay))
        logger.info("Honouring robots.txt Crawl-delay %(delay)s s for %(slot)s", {"delay": delay, "slot": key})
        self._enforce(key)

    def request_reached_downloader(self, request: Request, **kwargs: Any) -> None:
        """Before the slot schedules this request, lift its delay back to the robots.txt floor."""
        key = request.meta.get("download_slot")
        if isinstance(key, str) and key in self.floors:
            self._enforce(key)

    def response_downloaded(self, request: Request, **kwargs: Any) -> None:
        """After AutoThrottle adjusted the slot for this response, lift it back to the floor."""
        self.request_reached_downloader(request)

    def _slot_key(self, request: Request) -> str:
        # Both signals fire only while the engine runs, so the downloader is there to ask.
        return self.crawler.engine.downloader.get_slot_key(request)

    def _enforce(self, key: str) -> None:
        slot = self.crawler.engine.downloader.slots.get(key)
        floor = self.floors[key]
        if slot is None:
            return
        # Crawl-delay is a minimum: a random jitter would take some gaps below it.
        slot.jitter = 0.0
        if slot.delay < floor:
            slot.delay = floor
            self.stats.inc_value("politeness/crawl_delay/enforced")
