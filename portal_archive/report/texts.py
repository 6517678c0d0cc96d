"""Body texts of cluster members, read again from the archive for the HTML side-by-side view.

Texts are not kept while the index is built (millions of bodies would not fit); only the few
clusters an HTML page shows read theirs back, one record each (``archive.sources.document_at``: a
metadata record's text, or the page assembled again).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from portal_archive.archive.metadata import MetadataRecordError
from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import TextLocation, document_at
from portal_archive.report.model import ClusterReport, MemberReport
from portal_archive.warc.reader import PayloadError, WarcFileError

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
            document = document_at(location, self.reader)
        except (WarcFileError, PayloadError, MetadataRecordError) as exc:
            logger.info("No text for %(url)s: %(exc)s", {"url": member.url, "exc": exc})
            return None
        return document.text if document is not None else None
