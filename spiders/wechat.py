"""WeChat public-account pages (``/s/<id>``), reached from account profile pages.

Everything portal-specific is in ``portal_archive/profiles/portals/wechat.toml``.
"""

from __future__ import annotations

from portal_archive.crawl.spider import PortalSpider


class WechatSpider(PortalSpider):
    """Crawls a WeChat-style public-account site: profiles list the account's articles."""

    name = "wechat"
    profile_name = "wechat"
