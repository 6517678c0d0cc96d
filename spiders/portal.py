"""Any portal described by a profile: ``scrapy crawl portal -a profile=NAME_OR_PATH [-a base_url=…]``.

``NAME`` is a bundled profile (``portal_archive/profiles/portals/NAME.toml``); a path names any TOML file
with the same schema (see ``portal_archive.profiles``).
"""

from __future__ import annotations

from typing import Any

from portal_archive.crawl.spider import PortalSpider
from portal_archive.profiles import ProfileError


class ProfileSpider(PortalSpider):
    """Crawls the portal a ``-a profile=`` TOML file describes; needs no code per portal."""

    name = "portal"

    def __init__(self, *args: Any, profile: str | None = None, **kwargs: Any) -> None:
        if not profile:
            raise ProfileError("profile", "", "scrapy crawl portal needs -a profile=NAME_OR_PATH")
        super().__init__(*args, profile=profile, **kwargs)
