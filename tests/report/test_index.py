"""The report of a crawl's index decides every cluster again rather than reading the original the
crawl stored: the same answer whenever the crawl decided the cluster in full, the right one where
the crawl kept an earlier choice (an oversized cluster between powers of two)."""

from __future__ import annotations

from pathlib import Path

from portal_archive.dedup import DedupConfig, DedupEngine, Document, open_index
from portal_archive.report.build import ReportOptions, build_from_index
from tests.dedup.test_texts import LIBRARY, ORIGINAL_URL, SOURCE_DOMAINS, library_copy
from tests.dedup_redis_corpus import corpus

Decided = dict[int, tuple[str, str, tuple[str, ...], int]]


def stored_rows(config: DedupConfig) -> Decided:
    """Cluster id → (original's URL, deciding evidence, flags, size), as the crawl stored them."""
    with open_index(config, None, read_only=True) as index:
        return {
            row.id: (index.document(row.canonical).url, row.decided_by, row.flags, row.size) for row in index.clusters()
        }


def reported(config: DedupConfig) -> Decided:
    report = build_from_index(config.index_path, config, ReportOptions())
    return {
        cluster.id: (cluster.canonical.url, cluster.decided_by, cluster.flags, cluster.size)
        for cluster in report.clusters
    }


def test_the_report_decides_as_the_crawl_did_when_every_cluster_was_decided_in_full(tmp_path: Path) -> None:
    config = DedupConfig(
        index_path=tmp_path / "dedup.sqlite", source_domains={**DedupConfig().source_domains, **SOURCE_DOMAINS}
    )
    with DedupEngine.open(config) as engine:
        for document in corpus(18, seed=7):  # merged stories, tie-breaks, originals after their copies
            engine.add(document)
    stored = stored_rows(config)
    assert max(size for *_, size in stored.values()) >= 5
    assert {decided for _, decided, _, _ in stored.values()} >= {"tie-break", "attribution"}
    assert reported(config) == stored


def test_an_original_reaching_an_oversized_cluster_is_named_by_the_report_not_by_the_stored_row(
    tmp_path: Path,
) -> None:
    config = DedupConfig(index_path=tmp_path / "dedup.sqlite", max_cluster_size=1)
    copies = [Document(url=f"https://bendi.news/wxnews/c{n}", text=library_copy()) for n in range(4)]
    original = Document(url=ORIGINAL_URL, text=LIBRARY, published_at="2024-04-01T08:00:00+00:00")
    with DedupEngine.open(config) as engine:
        verdicts = engine.add_many([*copies, original])
    # Above 4 * max_cluster_size the crawl re-chooses the original only at powers of two: the fifth
    # member, the original itself, is judged against the original chosen among the four copies.
    assert (verdicts[-1].role, verdicts[-1].canonical_url) == ("copy", copies[0].url)
    assert stored_rows(config) == {1: (copies[0].url, "tie-break", ("oversized",), 5)}
    assert reported(config) == {1: (ORIGINAL_URL, "earliest publication", ("oversized",), 5)}
    assert stored_rows(config) == {1: (copies[0].url, "tie-break", ("oversized",), 5)}  # the report stored nothing
