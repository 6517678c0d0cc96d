"""``TWISTED_DNS_RESOLVER`` for hostile crawls: every ``*.localhost`` name is 127.0.0.1.

RFC 6761 reserves ``.localhost`` for loopback, but the system resolver here only knows the bare
name; this lets a crawl use an IDN host (``新闻.localhost``) and a second, off-site host name
without any network.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred, succeed


class LocalhostResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        if name == "localhost" or name.endswith(".localhost"):
            return succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
