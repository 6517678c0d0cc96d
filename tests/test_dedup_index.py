"""The SQLite index persists documents, bands, pairs and clusters, and refuses other parameters."""

from __future__ import annotations

import dataclasses
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
    estimate_jaccard,
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
        assert first in reopened.candidates(original.band_keys)
        assert reopened.candidates(original.band_keys, exclude=first).count(first) == 0
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
        (IndexParameters(bands=40, rows=3), "bands"),
        (IndexParameters(sketch_bins=2048), "sketch_bins"),
        (IndexParameters(signature_bits=16), "signature_bits"),
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


def test_metadata_record_ids_and_warc_locations_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    meta = {
        "title": "图书馆夜间开放",
        "site": "citydaily",
        "published_at": "2024-04-01T08:00:00+08:00",
        "attributions": ["城市晚报"],
        "copy_markers": 2,
        "warc_filename": "citydaily-20240401-00000.warc.gz",
        "warc_offset": 7817,
        "t": "an unknown key that looks like a short one",
        "~odd": 1,
        "extra": {"nested": [1, 2]},
    }
    records = ["<urn:uuid:72cacac1-a568-4865-bfe1-63d9c7afdc74>", "<urn:uuid:72CACAC1-A568-4865-BFE1-63D9C7AFDC74>", ""]
    with DedupIndex.open(path, PARAMETERS) as index:
        ids = []
        for n, record_id in enumerate(records):
            document = new_document(f"https://a.example/{n}", LIBRARY + str(n))
            ids.append(index.insert(dataclasses.replace(document, record_id=record_id, meta=meta)))
        plain = index.insert(new_document("https://a.example/plain", ASTRONOMY))
        index.join(ids[1] or 0, [ids[0] or 0])
    with DedupIndex.open(path) as reopened:
        for doc_id, record_id in zip(ids, records, strict=True):
            assert doc_id is not None
            stored = reopened.document(doc_id)
            assert stored.record_id == record_id
            assert stored.meta == meta
        assert plain is not None and reopened.document(plain).meta == {"title": "图书馆夜间开放"}
        assert [(m.record_id, m.meta) for m in reopened.cluster_members(ids[0] or 0)] == [
            (r, meta) for r in records[:2]
        ]
    with sqlite3.connect(path) as connection:
        stored_meta, file_id, offset = connection.execute(
            "SELECT meta, warc_file, warc_offset FROM documents WHERE id = ?", (ids[0],)
        ).fetchone()
        assert connection.execute("SELECT count(*) FROM warc_files").fetchone()[0] == 1
        assert connection.execute("SELECT length(record_id) FROM documents WHERE id = ?", (ids[0],)).fetchone()[0] == 16
    assert '"title"' not in stored_meta and "warc" not in stored_meta
    assert (file_id, offset) == (1, 7817)


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_signatures_are_stored_when_asked_for_with_the_bits_asked_for(tmp_path: Path, bits: int) -> None:
    parameters = IndexParameters(signature_bits=bits)
    original = new_document("https://a.example/1", LIBRARY, parameters)
    copy = new_document("https://a.example/2", library_copy(), parameters)
    with DedupIndex.open(tmp_path / "dedup.sqlite", parameters) as index:
        first, second = index.insert(original), index.insert(copy)
        assert first is not None and second is not None
        stored = index.signature(first)
        assert stored.dtype.itemsize * 8 == bits
        assert np.array_equal(stored, original.signature & np.uint32((1 << bits) - 1))
        full = estimate_jaccard(original.signature, copy.signature)
        assert abs(estimate_jaccard(stored, index.signature(second), bits=bits) - full) < 0.02
        assert abs(estimate_jaccard(original.signature, index.signature(second), bits=bits) - full) < 0.02
        with pytest.raises(KeyError):
            index.signature(99)


def test_no_signature_is_stored_by_default_and_asking_for_one_says_how_to_get_it(tmp_path: Path) -> None:
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        doc_id = index.insert(new_document("https://a.example/1", LIBRARY))
        assert doc_id is not None
        with pytest.raises(DedupIndexError, match=r"signature_bits=0.*MinHasher\(128, 1\)"):
            index.signature(doc_id)


@pytest.mark.parametrize(("bands", "rows"), [(1, 3), (32, 3), (40, 3), (128, 1)])
def test_band_keys_are_found_again_whatever_the_number_of_bands(bands: int, rows: int) -> None:
    parameters = IndexParameters(bands=bands, rows=rows)
    with DedupIndex.open(":memory:", parameters) as index:
        library = index.insert(new_document("https://a.example/1", LIBRARY, parameters))
        index.insert(new_document("https://a.example/2", ASTRONOMY, parameters))
        copy = new_document("https://a.example/3", library_copy(), parameters)
        assert index.candidates(copy.band_keys) == [library]
        assert index.candidates(new_document("https://a.example/1", LIBRARY, parameters).band_keys) == [library]
        # Extreme band hashes (all bits set or clear) stay within the 32-bit key of their band.
        for value in (-(2**31), -1, 0, 2**31 - 1):
            keys = np.full(bands, value, dtype=np.int32)
            packed = index._packed(keys)
            assert len(set(packed)) == bands
            assert all(-(2**31) <= key < 2**31 for key in packed)


def test_a_file_of_an_older_format_is_refused_with_a_rebuild_message(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE parameters (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        stored = {**PARAMETERS.stored(), "format": "1", "bands": "40", "sketch_bins": "2048"}
        connection.executemany("INSERT INTO parameters VALUES (?, ?)", stored.items())
    for parameters in (PARAMETERS, None):
        with pytest.raises(DedupIndexMismatch) as caught:
            DedupIndex.open(path, parameters)
        assert caught.value.parameter == "format"
        assert "format=1" in str(caught.value) and "rebuild the index" in str(caught.value)


def test_a_warc_file_numbered_in_a_transaction_that_was_rolled_back_is_numbered_again(tmp_path: Path) -> None:
    meta = {"title": "图书馆夜间开放", "warc_filename": "a-00000.warc.gz", "warc_offset": 10}
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        index.insert(dataclasses.replace(new_document("https://a.example/1", LIBRARY), meta=meta))
        index._db.execute("ROLLBACK")  # what SQLite does by itself on a full disk or an I/O error
        doc_id = index.insert(dataclasses.replace(new_document("https://a.example/2", ASTRONOMY), meta=meta))
        assert doc_id is not None
    with DedupIndex.open(tmp_path / "dedup.sqlite") as reopened:
        assert len(reopened) == 1
        assert reopened.document(doc_id).meta == meta
