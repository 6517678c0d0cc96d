"""The engine's input record: an article's text and the metadata that can identify its original.

Deliberately free of Scrapy and of ``ArticleItem``: the pipeline converts items, and benchmarks or a
re-indexing command can build documents from anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Document"]


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
    canonical_url: str = ""
    """``rel=canonical`` or ``og:url`` of the page, when it names a URL."""
    source: str = ""
    """The attribution shown on the page (``来源：InfoQ`` → ``InfoQ``)."""
    source_domain: str = ""
    """The attribution already resolved to a domain, when the extractor could."""
    read_original_url: str = ""
    """Target of a ``阅读原文`` / ``原文链接`` link."""
    byline: str = ""
    record_id: str = ""
    """``WARC-Record-ID`` of the response the text was extracted from."""
    warc_filename: str = ""
    warc_offset: int | None = None
