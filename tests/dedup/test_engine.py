"""The engine end to end: copies and excerpts found, the original chosen, short or garbage text ignored."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.dedup import (
    CopyRule,
    DedupConfig,
    DedupEngine,
    DedupIndex,
    DedupIndexMismatch,
    Document,
    IndexParameters,
)
from portal_archive.dedup.engine import STORED_REFERENCES
from tests.conftest import PROJECT_ROOT
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


def config(tmp_path: Path, **overrides: object) -> DedupConfig:
    return DedupConfig(
        index_path=tmp_path / "dedup.sqlite",
        source_domains={**DedupConfig().source_domains, **SOURCE_DOMAINS},
        **overrides,  # type: ignore[arg-type]
    )


ORIGINAL = Document(url=ORIGINAL_URL, text=LIBRARY, title="图书馆夜间开放", published_at="2024-04-01T08:00:00+00:00")
COPY = Document(url=COPY_URL, text=library_copy(), title="图书馆要开到半夜了", published_at="2024-04-01T10:00:00+00:00")
EXCERPT = Document(url=EXCERPT_URL, text=library_excerpt(), title="图书馆夜间开放")
UNRELATED = Document(url=ASTRONOMY_URL, text=ASTRONOMY, title="山里的天文课")


def test_copy_arriving_first_is_replaced_as_canonical_when_the_original_arrives(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        first, unrelated, original, excerpt = engine.add_many([COPY, UNRELATED, ORIGINAL, EXCERPT])
        assert (first.status, first.role, first.cluster_id) == ("indexed", "unique", None)
        assert unrelated.role == "unique"
        assert original.role == "original"
        assert original.new_cluster
        assert original.canonical_url == ORIGINAL_URL
        assert any(e.startswith("attribution:") and "城市晚报" in e for e in original.evidence)
        assert [m.url for m in original.matches] == [COPY_URL]
        assert excerpt.role == "excerpt"
        assert excerpt.canonical_url == ORIGINAL_URL
        assert excerpt.containment is not None and excerpt.containment > 0.9
        assert excerpt.jaccard is not None and excerpt.jaccard < 0.7
        assert excerpt.cluster_id == original.cluster_id == first.doc_id

        decision = engine.decide(excerpt.cluster_id)
        assert decision.canonical.url == ORIGINAL_URL
        assert decision.decided_by == "attribution"
        assert {v.url: v.role for v in decision.members} == {
            ORIGINAL_URL: "original",
            COPY_URL: "copy",
            EXCERPT_URL: "excerpt",
        }
        similarity = engine.similarity(first.doc_id or 0, original.doc_id or 0)
        assert similarity.jaccard > 0.8


def test_copy_verdict_carries_what_was_stripped(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        engine.add(ORIGINAL)
        verdict = engine.add(COPY)
    summary = verdict.as_dict()
    assert summary["role"] == "copy"
    assert summary["canonical_url"] == ORIGINAL_URL
    assert summary["similarity"] > 0.8
    assert {"kind": "source", "text": "来源：城市晚报", "value": "城市晚报"} in summary["stripped"]
    assert summary["matches"][0]["url"] == ORIGINAL_URL
    assert summary["matches"][0]["relation"] == "copy"


def test_the_index_keeps_what_a_document_cites_for_the_report(tmp_path: Path) -> None:
    cited = tuple(f"https://source{n}.example/page" for n in range(STORED_REFERENCES + 5))
    with DedupEngine.open(config(tmp_path)) as engine:
        original = engine.add(dataclasses.replace(ORIGINAL, references=cited[:2]))
        listing = engine.add(dataclasses.replace(UNRELATED, references=cited))
        copy = engine.add(COPY)
        stored = [engine.index.document(v.doc_id or 0).meta for v in (original, listing, copy)]
    assert stored[0]["references"] == list(cited[:2])
    assert stored[1]["references"] == list(cited[:STORED_REFERENCES])  # a link list does not grow the index
    assert "references" not in stored[2]


def test_index_persists_across_engines(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        engine.add(ORIGINAL)
    with DedupEngine.open(config(tmp_path)) as engine:
        verdict = engine.add(COPY)
        again = engine.add(ORIGINAL)
    assert verdict.role == "copy" and verdict.canonical_url == ORIGINAL_URL
    assert again.status == "revisit" and again.role == "original"


def test_short_template_news_is_not_a_copy(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        first, second = engine.add_many(
            [Document(url="https://a.example/1", text=TEMPLATE_A), Document(url="https://a.example/2", text=TEMPLATE_B)]
        )
    assert (first.role, second.role) == ("unique", "unique")
    with DedupEngine.open(config(tmp_path / "lenient", short_threshold=0.7)) as engine:
        _, second = engine.add_many(
            [Document(url="https://a.example/1", text=TEMPLATE_A), Document(url="https://a.example/2", text=TEMPLATE_B)]
        )
    assert second.role == "copy"


@pytest.mark.parametrize(
    "text", ["", "   ", "。。。！！！", "https://a.example/only-a-link", "短短一句话。", "\x00\ufeff"]
)
def test_short_or_garbage_text_is_ignored(tmp_path: Path, text: str) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        verdict = engine.add(Document(url="https://a.example/x", text=text))
        assert (verdict.status, verdict.doc_id, verdict.role) == ("too_short", None, None)
        assert len(engine.index) == 0


def test_minimum_length_is_a_setting(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path, min_chars=5)) as engine:
        assert engine.add(Document(url="https://a.example/x", text="短短一句话。")).status == "indexed"


def test_exact_verification_gives_the_same_verdicts(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path, verify="exact")) as engine:
        verdicts = engine.add_many([ORIGINAL, COPY, EXCERPT, UNRELATED])
    assert [v.role for v in verdicts] == ["unique", "copy", "excerpt", "unique"]


def test_engine_refuses_an_index_from_another_text_preparation(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    DedupIndex.open(path, IndexParameters()).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE parameters SET value = 'older' WHERE name = 'normalization'")
    with pytest.raises(DedupIndexMismatch, match="normalization"):
        DedupEngine(DedupIndex.open(path))
    with pytest.raises(DedupIndexMismatch, match="normalization"):
        DedupEngine.open(DedupConfig(index_path=path))


def test_clusters_can_be_rebuilt_from_pairs_and_reported(tmp_path: Path) -> None:
    with DedupEngine.open(config(tmp_path)) as engine:
        verdicts = engine.add_many([COPY, UNRELATED, ORIGINAL, EXCERPT])
        members_before = [m.id for m in engine.index.cluster_members(verdicts[0].doc_id or 0)]
        assert engine.index.rebuild_clusters() == 1
        assert engine.index.cluster(verdicts[0].doc_id or 0) is None  # originals are chosen again on demand
        assert [m.id for m in engine.index.cluster_members(verdicts[0].doc_id or 0)] == members_before
        reported = list(engine.decisions())
        assert engine.index.cluster(verdicts[0].doc_id or 0) is not None
    assert [(cluster_id, decision.canonical.url) for cluster_id, decision in reported] == [
        (verdicts[0].doc_id, ORIGINAL_URL)
    ]


def test_a_text_repeated_many_times_is_verified_against_a_bounded_number(tmp_path: Path) -> None:
    repeated = [Document(url=f"https://feed.example/{n}", text=ASTRONOMY) for n in range(30)]
    with DedupEngine.open(config(tmp_path, max_candidates=5, max_cluster_size=4)) as engine:
        verdicts = engine.add_many(repeated)
    assert max(len(v.matches) for v in verdicts) == 5
    assert verdicts[-1].cluster_id == verdicts[0].doc_id
    assert "oversized" in verdicts[-1].flags


def test_a_rule_other_than_the_index_thresholds_is_refused(tmp_path: Path) -> None:
    index = DedupIndex.open(tmp_path / "dedup.sqlite", IndexParameters())
    with pytest.raises(DedupIndexMismatch, match=r"threshold=0\.7"):
        DedupEngine(index, rule=CopyRule(threshold=0.8))
    assert DedupEngine(index, rule=CopyRule()).rule == CopyRule()
    index.close()


_WRITER = """
import sys
import time
from pathlib import Path
from portal_archive.dedup import DedupConfig, DedupEngine, Document
from tests.dedup.test_texts import ASTRONOMY, LIBRARY, library_copy

path, family, start = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
texts = {"original": (LIBRARY, ASTRONOMY), "copy": (library_copy(), ASTRONOMY + "\\n据悉，课程将持续一学期。")}[family]
while not start.exists():
    time.sleep(0.005)
with DedupEngine.open(DedupConfig(index_path=path, commit_every=1)) as engine:
    for round_ in range(4):
        for n, text in enumerate(texts):
            engine.add(Document(url=f"https://{family}.example/{round_}/{n}", text=text))
"""


def test_crawls_writing_to_one_index_at_once_find_each_others_copies(tmp_path: Path) -> None:
    path, start = tmp_path / "dedup.sqlite", tmp_path / "start"
    DedupIndex.open(path, DedupConfig().index_parameters()).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), family, str(start)], cwd=PROJECT_ROOT)
        for family in ("original", "copy")
    ]
    start.touch()
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    with DedupIndex.open(path) as index:
        assert len(index) == 16
        clusters = [{m.url for m in index.cluster_members(c)} for c in index.cluster_ids()]
    # Every text and its copy, from either process, in whatever order they interleaved.
    assert sorted(len(c) for c in clusters) == [8, 8]
    assert all(len({url.split("/")[-1] for url in c}) == 1 for c in clusters)
