"""Crawl logic shared by every portal spider; what differs between portals is a profile.

``PortalSpider`` reads a ``portal_archive.profiles.Profile`` and turns it into requests: it stays
on the portal's own origin (scheme, host and port: Scrapy's offsite filter ignores ports),
canonicalises every URL, follows list pages and pagination, reads sitemaps and RSS/Atom feeds,
and hands article pages to ``portal_archive.extraction``. Around extraction it adds what only a
crawler knows: the fetch time (to resolve "7月前"), the CUID ingest time in aggregator URLs, the
Nuxt payload of SSR sites, the profile's source aliases, and a browser rendering for pages whose
body only appears after script runs.

Stats: ``spider/articles``, ``spider/list_pages``, ``spider/feeds``, ``spider/sitemaps``,
``spider/empty_body``, ``spider/render/requested|rendered|empty|failed``, ``spider/not_text``,
``urls/canonicalized``, ``dates/<method>`` (``embedded``, ``absolute``, ``hint``,
``window_start``, ``ingest_id``, ``extracted``, ``unresolved``, ``missing``), ``sources/resolved``,
``sources/unknown``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy_playwright.page import PageMethod

from portal_archive.dates import ResolvedDate, cuid_timestamp, from_epoch_millis, resolve_date, to_utc_iso
from portal_archive.extraction import Article, extract_article
from portal_archive.items import ArticleItem
from portal_archive.nuxt import ArticleState, read_article_state
from portal_archive.politeness import apply_crawl_pace
from portal_archive.profiles import Profile, SourceDirectory, load_profile
from portal_archive.urls import canonicalize_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media"})
"""What the browser never downloads when rendering: the text is all extraction needs."""


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
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"DATES_NOW must be an ISO 8601 instant, got {value!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PortalSpider(scrapy.Spider):
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
        self.reference_time: datetime | None = None
        self.loopback = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are still open here: the profile's pace becomes DOWNLOAD_DELAY unless -s says otherwise.
        delay = apply_crawl_pace(crawler.settings, spider.profile.delay, spider.base_url)
        spider.loopback = delay == 0.0 and spider.profile.delay > 0
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
        return canonicalize_url(url, self.profile.drop_params)

    @staticmethod
    def _path_and_query(url: str) -> str:
        target = urlsplit(url)
        return target.path + ("?" + target.query if target.query else "")

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article page of this portal."""
        path = urlsplit(url).path
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

    def route(self, url: str, *, pagination: bool = False) -> scrapy.Request | None:
        """A request for ``url`` with the right callback, or ``None`` when it is out of scope."""
        if not url:
            return None
        canonical = self.canonical(url)
        if canonical != url.split("#", 1)[0]:
            self.count("urls/canonicalized")
        if not self.wants(canonical):
            return None
        if self.is_article(canonical):
            return scrapy.Request(canonical, callback=self.parse_article)
        if pagination or self.is_followable(canonical):
            return scrapy.Request(canonical, callback=self.parse)
        return None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.loopback:
            logger.info("Loopback base_url %(url)s: crawling without delay", {"url": self.base_url})
            self.count("politeness/loopback")
        for path in self.profile.start_paths:
            yield scrapy.Request(self.base_url + path, callback=self.parse)
        for path in self.profile.sitemaps:
            yield scrapy.Request(self.base_url + path, callback=self.parse_sitemap)
        for path in self.profile.feeds:
            yield scrapy.Request(self.base_url + path, callback=self.parse_feed)

    # -- list pages ----------------------------------------------------------------------------

    def _follow_links(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
                request = self.route(response.urljoin(href))
                if request is not None:
                    yield request

    def _follow_pagination(self, response: TextResponse) -> Iterator[scrapy.Request]:
        for selector in self.profile.links.pagination:
            for href in response.css(selector).xpath("descendant-or-self::a/@href").getall():
                request = self.route(response.urljoin(href.strip()), pagination=True)
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
            self.count("spider/not_text")
            return
        self.count("spider/list_pages")
        yield from self._follow_pagination(response)
        yield from self._follow_links(response)

    # -- article pages -------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """Article pages: an item, or a browser rendering when the body needs script; then related links."""
        if not isinstance(response, TextResponse):
            self.count("spider/not_text")
            logger.info("Article URL is not a text page: %(url)s", {"url": response.url})
            return
        item = self.build_item(response)
        if not item.body_text and self.profile.js and not response.meta.get("playwright"):
            self.count("spider/render/requested")
            logger.info("Body missing from the HTML of %(url)s: rendering it", {"url": response.url})
            yield self.render_request(response, item)
        else:
            yield self.emit(item)
        if self.profile.links.from_articles:
            yield from self._follow_links(response)

    def render_request(self, response: TextResponse, unrendered: ArticleItem) -> scrapy.Request:
        """The same page again, through a browser that waits for the body to appear."""
        return scrapy.Request(
            response.url,
            callback=self.parse_rendered,
            errback=self.render_failed,
            dont_filter=True,
            meta={
                "playwright": True,
                "playwright_page_methods": [PageMethod("wait_for_selector", self.profile.js_wait_for)],
                "warc_refers_to": response.meta.get("warc_record_id"),
                "unrendered_item": unrendered,
            },
        )

    def parse_rendered(self, response: Response) -> Iterator[ArticleItem]:
        """A page as the browser rendered it: the article with its script-filled body."""
        if not isinstance(response, TextResponse):
            self.count("spider/not_text")
            return
        item = self.build_item(response)
        item.rendered = True
        item.warc_record_id = item.warc_record_id or str(response.meta.get("warc_refers_to") or "")
        if item.body_text:
            self.count("spider/render/rendered")
        else:
            self.count("spider/render/empty")
            logger.info("Rendered page still has no body: %(url)s", {"url": response.url})
        yield self.emit(item)

    def render_failed(self, failure: Failure) -> Iterator[ArticleItem]:
        """The browser failed: keep the article's metadata from the plain HTML."""
        self.count("spider/render/failed")
        request = getattr(failure, "request", None)
        logger.warning(
            "Rendering %(url)s failed: %(error)s",
            {"url": getattr(request, "url", "?"), "error": failure.getErrorMessage()},
        )
        unrendered = request.meta.get("unrendered_item") if request is not None else None
        if isinstance(unrendered, ArticleItem):
            yield self.emit(unrendered)

    def emit(self, item: ArticleItem) -> ArticleItem:
        """Count an item on its way out."""
        self.count("spider/articles")
        if not item.body_text:
            self.count("spider/empty_body")
            logger.info("No body extracted from %(url)s", {"url": item.url})
        return item

    def ingest_time(self, url: str) -> datetime | None:
        """When the page entered the portal, from a CUID in its URL (``ingest_id`` in the profile)."""
        pattern = self.profile.ingest_id
        match = pattern.search(urlsplit(url).path) if pattern is not None else None
        return cuid_timestamp(match.group(1)) if match else None

    def publication(
        self, article: Article, state: ArticleState | None, url: str, fetched: datetime
    ) -> tuple[str | None, str]:
        """``(published_at, published_text)``: embedded state, then the shown date (with the CUID hint)."""
        text = article.published_text
        embedded = from_epoch_millis(state.publish_time) if state is not None else None
        if embedded is not None:
            self.count("dates/embedded")
            return to_utc_iso(embedded), text
        ingest = self.ingest_time(url)
        resolved: ResolvedDate | None = resolve_date(text, self.reference_time or fetched, ingest) if text else None
        if resolved is not None:
            self.count(f"dates/{resolved.method}")
            return to_utc_iso(resolved.moment), text
        if article.published_at:
            self.count("dates/extracted")
            return article.published_at, text
        if ingest is not None and not text:
            self.count("dates/ingest_id")
            return to_utc_iso(ingest), text
        if not text:
            self.count("dates/missing")
            return None, text
        self.count("dates/unresolved")
        logger.info("Unresolved date %(text)r on %(url)s", {"text": text, "url": url})
        return None, text

    def build_item(self, response: TextResponse) -> ArticleItem:
        """Extract an ``ArticleItem`` from an article page, citing its WARC record."""
        fetched = datetime.now(UTC)
        article = extract_article(
            response.body,
            url=response.url,
            content_type=response.headers.get(b"Content-Type"),
            selectors=self.profile.selectors,
        )
        state = read_article_state(response.text) if self.profile.embedded_state == "nuxt" else None
        published_at, published_text = self.publication(article, state, response.url, fetched)
        source = article.source or self.profile.source_name
        source_domain = self.sources.resolve(source)
        if source:
            self.count("sources/resolved" if source_domain else "sources/unknown")
        meta = response.meta
        return ArticleItem(
            url=response.url,
            site=self.profile.name,
            site_domain=self.profile.domain,
            canonical_url=self.canonical(article.canonical_url) if article.canonical_url else response.url,
            title=(state.title if state is not None and state.title else article.title),
            byline=article.byline,
            authors=list(state.authors if state is not None and state.authors else article.authors),
            published_at=published_at,
            published_text=published_text,
            source=source,
            source_domain=source_domain,
            references=list(article.references),
            tags=list(state.tags) if state is not None else [],
            body_text=article.body_text,
            body_html=article.body_html,
            boilerplate=list(article.boilerplate),
            language=self.profile.language,
            fetched_at=to_utc_iso(fetched),
            warc_record_id=str(meta.get("warc_record_id") or ""),
            warc_filename=str(meta.get("warc_filename") or ""),
            warc_offset=meta.get("warc_offset"),
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
                    yield scrapy.Request(url, callback=self.parse_sitemap)
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
