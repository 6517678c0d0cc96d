"""Archived pages and article metadata records, turned into the engine's documents as a crawl makes them.

A page on a bundled portal (matched by its domain, or on any host by the shape of the portal's
article URLs: a mirror, a local copy, the demo portal) is extracted by the portal spider's own
``build_item``, so selectors, embedded publish times, CUID ingest hints and source aliases agree
with the crawl; its non-article pages are not articles. Any other page goes through the generic
extractor. A metadata record (``portal-archive/article-metadata/1``) already holds what the crawl
extracted: it is used as is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.http import HtmlResponse, Request

from pipelines.dedup import document_from_item
from portal_archive.crawl.spider import PortalSpider
from portal_archive.dedup import Document
from portal_archive.extract import extract_article
from portal_archive.extract.dates import resolve_date, to_utc_iso
from portal_archive.profiles import Profile, SourceDirectory, load_bundled_profiles
from portal_archive.urls import hostname_of, site_domain

__all__ = ["HTML_TYPES", "Location", "PageReader", "fetched_iso", "is_html", "parse_warc_date"]

logger = logging.getLogger(__name__)

HTML_TYPES: Final = ("text/html", "application/xhtml+xml")
_SNIFF: Final = (b"<!doctype html", b"<html")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a page's response record is: shown in the report, and kept in the index metadata."""

    filename: str
    offset: int | None
    record_id: str = ""


def is_html(content_type: str, head: bytes = b"") -> bool:
    """An HTML media type, or (no type given) bytes that open like an HTML document."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media:
        return media in HTML_TYPES
    return head.lstrip()[:64].lower().startswith(_SNIFF)


def parse_warc_date(value: str) -> datetime | None:
    """``WARC-Date`` (``2024-04-01T02:30:00Z``, fractions allowed) as an aware UTC datetime."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _ArchiveSpider(PortalSpider):
    """A portal spider used only for its extraction (``build_item``), outside any crawl."""

    name = "dedup-report"


class PageReader:
    """Extracts article documents from archived pages and metadata records.

    Args:
        profiles: The portals known by name, domain and article URL shape; the bundled ones by
            default.
    """

    def __init__(self, profiles: Sequence[Profile] | None = None) -> None:
        self.profiles = list(profiles if profiles is not None else load_bundled_profiles())
        merged: dict[str, str] = {}
        for profile in self.profiles:
            for alias, domain in profile.aliases.items():
                merged.setdefault(alias, domain)
        self._sources = SourceDirectory(merged)
        self._domains = {profile.name: profile.domain for profile in self.profiles}
        self._spiders: dict[tuple[str, str], _ArchiveSpider] = {}

    # -- which portal ----------------------------------------------------------------------------

    def portal_of(self, url: str) -> tuple[Profile | None, bool]:
        """The portal a page belongs to and whether it is one of its article pages.

        A host on a portal's domain is that portal's; any other host is a portal's mirror when the
        path has the shape of exactly one portal's article URLs. ``(None, True)``: an unknown site,
        every page a possible article.
        """
        host = hostname_of(url)
        try:
            path = urlsplit(url).path
        except ValueError:
            return None, False
        for profile in self.profiles:
            domain = profile.domain
            if host == domain or host.endswith("." + domain):
                return profile, any(pattern.search(path) for pattern in profile.links.article)
        shaped = [p for p in self.profiles if any(pattern.search(path) for pattern in p.links.article)]
        if len(shaped) == 1:
            return shaped[0], True
        return None, True

    def site_domain_of(self, site: str) -> str:
        """The domain a portal key (``bendi``) publishes on, ``""`` for a key no profile has."""
        return self._domains.get(site, "")

    # -- pages -----------------------------------------------------------------------------------

    def read_page(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location
    ) -> Document | None:
        """The article document of one archived HTML page, or None when it is no article page.

        Bodies may be empty (``min_chars`` decides later); a portal's non-article pages give None.
        """
        profile, article_page = self.portal_of(url)
        if not article_page:
            return None
        if profile is not None:
            return self._portal_page(profile, url, body, content_type, fetched, location)
        return self._generic_page(url, body, content_type, fetched, location)

    def _spider(self, profile: Profile, url: str) -> _ArchiveSpider:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        key = (profile.name, origin)
        spider = self._spiders.get(key)
        if spider is None:
            spider = _ArchiveSpider(profile=profile.source_file, base_url=origin)
            spider.profile = profile
            self._spiders[key] = spider
        return spider

    def _portal_page(
        self,
        profile: Profile,
        url: str,
        body: bytes,
        content_type: str,
        fetched: datetime | None,
        location: Location,
    ) -> Document | None:
        spider = self._spider(profile, url)
        # Relative dates ("7月前") are resolved against the capture time, as the crawl did at fetch time.
        spider.reference_time = fetched
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            response = HtmlResponse(url=url, body=body, headers=headers, request=Request(url))
        except (ValueError, TypeError) as exc:
            logger.info("Unusable page URL %(url)r: %(exc)s", {"url": url, "exc": exc})
            return None
        item = spider.build_item(response)
        item.warc_filename = location.filename
        item.warc_offset = location.offset
        item.warc_record_id = location.record_id
        return document_from_item(ItemAdapter(item))

    def _generic_page(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location
    ) -> Document:
        article = extract_article(body, url=url, content_type=content_type)
        published = article.published_at
        if published is None and article.published_text and fetched is not None:
            resolved = resolve_date(article.published_text, fetched)
            published = to_utc_iso(resolved.moment) if resolved is not None else None
        host = site_domain(hostname_of(url))
        return Document(
            url=url,
            text=article.body_text,
            title=article.title,
            site=host,
            published_at=published,
            canonical_url=article.canonical_url,
            source=article.source,
            source_domain=self._sources.resolve(article.source),
            byline=article.byline,
            record_id=location.record_id,
            warc_filename=location.filename,
            warc_offset=location.offset,
        )

    # -- metadata records ------------------------------------------------------------------------

    def read_metadata(self, record: Mapping[str, Any], location: Location) -> Document:
        """The document a crawl indexed, from its article metadata record (already decoded)."""
        article = _mapping(record.get("article"))
        url = str(record.get("url") or "")
        site = str(record.get("site") or "")
        canonical = str(record.get("canonical_url") or "")
        published = article.get("published_at")
        return Document(
            url=url,
            text=str(article.get("body_text") or ""),
            title=str(article.get("title") or ""),
            site=site,
            site_domain=self.site_domain_of(site),
            published_at=published if isinstance(published, str) and published else None,
            canonical_url=canonical if canonical != url else "",
            source=str(article.get("source") or ""),
            source_domain=str(article.get("source_domain") or ""),
            byline=str(article.get("byline") or ""),
            record_id=location.record_id,
            warc_filename=location.filename,
            warc_offset=location.offset,
        )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def fetched_iso(moment: datetime | None) -> str | None:
    """A capture time as items carry it (ISO 8601 UTC, whole seconds)."""
    return to_utc_iso(moment) if moment is not None else None
