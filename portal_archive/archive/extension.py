"""The crawl's side of the CDXJ index: rebuilt when the engine stops, after the WARC files are closed.

``CdxjIndexExtension`` (``CDXJ_ENABLED``, which replaces ``WARC_CDXJ_ENABLED``; ``CdxjIndexConfig``)
calls ``archive.cdxj.build_index``; the index itself never imports Scrapy, so ``portal-archive index``
starts fast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from portal_archive import settings as project
from portal_archive.archive.cdxj import build_index
from portal_archive.archive.folder import ArchiveFolderError
from portal_archive.capture.config import WarcConfig
from portal_archive.config import read_bool, renamed_setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

__all__ = ["CdxjIndexConfig", "CdxjIndexExtension"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CdxjIndexConfig:
    """``CDXJ_*`` settings (defaults: ``portal_archive.settings``).

    ``WARC_CDXJ_ENABLED``, the setting's name before the index had settings of its own, is still
    read when set above ``CDXJ_ENABLED`` (a WARNING names the replacement).
    """

    enabled: bool = project.CDXJ_ENABLED

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read ``CDXJ_ENABLED`` (or the old name); a value that is not a boolean raises ``SettingsError``."""
        key = renamed_setting(settings, "CDXJ_ENABLED", "WARC_CDXJ_ENABLED")
        return cls(enabled=read_bool(settings, key, cls.enabled))


class CdxjIndexExtension:
    """Rebuilds ``WARC_DIR/indexes/index.cdxj`` when the engine stops, after the WARC files are closed.

    Settings: ``CDXJ_ENABLED`` (default True), ``WARC_ENABLED``, ``WARC_DIR``.
    Stats: ``warc/cdxj/errors``.
    """

    def __init__(self, directory: Path, crawler: Crawler) -> None:
        self.directory = directory
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        capture = WarcConfig.from_settings(settings)
        if not capture.enabled:
            raise NotConfigured("WARC_ENABLED is False")
        if not CdxjIndexConfig.from_settings(settings).enabled:
            raise NotConfigured("CDXJ_ENABLED is False")
        extension = cls(capture.directory, crawler)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        """Index the folder; a crawl that archived nothing has nothing to index (INFO, not an error)."""
        try:
            report = build_index(self.directory)
        except ArchiveFolderError as exc:
            logger.info("No CDXJ index written: %(reason)s", {"reason": exc})
            return
        except Exception:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("warc/cdxj/errors")
            logger.exception("Could not index %(dir)s", {"dir": self.directory})
            return
        logger.info(
            "CDXJ index %(path)s: %(warcs)d WARC file(s), %(new)d newly indexed",
            {"path": report.path, "warcs": report.warc_count, "new": report.reindexed},
        )
