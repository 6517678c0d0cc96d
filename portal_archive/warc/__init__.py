"""WARC/1.1 capture: record serialisation, rotating files, and a conformance checker."""

from __future__ import annotations

from portal_archive.warc.config import WarcConfig
from portal_archive.warc.records import HttpExchange, WarcRecordBuilder
from portal_archive.warc.writer import RotatingWarcWriter, WrittenExchange

__all__ = ["HttpExchange", "RotatingWarcWriter", "WarcConfig", "WarcRecordBuilder", "WrittenExchange"]
