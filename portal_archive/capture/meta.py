"""The ``warc_*`` keys of ``request.meta`` (and so ``response.meta``): what capture and its neighbours tell each other.

The capture extension archives an exchange at ``response_downloaded`` and leaves where it went in
the request's meta, for the spider (items cite their record), incremental crawling and the
distributed frontier; other components leave instructions for the capture there. One name per key,
so a writer and its readers cannot drift apart.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DATE_META",
    "DOM_RECORD_ID_META",
    "FILENAME_META",
    "METADATA_RECORD_ID_EXTRA",
    "NOT_MODIFIED_META",
    "OFFSET_META",
    "PAYLOAD_DIGEST_META",
    "RECORD_ID_META",
    "REFERS_TO_META",
    "TRUNCATED_META",
    "TYPE_META",
]

# -- written by the capture extension (portal_archive.capture.extension) ---------------------------

RECORD_ID_META: Final = "warc_record_id"
"""The ``WARC-Record-ID`` of the exchange's response (or revisit) record; for a rendered page, the plain
fetch's record (``REFERS_TO_META``) or else its DOM record. Written by capture; read by the spider
(``ArticleItem.warc_record_id``), incremental crawling and the distributed scheduler."""
FILENAME_META: Final = "warc_filename"
"""Final name of the WARC file holding that record. Written by capture; read by the spider and incremental crawling."""
OFFSET_META: Final = "warc_offset"
"""Byte offset of that record in its file. Written by capture; read by the spider (``ArticleItem.warc_offset``)."""
TYPE_META: Final = "warc_type"
"""``response`` or ``revisit``: what the exchange was archived as. Written by capture; read by incremental
crawling and the distributed scheduler (only responses are remembered as payload origins)."""
DATE_META: Final = "warc_date"
"""The record's ``WARC-Date``. Written by capture; read by incremental crawling and the distributed scheduler."""
PAYLOAD_DIGEST_META: Final = "warc_payload_digest"
"""The record's ``WARC-Payload-Digest``. Written by capture; read by incremental crawling and the distributed
scheduler (later identical payloads become revisits of it)."""
DOM_RECORD_ID_META: Final = "warc_dom_record_id"
"""The ``resource`` record holding a rendered page's DOM. Written by capture; read by tests and tools."""

# -- written for the capture extension by others ---------------------------------------------------

REFERS_TO_META: Final = "warc_refers_to"
"""On a browser rendering of a page already fetched plainly: that fetch's record id. Written by the spider;
read by capture (the DOM record refers to it; the page document is not archived twice)."""
TRUNCATED_META: Final = "warc_truncated"
"""``WARC-Truncated`` reason of a download stopped on purpose (``length``). Written by the fetch guard
(``portal_archive.crawl.fetchguard``); read by capture."""
NOT_MODIFIED_META: Final = "warc_not_modified"
"""The ``PayloadOrigin`` a conditional request revalidates: a 304 answer is archived as a revisit of it.
Written by incremental crawling (``portal_archive.crawl.incremental``); read by capture."""

# -- the item's ``extra``, written after capture ---------------------------------------------------

METADATA_RECORD_ID_EXTRA: Final = "warc_metadata_record_id"
"""``ArticleItem.extra`` key: the article's ``metadata`` record. Written by the metadata-record pipeline
(``pipelines.archive``); read by whoever consumes the items (``-O items.jsonl``)."""
