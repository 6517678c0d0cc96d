"""Serve the hostile portal until interrupted and print how to crawl it."""

from __future__ import annotations

import time

from tests.hostile.site import HostileSite

if __name__ == "__main__":
    with HostileSite("新闻.localhost") as site:
        print(site.base_url, flush=True)
        print(
            "scrapy crawl portal -a profile=PROFILE.toml -a base_url=" + site.base_url
            + " -s TWISTED_DNS_RESOLVER=tests.hostile.resolver.LocalhostResolver",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
