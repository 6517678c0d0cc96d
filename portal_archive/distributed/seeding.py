"""What ``portal-archive dist seed`` queues: the spider's own start requests, as start-URL data.

The spider is built the way ``scrapy crawl`` builds it (same arguments), without a crawler: its
``start()`` only needs its profile and ``base_url``. Each request it yields becomes JSON in the
frontier's start list (``portal_archive.distributed.start``), which workers move into the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request

from portal_archive.distributed.start import StartDataError, start_data

if TYPE_CHECKING:
    from scrapy import Spider

    from portal_archive.distributed.frontier import Frontier


@dataclass(frozen=True)
class Seeded:
    """What was queued: the start requests' URLs, and the start list's length after."""

    urls: list[str]
    start_list_length: int


def build_spider(spidercls: type[Spider], arguments: Mapping[str, str]) -> Spider:
    """The spider as ``scrapy crawl NAME -a …`` would make it (before a crawler is attached)."""
    return spidercls(**dict(arguments))


def start_requests(spider: Spider) -> list[Request]:
    """Every request the spider's ``start()`` yields.

    Raises:
        StartDataError: it yields an item, which a start list cannot carry.
    """

    async def collect() -> list[Any]:
        return [output async for output in spider.start()]

    outputs = asyncio.run(collect())
    requests = [output for output in outputs if isinstance(output, Request)]
    if len(requests) != len(outputs):
        raise StartDataError(f"spider {spider.name!r} yields items from start(): only requests can be seeded")
    return requests


def seed(frontier: Frontier, spider: Spider, requests: list[Request]) -> Seeded:
    """Append the requests to the frontier's start list (all or none: one ``RPUSH``)."""
    data = [start_data(request, spider) for request in requests]
    length = frontier.push_start(data)
    return Seeded([request.url for request in requests], length)
