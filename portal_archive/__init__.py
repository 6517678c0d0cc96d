"""portal-archive: crawl news portals into WARC files, extract article bodies, find syndicated copies."""

from __future__ import annotations

__version__ = "0.1.0"
