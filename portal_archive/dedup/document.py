"""The engine's input record: an article's text and the metadata that can identify its original.

The engine itself knows nothing of Scrapy: ``document_from_item`` is the one mapping from an
article item (``ArticleItem``, or any item with its field names) to a ``Document``, used by the crawl's
pipeline and by the report alike; benchmarks build documents from anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itemadapter import ItemAdapter

from portal_archive.items import ArticleItem

__all__ = ["Document", "document_from_item"]


@dataclass(frozen=True, kw_only=True)
class Document:
    """One article to index."""

    url: str
    """The page URL as fetched; also the document's identity in the index."""
    text: str
    """The body text, one paragraph per line (attribution lines may still be in it)."""
    title: str = ""
    site: str = ""
    """The portal key or host the page came from."""
    site_domain: str = ""
    """The domain the portal publishes on, when known (else the URL's host stands for it)."""
    published_at: str | None = None
    """Publication time, ISO 8601 (UTC when no offset is given), or None when unknown."""
    fetched_at: str | None = None
    """When the page was captured: what decides an original when nothing better does."""
    canonical_url: str = ""
    """``rel=canonical`` or ``og:url`` of the page, when it names a URL."""
    source: str = ""
    """The attribution shown on the page (``来源：InfoQ`` → ``InfoQ``)."""
    source_domain: str = ""
    """The attribution already resolved to a domain, when the extractor could."""
    read_original_url: str = ""
    """Target of a ``阅读原文`` / ``原文链接`` link."""
    byline: str = ""
    references: tuple[str, ...] = ()
    """The URLs the article cites (its 参考链接 list), in page order: what a copy kept or dropped."""
    record_id: str = ""
    """``WARC-Record-ID`` of the response the text was extracted from."""
    warc_filename: str = ""
    warc_offset: int | None = None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def document_from_item(item: Any) -> Document:
    """The engine's view of an article item (``ArticleItem`` or any item with the same fields)."""
    # Attribute access for the project's own item (what crawls and reports pass, thousands per
    # second); an ItemAdapter for dicts and other item types.
    if isinstance(item, ItemAdapter):
        item = item.item
    fields = item if isinstance(item, ArticleItem) else _AdaptedItem(ItemAdapter(item))
    extra = fields.extra if isinstance(fields.extra, dict) else {}
    offset = fields.warc_offset
    published = fields.published_at
    return Document(
        url=_text(fields.url),
        text=_text(fields.body_text),
        title=_text(fields.title),
        site=_text(fields.site),
        site_domain=_text(fields.site_domain),
        published_at=published if isinstance(published, str) and published else None,
        fetched_at=_text(fields.fetched_at) or None,
        canonical_url=_text(fields.canonical_url),
        source=_text(fields.source),
        source_domain=_text(fields.source_domain),
        read_original_url=str(extra.get("read_original_url") or ""),
        byline=_text(fields.byline),
        references=tuple(url for url in fields.references or () if isinstance(url, str) and url),
        record_id=_text(fields.warc_record_id),
        warc_filename=_text(fields.warc_filename),
        warc_offset=offset if isinstance(offset, int) and not isinstance(offset, bool) else None,
    )


class _AdaptedItem:
    """Any item read by attribute, as an ``ArticleItem`` is; a missing field reads as ``None``."""

    def __init__(self, adapter: ItemAdapter) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        return self._adapter.get(name)
