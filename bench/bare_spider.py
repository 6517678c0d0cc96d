"""The bare Scrapy peer of bench/crawl.py: follows every same-site link, archives and extracts nothing.

Run from a folder without ``scrapy.cfg`` so Scrapy's own defaults apply (the bench passes the
concurrency, ``TELNETCONSOLE_ENABLED=False`` and the log level with ``-s``)::

    scrapy runspider bench/bare_spider.py -a start_url=http://127.0.0.1:PORT/ [-a stats_file=stats.json]

``stats_file`` receives the crawl's final stats as JSON, as ``RUN_STATS_FILE`` does for our spiders.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str = "", stats_file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url
        self.stats_file = stats_file
        self.allowed_domains = [urlsplit(start_url).hostname or ""]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        if isinstance(response, TextResponse):
            yield from response.follow_all(css="a")

    def closed(self, reason: str) -> None:
        if self.stats_file:
            stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
            Path(self.stats_file).write_text(json.dumps(stats, default=str, indent=2))
