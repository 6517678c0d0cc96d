"""Archive each article's extraction result and dedup verdict as a WARC ``metadata`` record.

The record sits in the crawl's own WARC files, ``WARC-Refers-To`` and ``WARC-Concurrent-To`` the
page's ``response`` (or ``revisit``), so the archive carries what was concluded about a page next to
the bytes it was concluded from. Schema: ``docs/metadata-record.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from portal_archive import settings as project
from portal_archive.archive.metadata import CONTENT_TYPE, article_metadata, encode, metadata_uri
from portal_archive.capture.config import WarcConfig
from portal_archive.capture.extension import WarcCaptureExtension
from portal_archive.capture.meta import METADATA_RECORD_ID_EXTRA
from portal_archive.config import read_bool, renamed_setting
from portal_archive.items import ArticleItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ArchiveMetadataConfig:
    """``ARCHIVE_METADATA_*`` settings (defaults: ``portal_archive.settings``).

    ``WARC_METADATA_ENABLED``, the setting's name before the pipeline had settings of its own, is
    still read when set above ``ARCHIVE_METADATA_ENABLED`` (a WARNING names the replacement).
    """

    enabled: bool = project.ARCHIVE_METADATA_ENABLED

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read ``ARCHIVE_METADATA_ENABLED`` (or the old name); a non-boolean raises ``SettingsError``."""
        key = renamed_setting(settings, "ARCHIVE_METADATA_ENABLED", "WARC_METADATA_ENABLED")
        return cls(enabled=read_bool(settings, key, cls.enabled))


class ArticleRecordPipeline:
    """Writes one ``metadata`` record per article item; never drops an item.

    Runs after the dedup pipeline, whose verdict (``item.extra["dedup"]``) goes into the record.
    Settings: ``ARCHIVE_METADATA_ENABLED`` (default True), ``WARC_ENABLED``.
    Stats: ``warc/metadata/written``, ``warc/metadata/skipped`` (item cites no archived response),
    ``warc/metadata/errors``.
    """

    def __init__(self, capture: WarcCaptureExtension, stats: StatsCollector) -> None:
        self.capture = capture
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not WarcConfig.from_settings(settings).enabled:
            raise NotConfigured("WARC_ENABLED is False")
        if not ArchiveMetadataConfig.from_settings(settings).enabled:
            raise NotConfigured("ARCHIVE_METADATA_ENABLED is False")
        capture = WarcCaptureExtension.of(crawler)
        if capture is None:
            raise NotConfigured("the WARC capture extension is not enabled")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before pipelines
        return cls(capture, crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Archive the record and return the item unchanged but for ``extra[METADATA_RECORD_ID_EXTRA]``."""
        if not isinstance(item, ArticleItem):
            return item
        if not item.warc_record_id:
            self.stats.inc_value("warc/metadata/skipped")
            logger.info("No metadata record for %(url)s: it cites no archived response", {"url": item.url})
            return item
        try:
            written = self.capture.write_metadata(
                url=metadata_uri(item.url),
                refers_to=item.warc_record_id,
                block=encode(article_metadata(item)),
                content_type=CONTENT_TYPE,
            )
        except Exception:
            # The item still goes on (the archive is the loss here): count it and say so loudly.
            self.stats.inc_value("warc/metadata/errors")
            logger.exception("Could not archive the metadata record of %(url)s", {"url": item.url})
            return item
        self.stats.inc_value("warc/metadata/written")
        item.extra[METADATA_RECORD_ID_EXTRA] = written.record_id
        return item
