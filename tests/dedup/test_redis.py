"""The Redis near-duplicate index: the same verdicts, clusters and originals as the SQLite index, its
key layout and format, concurrent workers, lost replies, and a server that cannot be reached. The
contract both backends keep is tested in tests/dedup/test_index.py."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pipelines.dedup import NearDuplicatePipeline
from portal_archive.dedup import (
    DedupConfig,
    DedupEngine,
    DedupIndexMismatch,
    DedupIndexUnavailable,
    Document,
    IndexParameters,
    NewDocument,
    open_index,
)
from portal_archive.dedup.index.redis import RedisDedupIndex
from tests.conftest import PROJECT_ROOT
from tests.dedup.test_pipeline import items
from tests.dedup.test_texts import (
    ASTRONOMY,
    ASTRONOMY_URL,
    COPY_URL,
    EXCERPT_URL,
    LIBRARY,
    ORIGINAL_URL,
    SOURCE_DOMAINS,
    TEMPLATE_A,
    TEMPLATE_B,
    library_copy,
    library_excerpt,
)
from tests.dedup_redis_corpus import as_json, corpus
from tests.redis_server import RedisServer

DB = 41
"""This module's logical database on the session's server (40-60 are this family's)."""


@pytest.fixture
def redis_url(redis_server: Any) -> Iterator[str]:
    with redis_server.empty_db(DB):
        yield str(redis_server.url_for(DB))


def configs(tmp_path: Path, redis_url: str, **overrides: Any) -> tuple[DedupConfig, DedupConfig]:
    sqlite = DedupConfig(
        index_path=tmp_path / "dedup.sqlite",
        source_domains={**DedupConfig().source_domains, **SOURCE_DOMAINS},
        **overrides,
    )
    return sqlite, dataclasses.replace(sqlite, index_url=redis_url)


TEXTS = [
    Document(
        url=COPY_URL,
        text=library_copy(),
        title="图书馆要开到半夜了",
        published_at="2024-04-01T10:00:00+00:00",
        source="城市晚报",
        record_id="<urn:uuid:12345678-1234-4234-8234-123456789012>",
        warc_filename="bendi-20240401000000-00000-host.warc.gz",
        warc_offset=4096,
    ),
    Document(url=ASTRONOMY_URL, text=ASTRONOMY, title="山里的天文课"),
    Document(url=ORIGINAL_URL, text=LIBRARY, title="图书馆夜间开放", published_at="2024-04-01T08:00:00+00:00"),
    Document(url=EXCERPT_URL, text=library_excerpt(), read_original_url=ORIGINAL_URL, record_id="not-a-uuid"),
    Document(url="https://a.example/t1", text=TEMPLATE_A),
    Document(url="https://b.example/t2", text=TEMPLATE_B),
    Document(url="https://c.example/short", text="太短了。"),
    Document(url="http://www." + ORIGINAL_URL.removeprefix("https://") + "/", text=LIBRARY),
]


def snapshot(engine: DedupEngine) -> dict[str, Any]:
    """Everything a report reads back from an index."""
    index = engine.index
    return {
        "documents": list(index.documents()),
        "pairs": list(index.pairs()),
        "clusters": [(cluster_id, decision) for cluster_id, decision in engine.decisions()],
        "stored": list(index.clusters()),
        "count": len(index),
    }


def test_verdicts_documents_pairs_and_originals_match_the_sqlite_index(tmp_path: Path, redis_url: str) -> None:
    results = []
    for config in configs(tmp_path, redis_url):
        with DedupEngine.open(config) as engine:
            verdicts = [verdict.as_dict() for verdict in engine.add_many(TEXTS)]
            results.append((verdicts, snapshot(engine)))
    (sqlite_verdicts, sqlite_state), (redis_verdicts, redis_state) = results
    assert redis_verdicts == sqlite_verdicts
    assert redis_state == sqlite_state
    assert [v["status"] for v in redis_verdicts][-2:] == ["too_short", "revisit"]
    document = redis_state["documents"][0]
    assert document.record_id == "<urn:uuid:12345678-1234-4234-8234-123456789012>"
    assert document.meta["warc_filename"] == "bendi-20240401000000-00000-host.warc.gz"
    assert document.meta["warc_offset"] == 4096
    ((_, decision),) = redis_state["clusters"]
    assert decision.canonical.url == ORIGINAL_URL


def test_a_larger_corpus_splits_buckets_overflows_band_keys_and_still_matches_sqlite(
    tmp_path: Path, redis_url: str
) -> None:
    documents = corpus(40)
    repeated = "\n".join(TEXTS[1].text.split("\n")[:3])
    documents += [Document(url=f"https://feed.example/{n}", text=repeated) for n in range(14)]
    results = []
    for config in configs(tmp_path, redis_url, max_candidates=5, commit_every=50):
        with DedupEngine.open(config) as engine:
            batches = [documents[s : s + 64] for s in range(0, len(documents), 64)]
            verdicts = [v.as_dict() for batch in batches for v in engine.add_many(batch)]
            results.append((verdicts, snapshot(engine)))
    assert results[1] == results[0]
    client = redis.Redis.from_url(redis_url)
    level = int(client.hget("portal-archive:dedup:lh:b", "level") or 0)
    assert level >= 6  # the band map split many times
    band_buckets = list(client.scan_iter(match="portal-archive:dedup:b:*", count=1000))
    assert {client.object("encoding", key) for key in band_buckets} == {b"listpack"}
    assert list(client.scan_iter(match="portal-archive:dedup:bo:*")), "a text repeated 14 times overflows"
    feeds = [v for v in results[1][0] if "feed.example" in str(v["canonical_url"])]
    assert max(len(v["matches"]) for v in feeds) == 5  # max_candidates, as with SQLite
    client.close()


def test_the_key_layout_version_is_stored_and_checked_on_open(tmp_path: Path, redis_url: str) -> None:
    parameters = IndexParameters()
    with RedisDedupIndex.open(redis_url, parameters) as index:
        assert len(index) == 0
    client = redis.Redis.from_url(redis_url)
    assert client.hget("portal-archive:dedup:params", "redis_format") == b"1"
    client.hset("portal-archive:dedup:params", "redis_format", "0")
    with pytest.raises(DedupIndexMismatch, match="redis_format=0") as raised:
        RedisDedupIndex.open(redis_url, parameters)
    assert raised.value.parameter == "redis_format"
    client.hset("portal-archive:dedup:params", "datasketch_major", "1")
    client.hset("portal-archive:dedup:params", "redis_format", "1")
    _, config = configs(tmp_path, redis_url)
    with pytest.raises(DedupIndexMismatch, match="datasketch_major"):
        DedupEngine.open(config)
    client.close()


def test_the_sqlite_files_layout_version_is_no_parameter_of_a_redis_index(tmp_path: Path, redis_url: str) -> None:
    _, config = configs(tmp_path, redis_url)
    with DedupEngine.open(config) as engine:
        engine.add_many(TEXTS[:2])
    client = redis.Redis.from_url(redis_url)
    assert client.hget("portal-archive:dedup:params", "format") is None
    # An index written before the two were told apart holds the file layout of its day: it still opens.
    client.hset("portal-archive:dedup:params", "format", "2")
    with DedupEngine.open(config) as engine:
        assert engine.index.parameters == config.index_parameters()
        assert [v.status for v in engine.add_many(TEXTS[:3])] == ["revisit", "revisit", "indexed"]
    assert client.hget("portal-archive:dedup:params", "format") == b"2"  # left as it was: read by no one
    client.close()


def test_indexes_under_other_prefixes_do_not_see_each_other(tmp_path: Path, redis_url: str) -> None:
    _, config = configs(tmp_path, redis_url)
    with DedupEngine.open(dataclasses.replace(config, redis_prefix="crawl-a:")) as first:
        first.add_many(TEXTS[:2])
    with DedupEngine.open(dataclasses.replace(config, redis_prefix="crawl-b:", num_perm=256)) as second:
        verdicts = second.add_many(TEXTS[:3])
        assert [v.doc_id for v in verdicts] == [1, 2, 3]
        assert verdicts[2].role == "original"
    client = redis.Redis.from_url(redis_url)
    assert {key.split(b":")[0] for key in client.scan_iter()} == {b"crawl-a", b"crawl-b"}
    client.close()


def test_a_write_sent_again_after_a_lost_reply_is_answered_as_the_first_time(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def new(url: str, keys: list[int]) -> NewDocument:
        return NewDocument(
            url=url,
            record_id="",
            chars=400,
            shingles=396,
            signature=np.zeros(128, dtype=np.uint32),
            band_keys=np.array(keys, dtype=np.int32),
            sketch=bytes(range(256)),
        )

    with RedisDedupIndex.open(redis_url, IndexParameters()) as index:
        first = index.add(new("https://a.example/1", list(range(32))))
        monkeypatch.setattr("portal_archive.dedup.index.redis.os.urandom", lambda size: b"same")
        document = new("https://b.example/2", [*range(16), *range(100, 116)])
        sent = index.add(document)
        again = index.add(document)  # the client's retry of a script that did run
        assert first.doc_id == 1
        assert sent.doc_id == again.doc_id == 2
        assert sent.candidates == again.candidates == [1]
        monkeypatch.setattr("portal_archive.dedup.index.redis.os.urandom", lambda size: b"othr")
        assert index.add(document).doc_id is None  # the same URL from another crawl: a revisit
        assert len(index) == 2


_WORKER = """
import json, sys, time
from pathlib import Path
from portal_archive.dedup import DedupConfig, DedupEngine, Document

rows, url = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2]
part, parts, start = int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
config = DedupConfig(index_url=url, index_path=Path("unused.sqlite"))
with DedupEngine.open(config) as engine:
    while not start.exists():
        time.sleep(0.002)
    for row in rows[part::parts]:
        engine.add(Document(**row))
"""


def clusters_by_url(engine: DedupEngine) -> dict[frozenset[str], tuple[str, str, dict[str, str]]]:
    """Cluster members (URLs) → original, the evidence that chose it, and every member's role."""
    return {
        frozenset(v.url for v in decision.members): (
            decision.canonical.url,
            decision.decided_by,
            {v.url: v.role for v in decision.members},
        )
        for _, decision in engine.decisions()
    }


def pairs_by_url(engine: DedupEngine) -> set[tuple[str, str, str]]:
    urls = {d.id: d.url for d in engine.index.documents()}
    return {(*sorted((urls[p.first], urls[p.second])), p.relation) for p in engine.index.pairs()}  # type: ignore[misc]


def test_workers_adding_at_the_same_time_find_the_clusters_and_originals_of_one_process(
    tmp_path: Path, redis_url: str
) -> None:
    documents = corpus(18, seed=7)
    sqlite, config = configs(tmp_path, redis_url)
    with DedupEngine.open(sqlite) as engine:
        for document in documents:
            engine.add(document)
        expected, expected_pairs = clusters_by_url(engine), pairs_by_url(engine)
        one_process_ids = {d.url: d.id for d in engine.index.documents()}
    assert any(len(members) >= 5 for members in expected)  # two stories merged by a text carrying both
    assert any(decided == "tie-break" for _, decided, _ in expected.values())
    rows, start = tmp_path / "documents.json", tmp_path / "start"
    rows.write_text(json.dumps(as_json(documents), ensure_ascii=False), encoding="utf-8")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(rows), redis_url, str(part), "3", str(start)], cwd=PROJECT_ROOT
        )
        for part in range(3)
    ]
    time.sleep(1.0)  # let each worker import and connect, then release them together
    start.touch()
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    with DedupEngine.open(dataclasses.replace(config, redis_prefix=config.redis_prefix)) as engine:
        assert len(engine.index) == sum(1 for d in documents if len(d.text) >= 50)
        assert clusters_by_url(engine) == expected
        assert pairs_by_url(engine) == expected_pairs
        assert {d.url: d.id for d in engine.index.documents()} != one_process_ids  # they did interleave


def test_a_cluster_merged_by_another_worker_before_the_decision_is_followed(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, config = configs(tmp_path, redis_url)
    original, unrelated, copy = TEXTS[2], TEXTS[1], dataclasses.replace(TEXTS[1], url="https://sohu.com/a/sky")
    with DedupEngine.open(config) as engine, RedisDedupIndex.open(redis_url, None) as other_worker:
        engine.add_many([original, unrelated])
        real_join = engine.index.join

        def join_then_merged_elsewhere(doc_id: int, others: Any) -> Any:
            joined = real_join(doc_id, others)
            other_worker.join(1, [joined.cluster_id])  # a text carrying both stories, elsewhere
            return joined

        monkeypatch.setattr(engine.index, "join", join_then_merged_elsewhere)
        verdict = engine.add(copy)
        assert verdict.cluster_id == 1
        # Decided on the merged cluster: the library article (the only one with a time) is its original,
        # and the sky copy is in it only through the astronomy article.
        assert (verdict.canonical_url, verdict.role) == (original.url, "related")
        assert {m.url for m in engine.index.cluster_members(1)} == {original.url, unrelated.url, copy.url}
        assert engine.index.cluster_ids() == [1]


def test_an_unreachable_server_fails_loudly_without_leaking_the_password(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "gone") as server:
        port = server.port
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    config = DedupConfig(index_url=url)
    started = time.monotonic()
    with pytest.raises(DedupIndexUnavailable) as raised:
        DedupEngine.open(config)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "DEDUP_INDEX_URL" in message and f"127.0.0.1:{port}" in message
    assert "s3cret" not in message and "***" in message
    assert isinstance(raised.value.__cause__, redis.ConnectionError)
    pipeline = build_from_crawler(NearDuplicatePipeline, get_crawler(settings_dict={"DISTRIBUTED_REDIS_URL": url}))
    with pytest.raises(DedupIndexUnavailable, match="DISTRIBUTED_REDIS_URL"):
        pipeline.open_spider()


def test_the_pipeline_annotates_and_counts_with_the_redis_index(tmp_path: Path, redis_url: str) -> None:
    crawler = get_crawler(settings_dict={"DEDUP_INDEX_URL": redis_url, "DEDUP_SOURCE_DOMAINS": SOURCE_DOMAINS})
    pipeline: NearDuplicatePipeline = build_from_crawler(NearDuplicatePipeline, crawler)
    pipeline.open_spider()
    annotated = [pipeline.process_item(item).extra["dedup"] for item in items()]
    pipeline.close_spider()
    assert [a["role"] for a in annotated] == ["unique", "copy", "excerpt", "unique", None, None]
    assert annotated[1]["canonical_url"] == ORIGINAL_URL
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("dedup/indexed") == 4
    assert stats.get_value("dedup/index_documents") == 4
    assert stats.get_value("dedup/redis/round_trips") > 4
    assert stats.get_value("dedup/errors") is None


def test_a_server_lost_during_the_crawl_is_counted_and_the_item_kept(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "short-lived") as server:
        crawler = get_crawler(settings_dict={"DEDUP_INDEX_URL": server.url})
        pipeline: NearDuplicatePipeline = build_from_crawler(NearDuplicatePipeline, crawler)
        pipeline.open_spider()
        first = pipeline.process_item(items()[0])
    lost = pipeline.process_item(items()[1])
    assert first.extra["dedup"]["role"] == "unique"
    assert lost.extra["dedup"]["status"] == "error"
    assert "DedupIndexUnavailable" in lost.extra["dedup"]["error"]
    assert crawler.stats is not None
    assert crawler.stats.get_value("dedup/redis/unavailable") == 1
    assert crawler.stats.get_value("dedup/errors") == 1
    with pytest.raises(DedupIndexUnavailable):
        pipeline.close_spider()


def test_the_sqlite_index_needs_no_redis_module(tmp_path: Path) -> None:
    script = f"""
import sys
sys.modules["redis"] = None  # importing it now raises ImportError
from pathlib import Path
import pipelines.dedup, portal_archive.cli, portal_archive.report.build
from portal_archive.dedup import DedupConfig, DedupEngine, Document
from tests.dedup.test_texts import LIBRARY
with DedupEngine.open(DedupConfig(index_path=Path({str(tmp_path / "x.sqlite")!r}))) as engine:
    assert engine.add(Document(url="https://a.example/1", text=LIBRARY)).status == "indexed"
portal_archive.cli.build_parser()
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_open_index_picks_the_backend_from_the_url(tmp_path: Path, redis_url: str) -> None:
    sqlite, config = configs(tmp_path, redis_url)
    with open_index(sqlite, sqlite.index_parameters()) as index:
        assert index.path == str(tmp_path / "dedup.sqlite")
    with open_index(config, config.index_parameters()) as index:
        assert isinstance(index, RedisDedupIndex)
    with open_index(config, None, read_only=True) as index:
        assert isinstance(index, RedisDedupIndex) and index.read_only


def test_a_server_that_evicts_keys_is_warned_about(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    client = redis.Redis.from_url(redis_url)
    previous = client.config_get("maxmemory-policy")["maxmemory-policy"]
    client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        with caplog.at_level("WARNING"), RedisDedupIndex.open(redis_url, IndexParameters()):
            pass
    finally:
        client.config_set("maxmemory-policy", previous)
        client.close()
    assert "maxmemory-policy allkeys-lru" in caplog.text
    assert "noeviction" in caplog.text


@pytest.mark.parametrize(
    "overrides", [{"verify": "exact"}, {"signature_bits": 16}, {"sketch_bins": 512, "sketch_bits": 4}], ids=str
)
def test_other_sketches_and_stored_signatures_match_sqlite(
    tmp_path: Path, redis_url: str, overrides: dict[str, Any]
) -> None:
    results = []
    for config in configs(tmp_path, redis_url, **overrides):
        with DedupEngine.open(config) as engine:
            verdicts = [verdict.as_dict() for verdict in engine.add_many(TEXTS)]
            signatures = (
                [engine.index.signature(doc_id).tolist() for doc_id in (1, 2, 3)] if config.signature_bits else []
            )
            results.append((verdicts, snapshot(engine), engine.index.sketches([1, 2, 3, 4]), signatures))
    assert results[1] == results[0]
