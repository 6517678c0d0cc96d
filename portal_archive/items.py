"""The article item every portal spider yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class BoilerplateBlock:
    """A block removed from the body, kept as data: related links, recommendations, footer…"""

    kind: str
    """One of ``related_links``, ``recommendations``, ``share``, ``footer``, ``disclaimer``, ``nav``, ``comments``, or
    ``attribution`` (a repost's "以下文章来源于…" line, labelled by a portal profile)."""
    text: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    """``{"title": …, "url": …}`` for each link of the block."""


@dataclass(kw_only=True)
class ArticleItem:
    """One archived article page, with where its raw bytes live in the archive."""

    url: str
    """The page URL as fetched (after redirects)."""
    site: str = ""
    """The portal key (``bendi``, ``infoq``, ``wechat`` or a profile name)."""
    site_domain: str = ""
    """The domain the portal publishes on (its profile's ``domain``); differs from the URL's host
    when a mirror or the demo portal is crawled, and is what attribution lines are matched against."""
    canonical_url: str = ""
    """``rel=canonical`` / ``og:url`` when present, else ``url``."""
    title: str = ""
    byline: str = ""
    """The byline line as shown, e.g. ``整理 | 凌敏、核子可乐``."""
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    """Publication time, ISO 8601 UTC, when it could be resolved."""
    published_text: str = ""
    """The date as the page shows it, e.g. ``7月前``."""
    source: str = ""
    """The attribution (``来源:InfoQ``'s account or site)."""
    source_domain: str = ""
    """The domain ``source`` stands for (``InfoQ`` → ``infoq.cn``) when a portal profile knows it."""
    references: list[str] = field(default_factory=list)
    body_links: list[str] = field(default_factory=list)
    """Web links inside the body (absolute): sources too, when the profile says so (``cite_body_links``)."""
    tags: list[str] = field(default_factory=list)
    """Topics the publisher tagged the article with (InfoQ's ``topic`` names)."""
    body_text: str = ""
    body_html: str = ""
    boilerplate: list[BoilerplateBlock] = field(default_factory=list)
    language: str = "zh"
    fetched_at: str = ""
    """When the response was received, ISO 8601 UTC."""
    rendered: bool = False
    """Extracted from a browser rendering, because the body only appears after script runs."""
    warc_record_id: str = ""
    warc_filename: str = ""
    warc_offset: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
