"""``portal-archive dist seed|worker|status``: run a crawl on several machines (``docs/distributed.md``).

Handlers are thin: the work is in ``seeding``, ``worker`` and ``frontier``. The Redis URL comes
from ``--redis`` or ``PORTAL_ARCHIVE_REDIS_URL`` (which keeps a password out of ``ps``). Exit
codes: 0 ok, 1 failure (Redis unreachable, a crawl that failed or fetched nothing), 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from redis import Redis

    from portal_archive.crawl.runner import CrawlTarget
    from portal_archive.distributed.config import DistributedConfig
    from portal_archive.distributed.frontier import FrontierStatus

REDIS_URL_ENV: Final = "PORTAL_ARCHIVE_REDIS_URL"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


class _Usage(Exception):
    """A command line that cannot be carried out (exit 2)."""


def _config(args: argparse.Namespace, settings: list[tuple[str, str]] | None = None) -> DistributedConfig:
    from scrapy.settings import Settings

    from portal_archive.distributed.config import DistributedConfig, DistributedSettingsError

    url = args.redis or os.environ.get(REDIS_URL_ENV, "")
    if not url:
        raise _Usage(f"name the frontier's Redis server: --redis redis://HOST:6379/0 or {REDIS_URL_ENV}")
    values = {**dict(settings or []), "DISTRIBUTED_REDIS_URL": url}
    if getattr(args, "prefix", None):
        values["DISTRIBUTED_KEY_PREFIX"] = args.prefix
    if getattr(args, "worker_id", None):
        values["DISTRIBUTED_WORKER_ID"] = args.worker_id
    try:
        return DistributedConfig.from_settings(Settings(values))
    except DistributedSettingsError as exc:
        raise _Usage(str(exc)) from exc


def _client(config: DistributedConfig) -> Redis:
    from portal_archive.distributed.connection import check_reachable, redis_client

    client = redis_client(config)
    check_reachable(client, config, setting="--redis")
    return client


def _target(portal: str) -> CrawlTarget:
    from portal_archive.crawl.runner import UsageError, resolve_targets

    try:
        (target,) = resolve_targets([portal], False)
    except UsageError as exc:
        raise _Usage(str(exc)) from exc
    return target


def _arguments(target: CrawlTarget, values: list[str] | None) -> list[tuple[str, str]]:
    """The ``-a`` arguments, refused in one line (exit 2) when the portal spider cannot start with them."""
    from portal_archive.crawl.runner import UsageError, check_arguments

    arguments = _pairs(values, "-a")
    try:
        check_arguments([target], arguments)
    except UsageError as exc:
        raise _Usage(str(exc)) from exc
    return arguments


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    from portal_archive.crawl.runner import UsageError, parse_pairs

    try:
        return parse_pairs(values or [], option)
    except UsageError as exc:
        raise _Usage(str(exc)) from exc


def _reporting(handler: Any) -> Any:
    """Usage problems exit 2, an unreachable server or a bad seed exit 1: one line on stderr each."""

    def run(args: argparse.Namespace) -> int:
        from portal_archive.distributed.connection import DistributedConnectionError
        from portal_archive.distributed.frontier import WorkerIdInUse
        from portal_archive.distributed.start import StartDataError

        try:
            return int(handler(args))
        except _Usage as exc:
            print(f"portal-archive dist {args.dist_command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except (DistributedConnectionError, StartDataError, WorkerIdInUse) as exc:
            print(f"portal-archive dist {args.dist_command}: {exc}", file=sys.stderr)
            return EXIT_FAILED

    return run


def _archive_dir(value: str | None, settings: list[tuple[str, str]]) -> Path:
    """``--archive``, else ``-s WARC_DIR``, else the project's ``WARC_DIR``."""
    from portal_archive.cli.archive import default_archive_dir

    chosen = value or dict(settings).get("WARC_DIR")
    return Path(chosen).resolve() if chosen else default_archive_dir().resolve()


@_reporting
def _cmd_seed(args: argparse.Namespace) -> int:
    from portal_archive.crawl.runner import project_spiders
    from portal_archive.distributed.config import frontier_name, redact_url
    from portal_archive.distributed.frontier import Frontier
    from portal_archive.distributed.seeding import build_spider, seed, start_requests

    target = _target(args.portal)
    arguments = _arguments(target, args.arg)
    config = _config(args)
    spider = build_spider(project_spiders()[target.spider], dict(target.arguments) | dict(arguments))
    requests = start_requests(spider)
    client = _client(config)
    frontier = Frontier(client, config.base_key(frontier_name(spider)))
    if args.fresh:
        live = [worker.worker for worker in frontier.status().workers if worker.alive]
        if live:
            print(
                f"portal-archive dist seed: workers {', '.join(live)} are still running; not clearing", file=sys.stderr
            )
            return EXIT_FAILED
        print(f"cleared {frontier.clear()} key(s) of {frontier.base}")
    seeded = seed(frontier, spider, requests)
    for url in seeded.urls:
        print(f"queued {url}")
    print(
        f"{len(seeded.urls)} start URL(s) of {target.label} in {frontier.key('start_urls')} at "
        f"{redact_url(config.redis_url)} ({seeded.start_list_length} waiting for workers)"
    )
    return EXIT_OK if seeded.urls else EXIT_FAILED


@_reporting
def _cmd_worker(args: argparse.Namespace) -> int:
    from portal_archive.distributed.worker import WorkerOptions, run_worker

    target = _target(args.portal)
    arguments = _arguments(target, args.arg)
    settings = _pairs(args.set, "-s")
    if args.seed_timeout is not None:
        settings.append(("DISTRIBUTED_SEED_TIMEOUT", str(args.seed_timeout)))
    config = _config(args, settings)  # validated before anything starts
    client = _client(config)
    client.close()
    options = WorkerOptions(
        target=target,
        redis_url=config.redis_url,
        archive=_archive_dir(args.archive, settings),
        worker_id=args.worker_id or "",
        settings=[(name, value) for name, value in settings if name != "WARC_DIR"],
        arguments=arguments,
        log_level=args.log_level,
    )
    status, _ = run_worker(options)
    return status


@_reporting
def _cmd_status(args: argparse.Namespace) -> int:
    from portal_archive.crawl.runner import project_spiders
    from portal_archive.distributed.config import frontier_name
    from portal_archive.distributed.frontier import Frontier, spiders_with_frontiers
    from portal_archive.distributed.seeding import build_spider

    config = _config(args)
    client = _client(config)
    if args.portal:
        target = _target(args.portal)
        spider = build_spider(project_spiders()[target.spider], dict(target.arguments))
        names = [frontier_name(spider)]
    else:
        names = spiders_with_frontiers(client, config.key_prefix)
    if not names:
        print(f"no frontier under {config.key_prefix}:*")
    now_ms = time.time() * 1000
    for name in names:
        print(format_status(Frontier(client, config.base_key(name)).status(), now_ms))
    return EXIT_OK


def format_status(status: FrontierStatus, now_ms: float) -> str:
    """A frontier and its workers as a few lines of text."""
    lines = [
        f"{status.base}: {status.queued} queued, {status.start_urls} start URL(s) waiting, "
        f"{status.in_flight} in flight, {status.seen} seen"
    ]
    if status.workers:
        rows = [("worker", "alive", "in flight", "done", "last heartbeat")]
        for worker in status.workers:
            seen = f"{(now_ms - worker.last_seen_ms) / 1000:.1f} s ago" if worker.last_seen_ms else "-"
            rows.append(
                (worker.worker, "yes" if worker.alive else "no", str(worker.in_flight), str(worker.acked), seen)
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def add_dist_commands(sub: Any) -> None:
    """Register ``dist`` and its subcommands on ``portal-archive``'s subparsers."""
    dist = sub.add_parser(
        "dist",
        help="crawl on several machines: seed a shared frontier on Redis, run workers, watch them",
        description="Distributed crawling (docs/distributed.md): `seed` queues a portal's start URLs on the Redis "
        "server, `worker` crawls from there until the whole frontier is done (run one on each machine), "
        "`status` shows what is queued and in flight.",
    )
    commands = dist.add_subparsers(dest="dist_command", required=True)
    redis_help = f"the frontier's Redis server, redis://[:PASSWORD@]HOST:PORT/DB (default: ${REDIS_URL_ENV})"

    seed = commands.add_parser("seed", help="queue the portal's start URLs for the workers")
    seed.add_argument("portal", metavar="PORTAL", help="spider name or profile .toml file")
    seed.add_argument("--redis", metavar="URL", help=redis_help)
    seed.add_argument("-a", "--arg", action="append", metavar="NAME=VALUE", help="spider argument, e.g. base_url=…")
    seed.add_argument("--prefix", help="key prefix (DISTRIBUTED_KEY_PREFIX; default portal-archive:crawl)")
    seed.add_argument("--fresh", action="store_true", help="clear the portal's frontier first (queue and seen set)")
    seed.set_defaults(func=_cmd_seed)

    worker = commands.add_parser("worker", help="crawl from the frontier until it is done; exit 1 if nothing fetched")
    worker.add_argument("portal", metavar="PORTAL", help="spider name or profile .toml file")
    worker.add_argument("--redis", metavar="URL", help=redis_help)
    worker.add_argument("--worker-id", metavar="ID", help="in WARC file names and Redis keys (default: HOSTNAME-PID)")
    worker.add_argument("--archive", metavar="DIR", help="this worker's WARC folder (default: WARC_DIR, i.e. archive)")
    worker.add_argument("-a", "--arg", action="append", metavar="NAME=VALUE", help="spider argument, e.g. base_url=…")
    worker.add_argument(
        "--seed-timeout",
        type=float,
        metavar="SECONDS",
        help="wait this long for `dist seed` when the frontier never had work (DISTRIBUTED_SEED_TIMEOUT; default 0)",
    )
    worker.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="Scrapy setting")
    worker.add_argument("--log-level", default="INFO", help="Scrapy log level (default: INFO)")
    worker.set_defaults(func=_cmd_worker)

    status = commands.add_parser("status", help="queued requests, start URLs, requests in flight per worker")
    status.add_argument("portal", nargs="?", metavar="PORTAL", help="one portal (default: every frontier found)")
    status.add_argument("--redis", metavar="URL", help=redis_help)
    status.add_argument("--prefix", help="key prefix (DISTRIBUTED_KEY_PREFIX; default portal-archive:crawl)")
    status.set_defaults(func=_cmd_status)
