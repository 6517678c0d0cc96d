"""Start URLs of a distributed crawl: they come from Redis, not from each worker's spider.

scrapy-redis's ``RedisSpider`` reads its start URLs from a Redis list in ``start_requests()``,
which Scrapy 2.13 and later no longer call: they call ``async def start()``. Here the bridge is
``DistributedStartMiddleware.process_start``: in a distributed crawl a worker does not start
from its spider's own start requests (every worker would, once each); the scheduler moves the
frontier's start list into the queue instead (``Frontier.adopt_start``), and
``portal-archive dist seed`` fills that list with what the spider's ``start()`` yields.

Start-URL data is scrapy-redis's format: a bare URL (to the spider's default callback), or JSON
with ``url`` and optionally ``callback`` and ``errback`` (spider method names), ``meta``,
``priority``, ``dont_filter`` and ``method``; and, for a POST to a portal's list API, ``body``
(UTF-8 text) and ``headers`` (name → value).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final, Self

from scrapy import Request
from scrapy.exceptions import NotConfigured

from portal_archive.distributed.config import DistributedConfig

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

__all__ = ["DistributedStartMiddleware", "StartDataError", "method_name", "request_from_start_data", "start_data"]

logger = logging.getLogger(__name__)

START_KEYS: Final = frozenset(
    {"url", "callback", "errback", "meta", "priority", "dont_filter", "method", "body", "headers"}
)


class StartDataError(ValueError):
    """Start-URL data that cannot become a request (or a request that cannot become start-URL data)."""


def method_name(spider: Spider, function: Any) -> str | None:
    """The name under which ``function`` is a method of ``spider`` (``None`` for no callback).

    A direct look-up by ``__name__``: ``Request.to_dict`` scans every member of the spider instead,
    which costs more than the rest of serializing a request.

    Raises:
        StartDataError: ``function`` is not a method of ``spider``.
    """
    if function is None or isinstance(function, str):
        return function
    name = getattr(function, "__name__", "")
    bound = getattr(spider, name, None) if name else None
    if bound is not None and getattr(bound, "__func__", None) is getattr(function, "__func__", bound):
        return name
    raise StartDataError(f"{function!r} is not a method of spider {spider.name!r}: it cannot travel through Redis")


def start_data(request: Request, spider: Spider) -> bytes:
    """A start request as start-URL data (JSON), for the frontier's start list.

    Raises:
        StartDataError: the request carries what JSON cannot (a body, headers, non-JSON meta).
    """
    if request.cookies or request.cb_kwargs:
        raise StartDataError(f"start request {request.url} has cookies or cb_kwargs")
    data: dict[str, Any] = {"url": request.url}
    if request.body:
        try:
            data["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StartDataError(f"start request {request.url} has a body that is not UTF-8 text") from exc
    if request.headers:
        data["headers"] = {
            name.decode("latin-1"): values[-1].decode("latin-1") for name, values in request.headers.items() if values
        }
    for key, function in (("callback", request.callback), ("errback", request.errback)):
        name = method_name(spider, function)
        if name:
            data[key] = name
    if request.meta:
        data["meta"] = dict(request.meta)
    if request.priority:
        data["priority"] = request.priority
    if request.dont_filter:
        data["dont_filter"] = True
    if request.method != "GET":
        data["method"] = request.method
    try:
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise StartDataError(f"start request {request.url}: its meta is not JSON ({exc})") from exc


def request_from_start_data(data: bytes, spider: Spider) -> Request:
    """The request a start-URL entry stands for.

    Raises:
        StartDataError: not a URL, not JSON of the expected shape, or naming no method of the spider.
    """
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise StartDataError("start-URL data is not UTF-8") from exc
    fields: dict[str, Any] = {}
    if text.startswith("{"):
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise StartDataError(f"start-URL data is not JSON: {exc}") from exc
        unknown = sorted(set(fields) - START_KEYS)
        if unknown or not isinstance(fields.get("url"), str):
            raise StartDataError(f"start-URL JSON needs a 'url' and takes only {sorted(START_KEYS)}, got {text[:200]}")
        url = fields["url"]
    else:
        url = text
    try:
        return Request(
            url,
            callback=_method(spider, fields.get("callback")),
            errback=_method(spider, fields.get("errback")),
            meta=dict(fields.get("meta") or {}),
            priority=int(fields.get("priority") or 0),
            dont_filter=bool(fields.get("dont_filter", False)),
            method=str(fields.get("method") or "GET"),
            body=str(fields.get("body") or "").encode("utf-8"),
            headers={str(name): str(value) for name, value in dict(fields.get("headers") or {}).items()},
        )
    except (TypeError, ValueError) as exc:
        raise StartDataError(f"start-URL data {text[:200]!r}: {exc}") from exc


def _method(spider: Spider, name: Any) -> Any:
    if not name:
        return None
    method = getattr(spider, str(name), None)
    if not callable(method):
        raise StartDataError(f"spider {spider.name!r} has no method {name!r}")
    return method


class DistributedStartMiddleware:
    """In a distributed crawl, the spider's own start requests are not crawled: the frontier's are."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not DistributedConfig.from_settings(crawler.settings).enabled:
            raise NotConfigured("DISTRIBUTED_REDIS_URL is empty")
        return cls()

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Nothing: ``portal-archive dist seed`` queued the spider's start requests once, for every worker."""
        logger.info("Distributed crawl: start requests come from the shared frontier")
        nothing: tuple[Any, ...] = ()
        for item in nothing:
            yield item
