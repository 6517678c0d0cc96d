"""``portal-archive dist worker``: one worker of a distributed crawl, in this process.

The same crawl as ``scrapy crawl SPIDER -s DISTRIBUTED_REDIS_URL=… -s DISTRIBUTED_WORKER_ID=… -s
WARC_DIR=…``, run here (Scrapy's ``CrawlerProcess``) so that killing this process kills the
worker and nothing else, and with an exit status that means something: 0 only when the crawl
finished, fetched something, archived every exchange and logged no error (``CrawlResult``).
SIGTERM or Ctrl-C stops it gracefully: the requests it had not finished go back to the queue.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal_archive.crawl.runner import CrawlResult, CrawlTarget
from portal_archive.distributed.config import redact_url


@dataclass(frozen=True)
class WorkerOptions:
    """What ``dist worker`` was asked to do."""

    target: CrawlTarget
    redis_url: str
    archive: Path
    worker_id: str = ""
    settings: Sequence[tuple[str, str]] = field(default_factory=tuple)
    arguments: Sequence[tuple[str, str]] = field(default_factory=tuple)
    log_level: str = "INFO"


def worker_settings(options: WorkerOptions) -> Any:
    """The project's settings with the worker's on top (at ``cmdline`` priority, like ``-s``)."""
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "portal_archive.settings")
    settings = get_project_settings()
    values = {"WARC_DIR": str(options.archive), "LOG_LEVEL": options.log_level, **dict(options.settings)}
    values["DISTRIBUTED_REDIS_URL"] = options.redis_url
    if options.worker_id:
        values["DISTRIBUTED_WORKER_ID"] = options.worker_id
    settings.setdict(values, priority="cmdline")
    return settings


def run_worker(options: WorkerOptions) -> tuple[int, CrawlResult]:
    """Crawl as one worker until the frontier is done; the exit status and the crawl's result."""
    from scrapy.crawler import CrawlerProcess

    settings = worker_settings(options)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(options.target.spider)
    arguments = dict(options.target.arguments) | dict(options.arguments)
    process.crawl(crawler, **arguments)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    result = CrawlResult(options.target.label, 0, dict(stats), "")
    worker = crawler.settings.get("DISTRIBUTED_WORKER_ID") or options.worker_id or "?"
    print(
        f"worker {worker} of {options.target.label} at {redact_url(options.redis_url)}: "
        f"{stats.get('downloader/response_count', 0)} page(s), {stats.get('item_scraped_count', 0)} article(s), "
        f"{stats.get('dist/acked', 0)} request(s) done, {stats.get('dist/requeued', 0)} handed back, "
        f"{stats.get('dist/reclaimed_from_dead_workers', 0)} taken back from dead workers; "
        f"WARC files in {options.archive}",
        file=sys.stderr,
    )
    for problem in result.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return (1 if result.problems else 0), result
