"""The index surface the engine, the pipeline and the report use, and how a configuration picks one.

Two implementations: ``index.DedupIndex``, one SQLite file (the single-machine default), and
``redis_index.RedisDedupIndex``, a Redis server shared by crawl workers on several machines
(docs/dedup-redis.md). ``open_index`` picks one by the URL scheme of ``DedupConfig.index_url``;
``redis`` is imported only when a Redis index is configured, so the project runs without it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Final, Protocol, Self

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.index.sqlite import (
    Added,
    ClusterRow,
    DedupIndex,
    IndexParameters,
    Joined,
    NewDocument,
    StoredDocument,
    StoredPair,
    StoredSketch,
)

if TYPE_CHECKING:
    from portal_archive.dedup.config import DedupConfig

__all__ = ["INDEX_BACKENDS", "NearDuplicateIndex", "open_index"]


class NearDuplicateIndex(Protocol):
    """What a near-duplicate index offers: documents with their sketches, band lookups, verified
    pairs, clusters and their stored originals. ``DedupIndex`` documents each method."""

    parameters: IndexParameters
    path: str
    """Where the index is, for messages (a file, or a Redis URL without its password and a prefix)."""
    mismatch_remedy: str
    """What to do when the stored parameters differ (ends ``DedupIndexMismatch`` messages)."""

    def __len__(self) -> int: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...

    def add(self, document: NewDocument, *, limit: int | None = None) -> Added: ...

    def find_url(self, url: str) -> int | None: ...

    def sketches(self, ids: Sequence[int]) -> list[StoredSketch]: ...

    def signature(self, doc_id: int) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint16] | npt.NDArray[np.uint8]: ...

    def document(self, doc_id: int) -> StoredDocument: ...

    def documents(self) -> Iterator[StoredDocument]: ...

    def add_pair(self, first: int, second: int, relation: str, jaccard: float, containment: float) -> None: ...

    def pairs(self) -> Iterator[StoredPair]: ...

    def join(self, doc_id: int, others: Sequence[int]) -> Joined: ...

    def cluster_members(self, cluster_id: int) -> list[StoredDocument]: ...

    def cluster_ids(self) -> list[int]: ...

    def cluster_size(self, cluster_id: int) -> int: ...

    def save_cluster(
        self, cluster_id: int, canonical: int, size: int, decided_by: str, flags: Sequence[str]
    ) -> None: ...

    def cluster(self, cluster_id: int) -> ClusterRow | None: ...

    def clusters(self) -> Iterator[ClusterRow]: ...

    def rebuild_clusters(self) -> int: ...


Opener = Callable[["DedupConfig", "IndexParameters | None", bool], NearDuplicateIndex]

INDEX_BACKENDS: Final = MappingProxyType(
    {
        "redis": "portal_archive.dedup.index.redis:open_from_config",
        "rediss": "portal_archive.dedup.index.redis:open_from_config",
        "unix": "portal_archive.dedup.index.redis:open_from_config",
    }
)
"""URL scheme → opener (``module:function``), imported on first use; no URL is the SQLite file."""


def open_index(
    config: DedupConfig, parameters: IndexParameters | None = None, *, read_only: bool = False
) -> NearDuplicateIndex:
    """Open the index ``config`` names: Redis at ``index_url``, else SQLite at ``index_path``.

    Args:
        config: Where the index is (and, for Redis, its key prefix).
        parameters: Parameters to create the index with or to check it against; None opens an
            existing index with the parameters it was built with.
        read_only: Never write (a report): stored originals are not updated. Only the Redis index
            enforces it; the SQLite report wraps ``DedupIndex`` itself.

    Raises:
        DedupIndexMismatch: The index was built with other parameters; names the first that differs.
        DedupIndexError: No index there (``parameters`` None), or the server cannot be reached.
    """
    if not config.index_url:
        return DedupIndex.open(Path(config.index_path), parameters, cache_kib=config.cache_mib * 1024)
    scheme = config.index_url.partition("://")[0].lower()
    module_name, _, function = INDEX_BACKENDS[scheme].partition(":")
    opener: Opener = getattr(importlib.import_module(module_name), function)
    return opener(config, parameters, read_only)
