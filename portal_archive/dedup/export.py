"""Copy a Redis near-duplicate index into a SQLite index file, for archiving beside the WARC files.

The file is an ordinary ``dedup.sqlite``: same parameters, document ids, records, sketches, band
keys, verified pairs, cluster labels and stored originals, so ``dedup-report --index FILE`` and a
later single-machine crawl read it like any other. Everything is streamed (a batch of documents,
or one band bucket, at a time); the file appears under its name only once complete. Copy an index
no crawl is writing to: documents added meanwhile may be copied without their band keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from portal_archive.dedup.index import DedupIndex, DedupIndexError, StoredDocument
from portal_archive.dedup.index.base import encode_signature

if TYPE_CHECKING:
    from portal_archive.dedup.index.redis import RedisDedupIndex

__all__ = ["ExportSummary", "export_to_sqlite"]

_BATCH: Final = 512


@dataclass(frozen=True, kw_only=True)
class ExportSummary:
    """What was copied."""

    documents: int
    band_entries: int
    pairs: int
    clusters: int
    path: Path


def export_to_sqlite(
    source: RedisDedupIndex, target: Path, *, progress: Callable[[int], None] | None = None
) -> ExportSummary:
    """Write every document, band key, pair and cluster of ``source`` into a new file ``target``.

    Args:
        source: The Redis index (opened read-only is enough).
        target: The SQLite file to create; it must not exist.
        progress: Called with the number of documents copied so far, after each batch.

    Raises:
        DedupIndexError: ``target`` exists already, or the source cannot be read.
    """
    if target.exists():
        raise DedupIndexError(f"{target} exists: refusing to overwrite an index (remove it, or choose another file)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    bits = source.parameters.signature_bits
    documents = entries = pairs = clusters = 0
    try:
        with DedupIndex.open(partial, source.parameters) as index:
            batch: list[StoredDocument] = []
            for document in source.documents():
                batch.append(document)
                if len(batch) >= _BATCH:
                    documents += _copy_documents(source, index, batch, bits)
                    batch = []
                    index.commit()
                    if progress is not None:
                        progress(documents)
            documents += _copy_documents(source, index, batch, bits)
            entries = index.restore_bands(source.band_entries())
            for pair in source.pairs():
                index.add_pair(pair.first, pair.second, pair.relation, pair.jaccard, pair.containment)
                pairs += 1
            for cluster in source.clusters():
                index.save_cluster(cluster.id, cluster.canonical, cluster.size, cluster.decided_by, cluster.flags)
                clusters += 1
            index.checkpoint()
        partial.replace(target)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
    if progress is not None:
        progress(documents)
    return ExportSummary(documents=documents, band_entries=entries, pairs=pairs, clusters=clusters, path=target)


def _copy_documents(source: RedisDedupIndex, index: DedupIndex, documents: list[StoredDocument], bits: int) -> int:
    sketches = {sketch.id: sketch.sketch for sketch in source.sketches([d.id for d in documents])}
    for document in documents:
        signature = encode_signature(source.signature(document.id), bits) if bits else None
        index.restore(document, sketches[document.id], signature)
    return len(documents)
