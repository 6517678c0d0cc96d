"""Bendi News (bendi.news): an aggregator; articles at ``/wxnews/<25-char CUID>``.

Everything portal-specific is in ``portal_archive/profiles/portals/bendi.toml``.
"""

from __future__ import annotations

from portal_archive.crawl.spider import PortalSpider


class BendiSpider(PortalSpider):
    """Crawls the home and category list pages (with pagination) and every article they link."""

    name = "bendi"
    profile_name = "bendi"
