"""Write the crawl's final stats as JSON, so a caller can judge a run: ``scrapy crawl`` exits 0
even when every download failed.

With ``RUN_STATS_PROGRESS_INTERVAL`` the file also holds the stats so far while the crawl runs,
rewritten every so many seconds (without ``finish_reason`` until the end): what ``portal-archive
crawl`` reads for its live line on a terminal.

Settings: ``RUN_STATS_FILE`` (empty: disabled), ``RUN_STATS_PROGRESS_INTERVAL`` (seconds, 0: only
at the end), parsed by ``RunStatsConfig``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_float

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, kw_only=True)
class RunStatsConfig:
    """``RUN_STATS_*`` settings (defaults: ``portal_archive.settings``)."""

    file: Path | None = Path(project.RUN_STATS_FILE) if project.RUN_STATS_FILE else None
    """Where the final stats go; ``None`` (``RUN_STATS_FILE`` empty): nowhere, the extension is off."""
    progress_interval: float = project.RUN_STATS_PROGRESS_INTERVAL
    """Seconds between snapshots of the stats so far in the same file; 0: only the final stats."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read ``RUN_STATS_*``; a value that is not a path, or a negative interval, raises
        ``SettingsError`` naming it."""
        interval = read_float(settings, "RUN_STATS_PROGRESS_INTERVAL", cls.progress_interval)
        if interval < 0:
            raise SettingsError(f"RUN_STATS_PROGRESS_INTERVAL must be 0 (off) or more seconds, got {interval}")
        target = settings.get("RUN_STATS_FILE", project.RUN_STATS_FILE)
        if not target:
            return cls(file=None, progress_interval=interval)
        if not isinstance(target, str | PathLike):
            raise SettingsError(f"RUN_STATS_FILE must be a file path or empty, got {target!r}")
        return cls(file=Path(target), progress_interval=interval)


class RunStatsExtension:
    """Dumps ``crawler.stats`` plus the spider name and finish reason when the spider closes."""

    def __init__(self, path: Path, stats: StatsCollector, spider_name: str, progress_interval: float = 0.0) -> None:
        self.path = path
        self.stats = stats
        self.spider_name = spider_name
        self.progress_interval = progress_interval
        self._snapshots: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = RunStatsConfig.from_settings(crawler.settings)
        if config.file is None:
            raise NotConfigured("RUN_STATS_FILE is empty")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        extension = cls(config.file, crawler.stats, crawler.spidercls.name or "", config.progress_interval)
        # engine_stopped comes after spider_closed, when every other extension has added its stats.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        if config.progress_interval:
            crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self) -> None:
        self._snapshots = task.LoopingCall(self._write)
        self._snapshots.start(self.progress_interval, now=False)

    def engine_stopped(self) -> None:
        """Write the final stats."""
        if self._snapshots is not None and self._snapshots.running:
            self._snapshots.stop()
        self._write()
        logger.info("Run stats written to %(path)s", {"path": self.path})

    def _write(self) -> None:
        """The stats so far, atomically (temp file + rename): a reader never sees half a file."""
        data = {k: _jsonable(v) for k, v in sorted(self.stats.get_stats().items())}
        data["spider"] = self.spider_name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(self.path)
