"""The near-duplicate index: the surface the engine, the pipeline and the report use, and which
backend a configuration opens.

Modules: ``base`` (the ``NearDuplicateIndex`` contract, its types and errors, the stored parameters,
the record encoders and the cluster-merge rule), ``sqlite`` (``DedupIndex``, one SQLite file: the
single-machine default), ``redis`` and ``lua`` (``RedisDedupIndex`` and its scripts: a Redis server
shared by crawl workers on several machines, docs/dedup-redis.md). ``open_index`` picks one by the
URL scheme of ``DedupConfig.index_url``; ``redis`` is imported only when a Redis index is
configured, so the project runs without it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from portal_archive.dedup.index.base import (
    SIGNATURE_BITS,
    Added,
    CandidateSketches,
    ClusterMerge,
    ClusterRow,
    DedupIndexError,
    DedupIndexMismatch,
    DedupIndexUnavailable,
    IndexParameters,
    Joined,
    NearDuplicateIndex,
    NewDocument,
    StorageReport,
    StoredDocument,
    StoredPair,
    StoredSignature,
    StoredSketch,
    merge_clusters,
)
from portal_archive.dedup.index.sqlite import FORMAT_VERSION, DedupIndex

if TYPE_CHECKING:
    from portal_archive.dedup.config import DedupConfig

__all__ = [
    "FORMAT_VERSION",
    "INDEX_BACKENDS",
    "SIGNATURE_BITS",
    "Added",
    "CandidateSketches",
    "ClusterMerge",
    "ClusterRow",
    "DedupIndex",
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
    "merge_clusters",
    "open_index",
]

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
        read_only: Never write (a report): an index that does not exist is not created, and every
            write raises ``DedupIndexError``, whichever the backend.

    Raises:
        DedupIndexMismatch: The index was built with other parameters; names the first that differs.
        DedupIndexError: No index there (``parameters`` None, or ``read_only``), or the server cannot
            be reached.
    """
    if not config.index_url:
        return DedupIndex.open(
            Path(config.index_path), parameters, cache_kib=config.cache_mib * 1024, read_only=read_only
        )
    scheme = config.index_url.partition("://")[0].lower()
    module_name, _, function = INDEX_BACKENDS[scheme].partition(":")
    opener: Opener = getattr(importlib.import_module(module_name), function)
    return opener(config, parameters, read_only)
