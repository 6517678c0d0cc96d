"""Two scheduled runs against the demo portal: yesterday's world, then the next day's.

Run 1 is the session's demo crawl (``demo_archive``), copied; run 2 crawls the same portal, on the
same ports, switched to state 2. Run 2 must fetch in full only what is new or changed, revalidate
everything else (server-not-modified revisits), flag the edited article as a new version, and
cluster the next day's copies with their run-1 originals.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.dedup.config import DedupConfig
from portal_archive.dedup.engine import DedupEngine
from portal_archive.demo import preview_manifest
from portal_archive.demo.nextday import UPDATE_NOTE
from portal_archive.demo.run import SITE_URL_ATTR, CrawlResult, run_crawls
from portal_archive.warc.check import check_files
from portal_archive.warc.records import REVISIT_IDENTICAL_PAYLOAD, REVISIT_SERVER_NOT_MODIFIED
from tests.conftest import LINT_WARC, lint_available

pytestmark = pytest.mark.slow

SITES = tuple(SITE_URL_ATTR)


@dataclass(frozen=True)
class Capture:
    warc_type: str
    url: str
    profile: str
    file: str


def captures(files: list[Path]) -> Iterator[Capture]:
    for path in files:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    headers = record.rec_headers
                    yield Capture(
                        record.rec_type,
                        headers.get_header("WARC-Target-URI"),
                        headers.get_header("WARC-Profile") or "",
                        path.name,
                    )


@dataclass(frozen=True)
class TwoRuns:
    directory: Path
    run1_files: list[Path]
    run2_files: list[Path]
    run1: list[CrawlResult]
    run2: list[CrawlResult]
    state1: Any
    state2: Any
    items: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def two_runs(demo_portal: Any, demo_archive: tuple[Path, list[CrawlResult]], tmp_path_factory: Any) -> TwoRuns:
    first, run1 = demo_archive
    for result in run1:
        assert result.problems == [], f"run 1 (the session's demo crawl) failed: {result.log_tail}"
    directory = tmp_path_factory.mktemp("incremental") / "archive"
    shutil.copytree(first, directory)
    run1_files = sorted(directory.glob("*.warc.gz"))
    state1 = demo_portal.manifest
    feeds = directory.parent / "items"
    jobs = {name: getattr(demo_portal, attr) for name, attr in SITE_URL_ATTR.items()}
    demo_portal.set_state(2)
    try:
        state2 = demo_portal.manifest
        feed = json.dumps({str(feeds / "%(name)s.jsonl"): {"format": "jsonlines"}})
        run2 = run_crawls(jobs, directory, "INFO", {"FEEDS": feed})
    finally:
        demo_portal.set_state(1)
    run2_files = sorted(set(directory.glob("*.warc.gz")) - set(run1_files))
    items = {}
    for path in feeds.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            items[item["url"]] = item
    return TwoRuns(directory, run1_files, run2_files, run1, run2, state1, state2, items)


def site_articles(manifest: Any, site: str) -> set[str]:
    return {e.url for e in manifest.for_site(site) if e.kind == "article" and e.reachable}


def test_state_two_keeps_every_state_one_url_and_names_what_is_new() -> None:
    day1, day2 = preview_manifest(), preview_manifest(state=2)
    assert day1.changes is None and "changes" not in day1.to_dict()
    assert {e.url for e in day1} <= {e.url for e in day2}
    changes = day2.changes
    assert changes is not None and changes.state == 2 and len(changes.changed) == 2
    new_articles = [day2.by_url(url) for url in changes.new if day2.by_url(url).kind == "article"]
    assert {e.site for e in new_articles} == {"bendi", "infoq", "wechat"}
    old_originals = {e.url for e in day1.articles() if e.relation == "original"}
    assert sum(1 for e in new_articles if e.original_url in old_originals) >= 3
    edited = [day2.by_url(url) for url in changes.changed]
    assert all(entry.body_text != day1.by_url(entry.url).body_text for entry in edited)
    # One served in its HTML, one through its article API (its page unchanged).
    assert sorted(entry.delivery for entry in edited) == ["api", "html"]


def api_edited(two_runs: TwoRuns) -> set[str]:
    """The article edited only in its API's answer: its page answers 304 like an unchanged one."""
    return {url for url in two_runs.state2.changes.changed if two_runs.state2.by_url(url).delivery == "api"}


def test_run_two_succeeds(two_runs: TwoRuns) -> None:
    for result in two_runs.run2:
        assert result.problems == [], result.log_tail
    assert not list(two_runs.directory.glob("*.open"))


def test_run_two_fetches_in_full_only_new_and_changed_articles(two_runs: TwoRuns) -> None:
    changes = two_runs.state2.changes
    by_spider = {result.spider: result.stats for result in two_runs.run2}
    for site in SITES:
        stats = by_spider[site]
        new = site_articles(two_runs.state2, site) - site_articles(two_runs.state1, site)
        changed = set(changes.changed) & site_articles(two_runs.state1, site)
        by_api = api_edited(two_runs) & changed
        known = site_articles(two_runs.state1, site) - changed
        assert stats.get("incremental/new", 0) == len(new), site
        assert stats.get("incremental/changed", 0) == len(changed), site
        assert stats.get("incremental/not_modified", 0) == len(known) + len(by_api), site
        assert stats.get("incremental/conditional", 0) == len(known) + len(changed), site
        assert stats.get("incremental/unchanged", 0) == 0, site
        assert stats.get("downloader/response_status_count/304", 0) == len(known) + len(by_api), site
        assert stats.get("item_scraped_count", 0) == len(new) + len(changed), site
        # Pages whose body run 1 asked the article API for: the API is asked again after their 304.
        asked = {
            url for url in site_articles(two_runs.state1, site)
            if two_runs.state1.by_url(url).delivery not in ("", "html")
        }  # fmt: skip
        assert stats.get("spider/api/rechecked", 0) == len(asked), site
        assert stats.get("spider/api/changed", 0) == len(by_api), site
        assert stats.get("spider/api/unchanged", 0) == len(asked) - len(by_api), site

    run2 = defaultdict(list)
    for capture in captures(two_runs.run2_files):
        run2[capture.url].append(capture)
    for url in set().union(*(site_articles(two_runs.state1, site) for site in SITES)):
        if url in api_edited(two_runs):
            # 304, then fetched again for the new body: the same HTML, a revisit of run 1's.
            assert [(c.warc_type, c.profile) for c in run2[url]] == [
                ("revisit", REVISIT_SERVER_NOT_MODIFIED), ("revisit", REVISIT_IDENTICAL_PAYLOAD)
            ], url  # fmt: skip
            continue
        if url in changes.changed:
            assert [c.warc_type for c in run2[url]] == ["response"], url
            continue
        (capture,) = run2[url]
        assert capture.warc_type == "revisit" and capture.profile == REVISIT_SERVER_NOT_MODIFIED, url
    for url in changes.new:
        assert "response" in [c.warc_type for c in run2[url]], url


def test_every_url_of_both_states_is_archived_in_full(two_runs: TwoRuns) -> None:
    found = defaultdict(list)
    for capture in captures(two_runs.run1_files + two_runs.run2_files):
        found[capture.url].append(capture.warc_type)
    reachable = {e.url for e in two_runs.state2 if e.reachable}
    assert sorted(url for url in reachable if "response" not in found[url]) == []
    articles = {e.url for e in two_runs.state2.articles() if e.reachable}
    for url in articles:
        expected = 2 if url in set(two_runs.state2.changes.changed) - api_edited(two_runs) else 1
        assert found[url].count("response") == expected, url


def test_the_edited_articles_are_flagged_as_new_versions(two_runs: TwoRuns) -> None:
    for edited in two_runs.state2.changes.changed:
        flag = two_runs.items[edited]["extra"]["incremental"]
        assert flag["status"] == "changed" and flag["version"] == 2 and flag["previous_record_id"], edited
        assert two_runs.items[edited]["body_text"].endswith(UPDATE_NOTE), edited
    for url in two_runs.state2.changes.new:
        if url in two_runs.items:
            assert two_runs.items[url]["extra"].get("incremental", {}).get("status") == "new", (
                url,
                two_runs.items[url]["extra"],
            )
    infoq = next(r.stats for r in two_runs.run2 if r.spider == "infoq")
    assert infoq["incremental/items/changed"] == 2


def test_an_article_edited_in_its_api_answer_is_read_through_the_api_again(two_runs: TwoRuns) -> None:
    (edited,) = api_edited(two_runs)
    item = two_runs.items[edited]
    assert item["extra"]["body_from"] == "api" and item["extra"]["api_records"]
    # The new answer is archived in full, as a response record, in run 2.
    answers = {}
    for path in two_runs.run2_files:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                answers[record.rec_headers.get_header("WARC-Record-ID")] = record.rec_type
    assert [answers.get(record) for record in item["extra"]["api_records"]] == ["response"]
    infoq = next(r.stats for r in two_runs.run2 if r.spider == "infoq")
    assert infoq["incremental/answers/changed"] == 1


def test_next_day_copies_join_their_run_one_originals(two_runs: TwoRuns) -> None:
    engine = DedupEngine.open(DedupConfig(index_path=two_runs.directory / "dedup.sqlite"))
    try:
        clusters = [
            (decision.canonical.url, {member.url for member in decision.members}) for _, decision in engine.decisions()
        ]
    finally:
        engine.close()
    old = {e.url for e in two_runs.state1}
    copies = [
        (url, two_runs.state2.by_url(url).original_url)
        for url in two_runs.state2.changes.new
        if two_runs.state2.by_url(url).original_url in old
    ]
    assert len(copies) >= 3
    for copy, original in copies:
        (cluster,) = [c for c in clusters if copy in c[1]]
        assert cluster[0] == original and original in cluster[1], copy


def test_run_two_warcs_are_conformant(two_runs: TwoRuns) -> None:
    checked, problems = check_files(two_runs.run2_files)
    assert checked == 3 and [str(p) for p in problems] == []
    if lint_available():
        files = [str(p) for p in two_runs.run2_files]
        lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
