"""Crawl logic shared by every portal spider; what differs between portals is a profile.

``PortalSpider`` reads a ``portal_archive.profiles.Profile`` and turns it into requests: it stays
on the portal's own origin (scheme, host and port: Scrapy's offsite filter ignores ports),
canonicalises every URL, follows list pages and pagination, reads sitemaps and RSS/Atom feeds,
and hands article pages to ``portal_archive.extract.article.ArticleAssembler`` (the same assembly
the report and replay run on archived pages) with what only a crawler knows: the fetch time (to
resolve "7月前"), ``DATES_NOW``, a cut body, and where the response was archived. A page whose body
only appears after script runs gets it from the portal's article API (``crawl.portal_api``, which
also reads the portal's list APIs), else from a browser; an article that cites sources waits until
they are archived (``crawl.references``).

Hostile pages never break a crawl (``docs/faults.md``): a failed request is counted and logged
once by its errback (``portal_archive.crawl.faults``); a page that is not HTML is archived but not
extracted; a page without a body still gives an item, with ``extra["empty_reason"]`` saying why;
a body cut short gives an item from what arrived, with ``extra["truncated"]``; endless pagination
and calendar pages stop at the profile's ``max_pages`` and ``max_depth``.

Stats: ``spider/articles``, ``spider/list_pages``, ``spider/feeds``, ``spider/sitemaps``,
``spider/max_pages_reached``, ``spider/max_depth_reached``,
``spider/render/requested|rendered|empty|failed``, ``extract/empty_body``,
``extract/empty_reason/<reason>``, ``extract/not_html``, ``extract/partial_body``,
``extract/charset_mismatch``, ``urls/canonicalized``, ``dates/<method>`` (``embedded``,
``absolute``, ``hint``, ``window_start``, ``ingest_id``, ``extracted``, ``unresolved``,
``impossible``, ``missing``), ``sources/resolved``, ``sources/unknown``, and the ``fetch/*`` fault
keys.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import unquote, urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy_playwright.page import PageMethod

from portal_archive.capture.extension import truncation_reason
from portal_archive.capture.meta import FILENAME_META, OFFSET_META, RECORD_ID_META, REFERS_TO_META
from portal_archive.capture.state import CrawlState
from portal_archive.config import SettingsError
from portal_archive.crawl.faults import record_failure
from portal_archive.crawl.politeness import apply_crawl_pace
from portal_archive.crawl.portal_api import ANSWERED_META, AwaitingBody, ListPage, PortalApiMixin
from portal_archive.crawl.references import Citations, CitedSourcesMixin, ReferencesConfig
from portal_archive.crawl.render import RenderConfig
from portal_archive.extract import ParsedPage, is_html, parse_page
from portal_archive.extract.article import ArticleAssembler, FetchedPage
from portal_archive.items import ArticleItem
from portal_archive.profiles import Profile, SourceDirectory, load_profile
from portal_archive.timestamps import parse_iso, utc_now
from portal_archive.urls import canonicalize_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media"})
"""What the browser never downloads when rendering: the text is all extraction needs."""
LIST_DEPTH_META = "list_depth"
"""Link hops from a start page (pagination hops not counted), bounded by ``links.max_depth``."""
LIST_PAGE_META = "list_page"
"""Position in a pagination chain (1 for a list reached by a plain link), bounded by ``links.max_pages``."""
_RECENT_URLS = 4096
"""URLs remembered as requested (and canonical forms as computed): menus and related links repeat
on every page, so a bounded memory of recent ones catches almost every repeat at a constant cost."""


PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
PLAIN_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"


def use_plain_handlers(settings: BaseSettings) -> bool:
    """For a portal that never renders: fetch through Scrapy's own HTTP handler, not scrapy-playwright's.

    scrapy-playwright's handler passes plain requests on to Scrapy's, but starts Playwright's driver
    (a Node.js process) with the crawl and adds a step to every download: 0.5 CPU-s and 20 MB per
    crawl (bench/crawl.py). Set at ``spider`` priority, so ``-s DOWNLOAD_HANDLERS=…`` still wins.
    Returns whether a handler was replaced.
    """
    if settings.frozen:
        return False
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    plain = {scheme: PLAIN_HANDLER if path == PLAYWRIGHT_HANDLER else path for scheme, path in handlers.items()}
    if plain == handlers:
        return False
    settings.set("DOWNLOAD_HANDLERS", plain, priority="spider")
    return settings.getdict("DOWNLOAD_HANDLERS") == plain


def should_abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: skip images, fonts and media while rendering."""
    return getattr(request, "resource_type", "") in ABORTED_RESOURCE_TYPES


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower-cased: the unit a portal spider stays within."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def parse_reference_time(value: object) -> datetime | None:
    """``DATES_NOW``: an ISO 8601 instant that replaces the fetch time when resolving "N天前"."""
    if not value:
        return None
    moment = parse_iso(str(value))
    if moment is None:
        raise SettingsError(f"DATES_NOW must be an ISO 8601 instant, got {value!r}")
    return moment


def spider_argument_problem(spidercls: type, arguments: Mapping[str, Any]) -> str | None:
    """Why a portal spider cannot start with these ``-a`` arguments, in one line (None: it can)."""
    if not issubclass(spidercls, PortalSpider):
        return None
    try:
        spidercls(**arguments)
    except (ValueError, TypeError) as exc:  # a bad base_url, a profile that cannot be read (ProfileError)
        return str(exc)
    return None


class PortalSpider(PortalApiMixin, CitedSourcesMixin, scrapy.Spider):
    """Crawls one portal as its profile describes; subclasses only name a bundled profile."""

    profile_name: ClassVar[str] = ""
    """The bundled profile a dedicated spider uses when no ``-a profile=`` is given."""

    def __init__(self, *args: Any, profile: str | None = None, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile: Profile = load_profile(profile or self.profile_name)
        chosen = (base_url or self.profile.base_url).rstrip("/")
        parts = urlsplit(chosen)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{self.name}: base_url must be an absolute http(s) URL, got {chosen!r}")
        # The ASCII form (an IDN host in punycode) is what requests, the offsite filter and the
        # archive see, whichever form the user typed.
        self.base_url = canonicalize_url(chosen).rstrip("/")
        self.origin = origin_of(self.base_url)
        self.allowed_domains = [urlsplit(self.base_url).hostname or parts.hostname]
        self.sources = SourceDirectory.for_profile(self.profile)
        self.assembler = ArticleAssembler(self.profile, sources=self.sources, count=self.count)
        self.reference_time: datetime | None = None
        self.render = RenderConfig()
        self.references = ReferencesConfig(enabled=False)
        self.citations = Citations(self.references.max_per_article)
        self._state: CrawlState | None = None
        self._state_tried = False
        self._body_pending: set[str] = set()
        self.loopback = False
        self._limits_logged: set[str] = set()
        self._requested: dict[str, None] = {}
        self._canonical_forms: dict[str, str] = {}
        self._callbacks: dict[Any, Any] = {}
        self._requested_lists: set[tuple[str, bytes]] = set()
        self._topics: set[int | str] = set()
        self._listed: dict[tuple[str, int | str | None], set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are still open here: the profile's pace becomes DOWNLOAD_DELAY unless -s says otherwise.
        delay = apply_crawl_pace(crawler.settings, spider.profile.delay, spider.base_url)
        spider.loopback = delay == 0.0 and spider.profile.delay > 0
        spider.render = RenderConfig.from_settings(crawler.settings)
        spider.references = ReferencesConfig.from_settings(crawler.settings)
        if spider.references.enabled and spider.references.distributed:
            logger.info("Cited sources are not fetched in a distributed crawl (REFERENCES_ENABLED has no effect)")
        spider.citations = Citations(spider.references.max_per_article)
        if not spider.profile.js or not spider.render.enabled:
            use_plain_handlers(crawler.settings)
        spider.reference_time = parse_reference_time(crawler.settings.get("DATES_NOW"))
        return spider

    # -- bookkeeping ---------------------------------------------------------------------------

    def count(self, key: str, amount: int = 1) -> None:
        """Increment a stat (a no-op before the crawl starts, or for a spider built without a crawler)."""
        crawler = getattr(self, "crawler", None)
        try:
            stats = crawler.stats if crawler is not None else None
        except RuntimeError:  # Crawler.stats before the crawl starts
            stats = None
        if stats is not None:
            stats.inc_value(key, amount)

    # -- routing -------------------------------------------------------------------------------

    def canonical(self, url: str) -> str:
        """The one URL of a page: tracking parameters and fragment dropped (``portal_archive.urls``)."""
        canonical = self._canonical_forms.get(url)
        if canonical is None:
            canonical = canonicalize_url(url, self.profile.drop_params)
            if len(self._canonical_forms) >= _RECENT_URLS:
                self._canonical_forms.clear()
            self._canonical_forms[url] = canonical
        return canonical

    @staticmethod
    def _path_and_query(url: str) -> str:
        """Path and query with escapes decoded, so profile rules can say ``/新闻/`` for ``/%E6%96%B0%E9%97%BB/``."""
        target = urlsplit(url)
        return unquote(target.path) + ("?" + unquote(target.query) if target.query else "")

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article page of this portal (rules see the decoded path)."""
        path = unquote(urlsplit(url).path)
        return any(pattern.search(path) for pattern in self.profile.links.article)

    def wants(self, url: str) -> bool:
        """Same origin, http(s), not denied."""
        if origin_of(url) != self.origin:
            return False
        path_and_query = self._path_and_query(url)
        return not any(pattern.search(path_and_query) for pattern in self.profile.links.deny)

    def is_followable(self, url: str) -> bool:
        """A non-article page worth crawling for links (``links.follow``; empty means all)."""
        rules = self.profile.links.follow
        return not rules or any(pattern.search(self._path_and_query(url)) for pattern in rules)

    def request(self, url: str, callback: Any, *, depth: int = 0, page: int = 1, errback: Any = None) -> scrapy.Request:
        """A request whose failure is accounted for (``fetch_failed`` unless said) and that knows its
        place in the crawl."""
        self._requested[url] = None
        if len(self._requested) > _RECENT_URLS:
            del self._requested[next(iter(self._requested))]
        return scrapy.Request(
            url,
            callback=self._stable(callback),
            errback=self._stable(errback or self.fetch_failed),
            meta={LIST_DEPTH_META: depth, LIST_PAGE_META: page},
        )

    def _stable(self, method: Any) -> Any:
        """One bound-method object per callback for the whole crawl.

        Scrapy reads every callback's source (``WARN_ON_GENERATOR_RETURN_VALUE``) and caches the
        verdict per callable, weakly: a bound method made per request dies with its request, so the
        source was parsed again for almost every response (6 % of a crawl's CPU).
        """
        return self._callbacks.setdefault(method, method)

    def _over_limit(self, stat: str, url: str, limit_name: str, limit: int) -> None:
        """Count a link not followed because of a limit; say so once per limit."""
        self.count(stat)
        if limit_name not in self._limits_logged:
            self._limits_logged.add(limit_name)
            logger.info(
                "Not following %(url)s: beyond the profile's %(limit_name)s = %(limit)d "
                "(a pagination or calendar trap?); further cases are only counted in %(stat)s",
                {"url": url, "limit_name": limit_name, "limit": limit, "stat": stat},
            )

    def route(self, url: str, *, pagination: bool = False, source: Response | None = None) -> scrapy.Request | None:
        """A request for ``url`` with the right callback, or ``None`` when it is out of scope.

        ``source`` is the page the link was found on: list pages are followed only within the
        profile's ``max_depth`` link hops and ``max_pages`` pagination steps from a start page.
        """
        if not url:
            return None
        canonical = self.canonical(url)
        if canonical != url.split("#", 1)[0]:
            self.count("urls/canonicalized")
        if canonical in self._requested:
            # Requested already: Scrapy's duplicate filter would drop it, but only after every spider
            # middleware and the scheduler had handled it.
            return None
        if not self.wants(canonical):
            return None
        meta = source.meta if source is not None else {}
        depth = int(meta.get(LIST_DEPTH_META, 0))
        page = int(meta.get(LIST_PAGE_META, 1))
        links = self.profile.links
        if self.is_article(canonical):
            return self.request(canonical, self.parse_article, depth=depth + 1, errback=self.article_failed)
        if pagination:
            if links.max_pages and page + 1 > links.max_pages:
                self._over_limit("spider/max_pages_reached", canonical, "links.max_pages", links.max_pages)
                return None
            return self.request(canonical, self.parse, depth=depth, page=page + 1)
        if self.is_followable(canonical):
            if links.max_depth and depth + 1 > links.max_depth:
                self._over_limit("spider/max_depth_reached", canonical, "links.max_depth", links.max_depth)
                return None
            return self.request(canonical, self.parse, depth=depth + 1)
        return None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.count("spider/articles", 0)  # present from the start: a run that found none says so
        if self.loopback:
            logger.info("Loopback base_url %(url)s: crawling without delay", {"url": self.base_url})
            self.count("politeness/loopback")
        for path in self.profile.start_paths:
            yield self.request(self.base_url + path, self.parse)
        for path in self.profile.sitemaps:
            yield self.request(self.base_url + path, self.parse_sitemap)
        for path in self.profile.feeds:
            yield self.request(self.base_url + path, self.parse_feed)
        apis = self.profile.list_apis
        for api in apis.lists if apis is not None else ():
            if not api.per_topic:
                yield self.list_request(ListPage(api.path, api.request_body()))

    def fetch_failed(self, failure: Failure) -> None:
        """Errback of every request: one counted log line per failure, never a traceback for the expected."""
        crawler = getattr(self, "crawler", None)
        record_failure(failure, crawler.stats if crawler is not None else None)

    # -- list pages ----------------------------------------------------------------------------

    def _follow_links(
        self, response: Response, skip: frozenset[str] = frozenset(), hrefs: list[str] | None = None
    ) -> Iterator[scrapy.Request]:
        """Every in-scope link; ``skip`` holds canonical URLs already taken as pagination.

        ``hrefs`` are the page's ``<a href>`` values when the caller has parsed it already.
        """
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall() if hrefs is None else hrefs:
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
                url = response.urljoin(href)
                if skip and self.canonical(url) in skip:
                    continue
                request = self.route(url, source=response)
                if request is not None:
                    yield request

    def _pagination_urls(self, response: TextResponse) -> list[str]:
        """Next-page links, per the profile's ``links.pagination`` selectors."""
        return [
            response.urljoin(href.strip())
            for selector in self.profile.links.pagination
            for href in response.css(selector).xpath("descendant-or-self::a/@href").getall()
        ]

    def _follow_pagination(self, response: TextResponse, urls: list[str]) -> Iterator[scrapy.Request]:
        for url in urls:
            request = self.route(url, pagination=True, source=response)
            if request is not None:
                yield request

    def parse(self, response: Response, **kwargs: Any) -> Iterator[ArticleItem | scrapy.Request]:
        """Home and list pages: follow pagination and every in-scope link.

        A link may redirect to an article, a feed or a sitemap; the final URL decides.
        """
        path = urlsplit(response.url).path
        if self.is_article(response.url):
            yield from self.parse_article(response)
            return
        if path in self.profile.feeds:
            yield from self.parse_feed(response)
            return
        if path in self.profile.sitemaps:
            yield from self.parse_sitemap(response)
            return
        if not isinstance(response, TextResponse):
            self.count("extract/not_html")
            return
        self.count("spider/list_pages")
        # A next-page link is pagination only: also taking it as a plain link would reset its
        # page count and let an endless list outrun links.max_pages.
        pages = self._pagination_urls(response)
        yield from self._follow_pagination(response, pages)
        yield from self._follow_links(response, skip=frozenset(self.canonical(url) for url in pages))

    # -- article pages -------------------------------------------------------------------------

    def is_html_response(self, response: Response) -> bool:
        """HTML by its ``Content-Type``; without one, by Scrapy's sniffing of the body."""
        declared = response.headers.get(b"Content-Type")
        if declared and declared.split(b";", 1)[0].strip():
            return is_html(declared)
        return isinstance(response, HtmlResponse)

    def parse_article(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """Article pages: an item, or a browser rendering when the body needs script; then related links."""
        if not isinstance(response, TextResponse) or not self.is_html_response(response):
            self.count("extract/not_html")
            logger.info(
                "Not extracted, archived only: %(url)s is %(type)s, not HTML",
                {"url": response.url, "type": (response.headers.get(b"Content-Type") or b"untyped").decode("latin-1")},
            )
            return
        # Parsed once: the links are read before extraction cleans the tree in place. On the
        # reactor thread: a worker thread for parsing and extraction was measured in bench/crawl.py
        # at +40 % CPU and +30 % wall time (GIL hand-offs with the reactor on every response), and
        # no faster with 50 ms of latency, where per-domain concurrency sets the pace.
        page = parse_page(response.body, content_type=response.headers.get(b"Content-Type"))
        hrefs = page.hrefs() if page.root is not None else None
        fetched = self.fetched_page(response)
        item = self.assembler.assemble(fetched, page)
        if item.body_text or response.meta.get("playwright"):
            yield from self.emit(item)
        else:
            yield from self.body_elsewhere(AwaitingBody(fetched, item), response.meta.get(ANSWERED_META))
        if self.profile.links.from_articles:
            yield from self._follow_links(response, hrefs=hrefs)

    # -- bodies the HTML lacks: the article API, then a browser --------------------------------

    def render_or_give_up(self, awaiting: AwaitingBody) -> Iterator[ArticleItem | scrapy.Request]:
        """The last resort for a body: a browser, when the profile and ``RENDER_ENABLED`` allow one."""
        item = awaiting.unfilled
        if self.profile.js and self.render.enabled:
            self.count("spider/render/requested")
            logger.info("Body missing from the HTML of %(url)s: rendering it", {"url": awaiting.page.url})
            self._body_pending.add(awaiting.page.url)
            yield self.render_request(awaiting.page, item)
            return
        if self.profile.js:
            self.count("spider/render/disabled")
            item.extra["empty_reason"] = "body rendered by script, and RENDER_ENABLED is False"
        yield from self.emit(item)

    def render_request(self, page: FetchedPage, unrendered: ArticleItem) -> scrapy.Request:
        """The same page again, through a browser that waits for the body to appear."""
        return scrapy.Request(
            page.url,
            callback=self.parse_rendered,
            errback=self.render_failed,
            dont_filter=True,
            meta={
                "playwright": True,
                "playwright_page_methods": [PageMethod("wait_for_selector", self.profile.js_wait_for)],
                REFERS_TO_META: page.warc_record_id or None,
                "unrendered_item": unrendered,
            },
        )

    def parse_rendered(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """A page as the browser rendered it: the article with its script-filled body."""
        if not isinstance(response, TextResponse):
            self.count("extract/not_html")
            return
        item = self.build_item(response)
        item.rendered = True
        item.warc_record_id = item.warc_record_id or str(response.meta.get(REFERS_TO_META) or "")
        if item.body_text:
            self.count("spider/render/rendered")
        else:
            self.count("spider/render/empty")
            logger.info("Rendered page still has no body: %(url)s", {"url": response.url})
        yield from self.emit(item)

    def render_failed(self, failure: Failure) -> Iterator[ArticleItem | scrapy.Request]:
        """The browser failed: keep the article's metadata from the plain HTML."""
        self.count("spider/render/failed")
        request = getattr(failure, "request", None)
        logger.warning(
            "Rendering %(url)s failed: %(error)s",
            {"url": getattr(request, "url", "?"), "error": failure.getErrorMessage()},
        )
        unrendered = request.meta.get("unrendered_item") if request is not None else None
        if isinstance(unrendered, ArticleItem):
            yield from self.emit(unrendered)

    def emit(self, item: ArticleItem) -> Iterator[ArticleItem | scrapy.Request]:
        """Count an item on its way out; one without a body still goes, saying why it has none. An item
        that cites sources waits for them to be archived (``crawl.references``)."""
        self._body_pending.discard(item.url)
        self.count("spider/articles")
        if not item.body_text:
            reason = str(item.extra.setdefault("empty_reason", "no body found"))
            self.count("extract/empty_body")
            self.count("extract/empty_reason/" + reason.replace(" ", "_"))
            logger.info("No body extracted from %(url)s: %(reason)s", {"url": item.url, "reason": reason})
        if self.references.active:
            yield from self.cite_sources(item)
        else:
            yield item

    def build_item(self, response: TextResponse, page: ParsedPage | None = None) -> ArticleItem:
        """Extract an ``ArticleItem`` from an article page, citing its WARC record.

        ``page`` is the page's bytes already parsed (``parse_page``); it is cleaned in place.
        """
        return self.assembler.assemble(self.fetched_page(response), page)

    def fetched_page(self, response: Response) -> FetchedPage:
        """What the crawl knows of a fetched page: its bytes, when, whether cut, where archived."""
        meta = response.meta
        return FetchedPage(
            url=response.url,
            body=response.body,
            content_type=response.headers.get(b"Content-Type"),
            fetched_at=utc_now(),
            reference_time=self.reference_time,
            truncated=truncation_reason(response.request, response) if response.request is not None else None,
            warc_record_id=str(meta.get(RECORD_ID_META) or ""),
            warc_filename=str(meta.get(FILENAME_META) or ""),
            warc_offset=meta.get(OFFSET_META),
        )

    # -- sitemaps and feeds --------------------------------------------------------------------

    def _xml_root(self, response: Response) -> etree._Element | None:
        try:
            root = etree.fromstring(response.body, parser=_XML_PARSER)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            logger.info("Not XML: %(url)s", {"url": response.url})
        return root

    @staticmethod
    def _elements(root: etree._Element, localname: str) -> Iterator[etree._Element]:
        for el in root.iter():
            if isinstance(el.tag, str) and etree.QName(el).localname == localname:
                yield el

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Sitemap indexes lead to more sitemaps; url sets lead to pages."""
        root = self._xml_root(response)
        if root is None:
            return
        self.count("spider/sitemaps")
        is_index = etree.QName(root).localname == "sitemapindex"
        for loc in self._elements(root, "loc"):
            url = self.canonical(urljoin(response.url, (loc.text or "").strip()))
            if is_index:
                if self.wants(url):
                    yield self.request(url, self.parse_sitemap)
            else:
                request = self.route(url)
                if request is not None:
                    yield request

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS ``<item><link>`` text and Atom ``<entry><link href>``."""
        root = self._xml_root(response)
        if root is None:
            return
        self.count("spider/feeds")
        for link in self._elements(root, "link"):
            target = (link.text or "").strip() or (link.get("href") or "").strip()
            if target:
                request = self.route(urljoin(response.url, target))
                if request is not None:
                    yield request
