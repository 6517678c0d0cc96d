"""Fetch: the crawler around the portal spiders, everything Scrapy needs to crawl a portal well.

- ``spider``: ``PortalSpider``, routing, sitemaps, feeds and browser rendering from a profile;
- ``politeness``, ``redirects``, ``retryafter``, ``fetchguard``, ``faults``: how fast to go, which
  redirects to follow, waiting out ``Retry-After``, cutting oversized bodies, and one stat per fault;
- ``incremental``: revalidating known articles against the crawl state (``capture.state``);
- ``runner``: ``portal-archive crawl``, a scheduled crawl of one archive folder; ``runstats``: the
  stats file it judges a run by; ``offline``: no network calls the crawl did not ask for.
"""
