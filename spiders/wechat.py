"""WeChat public-account pages (``/s/<id>``), reached from account profile pages."""

from __future__ import annotations

from portal_archive.crawling import PortalSpider
from portal_archive.extraction import ArticleSelectors


class WechatSpider(PortalSpider):
    """Crawls a WeChat-style public-account site: profiles list the account's articles."""

    name = "wechat"
    default_base_url = "https://mp.weixin.qq.com"
    start_paths = ("/",)
    article_patterns = (r"^/s/[A-Za-z0-9_-]{22}$",)
    deny_patterns = (r"^/(cgi-bin|mp)/",)
    selectors = ArticleSelectors(
        title="h1.rich_media_title",
        body="#js_content",
        date="#publish_time",
        source="#js_name",
    )
