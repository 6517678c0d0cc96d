"""The near-duplicate index on a Redis server, so that clusters are global across crawl workers.

``RedisDedupIndex`` keeps the promises of ``base.NearDuplicateIndex``, as the SQLite index does, for
the engine, the pipeline and the report, with keys under a prefix (``DEDUP_REDIS_PREFIX``, default
``portal-archive:dedup:``) so that several indexes share a server. Layout, measured bytes per
document and the choice against datasketch's Redis storage: docs/dedup-redis.md.

Concurrency. Every write other workers must see whole is one Lua script (``lua``), and Redis
runs scripts one at a time. A new document's URL, record, sketch and band entries are written by the
script that also reads the band entries already there, so of two documents sharing a band key, the
one whose script runs second finds the other: every candidate pair is seen by one of its two
documents, whatever the interleaving. Merging clusters relabels all members in one script. Document
ids come from one counter (``INCR``), so they are global. Nothing is grouped in transactions:
``begin`` and ``commit`` only flush the pairs buffered since the last ``join``.

A write whose reply is lost (connection reset) is sent again by the client; the add script
recognises its own document by a random token at the head of the record and answers as the first
time did.
"""

from __future__ import annotations

import functools
import logging
import os
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, ParamSpec, Self, TypeVar

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from portal_archive.dedup.cluster import connected_components
from portal_archive.dedup.config import REDIS_PREFIX, redact_url
from portal_archive.dedup.index import lua as redis_lua
from portal_archive.dedup.index.base import (
    WARC_FILENAME,
    WARC_OFFSET,
    Added,
    BandKeyPacker,
    ClusterRow,
    DedupIndexError,
    DedupIndexMismatch,
    DedupIndexUnavailable,
    IndexParameters,
    Joined,
    NearDuplicateIndex,
    NewDocument,
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
    require_signatures,
    split_warc_location,
    url_key,
)
from portal_archive.dedup.sketch import make_sketch

if TYPE_CHECKING:
    from portal_archive.dedup.config import DedupConfig

__all__ = ["REDIS_FORMAT", "DedupIndexUnavailable", "RedisDedupIndex", "open_from_config"]

logger = logging.getLogger(__name__)

REDIS_FORMAT: Final = 1
"""Version of the key layout, stored as ``redis_format`` and checked on open."""
_TOKEN_BYTES: Final = 4
_BUCKET: Final = redis_lua.RECORDS_PER_BUCKET
_READ_BATCH: Final = 16
"""Record buckets read per round trip when streaming every document."""
_NO_OFFSET: Final = 0
_REMEDY: Final = (
    "delete the index's keys (portal-archive dedup-export can copy them into a file first) and re-index, "
    "or set DEDUP_REDIS_PREFIX to another prefix"
)


P = ParamSpec("P")
R = TypeVar("R")


def _index_error(index: object, exc: redis.RedisError) -> DedupIndexError:
    """A Redis error as the ``DedupIndexError`` naming the index (the caller chains the original)."""
    where = getattr(index, "path", "?")
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return DedupIndexUnavailable(f"lost the Redis near-duplicate index at {where}: {exc}")
    return DedupIndexError(f"Redis near-duplicate index at {where}: {exc}")


def _server_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Redis errors as ``DedupIndexError``s naming the index, the original chained."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise _index_error(args[0], exc) from exc

    return wrapper


def _server_errors_while(method: Callable[P, Iterator[R]]) -> Callable[P, Iterator[R]]:
    """``_server_errors`` for a generator: errors raised while it is iterated, too."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Iterator[R]:
        try:
            yield from method(*args, **kwargs)
        except redis.RedisError as exc:
            raise _index_error(args[0], exc) from exc

    return wrapper


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _encode_record(document: NewDocument, warc_file: int, token: bytes) -> bytes:
    """Token, lengths, WARC location, record id, URL, compact metadata JSON: ~40 % of a JSON row."""
    meta, _, offset = split_warc_location(document.meta)
    record_id = encode_record_id(document.record_id)
    if isinstance(record_id, bytes):
        rid = b"\x01" + record_id
    elif record_id:
        encoded = record_id.encode("utf-8")
        rid = b"\x02" + _varint(len(encoded)) + encoded
    else:
        rid = b"\x00"
    url = document.url.encode("utf-8")
    return b"".join(
        (
            token,
            _varint(document.chars),
            _varint(document.shingles),
            _varint(warc_file),
            _varint(offset + 1 if isinstance(offset, int) and offset >= 0 else _NO_OFFSET),
            rid,
            _varint(len(url)),
            url,
            encode_meta(meta).encode("utf-8") if meta else b"",
        )
    )


class _Record:
    __slots__ = ("chars", "meta", "offset", "record_id", "shingles", "url", "warc_file")

    def __init__(self, data: bytes) -> None:
        position = _TOKEN_BYTES
        self.chars, position = _read_varint(data, position)
        self.shingles, position = _read_varint(data, position)
        self.warc_file, position = _read_varint(data, position)
        offset, position = _read_varint(data, position)
        self.offset = offset - 1 if offset != _NO_OFFSET else None
        kind = data[position]
        position += 1
        if kind == 1:
            self.record_id = decode_record_id(bytes(data[position : position + 16]))
            position += 16
        elif kind == 2:
            length, position = _read_varint(data, position)
            self.record_id = data[position : position + length].decode("utf-8")
            position += length
        else:
            self.record_id = ""
        length, position = _read_varint(data, position)
        self.url = data[position : position + length].decode("utf-8")
        rest = data[position + length :]
        self.meta: dict[str, Any] = decode_meta(rest.decode("utf-8")) if rest else {}


def _bucket(name: str, doc_id: int) -> tuple[str, int]:
    return f"{name}:{doc_id // _BUCKET}", doc_id % _BUCKET


class RedisDedupIndex(NearDuplicateIndex):
    """A MinHash LSH index with verification sketches, clusters and their originals, in Redis.

    Open it with ``RedisDedupIndex.open`` (or ``index.open_index``). Every write is visible to
    all workers as soon as it returns.

    Example:
        >>> with RedisDedupIndex.open("redis://127.0.0.1:6379/0", IndexParameters()) as index:
        ...     print(len(index), index.parameters.num_perm)
    """

    def __init__(
        self,
        client: redis.Redis,
        parameters: IndexParameters,
        *,
        url: str,
        prefix: str = REDIS_PREFIX,
        read_only: bool = False,
    ) -> None:
        # redis-py types every command as "result or awaitable of it" (one class serves both
        # clients): the synchronous client is used through Any rather than a cast per call.
        self._redis: Any = client
        self.parameters = parameters
        self.prefix = prefix
        self.path = f"{redact_url(url)} (keys {prefix}*)"
        self.read_only = read_only
        self.round_trips = 0
        """Requests sent to the server (a pipeline counts once): the figure that bounds wall time."""
        self.mismatch_remedy = _REMEDY
        self._scripts = {
            name: client.register_script(getattr(redis_lua, name))
            for name in ("ADD", "FIND_URL", "INTERN", "JOIN", "SAVE_CLUSTER")
        }
        # Refuses an unknown verification backend, or bins and bits it cannot store.
        make_sketch(parameters.verify, bins=parameters.sketch_bins, bits=parameters.sketch_bits)
        self._sketch_slot = parameters.sketch_bytes
        self._signature_slot = parameters.num_perm * parameters.signature_bits // 8
        self._band_keys = BandKeyPacker(parameters.bands)
        """Unsigned: SQLite's packed keys plus 2**31."""
        self._warc_file_ids: dict[str, int] = {}
        self._warc_file_names: dict[int, str] = {}
        self._pending_pairs: dict[tuple[str, bytes], bytes] = {}

    @classmethod
    def open(
        cls,
        url: str,
        parameters: IndexParameters | None = None,
        *,
        prefix: str = REDIS_PREFIX,
        read_only: bool = False,
        setting: str = "DEDUP_INDEX_URL",
    ) -> Self:
        """Connect to the index at ``url`` under ``prefix``, creating it when there is none.

        Args:
            url: ``redis://``, ``rediss://`` or ``unix://`` URL (database number included).
            parameters: Parameters to create the index with or to check it against; None opens an
                existing index with its stored parameters (reports).
            prefix: Prefix of every key of this index.
            read_only: Never write: nothing is created, and every write raises ``DedupIndexError``.
            setting: The setting ``url`` came from, named when the server cannot be reached.

        Raises:
            DedupIndexUnavailable: The server cannot be reached (the cause is chained).
            DedupIndexMismatch: The stored index was built with other parameters or another key
                layout; names the first that differs.
            DedupIndexError: ``parameters`` is None (or ``read_only``) and there is no index under
                ``prefix``.
        """
        shown = f"{redact_url(url)} (keys {prefix}*)"
        try:
            client: Any = redis.Redis.from_url(
                url,
                socket_connect_timeout=5.0,
                socket_timeout=60.0,
                health_check_interval=30,
                retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3),
            )
        except ValueError as exc:
            raise DedupIndexError(f"{setting}={redact_url(url)} is not a usable Redis URL: {exc}") from exc
        try:
            client.ping()
            policy = str(client.info("memory").get("maxmemory_policy", "noeviction"))
            if policy.startswith("allkeys"):
                # Evicted band or record keys would make copies go unnoticed, silently.
                logger.warning(
                    "Redis near-duplicate index at %(index)s: the server evicts keys (maxmemory-policy %(policy)s); "
                    "set maxmemory-policy noeviction, or copies can go unnoticed",
                    {"index": shown, "policy": policy},
                )
            fields: list[str | int | float | bytes] = [prefix]
            if parameters is not None and not read_only:
                for name, value in {**parameters.stored(), "redis_format": str(REDIS_FORMAT)}.items():
                    fields += [name, value]
            flat = client.register_script(redis_lua.INIT)(args=fields)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            client.close()
            raise DedupIndexUnavailable(
                f"cannot reach the Redis near-duplicate index at {shown} ({setting}): {exc}"
            ) from exc
        except redis.RedisError as exc:
            client.close()
            raise DedupIndexError(f"Redis near-duplicate index at {shown} ({setting}): {exc}") from exc
        stored = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        if not stored:
            client.close()
            raise DedupIndexError(f"no near-duplicate index at {shown}")
        try:
            layout = stored.get("redis_format", "(absent)")
            if layout != str(REDIS_FORMAT):
                raise DedupIndexMismatch(shown, "redis_format", layout, str(REDIS_FORMAT), remedy=_REMEDY)
            if parameters is not None:
                parameters.check_stored(stored, shown, remedy=_REMEDY)
        except DedupIndexMismatch:
            client.close()
            raise
        return cls(
            client,
            parameters or IndexParameters.from_stored(stored),
            url=url,
            prefix=prefix,
            read_only=read_only,
        )

    def _key(self, name: str) -> str:
        return self.prefix + name

    @_server_errors
    def __len__(self) -> int:
        self.round_trips += 1
        value = self._redis.get(self._key("docs"))
        return int(value) if value else 0

    def begin(self) -> None:
        """Nothing to start: every write is visible when it returns."""

    @_server_errors
    def commit(self) -> None:
        """Send the pairs recorded since the last ``join``."""
        if self._pending_pairs:
            pipe = self._redis.pipeline(transaction=False)
            self._queue_pairs(pipe)
            self.round_trips += 1
            pipe.execute()

    def close(self) -> None:
        """Send what is pending and disconnect (the data stays on the server)."""
        try:
            self.commit()
        finally:
            self._redis.close()

    @_server_errors
    def add(self, document: NewDocument, *, limit: int | None = None) -> Added:
        """One script stores the document and reads the ids already under its band keys."""
        self.check_writable()
        filename = document.meta.get(WARC_FILENAME)
        warc_file = self._warc_file_id(str(filename)) if filename else 0
        record = _encode_record(document, warc_file, os.urandom(_TOKEN_BYTES))
        signature = encode_signature(document.signature, self.parameters.signature_bits) or b""
        if self._sketch_slot and len(document.sketch) != self._sketch_slot:
            raise ValueError(f"expected a {self._sketch_slot}-byte sketch, got {len(document.sketch)} bytes")
        args: list[bytes | str | int] = [
            self.prefix,
            url_key(document.url).to_bytes(8, "big", signed=True),
            record,
            document.sketch,
            self._sketch_slot,
            signature,
            self._signature_slot,
            *self._band_keys(document.band_keys),
        ]
        self.round_trips += 1
        reply = self._scripts["ADD"](args=args)
        doc_id, stored = int(reply[0]), int(reply[1])
        if not stored:
            return Added(None, [])
        shared: Counter[int] = Counter()
        for value in reply[2:]:
            if value:
                shared.update(int(part) for part in value.split(b","))
        shared.pop(doc_id, None)
        if limit is not None and len(shared) > limit:
            chosen = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:limit]
            return Added(doc_id, [doc for doc, _ in chosen])
        return Added(doc_id, sorted(shared))

    @_server_errors
    def find_url(self, url: str) -> int | None:
        self.round_trips += 1
        found = self._scripts["FIND_URL"](args=[self.prefix, url_key(url).to_bytes(8, "big", signed=True)])
        return int(found) if found is not None else None

    def _warc_file_id(self, name: str) -> int:
        known = self._warc_file_ids.get(name)
        if known is None:
            self.round_trips += 1
            known = int(self._scripts["INTERN"](args=[self.prefix, name]))
            self._warc_file_ids[name] = known
            self._warc_file_names[known] = name
        return known

    def _warc_file_name(self, file_id: int) -> str | None:
        name = self._warc_file_names.get(file_id)
        if name is None:
            self.round_trips += 1
            raw = self._redis.hget(self._key("wn"), file_id)
            if raw is None:
                return None
            name = self._warc_file_names[file_id] = raw.decode("utf-8")
        return name

    def _stored(self, doc_id: int, raw: bytes, cluster: bytes | None) -> StoredDocument:
        record = _Record(raw)
        meta = record.meta
        if record.warc_file and (filename := self._warc_file_name(record.warc_file)):
            meta[WARC_FILENAME] = filename
        if record.offset is not None:
            meta[WARC_OFFSET] = record.offset
        return StoredDocument(
            id=doc_id,
            url=record.url,
            record_id=record.record_id,
            chars=record.chars,
            shingles=record.shingles,
            cluster=int(cluster) if cluster is not None else None,
            meta=meta,
        )

    def _slot(self, name: str, doc_id: int, size: int) -> tuple[str, int, int]:
        per = redis_lua.SLOT_STRING_BYTES // size
        start = (doc_id % per) * size
        return self._key(f"{name}:{doc_id // per}"), start, start + size - 1

    def _queue_sketch(self, pipe: Any, doc_id: int) -> None:
        if self._sketch_slot:
            pipe.getrange(*self._slot("s", doc_id, self._sketch_slot))
        else:
            key, field = _bucket("sx", doc_id)
            pipe.hget(self._key(key), field)

    @_server_errors
    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]:
        if not ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for doc_id in ids:
            key, field = _bucket("d", doc_id)
            pipe.hget(self._key(key), field)
            self._queue_sketch(pipe, doc_id)
        self.round_trips += 1
        replies = pipe.execute()
        found = []
        for position, doc_id in enumerate(ids):
            raw, sketch = replies[2 * position], replies[2 * position + 1]
            if raw is None or sketch is None:
                continue
            record = _Record(raw)
            found.append(StoredSketch(doc_id, record.url, record.chars, record.shingles, bytes(sketch)))
        return found

    @_server_errors
    def signature(self, doc_id: int) -> StoredSignature:
        require_signatures(self.parameters, self.path)
        key, field = _bucket("d", doc_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hexists(self._key(key), field)
        pipe.getrange(*self._slot("g", doc_id, self._signature_slot))
        self.round_trips += 1
        exists, raw = pipe.execute()
        if not exists:
            raise KeyError(doc_id)
        return decode_signature(raw, self.parameters.signature_bits)

    @_server_errors
    def document(self, doc_id: int) -> StoredDocument:
        found = self._documents([doc_id])
        if not found:
            raise KeyError(doc_id)
        return found[0]

    def _documents(self, ids: Sequence[int]) -> list[StoredDocument]:
        """Documents in the order of ``ids``, absent ones skipped (one round trip)."""
        pipe = self._redis.pipeline(transaction=False)
        for doc_id in ids:
            key, field = _bucket("d", doc_id)
            pipe.hget(self._key(key), field)
            key, field = _bucket("m", doc_id)
            pipe.hget(self._key(key), field)
        self.round_trips += 1
        replies = pipe.execute()
        return [
            self._stored(doc_id, replies[2 * i], replies[2 * i + 1])
            for i, doc_id in enumerate(ids)
            if replies[2 * i] is not None
        ]

    @_server_errors_while
    def documents(self) -> Iterator[StoredDocument]:
        """Streamed ``_READ_BATCH`` record hashes at a time."""
        last = len(self)
        for first_bucket in range(0, last // _BUCKET + 1, _READ_BATCH):
            buckets = range(first_bucket, min(first_bucket + _READ_BATCH, last // _BUCKET + 1))
            pipe = self._redis.pipeline(transaction=False)
            for bucket in buckets:
                pipe.hgetall(self._key(f"d:{bucket}"))
                pipe.hgetall(self._key(f"m:{bucket}"))
            self.round_trips += 1
            replies = pipe.execute()
            for position, bucket in enumerate(buckets):
                records, clusters = replies[2 * position], replies[2 * position + 1]
                for slot in sorted(int(field) for field in records):
                    doc_id = bucket * _BUCKET + slot
                    yield self._stored(doc_id, records[str(slot).encode()], clusters.get(str(slot).encode()))

    def _queue_pairs(self, pipe: Any) -> None:
        for (key, field), value in self._pending_pairs.items():
            pipe.hset(self._key(key), field, value)
        self._pending_pairs.clear()

    def add_pair(self, first: int, second: int, relation: str, jaccard: float, containment: float) -> None:
        """Sent with the next ``join`` or ``commit`` (``pairs`` commits first)."""
        self.check_writable()
        low, high = min(first, second), max(first, second)
        key, _ = _bucket("p", low)
        value = f"{relation}|{float(jaccard)!r}|{float(containment)!r}".encode()
        self._pending_pairs[(key, struct.pack(">II", low, high))] = value

    @_server_errors_while
    def pairs(self) -> Iterator[StoredPair]:
        """Streamed a pair hash at a time."""
        self.commit()
        last = len(self)
        for bucket in range(0, last // _BUCKET + 1):
            self.round_trips += 1
            fields = self._redis.hgetall(self._key(f"p:{bucket}"))
            for packed in sorted(fields):
                first, second = struct.unpack(">II", packed)
                relation, jaccard, containment = fields[packed].decode().split("|")
                yield StoredPair(first, second, relation, float(jaccard), float(containment))

    @_server_errors
    def join(self, doc_id: int, others: Sequence[int]) -> Joined:
        """One script (``lua.JOIN``, which encodes ``merge_clusters``) also sends the pairs recorded
        since the last call."""
        self.check_writable()
        pairs: list[bytes | str | int] = []
        for (key, field), value in self._pending_pairs.items():
            pairs += [key, field, value]
        self.round_trips += 1
        reply = self._scripts["JOIN"](args=[self.prefix, len(pairs) // 3, *pairs, doc_id, *others])
        self._pending_pairs.clear()
        return Joined(cluster_id=int(reply[0]), merged=tuple(int(c) for c in reply[2:]), created=bool(reply[1]))

    @_server_errors
    def cluster_members(self, cluster_id: int) -> list[StoredDocument]:
        self.round_trips += 1
        ids = sorted(int(m) for m in self._redis.smembers(self._key(f"c:{cluster_id}")))
        return self._documents(ids) if ids else []

    @_server_errors
    def cluster_ids(self) -> list[int]:
        self.round_trips += 1
        return [int(c) for c in self._redis.zrange(self._key("cl"), 0, -1)]

    @_server_errors
    def cluster_size(self, cluster_id: int) -> int:
        self.round_trips += 1
        return int(self._redis.scard(self._key(f"c:{cluster_id}")))

    @_server_errors
    def save_cluster(self, cluster_id: int, canonical: int, size: int, decided_by: str, flags: Sequence[str]) -> None:
        """Stored by ``lua.SAVE_CLUSTER`` while the cluster is in ``cl``."""
        self.check_writable()
        row = f"{canonical}|{size}|{decided_by}|{','.join(flags)}"
        self.round_trips += 1
        self._scripts["SAVE_CLUSTER"](args=[self.prefix, cluster_id, row])

    @_server_errors
    def cluster(self, cluster_id: int) -> ClusterRow | None:
        self.round_trips += 1
        raw = self._redis.hget(self._key("cr"), cluster_id)
        return _cluster_row(cluster_id, raw) if raw is not None else None

    @_server_errors_while
    def clusters(self) -> Iterator[ClusterRow]:
        """The rows are held to sort them."""
        rows: list[ClusterRow] = []
        cursor = 0
        while True:
            self.round_trips += 1
            cursor, chunk = self._redis.hscan(self._key("cr"), cursor, count=1000)
            rows.extend(_cluster_row(int(cid), raw) for cid, raw in chunk.items())
            if cursor == 0:
                break
        yield from sorted(rows, key=lambda row: (-row.size, row.id))

    @_server_errors
    def rebuild_clusters(self) -> int:
        """One pipeline, not a script: it rewrites every cluster label."""
        self.check_writable()
        groups = connected_components((pair.first, pair.second) for pair in self.pairs())
        last = len(self)
        pipe = self._redis.pipeline(transaction=False)
        for cluster_id in self.cluster_ids():
            pipe.unlink(self._key(f"c:{cluster_id}"))
        pipe.unlink(self._key("cl"), self._key("cr"), *(self._key(f"m:{b}") for b in range(last // _BUCKET + 1)))
        for members in groups:
            target = members[0]
            pipe.sadd(self._key(f"c:{target}"), *members)
            pipe.zadd(self._key("cl"), {str(target): target})
            for member in members:
                key, field = _bucket("m", member)
                pipe.hset(self._key(key), str(field), target)
        self.round_trips += 1
        pipe.execute()
        return len(groups)

    @_server_errors_while
    def band_entries(self) -> Iterator[tuple[int, int]]:
        """Every ``(packed band key, document id)``, for copying the index into a file; streamed a
        bucket at a time."""
        self.round_trips += 1
        state = self._redis.hmget(self._key("lh:b"), "level", "split")
        level, split = int(state[0] or 0), int(state[1] or 0)
        buckets = [(level + 1, p) for p in range(2 * split)] + [(level, p) for p in range(split, 1 << level)]
        for depth, bucket in buckets:
            self.round_trips += 1
            fields = self._redis.hgetall(self._key(f"b:{depth}:{bucket}"))
            for field in sorted(fields, key=int):
                unsigned = (bucket << (32 - depth)) + int(field)
                value = fields[field]
                if value == b"*":
                    self.round_trips += 1
                    ids = sorted(int(m) for m in self._redis.smembers(self._key(f"bo:{unsigned}")))
                else:
                    ids = [int(part) for part in value.split(b",")]
                for doc_id in ids:
                    yield unsigned, doc_id

    @_server_errors
    def raw_sketch(self, doc_id: int) -> bytes:
        """The stored sketch blob of a document (for copying the index)."""
        pipe = self._redis.pipeline(transaction=False)
        self._queue_sketch(pipe, doc_id)
        self.round_trips += 1
        (blob,) = pipe.execute()
        if blob is None:
            raise KeyError(doc_id)
        return bytes(blob)


def _cluster_row(cluster_id: int, raw: bytes) -> ClusterRow:
    canonical, size, decided_by, flags = raw.decode("utf-8").split("|")
    return ClusterRow(
        id=cluster_id,
        canonical=int(canonical),
        size=int(size),
        decided_by=decided_by,
        flags=tuple(flag for flag in flags.split(",") if flag),
    )


def open_from_config(config: DedupConfig, parameters: IndexParameters | None, read_only: bool) -> RedisDedupIndex:
    """The ``index.open_index`` entry for ``redis://``, ``rediss://`` and ``unix://`` URLs."""
    return RedisDedupIndex.open(
        config.index_url,
        parameters,
        prefix=config.redis_prefix,
        read_only=read_only,
        setting=config.index_url_setting,
    )
