"""What every near-duplicate index backend shares: the contract, its types and errors, the stored
parameters, the record encoders and the cluster-merge rule.

The backends (``sqlite.DedupIndex``, ``redis.RedisDedupIndex``) implement ``NearDuplicateIndex``;
the engine, the pipeline and the report use nothing else. Both store the same record fields in the
same compact forms (encoders below), so an index copies from one into the other
(``dedup-export``) without converting anything.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from types import TracebackType
from typing import Any, Final, Protocol, Self, TypeAlias

import numpy as np
import numpy.typing as npt

from portal_archive import settings as project
from portal_archive.dedup.canonical import normalize_url
from portal_archive.dedup.lsh import check_banding
from portal_archive.dedup.minhash import DATASKETCH_MAJOR, SCHEME
from portal_archive.dedup.normalize import NORMALIZATION
from portal_archive.dedup.shingles import HASH_NAME
from portal_archive.dedup.verify import CopyRule

__all__ = [
    "SIGNATURE_BITS",
    "WARC_FILENAME",
    "WARC_OFFSET",
    "Added",
    "BandKeyPacker",
    "CandidateSketches",
    "ClusterMerge",
    "ClusterRow",
    "DedupIndexError",
    "DedupIndexMismatch",
    "DedupIndexUnavailable",
    "IndexParameters",
    "Joined",
    "NearDuplicateIndex",
    "NewDocument",
    "StorageReport",
    "StoredDocument",
    "StoredPair",
    "StoredSignature",
    "StoredSketch",
    "decode_meta",
    "decode_record_id",
    "decode_signature",
    "encode_meta",
    "encode_record_id",
    "encode_signature",
    "merge_clusters",
    "require_signatures",
    "split_warc_location",
    "url_key",
]

SIGNATURE_BITS: Final = (0, 8, 16, 32)
"""Bits kept of each stored signature value: 0 stores no signature, 32 the whole of it."""
_MAX_BAND_BITS: Final = 12
_RULE: Final = CopyRule()
WARC_FILENAME: Final = "warc_filename"
WARC_OFFSET: Final = "warc_offset"
"""Metadata names of a document's WARC location, which both backends store apart from the rest."""

StoredSignature: TypeAlias = npt.NDArray[np.uint32] | npt.NDArray[np.uint16] | npt.NDArray[np.uint8]


class DedupIndexError(Exception):
    """The index cannot be used (missing, corrupt, not a near-duplicate index, or opened read-only)."""


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

    shingle_size: int = project.DEDUP_SHINGLE_SIZE
    num_perm: int = project.DEDUP_NUM_PERM
    seed: int = project.DEDUP_SEED
    bands: int = project.DEDUP_BANDS
    rows: int = project.DEDUP_ROWS
    verify: str = project.DEDUP_VERIFY
    sketch_bins: int = project.DEDUP_SKETCH_BINS
    sketch_bits: int = project.DEDUP_SKETCH_BITS
    signature_bits: int = project.DEDUP_SIGNATURE_BITS
    threshold: float = _RULE.threshold
    containment: float = _RULE.containment
    containment_min_chars: int = _RULE.containment_min_chars
    short_threshold: float = _RULE.short_threshold
    min_chars: int = _RULE.min_chars
    scheme: str = SCHEME
    shingle_hash: str = HASH_NAME
    normalization: str = NORMALIZATION
    datasketch_major: int = DATASKETCH_MAJOR

    def __post_init__(self) -> None:
        check_banding(self.num_perm, self.bands, self.rows)
        if (self.bands - 1).bit_length() > _MAX_BAND_BITS:
            raise ValueError(f"at most {1 << _MAX_BAND_BITS} bands can be indexed, got {self.bands}")
        if self.signature_bits not in SIGNATURE_BITS:
            raise ValueError(f"signature_bits must be one of {SIGNATURE_BITS}, got {self.signature_bits}")

    @property
    def sketch_bytes(self) -> int:
        """Bytes of every document's verification sketch, or 0 when their size varies (``exact``)."""
        return (self.sketch_bins * self.sketch_bits) // 8 if self.verify == "oph" else 0

    @property
    def signature_width(self) -> int | None:
        """MinHash values each document needs: only the banded ones unless signatures are stored (None: all)."""
        return None if self.signature_bits else self.bands * self.rows

    def stored(self) -> dict[str, str]:
        """The parameters as the text an index stores."""
        return {name: repr(value) if isinstance(value, float) else str(value) for name, value in asdict(self).items()}

    @classmethod
    def from_stored(cls, values: Mapping[str, str]) -> Self:
        """Parameters read back from an index (unknown names are ignored, missing ones defaulted)."""
        converted: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in values:
                continue
            raw = values[spec.name]
            converted[spec.name] = float(raw) if spec.type == "float" else int(raw) if spec.type == "int" else raw
        return cls(**converted)

    def check_stored(self, stored: Mapping[str, str], location: str, *, remedy: str = "") -> None:
        """Raise ``DedupIndexMismatch`` naming the first of these parameters that ``stored`` has otherwise.

        Args:
            stored: The parameters an index holds (``stored()`` text).
            location: The index, for the message.
            remedy: What to do about it (default: rebuild the SQLite file).
        """
        for name, value in self.stored().items():
            if stored.get(name, "") != value:
                raise DedupIndexMismatch(location, name, stored.get(name, "(absent)"), value, remedy=remedy)


@dataclass(frozen=True, kw_only=True)
class NewDocument:
    """What ``NearDuplicateIndex.add`` stores for one document.

    ``signature`` is stored only when the index keeps signatures (``signature_bits`` > 0);
    ``meta["warc_filename"]`` and ``meta["warc_offset"]`` are stored apart from the other metadata.
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
    """A stored document, without its sketch."""

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
class CandidateSketches:
    """What verification needs of a document's candidates, one column per field, so that it is
    checked on arrays: at a million documents a text has a handful of candidates from unrelated
    texts (they share a band by chance), and most are dropped without one Python object each."""

    ids: npt.NDArray[np.int64]
    sketches: Sequence[bytes] | npt.NDArray[np.uint8]
    """Each candidate's stored sketch: blobs, or the rows of a 2-D array when sketches have a fixed size."""
    shingles: npt.NDArray[np.int64]
    chars: npt.NDArray[np.int64]
    urls: Sequence[str] | None = None
    """None when the index did not read them: ``document(id).url`` gives those of the few that match."""

    @classmethod
    def of(cls, found: Sequence[StoredSketch]) -> Self:
        """The columns of ``sketches`` rows."""
        return cls(
            ids=np.fromiter((s.id for s in found), dtype=np.int64, count=len(found)),
            sketches=[s.sketch for s in found],
            shingles=np.fromiter((s.shingles for s in found), dtype=np.int64, count=len(found)),
            chars=np.fromiter((s.chars for s in found), dtype=np.int64, count=len(found)),
            urls=[s.url for s in found],
        )

    def __len__(self) -> int:
        return int(self.ids.size)


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
    """Ids of documents sharing a band key with it (unverified), never its own; empty when
    ``doc_id`` is None."""


@dataclass(frozen=True, slots=True)
class Joined:
    """The outcome of ``join``."""

    cluster_id: int
    merged: tuple[int, ...]
    """Ids of the clusters merged into ``cluster_id`` (which no longer exist), ascending."""
    created: bool
    """None of the documents was in a cluster before."""


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """A cluster's stored original and size."""

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
            if name in ("bands", "band_keys", "sketches"):
                groups["sketches" if name == "sketches" else "bands"] += size
            elif name.startswith(("documents", "warc_files", "sqlite_autoindex_warc_files")):
                groups["documents"] += size
            else:
                groups["other"] += size
        return groups


@dataclass(frozen=True, slots=True)
class ClusterMerge:
    """What joining documents does to cluster labels (``merge_clusters``)."""

    cluster_id: int
    """The cluster every joined document is in afterwards."""
    merged: tuple[int, ...]
    """The other clusters the documents were in, ascending: each member of each is relabelled
    ``cluster_id``, and each one's stored original is dropped (the cluster no longer exists)."""
    unclustered: tuple[int, ...]
    """The joined documents that were in no cluster, ascending: labelled ``cluster_id``."""
    created: bool
    """None of the documents was in a cluster before."""

    @property
    def joined(self) -> Joined:
        """What ``join`` answers."""
        return Joined(cluster_id=self.cluster_id, merged=self.merged, created=self.created)

    def label_after(self, doc_id: int, label: int | None) -> int | None:
        """The cluster of any indexed document after the join, from the one it was in before."""
        if doc_id in self.unclustered or (label is not None and label in self.merged):
            return self.cluster_id
        return label


def merge_clusters(labels: Mapping[int, int | None]) -> ClusterMerge:
    """The cluster-merge rule of ``join``, stated once: SQLite's ``join`` applies it as it is, and the
    Lua script ``lua.JOIN`` encodes it (tests/dedup/test_index.py holds both to this function).

    A cluster's id is its smallest member id, and ids never change but in a merge. So the joined
    documents end up in the cluster named by the smallest of their own ids and of the clusters they
    are in: when several clusters meet, the one holding the smallest member survives whichever of
    the documents led to it; the others are relabelled into it whole, and documents in no cluster
    join it. A new cluster takes the smallest document id.

    Args:
        labels: Each document to join → the cluster it is in now (None: in none).
    """
    clusters = sorted({label for label in labels.values() if label is not None})
    cluster_id = min([*clusters, *labels])
    return ClusterMerge(
        cluster_id=cluster_id,
        merged=tuple(c for c in clusters if c != cluster_id),
        unclustered=tuple(sorted(doc for doc, label in labels.items() if label is None)),
        created=not clusters,
    )


class BandKeyPacker:
    """A document's band keys as the unsigned 32-bit integers both backends store: band number in
    the top bits, then the band hash (27 bits with 32 bands), so every band shares one key space.

    Args:
        bands: Band keys per document.
    """

    def __init__(self, bands: int) -> None:
        self.bands = bands
        self._band_bits = np.uint32((bands - 1).bit_length())
        self._prefix = (np.arange(bands, dtype=np.int64) << np.int64(32 - int(self._band_bits))).astype(np.uint32)

    def __call__(self, band_keys: npt.NDArray[np.int32]) -> list[int]:
        """The stored keys of one document's ``lsh.band_keys``.

        Raises:
            ValueError: Not one key per band.
        """
        packed: list[int] = self.array(band_keys).tolist()
        return packed

    def array(self, band_keys: npt.NDArray[np.int32]) -> npt.NDArray[np.uint32]:
        """``__call__`` as an array."""
        if band_keys.shape != (self.bands,):
            raise ValueError(f"expected {self.bands} band keys, got shape {band_keys.shape}")
        # The shifted hash leaves the band bits clear: or-ing in the band number is the sum.
        hashes = band_keys.astype(np.int32, copy=False).view(np.uint32) >> self._band_bits
        packed: npt.NDArray[np.uint32] = hashes | self._prefix
        return packed


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
    "fetched_at": "f",
    "references": "rf",
}
"""Metadata names and their short form on disk (a third of the metadata's bytes were names)."""
_META_NAMES: Final = {short: name for name, short in _META_KEYS.items()}
_ESCAPE: Final = "~"
_UUID_RECORD_ID: Final = re.compile(r"<urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>")
_SIGNATURE_DTYPES: Final = {8: np.uint8, 16: np.uint16, 32: np.uint32}

_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Compact JSON, UTF-8 kept as is (one encoder: ``json.dumps`` with options builds one per call)."""


def encode_meta(meta: Mapping[str, Any]) -> str:
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


def decode_meta(text: str) -> dict[str, Any]:
    """The metadata ``encode_meta`` wrote, under its full names."""
    meta: dict[str, Any] = {}
    for key, value in json.loads(text).items():
        meta[_META_NAMES.get(key) or key.removeprefix(_ESCAPE)] = value
    return meta


def split_warc_location(meta: Mapping[str, Any]) -> tuple[dict[str, Any], object, object]:
    """``(other metadata, WARC file name, WARC offset)``: the location is stored apart (a number
    for the file name, an integer for the offset), the rest through ``encode_meta``."""
    rest = dict(meta)
    return rest, rest.pop(WARC_FILENAME, None), rest.pop(WARC_OFFSET, None)


def encode_record_id(record_id: str) -> bytes | str:
    """A ``<urn:uuid:…>`` id (lower-case, as ``uuid4`` writes it) as its 16 bytes; anything else as is."""
    found = _UUID_RECORD_ID.fullmatch(record_id)
    return bytes.fromhex(found[1].replace("-", "")) if found else record_id  # uuid.UUID(...).bytes, 5x faster


def decode_record_id(stored: bytes | str) -> str:
    """The record id ``encode_record_id`` stored."""
    return f"<urn:uuid:{uuid.UUID(bytes=stored)}>" if isinstance(stored, bytes) else str(stored)


def url_key(url: str) -> int:
    """A signed 64-bit key of the normalised URL: a URL is indexed once, under this key."""
    digest = hashlib.blake2b(normalize_url(url).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def encode_signature(signature: StoredSignature, bits: int) -> bytes | None:
    """The low ``bits`` bits of each MinHash value, little-endian (None when ``bits`` is 0)."""
    if bits == 0:
        return None
    dtype = {8: "<u1", 16: "<u2", 32: "<u4"}[bits]
    values = signature if bits == 32 else signature & np.uint32((1 << bits) - 1)
    return values.astype(dtype).tobytes()


def decode_signature(stored: bytes, bits: int) -> StoredSignature:
    """The values ``encode_signature`` stored, as ``uint8``, ``uint16`` or ``uint32``."""
    dtype = _SIGNATURE_DTYPES[bits]
    return np.frombuffer(stored, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)


def require_signatures(parameters: IndexParameters, location: str) -> None:
    """Raise ``DedupIndexError`` saying how to get a signature when the index stores none."""
    if parameters.signature_bits == 0:
        raise DedupIndexError(
            f"{location} stores no MinHash signatures (signature_bits=0): compute one from the text "
            f"with MinHasher({parameters.num_perm}, {parameters.seed}) and shingle_hashes, "
            "or build the index with DEDUP_SIGNATURE_BITS"
        )


class NearDuplicateIndex(Protocol):
    """A near-duplicate index: documents with their sketches, band lookups, verified pairs, clusters
    and their stored originals. Every backend keeps the promises written on each method.

    Backends subclass it for ``__enter__``/``__exit__`` and ``check_writable``. Opened read-only
    (``open_index(..., read_only=True)``), an index refuses every write with ``DedupIndexError``.
    """

    parameters: IndexParameters
    path: str
    """Where the index is, for messages (a file, or a Redis URL without its password and a prefix)."""
    mismatch_remedy: str
    """What to do when the stored parameters differ (ends ``DedupIndexMismatch`` messages)."""
    read_only: bool
    """Opened for reading only: every write raises ``DedupIndexError``."""
    transactional: bool = False
    """Writes between ``begin`` and ``commit`` are kept or lost together (SQLite); False where every
    write is durable when it returns (Redis)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def check_writable(self) -> None:
        """Raise ``DedupIndexError`` when the index was opened read-only; every write calls it first."""
        if self.read_only:
            raise DedupIndexError(f"{self.path} is opened read-only: nothing can be written to it")

    def warm_up(self) -> None:
        """Read now what the first look-up would otherwise wait for (nothing, unless the backend
        keeps something in memory)."""

    def __len__(self) -> int:
        """How many documents are stored."""
        ...

    def begin(self) -> None:
        """Start a group of writes that ``commit`` ends; a no-op inside a group, or where every write
        is visible when it returns."""
        ...

    def commit(self) -> None:
        """Make every write so far durable and visible to other processes using the index."""
        ...

    def close(self) -> None:
        """Commit, and release the file or the connection (the index stays)."""
        ...

    def add(self, document: NewDocument, *, limit: int | None = None) -> Added:
        """Store a document, and return the documents sharing a band key with it, in one atomic step.

        Nothing else writes between the look-up and the store: of two documents sharing a band key
        added at the same time by two processes, the second finds the first. A URL is stored once:
        scheme, ``www.``, fragment and a trailing slash do not make a new document.

        Args:
            document: What to store.
            limit: Keep only this many candidates, those sharing the most bands first (then the
                smallest ids): a text repeated thousands of times would otherwise make every new
                copy verify against all of them.

        Returns:
            The new id (None when the URL is already indexed: nothing is written, no candidate
            returned) and the candidates, in ascending id order (or by shared bands, then id, when
            ``limit`` cut), never the document itself.

        Raises:
            ValueError: ``document.band_keys`` is not one key per band (or, with fixed-size
                sketches, the sketch has another size).
        """
        ...

    def find_url(self, url: str) -> int | None:
        """The id of the document indexed under ``url`` (scheme, ``www.``, fragment and a trailing
        slash ignored), or None."""
        ...

    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]:
        """Verification data (URL, lengths, sketch blob) of documents, in the order of ``ids``; ids
        that are not in the index are skipped."""
        ...

    def candidate_sketches(self, ids: Sequence[int]) -> CandidateSketches:
        """``sketches`` of a document's candidates as columns (``add`` returned the ids): what the
        engine verifies. A backend that holds the sketches in memory answers without reading."""
        return CandidateSketches.of(self.sketches(ids))

    def signature(self, doc_id: int) -> StoredSignature:
        """The stored MinHash signature of a document (datasketch ``affine32`` values).

        With ``signature_bits`` 32 these are the signature's ``uint32`` values; with 16 or 8, the low
        16 or 8 bits of each (``uint16`` or ``uint8``), enough to estimate Jaccard similarity
        (``estimate_jaccard(..., bits=)``) but not to rebuild band keys.

        Raises:
            KeyError: No document has this id.
            DedupIndexError: The index stores no signatures (``signature_bits`` 0, the default):
                compute it from the text with ``MinHasher(num_perm, seed)``.
        """
        ...

    def document(self, doc_id: int) -> StoredDocument:
        """A stored document, with its cluster and metadata (WARC location included).

        Raises:
            KeyError: No document has this id.
        """
        ...

    def documents(self) -> Iterator[StoredDocument]:
        """Every stored document, in id order (streamed)."""
        ...

    def add_pair(self, first: int, second: int, relation: str, jaccard: float, containment: float) -> None:
        """Record a verified pair as ``(min, max)``, replacing one recorded before. ``pairs`` sees it
        at once; other processes after the next ``join`` or ``commit``."""
        ...

    def pairs(self) -> Iterator[StoredPair]:
        """Every verified pair, ordered by ``(first, second)`` (streamed)."""
        ...

    def join(self, doc_id: int, others: Sequence[int]) -> Joined:
        """Put ``doc_id`` and ``others`` (indexed documents) in one cluster, by ``merge_clusters``.

        Atomic: no process sees a merge half done. A merged cluster's stored original is dropped.
        """
        ...

    def cluster_members(self, cluster_id: int) -> list[StoredDocument]:
        """The members of a cluster, in id order (empty when there is no such cluster, e.g. it was
        just merged into another)."""
        ...

    def cluster_ids(self) -> list[int]:
        """The id of every cluster, ascending."""
        ...

    def cluster_size(self, cluster_id: int) -> int:
        """How many documents a cluster has (0 when there is no such cluster)."""
        ...

    def save_cluster(self, cluster_id: int, canonical: int, size: int, decided_by: str, flags: Sequence[str]) -> None:
        """Store a cluster's current original, replacing the one stored before. Nothing is stored
        for a cluster that no longer exists: a process that lost a race with a merge must not bring
        a merged cluster's row back."""
        ...

    def cluster(self, cluster_id: int) -> ClusterRow | None:
        """A cluster's stored original, or None (never stored, or the cluster was merged)."""
        ...

    def clusters(self) -> Iterator[ClusterRow]:
        """Every stored original, largest cluster first, then by id."""
        ...

    def rebuild_clusters(self) -> int:
        """Recompute every document's cluster from the stored pairs; return how many there are.

        Repairs the cluster labels after an interrupted write or a manual edit of the pairs; a
        cluster's id is its smallest member id, as ``join`` gives it. Stored originals are dropped
        (``DedupEngine.decide`` chooses them again). Run it while nothing else writes to the index.
        """
        ...
