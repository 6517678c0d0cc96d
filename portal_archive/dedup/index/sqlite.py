"""The persistent near-duplicate index: one SQLite file that outlives crawls and is read by reports.

Tables:

- ``parameters``: everything a stored value depends on (index format, shingle size, permutations,
  seed, scheme, shingle hash, banding, verification sketch, stored signature bits, copy-rule
  thresholds, datasketch major version). Opening with different values raises
  ``DedupIndexMismatch``: signatures, band keys and sketches computed under other parameters are
  meaningless together, and a file of another format version cannot be read at all.
- ``documents``: URL (and a 64-bit key of its normalised form, uniquely indexed), WARC record id
  (16 bytes when it is a ``<urn:uuid:…>``), WARC file (a ``warc_files`` id) and offset, normalised
  length, shingle-set size, cluster id (NULL while unique) and a compact JSON object of the metadata
  the original is chosen on (title, site, publication time, attribution, canonical and ``阅读原文``
  links…; short keys on disk, full names in ``StoredDocument.meta``).
- ``sketches``: the verification sketch of each document and, when ``signature_bits`` > 0, its
  MinHash signature (the low ``signature_bits`` bits of each value). Rows have a fixed size, so
  they fill pages evenly whatever the URL and metadata lengths.
- ``bands``: one row per (band key, document), ``WITHOUT ROWID``. A key packs the band number into
  the top bits of a signed 32-bit integer and the band hash into the rest (27 bits with 32 bands),
  so SQLite stores it in 4 bytes and a lookup is one B-tree search per band.
- ``pairs``: verified copy pairs with their similarity; ``clusters``: the current original of each
  cluster.

Measured size (``bench/dedup.py``, 10,000 texts of ~3,100 characters, after a WAL checkpoint):
940 bytes per document as built, 899 after ``compact``: ``bands`` 424 (32 rows of 12 bytes in pages
~90 % full; 386 compacted), ``sketches`` 274 (a 256-byte sketch, 15 rows per 4 KB page),
``documents`` 216 and its URL index 18. The format-1 layout took 2,018 (signature 512, sketch 512,
40 band rows of 15 bytes, 47-character record ids, long metadata names). Beyond 32,767 documents,
ids take 3 bytes instead of 2 (about 35 bytes more per document); real crawls carry longer URLs and
more metadata than the bench (about 75 bytes more on the demo portal). Stored signatures cost
``num_perm * signature_bits / 8`` bytes more; ``verify="exact"`` stores whole shingle sets (10.6 KB
per document).

The MinHash signature is not stored by default: nothing reads it once the band keys are written,
and the sketch estimates similarity about three times as precisely. It is reproducible: the stored
parameters fix the text preparation, shingle hash, permutations and seed, so ``MinHasher`` gives
the same signature for the same text.

The file uses SQLite's write-ahead log, so a report can read it while a crawl writes; several
crawls may write to it at once (each write transaction takes the lock up front and waits for the
others).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.canonical import normalize_url
from portal_archive.dedup.cluster import UnionFind
from portal_archive.dedup.lsh import check_banding
from portal_archive.dedup.minhash import DATASKETCH_MAJOR, SCHEME
from portal_archive.dedup.normalize import NORMALIZATION
from portal_archive.dedup.shingles import HASH_NAME

__all__ = [
    "FORMAT_VERSION",
    "SIGNATURE_BITS",
    "Added",
    "ClusterRow",
    "DedupIndex",
    "DedupIndexError",
    "DedupIndexMismatch",
    "DedupIndexUnavailable",
    "IndexParameters",
    "Joined",
    "NewDocument",
    "StorageReport",
    "StoredDocument",
    "StoredPair",
    "StoredSketch",
]

FORMAT_VERSION: Final = 2
"""Version of the table layout. 2: packed band keys, sketches in their own table, no signature by
default, binary record ids, compact metadata. Files of another version are refused (rebuild)."""
SIGNATURE_BITS: Final = (0, 8, 16, 32)
"""Bits kept of each stored signature value: 0 stores no signature, 32 the whole of it."""
_MAX_BAND_BITS: Final = 12
DEFAULT_CACHE_KIB: Final = 8_192
"""SQLite page cache per connection (``DEDUP_CACHE_MIB``): see ``DedupConfig.cache_mib``."""
_WAL_CHECKPOINT_PAGES: Final = 10_000
_WAL_LIMIT_BYTES: Final = 64 << 20
_BUSY_TIMEOUT_S = 60.0
_SCHEMA: Final = """
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
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (key, doc)
) WITHOUT ROWID;
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


class DedupIndexError(Exception):
    """The index file cannot be used (missing, corrupt, or not a near-duplicate index)."""


class DedupIndexUnavailable(DedupIndexError):
    """The index's server cannot be reached, or stopped answering (Redis; the cause is chained)."""


class DedupIndexMismatch(DedupIndexError):
    """The index was built with other parameters than the ones it is opened with."""

    def __init__(self, path: str, name: str, stored: str, wanted: str, *, remedy: str = "") -> None:
        self.path = path
        self.parameter = name
        self.stored = stored
        self.wanted = wanted
        what = (
            "The file's table layout differs from the one this version reads"
            if name == "format"
            else "Signatures, band keys and verified pairs depend on it"
        )
        remedy = remedy or f"rebuild the index (delete {path} and re-index), or point DEDUP_INDEX_PATH at another file"
        super().__init__(
            f"{path} was built with {name}={stored}, but this configuration has {name}={wanted}. {what}: {remedy}."
        )


@dataclass(frozen=True, kw_only=True)
class IndexParameters:
    """Every parameter the stored values depend on; saved with the index and checked on open.

    Raises:
        ValueError: The banding does not fit the signature, or ``signature_bits`` is not one of
            ``SIGNATURE_BITS``.
    """

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    bands: int = 32
    rows: int = 3
    verify: str = "oph"
    sketch_bins: int = 1024
    sketch_bits: int = 2
    signature_bits: int = 0
    threshold: float = 0.7
    containment: float = 0.8
    containment_min_chars: int = 300
    short_threshold: float = 0.85
    min_chars: int = 50
    scheme: str = SCHEME
    shingle_hash: str = HASH_NAME
    normalization: str = NORMALIZATION
    datasketch_major: int = DATASKETCH_MAJOR
    format: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        check_banding(self.num_perm, self.bands, self.rows)
        if (self.bands - 1).bit_length() > _MAX_BAND_BITS:
            raise ValueError(f"at most {1 << _MAX_BAND_BITS} bands can be indexed, got {self.bands}")
        if self.signature_bits not in SIGNATURE_BITS:
            raise ValueError(f"signature_bits must be one of {SIGNATURE_BITS}, got {self.signature_bits}")

    @property
    def signature_width(self) -> int | None:
        """MinHash values each document needs: only the banded ones unless signatures are stored (None: all)."""
        return None if self.signature_bits else self.bands * self.rows

    def stored(self) -> dict[str, str]:
        """The parameters as the text stored in the ``parameters`` table."""
        return {name: repr(value) if isinstance(value, float) else str(value) for name, value in asdict(self).items()}

    @classmethod
    def from_stored(cls, values: dict[str, str]) -> Self:
        """Parameters read back from an index (unknown names are ignored, missing ones defaulted)."""
        converted: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in values:
                continue
            raw = values[spec.name]
            converted[spec.name] = float(raw) if spec.type == "float" else int(raw) if spec.type == "int" else raw
        return cls(**converted)


@dataclass(frozen=True, kw_only=True)
class NewDocument:
    """What ``DedupIndex.insert`` stores for one document.

    ``signature`` is stored only when the index keeps signatures (``signature_bits`` > 0);
    ``meta["warc_filename"]`` and ``meta["warc_offset"]`` are stored in columns of their own.
    """

    url: str
    record_id: str
    chars: int
    shingles: int
    signature: npt.NDArray[np.uint32]
    band_keys: npt.NDArray[np.int32]
    sketch: bytes
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StoredDocument:
    """A document row, without its sketch."""

    id: int
    url: str
    record_id: str
    chars: int
    shingles: int
    cluster: int | None
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredSketch:
    """What verification needs of a stored document."""

    id: int
    url: str
    chars: int
    shingles: int
    sketch: bytes


@dataclass(frozen=True, slots=True)
class StoredPair:
    """A verified copy pair (``first < second``)."""

    first: int
    second: int
    relation: str
    jaccard: float
    containment: float


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of ``add``: the new document's id and the documents it may be a copy of."""

    doc_id: int | None
    """None when the URL was already indexed (nothing was written)."""
    candidates: list[int]
    """Ids of documents sharing a band key with it (unverified), never its own."""


@dataclass(frozen=True, slots=True)
class Joined:
    """The outcome of ``DedupIndex.join``."""

    cluster_id: int
    merged: tuple[int, ...]
    """Ids of the clusters merged into ``cluster_id`` (which no longer exist)."""
    created: bool
    """None of the documents was in a cluster before."""


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """A cluster's current original and size."""

    id: int
    canonical: int
    size: int
    decided_by: str
    flags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StorageReport:
    """Bytes on disk, in total and per table or index (from SQLite's ``dbstat``)."""

    documents: int
    file_bytes: int
    """The database's size (pages times page size): the main file's size once the WAL is checkpointed."""
    by_object: dict[str, int]
    """Bytes of every table and index, including the free space of their pages."""
    free_bytes: int = 0
    """Bytes of pages on the free list (reused by later writes; ``compact`` returns them)."""

    @property
    def bytes_per_document(self) -> float:
        return self.file_bytes / self.documents if self.documents else 0.0

    def by_component(self) -> dict[str, int]:
        """Bytes grouped by what they hold: ``bands``, ``sketches``, ``documents`` (with its
        indexes and WARC file names), and ``other`` (pairs, clusters, schema, free pages)."""
        groups = {"bands": 0, "sketches": 0, "documents": 0, "other": self.free_bytes}
        for name, size in self.by_object.items():
            if name in ("bands", "sketches"):
                groups[name] += size
            elif name.startswith(("documents", "warc_files", "sqlite_autoindex_warc_files")):
                groups["documents"] += size
            else:
                groups["other"] += size
        return groups


_META_KEYS: Final = {
    "title": "t",
    "site": "s",
    "site_domain": "sd",
    "published_at": "p",
    "source": "o",
    "source_domain": "od",
    "byline": "b",
    "canonical_url": "c",
    "attributions": "a",
    "original_titles": "ot",
    "copy_markers": "m",
    "read_original": "r",
}
"""Metadata names and their short form on disk (a third of the metadata's bytes were names)."""
_META_NAMES: Final = {short: name for name, short in _META_KEYS.items()}
_ESCAPE: Final = "~"
_WARC_FILENAME: Final = "warc_filename"
_WARC_OFFSET: Final = "warc_offset"
_UUID_RECORD_ID: Final = re.compile(r"<urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>")


_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Compact JSON, UTF-8 kept as is (one encoder: ``json.dumps`` with options builds one per call)."""


def _encode_meta(meta: dict[str, Any]) -> str:
    """Compact JSON: known names shortened; an unknown name that could be read as a short one is escaped."""
    compact = {}
    for name, value in meta.items():
        if name in _META_KEYS:
            compact[_META_KEYS[name]] = value
        elif name in _META_NAMES or name.startswith(_ESCAPE):
            compact[_ESCAPE + name] = value
        else:
            compact[name] = value
    return _JSON.encode(compact)


def _decode_meta(text: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, value in json.loads(text).items():
        meta[_META_NAMES.get(key) or key.removeprefix(_ESCAPE)] = value
    return meta


def _encode_record_id(record_id: str) -> bytes | str:
    """A ``<urn:uuid:…>`` id (lower-case, as ``uuid4`` writes it) as its 16 bytes; anything else as is."""
    found = _UUID_RECORD_ID.fullmatch(record_id)
    return bytes.fromhex(found[1].replace("-", "")) if found else record_id  # uuid.UUID(...).bytes, 5x faster


def _decode_record_id(stored: bytes | str) -> str:
    return f"<urn:uuid:{uuid.UUID(bytes=stored)}>" if isinstance(stored, bytes) else str(stored)


def _url_key(url: str) -> int:
    """A signed 64-bit key of the normalised URL, for the ``url_key`` index."""
    digest = hashlib.blake2b(normalize_url(url).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _encode_signature(signature: npt.NDArray[np.uint32], bits: int) -> bytes | None:
    if bits == 0:
        return None
    dtype = {8: "<u1", 16: "<u2", 32: "<u4"}[bits]
    values = signature if bits == 32 else signature & np.uint32((1 << bits) - 1)
    return values.astype(dtype).tobytes()


_INSERT_BANDS_SQL: Final = "INSERT OR IGNORE INTO bands (key, doc) VALUES {values}"
"""One statement for all bands of a document: 15 % cheaper than ``executemany`` row by row."""
_CANDIDATES_SQL: Final = "SELECT doc, count(*) FROM bands WHERE key IN ({keys}) GROUP BY doc ORDER BY doc"


class DedupIndex:
    """A persistent MinHash LSH index with verification sketches, clusters and their originals.

    Open it with ``DedupIndex.open``. Writes are grouped in a transaction until ``commit`` (or
    ``close``); readers in other processes see committed data only.

    Example:
        >>> with DedupIndex.open("archive/dedup.sqlite", IndexParameters()) as index:
        ...     print(len(index), index.parameters.num_perm)
    """

    def __init__(self, connection: sqlite3.Connection, parameters: IndexParameters, path: str) -> None:
        self._db = connection
        self.parameters = parameters
        self.path = path
        self.mismatch_remedy = ""
        """Empty: ``DedupIndexMismatch`` says to rebuild the file or use another one."""
        bands = parameters.bands
        self._candidates_sql = _CANDIDATES_SQL.format(keys=",".join("?" * bands))
        self._insert_bands_sql = _INSERT_BANDS_SQL.format(values=",".join("(?,?)" for _ in range(bands)))
        # Band number in the top bits, band hash below: ``key = prefix[band] + (hash >> band_bits)``.
        self._band_bits = np.uint32((bands - 1).bit_length())
        self._band_prefix = (np.arange(bands, dtype=np.int64) << np.int64(32 - int(self._band_bits))) - (1 << 31)
        self._warc_file_ids: dict[str, int] = {}
        self._pending_warc_files: set[str] = set()
        """Names given an id in the open transaction: forgotten if it does not commit."""
        self._warc_file_names: dict[int, str] = {}

    @classmethod
    def open(
        cls, path: str | Path, parameters: IndexParameters | None = None, *, cache_kib: int = DEFAULT_CACHE_KIB
    ) -> Self:
        """Open the index at ``path``, creating it when it does not exist yet.

        Args:
            path: The SQLite file (its folder is created), or ``":memory:"``.
            parameters: The parameters to build with, or to check a stored index against. None opens
                an existing index with the parameters it was built with (for reports).
            cache_kib: SQLite's page cache for this connection, in KiB.

        Raises:
            DedupIndexMismatch: The stored index was built with other ``parameters``, or in another
                format version (with ``parameters`` None too); names the first parameter that
                differs.
            DedupIndexError: ``parameters`` is None and there is no index at ``path``, or the file
                is not a near-duplicate index.
        """
        location = str(path)
        if location != ":memory:":
            if parameters is None and not Path(location).exists():
                raise DedupIndexError(f"no near-duplicate index at {location}")
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        try:
            # Several crawls (one process per spider) share one index: wait for each other's writes.
            connection = sqlite3.connect(location, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
            if location != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
                # A commit rewrites most band pages it touched: checkpointing every 1,000 pages (the
                # default) copied each of them again after nearly every commit; 10,000 (40 MB) made the
                # bench's engine 5-8 % faster. The log file is cut back to 64 MiB after a checkpoint.
                connection.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
                connection.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
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
            if parameters is None:
                connection.close()
                raise DedupIndexError(f"{location} holds no near-duplicate index")
            # Crawls started side by side may both find no schema: create it once, under the write lock.
            try:
                # executescript commits any open transaction first, so the lock is taken inside it.
                connection.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA)
                connection.executemany("INSERT OR IGNORE INTO parameters VALUES (?, ?)", parameters.stored().items())
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                connection.close()
                raise
            # Whoever created it first wrote the parameters: check ours against theirs below.
            stored = dict(connection.execute("SELECT name, value FROM parameters").fetchall())
        # The layout is checked first: another format cannot even be read with its own parameters.
        stored_format = stored.get("format", "1")
        if stored_format != str(FORMAT_VERSION):
            connection.close()
            raise DedupIndexMismatch(location, "format", stored_format, str(FORMAT_VERSION))
        if parameters is not None:
            wanted = parameters.stored()
            for name, value in wanted.items():
                if stored.get(name, "") != value:
                    connection.close()
                    raise DedupIndexMismatch(location, name, stored.get(name, "(absent)"), value)
        return cls(connection, parameters or IndexParameters.from_stored(stored), location)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def begin(self) -> None:
        """Start grouping writes (``commit`` ends the group); a no-op inside a group."""
        if not self._db.in_transaction:
            # A transaction SQLite rolled back on its own (disk full, I/O error) may have numbered
            # WARC files that no longer exist.
            self._forget_pending_warc_files()
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads, then writes
            # after another process committed, fails at once with SQLITE_BUSY instead of waiting.
            self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make every write so far durable and visible to readers."""
        if self._db.in_transaction:
            self._db.execute("COMMIT")
            self._pending_warc_files.clear()
        else:  # nothing open, or SQLite rolled the transaction back on its own
            self._forget_pending_warc_files()

    def close(self) -> None:
        """Commit and close the file."""
        self.commit()
        self._db.close()

    def find_url(self, url: str) -> int | None:
        """The id of the document indexed under ``url`` (scheme, ``www.``, fragment and a trailing
        slash ignored)."""
        row = self._db.execute("SELECT id FROM documents WHERE url_key = ?", (_url_key(url),)).fetchone()
        return int(row[0]) if row else None

    def _packed(self, band_keys: npt.NDArray[np.int32]) -> list[int]:
        """The ``bands.key`` values of one document's band keys (band number + band hash, 32 bits)."""
        if band_keys.shape != (self.parameters.bands,):
            raise ValueError(f"expected {self.parameters.bands} band keys, got shape {band_keys.shape}")
        hashes = band_keys.astype(np.int32, copy=False).view(np.uint32) >> self._band_bits
        packed: list[int] = (self._band_prefix + hashes).tolist()
        return packed

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
            limit: Keep only this many, those sharing the most bands first: a text repeated
                thousands of times (a feed or template stored as the body) would otherwise make
                every new copy verify against all of them.

        Returns:
            Document ids in ascending order (or by shared bands, then id, when ``limit`` cut).
        """
        rows = [(doc, shared) for doc, shared in self._db.execute(self._candidates_sql, self._packed(band_keys))]
        if exclude is not None:
            rows = [row for row in rows if row[0] != exclude]
        if limit is not None and len(rows) > limit:
            rows = sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]
        return [doc for doc, _ in rows]

    def add(self, document: NewDocument, *, limit: int | None = None) -> Added:
        """Look up a document's candidates, then store it (``candidates``, then ``insert``).

        Both run in one write transaction: no crawl sharing the file can commit in between, and
        the document does not find itself.
        """
        self.begin()
        candidates = self.candidates(document.band_keys, limit=limit)
        return Added(self.insert(document), candidates)

    def insert(self, document: NewDocument) -> int | None:
        """Store a document, its sketch and its band keys.

        Writes are grouped until ``commit``. A URL is stored once: scheme, ``www.``, fragment and a
        trailing slash do not make a new document.

        Returns:
            The new document's id, or None when its URL is already indexed (nothing is written).
        """
        packed = self._packed(document.band_keys)
        self.begin()
        meta = dict(document.meta)
        filename = meta.pop(_WARC_FILENAME, None)
        offset = meta.pop(_WARC_OFFSET, None)
        cursor = self._db.execute(
            "INSERT INTO documents (url_key, url, record_id, chars, shingles, warc_file, warc_offset, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url_key) DO NOTHING",
            (
                _url_key(document.url),
                document.url,
                _encode_record_id(document.record_id),
                document.chars,
                document.shingles,
                self._warc_file_id(str(filename)) if filename else None,
                offset,
                _encode_meta(meta),
            ),
        )
        if cursor.rowcount == 0:
            return None
        doc_id = int(cursor.lastrowid or 0)
        self._db.execute(
            "INSERT INTO sketches (id, sketch, signature) VALUES (?, ?, ?)",
            (doc_id, document.sketch, _encode_signature(document.signature, self.parameters.signature_bits)),
        )
        values: list[int] = []
        for key in packed:
            values += (key, doc_id)
        self._db.execute(self._insert_bands_sql, values)
        return doc_id

    def restore(self, document: StoredDocument, sketch: bytes, signature: bytes | None = None) -> None:
        """Store a document of another index under its own id and cluster (``dedup-export``).

        Its band keys follow with ``restore_bands``; writes are grouped until ``commit``.
        """
        meta = dict(document.meta)
        filename = meta.pop(_WARC_FILENAME, None)
        offset = meta.pop(_WARC_OFFSET, None)
        self.begin()
        self._db.execute(
            "INSERT INTO documents (id, url_key, url, record_id, chars, shingles, cluster, warc_file, warc_offset, "
            "meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.id,
                _url_key(document.url),
                document.url,
                _encode_record_id(document.record_id),
                document.chars,
                document.shingles,
                document.cluster,
                self._warc_file_id(str(filename)) if filename else None,
                offset,
                _encode_meta(meta),
            ),
        )
        self._db.execute(
            "INSERT INTO sketches (id, sketch, signature) VALUES (?, ?, ?)", (document.id, sketch, signature)
        )

    def restore_bands(self, rows: Sequence[tuple[int, int]]) -> None:
        """Store ``(packed band key, document id)`` rows of another index (``dedup-export``)."""
        self.begin()
        self._db.executemany("INSERT OR IGNORE INTO bands (key, doc) VALUES (?, ?)", rows)

    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]:
        """Verification data (URL, lengths, sketch blob) of documents, in the order of ``ids``.

        Ids that are not in the index are skipped.
        """
        if not ids:
            return []
        rows = {
            row[0]: StoredSketch(*row)
            for row in self._db.execute(
                "SELECT d.id, d.url, d.chars, d.shingles, s.sketch FROM documents AS d "
                "JOIN sketches AS s ON s.id = d.id WHERE d.id IN (SELECT value FROM json_each(?))",
                (_id_list(ids),),
            )
        }
        return [rows[i] for i in ids if i in rows]

    def signature(self, doc_id: int) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint16] | npt.NDArray[np.uint8]:
        """The stored MinHash signature of a document (datasketch ``affine32`` values).

        With ``signature_bits`` 32 these are the signature's ``uint32`` values; with 16 or 8, the low
        16 or 8 bits of each (``uint16`` or ``uint8``), enough to estimate Jaccard similarity
        (``estimate_jaccard(..., bits=)``) but not to rebuild band keys.

        Raises:
            KeyError: No document has this id.
            DedupIndexError: The index stores no signatures (``signature_bits`` 0, the default):
                compute it from the text with ``MinHasher(num_perm, seed)``.
        """
        bits = self.parameters.signature_bits
        if bits == 0:
            raise DedupIndexError(
                f"{self.path} stores no MinHash signatures (signature_bits=0): compute one from the text "
                f"with MinHasher({self.parameters.num_perm}, {self.parameters.seed}) and shingle_hashes, "
                "or build the index with DEDUP_SIGNATURE_BITS"
            )
        row = self._db.execute("SELECT signature FROM sketches WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits]
        return np.frombuffer(row[0], dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)

    def document(self, doc_id: int) -> StoredDocument:
        """A stored document's row (``KeyError`` when absent)."""
        row = self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
            "FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return self._stored(row)

    def documents(self) -> Iterator[StoredDocument]:
        """Every stored document, in id order (streamed)."""
        for row in self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
            "FROM documents ORDER BY id"
        ):
            yield self._stored(row)

    def add_pair(self, first: int, second: int, relation: str, jaccard: float, containment: float) -> None:
        """Record a verified pair."""
        low, high = min(first, second), max(first, second)
        self.begin()
        self._db.execute(
            "INSERT OR REPLACE INTO pairs VALUES (?, ?, ?, ?, ?)",
            (low, high, relation, float(jaccard), float(containment)),
        )

    def pairs(self) -> Iterator[StoredPair]:
        """Every verified pair (streamed)."""
        for row in self._db.execute(
            "SELECT first, second, relation, jaccard, containment FROM pairs ORDER BY first, second"
        ):
            yield StoredPair(*row)

    def join(self, doc_id: int, others: Sequence[int]) -> Joined:
        """Put ``doc_id`` and ``others`` in one cluster, merging the clusters they are in.

        A cluster's id is its smallest member id, so it only changes when two clusters merge.
        """
        self.begin()
        ids = [doc_id, *others]
        current = {
            int(row[0]): row[1]
            for row in self._db.execute(
                "SELECT id, cluster FROM documents WHERE id IN (SELECT value FROM json_each(?))", (_id_list(ids),)
            )
        }
        clusters = sorted({int(c) for c in current.values() if c is not None})
        target = min([*clusters, *ids])
        loose = [i for i, c in current.items() if c is None]
        merged = [c for c in clusters if c != target]
        if merged:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE cluster IN (SELECT value FROM json_each(?))",
                (target, _id_list(merged)),
            )
            self._db.execute("DELETE FROM clusters WHERE id IN (SELECT value FROM json_each(?))", (_id_list(merged),))
        if loose:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE id IN (SELECT value FROM json_each(?))",
                (target, _id_list(loose)),
            )
        return Joined(cluster_id=target, merged=tuple(merged), created=not clusters)

    def cluster_members(self, cluster_id: int) -> list[StoredDocument]:
        """The members of a cluster, in id order."""
        return [
            self._stored(row)
            for row in self._db.execute(
                "SELECT id, url, record_id, chars, shingles, cluster, warc_file, warc_offset, meta "
                "FROM documents WHERE cluster = ? ORDER BY id",
                (cluster_id,),
            )
        ]

    def cluster_ids(self) -> list[int]:
        """The id of every cluster, from the documents themselves (the ``clusters`` table may lag)."""
        return [
            int(row[0])
            for row in self._db.execute(
                "SELECT DISTINCT cluster FROM documents WHERE cluster IS NOT NULL ORDER BY cluster"
            )
        ]

    def cluster_size(self, cluster_id: int) -> int:
        """How many documents a cluster has."""
        return int(self._db.execute("SELECT count(*) FROM documents WHERE cluster = ?", (cluster_id,)).fetchone()[0])

    def save_cluster(self, cluster_id: int, canonical: int, size: int, decided_by: str, flags: Sequence[str]) -> None:
        """Record a cluster's current original."""
        self.begin()
        self._db.execute(
            "INSERT OR REPLACE INTO clusters VALUES (?, ?, ?, ?, ?)",
            (cluster_id, canonical, size, decided_by, ",".join(flags)),
        )

    def cluster(self, cluster_id: int) -> ClusterRow | None:
        """A cluster's stored original, or None."""
        row = self._db.execute(
            "SELECT id, canonical, size, decided_by, flags FROM clusters WHERE id = ?", (cluster_id,)
        ).fetchone()
        return _cluster(row) if row else None

    def clusters(self) -> Iterator[ClusterRow]:
        """Every cluster, largest first (streamed)."""
        for row in self._db.execute(
            "SELECT id, canonical, size, decided_by, flags FROM clusters ORDER BY size DESC, id"
        ):
            yield _cluster(row)

    def rebuild_clusters(self) -> int:
        """Recompute every document's cluster from the stored pairs (union-find); return the count.

        Repairs the ``cluster`` column after an interrupted write or a manual edit of ``pairs``.
        Memory grows with the number of documents that have a copy, not with the index. Stored
        originals are dropped: ``DedupEngine.decide`` chooses them again.
        """
        components: UnionFind[int] = UnionFind()
        for pair in self.pairs():
            components.union(pair.first, pair.second)
        groups = components.groups()
        self.begin()
        self._db.execute("UPDATE documents SET cluster = NULL WHERE cluster IS NOT NULL")
        self._db.execute("DELETE FROM clusters")
        for members in groups:
            self._db.execute(
                "UPDATE documents SET cluster = ? WHERE id IN (SELECT value FROM json_each(?))",
                (min(members), _id_list(members)),
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

        SQLite does this by itself every 1,000 pages and when the last connection closes; a reader
        in another process may hold part of the log back.
        """
        self.commit()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def compact(self) -> None:
        """Rewrite the file with full pages (``VACUUM``) and fold the write-ahead log into it.

        Random band inserts leave B-tree pages about 90 % full: this saves about 10 % of ``bands``.
        It takes a while on big indexes and waits for other writers; run it between crawls.
        """
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

    def _forget_pending_warc_files(self) -> None:
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
        meta = _decode_meta(row[8])
        if row[6] is not None and (filename := self._warc_file_name(int(row[6]))):
            meta[_WARC_FILENAME] = filename
        if row[7] is not None:
            meta[_WARC_OFFSET] = int(row[7])
        return StoredDocument(
            id=int(row[0]),
            url=str(row[1]),
            record_id=_decode_record_id(row[2]),
            chars=int(row[3]),
            shingles=int(row[4]),
            cluster=int(row[5]) if row[5] is not None else None,
            meta=meta,
        )


def _id_list(ids: Sequence[int]) -> str:
    """Ids as a JSON array, bound as one parameter and read with ``json_each`` (no SQL is built)."""
    return json.dumps([int(i) for i in ids])


def _has_schema(connection: sqlite3.Connection) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'parameters'").fetchone()
    return row is not None


def _cluster(row: tuple[Any, ...]) -> ClusterRow:
    flags = tuple(flag for flag in str(row[4]).split(",") if flag)
    return ClusterRow(id=int(row[0]), canonical=int(row[1]), size=int(row[2]), decided_by=str(row[3]), flags=flags)
