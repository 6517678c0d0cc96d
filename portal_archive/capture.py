"""Scrapy extension that archives every HTTP exchange at ``response_downloaded``.

That signal fires before any downloader middleware runs, so the body is still as received (gzip
bytes with their ``Content-Encoding``) and 3xx responses are still visible; a middleware or a
pipeline would see a decoded body with a stale ``Content-Length`` and no redirects.

Settings: the ``WARC_*`` family (see ``portal_archive.warc.config``).
Stats: ``warc/records/<type>``, ``warc/bytes``, ``warc/files``, ``warc/errors``.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured

from portal_archive import __version__
from portal_archive.warc.config import WarcConfig
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter, WrittenExchange

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

WARC_1_1_SPEC = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


def warcinfo_fields(settings: BaseSettings, config: WarcConfig, spider_name: str) -> list[tuple[str, str]]:
    """The ``warcinfo`` block: who wrote the file, how, and under which robots policy."""
    fields = [
        ("software", f"portal-archive/{__version__} (Scrapy/{scrapy.__version__})"),
        ("format", "WARC File Format 1.1"),
        ("conformsTo", WARC_1_1_SPEC),
        ("isPartOf", config.is_part_of or spider_name),
        ("robots", "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore"),
        ("hostname", socket.gethostname()),
        ("http-header-user-agent", str(settings.get("USER_AGENT") or "")),
    ]
    if config.operator:
        fields.append(("operator", config.operator))
    if config.description:
        fields.append(("description", config.description))
    return fields


def exchange_from_scrapy(request: Request, response: Response) -> HttpExchange:
    """Convert a Scrapy request/response pair without decoding any header or body."""
    request_headers = [(bytes(k), bytes(v)) for k in request.headers for v in request.headers.getlist(k)]
    response_headers = [(bytes(k), bytes(v)) for k in response.headers for v in response.headers.getlist(k)]
    return HttpExchange(
        url=response.url,
        method=request.method.encode("ascii"),
        request_headers=request_headers,
        request_body=request.body,
        status=response.status,
        protocol=response.protocol or "HTTP/1.1",
        response_headers=response_headers,
        body=response.body,
        ip_address=str(response.ip_address) if response.ip_address is not None else None,
        # A browser hands over decoded bodies; the Twisted handler keeps content coding.
        body_decoded="playwright" in (response.flags or []),
    )


class WarcCaptureExtension:
    """Writes a ``request`` + ``response`` (or ``revisit``) pair for every downloaded response."""

    def __init__(self, writer: RotatingWarcWriter, stats: StatsCollector) -> None:
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is False")
        config = WarcConfig.from_settings(settings)
        spider_name = crawler.spidercls.name or "crawl"
        writer = RotatingWarcWriter(
            directory=config.directory,
            prefix=config.prefix or spider_name,
            max_size=config.max_size,
            gzip_level=config.gzip_level,
            warcinfo=warcinfo_fields(settings, config, spider_name),
            revisit_min_size=config.revisit_min_size,
        )
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        extension = cls(writer, crawler.stats)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.spider_closed, signal=signals.engine_stopped)
        return extension

    def response_downloaded(self, response: Response, request: Request) -> None:
        """Archive the exchange and remember where, so items can cite their record."""
        try:
            written = self.archive(request, response)
        except Exception:
            # Losing an exchange silently is the worst outcome for an archive: count it and say so.
            self.stats.inc_value("warc/errors")
            logger.exception("Could not archive %(url)s", {"url": response.url})
            return
        request.meta["warc_record_id"] = written.record_id
        request.meta["warc_filename"] = written.filename
        request.meta["warc_offset"] = written.offset

    def archive(self, request: Request, response: Response) -> WrittenExchange:
        """Write one exchange and count it."""
        files_before = self.writer.files_opened
        bytes_before = self.writer.bytes_written
        written = self.writer.write_exchange(exchange_from_scrapy(request, response))
        opened = self.writer.files_opened - files_before
        if opened:
            self.stats.inc_value("warc/records/warcinfo", opened)
        self.stats.inc_value(f"warc/records/{written.warc_type}")
        self.stats.inc_value("warc/records/request")
        self.stats.inc_value("warc/bytes", self.writer.bytes_written - bytes_before)
        return written

    def spider_closed(self, *args: Any, **kwargs: Any) -> None:
        """Close the open file so nothing is left ``.open`` after a normal or signalled stop."""
        files_before = len(self.writer.finished_files)
        self.writer.close()
        closed = len(self.writer.finished_files) - files_before
        self.stats.set_value("warc/files", len(self.writer.finished_files))
        if closed:
            logger.info(
                "WARC files written: %(n)d in %(dir)s",
                {"n": len(self.writer.finished_files), "dir": self.writer.directory},
            )
