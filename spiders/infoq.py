"""InfoQ China (infoq.cn): articles at ``/article/<id>``, found through the RSS feed, sitemaps and links."""

from __future__ import annotations

from portal_archive.crawling import PortalSpider
from portal_archive.extraction import ArticleSelectors


class InfoqSpider(PortalSpider):
    """Crawls InfoQ's home, feed and sitemaps; article bodies are server-rendered in ``.ProseMirror``."""

    name = "infoq"
    default_base_url = "https://www.infoq.cn"
    start_paths = ("/",)
    sitemap_paths = ("/sitemap.xml",)
    feed_paths = ("/feed",)
    article_patterns = (r"^/article/[A-Za-z0-9*]{20}$",)
    deny_patterns = (r"^/public/", r"^/(login|register|search)\b")
    selectors = ArticleSelectors(
        title="article h1",
        body="article .ProseMirror",
        date="article .date, article time",
        byline="article .author",
    )
