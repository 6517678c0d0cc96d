"""The SQLite index persists documents, bands, pairs and clusters, and refuses other parameters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from portal_archive.dedup import (
    DedupIndex,
    DedupIndexError,
    DedupIndexMismatch,
    IndexParameters,
    MinHasher,
    NewDocument,
    band_keys,
    make_sketch,
    prepare_text,
    shingle_hashes,
)
from tests.test_dedup_texts import ASTRONOMY, LIBRARY, library_copy

PARAMETERS = IndexParameters()


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


def test_index_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "dedup.sqlite"
    original = new_document("https://citydaily.example.cn/news/1", LIBRARY)
    with DedupIndex.open(path, PARAMETERS) as index:
        first = index.insert(original)
        second = index.insert(new_document("https://bendi.news/wxnews/c1", library_copy()))
        third = index.insert(new_document("https://citydaily.example.cn/news/2", ASTRONOMY))
        assert first is not None and second is not None and third is not None
        index.add_pair(second, first, "copy", 0.9, 0.95)
        joined = index.join(second, [first])
        index.save_cluster(joined.cluster_id, first, 2, "attribution", ["oversized"])
    assert path.is_file()

    with DedupIndex.open(path, PARAMETERS) as reopened:
        assert len(reopened) == 3
        assert reopened.find_url("http://www.citydaily.example.cn/news/1#comments") == first
        assert reopened.find_url("https://citydaily.example.cn/news/404") is None
        assert np.array_equal(reopened.signature(first), original.signature)
        assert first in reopened.candidates(band_keys(original.signature, 40, 3))
        assert reopened.candidates(band_keys(original.signature, 40, 3), exclude=first).count(first) == 0
        stored = reopened.document(second)
        assert (stored.url, stored.cluster, stored.meta["title"]) == (
            "https://bendi.news/wxnews/c1",
            first,
            "图书馆夜间开放",
        )
        assert stored.record_id.startswith("<urn:uuid:")
        assert [p.relation for p in reopened.pairs()] == ["copy"]
        assert [(p.first, p.second) for p in reopened.pairs()] == [(first, second)]
        assert [m.id for m in reopened.cluster_members(first)] == [first, second]
        cluster = reopened.cluster(first)
        assert cluster is not None
        assert (cluster.canonical, cluster.decided_by, cluster.flags) == (first, "attribution", ("oversized",))
        assert reopened.document(third).cluster is None
        assert [d.id for d in reopened.documents()] == [first, second, third]


def test_report_can_open_with_the_stored_parameters(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    custom = IndexParameters(num_perm=64, bands=16, rows=4, seed=9)
    with DedupIndex.open(path, custom) as index:
        index.insert(new_document("https://a.example/1", LIBRARY, custom))
    with DedupIndex.open(path) as report:
        assert report.parameters == custom
        assert len(report) == 1


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        (IndexParameters(shingle_size=4), "shingle_size"),
        (IndexParameters(num_perm=256), "num_perm"),
        (IndexParameters(seed=2), "seed"),
        (IndexParameters(bands=32, rows=4), "bands"),
        (IndexParameters(verify="exact"), "verify"),
        (IndexParameters(threshold=0.8), "threshold"),
        (IndexParameters(scheme="legacy"), "scheme"),
        (IndexParameters(datasketch_major=1), "datasketch_major"),
    ],
)
def test_other_parameters_are_refused_with_a_clear_message(tmp_path: Path, changed: IndexParameters, name: str) -> None:
    path = tmp_path / "dedup.sqlite"
    DedupIndex.open(path, PARAMETERS).close()
    with pytest.raises(DedupIndexMismatch) as caught:
        DedupIndex.open(path, changed)
    message = str(caught.value)
    assert caught.value.parameter == name
    assert f"{name}=" in message
    assert "rebuild the index" in message and "DEDUP_INDEX_PATH" in message
    assert str(path) in message


def test_missing_or_foreign_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DedupIndexError, match="no near-duplicate index"):
        DedupIndex.open(tmp_path / "absent.sqlite")
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(DedupIndexError, match="holds no near-duplicate index"):
        DedupIndex.open(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DedupIndexError, match="not a near-duplicate index"):
        DedupIndex.open(garbage, PARAMETERS)


def test_same_url_is_stored_once(tmp_path: Path) -> None:
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        assert index.insert(new_document("https://a.example/1", LIBRARY)) == 1
        assert index.insert(new_document("http://www.a.example/1/", ASTRONOMY)) is None
        assert len(index) == 1


def test_joining_merges_clusters_under_the_smallest_id(tmp_path: Path) -> None:
    with DedupIndex.open(":memory:", PARAMETERS) as index:
        ids = [index.insert(new_document(f"https://a.example/{n}", LIBRARY)) for n in range(5)]
        a, b, c, d, e = (i for i in ids if i is not None)
        assert index.join(b, [a]).created
        assert index.join(d, [c]).created
        index.save_cluster(c, c, 2, "tie-break", [])
        merged = index.join(e, [b, d])
        assert (merged.cluster_id, merged.merged, merged.created) == (a, (c,), False)
        assert [m.id for m in index.cluster_members(a)] == [a, b, c, d, e]
        assert index.cluster(c) is None
        assert index.cluster_size(a) == 5


def test_storage_is_reported_per_object(tmp_path: Path) -> None:
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        for n in range(20):
            index.insert(new_document(f"https://a.example/{n}", LIBRARY + str(n)))
        report = index.storage()
    assert report.documents == 20
    assert {"documents", "bands", "documents_url_key"} <= set(report.by_object)
    assert report.bytes_per_document == report.file_bytes / 20
