"""A crawl of the demo portal with ``DEDUP_INDEX_URL`` set: three spider processes write to one Redis
index at once, and the clusters, originals, report and exported file match the SQLite crawl's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from portal_archive.cli import main
from portal_archive.dedup import DedupConfig, DedupEngine, DedupIndex
from portal_archive.dedup.index.redis import RedisDedupIndex
from portal_archive.report.build import ReportOptions, build_from_index

pytestmark = pytest.mark.slow

DB = 42


@pytest.fixture(scope="module")
def redis_crawl(
    redis_server: Any, demo_portal: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, list[Any]]]:
    """The demo portal crawled by the three portal spiders into a Redis index."""
    from portal_archive.demo.run import SITE_URL_ATTR, run_crawls

    url = str(redis_server.url_for(DB))
    client = redis.Redis.from_url(url)
    client.flushdb()
    directory = tmp_path_factory.mktemp("redis-crawl") / "archive"
    jobs = {name: getattr(demo_portal, attr) for name, attr in SITE_URL_ATTR.items()}
    results = run_crawls(jobs, directory, "INFO", {"DEDUP_INDEX_URL": url})
    yield url, directory, results
    client.flushdb()
    client.close()


def clusters(config: DedupConfig) -> dict[frozenset[str], tuple[str, str, dict[str, str]]]:
    with DedupEngine.open(config) as engine:
        return {
            frozenset(v.url for v in decision.members): (
                decision.canonical.url,
                decision.decided_by,
                {v.url: v.role for v in decision.members},
            )
            for _, decision in engine.decisions()
        }


def test_the_crawl_writes_to_redis_and_finds_the_sqlite_crawls_clusters(
    redis_crawl: tuple[str, Path, list[Any]], demo_archive: tuple[Path, list[Any]]
) -> None:
    url, directory, results = redis_crawl
    for result in results:
        assert result.problems == [], result.log_tail
        assert result.stats.get("dedup/redis/round_trips", 0) > 0
        assert result.stats.get("dedup/errors") is None
    assert not (directory / "dedup.sqlite").exists()
    sqlite_dir, _ = demo_archive
    expected = clusters(DedupConfig(index_path=sqlite_dir / "dedup.sqlite"))
    assert len(expected) >= 15
    assert clusters(DedupConfig(index_url=url)) == expected
    indexed = sum(int(result.stats.get("dedup/indexed", 0)) for result in results)
    with RedisDedupIndex.open(url, None) as index, DedupIndex.open(sqlite_dir / "dedup.sqlite") as file:
        assert len(index) == indexed
        assert sorted(d.url for d in index.documents()) == sorted(d.url for d in file.documents())


def test_the_report_reads_the_redis_index(
    redis_crawl: tuple[str, Path, list[Any]], demo_archive: tuple[Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, directory, _ = redis_crawl
    sqlite_dir, _ = demo_archive
    options = ReportOptions()
    from_redis = build_from_index(url, DedupConfig(), options, warc_dir=directory)
    from_file = build_from_index(sqlite_dir / "dedup.sqlite", DedupConfig(), options)

    def shape(report: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
        return sorted(
            (c.canonical.url, c.decided_by, sorted((m.url, m.role) for m in c.members)) for c in report.clusters
        )

    assert shape(from_redis) == shape(from_file)
    assert from_redis.totals.articles == from_file.totals.articles
    assert from_redis.inputs[0].path.startswith("redis://127.0.0.1:")
    assert main(["dedup-report", "--index", url, "--format", "json", "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["clusters"]) == len(from_file.clusters)


def test_the_redis_index_is_exported_into_a_file_that_reads_the_same(
    redis_crawl: tuple[str, Path, list[Any]], tmp_path: Path
) -> None:
    url, _, _ = redis_crawl
    target = tmp_path / "archive" / "dedup.sqlite"
    assert main(["dedup-export", "--from", url, "--to", str(target)]) == 0
    assert main(["dedup-export", "--from", url, "--to", str(target)]) == 1  # never overwritten
    assert clusters(DedupConfig(index_path=target)) == clusters(DedupConfig(index_url=url))
    with RedisDedupIndex.open(url, None) as source, DedupIndex.open(target) as copy:
        assert copy.parameters == source.parameters
        assert list(copy.documents()) == list(source.documents())
        assert list(copy.pairs()) == list(source.pairs())
        assert list(copy.clusters()) == list(source.clusters())
        assert copy.sketches(list(range(1, len(copy) + 1))) == source.sketches(list(range(1, len(source) + 1)))
        entries = sorted(copy.band_entries())
        assert entries == sorted(source.band_entries())
        assert len(entries) == len(copy) * copy.parameters.bands


def test_a_crawl_whose_redis_index_cannot_be_reached_fails_at_start(tmp_path: Path) -> None:
    from portal_archive.demo.run import run_crawls
    from tests.redis_server import RedisServer

    with RedisServer(tmp_path / "gone") as server:
        port = server.port
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    (result,) = run_crawls({"infoq": "http://127.0.0.1:9/"}, tmp_path / "archive", "INFO", {"DEDUP_INDEX_URL": url})
    assert result.returncode != 0
    assert "DedupIndexUnavailable: cannot reach the Redis near-duplicate index" in result.log_tail
    assert "s3cret" not in result.log_tail
    assert not result.stats.get("downloader/request_count")
