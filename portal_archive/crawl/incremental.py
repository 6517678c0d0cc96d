"""Incremental crawls: revalidate known articles instead of fetching them again.

A scheduled re-crawl re-fetches list pages, feeds and sitemaps (that is how new articles are
found) but asks the server whether each known article changed: ``If-None-Match`` with the
remembered ``ETag`` and ``If-Modified-Since`` with the remembered ``Last-Modified``
(``portal_archive.capture.state``). Outcomes, each a stat:

- ``incremental/not_modified``: the server answered 304. The capture archives it as a
  ``server-not-modified`` revisit of the record holding the page (``WARC-Refers-To``), and the
  request ends there, quietly (``NotModified``): the article is known and unchanged, so no item
  is produced again.
- ``incremental/unchanged``: a 200 whose payload equals the remembered one (a server ignoring
  validators); archived as an ``identical-payload-digest`` revisit, its item is not produced again
  either (``incremental/items/unchanged_skipped``).
- ``incremental/changed``: a 200 with a different payload, archived in full; its item carries
  ``extra["incremental"] = {"status": "changed", "previous_record_id": …, "version": n}``.
- ``incremental/new``: a page the store did not know; ``extra["incremental"]["status"] == "new"``.

Which requests take part: ``meta["incremental"]`` when set (True/False), otherwise a GET the
spider's ``is_article(url)`` accepts (``PortalSpider`` has one); never browser renderings. A page
becomes "known" once its item has gone through the pipelines (``item_scraped``), so a crawl killed
before that fetches the page again, in full if the archive lost it.

A POST that takes part (a portal's article API asked for one article's body) is remembered under
its URL and body (``state_key``), known at once (it has no item of its own), and counted apart:
``incremental/answers/new``, ``…/unchanged``, ``…/changed``. Its status tells the spider whether an
article whose page answered 304 was edited where its body lives (``crawl.portal_api``); a page the
spider fetches again because of that (``meta["body_changed"]``) is asked without validators and is
``changed`` even when its own HTML is not.

Settings: ``INCREMENTAL_ENABLED`` (default True), ``INCREMENTAL_STATE_PATH`` (default
``WARC_DIR/crawlstate.sqlite``), ``INCREMENTAL_PAYLOAD_CACHE`` (payload digests kept in memory,
default 2000). Needs the WARC capture extension.
Stats: ``incremental/conditional``, ``incremental/not_modified``, ``incremental/unchanged``,
``incremental/changed``, ``incremental/new``, ``incremental/unconfirmed`` (known but never
finished: fetched without validators), ``incremental/items/new``, ``incremental/items/changed``,
``incremental/items/unchanged_skipped``, ``incremental/items/unchanged`` (the item of a page archived
but never finished, produced after all), ``incremental/pages`` and ``incremental/payloads``
(store size at the end), ``incremental/has_known_articles`` (1 when the store knows an article of
the portal, by its article rules),
``incremental/payload_hits`` (payloads found already archived).
Documentation: ``docs/scheduling.md``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from itemadapter import ItemAdapter, is_item
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from portal_archive import settings as project
from portal_archive.capture.extension import WarcCaptureExtension
from portal_archive.capture.meta import (
    DATE_META,
    FILENAME_META,
    NOT_MODIFIED_META,
    PAYLOAD_DIGEST_META,
    RECORD_ID_META,
    TYPE_META,
)
from portal_archive.capture.state import (
    DEFAULT_STATE_NAME,
    CrawlState,
    PageState,
    StoredPayloads,
    configured_state_path,
)
from portal_archive.config import SettingsError, read_bool, read_int
from portal_archive.crawl.faults import FaultKind, FetchFault
from portal_archive.warc.writer import OPEN_SUFFIX, PayloadOrigin, RotatingWarcWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

STATUS_META: Final = "incremental_status"
"""``request.meta`` key: what the crawl state said about the response (a JSON-ready dict)."""
OPT_IN_META: Final = "incremental"
BODY_CHANGED_META: Final = "body_changed"
"""``request.meta`` key: the page is fetched again because its body changed elsewhere (its article
API's answer): no validators, and the page counts as changed."""

NOT_MODIFIED: Final = FaultKind("incremental/not_modified", logging.DEBUG, "known page unchanged (304 Not Modified)")
page_settled = object()
"""Signal (``url``): a page's callback produced no item, so there is nothing left to finish."""


class NotModified(FetchFault):
    """A known page answered 304: archived as a revisit, counted, and nothing more to do."""


@dataclass(frozen=True, kw_only=True)
class IncrementalConfig:
    """``INCREMENTAL_*`` settings (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.INCREMENTAL_ENABLED
    state_path: Path = Path(project.INCREMENTAL_STATE_PATH or Path(project.WARC_DIR) / DEFAULT_STATE_NAME)
    """The crawl state; ``INCREMENTAL_STATE_PATH``, or ``crawlstate.sqlite`` beside the WARC files."""
    payload_cache: int = project.INCREMENTAL_PAYLOAD_CACHE
    """Payload digests kept in memory; a miss costs one indexed lookup in the crawl state."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate the ``INCREMENTAL_*`` family; raise ``SettingsError`` naming the key."""
        config = cls(
            enabled=read_bool(settings, "INCREMENTAL_ENABLED", cls.enabled),
            state_path=configured_state_path(settings),
            payload_cache=read_int(settings, "INCREMENTAL_PAYLOAD_CACHE", cls.payload_cache),
        )
        if config.payload_cache < 0:
            raise SettingsError(f"INCREMENTAL_PAYLOAD_CACHE must be >= 0, got {config.payload_cache}")
        return config


def takes_part(request: Request, spider: object) -> bool:
    """Whether ``request`` is revalidated and remembered (see the module docstring)."""
    flag = request.meta.get(OPT_IN_META)
    if flag is not None:
        return bool(flag)
    if request.meta.get("playwright") or request.method != "GET":
        return False
    is_article = getattr(spider, "is_article", None)
    return bool(is_article(request.url)) if callable(is_article) else False


def state_key(request: Request, url: str | None = None) -> str:
    """Where the crawl state files a request: a GET under its URL (``url``: the response's, after
    redirects), any other method under its method, URL and a digest of its body (a portal's API
    answers every article at one URL)."""
    if request.method == "GET":
        return url or request.url
    return f"{request.method} {request.url} sha256:{hashlib.sha256(request.body).hexdigest()}"


def current_file_name(writer: RotatingWarcWriter) -> str:
    """The final name of the file the writer is filling (what the store records)."""
    path = writer.current_path
    return path.name.removesuffix(OPEN_SUFFIX) if path is not None else ""


def _complete(response: Response) -> bool:
    flags = response.flags or []
    return "dataloss" not in flags and "download_stopped" not in flags


class IncrementalDownloaderMiddleware:
    """Adds validators to requests for known pages and remembers what each page fetch archived."""

    def __init__(self, crawler: Crawler, state: CrawlState, stats: StatsCollector, payloads: StoredPayloads) -> None:
        self.crawler = crawler
        self.state = state
        self.stats = stats
        self.payloads = payloads

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = IncrementalConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("INCREMENTAL_ENABLED is False")
        capture = WarcCaptureExtension.of(crawler)
        if capture is None:
            raise NotConfigured("incremental crawling needs the WARC capture extension (WARC_ENABLED)")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before middlewares
        state = CrawlState.open(config.state_path)
        writer = capture.writer
        # Revisits across files and runs: the writer's payload map now lives in the store.
        payloads = StoredPayloads(state, lambda: current_file_name(writer), config.payload_cache)
        writer.payloads = payloads
        middleware = cls(crawler, state, crawler.stats, payloads)
        crawler.signals.connect(middleware.item_finished, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_finished, signal=signals.item_dropped)
        crawler.signals.connect(middleware.page_settled, signal=page_settled)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.engine_stopped, signal=signals.engine_stopped)
        logger.info("Crawl state %(path)s: incremental crawl", {"path": config.state_path})
        return middleware

    def process_request(self, request: Request) -> None:
        """Known, finished pages are asked for conditionally."""
        if not takes_part(request, self.crawler.spider) or request.meta.get(BODY_CHANGED_META):
            return
        known = self.state.page(state_key(request))
        if known is None:
            return
        if not known.done:
            self.stats.inc_value("incremental/unconfirmed")
            return
        if not known.has_validators:
            return
        if known.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = known.last_modified
        request.meta[NOT_MODIFIED_META] = known.origin
        self.stats.inc_value("incremental/conditional")

    def process_response(self, request: Request, response: Response) -> Response:
        """304: end the request as ``NotModified``; a complete 200: remember it and say what it was."""
        if not takes_part(request, self.crawler.spider):
            return response
        if response.status == 304 and request.meta.get(NOT_MODIFIED_META) is not None:
            headers = response.headers
            self.state.touch(
                state_key(request, response.url), etag=headers.get(b"ETag"), last_modified=headers.get(b"Last-Modified")
            )
            self.stats.inc_value("incremental/not_modified")
            logger.debug("Not modified: %(url)s", {"url": response.url})
            raise NotModified(NOT_MODIFIED, f"not modified: {response.url}")
        if response.status == 200 and _complete(response):
            self._remember(request, response)
        return response

    def _archived_origin(self, request: Request, response: Response) -> tuple[PayloadOrigin, str] | None:
        """The record that holds this response's payload, and its file (``None``: not archived)."""
        meta = request.meta
        digest = str(meta.get(PAYLOAD_DIGEST_META) or "")
        if meta.get(TYPE_META) == "response" and meta.get(RECORD_ID_META):
            origin = PayloadOrigin(str(meta[RECORD_ID_META]), response.url, str(meta.get(DATE_META) or ""), digest)
            return origin, str(meta.get(FILENAME_META) or "")
        if meta.get(TYPE_META) == "revisit" and digest:
            stored = self.state.payload(digest)
            if stored is not None:
                self.stats.inc_value("incremental/payload_hits")
                return stored.origin, stored.filename
        return None

    def _remember(self, request: Request, response: Response) -> None:
        archived = self._archived_origin(request, response)
        if archived is None:
            return  # the capture failed: claim nothing, so the next crawl fetches the page again
        origin, filename = archived
        page = request.method == "GET"
        key = state_key(request, response.url)
        known = self.state.page(key)
        status = "new" if known is None else "unchanged" if known.payload_digest == origin.payload_digest else "changed"
        if status == "unchanged" and request.meta.get(BODY_CHANGED_META):
            status = "changed"  # the same HTML, a new body from where the page reads it
        self.state.remember_page(
            key,
            etag=response.headers.get(b"ETag"),
            last_modified=response.headers.get(b"Last-Modified"),
            origin=origin,
            filename=filename,
            done=not page or (known.done if known is not None and status == "unchanged" else False),
            new_version=status == "changed",
        )
        self.stats.inc_value(f"incremental/{status}" if page else f"incremental/answers/{status}")
        request.meta[STATUS_META] = status_annotation(status, known)

    def item_finished(self, item: Any, response: Any = None, **_: Any) -> None:
        """An item went through (or was dropped by) the pipelines: its page is now known."""
        url = ItemAdapter(item).get("url") if is_item(item) else None
        if not isinstance(url, str) or not url:
            url = getattr(response, "url", "")
        if url:
            self.state.confirm(url)

    def page_settled(self, url: str) -> None:
        self.state.confirm(url)

    def spider_closed(self) -> None:
        """Report the store's size while the stats are still being collected."""
        pages, payloads = self.state.counts()
        self.stats.set_value("incremental/pages", pages)
        self.stats.set_value("incremental/payloads", payloads)
        spider = self.crawler.spider
        origin, is_article = getattr(spider, "origin", None), getattr(spider, "is_article", None)
        if isinstance(origin, str) and origin and callable(is_article):
            # What a run that found no article is judged by: did earlier runs find this portal's?
            # (Under its origin another portal's pages may be known too: its own rules decide.)
            known = any(is_article(url) for url in self.state.known_under(origin + "/"))
            self.stats.set_value("incremental/has_known_articles", int(known))

    def engine_stopped(self) -> None:
        """Close the store; a browser exchange archived even later falls back to in-memory revisits."""
        capture = WarcCaptureExtension.of(self.crawler)
        if capture is not None and capture.writer.payloads is self.payloads:
            capture.writer.payloads = {}
        self.state.close()


def status_annotation(status: str, known: PageState | None) -> dict[str, Any]:
    """What ``extra["incremental"]`` of an item says about its page."""
    annotation: dict[str, Any] = {"status": status, "known": bool(known is not None and known.done)}
    if known is not None:
        annotation["version"] = known.versions + (1 if status == "changed" else 0)
        annotation["previous_record_id"] = known.record_id
        annotation["previous_date"] = known.warc_date
        annotation["previous_payload_digest"] = known.payload_digest
    else:
        annotation["version"] = 1
    return annotation


class IncrementalSpiderMiddleware:
    """Flags items of new and changed pages; skips items of pages known and unchanged.

    Settings: ``INCREMENTAL_ENABLED``. Stats: ``incremental/items/*``.
    """

    def __init__(self, crawler: Crawler, stats: StatsCollector) -> None:
        self.crawler = crawler
        self.stats = stats
        self._held: dict[str, dict[str, Any]] = {}
        """Pages whose item the spider holds, with what the crawl state said about them."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not IncrementalConfig.from_settings(crawler.settings).enabled:
            raise NotConfigured("INCREMENTAL_ENABLED is False")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before middlewares
        return cls(crawler, crawler.stats)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        status = response.meta.get(STATUS_META) if response.request is not None else None
        if not isinstance(status, dict):
            status = None
        if status is None and not self._held:
            async for entry in result:
                yield entry
            return
        items = 0
        deferred = False
        async for entry in result:
            if isinstance(entry, Request):
                if status is not None and entry.meta.get("playwright") and entry.url == response.url:
                    # The same page, rendered: its item comes later and is the one to flag.
                    entry.meta.setdefault(STATUS_META, status)
                    deferred = True
                yield entry
                continue
            if not is_item(entry):
                yield entry
                continue
            # A response's status is its own page's: an API answer's item is its page's, held earlier.
            url = str(ItemAdapter(entry).get("url"))
            own = self._held.pop(url) if url in self._held else status if url == response.url else None
            if own is None:
                yield entry
                continue
            if own["status"] == "unchanged" and own["known"]:
                self.stats.inc_value("incremental/items/unchanged_skipped")
                continue
            items += 1
            self._annotate(entry, own)
            yield entry
        spider = self.crawler.spider
        holds, held_item = getattr(spider, "holds_item", None), getattr(spider, "held_item", None)
        if status is not None and not items and not deferred:
            if callable(holds) and holds(response.url):
                # The spider holds the page's item (waiting for an API's answer, or for the sources
                # it cites): the page is known once that item goes through, flagged as this page's.
                self._held[response.url] = status
            else:
                self.crawler.signals.send_catch_log(signal=page_settled, url=response.url)
        if self._held and callable(held_item):
            # An item now waiting for the sources it cites may come out of an errback, past this
            # middleware: flag it while it waits.
            for url in list(self._held):
                if (item := held_item(url)) is not None:
                    self._annotate(item, self._held.pop(url))

    def _annotate(self, item: Any, status: dict[str, Any]) -> None:
        self.stats.inc_value(f"incremental/items/{status['status']}")
        adapter = ItemAdapter(item)
        try:
            extra = adapter.get("extra")
            if not isinstance(extra, dict):
                extra = {}
                adapter["extra"] = extra
        except KeyError:
            return  # an item type without ``extra``: the stats still say it
        extra["incremental"] = dict(status)
