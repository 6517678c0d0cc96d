"""The WARC/1.1 file format, without Scrapy: build records, write rotating files, read and check any file.

- ``records``: record serialisation (headers, digests, revisits) for one HTTP exchange;
- ``writer``: rotating ``.warc.gz`` files with Annex C names, written ``.open`` and renamed on close;
- ``openlock``: the lock a writer holds on its ``.open`` file, so recovery can tell a live one;
- ``framing``: where each record of any file starts and ends (gzip members, header blocks, lengths);
- ``reader``: the one reader of archived records (ours and any producer's), streamed or at an offset;
- ``check``: the conformance checker behind ``portal-archive check``.

Writing during a crawl is the ``capture`` package's; reading an archive folder is ``archive``'s.
"""

from __future__ import annotations

from portal_archive.warc.records import HttpExchange, WarcRecordBuilder
from portal_archive.warc.writer import RotatingWarcWriter, WrittenExchange

__all__ = ["HttpExchange", "RotatingWarcWriter", "WarcRecordBuilder", "WrittenExchange"]
