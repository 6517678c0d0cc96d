"""Offline demo portal: an aggregator, an original publisher and a WeChat-like site on local ports.

The three sites are generated from the bundled corpus and a seed, so crawls,
archives and duplicate detection can be tested against a known ground truth (the
manifest) without touching the network.
"""

from __future__ import annotations

from .articles import Article
from .corpus_loader import CorpusError, load_corpus
from .identifiers import cuid_timestamp
from .manifest import Manifest, ManifestEntry
from .nextday import preview_manifest
from .nuxt_encoder import decode_nuxt_data, find_nuxt_article
from .portal import DemoPortal, RequestRecord
from .reldate import relative_date_text

__all__ = [
    "Article",
    "CorpusError",
    "DemoPortal",
    "Manifest",
    "ManifestEntry",
    "RequestRecord",
    "cuid_timestamp",
    "decode_nuxt_data",
    "find_nuxt_article",
    "load_corpus",
    "preview_manifest",
    "relative_date_text",
]
