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
from portal_archive.dedup.index import CandidateSketches
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


@pytest.mark.parametrize("count", [1, 3, 64, 65, 150])
def test_sketches_are_read_for_any_number_of_ids_in_the_order_asked(tmp_path: Path, count: int) -> None:
    with DedupIndex.open(tmp_path / "dedup.sqlite", PARAMETERS) as index:
        stored = {}
        for n in range(count):
            document = new_document(f"https://a.example/{n}", LIBRARY + str(n))
            doc_id = index.insert(document)
            assert doc_id is not None
            stored[doc_id] = document
        asked = [*reversed(stored), 10_000]  # newest first, and an id no document has
        found = index.sketches(asked)
    assert [sketch.id for sketch in found] == list(reversed(stored))
    assert all(sketch.sketch == stored[sketch.id].sketch for sketch in found)
    assert all(sketch.url == stored[sketch.id].url for sketch in found)


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
    assert {"documents", "band_keys", "sketches", "documents_url_key"} <= set(report.by_object)
    assert report.by_component()["bands"] == report.by_object["band_keys"]
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
            assert all(0 <= key < 2**32 for key in packed)


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


def _as_format_2(path: Path) -> None:
    """Rewrite a file in the layout of format 2 (one ``bands`` row per key and document)."""
    with DedupIndex.open(path) as index:
        entries = list(index.band_entries())
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE bands (key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID"
        )
        connection.executemany("INSERT INTO bands VALUES (?, ?)", [(key - (1 << 31), doc) for key, doc in entries])
        connection.execute("DROP TABLE band_keys")
        connection.execute("UPDATE parameters SET value = '2' WHERE name = 'format'")


def test_a_format_2_file_is_upgraded_when_opened_for_writing_and_finds_the_same_candidates(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupEngine.open(DedupConfig(index_path=path)) as engine:
        engine.add_many(corpus(8), commit=True)
        clusters_before = [decision.canonical.url for _, decision in engine.decisions()]
    with DedupIndex.open(path) as index:
        entries = sorted(index.band_entries())
        probes = [new_document(f"https://probe.example/{n}", text) for n, text in enumerate((LIBRARY, ASTRONOMY))]
        candidates = [index.candidates(probe.band_keys) for probe in probes]
    _as_format_2(path)
    with pytest.raises(DedupIndexMismatch, match="open it once for writing"):
        DedupIndex.open(path, None, read_only=True)  # a report never writes, so never upgrades
    with DedupIndex.open(path, PARAMETERS) as upgraded:
        assert sorted(upgraded.band_entries()) == entries
        assert [upgraded.candidates(probe.band_keys) for probe in probes] == candidates
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        assert "bands" not in tables and "band_keys" in tables
    with DedupEngine.open(DedupConfig(index_path=path)) as engine:
        assert [decision.canonical.url for _, decision in engine.decisions()] == clusters_before
        verdict = engine.add_many(corpus(8)[:1], commit=True)[0]
        assert verdict.status == "revisit"


def test_a_document_another_connection_committed_is_found_and_an_uncommitted_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex.open(path, PARAMETERS) as first, DedupIndex.open(path, PARAMETERS) as second:
        copy = new_document("https://b.example/copy", library_copy())
        assert second.candidates(copy.band_keys) == []  # loads the (empty) table
        library = first.insert(new_document("https://a.example/1", LIBRARY))
        assert second.candidates(copy.band_keys) == []  # not committed yet
        first.commit()
        assert second.candidates(copy.band_keys) == [library]
        astronomy = new_document("https://a.example/2", ASTRONOMY)
        lost = second.insert(astronomy)
        assert second.candidates(astronomy.band_keys) == [lost]
        second._db.execute("ROLLBACK")  # what SQLite does by itself on a full disk or an I/O error
        assert second.candidates(astronomy.band_keys) == []
        assert first.candidates(astronomy.band_keys) == []


def test_a_document_stored_without_a_look_up_still_sees_what_another_connection_stored_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex.open(path, PARAMETERS) as first, DedupIndex.open(path, PARAMETERS) as second:
        copy = new_document("https://b.example/copy", library_copy())
        astronomy = new_document("https://a.example/2", ASTRONOMY)
        assert second.candidates(copy.band_keys) == []  # the table is loaded, empty
        library = first.insert(new_document("https://a.example/1", LIBRARY))
        first.commit()
        stored = second.insert(astronomy)  # takes the id after the first connection's
        second.commit()
        assert stored is not None and library is not None and stored > library
        assert second.candidates(copy.band_keys) == [library]
        assert second.candidates(astronomy.band_keys) == [stored]


_INDEXER = """
import sys
from pathlib import Path
from portal_archive.dedup import DedupConfig, DedupEngine
from tests.dedup_redis_corpus import corpus

documents = corpus(int(sys.argv[2]))
with DedupEngine.open(DedupConfig(index_path=Path(sys.argv[1]))) as engine:
    for start in range(0, len(documents), 16):
        verdicts = engine.add_many(documents[start : start + 16], commit=True)
        print(*(v.url for v in verdicts if v.status == "indexed"), sep="\\n", flush=True)
    print("done", flush=True)
"""


def test_a_process_killed_mid_batch_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    path = tmp_path / "dedup.sqlite"
    count = 400
    process = subprocess.Popen(
        [sys.executable, "-c", _INDEXER, str(path), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.stdout is not None
    acknowledged = []
    for line in process.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 150:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with DedupIndex.open(path) as index:
        stored = {document.url for document in index.documents()}
        assert set(acknowledged) <= stored
        assert len(stored) < count  # killed before the end
        entries = list(index.band_entries())
        assert len(entries) == len(stored) * index.parameters.bands  # no document without its keys
    # The index takes up where it stopped: the rest is indexed, what was stored is a revisit, and
    # the copies of documents stored before the kill are found.
    documents = corpus(count)
    with DedupEngine.open(DedupConfig(index_path=path)) as engine:
        verdicts = engine.add_many(documents, commit=True)
    assert {v.url for v in verdicts if v.status == "revisit"} == stored
    with DedupEngine.open(DedupConfig(index_path=tmp_path / "whole.sqlite")) as whole:
        expected = whole.add_many(documents, commit=True)
        expected_clusters = sorted(sorted(m.url for m in d.members) for _, d in whole.decisions())
    with DedupEngine.open(DedupConfig(index_path=path)) as engine:
        assert sorted(sorted(m.url for m in d.members) for _, d in engine.decisions()) == expected_clusters
    assert sum(v.role not in (None, "unique") for v in expected) > 0


def test_candidates_are_verified_from_memory_with_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex.open(path, PARAMETERS) as first, DedupIndex.open(path, PARAMETERS) as second:
        library = first.insert(new_document("https://a.example/1", LIBRARY))
        first.commit()
        copy = new_document("https://b.example/copy", library_copy())
        added = second.add(copy)  # loads the tables, with the other connection's document
        assert added.doc_id is not None and added.candidates == [library]
        astronomy = second.insert(new_document("https://a.example/2", ASTRONOMY))
        assert astronomy is not None
        asked = [astronomy, 12_345, library, added.doc_id]
        held = second.candidate_sketches(asked)
        assert held.urls is None  # from memory: nothing was read
        read = CandidateSketches.of(second.sketches(asked))
        assert held.ids.tolist() == read.ids.tolist() == [astronomy, library, added.doc_id]
        assert [row.tobytes() for row in held.sketches] == list(read.sketches)
        assert held.shingles.tolist() == read.shingles.tolist()
        assert held.chars.tolist() == read.chars.tolist()
        second._db.execute("ROLLBACK")  # what SQLite does by itself on a full disk or an I/O error
        assert second.candidate_sketches(asked).ids.tolist() == [library]


def test_verdicts_from_memory_equal_those_read_from_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    documents = corpus(160)

    def run(name: str) -> tuple[list[dict[str, object]], list[list[str]]]:
        with DedupEngine.open(DedupConfig(index_path=tmp_path / name)) as engine:
            verdicts = [v.as_dict() for start in range(0, len(documents), 16)
                        for v in engine.add_many(documents[start : start + 16], commit=True)]  # fmt: skip
            clusters = sorted(sorted(m.url for m in d.members) for _, d in engine.decisions())
        return verdicts, clusters

    held = run("memory.sqlite")
    monkeypatch.setattr(DedupIndex, "candidate_sketches", lambda self, ids: CandidateSketches.of(self.sketches(ids)))
    read = run("file.sqlite")
    assert held == read
    assert sum(verdict["role"] not in (None, "unique") for verdict in held[0]) > 10


def test_a_batch_verified_together_gives_the_verdicts_of_one_document_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A committed batch is stored, then its candidates verified in one pass, then clustered in
    order: copies inside the batch, a URL twice in it and texts too short to index included."""
    documents = corpus(160)
    documents.insert(40, dataclasses.replace(documents[35], text=documents[35].text + "\n补充一句。"))  # revisit
    documents.insert(60, dataclasses.replace(documents[0], url="https://example.com/short", text="太短了。"))

    def run(name: str, batch: int) -> tuple[list[dict[str, object]], list[list[str]], list[int]]:
        asked: list[int] = []
        held = DedupIndex.candidate_sketches

        def counted(self: DedupIndex, ids: list[int]) -> CandidateSketches:
            asked.append(len(ids))
            return held(self, ids)

        monkeypatch.setattr(DedupIndex, "candidate_sketches", counted)
        with DedupEngine.open(DedupConfig(index_path=tmp_path / name)) as engine:
            if batch == 1:
                verdicts = [engine.add(document).as_dict() for document in documents]
            else:
                verdicts = [v.as_dict() for start in range(0, len(documents), batch)
                            for v in engine.add_many(documents[start : start + batch], commit=True)]  # fmt: skip
            clusters = sorted(sorted(m.url for m in d.members) for _, d in engine.decisions())
        return verdicts, clusters, asked

    *single, asked_singly = run("single.sqlite", 1)
    *together, asked_together = run("together.sqlite", 64)
    assert together == single
    statuses = [verdict["status"] for verdict in together[0]]
    assert statuses.count("revisit") == 1 and statuses.count("too_short") == 1
    assert sum(verdict["role"] not in (None, "unique") for verdict in together[0]) > 10
    # One look-up of candidates' sketches per batch instead of one per document with candidates.
    assert len(asked_together) <= -(-len(documents) // 64) < len(asked_singly)
