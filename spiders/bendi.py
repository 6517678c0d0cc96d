"""Bendi News (bendi.news): an aggregator; articles at ``/wxnews/<25-char CUID>``."""

from __future__ import annotations

from portal_archive.crawling import PortalSpider
from portal_archive.extraction import ArticleSelectors


class BendiSpider(PortalSpider):
    """Crawls the home and category list pages (with pagination) and every article they link."""

    name = "bendi"
    default_base_url = "https://bendi.news"
    start_paths = ("/",)
    sitemap_paths = ("/sitemap.xml",)
    article_patterns = (r"^/wxnews/c[0-9a-z]{24}$",)
    deny_patterns = (r"^/admin/", r"^/(login|register|search)\b")
    selectors = ArticleSelectors(title="h1")
