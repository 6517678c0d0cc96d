"""Article assembly: an article page's bytes and its portal profile in, an ``ArticleItem`` out.

The crawl assembles every article it fetches (``crawl.spider``); the report and replay assemble
archived pages again (``archive.pages``). Both go through ``ArticleAssembler``, so the profile's
selectors, embedded publish times (Nuxt state), CUID ingest hints and source aliases give the same
item offline as at crawl time. Without a profile (a site no portal profile describes) the generic
extractor decides alone and the site is the page's registrable domain.

What a crawler knows around the page (when it was fetched, a fixed clock for relative dates, whether
the body was cut, where the response was archived) comes in as a ``FetchedPage``. Outcomes are
counted through ``count`` under the crawl's stat keys: ``dates/<method>`` (``embedded``,
``absolute``, ``hint``, ``window_start``, ``ingest_id``, ``extracted``, ``unresolved``,
``impossible``, ``missing``), ``sources/resolved``, ``sources/unknown``, ``extract/partial_body``,
``extract/charset_mismatch``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from portal_archive.extract.charset import declared_charset
from portal_archive.extract.dates import (
    ResolvedDate,
    cuid_timestamp,
    from_epoch_millis,
    is_impossible_date,
    resolve_date,
)
from portal_archive.extract.extractor import Article, ParsedPage, extract_parsed, fill_container, parse_page
from portal_archive.extract.nuxt import ArticleState, read_article_state
from portal_archive.extract.prosemirror import content_html
from portal_archive.extract.wechat import read_wechat_state
from portal_archive.items import ArticleItem
from portal_archive.profiles import Profile, SourceDirectory
from portal_archive.timestamps import to_iso
from portal_archive.urls import canonicalize_url, hostname_of, site_domain

__all__ = ["ArticleAssembler", "FetchedPage"]

logger = logging.getLogger(__name__)

_NUXT_DATA = etree.XPath('//script[@id="__NUXT_DATA__"]')


def _ignore(key: str) -> None:
    """The default ``count``: outside a crawl there are no stats to keep."""


@dataclass(frozen=True, kw_only=True)
class FetchedPage:
    """An article page as fetched, and what the fetch knows about it."""

    url: str
    """The page URL as fetched (after redirects)."""
    body: bytes
    """The entity body as received (content coding removed)."""
    content_type: str | bytes | None = None
    """The ``Content-Type`` header, whose charset wins over ``<meta>``."""
    fetched_at: datetime
    """When the response was received: stamped on the item, and the reference of "3天前"."""
    reference_time: datetime | None = None
    """Replaces ``fetched_at`` as the reference of relative dates (``DATES_NOW``)."""
    truncated: str | None = None
    """Why the body is cut short (the archive's ``WARC-Truncated`` reason); None when whole."""
    warc_record_id: str = ""
    warc_filename: str = ""
    warc_offset: int | None = None


class ArticleAssembler:
    """Turns article pages of one portal (or, without a profile, of any site) into ``ArticleItem``s.

    Args:
        profile: The portal's profile; None for a site no profile describes.
        sources: Resolves attributions (``来源：InfoQ``) to domains; by default the profile's own
            aliases, then every bundled profile's.
        count: Called with a stat key for every counted outcome.
    """

    def __init__(
        self,
        profile: Profile | None,
        *,
        sources: SourceDirectory | None = None,
        count: Callable[[str], None] = _ignore,
    ) -> None:
        self.profile = profile
        if sources is None:
            sources = SourceDirectory.for_profile(profile) if profile is not None else SourceDirectory({})
        self.sources = sources
        self.count = count

    def assemble(
        self, page: FetchedPage, parsed: ParsedPage | None = None, *, state: ArticleState | None = None
    ) -> ArticleItem:
        """The article of ``page``, citing where its response was archived.

        ``parsed`` is the page's bytes already parsed (``parse_page``) by a caller that read its
        links first (or filled in, ``fill_container``); extraction cleans it in place. ``state`` is
        the article record the page's script fetched (an article API's answer), read instead of
        the state the page embeds.
        """
        profile = self.profile
        if parsed is None:
            parsed = parse_page(page.body, content_type=page.content_type)
        if state is None:
            state = self._embedded_state(parsed)
        article = extract_parsed(parsed, url=page.url, selectors=profile.selectors if profile is not None else None)
        reference = page.reference_time or page.fetched_at
        published_at, published_text = self.publication(article, state, page.url, reference)
        source = article.source or (state.source if state is not None else "")
        source = source or (profile.source_name if profile is not None else "")
        source_domain = self.sources.resolve(source)
        if source:
            self.count("sources/resolved" if source_domain else "sources/unknown")
        extra: dict[str, Any] = {}
        if profile is None:
            extra["page_kind"] = article.page_kind  # no URL rules: the page's content says what it is
        if article.empty_reason:
            extra["empty_reason"] = article.empty_reason
        if page.truncated:
            # What arrived is extracted; the item says it is partial, as the archive's WARC-Truncated does.
            extra["truncated"] = page.truncated
            self.count("extract/partial_body")
            logger.info(
                "Extracted %(url)s from a cut body (%(reason)s, %(size)d bytes)",
                {"url": page.url, "reason": page.truncated, "size": len(page.body)},
            )
        self._check_charset(page, article)
        drop_params = profile.drop_params if profile is not None else ()
        return ArticleItem(
            url=page.url,
            site=profile.name if profile is not None else site_domain(hostname_of(page.url)),
            site_domain=profile.domain if profile is not None else "",
            canonical_url=canonicalize_url(article.canonical_url, drop_params) if article.canonical_url else page.url,
            title=(state.title if state is not None and state.title else article.title),
            byline=article.byline,
            authors=list(state.authors if state is not None and state.authors else article.authors),
            published_at=published_at,
            published_text=published_text,
            source=source,
            source_domain=source_domain,
            references=list(article.references),
            body_links=list(article.body_links),
            tags=list(state.tags) if state is not None else [],
            body_text=article.body_text,
            body_html=article.body_html,
            boilerplate=list(article.boilerplate),
            language=profile.language if profile is not None else ArticleItem.language,
            fetched_at=to_iso(page.fetched_at),
            warc_record_id=page.warc_record_id,
            warc_filename=page.warc_filename,
            warc_offset=page.warc_offset,
            extra=extra,
        )

    def assemble_filled(self, page: FetchedPage, state: ArticleState, content: str) -> ArticleItem | None:
        """The page with the body its script fetched (an article API's ``content``: HTML or a ProseMirror
        document) put where the script puts it (the profile's body selector), then extracted like any
        served page, with the API's record for its metadata. None when the page has no such place.

        The crawl (``crawl.spider``) and the report on archived exchanges (``archive.sources``) both
        read client-rendered pages through this.
        """
        parsed = parse_page(page.body, content_type=page.content_type)
        selector = self.profile.selectors.body if self.profile is not None else ""
        if not fill_container(parsed, selector or "body", content_html(content)):
            return None
        item = self.assemble(page, parsed, state=state)
        item.extra["body_from"] = "api"
        return item

    def _embedded_state(self, parsed: ParsedPage) -> ArticleState | None:
        """The embedded state of a profile that has one (Nuxt, WeChat), read before extraction cleans scripts away."""
        if self.profile is None or not self.profile.embedded_state or parsed.root is None:
            return None
        if self.profile.embedded_state == "wechat":
            return read_wechat_state(parsed.root)
        scripts = _NUXT_DATA(parsed.root)
        payload = scripts[0].text if isinstance(scripts, list) and scripts else None
        return read_article_state(payload) if isinstance(payload, str) else None

    def _check_charset(self, page: FetchedPage, article: Article) -> None:
        declared = declared_charset(page.content_type, page.body)
        if declared and article.encoding and declared != article.encoding:
            self.count("extract/charset_mismatch")
            logger.info(
                "%(url)s declares %(declared)s but reads as %(actual)s: decoded as %(actual)s",
                {"url": page.url, "declared": declared, "actual": article.encoding},
            )

    def ingest_time(self, url: str) -> datetime | None:
        """When the page entered the portal, from a CUID in its URL (``ingest_id`` in the profile)."""
        pattern = self.profile.ingest_id if self.profile is not None else None
        match = pattern.search(urlsplit(url).path) if pattern is not None else None
        return cuid_timestamp(match.group(1)) if match else None

    def publication(
        self, article: Article, state: ArticleState | None, url: str, reference: datetime
    ) -> tuple[str | None, str]:
        """``(published_at, published_text)``: embedded state, then the shown date (with the CUID hint).

        ``reference`` is when the page was rendered: relative dates ("7月前") count back from it.
        """
        text = article.published_text
        embedded = from_epoch_millis(state.publish_time) if state is not None else None
        if embedded is not None:
            self.count("dates/embedded")
            return to_iso(embedded), text
        ingest = self.ingest_time(url)
        resolved: ResolvedDate | None = resolve_date(text, reference, ingest) if text else None
        if resolved is not None:
            self.count(f"dates/{resolved.method}")
            return to_iso(resolved.moment), text
        if article.published_at:
            self.count("dates/extracted")
            return article.published_at, text
        if ingest is not None and not text:
            self.count("dates/ingest_id")
            return to_iso(ingest), text
        if not text:
            self.count("dates/missing")
            return None, text
        if is_impossible_date(text):
            self.count("dates/impossible")
            logger.info("Impossible date %(text)r on %(url)s: published_at left empty", {"text": text, "url": url})
            return None, text
        self.count("dates/unresolved")
        logger.info("Unresolved date %(text)r on %(url)s", {"text": text, "url": url})
        return None, text
