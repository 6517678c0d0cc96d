"""``portal-archive demo``: serve the demo portal, crawl it with the portal spiders, summarise.

Each spider runs as its own ``scrapy crawl`` subprocess (a fresh reactor, the real CLI), all at
once; the portal is served from this process. A run counts as failed when a crawl exits non-zero,
fetches nothing, loses a capture (``warc/errors``) or leaves a ``.open`` file behind: ``scrapy
crawl`` alone exits 0 in all of those cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from portal_archive.crawl.runner import PROJECT_ROOT, CrawlResult, crawl_env
from portal_archive.demo.portal import DEFAULT_PORT_BASE, ports_from

if TYPE_CHECKING:
    from portal_archive.demo import DemoPortal

__all__ = [
    "DEMO_SPIDERS", "SITE_URL_ATTR", "CrawlResult", "crawl_command", "crawl_env", "run_crawls", "run_demo",
    "serve_demo",
]  # fmt: skip

DEMO_SPIDERS = ("bendi", "infoq", "wechat")
DEMO_DEDUP_INDEX = "dedup.sqlite"
"""The folder's near-duplicate index, as any crawl into it keeps: ``dedup-report DIR`` reads it."""
SITE_URL_ATTR = {"bendi": "aggregator_url", "infoq": "infoq_url", "wechat": "wechat_url"}


def scrapy_command(
    spider: str, base_url: str, output: Path, stats_file: Path, log_level: str, settings: dict[str, str] | None = None
) -> list[str]:
    """The ``scrapy crawl`` command line for one demo crawl."""
    extra = [arg for name, value in (settings or {}).items() for arg in ("-s", f"{name}={value}")]
    return [
        sys.executable, "-m", "scrapy", "crawl", spider,
        "-a", f"base_url={base_url}",
        "-s", f"WARC_DIR={output.resolve()}",
        "-s", f"RUN_STATS_FILE={stats_file}",
        "-s", f"LOG_LEVEL={log_level}",
        "-s", "WARC_IS_PART_OF=portal-archive-demo",
        *extra,
    ]  # fmt: skip


def run_crawls(
    jobs: dict[str, str], output: Path, log_level: str, settings: dict[str, str] | None = None
) -> list[CrawlResult]:
    """Run ``scrapy crawl`` for each ``spider -> base_url`` concurrently and collect the results."""
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-archive-run-") as tmp:
        running = []
        for spider, base_url in jobs.items():
            stats_file = Path(tmp) / f"{spider}.json"
            log_file = (Path(tmp) / f"{spider}.log").open("w+b")
            process = subprocess.Popen(
                scrapy_command(spider, base_url, output, stats_file, log_level, settings),
                stdout=log_file, stderr=subprocess.STDOUT, env=crawl_env(), cwd=PROJECT_ROOT,
            )  # fmt: skip
            running.append((spider, process, stats_file, log_file))
        results = []
        for spider, process, stats_file, log_file in running:
            returncode = process.wait()
            log_file.seek(0)
            tail = log_file.read()[-4000:].decode("utf-8", "replace")
            log_file.close()
            stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
            results.append(CrawlResult(spider, returncode, stats, tail))
    return results


def format_summary(results: list[CrawlResult], output: Path) -> str:
    """A plain-text table: pages, items, records by type, bytes and files per spider."""
    columns = [
        "spider", "pages", "articles", "new", "not modified", "response", "revisit", "request", "warcinfo", "bytes",
        "files", "status",
    ]  # fmt: skip
    rows = []
    totals = dict.fromkeys(columns[1:-1], 0)
    for result in results:
        s = result.stats
        values = {
            "pages": s.get("downloader/response_count", 0),
            "articles": s.get("item_scraped_count", 0),
            "new": s.get("incremental/new", 0),
            "not modified": s.get("incremental/not_modified", 0),
            "response": s.get("warc/records/response", 0),
            "revisit": s.get("warc/records/revisit", 0),
            "request": s.get("warc/records/request", 0),
            "warcinfo": s.get("warc/records/warcinfo", 0),
            "bytes": s.get("warc/bytes", 0),
            "files": s.get("warc/files", 0),
        }
        for key, value in values.items():
            totals[key] += int(value)
        status = "ok" if not result.problems else "FAILED: " + "; ".join(result.problems)
        rows.append([result.spider, *(str(values[c]) for c in columns[1:-1]), status])
    rows.append(["total", *(str(totals[c]) for c in columns[1:-1]), ""])
    widths = [max(len(columns[i]), *(len(r[i]) for r in rows)) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"WARC files in {output.resolve()}")
    return "\n".join(lines)


def format_clusters(index_path: Path) -> str:
    """Which stories are copies of which original, from the crawl's near-duplicate index."""
    from portal_archive.dedup.config import DedupConfig
    from portal_archive.dedup.engine import DedupEngine
    from portal_archive.dedup.index import DedupIndexError

    if not index_path.exists():
        return "no near-duplicate index written (DEDUP_ENABLED is off?)"
    try:
        engine = DedupEngine.open(DedupConfig(index_path=index_path))
    except DedupIndexError as exc:
        return f"near-duplicate index unreadable: {exc}"
    lines = []
    try:
        decisions = sorted((d for _, d in engine.decisions()), key=lambda d: (-len(d.members), d.canonical.url))
        copies = sum(len(d.members) - 1 for d in decisions)
        lines.append(
            f"syndication: {len(decisions)} {'cluster' if len(decisions) == 1 else 'clusters'}, "
            f"{copies} republished {'copy' if copies == 1 else 'copies'}"
        )
        for decision in decisions:
            title = decision.canonical.title or decision.canonical.url
            lines.append(f"  original  {decision.canonical.url}  {title}  [decided by {decision.decided_by}]")
            for member in decision.members:
                if member.url != decision.canonical.url:
                    similarity = f"J={member.jaccard:.2f}" if member.jaccard is not None else ""
                    lines.append(f"    {member.role:8}  {member.url}  {similarity}")
    finally:
        engine.close()
    return "\n".join(lines)


SITES_RECORD = "demo-sites.json"
"""Where the last demo in a folder was served (its base URLs): the same URLs make the next demo an
incremental crawl of the same pages; other URLs, a new world beside the old one."""


def _same_sites_as_last_time(output: Path, urls: dict[str, str]) -> bool | None:
    """Whether the last demo in ``output`` was served at ``urls`` (None: no demo was); records them
    for the next one."""
    record = output / SITES_RECORD
    try:
        last = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = None
    output.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(urls, indent=2) + "\n", encoding="utf-8")
    return None if last is None else bool(last == urls)


def run_demo(
    *, output: Path, seed: int, spiders: tuple[str, ...] | None, log_level: str, port_base: int = DEFAULT_PORT_BASE
) -> int:
    """Serve the demo portal, crawl it, print the summary; the exit code says whether all went well."""
    from portal_archive.demo import DemoPortal

    chosen = spiders or DEMO_SPIDERS
    unknown = [s for s in chosen if s not in SITE_URL_ATTR]
    if unknown:
        print(f"unknown demo spider(s): {', '.join(unknown)}; choose from {', '.join(DEMO_SPIDERS)}", file=sys.stderr)
        return 2
    dedup_index = output / DEMO_DEDUP_INDEX
    with DemoPortal(seed=seed, ports=ports_from(port_base)) as portal:
        for note in portal.notes:
            print(f"note: {note}", file=sys.stderr)
        same = _same_sites_as_last_time(output, portal.urls)
        if same:
            print("the demo is served where it was last time: this crawl revisits the same pages", file=sys.stderr)
        elif same is False and dedup_index.exists():
            # An index of an earlier demo world would cluster this run's pages with pages of a
            # world no longer served: start it afresh (the earlier WARC files stay).
            print("the demo is served at other URLs than last time: a fresh near-duplicate index", file=sys.stderr)
            for stale in (dedup_index, *(dedup_index.with_name(dedup_index.name + s) for s in ("-wal", "-shm"))):
                stale.unlink(missing_ok=True)
        jobs = {name: getattr(portal, SITE_URL_ATTR[name]) for name in chosen}
        for name, url in jobs.items():
            print(f"demo site {name}: {url}", file=sys.stderr)
        print(f"crawling {len(jobs)} site(s) into {output.resolve()} ...", file=sys.stderr)
        results = run_crawls(jobs, output, log_level, {"DEDUP_INDEX_PATH": str(dedup_index.resolve())})
    print(format_summary(results, output))
    print(format_clusters(dedup_index))
    leftovers = sorted(output.glob("*.open"))
    failed = [r for r in results if r.problems]
    for result in failed:
        print(f"--- {result.spider} log (tail) ---\n{result.log_tail}", file=sys.stderr)
    if leftovers:
        print(f"unfinished WARC files left behind: {', '.join(p.name for p in leftovers)}", file=sys.stderr)
    return 1 if failed or leftovers else 0


def crawl_command(portal: DemoPortal, archive: Path) -> str:
    """The ``portal-archive crawl`` command line that crawls this running demo into ``archive``."""
    urls = " ".join(f"--base-url {name}={getattr(portal, SITE_URL_ATTR[name])}" for name in DEMO_SPIDERS)
    return f"portal-archive crawl {' '.join(DEMO_SPIDERS)} --archive {archive} {urls}"


def serve_demo(*, seed: int, port_base: int = DEFAULT_PORT_BASE, archive: Path = Path("archive")) -> int:
    """Serve the demo portal until Ctrl-C or SIGTERM, printing how to crawl it; ``kill -USR1`` turns
    it to the next day (and back), on the same ports, and says so."""
    from portal_archive.demo import DemoPortal

    with DemoPortal(seed=seed, ports=ports_from(port_base)) as portal:
        for note in portal.notes:
            print(f"note: {note}", file=sys.stderr)
        for site, url in portal.urls.items():
            print(f"{site:<7} {url}/")
        print(f"crawl it:   {crawl_command(portal, archive)}")
        print(f"next day:   kill -USR1 {os.getpid()}    (stop: Ctrl-C)")
        sys.stdout.flush()

        def announce(state: int) -> None:
            day = "the next day (state 2): new and edited articles" if state == 2 else "the first day (state 1)"
            print(f"now serving {day}; crawl again to see what changed", flush=True)

        portal.serve_until_stopped(announce)
    return 0
