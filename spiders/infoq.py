"""InfoQ China (infoq.cn): articles at ``/article/<id>``, found through the RSS feed, sitemaps and links.

Everything portal-specific is in ``portal_archive/profiles/portals/infoq.toml``.
"""

from __future__ import annotations

from portal_archive.crawl.spider import PortalSpider


class InfoqSpider(PortalSpider):
    """Crawls InfoQ's home, feed and sitemaps; bodies missing from the HTML come from its article API."""

    name = "infoq"
    profile_name = "infoq"
