"""The persistent near-duplicate index: one SQLite file that outlives crawls and is read by reports.

Tables:

- ``parameters``: everything a stored value depends on (shingle size, permutations, seed, scheme,
  shingle hash, banding, verification sketch, copy-rule thresholds, datasketch major version).
  Opening with different values raises ``DedupIndexMismatch``: signatures and band keys computed
  under other parameters are meaningless together.
- ``documents``: URL, WARC record id, normalised length, shingle-set size, the MinHash signature
  (``uint32[num_perm]``, little-endian), the verification sketch, the cluster id (NULL while unique)
  and a JSON object of metadata (title, site, publication time, attribution, canonical and
  ``阅读原文`` links…).
- ``bands``: one row per (band, 32-bit band key, document), clustered on ``(band, hash)``, so a
  lookup is one B-tree search per band; about 15 bytes per row.
- ``pairs``: verified copy pairs with their similarity; ``clusters``: the current original of each
  cluster.

Measured size (bench, 3,000-character texts): 2.0 KB per document, of which ``documents`` 1.38 KB
(signature 512 B, sketch 512 B, URL, record id, metadata) and ``bands`` 0.61 KB (40 rows). The
signature and the band rows alone exceed 1 KB; full shingle sets (``verify="exact"``) make it 11 KB.

The file uses SQLite's write-ahead log, so a report can read it while a crawl writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
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
    "ClusterRow",
    "DedupIndex",
    "DedupIndexError",
    "DedupIndexMismatch",
    "IndexParameters",
    "Joined",
    "NewDocument",
    "StorageReport",
    "StoredDocument",
    "StoredPair",
    "StoredSketch",
]

FORMAT_VERSION: Final = 1
_CACHE_KIB: Final = 65_536
_BUSY_TIMEOUT_S = 60.0
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS parameters (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    url_key INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    chars INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    signature BLOB NOT NULL,
    sketch BLOB NOT NULL,
    cluster INTEGER,
    meta TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS documents_url_key ON documents (url_key);
CREATE INDEX IF NOT EXISTS documents_cluster ON documents (cluster) WHERE cluster IS NOT NULL;
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (band, hash, doc)
) WITHOUT ROWID;
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


class DedupIndexMismatch(DedupIndexError):
    """The index was built with other parameters than the ones it is opened with."""

    def __init__(self, path: str, name: str, stored: str, wanted: str) -> None:
        self.path = path
        self.parameter = name
        self.stored = stored
        self.wanted = wanted
        super().__init__(
            f"{path} was built with {name}={stored}, but this configuration has {name}={wanted}. "
            f"Signatures, band keys and verified pairs depend on it: rebuild the index (delete {path} "
            "and re-index), or point DEDUP_INDEX_PATH at another file."
        )


@dataclass(frozen=True, kw_only=True)
class IndexParameters:
    """Every parameter the stored values depend on; saved with the index and checked on open."""

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    bands: int = 40
    rows: int = 3
    verify: str = "oph"
    sketch_bins: int = 2048
    sketch_bits: int = 2
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
    """What ``DedupIndex.insert`` stores for one document."""

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
    """A document row, without its signature and sketch."""

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
    by_object: dict[str, int]

    @property
    def bytes_per_document(self) -> float:
        return self.file_bytes / self.documents if self.documents else 0.0


def _url_key(url: str) -> int:
    """A signed 64-bit key of the normalised URL, for the ``url_key`` index."""
    digest = hashlib.blake2b(normalize_url(url).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_INSERT_BANDS_SQL: Final = "INSERT OR IGNORE INTO bands (band, hash, doc) VALUES {values}"
"""One statement for all bands of a document: 15 % cheaper than ``executemany`` row by row."""
_CANDIDATES_SQL: Final = (
    "WITH probe(band, hash) AS (VALUES {values}) "
    "SELECT bands.doc, count(*) FROM probe JOIN bands ON bands.band = probe.band AND bands.hash = probe.hash "
    "GROUP BY bands.doc"
)


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
        self._candidates_sql = _CANDIDATES_SQL.format(values=",".join("(?,?)" for _ in range(parameters.bands)))
        self._insert_bands_sql = _INSERT_BANDS_SQL.format(values=",".join("(?,?,?)" for _ in range(parameters.bands)))
        self._band_numbers = np.arange(parameters.bands, dtype=np.int64)

    @classmethod
    def open(cls, path: str | Path, parameters: IndexParameters | None = None) -> Self:
        """Open the index at ``path``, creating it when it does not exist yet.

        Args:
            path: The SQLite file (its folder is created), or ``":memory:"``.
            parameters: The parameters to build with, or to check a stored index against. None opens
                an existing index with the parameters it was built with (for reports).

        Raises:
            DedupIndexMismatch: The stored index was built with other ``parameters``; names the
                first parameter that differs.
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
            connection.execute("PRAGMA synchronous=NORMAL")
            # Band lookups and inserts hit random pages: a 64 MiB cache halves their cost.
            connection.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
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
                connection.executemany(
                    "INSERT OR IGNORE INTO parameters VALUES (?, ?)", parameters.stored().items()
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                connection.close()
                raise
            # Whoever created it first wrote the parameters: check ours against theirs below.
            stored = dict(connection.execute("SELECT name, value FROM parameters").fetchall())
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
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads, then writes
            # after another process committed, fails at once with SQLITE_BUSY instead of waiting.
            self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make every write so far durable and visible to readers."""
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Commit and close the file."""
        self.commit()
        self._db.close()

    def find_url(self, url: str) -> int | None:
        """The id of the document indexed under ``url`` (scheme, ``www.``, fragment and a trailing
        slash ignored)."""
        row = self._db.execute("SELECT id FROM documents WHERE url_key = ?", (_url_key(url),)).fetchone()
        return int(row[0]) if row else None

    def candidates(
        self, band_keys: npt.NDArray[np.int32], *, exclude: int | None = None, limit: int | None = None
    ) -> list[int]:
        """Ids of the documents that share at least one band key (unverified, approximate).

        Args:
            band_keys: The ``bands`` keys of one signature (``lsh.band_keys``).
            exclude: A document id to leave out (the one being looked up, once inserted).
            limit: Keep only this many, those sharing the most bands first: a text repeated
                thousands of times (a feed or template stored as the body) would otherwise make
                every new copy verify against all of them.

        Returns:
            Document ids in ascending order (or by shared bands, then id, when ``limit`` cut).
        """
        if band_keys.shape != (self.parameters.bands,):
            raise ValueError(f"expected {self.parameters.bands} band keys, got shape {band_keys.shape}")
        probe = np.column_stack((self._band_numbers, band_keys)).ravel().tolist()
        rows = [(doc, shared) for doc, shared in self._db.execute(self._candidates_sql, probe) if doc != exclude]
        if limit is not None and len(rows) > limit:
            rows = sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]
        return [doc for doc, _ in rows]

    def insert(self, document: NewDocument) -> int | None:
        """Store a document and its band keys.

        Writes are grouped until ``commit``. A URL is stored once: scheme, ``www.``, fragment and a
        trailing slash do not make a new document.

        Returns:
            The new document's id, or None when its URL is already indexed (nothing is written).
        """
        self.begin()
        cursor = self._db.execute(
            "INSERT INTO documents (url, url_key, record_id, chars, shingles, signature, sketch, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url_key) DO NOTHING",
            (
                document.url,
                _url_key(document.url),
                document.record_id,
                document.chars,
                document.shingles,
                document.signature.astype("<u4").tobytes(),
                document.sketch,
                json.dumps(document.meta, ensure_ascii=False, separators=(",", ":")),
            ),
        )
        if cursor.rowcount == 0:
            return None
        doc_id = int(cursor.lastrowid or 0)
        rows = np.column_stack((self._band_numbers, document.band_keys, np.full(self.parameters.bands, doc_id)))
        self._db.execute(self._insert_bands_sql, rows.ravel().tolist())
        return doc_id

    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]:
        """Verification data (URL, lengths, sketch blob) of documents, in the order of ``ids``.

        Ids that are not in the index are skipped.
        """
        if not ids:
            return []
        rows = {
            row[0]: StoredSketch(*row)
            for row in self._db.execute(
                "SELECT id, url, chars, shingles, sketch FROM documents WHERE id IN (SELECT value FROM json_each(?))",
                (_id_list(ids),),
            )
        }
        return [rows[i] for i in ids if i in rows]

    def signature(self, doc_id: int) -> npt.NDArray[np.uint32]:
        """The stored MinHash signature of a document (``uint32[num_perm]``, datasketch ``affine32``).

        Raises:
            KeyError: No document has this id.
        """
        row = self._db.execute("SELECT signature FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return np.frombuffer(row[0], dtype="<u4").astype(np.uint32)

    def document(self, doc_id: int) -> StoredDocument:
        """A stored document's row (``KeyError`` when absent)."""
        row = self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, meta FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return _stored(row)

    def documents(self) -> Iterator[StoredDocument]:
        """Every stored document, in id order (streamed)."""
        for row in self._db.execute(
            "SELECT id, url, record_id, chars, shingles, cluster, meta FROM documents ORDER BY id"
        ):
            yield _stored(row)

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
            _stored(row)
            for row in self._db.execute(
                "SELECT id, url, record_id, chars, shingles, cluster, meta FROM documents "
                "WHERE cluster = ? ORDER BY id",
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
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        file_bytes = pages * int(self._db.execute("PRAGMA page_size").fetchone()[0])
        return StorageReport(documents=documents, file_bytes=file_bytes, by_object=by_object)

    def compact(self) -> None:
        """Rewrite the file with full pages (``VACUUM``): smaller, but takes a while on big indexes."""
        self.commit()
        self._db.execute("VACUUM")


def _id_list(ids: Sequence[int]) -> str:
    """Ids as a JSON array, bound as one parameter and read with ``json_each`` (no SQL is built)."""
    return json.dumps([int(i) for i in ids])


def _has_schema(connection: sqlite3.Connection) -> bool:
    row = connection.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'parameters'").fetchone()
    return row is not None


def _stored(row: tuple[Any, ...]) -> StoredDocument:
    return StoredDocument(
        id=int(row[0]),
        url=str(row[1]),
        record_id=str(row[2]),
        chars=int(row[3]),
        shingles=int(row[4]),
        cluster=int(row[5]) if row[5] is not None else None,
        meta=json.loads(row[6]),
    )


def _cluster(row: tuple[Any, ...]) -> ClusterRow:
    flags = tuple(flag for flag in str(row[4]).split(",") if flag)
    return ClusterRow(id=int(row[0]), canonical=int(row[1]), size=int(row[2]), decided_by=str(row[3]), flags=flags)
