"""Scrapy extension that archives every HTTP exchange at ``response_downloaded``.

That signal fires before any downloader middleware runs, so the body is still as received (gzip
bytes with their ``Content-Encoding``) and 3xx responses are still visible; a middleware or a
pipeline would see a decoded body with a stale ``Content-Length`` and no redirects.

Requests rendered by a browser (``meta["playwright"]``) hand Scrapy the rendered DOM, not the bytes
the server sent. For those the extension archives the browser's own network exchanges as they
finish (every sub-request; the page document too unless a plain fetch already archived it, named
by ``meta[REFERS_TO_META]``), and the rendered DOM as a ``resource`` record whose target is
``urn:dom:<page URL>``, so replay tools never mistake it for the server's response.

Settings: the ``WARC_*`` family (see ``portal_archive.capture.config``). What it leaves in
``request.meta`` for the spider and others, and reads from there: ``portal_archive.capture.meta``.
A response cut short (by the server, or at ``DOWNLOAD_MAXSIZE`` by ``portal_archive.crawl.fetchguard``)
is archived as received with ``WARC-Truncated``; header bytes are never decoded, so a GBK header
value is archived as sent.

Stats: ``warc/records/<type>``, ``warc/bytes``, ``warc/files``, ``warc/errors``,
``warc/truncated``, ``warc/truncated/<reason>``, ``warc/non_ascii_headers``,
``warc/browser/exchanges``, ``warc/browser/errors``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.defer import Deferred

from portal_archive import __version__
from portal_archive.capture.config import WarcConfig
from portal_archive.capture.meta import (
    DATE_META,
    DOM_RECORD_ID_META,
    FILENAME_META,
    NOT_MODIFIED_META,
    OFFSET_META,
    PAYLOAD_DIGEST_META,
    RECORD_ID_META,
    REFERS_TO_META,
    TRUNCATED_META,
    TYPE_META,
)
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import PayloadOrigin, RotatingWarcWriter, WrittenExchange, WrittenRecord

if TYPE_CHECKING:
    from playwright.async_api import Request as BrowserRequest
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

WARC_1_1_SPEC = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
DOM_URI_PREFIX = "urn:dom:"
# scrapy-playwright resolves string event handlers as spider attributes; a string keeps the
# request picklable for JOBDIR queues, where a bound method would not be.
BROWSER_HANDLER_ATTRIBUTE = "_portal_archive_browser_request_finished"


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
        truncated=truncation_reason(request, response),
    )


def truncation_reason(request: Request, response: Response) -> str | None:
    """``WARC-Truncated`` value for a response that did not arrive whole, else ``None``."""
    flags = response.flags or []
    if "download_stopped" in flags:
        return str(request.meta.get(TRUNCATED_META) or "unspecified")
    if "dataloss" in flags:
        return "disconnect"
    return None


class WarcCaptureExtension:
    """Writes a ``request`` + ``response`` (or ``revisit``) pair for every downloaded response."""

    def __init__(self, writer: RotatingWarcWriter, stats: StatsCollector) -> None:
        self.writer = writer
        self.stats = stats
        self._documents_archived: dict[str, str] = {}
        self._pending: set[asyncio.Future[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        config = WarcConfig.from_settings(settings)
        if not config.enabled:
            raise NotConfigured("WARC_ENABLED is False")
        spider_name = crawler.spidercls.name or "crawl"
        writer = RotatingWarcWriter(
            directory=config.directory,
            prefix=config.prefix or spider_name,
            max_size=config.max_size,
            gzip_level=config.gzip_level,
            warcinfo=warcinfo_fields(settings, config, spider_name),
            revisit_min_size=config.revisit_min_size,
            host=config.host or None,
        )
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before extensions
        extension = cls(writer, crawler.stats)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.request_reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.spider_closed, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Expose the browser hook under the name browser requests refer to."""
        setattr(spider, BROWSER_HANDLER_ATTRIBUTE, self.browser_request_finished)

    def request_reached_downloader(self, request: Request) -> None:
        """Ask scrapy-playwright to report every finished browser request of a rendered page."""
        if not request.meta.get("playwright"):
            return
        handlers = dict(request.meta.get("playwright_page_event_handlers") or {})
        handlers["requestfinished"] = BROWSER_HANDLER_ATTRIBUTE
        request.meta["playwright_page_event_handlers"] = handlers
        refers_to = request.meta.get(REFERS_TO_META)
        if refers_to:
            self._documents_archived[request.url] = str(refers_to)

    def browser_request_finished(self, browser_request: BrowserRequest) -> None:
        """Playwright event handler: archive the exchange once its body can be read."""
        task = asyncio.ensure_future(self._archive_browser_exchange(browser_request))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _archive_browser_exchange(self, browser_request: BrowserRequest) -> None:
        url = browser_request.url
        if not url.startswith(("http://", "https://")):
            return
        if browser_request.is_navigation_request() and url in self._documents_archived:
            return  # the plain fetch archived the document as the server sent it
        try:
            browser_response = await browser_request.response()
            if browser_response is None:
                return
            body = b"" if 300 <= browser_response.status < 400 else await browser_response.body()
            response_headers = await browser_response.headers_array()
            request_headers = await browser_request.headers_array()
            address = await browser_response.server_addr()
        except Exception as exc:  # Playwright raises its own Error types for closed pages and targets
            self.stats.inc_value("warc/browser/errors")
            logger.warning("Could not read browser exchange %(url)s: %(exc)s", {"url": url, "exc": exc})
            return
        exchange = HttpExchange(
            url=url,
            method=browser_request.method.encode("ascii"),
            request_headers=[(h["name"].encode("latin-1"), h["value"].encode("latin-1")) for h in request_headers],
            request_body=browser_request.post_data_buffer or b"",
            status=browser_response.status,
            response_headers=[(h["name"].encode("latin-1"), h["value"].encode("latin-1")) for h in response_headers],
            body=body,
            ip_address=address["ipAddress"] if address else None,
            body_decoded=True,
        )
        try:
            self._write(exchange)
        except Exception:
            self.stats.inc_value("warc/errors")
            logger.exception("Could not archive browser exchange %(url)s", {"url": url})
            return
        self.stats.inc_value("warc/browser/exchanges")

    def response_downloaded(self, response: Response, request: Request) -> None:
        """Archive the exchange and remember where, so items can cite their record."""
        if "playwright" in (response.flags or []):
            self.archive_rendered_dom(request, response)
            return
        try:
            written = self.archive(request, response)
        except Exception:
            # Losing an exchange silently is the worst outcome for an archive: count it and say so.
            self.stats.inc_value("warc/errors")
            logger.exception("Could not archive %(url)s", {"url": response.url})
            return
        request.meta[RECORD_ID_META] = written.record_id
        request.meta[FILENAME_META] = written.filename
        request.meta[OFFSET_META] = written.offset
        # What incremental crawling (portal_archive.crawl.incremental) remembers about the capture.
        request.meta[TYPE_META] = written.warc_type
        request.meta[DATE_META] = written.date
        request.meta[PAYLOAD_DIGEST_META] = written.payload_digest
        self._count_anomalies(request, response)

    def _count_anomalies(self, request: Request, response: Response) -> None:
        """Say what was unusual about an exchange just archived (cut short, non-ASCII header bytes)."""
        truncated = truncation_reason(request, response)
        if truncated:
            self.stats.inc_value("warc/truncated")
            self.stats.inc_value(f"warc/truncated/{truncated}")
            logger.info(
                "Archived %(url)s as truncated (%(reason)s): %(size)d bytes received",
                {"url": response.url, "reason": truncated, "size": len(response.body)},
            )
        if any(not value.isascii() for _, values in response.headers.items() for value in values):
            self.stats.inc_value("warc/non_ascii_headers")
            logger.debug("Archived non-ASCII header bytes of %(url)s as received", {"url": response.url})

    def archive(self, request: Request, response: Response) -> WrittenExchange:
        """Write one exchange and count it; a 304 to a conditional request revisits the record it named."""
        not_modified = request.meta.get(NOT_MODIFIED_META) if response.status == 304 else None
        return self._write(exchange_from_scrapy(request, response), not_modified=not_modified)

    def _count_new_files(self, files_before: int, bytes_before: int) -> None:
        opened = self.writer.files_opened - files_before
        if opened:
            self.stats.inc_value("warc/records/warcinfo", opened)
        self.stats.inc_value("warc/bytes", self.writer.bytes_written - bytes_before)

    def _write(self, exchange: HttpExchange, not_modified: PayloadOrigin | None = None) -> WrittenExchange:
        files_before, bytes_before = self.writer.files_opened, self.writer.bytes_written
        written = self.writer.write_exchange(exchange, not_modified=not_modified)
        self._count_new_files(files_before, bytes_before)
        self.stats.inc_value(f"warc/records/{written.warc_type}")
        self.stats.inc_value("warc/records/request")
        return written

    def archive_rendered_dom(self, request: Request, response: Response) -> None:
        """The rendered DOM as a ``resource`` record referring to the page's archived response."""
        files_before, bytes_before = self.writer.files_opened, self.writer.bytes_written
        try:
            written = self.writer.write_related(
                "resource",
                url=DOM_URI_PREFIX + response.url,
                content_type="text/html; charset=utf-8",
                block=response.text.encode("utf-8"),
                refers_to=request.meta.get(REFERS_TO_META) or None,
            )
        except Exception:
            self.stats.inc_value("warc/errors")
            logger.exception("Could not archive the rendered DOM of %(url)s", {"url": response.url})
            return
        self._count_new_files(files_before, bytes_before)
        self.stats.inc_value("warc/records/resource")
        request.meta[DOM_RECORD_ID_META] = written.record_id
        request.meta.setdefault(RECORD_ID_META, request.meta.get(REFERS_TO_META) or written.record_id)

    def write_metadata(self, *, url: str, refers_to: str, block: bytes, content_type: str) -> WrittenRecord:
        """Archive a ``metadata`` record about an archived response (used by item pipelines).

        It is ``WARC-Refers-To`` and ``WARC-Concurrent-To`` that response, so readers can join the
        two without an index.
        """
        files_before, bytes_before = self.writer.files_opened, self.writer.bytes_written
        written = self.writer.write_related(
            "metadata", url=url, content_type=content_type, block=block, refers_to=refers_to, concurrent_to=refers_to
        )
        self._count_new_files(files_before, bytes_before)
        self.stats.inc_value("warc/records/metadata")
        return written

    @classmethod
    def of(cls, crawler: Crawler) -> Self | None:
        """The crawler's capture extension, for components that add records; ``None`` when disabled."""
        extensions = getattr(crawler, "extensions", None)
        for extension in getattr(extensions, "middlewares", ()):
            if isinstance(extension, cls):
                return extension
        return None

    def spider_closed(self, *args: Any, **kwargs: Any) -> Deferred[None] | None:
        """Wait for browser exchanges still being read, then close the file."""
        if self._pending:
            pending = asyncio.gather(*self._pending, return_exceptions=True)
            return Deferred.fromFuture(asyncio.ensure_future(self._close_after(pending)))
        self._close()
        return None

    async def _close_after(self, pending: asyncio.Future[list[Any]]) -> None:
        await pending
        self._close()

    def _close(self) -> None:
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
