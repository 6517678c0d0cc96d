"""Serve the hostile portal until interrupted, with the profile and command to crawl it by hand."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.hostile.crawl import PROFILE, UNICODE_HOST
from tests.hostile.site import HostileSite

if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp, HostileSite(UNICODE_HOST) as site:
        profile = Path(tmp) / "hostile.toml"
        profile.write_text(PROFILE, encoding="utf-8")
        print(site.base_url, flush=True)
        print(
            f"scrapy crawl portal -a profile={profile} -a base_url={site.base_url}"
            " -s TWISTED_DNS_RESOLVER=tests.hostile.resolver.LocalhostResolver"
            " -s DOWNLOAD_TIMEOUT=2 -s RETRY_TIMES=1 -s DOWNLOAD_MAXSIZE=1048576",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
