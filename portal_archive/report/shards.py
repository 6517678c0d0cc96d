"""Index a shard of a WARC collection into a shared near-duplicate index: one machine's part.

A collection too large for one machine (a month of a news crawl, years of scheduled crawls) is
split by file: each machine runs ``portal-archive dedup-index`` on its own files into one shared
index (a Redis server; ``DEDUP_*`` parameters, or a ``dedup.sqlite`` for one machine), and
``dedup-report --index`` reports the whole. The documents are read as ``dedup-report`` reads them
(our metadata records, else extraction; ``archive.sources.WarcSource``) and added in batches; the
Redis index adds a document and merges clusters in one script, so shards indexed at the same
time find each other's copies, and the report decides every cluster again on the stored sketches:
the verdicts do not depend on which machine indexed what.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import WarcSource
from portal_archive.dedup import DedupConfig, DedupEngine
from portal_archive.report.build import BATCH_SIZE, batches

__all__ = ["ShardSummary", "index_shard"]


@dataclass
class ShardSummary:
    """What one ``dedup-index`` run read and added."""

    files: int = 0
    pages: int = 0
    articles: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    """Per article: ``indexed``, ``revisit`` (its URL was indexed already), ``too_short``."""
    roles: Counter[str] = field(default_factory=Counter)
    """Per indexed article, the role it took when added (``unique``, ``copy``, ``excerpt``…)."""
    problems: list[str] = field(default_factory=list)
    """``path: what is wrong`` for each file that could not be read to its end."""


def index_shard(
    paths: Sequence[Path],
    config: DedupConfig,
    *,
    reader: PageReader | None = None,
    use_metadata: bool = True,
    progress: Callable[[int], None] | None = None,
    on_articles: Callable[[int], None] | None = None,
    jobs: int = 1,
) -> ShardSummary:
    """Add the article documents of ``paths`` to the index ``config`` names; what was added.

    Raises:
        DedupIndexError: The index cannot be opened, or was built with other parameters.
    """
    source = WarcSource(paths, reader or PageReader(), use_metadata=use_metadata, progress=progress, jobs=jobs)
    summary = ShardSummary(files=len(paths))
    with DedupEngine.open(config) as engine:
        for batch in batches(source.documents(), BATCH_SIZE):
            for verdict in engine.add_many([sourced.document for sourced in batch], commit=True):
                summary.articles += 1
                summary.statuses[verdict.status] += 1
                if verdict.status == "indexed":
                    summary.roles[verdict.role or "unique"] += 1
            if on_articles is not None:
                on_articles(len(batch))
    summary.pages = sum(item.pages for item in source.inputs)
    summary.problems = [f"{item.path}: {item.problem}" for item in source.inputs if item.problem]
    return summary
