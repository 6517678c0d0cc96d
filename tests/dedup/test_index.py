"""The index contract, held against every backend (SQLite and Redis): documents, bands, pairs and
clusters persist, other parameters are refused, joins follow ``merge_clusters``, and an index opened
read-only refuses every write. What one backend alone does (file format, Redis layout, lost
replies) is tested in tests/dedup/test_sqlite.py and tests/dedup/test_redis.py."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal_archive.dedup import (
    DedupConfig,
    DedupEngine,
    DedupIndexError,
    DedupIndexMismatch,
    IndexParameters,
    MinHasher,
    NearDuplicateIndex,
    NewDocument,
    band_keys,
    estimate_jaccard,
    make_sketch,
    open_index,
    prepare_text,
    shingle_hashes,
)
from portal_archive.dedup.index import merge_clusters
from tests.dedup.test_texts import ASTRONOMY, LIBRARY, SOURCE_DOMAINS, library_copy
from tests.dedup_redis_corpus import corpus

PARAMETERS = IndexParameters()
DB = 43
"""The Redis backend's logical database on the session's server (40-60 are this family's)."""


def new_document(url: str, text: str, parameters: IndexParameters = PARAMETERS) -> NewDocument:
    prepared = prepare_text(text)
    hashes = shingle_hashes(prepared.codepoints, parameters.shingle_size)
    signature = MinHasher(parameters.num_perm, parameters.seed).signature(hashes)
    sketch = make_sketch(parameters.verify, bins=parameters.sketch_bins, bits=parameters.sketch_bits)
    return NewDocument(
        url=url,
        record_id=f"<urn:uuid:{len(url):08d}-0000-4000-8000-000000000000>",
        chars=prepared.length,
        shingles=int(hashes.size),
        signature=signature,
        band_keys=band_keys(signature, parameters.bands, parameters.rows),
        sketch=sketch.encode(sketch.load(hashes)),
        meta={"title": "图书馆夜间开放"},
    )


def synthetic_document(doc: int) -> NewDocument:
    """A document sharing no band key with another, for cluster tests (no text to sign)."""
    return NewDocument(
        url=f"https://a.example/{doc}",
        record_id="",
        chars=400,
        shingles=396,
        signature=np.zeros(PARAMETERS.num_perm, dtype=np.uint32),
        band_keys=np.arange(PARAMETERS.bands, dtype=np.int32) + np.int32(doc << 16),
        sketch=bytes(PARAMETERS.sketch_bins * PARAMETERS.sketch_bits // 8),
    )


@dataclass
class Backend:
    """Where one backend's index lives in a test, and what its messages say."""

    name: str
    config: DedupConfig
    remedy: tuple[str, ...]
    """Words every ``DedupIndexMismatch`` message of this backend carries."""
    fresh_count: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    def open(self, parameters: IndexParameters | None = PARAMETERS, *, read_only: bool = False) -> NearDuplicateIndex:
        return open_index(self.config, parameters, read_only=read_only)

    def elsewhere(self) -> DedupConfig:
        """A place of the same kind that holds no index."""
        if self.name == "sqlite":
            return dataclasses.replace(self.config, index_path=self.config.index_path.with_name("absent.sqlite"))
        return dataclasses.replace(self.config, redis_prefix="elsewhere:")

    def fresh(self) -> NearDuplicateIndex:
        """A new, empty index beside the others (a file, or a key prefix of its own)."""
        n = next(self.fresh_count)
        if self.name == "sqlite":
            config = dataclasses.replace(self.config, index_path=self.config.index_path.with_name(f"fresh-{n}.sqlite"))
        else:
            config = dataclasses.replace(self.config, redis_prefix=f"fresh-{n}:")
        return open_index(config, PARAMETERS)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    domains = {**DedupConfig().source_domains, **SOURCE_DOMAINS}
    if request.param == "sqlite":
        config = DedupConfig(index_path=tmp_path / "archive" / "dedup.sqlite", source_domains=domains)
        yield Backend("sqlite", config, ("rebuild the index", "DEDUP_INDEX_PATH"))
        return
    server: Any = request.getfixturevalue("redis_server")
    with server.empty_db(DB):
        config = DedupConfig(index_url=server.url_for(DB), source_domains=domains)
        yield Backend("redis", config, ("DEDUP_REDIS_PREFIX",))


def test_index_survives_reopening(backend: Backend) -> None:
    original = new_document("https://citydaily.example.cn/news/1", LIBRARY)
    with backend.open() as index:
        assert len(index) == 0
        first = index.add(original).doc_id
        second = index.add(new_document("https://bendi.news/wxnews/c1", library_copy())).doc_id
        third = index.add(new_document("https://citydaily.example.cn/news/2", ASTRONOMY)).doc_id
        assert first is not None and second is not None and third is not None
        index.add_pair(second, first, "copy", 0.9, 0.95)
        joined = index.join(second, [first])
        index.save_cluster(joined.cluster_id, first, 2, "attribution", ["oversized"])

    with backend.open() as reopened:
        assert len(reopened) == 3
        assert reopened.find_url("http://www.citydaily.example.cn/news/1#comments") == first
        assert reopened.find_url("https://citydaily.example.cn/news/404") is None
        stored = reopened.document(second)
        assert (stored.url, stored.cluster, stored.meta["title"]) == (
            "https://bendi.news/wxnews/c1",
            first,
            "图书馆夜间开放",
        )
        assert stored.record_id == "<urn:uuid:00000028-0000-4000-8000-000000000000>"
        assert [p.relation for p in reopened.pairs()] == ["copy"]
        assert [(p.first, p.second) for p in reopened.pairs()] == [(first, second)]
        assert [m.id for m in reopened.cluster_members(first)] == [first, second]
        cluster = reopened.cluster(first)
        assert cluster is not None
        assert (cluster.canonical, cluster.decided_by, cluster.flags) == (first, "attribution", ("oversized",))
        assert reopened.document(third).cluster is None
        assert [d.id for d in reopened.documents()] == [first, second, third]
        again = reopened.add(dataclasses.replace(original, url="https://citydaily.example.cn/news/3"))
        assert again.doc_id == 4 and first in again.candidates and third not in again.candidates


def test_a_report_can_open_with_the_stored_parameters(backend: Backend) -> None:
    custom = IndexParameters(num_perm=64, bands=16, rows=4, seed=9)
    with backend.open(custom) as index:
        index.add(new_document("https://a.example/1", LIBRARY, custom))
    with backend.open(None) as report:
        assert report.parameters == custom
        assert len(report) == 1


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        (IndexParameters(shingle_size=4), "shingle_size"),
        (IndexParameters(num_perm=256), "num_perm"),
        (IndexParameters(seed=2), "seed"),
        (IndexParameters(bands=40, rows=3), "bands"),
        (IndexParameters(sketch_bins=2048), "sketch_bins"),
        (IndexParameters(signature_bits=16), "signature_bits"),
        (IndexParameters(verify="exact"), "verify"),
        (IndexParameters(threshold=0.8), "threshold"),
        (IndexParameters(scheme="legacy"), "scheme"),
        (IndexParameters(datasketch_major=1), "datasketch_major"),
    ],
)
def test_other_parameters_are_refused_with_a_clear_message(
    backend: Backend, changed: IndexParameters, name: str
) -> None:
    with backend.open() as index:
        location = index.path
    for read_only in (False, True):
        with pytest.raises(DedupIndexMismatch) as caught:
            backend.open(changed, read_only=read_only)
        message = str(caught.value)
        assert caught.value.parameter == name
        assert f"built with {name}=" in message
        assert all(words in message for words in backend.remedy)
        assert location in message


def test_a_missing_index_is_an_error_and_is_not_created_read_only(backend: Backend) -> None:
    elsewhere = backend.elsewhere()
    with pytest.raises(DedupIndexError, match="no near-duplicate index"):
        open_index(elsewhere, None)
    with pytest.raises(DedupIndexError, match="no near-duplicate index"):
        open_index(elsewhere, PARAMETERS, read_only=True)
    with pytest.raises(DedupIndexError, match="no near-duplicate index"):  # nothing was created
        open_index(elsewhere, None)


def test_same_url_is_stored_once(backend: Backend) -> None:
    with backend.open() as index:
        assert index.add(new_document("https://a.example/1", LIBRARY)).doc_id == 1
        assert index.add(new_document("http://www.a.example/1/", ASTRONOMY)).doc_id is None
        assert len(index) == 1
        revisit = index.add(new_document("https://a.example/1#top", LIBRARY))
        assert (revisit.doc_id, revisit.candidates) == (None, [])  # nothing written, nothing to verify
        assert index.add(new_document("https://a.example/2", LIBRARY)).candidates == [1]
        assert len(index) == 2


def test_joining_merges_clusters_under_the_smallest_id(backend: Backend) -> None:
    with backend.open() as index:
        ids = [index.add(synthetic_document(n)).doc_id for n in range(5)]
        a, b, c, d, e = (i for i in ids if i is not None)
        assert index.join(b, [a]).created
        assert index.join(d, [c]).created
        index.save_cluster(c, c, 2, "tie-break", [])
        merged = index.join(e, [b, d])
        assert (merged.cluster_id, merged.merged, merged.created) == (a, (c,), False)
        assert [m.id for m in index.cluster_members(a)] == [a, b, c, d, e]
        assert index.cluster(c) is None
        assert index.cluster_size(a) == 5
        assert (index.cluster_members(c), index.cluster_size(c)) == ([], 0)
        index.save_cluster(c, c, 2, "tie-break", [])  # a worker that lost the race with the merge
        assert index.cluster(c) is None
        assert index.cluster_ids() == [a]


_JOINS = st.lists(
    st.tuples(st.integers(1, 9), st.lists(st.integers(1, 9), min_size=1, max_size=4)), min_size=1, max_size=8
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(documents=st.integers(2, 9), joins=_JOINS)
@example(documents=6, joins=[(2, [1]), (4, [3]), (6, [5]), (5, [2, 4, 6])])  # three clusters into one
@example(documents=5, joins=[(2, [1]), (4, [3]), (1, [3, 2, 4, 5])])  # members of one cluster twice, a tie
@example(documents=4, joins=[(3, [4]), (2, [4, 3]), (1, [2])])  # a smaller id takes an existing cluster over
def test_every_join_follows_the_merge_rule(
    backend: Backend, documents: int, joins: list[tuple[int, list[int]]]
) -> None:
    with backend.fresh() as index:
        labels: dict[int, int | None] = {}
        for doc in range(1, documents + 1):
            assert index.add(synthetic_document(doc)).doc_id == doc
            labels[doc] = None
        originals: dict[int, int] = {}
        for drawn, drawn_others in joins:
            doc, others = 1 + (drawn - 1) % documents, [1 + (other - 1) % documents for other in drawn_others]
            rule = merge_clusters({joined: labels[joined] for joined in [doc, *others]})
            assert index.join(doc, others) == rule.joined
            labels = {member: rule.label_after(member, label) for member, label in labels.items()}
            for merged in rule.merged:
                originals.pop(merged, None)
            assert {member: index.document(member).cluster for member in labels} == labels
            clusters = sorted({label for label in labels.values() if label is not None})
            assert index.cluster_ids() == clusters
            for cluster in clusters:
                members = [member for member, label in labels.items() if label == cluster]
                assert [m.id for m in index.cluster_members(cluster)] == members
                assert index.cluster_size(cluster) == len(members)
            assert {row.id: row.canonical for row in index.clusters()} == originals
            index.save_cluster(rule.cluster_id, doc, index.cluster_size(rule.cluster_id), "tie-break", [])
            originals[rule.cluster_id] = doc


def test_the_merge_rule_names_the_smallest_id_and_relabels_whole_clusters() -> None:
    rule = merge_clusters({9: None, 7: 3, 5: 5, 4: 3, 8: None})
    assert (rule.cluster_id, rule.merged, rule.unclustered, rule.created) == (3, (5,), (8, 9), False)
    assert [rule.label_after(doc, label) for doc, label in [(6, 5), (4, 3), (2, None), (8, None), (1, 1)]] == [
        3,
        3,
        None,
        3,
        1,
    ]
    fresh = merge_clusters({12: None, 10: None})
    assert (fresh.cluster_id, fresh.merged, fresh.unclustered, fresh.created) == (10, (), (10, 12), True)
    taken_over = merge_clusters({2: None, 5: 5})
    assert (taken_over.cluster_id, taken_over.merged, taken_over.unclustered) == (2, (5,), (2,))


def test_metadata_record_ids_and_warc_locations_round_trip(backend: Backend) -> None:
    meta = {
        "title": "图书馆夜间开放",
        "site": "citydaily",
        "published_at": "2024-04-01T08:00:00+08:00",
        "attributions": ["城市晚报"],
        "copy_markers": 2,
        "references": ["https://www.forbes.com/sites/a/?sh=1", "https://www.infoq.cn/article/ktsN07R8UDXAGcgkRLQc"],
        "warc_filename": "citydaily-20240401-00000.warc.gz",
        "warc_offset": 7817,
        "t": "an unknown key that looks like a short one",
        "~odd": 1,
        "extra": {"nested": [1, 2]},
    }
    records = ["<urn:uuid:72cacac1-a568-4865-bfe1-63d9c7afdc74>", "<urn:uuid:72CACAC1-A568-4865-BFE1-63D9C7AFDC74>", ""]
    with backend.open() as index:
        ids = []
        for n, record_id in enumerate(records):
            document = new_document(f"https://a.example/{n}", LIBRARY + str(n))
            ids.append(index.add(dataclasses.replace(document, record_id=record_id, meta=meta)).doc_id)
        plain = index.add(new_document("https://a.example/plain", ASTRONOMY)).doc_id
        index.join(ids[1] or 0, [ids[0] or 0])
    with backend.open(None) as reopened:
        for doc_id, record_id in zip(ids, records, strict=True):
            assert doc_id is not None
            stored = reopened.document(doc_id)
            assert stored.record_id == record_id
            assert stored.meta == meta
        assert plain is not None and reopened.document(plain).meta == {"title": "图书馆夜间开放"}
        assert [(m.record_id, m.meta) for m in reopened.cluster_members(ids[0] or 0)] == [
            (r, meta) for r in records[:2]
        ]
        assert [d.meta for d in reopened.documents()] == [meta, meta, meta, {"title": "图书馆夜间开放"}]


def test_sketches_come_in_the_order_asked_for_without_absent_ids(backend: Backend) -> None:
    with backend.open() as index:
        library = new_document("https://a.example/1", LIBRARY)
        astronomy = new_document("https://a.example/2", ASTRONOMY)
        index.add(library)
        index.add(astronomy)
        found = index.sketches([2, 99, 1])
        assert [(s.id, s.url, s.sketch) for s in found] == [
            (2, astronomy.url, astronomy.sketch),
            (1, library.url, library.sketch),
        ]
        assert [(s.chars, s.shingles) for s in found] == [
            (astronomy.chars, astronomy.shingles),
            (library.chars, library.shingles),
        ]
        assert index.sketches([]) == []
        with pytest.raises(KeyError):
            index.document(99)


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_signatures_are_stored_when_asked_for_with_the_bits_asked_for(backend: Backend, bits: int) -> None:
    parameters = IndexParameters(signature_bits=bits)
    original = new_document("https://a.example/1", LIBRARY, parameters)
    copy = new_document("https://a.example/2", library_copy(), parameters)
    with backend.open(parameters) as index:
        first, second = index.add(original).doc_id, index.add(copy).doc_id
        assert first is not None and second is not None
        stored = index.signature(first)
        assert stored.dtype.itemsize * 8 == bits
        assert np.array_equal(stored, original.signature & np.uint32((1 << bits) - 1))
        full = estimate_jaccard(original.signature, copy.signature)
        assert abs(estimate_jaccard(stored, index.signature(second), bits=bits) - full) < 0.02
        assert abs(estimate_jaccard(original.signature, index.signature(second), bits=bits) - full) < 0.02
        with pytest.raises(KeyError):
            index.signature(99)


def test_no_signature_is_stored_by_default_and_asking_for_one_says_how_to_get_it(backend: Backend) -> None:
    with backend.open() as index:
        doc_id = index.add(new_document("https://a.example/1", LIBRARY)).doc_id
        assert doc_id is not None
        with pytest.raises(DedupIndexError, match=r"signature_bits=0.*MinHasher\(128, 1\)"):
            index.signature(doc_id)


@pytest.mark.parametrize(("bands", "rows"), [(1, 3), (32, 3), (40, 3), (128, 1)])
def test_band_keys_are_found_again_whatever_the_number_of_bands(backend: Backend, bands: int, rows: int) -> None:
    parameters = IndexParameters(bands=bands, rows=rows)
    with backend.open(parameters) as index:
        library = index.add(new_document("https://a.example/1", LIBRARY, parameters)).doc_id
        assert index.add(new_document("https://a.example/2", ASTRONOMY, parameters)).candidates == []
        assert index.add(new_document("https://a.example/3", library_copy(), parameters)).candidates == [library]
        assert index.add(new_document("https://a.example/4", LIBRARY, parameters)).candidates == [library, 3]
        with pytest.raises(ValueError, match=f"expected {bands} band keys"):
            index.add(dataclasses.replace(synthetic_document(5), band_keys=np.zeros(bands + 1, dtype=np.int32)))


def test_a_pair_is_seen_at_once_and_stored_smaller_id_first(backend: Backend) -> None:
    with backend.open() as index:
        for n in range(3):
            index.add(synthetic_document(n))
        index.add_pair(3, 1, "copy", 0.9, 0.95)
        index.add_pair(2, 1, "excerpt", 0.5, 0.9)
        index.add_pair(1, 3, "copy", 0.8, 0.85)  # measured again: replaces the first
        assert [(p.first, p.second, p.relation, p.jaccard, p.containment) for p in index.pairs()] == [
            (1, 2, "excerpt", 0.5, 0.9),
            (1, 3, "copy", 0.8, 0.85),
        ]


def test_clusters_rebuilt_from_pairs_are_the_incremental_ones(backend: Backend) -> None:
    with DedupEngine.open(backend.config) as engine:
        engine.add_many(corpus(12))
        before = {c: [m.id for m in engine.index.cluster_members(c)] for c in engine.index.cluster_ids()}
        assert engine.index.rebuild_clusters() == len(before) > 0
        after = {c: [m.id for m in engine.index.cluster_members(c)] for c in engine.index.cluster_ids()}
        assert after == before
        assert list(engine.index.clusters()) == []  # originals are chosen again
        assert {d.cluster for d in engine.index.documents()} - {None} == set(before)


def test_stored_originals_come_largest_cluster_first(backend: Backend) -> None:
    with backend.open() as index:
        for n in range(7):
            index.add(synthetic_document(n))
        index.join(7, [6])
        index.join(2, [1])
        index.join(5, [3, 4])
        index.save_cluster(6, 7, 2, "tie-break", [])
        index.save_cluster(1, 2, 2, "earliest publication", [])
        index.save_cluster(3, 4, 3, "attribution", ["oversized", "x"])
        assert [(row.id, row.canonical, row.size, row.decided_by, row.flags) for row in index.clusters()] == [
            (3, 4, 3, "attribution", ("oversized", "x")),
            (1, 2, 2, "earliest publication", ()),
            (6, 7, 2, "tie-break", ()),
        ]
        assert index.cluster(6) == next(row for row in index.clusters() if row.id == 6)


def test_an_index_opened_read_only_refuses_every_write(backend: Backend) -> None:
    with DedupEngine.open(backend.config) as engine:
        engine.add_many(corpus(6))
        expected = {
            "documents": list(engine.index.documents()),
            "pairs": list(engine.index.pairs()),
            "stored": list(engine.index.clusters()),
        }
    cluster_id = expected["stored"][0].id
    with open_index(backend.config, None, read_only=True) as index:
        assert index.read_only
        writes = [
            lambda: index.add(new_document("https://a.example/new", LIBRARY)),
            lambda: index.add_pair(1, 2, "copy", 0.9, 0.9),
            lambda: index.join(1, [2]),
            lambda: index.save_cluster(cluster_id, 1, 2, "tie-break", []),
            index.rebuild_clusters,
        ]
        for write in writes:
            with pytest.raises(DedupIndexError, match="read-only"):
                write()
        engine = DedupEngine(index)
        decisions = dict(engine.decisions())  # decided again, stored nowhere
        assert set(decisions) == {row.id for row in expected["stored"]}
        index.commit()
    with open_index(backend.config, None) as reopened:
        assert {
            "documents": list(reopened.documents()),
            "pairs": list(reopened.pairs()),
            "stored": list(reopened.clusters()),
        } == expected
