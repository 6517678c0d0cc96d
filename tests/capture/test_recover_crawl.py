"""``kill -9`` in the middle of a crawl, then the next scheduled run: nothing lost, nothing twice."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.cli import main
from portal_archive.crawl.runner import crawl_env
from portal_archive.demo import DemoPortal
from portal_archive.warc.check import check_files

pytestmark = pytest.mark.slow

ARTICLES_BEFORE_KILL = 10
SLOW_ANSWER_SECONDS = 0.2


def full_responses(directory: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    counts[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return counts


def known_articles(state: Path) -> int:
    """Articles the crawl state has recorded as done (0 while the file does not exist yet)."""
    if not state.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute("SELECT count(*) FROM pages WHERE done AND url LIKE '%/wxnews/%'").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_killed_crawl_is_recovered_and_resumed_without_loss_or_duplicates(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with DemoPortal(seed=20240401) as portal:
        portal.delay = SLOW_ANSWER_SECONDS  # keeps the crawl busy long enough to be caught in the middle
        command = [
            sys.executable, "-m", "scrapy", "crawl", "bendi",
            "-a", f"base_url={portal.aggregator_url}", "-s", f"WARC_DIR={archive}", "-s", "LOG_LEVEL=INFO",
        ]  # fmt: skip
        with (tmp_path / "killed.log").open("wb") as log:
            crawl = subprocess.Popen(command, env=crawl_env(), stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and crawl.poll() is None:
                # Kill once some articles are known to the crawl state (their items went through the
                # pipelines), whatever the machine's speed: those must come back as 304s.
                if known_articles(archive / "crawlstate.sqlite") >= ARTICLES_BEFORE_KILL:
                    break
                time.sleep(0.05)
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait()
        orphans = list(archive.glob("*.warc.gz.open"))
        assert len(orphans) == 1

        portal.delay = 0
        status = main(["crawl", "bendi", "--archive", str(archive), "-a", f"base_url={portal.aggregator_url}"])
        assert status == 0, (tmp_path / "killed.log").read_text(errors="replace")[-3000:]
        reachable = {e.url for e in portal.manifest.for_site("bendi") if e.reachable}
        articles = {e.url for e in portal.manifest.for_site("bendi") if e.kind == "article"}

    assert not list(archive.glob("*.open"))
    (summary_path,) = (archive / "runs").glob("*.json")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["recovery"]["files"] == [str(orphans[0]).removesuffix(".open")]
    (run,) = summary["portals"]
    assert run["ok"] and run["not_modified"] > 0
    # Archived before the kill but never indexed: fetched again, an identical-payload revisit.
    unfinished = run["stats"].get("incremental/unchanged", 0)
    assert run["not_modified"] + unfinished + run["new_articles"] == len(articles)
    assert run["stats"]["item_scraped_count"] == unfinished + run["new_articles"]

    counts = full_responses(archive)
    assert sorted(url for url in reachable if counts[url] != 1) == []
    checked, problems = check_files([archive])
    assert checked == 2 and [str(p) for p in problems] == []
