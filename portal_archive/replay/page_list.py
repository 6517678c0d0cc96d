"""The article pages of an archive folder, with titles and text, for ``pages/pages.jsonl``.

py-wacz detects pages from ``Referer`` headers (a crawl that sends none lists nothing) and
extracts text as UTF-8 (GBK pages are skipped). Here the pages are what the report reads
(``archive.sources``): the article metadata records where the crawl wrote them, else every HTML
page assembled again, kept when its body is article-sized.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import TextKind, WarcSource
from portal_archive.timestamps import from_timestamp14, iso_z, timestamp14_of

MIN_EXTRACTED_TEXT_CHARS = 200
"""A page extracted again is listed from this many characters of body: list and home pages of sites
no profile describes extract to a few dozen; the shortest demo article to ~380."""


@dataclass(frozen=True)
class Page:
    """One entry of ``pages.jsonl``."""

    url: str
    timestamp: str
    """14 digits, as in the index."""
    title: str
    text: str
    origin: TextKind
    """``metadata`` (from the article's metadata record) or ``page`` (extracted again here)."""

    @property
    def iso_date(self) -> str:
        return iso_z(from_timestamp14(self.timestamp))

    def to_json(self) -> dict[str, Any]:
        """The WACZ ``json-pages-1.0`` fields, with a stable id (same page, same id)."""
        page_id = hashlib.sha256(f"{self.timestamp}/{self.url}".encode()).hexdigest()[:32]
        return {"id": page_id, "url": self.url, "ts": self.iso_date, "title": self.title, "text": self.text}


def article_pages(warcs: Sequence[Path], *, min_extracted_chars: int = MIN_EXTRACTED_TEXT_CHARS) -> list[Page]:
    """The article pages of ``warcs`` in capture order, once per URL and capture time."""
    pages: dict[tuple[str, str], Page] = {}
    for sourced in WarcSource(warcs, PageReader()).documents():
        document = sourced.document
        timestamp = timestamp14_of(sourced.fetched_at)
        if not timestamp or (sourced.origin == "page" and len(document.text) < min_extracted_chars):
            continue
        page = Page(document.url, timestamp, document.title, document.text, sourced.origin)
        pages.setdefault((page.url, page.timestamp), page)
    return sorted(pages.values(), key=lambda p: (p.timestamp, p.url))
