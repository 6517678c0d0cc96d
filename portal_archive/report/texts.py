"""Body texts of cluster members, read again from the archive for the HTML side-by-side view.

Texts are not kept while the index is built (millions of bodies would not fit); only the few
clusters an HTML page shows read theirs back, one record each: a metadata record's
``article.body_text``, or the page extracted again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from portal_archive.archive.metadata import MetadataRecordError, decode
from portal_archive.archive.pages import Location, PageReader
from portal_archive.archive.sources import MAX_METADATA_BYTES, MAX_PAGE_BYTES, TextLocation
from portal_archive.capture.extension import DOM_URI_PREFIX
from portal_archive.report.model import ClusterReport, MemberReport
from portal_archive.timestamps import parse_iso
from portal_archive.warc.reader import PayloadError, WarcFileError, record_at

__all__ = ["TextLoader"]

logger = logging.getLogger(__name__)


class TextLoader:
    """Loads member texts, given where each member's text is."""

    def __init__(self, reader: PageReader, locate: Callable[[MemberReport], TextLocation | None]) -> None:
        self.reader = reader
        self.locate = locate

    def with_texts(self, cluster: ClusterReport) -> ClusterReport:
        """The cluster with ``text`` filled in where it could be read (None elsewhere)."""
        members = tuple(dataclasses.replace(member, text=self.text(member)) for member in cluster.members)
        return dataclasses.replace(cluster, members=members)

    def text(self, member: MemberReport) -> str | None:
        location = self.locate(member)
        if location is None:
            return None
        try:
            for record in record_at(Path(location.path), location.offset):
                if location.kind == "metadata":
                    article = decode(record.payload(MAX_METADATA_BYTES)).get("article")
                    body = article.get("body_text") if isinstance(article, dict) else None
                    return body if isinstance(body, str) else None
                body_bytes = record.payload(MAX_PAGE_BYTES)
                url = record.target_uri.removeprefix(DOM_URI_PREFIX)
                document = self.reader.read_page(
                    url,
                    body_bytes,
                    record.content_type,
                    parse_iso(record.date),
                    Location(location.path, location.offset, record.record_id),
                )
                return document.text if document is not None else None
        except (WarcFileError, PayloadError, MetadataRecordError) as exc:
            logger.info("No text for %(url)s: %(exc)s", {"url": member.url, "exc": exc})
        return None
