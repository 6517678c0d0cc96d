"""What only the SQLite index does: its file (layout, format version, foreign files, storage figures),
candidate look-ups on their own, transactions SQLite rolls back, and a read-only file left as it was.
The contract both backends keep is tested in tests/dedup/test_index.py."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from portal_archive.dedup import (
    DedupConfig,
    DedupEngine,
    DedupIndex,
    DedupIndexError,
    DedupIndexMismatch,
    IndexParameters,
)
from tests.dedup.test_index import PARAMETERS, new_document
from tests.dedup.test_texts import ASTRONOMY, LIBRARY, library_copy
from tests.dedup_redis_corpus import corpus


def test_candidates_are_looked_up_without_storing_and_can_leave_one_out(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "dedup.sqlite"
    original = new_document("https://citydaily.example.cn/news/1", LIBRARY)
    with DedupIndex.open(path, PARAMETERS) as index:
        first = index.insert(original)
        second = index.insert(new_document("https://bendi.news/wxnews/c1", library_copy()))
        assert first is not None and second is not None
    assert path.is_file()
    with DedupIndex.open(path, PARAMETERS) as reopened:
        assert first in reopened.candidates(original.band_keys)
        assert reopened.candidates(original.band_keys, exclude=first).count(first) == 0
        assert reopened.candidates(original.band_keys, limit=1) == [first]
        assert len(reopened) == 2


def test_foreign_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DedupIndexError, match="no near-duplicate index"):
        DedupIndex.open(tmp_path / "absent.sqlite")
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(DedupIndexError, match="holds no near-duplicate index"):
        DedupIndex.open(foreign)
    with pytest.raises(DedupIndexError, match="holds no near-duplicate index"):
        DedupIndex.open(foreign, PARAMETERS, read_only=True)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DedupIndexError, match="not a near-duplicate index"):
        DedupIndex.open(garbage, PARAMETERS)
    with pytest.raises(DedupIndexError, match="not a near-duplicate index"):
        DedupIndex.open(garbage, None, read_only=True)


def test_storage_is_reported_per_object(tmp_path: Path) -> None:
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        for n in range(20):
            index.insert(new_document(f"https://a.example/{n}", LIBRARY + str(n)))
        report = index.storage()
    assert report.documents == 20
    assert {"documents", "bands", "documents_url_key"} <= set(report.by_object)
    assert report.bytes_per_document == report.file_bytes / 20


def test_metadata_and_record_ids_are_stored_compactly(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    meta = {
        "title": "图书馆夜间开放",
        "site": "citydaily",
        "attributions": ["城市晚报"],
        "warc_filename": "citydaily-20240401-00000.warc.gz",
        "warc_offset": 7817,
        "t": "an unknown key that looks like a short one",
    }
    record_id = "<urn:uuid:72cacac1-a568-4865-bfe1-63d9c7afdc74>"
    with DedupIndex.open(path, PARAMETERS) as index:
        first = index.insert(dataclasses.replace(new_document("https://a.example/1", LIBRARY), record_id=record_id))
        index.insert(dataclasses.replace(new_document("https://a.example/2", LIBRARY + "2"), meta=meta))
        index.insert(dataclasses.replace(new_document("https://a.example/3", LIBRARY + "3"), meta=meta))
    with sqlite3.connect(path) as connection:
        stored_meta, file_id, offset = connection.execute(
            "SELECT meta, warc_file, warc_offset FROM documents WHERE id = 2"
        ).fetchone()
        assert connection.execute("SELECT count(*) FROM warc_files").fetchone()[0] == 1
        assert connection.execute("SELECT length(record_id) FROM documents WHERE id = ?", (first,)).fetchone()[0] == 16
    assert '"title"' not in stored_meta and "warc" not in stored_meta
    assert (file_id, offset) == (1, 7817)


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


def test_a_file_opened_read_only_is_left_byte_for_byte_and_sqlite_refuses_changes(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupEngine.open(DedupConfig(index_path=path)) as engine:
        engine.add_many(corpus(6))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    with DedupIndex.open(path, None, read_only=True) as index:
        decisions = list(DedupEngine(index).decisions())
        assert decisions
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            index._db.execute("DELETE FROM clusters")  # past the index's own refusal, SQLite's
        for write in (index.checkpoint, index.compact, lambda: index.restore_bands([(1, 1)])):
            with pytest.raises(DedupIndexError, match="read-only"):
                write()
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dedup.sqlite"]  # no write-ahead log left behind
