"""The article pages of an archive folder, with titles and text, for ``pages/pages.jsonl``.

py-wacz detects pages from ``Referer`` headers (a crawl that sends none lists nothing) and
extracts text as UTF-8 (GBK pages are skipped). Here the article metadata records are the list;
WARC files written without them fall back to re-extracting every HTML 200 response and keeping
those with an article-sized body.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_archive.archive.cdxj import CdxjEntry, lookup
from portal_archive.archive.metadata import METADATA_URI_PREFIX, MetadataRecordError, decode
from portal_archive.archive.records import RecordReadError, load_capture, read_block, read_payload
from portal_archive.extract import extract_article

logger = logging.getLogger(__name__)

MIN_FALLBACK_TEXT_CHARS = 200
"""List and home pages extract to a few dozen characters; the shortest demo article to ~380."""


@dataclass(frozen=True)
class Page:
    """One entry of ``pages.jsonl``."""

    url: str
    timestamp: str
    """14 digits, as in the index."""
    title: str
    text: str
    origin: str
    """``metadata`` (from the article's metadata record) or ``extracted`` (re-extracted here)."""

    @property
    def iso_date(self) -> str:
        t = self.timestamp
        return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"

    def to_json(self) -> dict[str, Any]:
        """The WACZ ``json-pages-1.0`` fields, with a stable id (same page, same id)."""
        page_id = hashlib.sha256(f"{self.timestamp}/{self.url}".encode()).hexdigest()[:32]
        return {"id": page_id, "url": self.url, "ts": self.iso_date, "title": self.title, "text": self.text}


def _scan(index: Path) -> tuple[list[CdxjEntry], list[CdxjEntry]]:
    """Metadata entries and HTML 200 response entries, in one streaming pass over the index."""
    metadata, html = [], []
    with index.open("rb") as fh:
        for line in fh:
            entry = CdxjEntry.parse(line)
            if entry.url.startswith(METADATA_URI_PREFIX) and entry.mime == "application/json":
                metadata.append(entry)
            elif entry.is_capture and entry.status == "200" and entry.mime in ("text/html", "application/xhtml+xml"):
                html.append(entry)
    return metadata, html


def _capture_timestamp(index: Path, document: dict[str, Any], fallback: str) -> str:
    """The timestamp of the response the record describes (joined on file and offset)."""
    capture = document.get("capture") or {}
    for entry in lookup(index, str(document.get("url", ""))):
        if entry.filename == capture.get("warc_filename") and entry.offset == capture.get("warc_offset"):
            return entry.timestamp
    return fallback


def _from_metadata(directory: Path, index: Path, entries: list[CdxjEntry]) -> Iterator[tuple[Page, set[str]]]:
    for entry in entries:
        try:
            _, block = read_block(directory, entry)
            document = decode(block)
        except (RecordReadError, MetadataRecordError) as exc:
            where = {"file": entry.filename, "offset": entry.offset, "exc": exc}
            logger.warning("Skipping metadata record %(file)s:%(offset)d: %(exc)s", where)
            continue
        article = document.get("article") or {}
        capture = document.get("capture") or {}
        page = Page(
            url=str(document.get("url", "")),
            timestamp=_capture_timestamp(index, document, entry.timestamp),
            title=str(article.get("title", "")),
            text=str(article.get("body_text", "")),
            origin="metadata",
        )
        yield page, {entry.filename, str(capture.get("warc_filename", ""))}


def _extracted(directory: Path, index: Path, entry: CdxjEntry, min_chars: int) -> Page | None:
    try:
        capture = load_capture(directory, index, entry)
        data = read_payload(directory, capture, decode=True)
    except RecordReadError as exc:
        logger.warning("Skipping %(url)s: %(exc)s", {"url": entry.url, "exc": exc})
        return None
    article = extract_article(data, url=entry.url, content_type=capture.http.content_type)
    if len(article.body_text) < min_chars:
        return None
    return Page(entry.url, entry.timestamp, article.title, article.body_text, "extracted")


def article_pages(directory: Path, index: Path, *, min_fallback_chars: int = MIN_FALLBACK_TEXT_CHARS) -> list[Page]:
    """Article pages in capture order: from metadata records, else re-extracted per WARC file."""
    metadata_entries, html_entries = _scan(index)
    pages: list[Page] = []
    described_files: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for page, files in _from_metadata(directory, index, metadata_entries):
        described_files |= files
        if (page.url, page.timestamp) not in seen:
            seen.add((page.url, page.timestamp))
            pages.append(page)
    for entry in html_entries:
        if entry.filename in described_files or (entry.url, entry.timestamp) in seen:
            continue
        extracted = _extracted(directory, index, entry, min_fallback_chars)
        if extracted is not None:
            seen.add((extracted.url, extracted.timestamp))
            pages.append(extracted)
    pages.sort(key=lambda p: (p.timestamp, p.url))
    return pages
