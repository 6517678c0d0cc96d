"""Components off by configuration are said at DEBUG; everything else Scrapy says is left alone."""

from __future__ import annotations

import logging

import pytest

from portal_archive.crawl.quiet import OffByConfiguration, quiet_disabled_components

DISABLED = "Disabled %(clspath)s: %(eargs)s"


def record(clspath: str, msg: str = DISABLED) -> logging.LogRecord:
    args = ({"clspath": clspath, "eargs": "X is empty"},)
    return logging.LogRecord("scrapy.middleware", logging.WARNING, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    ("clspath", "level"),
    [
        ("portal_archive.crawl.runstats.RunStatsExtension", logging.DEBUG),
        ("pipelines.dedup.DedupPipeline", logging.DEBUG),
        ("scrapy.extensions.memusage.MemoryUsage", logging.WARNING),  # not ours: Scrapy's behaviour
        ("scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler", logging.WARNING),
    ],
)
def test_only_the_projects_own_disabled_components_are_lowered(clspath: str, level: int) -> None:
    entry = record(clspath)
    assert OffByConfiguration().filter(entry) is True  # never dropped: LOG_LEVEL=DEBUG still shows it
    assert (entry.levelno, entry.levelname) == (level, logging.getLevelName(level))


def test_other_messages_keep_their_level() -> None:
    entry = record("portal_archive.x.Y", msg="Enabled %(clspath)s")
    OffByConfiguration().filter(entry)
    assert entry.levelno == logging.WARNING


def test_installed_once() -> None:
    quiet_disabled_components()
    quiet_disabled_components()
    installed = [f for f in logging.getLogger("scrapy.middleware").filters if isinstance(f, OffByConfiguration)]
    assert len(installed) == 1
