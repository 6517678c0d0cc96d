"""Distributed crawls of the demo portal, end to end: two workers per portal on a real redis-server.

Two workers share each portal's frontier: together they archive every page exactly as often as one
process does, and the near-duplicate clusters come out the same. One worker killed with ``kill -9``
in the middle loses nothing: the other takes its requests back and finishes, and the page it had
archived but not finished is fetched again as a revisit, so every page is there once in full.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from warcio.archiveiterator import ArchiveIterator

from portal_archive.archive.cdxj import default_index_path
from portal_archive.cli import main
from portal_archive.crawl.runner import PROJECT_ROOT, crawl_env
from portal_archive.demo import DemoPortal
from portal_archive.demo.run import DEMO_SPIDERS, SITE_URL_ATTR

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "portal-archive"
PREFIX = "portal-archive:crawl"
WORKERS = ("wa", "wb")
FAST = ["-s", "DISTRIBUTED_HEARTBEAT_INTERVAL=0.2", "-s", "CONCURRENT_REQUESTS=2"]


@dataclass(frozen=True)
class Capture:
    warc_type: str
    url: str
    record_id: str
    refers_to: str
    file: str

    @property
    def spider(self) -> str:
        """The crawl that wrote it: files are named ``SPIDER-…`` (a worker's ``SPIDER-…-WORKER…``)."""
        return self.file.split("-", 1)[0]


@dataclass
class WorkerRun:
    site: str
    worker: str
    process: subprocess.Popen[bytes]
    stats_file: Path
    log_file: Path

    @property
    def stats(self) -> dict[str, Any]:
        return dict(json.loads(self.stats_file.read_text("utf-8"))) if self.stats_file.exists() else {}

    def log_tail(self) -> str:
        return self.log_file.read_text("utf-8", "replace")[-3000:]


def start_worker(site: str, worker: str, url: str, base_url: str, archive: Path, work: Path, *extra: str) -> WorkerRun:
    stats_file, log_file = work / f"{site}-{worker}.json", work / f"{site}-{worker}.log"
    command = [
        str(BIN), "dist", "worker", site, "--redis", url, "--worker-id", worker, "--archive", str(archive),
        "-a", f"base_url={base_url}", "--seed-timeout", "60", "-s", f"RUN_STATS_FILE={stats_file}", *FAST, *extra,
    ]  # fmt: skip
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=crawl_env(), cwd=PROJECT_ROOT)
    return WorkerRun(site, worker, process, stats_file, log_file)


def wait_registered(client: Redis, runs: list[WorkerRun], timeout: float = 90) -> None:
    """Until every worker has joined its frontier (they wait there for the seed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(client.hexists(f"{PREFIX}:{run.site}:workers", run.worker) for run in runs):
            return
        failed = [run for run in runs if run.process.poll() is not None]
        assert not failed, failed[0].log_tail()
        time.sleep(0.1)
    raise AssertionError("workers did not join their frontiers")


def seed(site: str, url: str, base_url: str) -> None:
    assert main(["dist", "seed", site, "--redis", url, "-a", f"base_url={base_url}"]) == 0


def captures(directory: Path) -> list[Capture]:
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    headers = record.rec_headers
                    found.append(
                        Capture(
                            record.rec_type,
                            headers.get_header("WARC-Target-URI"),
                            headers.get_header("WARC-Record-ID"),
                            headers.get_header("WARC-Refers-To") or "",
                            path.name,
                        )
                    )
    return found


def counts(found: list[Capture], sites: dict[str, str] | None = None) -> dict[str, Counter[str]]:
    """Captures per URL; with ``sites`` (base URL → portal), only those its own portal's crawl made (a
    single-process crawl also archives the sources articles cite, which a distributed one does not)."""
    per_url: dict[str, Counter[str]] = defaultdict(Counter)
    for capture in found:
        if sites is not None:
            site = next((name for base, name in sites.items() if capture.url.startswith(base + "/")), None)
            if site is None or (site != capture.spider and not is_robots(capture.url)):
                continue
        per_url[capture.url][capture.warc_type] += 1
    return per_url


def is_robots(url: str) -> bool:
    return url.endswith("/robots.txt")


def report_clusters(directory: Path, output: Path) -> dict[str, dict[str, str]]:
    code = main(["dedup-report", str(directory), "--from", "warc", "--format", "json", "-o", str(output)])
    assert code == 0
    data = json.loads(output.read_text("utf-8"))
    return {c["canonical_url"]: {m["url"]: m["role"] for m in c["members"]} for c in data["clusters"]}


def stop(runs: list[WorkerRun]) -> None:
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


# -- two workers per portal -------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributedDemo:
    directory: Path
    runs: list[WorkerRun]
    url: str


@pytest.fixture(scope="module")
def dist_demo(redis_server: Any, demo_portal: Any, tmp_path_factory: pytest.TempPathFactory) -> DistributedDemo:
    url = redis_server.url_for(10)
    client = Redis.from_url(url)
    client.flushdb()
    work = tmp_path_factory.mktemp("dist-demo")
    union = work / "archive"
    delay = demo_portal.delay
    demo_portal.delay = 0.05  # pages take a moment, as on a real site: both workers get their share
    runs: list[WorkerRun] = []
    try:
        for site in DEMO_SPIDERS:
            base_url = getattr(demo_portal, SITE_URL_ATTR[site])
            runs += [start_worker(site, worker, url, base_url, union, work) for worker in WORKERS]
        wait_registered(client, runs)
        for site in DEMO_SPIDERS:
            seed(site, url, getattr(demo_portal, SITE_URL_ATTR[site]))
        for run in runs:
            run.process.wait(timeout=300)
    finally:
        demo_portal.delay = delay
        stop(runs)
        client.close()
    return DistributedDemo(union, runs, url)


def test_every_worker_crawled_and_exited_cleanly(dist_demo: DistributedDemo) -> None:
    for run in dist_demo.runs:
        stats = run.stats
        assert run.process.returncode == 0, run.log_tail()
        assert stats["finish_reason"] == "finished"
        assert stats["downloader/response_count"] > 0  # both workers had a share of every portal
        assert stats["dist/acked"] >= stats["dist/popped"] > 0  # start URLs found seen are done at once
        assert not stats.get("dist/requeued") and not stats.get("dist/acked_at_idle")
        assert not stats.get("incremental/conditional")  # incremental crawling is off in distributed mode
        files = sorted(dist_demo.directory.glob(f"{run.site}-*-{run.worker}.warc.gz"))
        assert files, f"no WARC file named for worker {run.worker}"
    assert not list(dist_demo.directory.glob("*.open"))


def test_the_union_holds_every_page_as_often_as_one_process_fetched_it(
    dist_demo: DistributedDemo, demo_archive: tuple[Path, list[Any]], demo_portal: Any
) -> None:
    sites = {base: site for site, base in demo_portal.urls.items()}
    union = counts(captures(dist_demo.directory), sites)
    single_captures = captures(demo_archive[0])
    single = counts(single_captures, sites)
    # Pages another portal's articles cite: the single crawl also archived them as sources, so which
    # of its captures is the full response and which the revisit depends on who came first.
    every = counts(single_captures)
    cited = {url for url, found in every.items() if found != single.get(url)}
    for entry in demo_portal.manifest.entries:
        if entry.reachable:
            assert union[entry.url]["response"] >= 1, entry.url
    assert set(union) == set(single)
    posted = {e.url for e in demo_portal.manifest.entries if e.method == "POST"}
    for url in union:
        if is_robots(url):  # every worker process reads robots.txt for itself, as every Scrapy process does
            # (a portal's own workers, and those of the portals whose articles cite its pages)
            assert 1 <= union[url]["response"] <= len(WORKERS) * len(DEMO_SPIDERS) and not union[url]["revisit"], url
        elif url in posted or url in cited:
            # One URL, many request bodies (an API's pages): as many exchanges; which of two identical
            # answers is the full response and which the revisit depends on which worker saw it first.
            assert union[url].total() == single[url].total(), url
        else:
            assert union[url] == single[url], url  # nothing fetched twice, nothing missing


def test_the_clusters_equal_a_single_machine_crawl(
    dist_demo: DistributedDemo, demo_archive: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    distributed = report_clusters(dist_demo.directory, tmp_path / "union.json")
    single = report_clusters(demo_archive[0], tmp_path / "single.json")
    assert distributed == single
    assert len(distributed) >= 10


def test_index_and_check_read_every_workers_files(
    dist_demo: DistributedDemo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", str(dist_demo.directory)]) == 0
    lines = default_index_path(dist_demo.directory).read_bytes().splitlines()
    indexed = {json.loads(line.split(b" ", 2)[2])["filename"] for line in lines}
    assert indexed == {p.name for p in dist_demo.directory.glob("*.warc.gz")}
    assert {name.rsplit("-", 1)[1] for name in indexed} == {f"{worker}.warc.gz" for worker in WORKERS}
    assert main(["check", "-q", str(dist_demo.directory)]) == 0
    capsys.readouterr()
    assert main(["dist", "status", "--redis", dist_demo.url]) == 0
    out = capsys.readouterr().out
    for site in DEMO_SPIDERS:
        assert f"{PREFIX}:{site}: 0 queued, 0 start URL(s) waiting, 0 in flight" in out
    assert "wa " in out and "wb " in out  # what each worker did stays readable


# -- one worker killed ----------------------------------------------------------------------------------


@pytest.fixture
def slow_portal() -> Iterator[DemoPortal]:
    with DemoPortal(seed=20240401) as portal:
        portal.delay = 0.1
        yield portal


def test_a_killed_worker_loses_nothing(redis_server: Any, slow_portal: DemoPortal, tmp_path: Path) -> None:
    url = redis_server.url_for(11)
    client = Redis.from_url(url)
    client.flushdb()
    archive = tmp_path / "archive"
    base = f"{PREFIX}:bendi"
    pipelines = json.dumps(
        {
            "tests.spiders_for_tests.lingering.LingeringPipeline": 100,
            "pipelines.dedup.NearDuplicatePipeline": 200,
            "pipelines.archive.ArticleRecordPipeline": 300,
        }
    )
    extra = ["-s", "DISTRIBUTED_HEARTBEAT_TTL=1.5", "-s", f"ITEM_PIPELINES={pipelines}"]
    base_url = slow_portal.aggregator_url
    doomed, survivor = (start_worker("bendi", worker, url, base_url, archive, tmp_path, *extra) for worker in WORKERS)
    try:
        wait_registered(client, [doomed, survivor])
        seed("bendi", url, base_url)
        # Kill it with pages done and one archived but still in its pipelines (not done): one seen archived
        # for the first time, so that most of its time in the pipelines is still ahead of it.
        deadline = time.monotonic() + 120
        seen: set[bytes] = set()
        while time.monotonic() < deadline:
            held = set(client.hkeys(f"{base}:inflight:{doomed.worker}"))
            archived_not_done = held & set(client.hkeys(f"{base}:archived"))
            fresh = archived_not_done - seen
            seen |= archived_not_done
            # The survivor must have acked a page too: its crawl has opened, so its start-up recovery of
            # orphan files is behind it and the doomed worker's file is left for ``recover`` below.
            started = int(client.hget(f"{base}:acked", survivor.worker) or 0) >= 1
            if int(client.hget(f"{base}:acked", doomed.worker) or 0) >= 5 and fresh and started:
                doomed.process.send_signal(signal.SIGKILL)
                break
            assert doomed.process.poll() is None, doomed.log_tail()
            time.sleep(0.02)
        else:
            raise AssertionError("the worker never had an archived page in hand")
        assert doomed.process.wait(timeout=30) == -signal.SIGKILL
        assert fresh & set(client.hkeys(f"{base}:inflight:{doomed.worker}")), "it finished the page as it was killed"
        assert survivor.process.wait(timeout=180) == 0, survivor.log_tail()
    finally:
        stop([doomed, survivor])
        client.close()

    stats = survivor.stats
    assert stats["dist/reclaimed_from_dead_workers"] >= 1  # the archived page, and whatever else it held
    assert stats["dist/refetched_archived"] >= 1
    (orphan,) = archive.glob(f"*-{doomed.worker}.warc.gz.open")
    assert main(["recover", str(archive)]) == 0
    assert not orphan.exists() and not list(archive.glob("*.open"))

    found = captures(archive)
    per_url = counts(found)
    bendi = [e for e in slow_portal.manifest.for_site("bendi") if e.reachable]
    for entry in bendi:
        expected = (1, len(WORKERS)) if is_robots(entry.url) else (1, 1)
        assert expected[0] <= per_url[entry.url]["response"] <= expected[1], (entry.url, per_url[entry.url])
    assert set(per_url) == {e.url for e in bendi} | {u for u in per_url if u.endswith("/robots.txt")}
    responses = {c.record_id: c for c in found if c.warc_type == "response"}
    refetched = [c for c in found if c.warc_type == "revisit" and responses[c.refers_to].file != c.file]
    assert refetched, "the archived page should have been fetched again as a revisit of the dead worker's record"
    for revisit in refetched:
        original = responses[revisit.refers_to]
        assert original.url == revisit.url
        assert original.file.endswith(f"-{doomed.worker}.warc.gz") and revisit.file.endswith(
            f"-{survivor.worker}.warc.gz"
        )
    assert main(["check", "-q", str(archive)]) == 0
    assert main(["index", str(archive)]) == 0
    lines = default_index_path(archive).read_bytes().splitlines()
    indexed = {json.loads(line.split(b" ", 2)[2])["filename"] for line in lines}
    assert indexed == {p.name for p in archive.glob("*.warc.gz")}  # the recovered file too
