"""The demo crawl's shared near-duplicate index names every planted syndication and its original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal_archive.dedup.config import DedupConfig
from portal_archive.dedup.engine import DedupEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clusters(demo_archive: tuple[Path, list[Any]]) -> list[dict[str, Any]]:
    directory, results = demo_archive
    for result in results:
        assert result.problems == [], result.log_tail
    engine = DedupEngine.open(DedupConfig(index_path=directory / "dedup.sqlite"))
    try:
        return [
            {
                "canonical": decision.canonical.url,
                "decided_by": decision.decided_by,
                "roles": {member.url: member.role for member in decision.members},
            }
            for _, decision in engine.decisions()
        ]
    finally:
        engine.close()


def cluster_of(clusters: list[dict[str, Any]], url: str) -> dict[str, Any]:
    (found,) = [c for c in clusters if url in c["roles"]]
    return found


def test_seed_article_and_its_bendi_copy_form_one_cluster_with_the_infoq_original(
    demo_portal: Any, clusters: list[dict[str, Any]]
) -> None:
    seed_entries = [e for e in demo_portal.manifest.entries if e.slug == "stability-ai-crisis" and e.kind == "article"]
    original = next(e.url for e in seed_entries if e.site == "infoq")
    copy = next(e.url for e in seed_entries if e.site == "bendi")
    cluster = cluster_of(clusters, copy)
    assert cluster["canonical"] == original
    assert cluster["roles"] == {original: "original", copy: "copy"}
    assert cluster["decided_by"] == "attribution"


def test_every_planted_syndication_is_found_with_its_role(demo_portal: Any, clusters: list[dict[str, Any]]) -> None:
    syndications = demo_portal.manifest.syndications()
    assert len(syndications) >= 15
    for copy_url, original_url, relation in syndications:
        cluster = cluster_of(clusters, copy_url)
        assert cluster["canonical"] == original_url, copy_url
        assert cluster["roles"][copy_url] == relation, copy_url


def test_no_false_cluster(demo_portal: Any, clusters: list[dict[str, Any]]) -> None:
    truth: dict[str, set[str]] = {}
    for copy_url, original_url, _ in demo_portal.manifest.syndications():
        truth.setdefault(original_url, {original_url}).add(copy_url)
    found = {c["canonical"]: set(c["roles"]) for c in clusters}
    assert found == truth
