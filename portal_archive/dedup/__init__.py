"""Near-duplicate detection for syndicated Chinese news: MinHash + LSH, a persistent index (a SQLite
file, or a Redis server shared by crawl workers), clusters and their original.

The engine finds copies, not stories about the same event: two texts are copies when their
character 5-gram sets have Jaccard similarity >= 0.7, or when the shorter (>= 300 normalised
characters) is >= 80 % contained in the longer (an excerpt); short texts need J >= 0.85. Results are
approximate: LSH may miss a pair below J ~ 0.4, and the default verification sketch estimates
similarity with a root-mean-square error of about 0.015 (``verify="exact"`` stores full shingle sets).

Typical use::

    from portal_archive.dedup import DedupConfig, DedupEngine, Document

    with DedupEngine.open(DedupConfig(index_path=Path("archive/dedup.sqlite"))) as engine:
        verdict = engine.add(Document(url=url, text=body, title=title, published_at=when))
        verdict.role, verdict.canonical_url, verdict.evidence

Modules, each owning one step: ``normalize`` (attribution lines, NFKC), ``shingles`` (n-gram
hashes), ``minhash`` (batched datasketch-compatible signatures), ``lsh`` (band keys), ``sketch``
(verification sketches), ``verify`` (the copy rule), ``index`` (the persistent index: ``index.base``
the contract every backend keeps, its types and the cluster-merge rule; ``index.sqlite`` one file;
``index.redis`` and ``index.lua`` a Redis server for crawl workers on several machines;
``open_index`` picks one), ``cluster`` (union-find), ``canonical`` (the original and member roles),
``config`` (``DEDUP_*`` settings), ``document`` (the engine's input, and ``document_from_item``,
the one mapping from an article item), ``engine`` (the flow), ``export`` (a Redis index copied to a
file). The Scrapy pipeline is ``pipelines.dedup.NearDuplicatePipeline``.
"""

from __future__ import annotations

from portal_archive.dedup.canonical import (
    CanonicalPolicy,
    ClusterDecision,
    Member,
    MemberVerdict,
    choose_canonical,
)
from portal_archive.dedup.cluster import UnionFind, connected_components
from portal_archive.dedup.config import DedupConfig, DedupSettingsError
from portal_archive.dedup.document import Document, document_from_item
from portal_archive.dedup.engine import DedupEngine, Match, Verdict
from portal_archive.dedup.index import (
    DedupIndex,
    DedupIndexError,
    DedupIndexMismatch,
    DedupIndexUnavailable,
    IndexParameters,
    NearDuplicateIndex,
    NewDocument,
    StorageReport,
    open_index,
)
from portal_archive.dedup.lsh import band_keys, candidate_probability
from portal_archive.dedup.minhash import MinHasher, estimate_jaccard
from portal_archive.dedup.normalize import (
    PreparedText,
    RemovedLine,
    normalize_text,
    normalized_codepoints,
    prepare_text,
    strip_attribution,
)
from portal_archive.dedup.shingles import shingle_hash, shingle_hashes, shingles
from portal_archive.dedup.sketch import make_sketch
from portal_archive.dedup.verify import CopyRule, Similarity

__all__ = [
    "CanonicalPolicy",
    "ClusterDecision",
    "CopyRule",
    "DedupConfig",
    "DedupEngine",
    "DedupIndex",
    "DedupIndexError",
    "DedupIndexMismatch",
    "DedupIndexUnavailable",
    "DedupSettingsError",
    "Document",
    "IndexParameters",
    "Match",
    "Member",
    "MemberVerdict",
    "MinHasher",
    "NearDuplicateIndex",
    "NewDocument",
    "PreparedText",
    "RemovedLine",
    "Similarity",
    "StorageReport",
    "UnionFind",
    "Verdict",
    "band_keys",
    "candidate_probability",
    "choose_canonical",
    "connected_components",
    "document_from_item",
    "estimate_jaccard",
    "make_sketch",
    "normalize_text",
    "normalized_codepoints",
    "open_index",
    "prepare_text",
    "shingle_hash",
    "shingle_hashes",
    "shingles",
    "strip_attribution",
]
