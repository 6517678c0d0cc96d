"""Where Scrapy tells that a request is done, and how to wake an idle engine: two hooks, kept here.

Scrapy has no signal for "this response is fully handled". The reliable frontier needs one: a
request may be forgotten only once its WARC records are flushed, its items have gone through the
pipelines and the requests it led to are queued. ``Scraper.enqueue_scrape(result, request)``
returns a Deferred that fires exactly then, for a response and for a download failure alike
(``Scraper.handle_spider_output_async`` awaits every item and schedules every request first), so
the hook wraps that method on the running crawler's scraper. Requests the downloader replaced
(a redirect, a retry) never reach the scraper: the scheduler sees their replacement arrive
instead (``portal_archive.distributed.scheduler``).

An engine whose scheduler answered "nothing" only asks again on its own 5-second heartbeat; a
worker that sees the shared queue fill up asks it to look sooner (``wake``).

Both lean on Scrapy 2.19's engine; ``tests/distributed/test_scheduler.py`` fails if they move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class EngineHookError(RuntimeError):
    """This Scrapy's engine does not have what distributed crawling relies on."""


def on_scrape_done(crawler: Crawler, entered: Callable[[Request], None], done: Callable[[Request], None]) -> None:
    """Call ``entered(request)`` when a request's response or failure reaches the scraper, ``done(request)``
    once it is fully handled (items through the pipelines, new requests scheduled).

    Raises:
        EngineHookError: the engine has no scraper with ``enqueue_scrape``.
    """
    engine = crawler.engine
    scraper = getattr(engine, "scraper", None)
    original = getattr(scraper, "enqueue_scrape", None)
    if scraper is None or original is None:
        raise EngineHookError("Scrapy's engine has no scraper.enqueue_scrape: distributed crawling needs Scrapy 2.19")

    def enqueue_scrape(result: Any, request: Request) -> Any:
        entered(request)
        deferred = original(result, request)

        def finished(outcome: Any) -> Any:
            done(request)
            return outcome

        return deferred.addBoth(finished)

    scraper.enqueue_scrape = enqueue_scrape


def wake(crawler: Crawler) -> None:
    """Ask the engine to ask the scheduler for requests now rather than at its next heartbeat."""
    slot = getattr(crawler.engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


def supported(crawler: Crawler) -> bool:
    """Both hooks have what they need on this crawler's engine."""
    engine = crawler.engine
    return hasattr(getattr(engine, "scraper", None), "enqueue_scrape") and hasattr(
        getattr(engine, "_slot", None), "nextcall"
    )
