"""The persistent near-duplicate index: one SQLite file that outlives crawls and is read by reports.

Tables:

- ``parameters``: the file's layout version (``format``, this module's ``FORMAT_VERSION``) and
  everything a stored value depends on (``IndexParameters``: shingle size, permutations, seed,
  scheme, shingle hash, banding, verification sketch, stored signature bits, copy-rule thresholds,
  datasketch major version). Opening with different values raises ``DedupIndexMismatch``:
  signatures, band keys and sketches computed under other parameters are meaningless together, and
  a file of another format version cannot be read at all.
- ``documents``: URL (and a 64-bit key of its normalised form, uniquely indexed), WARC record id
  (16 bytes when it is a ``<urn:uuid:…>``), WARC file (a ``warc_files`` id) and offset, normalised
  length, shingle-set size, cluster id (NULL while unique) and a compact JSON object of the metadata
  the original is chosen on (title, site, publication time, attribution, canonical and ``阅读原文``
  links…; short keys on disk, full names in ``StoredDocument.meta``).
- ``sketches``: the verification sketch of each document and, when ``signature_bits`` > 0, its
  MinHash signature (the low ``signature_bits`` bits of each value). Rows have a fixed size, so
  they fill pages evenly whatever the URL and metadata lengths.
- ``band_keys``: one row per document, appended in id order: its ``bands`` band keys, 4 bytes
  each (the band number in the top bits, the band hash in the rest: 27 bits with 32 bands). Lookups
  run in memory (``BandTable``), built from these rows at the first lookup and kept current with
  the rows added since, so a lookup costs the same at a million documents as at a thousand and a
  commit appends instead of rewriting one B-tree page per key (format 2 kept a ``bands`` B-tree of
  (key, document) rows: 424 bytes per document, and the engine's cost doubled per order of
  magnitude).
- ``pairs``: verified copy pairs with their similarity; ``clusters``: the current original of each
  cluster.

Measured size (``bench/dedup_scale.py``, texts of ~3,100 characters): see the README's scale
table; ``band_keys`` takes about 140 bytes per document, ``sketches`` 274 (a 256-byte sketch, 15
rows per 4 KB page), ``documents`` about 216 and its URL index 18. Beyond 32,767 documents, ids take
3 bytes instead of 2; real crawls carry longer URLs and more metadata than the bench (about 75
bytes more on the demo portal). Stored signatures cost ``num_perm * signature_bits / 8`` bytes
more; ``verify="exact"`` stores whole shingle sets (10.6 KB per document). The in-memory band table
takes 8 bytes per key (256 bytes per document with 32 bands) in each process that looks up, and,
with fixed-size sketches, the sketch table (``SketchTable``) the sketch's bytes plus 8 (264 with
the default sketch): candidates are verified from memory, and only a match's URL is read.

The MinHash signature is not stored by default: nothing reads it once the band keys are written,
and the sketch estimates similarity about three times as precisely. It is reproducible: the stored
parameters fix the text preparation, shingle hash, permutations and seed, so ``MinHasher`` gives
the same signature for the same text.

The file uses SQLite's write-ahead log, so a report can read it while a crawl writes; several
crawls may write to it at once (each write transaction takes the lock up front and waits for the
others). A report opens it ``read_only``: SQLite then refuses every change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.cluster import connected_components
from portal_archive.dedup.index.bandtable import BandTable
from portal_archive.dedup.index.base import (
    WARC_FILENAME,
    WARC_OFFSET,
    Added,
    BandKeyPacker,
    CandidateSketches,
    ClusterRow,
    DedupIndexError,
    DedupIndexMismatch,
    IndexParameters,
    Joined,
    NearDuplicateIndex,
    NewDocument,
    StorageReport,
    StoredDocument,
    StoredPair,
    StoredSignature,
    StoredSketch,
    decode_meta,
    decode_record_id,
    decode_signature,
    encode_meta,
    encode_record_id,
    encode_signature,
    merge_clusters,
    require_signatures,
    split_warc_location,
    url_key,
)
from portal_archive.dedup.index.sketchtable import SketchTable

__all__ = ["DEFAULT_CACHE_KIB", "DedupIndex"]

DEFAULT_CACHE_KIB: Final = 8_192
"""SQLite page cache per connection (``DEDUP_CACHE_MIB``): see ``DedupConfig.cache_mib``."""
FORMAT_VERSION: Final = 3
"""Version of the SQLite table layout. 2: packed band keys, sketches in their own table, no signature
by default, binary record ids, compact metadata. 3: a document's band keys in one appended row,
looked up in memory (version 2 files are upgraded when opened for writing). Files of other versions
are refused (rebuild)."""
UPGRADABLE_FORMATS: Final = ("2",)

_KEY_DTYPE: Final = np.dtype("<u4")
"""A stored band key: unsigned 32 bits, little-endian, ``bands`` of them per ``band_keys`` row."""
_LOAD_ROWS: Final = 8_192
_MMAP_BYTES: Final = 1 << 30
_WAL_CHECKPOINT_PAGES: Final = 10_000
_WAL_LIMIT_BYTES: Final = 64 << 20
_BUSY_TIMEOUT_S = 60.0
_BAND_KEYS_COLUMNS: Final = "(id INTEGER PRIMARY KEY, keys BLOB NOT NULL)"
"""``band_keys``: created with the schema, or by upgrading a format 2 file."""
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS parameters (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    url_key INTEGER NOT NULL,
    url TEXT NOT NULL,
    record_id BLOB NOT NULL,
    chars INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    cluster INTEGER,
    warc_file INTEGER,
    warc_offset INTEGER,
    meta TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_url_key ON documents (url_key);
CREATE INDEX IF NOT EXISTS documents_cluster ON documents (cluster) WHERE cluster IS NOT NULL;
CREATE TABLE IF NOT EXISTS sketches (
    id INTEGER PRIMARY KEY,
    sketch BLOB NOT NULL,
    signature BLOB
);
CREATE TABLE IF NOT EXISTS band_keys {_BAND_KEYS_COLUMNS};
CREATE TABLE IF NOT EXISTS warc_files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS pairs (
    first INTEGER NOT NULL,
    second INTEGER NOT NULL,
    relation TEXT NOT NULL,
    jaccard REAL NOT NULL,
    containment REAL NOT NULL,
    PRIMARY KEY (first, second)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clusters (
    id INTEGER PRIMARY KEY,
    canonical INTEGER NOT NULL,
    size INTEGER NOT NULL,
    decided_by TEXT NOT NULL,
    flags TEXT NOT NULL
);
"""


class DedupIndex(NearDuplicateIndex):
    """A persistent MinHash LSH index with verification sketches, clusters and their originals.

    Open it with ``DedupIndex.open``. Writes are grouped in a transaction until ``commit`` (or
    ``close``); readers in other processes see committed data only.

    Example:
        >>> with DedupIndex.open("archive/dedup.sqlite", IndexParameters()) as index:
        ...     print(len(index), index.parameters.num_perm)
    """

    transactional = True

    def __init__(
        self, connection: sqlite3.Connection, parameters: IndexParameters, path: str, *, read_only: bool = False
    ) -> None:
        self._db = connection
        self.parameters = parameters
        self.path = path
        self.read_only = read_only
        self.mismatch_remedy = ""
        """Empty: ``DedupIndexMismatch`` says to rebuild the file or use another one."""
        self._packed = BandKeyPacker(parameters.bands)
        """A document's band keys as stored (unsigned, 4 bytes each in ``band_keys.keys``)."""
        self._bands: BandTable | None = None
        """Every stored document's band keys, read from the file at the first lookup."""
        self._sketch_table: SketchTable | None = None
        """With fixed-size sketches: every stored document's sketch and lengths, read with ``_bands``
        and kept in step with it (the same rows, the same ``last_id``)."""
        self._unsettled = False
        """Keys went into ``_bands`` in the open transaction: if it does not commit, they must go."""
        self._synced = False
        """``_bands`` holds every row the open write transaction sees: no other writer can add one
        before it ends, so it is not read again until then."""
        self._warc_file_ids: dict[str, int] = {}
        self._pending_warc_files: set[str] = set()
        """Names given an id in the open transaction: forgotten if it does not commit."""
        self._warc_file_names: dict[int, str] = {}

    @classmethod
    def open(
        cls,
        path: str | Path,
        parameters: IndexParameters | None = None,
        *,
        cache_kib: int = DEFAULT_CACHE_KIB,
        read_only: bool = False,
    ) -> Self:
        """Open the index at ``path``, creating it when it does not exist yet (unless ``read_only``).

        Args:
            path: The SQLite file (its folder is created), or ``":memory:"``.
            parameters: The parameters to build with, or to check a stored index against. None opens
                an existing index with the parameters it was built with (for reports).
            cache_kib: SQLite's page cache for this connection, in KiB.
            read_only: Never write (a report): nothing is created, and SQLite itself refuses every
                statement that would change the file (``PRAGMA query_only``). The connection stays
                an ordinary one, so closing it tidies the write-ahead log as a crawl's does; a
                ``mode=ro`` connection would leave ``-wal`` and ``-shm`` files beside the index.

        Raises:
            DedupIndexMismatch: The stored index was built with other ``parameters``, or in another
                format version (with ``parameters`` None too); names the first parameter that
                differs.
            DedupIndexError: ``parameters`` is None (or ``read_only``) and there is no index at
                ``path``, or the file is not a near-duplicate index.
        """
        location = str(path)
        if location != ":memory:":
            if (parameters is None or read_only) and not Path(location).exists():
                raise DedupIndexError(f"no near-duplicate index at {location}")
            if not read_only:
                Path(location).parent.mkdir(parents=True, exist_ok=True)
        try:
            # Several crawls (one process per spider) share one index: wait for each other's writes.
            connection = sqlite3.connect(location, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
            if read_only:
                connection.execute("PRAGMA query_only = ON")
            elif location != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
                # A commit rewrites most band pages it touched: checkpointing every 1,000 pages (the
                # default) copied each of them again after nearly every commit; 10,000 (40 MB) made the
                # bench's engine 5-8 % faster. The log file is cut back to 64 MiB after a checkpoint.
                connection.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
                connection.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
                # Verifying a candidate reads its row and sketch from anywhere in the file: through a
                # memory map, a page the system has cached costs no system call (at 150,000 documents
                # the engine ran 8 % faster). Pages read count in the process's RSS as file pages,
                # which the kernel takes back when memory is short. A report (read-only) does without.
                connection.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            connection.execute("PRAGMA synchronous=NORMAL")
            # Band lookups and inserts hit random pages: the cache decides how many reach the file.
            connection.execute(f"PRAGMA cache_size = -{max(1, int(cache_kib))}")
            stored = (
                dict(connection.execute("SELECT name, value FROM parameters").fetchall())
                if _has_schema(connection)
                else {}
            )
        except sqlite3.DatabaseError as exc:
            raise DedupIndexError(f"{location} is not a near-duplicate index: {exc}") from exc
        if not stored:
            if parameters is None or read_only:
                connection.close()
                raise DedupIndexError(f"{location} holds no near-duplicate index")
            # Crawls started side by side may both find no schema: create it once, under the write lock.
            try:
                # executescript commits any open transaction first, so the lock is taken inside it.
                connection.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA)
                rows = {"format": str(FORMAT_VERSION), **parameters.stored()}
                connection.executemany("INSERT OR IGNORE INTO parameters VALUES (?, ?)", rows.items())
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                connection.close()
                raise
            # Whoever created it first wrote the parameters: check ours against theirs below.
            stored = dict(connection.execute("SELECT name, value FROM parameters").fetchall())
        try:
            # The layout is checked first: another format cannot even be read with its own parameters.
            stored_format = stored.get("format", "1")
            if stored_format in UPGRADABLE_FORMATS and not read_only:
                _upgrade(connection)
                stored_format = stored["format"] = str(FORMAT_VERSION)
            elif stored_format in UPGRADABLE_FORMATS:
                remedy = "open it once for writing (a crawl, or portal-archive dedup-index) and it is upgraded"
                raise DedupIndexMismatch(location, "format", stored_format, str(FORMAT_VERSION), remedy=remedy)
            if stored_format != str(FORMAT_VERSION):
                raise DedupIndexMismatch(location, "format", stored_format, str(FORMAT_VERSION))
            if parameters is not None:
                parameters.check_stored(stored, location)
        except DedupIndexMismatch:
            connection.close()
            raise
        return cls(connection, parameters or IndexParameters.from_stored(stored), location, read_only=read_only)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def begin(self) -> None:
        """Start a write transaction (``commit`` ends it); a no-op inside one. Every write calls it.

        Raises:
            DedupIndexError: The index was opened read-only.
        """
        if not self._db.in_transaction:
            self.check_writable()
            # A transaction SQLite rolled back on its own (disk full, I/O error) may have numbered
            # WARC files that no longer exist, and put band keys in memory that the file lacks.
            self._forget_uncommitted()
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads, then writes
            # after another process committed, fails at once with SQLITE_BUSY instead of waiting.
            self._db.execute("BEGIN IMMEDIATE")
            self._synced = False

    def commit(self) -> None:
        """Commit the open transaction: its writes become durable and visible to readers."""
        self._synced = False
        if self._db.in_transaction:
            self._db.execute("COMMIT")
            self._pending_warc_files.clear()
            self._unsettled = False
        else:  # nothing open, or SQLite rolled the transaction back on its own
            self._forget_uncommitted()

    def close(self) -> None:
        """Commit and close the file."""
        self.commit()
        self._db.close()

    def find_url(self, url: str) -> int | None:
        row = self._db.execute("SELECT id FROM documents WHERE url_key = ?", (url_key(url),)).fetchone()
        return int(row[0]) if row else None

    def candidates(
        self, band_keys: npt.NDArray[np.int32], *, exclude: int | None = None, limit: int | None = None
    ) -> list[int]:
        """Ids of the documents that share at least one band key (unverified, approximate).

        A band key is stored with ``32 - ceil(log2(bands))`` bits of its hash (27 with 32 bands), so
        an unrelated document shares one by chance with probability ``bands * 2**-27`` (2.4e-7):
        verification drops it.

        Args:
            band_keys: The ``bands`` keys of one signature (``lsh.band_keys``).
            exclude: A document id to leave out (the one being looked up, once inserted).
            limit: Keep only this many, those sharing the most bands first (``add``).

        Returns:
            Document ids in ascending order (or by shared bands, then id, when ``limit`` cut).
        """
        return self._sharing(self._packed.array(band_keys), exclude=exclude, limit=limit)

    def _sharing(
        self, packed: npt.NDArray[np.uint32], *, exclude: int | None = None, limit: int | None = None
    ) -> list[int]:
        shared = self._band_table().lookup(packed)
        if exclude is not None:
            shared.pop(exclude, None)
        if limit is not None and len(shared) > limit:
            return [doc for doc, _ in sorted(shared.items(), key=lambda row: (-row[1], row[0]))[:limit]]
        return sorted(shared)

    def add(self, document: NewDocument, *, limit: int | None = None) -> Added:
        """``candidates``, then ``insert``, in one write transaction: no crawl sharing the file can
        commit in between, and the document does not find itself."""
        self.begin()
        packed = self._packed.array(document.band_keys)
        candidates = self._sharing(packed, limit=limit)
        doc_id = self._insert(document, packed)
        return Added(doc_id, candidates if doc_id is not None else [])

    def insert(self, document: NewDocument) -> int | None:
        """Store a document, its sketch and its band keys, without looking up candidates.

        Writes are grouped until ``commit``. A URL is stored once: scheme, ``www.``, fragment and a
        trailing slash do not make a new document.

        Returns:
            The new document's id, or None when its URL is already indexed (nothing is written).
        """
        return self._insert(document, self._packed.array(document.band_keys))

    def _insert(self, document: NewDocument, packed: npt.NDArray[np.uint32]) -> int | None:
        width = self.parameters.sketch_bytes
        if width and len(document.sketch) != width:
            raise ValueError(f"expected a {width}-byte sketch, got {len(document.sketch)} bytes")
        self.begin()
        if self._bands is not None:
            self._band_table()  # current before this id is taken: later look-ups read only rows above it
        meta, filename, offset = split_warc_location(document.meta)
        cursor = self._db.execute(
            "INSERT INTO documents (url_key, url, record_id, chars, shingles, warc_file, warc_offset, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url_key) DO NOTHING",
            (
                url_key(document.url),
                document.url,
                encode_record_id(document.record_id),
                document.chars,
                document.shingles,
                self._warc_file_id(str(filename)) if filename else None,
                offset,
                encode_meta(meta),
            ),
        )
        if cursor.rowcount == 0:
            return None
        doc_id = int(cursor.lastrowid or 0)
        self._db.execute(
            "INSERT INTO sketches (id, sketch, signature) VALUES (?, ?, ?)",
            (doc_id, document.sketch, encode_signature(document.signature, self.parameters.signature_bits)),
        )
        blob = packed.astype(_KEY_DTYPE, copy=False).tobytes()
        self._db.execute("INSERT INTO band_keys (id, keys) VALUES (?, ?)", (doc_id, blob))
        if self._bands is not None:
            self._bands.add(doc_id, packed)
            if self._sketch_table is not None:
                self._sketch_table.add(doc_id, document.sketch, document.shingles, document.chars)
            self._unsettled = True
        return doc_id

    def restore(self, document: StoredDocument, sketch: bytes, signature: bytes | None = None) -> None:
        """Store a document of another index under its own id and cluster (``dedup-export``).

        Its band keys follow with ``restore_bands``; writes are grouped until ``commit``.
        """
        meta, filename, offset = split_warc_location(document.meta)
        self.begin()
        self._db.execute(
            "INSERT INTO documents (id, url_key, url, record_id, chars, shingles, cluster, warc_file, warc_offset, "
            "meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.id,
                url_key(document.url),
                document.url,
                encode_record_id(document.record_id),
                document.chars,
                document.shingles,
                document.cluster,
                self._warc_file_id(str(filename)) if filename else None,
                offset,
                encode_meta(meta),
            ),
        )
        self._db.execute(
            "INSERT INTO sketches (id, sketch, signature) VALUES (?, ?, ?)", (document.id, sketch, signature)
        )

    def restore_bands(self, rows: Iterable[tuple[int, int]]) -> int:
        """Store every ``(packed band key, document id)`` row of another index (``dedup-export``),
        in any order, once the documents they name are restored: each document's keys become its row.

        Returns:
            The number of rows read.
        """
        self.begin()
        count = 0
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS restored_bands (doc INTEGER NOT NULL, key INTEGER NOT NULL)")
        batch: list[tuple[int, int]] = []
        for key, doc in rows:
            batch.append((doc, key))
            count += 1
            if len(batch) >= 65_536:
                self._db.executemany("INSERT INTO restored_bands VALUES (?, ?)", batch)
                batch = []
        self._db.executemany("INSERT INTO restored_bands VALUES (?, ?)", batch)
        ordered = self._db.cursor().execute("SELECT doc, key FROM restored_bands ORDER BY doc, key")
        self._db.executemany("INSERT OR REPLACE INTO band_keys VALUES (?, ?)", _grouped_band_keys(ordered))
        self._db.execute("DROP TABLE restored_bands")
        self._bands = self._sketch_table = None
        return count

    def warm_up(self) -> None:
        """Read every document's band keys into memory now (a few seconds at a million documents)."""
        self._band_table()

    def band_entries(self) -> Iterator[tuple[int, int]]:
        """Every ``(packed band key, document id)``, as ``restore_bands`` takes them (and
        ``RedisDedupIndex.band_entries`` gives them), by document."""
        for doc_id, blob in self._db.execute("SELECT id, keys FROM band_keys ORDER BY id"):
            for key in np.frombuffer(blob, dtype=_KEY_DTYPE).tolist():
                yield key, int(doc_id)

    def _band_table(self) -> BandTable:
        """The in-memory band table, loaded at first use and brought up to date with rows other
        processes (or an earlier transaction) added since."""
        self._forget_if_rolled_back()
        if self._bands is None:
            self._bands = BandTable()
            width = self.parameters.sketch_bytes
            self._sketch_table = SketchTable(width) if width else None
            self._unsettled = self._synced = False
        table = self._bands
        if self._synced and self._db.in_transaction:
            return table
        added = table.extend(self._rows_after(table.last_id))
        if self._db.in_transaction:
            self._synced = True
            if added:
                self._unsettled = True  # this transaction's own rows may be among them
        return table

    def _rows_after(self, last_id: int) -> Iterator[tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]]:
        """``band_keys`` rows above ``last_id`` as (ids, keys) arrays, a few thousand rows at a time;
        their sketches and lengths go into the sketch table on the way."""
        sketches = self._sketch_table
        if sketches is None:
            cursor = self._db.execute("SELECT id, keys FROM band_keys WHERE id > ? ORDER BY id", (last_id,))
        else:
            cursor = self._db.execute(_BANDS_AND_SKETCHES_AFTER, (last_id,))
        while rows := cursor.fetchmany(_LOAD_ROWS):
            ids = np.fromiter((row[0] for row in rows), dtype=np.uint32, count=len(rows))
            keys = np.frombuffer(b"".join(row[1] for row in rows), dtype=_KEY_DTYPE)
            if sketches is not None:
                sketches.extend(
                    ids.astype(np.int64),
                    np.frombuffer(b"".join(row[2] for row in rows), dtype=np.uint8).reshape(len(rows), -1),
                    np.fromiter((row[3] for row in rows), dtype=np.int64, count=len(rows)),
                    np.fromiter((row[4] for row in rows), dtype=np.int64, count=len(rows)),
                )
            yield ids, keys.reshape(len(rows), -1).astype(np.uint32)

    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]:
        if not ids:
            return []
        rows: dict[int, StoredSketch] = {}
        largest = _ID_GROUPS[-1]
        for start in range(0, len(ids), largest):
            group = [int(i) for i in ids[start : start + largest]]
            size = next(size for size in _ID_GROUPS if size >= len(group))
            for row in self._db.execute(_SKETCHES_OF[size], group + group[-1:] * (size - len(group))):
                rows[row[0]] = StoredSketch(*row)
        return [rows[i] for i in ids if i in rows]

    def candidate_sketches(self, ids: Sequence[int]) -> CandidateSketches:
        """From memory when the band table holds them (it does once ``add`` has looked up); URLs
        are not read."""
        self._forget_if_rolled_back()
        if self._sketch_table is not None and self._bands is not None:
            return self._sketch_table.take(ids)
        return CandidateSketches.of(self.sketches(ids))

    def signature(self, doc_id: int) -> StoredSignature:
        require_signatures(self.parameters, self.path)
        row = self._db.execute("SELECT signature FROM sketches WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return decode_signature(row[0], self.parameters.signature_bits)

    def document(self, doc_id: int) -> StoredDocument:
        row = self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
            "FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return self._stored(row)

    def documents(self) -> Iterator[StoredDocument]:
        for row in self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
            "FROM documents ORDER BY id"
        ):
            yield self._stored(row)

    def add_pair(self, first: int, second: int, relation: str, jaccard: float, containment: float) -> None:
        low, high = min(first, second), max(first, second)
        self.begin()
        self._db.execute(
            "INSERT OR REPLACE INTO pairs VALUES (?, ?, ?, ?, ?)",
            (low, high, relation, float(jaccard), float(containment)),
        )

    def pairs(self) -> Iterator[StoredPair]:
        for row in self._db.execute(
            "SELECT first, second, relation, jaccard, containment FROM pairs ORDER BY first, second"
        ):
            yield StoredPair(*row)

    def join(self, doc_id: int, others: Sequence[int]) -> Joined:
        """``merge_clusters`` on the documents' labels, applied inside the write transaction."""
        self.begin()
        ids = [doc_id, *others]
        current: dict[int, int | None] = {
            int(row[0]): None if row[1] is None else int(row[1])
            for row in self._db.execute(
                "SELECT id, cluster FROM documents WHERE id IN (SELECT value FROM json_each(?))", (_id_list(ids),)
            )
        }
        merge = merge_clusters({i: current.get(i) for i in ids})
        if merge.merged:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE cluster IN (SELECT value FROM json_each(?))",
                (merge.cluster_id, _id_list(merge.merged)),
            )
            self._db.execute(
                "DELETE FROM clusters WHERE id IN (SELECT value FROM json_each(?))", (_id_list(merge.merged),)
            )
        if merge.unclustered:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE id IN (SELECT value FROM json_each(?))",
                (merge.cluster_id, _id_list(merge.unclustered)),
            )
        return merge.joined

    def cluster_members(self, cluster_id: int) -> list[StoredDocument]:
        return [
            self._stored(row)
            for row in self._db.execute(
                "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
                "FROM documents WHERE cluster = ? ORDER BY id",
                (cluster_id,),
            )
        ]

    def cluster_ids(self) -> list[int]:
        """From the documents' labels themselves."""
        return [
            int(row[0])
            for row in self._db.execute(
                "SELECT DISTINCT cluster FROM documents WHERE cluster IS NOT NULL ORDER BY cluster"
            )
        ]

    def cluster_size(self, cluster_id: int) -> int:
        return int(self._db.execute("SELECT count(*) FROM documents WHERE cluster = ?", (cluster_id,)).fetchone()[0])

    def save_cluster(self, cluster_id: int, canonical: int, size: int, decided_by: str, flags: Sequence[str]) -> None:
        """Stored while a document is labelled ``cluster_id``."""
        self.begin()
        self._db.execute(
            "INSERT OR REPLACE INTO clusters SELECT ?, ?, ?, ?, ? "
            "WHERE EXISTS (SELECT 1 FROM documents WHERE cluster = ?)",
            (cluster_id, canonical, size, decided_by, ",".join(flags), cluster_id),
        )

    def cluster(self, cluster_id: int) -> ClusterRow | None:
        row = self._db.execute(
            "SELECT id, canonical, size, decided_by, flags FROM clusters WHERE id = ?", (cluster_id,)
        ).fetchone()
        return _cluster(row) if row else None

    def clusters(self) -> Iterator[ClusterRow]:
        for row in self._db.execute(
            "SELECT id, canonical, size, decided_by, flags FROM clusters ORDER BY size DESC, id"
        ):
            yield _cluster(row)

    def rebuild_clusters(self) -> int:
        """Memory grows with the number of documents that have a copy, not with the index."""
        groups = connected_components((pair.first, pair.second) for pair in self.pairs())
        self.begin()
        self._db.execute("UPDATE documents SET cluster = NULL WHERE cluster IS NOT NULL")
        self._db.execute("DELETE FROM clusters")
        for members in groups:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE id IN (SELECT value FROM json_each(?))",
                (members[0], _id_list(members)),
            )
        self.commit()
        return len(groups)

    def storage(self) -> StorageReport:
        """Bytes on disk per table and index, and per document (commits first)."""
        self.commit()
        documents = len(self)
        by_object = {
            str(name): int(size)
            for name, size in self._db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        }
        page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return StorageReport(
            documents=documents, file_bytes=pages * page_size, by_object=by_object, free_bytes=free * page_size
        )

    def checkpoint(self) -> None:
        """Commit, and fold the write-ahead log into the main file (emptying the log file).

        SQLite does this by itself every 10,000 pages and when the last connection closes; a reader
        in another process may hold part of the log back.
        """
        self.check_writable()
        self.commit()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def compact(self) -> None:
        """Rewrite the file with full pages (``VACUUM``) and fold the write-ahead log into it.

        Pages split by out-of-order inserts (the URL index, cluster labels) are left part empty;
        this fills them. It takes a while on big indexes and waits for other writers; run it between crawls.
        """
        self.check_writable()
        self.commit()
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _warc_file_id(self, name: str) -> int:
        """The ``warc_files`` id of a WARC file name, numbering it on first use (inside a write)."""
        known = self._warc_file_ids.get(name)
        if known is not None:
            return known
        self._db.execute("INSERT OR IGNORE INTO warc_files (name) VALUES (?)", (name,))
        file_id = int(self._db.execute("SELECT id FROM warc_files WHERE name = ?", (name,)).fetchone()[0])
        self._warc_file_ids[name] = file_id
        self._pending_warc_files.add(name)
        return file_id

    def _forget_if_rolled_back(self) -> None:
        """Drop the in-memory rows of a transaction SQLite rolled back on its own (disk full, I/O
        error): they are read again from the file at the next look-up."""
        if self._unsettled and not self._db.in_transaction:
            self._forget_uncommitted()

    def _forget_uncommitted(self) -> None:
        self._synced = False
        if self._unsettled:  # rebuilt from the file at the next lookup
            self._bands = self._sketch_table = None
            self._unsettled = False
        for name in self._pending_warc_files:
            self._warc_file_names.pop(self._warc_file_ids.pop(name, -1), None)
        self._pending_warc_files.clear()

    def _warc_file_name(self, file_id: int) -> str | None:
        name = self._warc_file_names.get(file_id)
        if name is None:
            row = self._db.execute("SELECT name FROM warc_files WHERE id = ?", (file_id,)).fetchone()
            if row is None:
                return None
            name = self._warc_file_names[file_id] = str(row[0])
        return name

    def _stored(self, row: tuple[Any, ...]) -> StoredDocument:
        """A document from ``id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta``."""
        meta = decode_meta(row[8])
        if row[6] is not None and (filename := self._warc_file_name(int(row[6]))):
            meta[WARC_FILENAME] = filename
        if row[7] is not None:
            meta[WARC_OFFSET] = int(row[7])
        return StoredDocument(
            id=int(row[0]),
            url=str(row[1]),
            record_id=decode_record_id(row[2]),
            chars=int(row[3]),
            shingles=int(row[4]),
            cluster=int(row[5]) if row[5] is not None else None,
            meta=meta,
        )


_ID_GROUPS: Final = (1, 2, 4, 8, 16, 32, 64)
"""Sizes of the groups of ids ``sketches`` binds as parameters (the last id repeated to fill one):
a handful of statements, each prepared once. Every document verifies its candidates' sketches, most
of them one or two (more as the index grows: unrelated texts share a band now and then), and a
bound ``IN (?)`` reads them in half the time of a ``json_each`` list."""
_SKETCHES_OF_IDS: Final = (
    "SELECT d.id, d.url, d.chars, d.shingles, s.sketch FROM documents AS d JOIN sketches AS s ON s.id = d.id "
    "WHERE d.id IN "
)
_SKETCHES_OF: Final = {size: _SKETCHES_OF_IDS + "(" + ", ".join("?" * size) + ")" for size in _ID_GROUPS}
_BANDS_AND_SKETCHES_AFTER: Final = (
    "SELECT b.id, b.keys, s.sketch, d.shingles, d.chars FROM band_keys AS b "
    "JOIN sketches AS s ON s.id = b.id JOIN documents AS d ON d.id = b.id WHERE b.id > ? ORDER BY b.id"
)
"""``band_keys`` rows with what the sketch table holds of the same documents."""


def _id_list(ids: Sequence[int]) -> str:
    """Ids as a JSON array, bound as one parameter and read with ``json_each`` (no SQL is built)."""
    return json.dumps([int(i) for i in ids])


def _grouped_band_keys(rows: Iterable[tuple[int, int]], shift: int = 0) -> Iterator[tuple[int, bytes]]:
    """``(document id, band key)`` rows, ordered by document, as ``band_keys`` rows: one blob of
    keys per document, each key plus ``shift``."""
    current: int | None = None
    keys: list[int] = []
    for doc, key in rows:
        if doc != current:
            if current is not None:
                yield current, np.asarray(keys, dtype=_KEY_DTYPE).tobytes()
            current, keys = doc, []
        keys.append(key + shift)
    if current is not None:
        yield current, np.asarray(keys, dtype=_KEY_DTYPE).tobytes()


def _upgrade(connection: sqlite3.Connection) -> None:
    """Rewrite a format 2 file's band rows (one per key and document) as format 3's ``band_keys``
    (one per document), under the write lock; a crawl that opened it first has done it already."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if connection.execute("SELECT value FROM parameters WHERE name = 'format'").fetchone()[0] == "2":
            connection.execute(f"CREATE TABLE band_keys {_BAND_KEYS_COLUMNS}")
            ordered = connection.cursor().execute("SELECT doc, key FROM bands ORDER BY doc, key")
            # Format 2 stored each key signed (shifted by -2**31), so that SQLite kept it in 4 bytes.
            connection.executemany("INSERT INTO band_keys VALUES (?, ?)", _grouped_band_keys(ordered, 1 << 31))
            connection.execute("DROP TABLE bands")
            connection.execute("UPDATE parameters SET value = ? WHERE name = 'format'", (str(FORMAT_VERSION),))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _has_schema(connection: sqlite3.Connection) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'parameters'").fetchone()
    return row is not None


def _cluster(row: tuple[Any, ...]) -> ClusterRow:
    flags = tuple(flag for flag in str(row[4]).split(",") if flag)
    return ClusterRow(id=int(row[0]), canonical=int(row[1]), size=int(row[2]), decided_by=str(row[3]), flags=flags)
