"""Crawl logic shared by every portal spider; the spiders themselves hold only data.

A portal spider names its start paths, sitemaps, feeds, article URL patterns and selectors. This
base class turns them into requests: it stays on the portal's own origin (scheme, host and port:
Scrapy's offsite filter ignores ports), follows list pages and pagination, reads sitemaps and RSS
feeds, and hands article pages to ``portal_archive.extraction``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse

from portal_archive.extraction import ArticleSelectors, extract_article
from portal_archive.items import ArticleItem

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower-cased: the unit a portal spider stays within."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class PortalSpider(scrapy.Spider):
    """Base for portal spiders: subclasses set the class attributes below and nothing else."""

    default_base_url: ClassVar[str] = ""
    start_paths: ClassVar[tuple[str, ...]] = ("/",)
    sitemap_paths: ClassVar[tuple[str, ...]] = ()
    feed_paths: ClassVar[tuple[str, ...]] = ()
    article_patterns: ClassVar[tuple[str, ...]] = ()
    deny_patterns: ClassVar[tuple[str, ...]] = ()
    selectors: ClassVar[ArticleSelectors] = ArticleSelectors()

    def __init__(self, base_url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = (base_url or self.default_base_url).rstrip("/")
        if not chosen or urlsplit(chosen).scheme not in ("http", "https") or not urlsplit(chosen).hostname:
            raise ValueError(f"{self.name}: base_url must be an absolute http(s) URL, got {chosen!r}")
        self.base_url = chosen
        self.origin = origin_of(chosen)
        self.allowed_domains = [urlsplit(chosen).hostname or ""]
        self._article_res = [re.compile(p) for p in self.article_patterns]
        self._deny_res = [re.compile(p) for p in self.deny_patterns]

    # -- routing -------------------------------------------------------------------------------

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article page of this portal."""
        path = urlsplit(url).path
        return any(r.search(path) for r in self._article_res)

    def wants(self, url: str) -> bool:
        """Same origin, http(s), not denied."""
        if origin_of(url) != self.origin:
            return False
        target = urlsplit(url)
        path_and_query = target.path + ("?" + target.query if target.query else "")
        return not any(r.search(path_and_query) for r in self._deny_res)

    def route(self, url: str, referer: Response | None = None) -> scrapy.Request | None:
        """A request for ``url`` with the right callback, or ``None`` when it is out of scope."""
        url = url.split("#", 1)[0]
        if not url or not self.wants(url):
            return None
        callback = self.parse_article if self.is_article(url) else self.parse
        return scrapy.Request(url, callback=callback)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for path in self.start_paths:
            yield scrapy.Request(self.base_url + path, callback=self.parse)
        for path in self.sitemap_paths:
            yield scrapy.Request(self.base_url + path, callback=self.parse_sitemap)
        for path in self.feed_paths:
            yield scrapy.Request(self.base_url + path, callback=self.parse_feed)

    # -- callbacks -----------------------------------------------------------------------------

    def _follow_links(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:")):
                request = self.route(response.urljoin(href), response)
                if request is not None:
                    yield request

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """List and other pages: follow every in-scope link."""
        yield from self._follow_links(response)

    def parse_article(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """Article pages: extract the article, then keep following links (related stories)."""
        if isinstance(response, TextResponse):
            yield self.build_item(response)
        yield from self._follow_links(response)

    def build_item(self, response: TextResponse) -> ArticleItem:
        """Extract an ``ArticleItem`` from an article page, citing its WARC record."""
        article = extract_article(
            response.body,
            url=response.url,
            content_type=response.headers.get(b"Content-Type"),
            selectors=self.selectors,
        )
        meta = response.meta
        return ArticleItem(
            url=response.url,
            site=self.name,
            canonical_url=article.canonical_url or response.url,
            title=article.title,
            byline=article.byline,
            authors=list(article.authors),
            published_text=article.published_text,
            published_at=article.published_at,
            source=article.source,
            references=list(article.references),
            body_text=article.body_text,
            body_html=article.body_html,
            boilerplate=list(article.boilerplate),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            warc_record_id=str(meta.get("warc_record_id", "")),
            warc_filename=str(meta.get("warc_filename", "")),
            warc_offset=meta.get("warc_offset"),
        )

    def _xml_locations(self, response: Response, tag: str) -> Iterable[str]:
        try:
            root = etree.fromstring(response.body, parser=_XML_PARSER)
        except etree.XMLSyntaxError:
            self.logger.info("Not XML: %s", response.url)
            return []
        if root is None:
            return []
        return [
            (el.text or "").strip()
            for el in root.iter()
            if isinstance(el.tag, str) and etree.QName(el).localname == tag
        ]

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Sitemap indexes lead to more sitemaps; url sets lead to pages."""
        try:
            root_name = etree.QName(etree.fromstring(response.body, parser=_XML_PARSER)).localname
        except (etree.XMLSyntaxError, ValueError):
            self.logger.info("Not a sitemap: %s", response.url)
            return
        for loc in self._xml_locations(response, "loc"):
            url = urljoin(response.url, loc)
            if root_name == "sitemapindex":
                if self.wants(url):
                    yield scrapy.Request(url, callback=self.parse_sitemap)
            else:
                request = self.route(url)
                if request is not None:
                    yield request

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS ``<item><link>`` and Atom ``<link href>`` entries."""
        for link in self._xml_locations(response, "link"):
            if link:
                request = self.route(urljoin(response.url, link))
                if request is not None:
                    yield request
