"""Politeness: robots.txt Crawl-delay becomes a floor on the host's download slot; loopback runs free."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.exceptions import NotConfigured
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from portal_archive.crawl.politeness import CrawlDelayExtension, apply_crawl_pace, is_loopback

UA = "portal-archive/0.1.0 (+https://example.org/contact)"


def extension_with_slot(robots: bytes, **settings: object) -> tuple[CrawlDelayExtension, Slot]:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "USER_AGENT": UA, **settings})
    extension = CrawlDelayExtension.from_crawler(crawler)
    slot = Slot(concurrency=8, delay=0.0, jitter=0.5)
    downloader = SimpleNamespace(slots={"portal.example": slot}, get_slot_key=lambda request: "portal.example")
    crawler.engine = SimpleNamespace(downloader=downloader)  # type: ignore[assignment]
    extension.robots_parsed(ProtegoRobotParser(robots, None), Request("https://portal.example/"))
    return extension, slot


def test_crawl_delay_is_applied_and_kept_as_a_floor() -> None:
    extension, slot = extension_with_slot(b"User-agent: *\nCrawl-delay: 5\nDisallow: /admin/\n")
    assert slot.delay == 5.0 and slot.jitter == 0.0
    assert extension.stats.get_value("politeness/crawl_delay") == 5.0
    slot.delay = 0.4  # what AutoThrottle does after a fast response
    extension.request_reached_downloader(Request("https://portal.example/a", meta={"download_slot": "portal.example"}))
    assert slot.delay == 5.0
    assert extension.stats.get_value("politeness/crawl_delay/enforced") == 2
    slot.delay = 0.1
    extension.response_downloaded(Request("https://portal.example/c", meta={"download_slot": "portal.example"}))
    assert slot.delay == 5.0
    slot.delay = 9.0  # slower is always fine
    extension.request_reached_downloader(Request("https://portal.example/b", meta={"download_slot": "portal.example"}))
    assert slot.delay == 9.0


def test_the_group_naming_our_crawler_wins() -> None:
    robots = b"User-agent: *\nCrawl-delay: 10\n\nUser-agent: portal-archive\nCrawl-delay: 1.5\n"
    _, slot = extension_with_slot(robots)
    assert slot.delay == 1.5


def test_no_crawl_delay_changes_nothing() -> None:
    extension, slot = extension_with_slot(b"User-agent: *\nDisallow: /admin/\n")
    assert slot.delay == 0.0 and slot.jitter == 0.5 and extension.floors == {}


def test_huge_crawl_delays_are_capped() -> None:
    extension, slot = extension_with_slot(b"User-agent: *\nCrawl-delay: 86400\n", CRAWL_DELAY_MAX=30)
    assert slot.delay == 30.0
    assert extension.stats.get_value("politeness/crawl_delay/capped") == 1


@pytest.mark.parametrize("settings", [{"CRAWL_DELAY_ENABLED": False}, {"ROBOTSTXT_OBEY": False}])
def test_not_configured(settings: dict[str, object]) -> None:
    with pytest.raises(NotConfigured):
        CrawlDelayExtension.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, **settings}))


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.3.2.1", True),
        ("http://[::1]:9000", True),
        ("http://localhost:8080", True),
        ("https://bendi.news", False),
        ("http://10.0.0.1", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_crawl_pace_respects_command_line_and_frozen_settings() -> None:
    settings = Settings({"DOWNLOAD_DELAY": 2.0, "AUTOTHROTTLE_START_DELAY": 3.0})
    assert apply_crawl_pace(settings, 5.0, "https://bendi.news") == 5.0
    assert settings.getfloat("AUTOTHROTTLE_START_DELAY") == 5.0
    assert apply_crawl_pace(settings, 5.0, "http://127.0.0.1:1") == 0.0
    pinned = Settings()
    pinned.set("DOWNLOAD_DELAY", 1.0, priority="cmdline")
    assert apply_crawl_pace(pinned, 5.0, "https://bendi.news") == 1.0
    frozen = Settings({"DOWNLOAD_DELAY": 4.0})
    frozen.freeze()
    assert apply_crawl_pace(frozen, 0.0, "http://127.0.0.1:1") == 4.0
