"""Distributed crawling: Redis bytes per queued URL and per seen fingerprint, documents per second per worker.

Usage::

    .venv/bin/python bench/dist.py [--urls 100000] [--articles 2000] [--latency-ms 0]

Memory (no crawl): ``--urls`` requests of the generated bench portal, made by the ``portal``
spider itself (``PortalSpider.request``: callback, errback, list depth and page in meta), go into
a private redis-server two ways, each measured as the growth of ``used_memory`` (allocator size
classes included) and split by key with ``MEMORY USAGE``:

- ``ours``: the frontier (``portal_archive.distributed``): an id in a sorted set, the request
  stored as data (msgpack) without its default values in a hash, Scrapy's 20-byte fingerprint in the seen set;
- ``scrapy-redis``: its defaults, measured in the same run: ``PriorityQueue`` (the whole pickled
  ``Request.to_dict()`` as a sorted-set member) and ``RFPDupeFilter`` (40 hex digits).

Bytes per queued URL are taken with every URL queued (queue + seen set); bytes per fingerprint
once every request has been taken and acknowledged (only the seen set is left).

Throughput: the generated portal (``bench/sites/portal.py``, 2,000 articles of 2-4 KB) is served
by nginx on 127.0.0.1 (or with ``--latency-ms`` by the delaying server of ``bench/sites/servers.py``),
and crawled whole by the ``portal`` spider, project settings, every pipeline on:

- ``single``: ``scrapy crawl portal``, one process, Scrapy's scheduler, SQLite dedup index;
- ``dist x1`` / ``dist x2``: ``portal-archive dist seed`` then one or two ``dist worker`` processes
  on the same Redis (frontier and near-duplicate index there);
- ``dist x1 nodedup``: one worker with ``DEDUP_ENABLED=False``: the frontier's own share of Redis.

Per variant: articles, wall seconds from the first process start to the last exit, documents per
second overall and per worker (each worker's articles over its own crawl time), documents per
worker CPU-second (user + system, ``os.wait4``: the figure that carries over to a machine per
worker), and per document: Redis commands (those run inside scripts included), script calls
(round trips) and Redis CPU. The near-duplicate index's bytes per document come from
``bench/dedup_redis.py`` (``bench/results/dedup_redis.json``) when it has run. This machine has 2 cores shared by the
workers, nginx and redis-server: ``dist x2`` shows the coordination costs, not a second machine.

Prints a table and writes JSON to ``bench/results/dist.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis
from scrapy import Request
from scrapy.utils.request import RequestFingerprinter
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sites.portal import build_site, write_profile  # noqa: E402
from sites.servers import DelayServer, NginxServer  # noqa: E402

from portal_archive.crawl.runner import crawl_env  # noqa: E402
from portal_archive.distributed import codec  # noqa: E402
from portal_archive.distributed.frontier import Frontier  # noqa: E402
from portal_archive.distributed.queue import request_to_dict  # noqa: E402
from spiders.portal import ProfileSpider  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "dist.json"
BIN = Path(sys.executable).parent
BATCH = 1000


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def server_cpu(client: Any) -> float:
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def command_calls(client: Any) -> tuple[int, int]:
    """Commands run since the last ``CONFIG RESETSTAT`` (inside scripts included), and script calls."""
    stats = client.info("commandstats")
    total = sum(int(entry["calls"]) for entry in stats.values())
    scripts = sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))
    return total, scripts


def key_bytes(client: Any, pattern: str) -> dict[str, int]:
    """``MEMORY USAGE`` (every element sampled) of each key matching ``pattern``, by its last name part."""
    sizes: dict[str, int] = {}
    for key in client.scan_iter(match=pattern, count=1000):
        name = key.decode().rsplit(":", 1)[-1]
        sizes[name] = sizes.get(name, 0) + int(client.memory_usage(key, samples=0) or 0)
    return sizes


# -- memory -------------------------------------------------------------------------------------------


@dataclass
class MemoryRow:
    layout: str
    urls: int
    payload_bytes_mean: float
    bytes_per_queued_url: float
    bytes_per_fingerprint: float
    queued_by_key: dict[str, float] = field(default_factory=dict)


def portal_requests(spider: ProfileSpider, count: int) -> list[Request]:
    """Article requests as the spider makes them for links it follows."""
    requests = []
    for number in range(count):
        day = 20260101 + number % 28
        url = f"{spider.base_url}/news/{day}/{1_000_000 + number}.html"
        requests.append(spider.request(url, spider.parse_article, depth=1))
    return requests


def measure_ours(client: Any, spider: ProfileSpider, requests: list[Request]) -> MemoryRow:
    client.flushdb()
    fingerprinter = RequestFingerprinter()
    frontier = Frontier(client, "bench:ours:portal", "bench-worker")
    frontier.claim_worker()
    before = used_memory(client)
    sizes = 0
    for start in range(0, len(requests), BATCH):
        items = []
        for request in requests[start : start + BATCH]:
            payload = codec.dumps(request_to_dict(request, spider))
            sizes += len(payload)
            items.append((fingerprinter.fingerprint(request), -request.priority, payload))
        frontier.push(items)
    queued = used_memory(client) - before
    by_key = key_bytes(client, "bench:ours:portal:*")
    while entries := frontier.pop(BATCH):
        frontier.ack(entries)
    seen = used_memory(client) - before
    n = len(requests)
    return MemoryRow(
        "ours",
        n,
        sizes / n,
        queued / n,
        seen / n,
        {k: v / n for k, v in by_key.items() if k in ("queue", "seen")},
    )


def measure_scrapy_redis(client: Any, spider: ProfileSpider, requests: list[Request]) -> MemoryRow:
    client.flushdb()
    dupefilter = RFPDupeFilter(client, "bench:peer:portal:dupefilter")
    queue_key = "bench:peer:portal:requests"
    # Its payload is the whole to_dict(): the same dict as ours, found faster, pickled without stripping.
    assert request_to_dict(requests[0], spider) == requests[0].to_dict(spider=spider)
    before = used_memory(client)
    sizes = 0
    for start in range(0, len(requests), BATCH):
        pipe = client.pipeline(transaction=False)
        for request in requests[start : start + BATCH]:
            payload = picklecompat.dumps(request_to_dict(request, spider))
            sizes += len(payload)
            pipe.sadd(dupefilter.key, dupefilter.request_fingerprint(request))
            pipe.execute_command("ZADD", queue_key, -request.priority, payload)
        pipe.execute()
    queued = used_memory(client) - before
    by_key = key_bytes(client, "bench:peer:portal:*")
    while client.zpopmin(queue_key, BATCH):
        pass
    seen = used_memory(client) - before
    n = len(requests)
    renamed = {"queue": by_key.get("requests", 0) / n, "seen": by_key.get("dupefilter", 0) / n}
    return MemoryRow("scrapy-redis", n, sizes / n, queued / n, seen / n, renamed)


# -- throughput ---------------------------------------------------------------------------------------


@dataclass
class CrawlRow:
    variant: str
    workers: int
    articles: int
    pages: int
    wall_s: float
    cpu_s: list[float]
    per_worker_articles: list[int]
    per_worker_elapsed_s: list[float]
    redis_commands: int = 0
    redis_scripts: int = 0
    redis_cpu_s: float = 0.0
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def docs_per_s(self) -> float:
        return self.articles / self.wall_s

    @property
    def docs_per_s_per_worker(self) -> float:
        rates = [a / e for a, e in zip(self.per_worker_articles, self.per_worker_elapsed_s, strict=True) if e > 0]
        return sum(rates) / len(rates) if rates else 0.0

    @property
    def docs_per_worker_cpu_s(self) -> float:
        return self.articles / sum(self.cpu_s)

    def figures(self) -> dict[str, Any]:
        figures = asdict(self)
        figures.update(
            docs_per_s=self.docs_per_s,
            docs_per_s_per_worker=self.docs_per_s_per_worker,
            docs_per_worker_cpu_s=self.docs_per_worker_cpu_s,
            redis_commands_per_doc=self.redis_commands / self.articles if self.articles else None,
            redis_scripts_per_doc=self.redis_scripts / self.articles if self.articles else None,
            redis_cpu_us_per_doc=self.redis_cpu_s / self.articles * 1e6 if self.articles else None,
        )
        return figures


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=crawl_env(), cwd=ROOT)


def _wait(processes: list[subprocess.Popen[bytes]]) -> list[float]:
    """Wait for each process; its CPU seconds (user + system, children included)."""
    cpu = []
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu.append(usage.ru_utime + usage.ru_stime)
    return cpu


def _stats(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text("utf-8"))) if path.exists() else {}


def crawl_single(profile: Path, base_url: str, work: Path) -> CrawlRow:
    archive, stats_file = work / "single", work / "single.json"
    command = [
        str(BIN / "python"), "-m", "scrapy", "crawl", "portal", "-a", f"profile={profile}", "-a",
        f"base_url={base_url}", "-s", f"WARC_DIR={archive}", "-s", f"RUN_STATS_FILE={stats_file}",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip
    started = time.monotonic()
    process = _spawn(command, work / "single.log")
    cpu = _wait([process])
    wall = time.monotonic() - started
    stats = _stats(stats_file)
    articles = int(stats.get("item_scraped_count", 0))
    return CrawlRow(
        "single",
        1,
        articles,
        int(stats.get("downloader/response_count", 0)),
        wall,
        cpu,
        [articles],
        [float(stats.get("elapsed_time_seconds", wall))],
        ok=process.returncode == 0 and articles > 0,
    )


def crawl_distributed(
    workers: int, profile: Path, base_url: str, work: Path, client: Any, url: str, *settings: str, label: str = ""
) -> CrawlRow:
    client.flushdb()
    name = label or f"dist x{workers}"
    slug = name.replace(" ", "-")
    archive = work / slug
    seed = [str(BIN / "portal-archive"), "dist", "seed", str(profile), "--redis", url, "-a", f"base_url={base_url}"]
    client.config_resetstat()
    cpu_before = server_cpu(client)
    started = time.monotonic()
    if subprocess.run(seed, capture_output=True, env=crawl_env(), cwd=ROOT, check=False).returncode != 0:
        raise RuntimeError(f"dist seed failed: {' '.join(seed)}")
    processes, stats_files = [], []
    for number in range(workers):
        stats_file = work / f"{slug}-w{number}.json"
        command = [
            str(BIN / "portal-archive"), "dist", "worker", str(profile), "--redis", url, "--worker-id", f"w{number}",
            "--archive", str(archive), "-a", f"base_url={base_url}", "-s", f"RUN_STATS_FILE={stats_file}",
        ]  # fmt: skip
        for setting in settings:
            command += ["-s", setting]
        processes.append(_spawn(command, work / f"{slug}-w{number}.log"))
        stats_files.append(stats_file)
    cpu = _wait(processes)
    wall = time.monotonic() - started
    total, scripts = command_calls(client)
    stats = [_stats(path) for path in stats_files]
    per_worker = [int(s.get("item_scraped_count", 0)) for s in stats]
    problems = [f"worker {n} exited {p.returncode}" for n, p in enumerate(processes) if p.returncode != 0]
    return CrawlRow(
        name,
        workers,
        sum(per_worker),
        sum(int(s.get("downloader/response_count", 0)) for s in stats),
        wall,
        cpu,
        per_worker,
        [float(s.get("elapsed_time_seconds", 0.0)) for s in stats],
        redis_commands=total,
        redis_scripts=scripts,
        redis_cpu_s=server_cpu(client) - cpu_before,
        ok=not problems,
        problems=problems,
    )


# -- output ---------------------------------------------------------------------------------------------


def memory_table(rows: list[MemoryRow]) -> str:
    lines = [
        "layout        payload B  bytes/queued URL  bytes/fingerprint  (queued: queue + seen)",
    ]
    for row in rows:
        split = " + ".join(f"{k} {v:.0f}" for k, v in sorted(row.queued_by_key.items()))
        lines.append(
            f"{row.layout:<12}  {row.payload_bytes_mean:>9.0f}  {row.bytes_per_queued_url:>16.0f}"
            f"  {row.bytes_per_fingerprint:>17.0f}  ({split})"
        )
    return "\n".join(lines)


def _per_doc(row: CrawlRow, value: float, digits: int = 1) -> str:
    return f"{value / row.articles:.{digits}f}" if row.articles and value else "-"


def crawl_table(rows: list[CrawlRow]) -> str:
    lines = [
        "variant           workers  articles  wall s  docs/s  docs/s/worker  docs/worker-CPU-s"
        "  redis cmds/doc  scripts/doc  redis CPU us/doc  ok"
    ]
    for row in rows:
        lines.append(
            f"{row.variant:<16}  {row.workers:>7}  {row.articles:>8}  {row.wall_s:>6.1f}  {row.docs_per_s:>6.1f}"
            f"  {row.docs_per_s_per_worker:>13.1f}  {row.docs_per_worker_cpu_s:>17.1f}"
            f"  {_per_doc(row, row.redis_commands):>14}  {_per_doc(row, row.redis_scripts):>11}"
            f"  {_per_doc(row, row.redis_cpu_s * 1e6, 0):>16}  {'yes' if row.ok else 'NO: ' + '; '.join(row.problems)}"
        )
    return "\n".join(lines)


def dedup_bytes_per_doc() -> float | None:
    """The Redis near-duplicate index's bytes per document, as ``bench/dedup_redis.py`` last measured them."""
    path = ROOT / "bench" / "results" / "dedup_redis.json"
    try:
        return float(json.loads(path.read_text("utf-8"))["paths"]["redis"]["bytes_per_doc"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--urls", type=int, default=100_000, help="requests queued for the memory figures")
    parser.add_argument("--articles", type=int, default=2000, help="articles of the generated portal")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="serve each page this late (0: nginx)")
    parser.add_argument("--skip-crawl", action="store_true", help="memory figures only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="dist-bench-") as scratch:
        work = Path(scratch)
        with RedisServer(work / "redis") as server:
            url = server.url_for(1)
            client = redis.Redis.from_url(url)
            version = client.info("server")["redis_version"]
            profile = write_profile(work / "benchportal.toml", "http://127.0.0.1:9")
            spider = ProfileSpider(profile=str(profile), base_url="https://bench-portal.example.cn")
            requests = portal_requests(spider, args.urls)
            memory = [measure_ours(client, spider, requests), measure_scrapy_redis(client, spider, requests)]
            print(f"Redis {version}, {args.urls:,} queued article requests")
            print(memory_table(memory))
            dedup = dedup_bytes_per_doc()
            print(
                "near-duplicate index: "
                + (f"{dedup:.0f} bytes per document (bench/dedup_redis.py)" if dedup else "run bench/dedup_redis.py")
            )
            crawls: list[CrawlRow] = []
            site: dict[str, Any] = {}
            if not args.skip_crawl:
                manifest = build_site(work / "site", args.articles)
                site = {"pages": manifest.pages, "articles": manifest.articles, "bytes": manifest.bytes}
                served = DelayServer(work / "site", args.latency_ms) if args.latency_ms else NginxServer(work / "site")
                with served as http:
                    profile = write_profile(work / "benchportal.toml", http.base_url)
                    crawls.append(crawl_single(profile, http.base_url, work))
                    for workers in (1, 2):
                        crawls.append(crawl_distributed(workers, profile, http.base_url, work, client, url))
                    crawls.append(
                        crawl_distributed(
                            1, profile, http.base_url, work, client, url, "DEDUP_ENABLED=False", label="dist x1 nodedup"
                        )
                    )
                print()
                print(f"crawl of {manifest.pages} pages ({manifest.articles} articles), latency {args.latency_ms} ms")
                print(crawl_table(crawls))
            client.close()
    results = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "redis_server": version,
            "redis_py": redis.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "memory": [asdict(row) for row in memory],
        "dedup_bytes_per_doc": dedup,
        "site": site,
        "latency_ms": args.latency_ms,
        "crawls": [row.figures() for row in crawls],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0 if all(row.ok for row in crawls) else 1


if __name__ == "__main__":
    raise SystemExit(main())
