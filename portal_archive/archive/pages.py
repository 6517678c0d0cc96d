"""Archived article pages and their metadata records, as article items and the engine's documents.

One rule for every reader of an archive (the report, replay's page list): an article's metadata
record (``portal-archive/article-metadata/1``), when the crawl wrote one, holds what the crawl
extracted and is used as is; any other page is assembled again by ``extract.article``, the code the
crawl runs. A page on a bundled portal (matched by its domain, or on any host by the shape of the
portal's article URLs: a mirror, a local copy, the demo portal) is assembled with that portal's
profile, so selectors, embedded publish times, CUID ingest hints and source aliases agree with the
crawl; its non-article pages are not articles. Any other page goes through the generic extractor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from portal_archive.archive.metadata import item_from_metadata
from portal_archive.dedup import Document, document_from_item
from portal_archive.extract.article import ArticleAssembler, FetchedPage
from portal_archive.extract.extractor import ARTICLE
from portal_archive.extract.nuxt import ArticleState
from portal_archive.items import ArticleItem
from portal_archive.profiles import Profile, SourceDirectory, load_bundled_profiles
from portal_archive.timestamps import utc_now
from portal_archive.urls import hostname_of

__all__ = ["Location", "PageReader"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a page's response record is: shown in the report, and kept in the index metadata."""

    filename: str
    offset: int | None
    record_id: str = ""


class PageReader:
    """Article items and documents of archived pages and of metadata records.

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
        self._generic = ArticleAssembler(None, sources=self._sources)
        self._assemblers: dict[str, ArticleAssembler] = {}

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

    def _assembler(self, profile: Profile | None) -> ArticleAssembler:
        if profile is None:
            return self._generic
        assembler = self._assemblers.get(profile.name)
        if assembler is None:
            assembler = ArticleAssembler(profile, sources=SourceDirectory.for_profile(profile, self.profiles))
            self._assemblers[profile.name] = assembler
        return assembler

    # -- pages -----------------------------------------------------------------------------------

    def page_item(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location
    ) -> ArticleItem | None:
        """The article item of one archived HTML page, or None when it is no article page."""
        return self.page_verdict(url, body, content_type, fetched, location)[0]

    def page_verdict(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location
    ) -> tuple[ArticleItem | None, str]:
        """The article item of one archived HTML page, or None and why it is no article page.

        A portal's pages are articles by the shape of their URL; any other site's by what the page
        holds (``extract.extractor.page_kind``: a body of some length, not a list of links, prose).
        Relative dates ("7月前") count back from the capture time, as the crawl did at fetch time.
        """
        profile, article_page = self.portal_of(url)
        if not article_page:
            return None, f"not an article URL of {profile.name}" if profile is not None else "not an article URL"
        item = self._assembler(profile).assemble(self._fetched(url, body, content_type, fetched, location))
        kind = str(item.extra.get("page_kind", ARTICLE))
        return (item, "") if kind == ARTICLE else (None, kind)

    def detail_request(self, url: str) -> tuple[str, bytes] | None:
        """``(API URL, request body)`` a portal's article page POSTs for its body (``[api]`` in its
        profile), on the page's own origin (a mirror's, the demo's); None for any other page."""
        profile, article_page = self.portal_of(url)
        api = profile.detail_api if profile is not None and article_page else None
        if api is None:
            return None
        parts = urlsplit(url)
        body = api.request_body(parts.path)
        return (f"{parts.scheme}://{parts.netloc}{api.path}", body) if body is not None else None

    def filled_item(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location,
        state: ArticleState, content: str,
    ) -> ArticleItem | None:  # fmt: skip
        """The article of a page whose body its script fetched, with the archived answer put in place."""
        profile, _ = self.portal_of(url)
        return self._assembler(profile).assemble_filled(self._fetched(url, body, content_type, fetched, location),
                                                         state, content)  # fmt: skip

    @staticmethod
    def _fetched(url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location) -> FetchedPage:
        return FetchedPage(
            url=url,
            body=body,
            content_type=content_type or None,
            fetched_at=fetched or utc_now(),
            warc_record_id=location.record_id,
            warc_filename=location.filename,
            warc_offset=location.offset,
        )

    def read_page(
        self, url: str, body: bytes, content_type: str, fetched: datetime | None, location: Location
    ) -> Document | None:
        """The article document of one archived HTML page, or None when it is no article page."""
        item = self.page_item(url, body, content_type, fetched, location)
        return document_from_item(item) if item is not None else None

    # -- metadata records ------------------------------------------------------------------------

    def metadata_item(self, record: Mapping[str, Any], location: Location) -> ArticleItem:
        """The article item a crawl recorded (the record already decoded), at the page's location."""
        item = item_from_metadata(record)
        item.site_domain = self.site_domain_of(item.site)
        item.warc_filename = location.filename
        item.warc_offset = location.offset
        item.warc_record_id = location.record_id
        return item

    def read_metadata(self, record: Mapping[str, Any], location: Location) -> Document:
        """The document a crawl indexed, from its article metadata record (already decoded)."""
        return document_from_item(self.metadata_item(record, location))
