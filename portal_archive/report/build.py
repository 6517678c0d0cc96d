"""Build the near-duplicate report: from WARC files through a fresh index, or from a crawl's index.

From WARC files, every article document goes into a new index in a temporary folder (the
``DEDUP_*`` settings, with ``--threshold`` and ``--min-chars`` on top), in batches (the engine's fast
path), and the report takes the engine's final decisions: an original that arrived after its
copies is the original here, unlike in the crawl-time verdicts. Beside that index a small table
keeps, per document, its capture time and where its text can be read again (for the HTML view).

From an index (a ``dedup.sqlite`` file, or a Redis index given by its URL), opened read-only, the
decisions are taken again on the stored sketches (``build_from_index`` says why).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from portal_archive import __version__
from portal_archive.archive.cdxj import default_index_path, lookup
from portal_archive.archive.folder import ArchiveFolderError, inside
from portal_archive.archive.metadata import metadata_uri
from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import Capture, SourcedDocument, TextLocation, WarcSource
from portal_archive.dedup import ClusterDecision, DedupConfig, DedupEngine, DedupIndexError, DedupIndexMismatch
from portal_archive.dedup.canonical import domain_of, normalize_url
from portal_archive.dedup.config import is_index_url
from portal_archive.dedup.index import NearDuplicateIndex, StoredDocument, open_index
from portal_archive.report.citations import CaptureLookup, CitationReader, against_original
from portal_archive.report.model import (
    ROLE_ORDER,
    ClusterReport,
    InputReport,
    MemberReport,
    Report,
    SiteReport,
    Totals,
    WarcLocation,
)
from portal_archive.report.texts import TextLoader
from portal_archive.timestamps import from_timestamp14, parse_iso, timestamp14_of, to_iso, utc_now

__all__ = ["ReportInputError", "ReportOptions", "build_from_index", "build_from_warcs", "replay_link"]

BATCH_SIZE: Final = 128
"""Documents signed together: the engine's batched signatures are 2-3x faster than one at a time."""


class ReportInputError(Exception):
    """The report cannot be made from this input (no index there, a broken index)."""


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """What to read and what to show."""

    use_metadata: bool = True
    """Take our article metadata records where present; False re-extracts every page."""
    site: str | None = None
    """Keep clusters with a member on this site key or domain."""
    since: datetime | None = None
    """Keep clusters with a member published or fetched at or after this instant."""
    replay_url: str | None = None
    """Prefix of replay links: ``{replay_url}{14-digit timestamp}/{url}``."""
    texts: int = 0
    """Load body texts of the members of this many clusters (the HTML side-by-side view)."""


@dataclass(frozen=True, slots=True)
class _Facts:
    fetched_at: str | None
    text: TextLocation | None
    crawl_role: str | None
    cited: tuple[dict[str, object], ...] = ()
    """How the crawl settled each source the article cites (its metadata record)."""


_CAPTURES_FLUSH: Final = 10_000


class _Ledger:
    """Per indexed document: capture time, where its text is, the crawl-time role, how its sources
    were settled; and every capture the input files hold, for looking cited sources up (SQLite, not RAM)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE facts (doc INTEGER PRIMARY KEY, fetched_at TEXT, text_path TEXT, text_offset INTEGER, "
            "text_kind TEXT, crawl_role TEXT, cited TEXT)"
        )
        self._db.execute("CREATE TABLE captures (key TEXT, url TEXT, date TEXT, status INTEGER, record_id TEXT)")
        self._captures: list[tuple[str, str, str, int | None, str]] = []
        self._captures_indexed = False

    def add(self, rows: Sequence[tuple[int, SourcedDocument]]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO facts VALUES (?, ?, ?, ?, ?, ?, ?)", [_row(*row) for row in rows])

    def get(self, doc_id: int) -> _Facts | None:
        row = self._db.execute(
            "SELECT fetched_at, text_path, text_offset, text_kind, crawl_role, cited FROM facts WHERE doc = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        text = TextLocation(row[1], int(row[2]), row[3]) if row[1] is not None else None
        cited = tuple(json.loads(row[5])) if row[5] else ()
        return _Facts(row[0], text, row[4], cited)

    def note_capture(self, capture: Capture) -> None:
        """Remember a capture of the input (written in batches)."""
        self._captures.append(
            (normalize_url(capture.url), capture.url, capture.date, capture.status, capture.record_id)
        )
        if len(self._captures) >= _CAPTURES_FLUSH:
            self._flush_captures()

    def _flush_captures(self) -> None:
        self._db.executemany("INSERT INTO captures VALUES (?, ?, ?, ?, ?)", self._captures)
        self._captures.clear()

    def capture(self, url: str, record_id: str = "") -> Capture | None:
        """The input's capture of ``url``: the one with ``record_id``, else the earliest with a 2xx
        status, else the earliest."""
        if not self._captures_indexed:
            self._flush_captures()
            self._db.execute("CREATE INDEX captures_by_key ON captures (key)")
            self._captures_indexed = True
        row = self._db.execute(
            "SELECT url, date, status, record_id FROM captures WHERE key = ? "
            "ORDER BY record_id = ? DESC, coalesce(status BETWEEN 200 AND 299, 0) DESC, date LIMIT 1",
            (normalize_url(url), record_id),
        ).fetchone()
        return Capture(row[0], row[1], row[2], row[3]) if row is not None else None

    def close(self) -> None:
        self._db.close()


def _row(doc_id: int, sourced: SourcedDocument) -> tuple[object, ...]:
    text = sourced.text
    cited = json.dumps(sourced.cited, ensure_ascii=False) if sourced.cited else None
    if text is None:
        return (doc_id, sourced.fetched_at, None, None, None, sourced.crawl_role, cited)
    return (doc_id, sourced.fetched_at, text.path, text.offset, text.kind, sourced.crawl_role, cited)


def _site_of(meta: dict[str, Any] | None, url: str) -> tuple[str, str]:
    """``(site, domain)``: the portal key (or host) and the domain it publishes on (or the host)."""
    meta = meta or {}
    host = domain_of(url)
    site = str(meta.get("site") or "") or host
    domain = domain_of(str(meta.get("site_domain") or "")) or host
    return site, domain


def _parameters(config: DedupConfig, **extra: Any) -> dict[str, Any]:
    return {
        "threshold": config.threshold,
        "containment": config.containment,
        "containment_min_chars": config.containment_min_chars,
        "short_threshold": config.short_threshold,
        "min_chars": config.min_chars,
        "shingle_size": config.shingle_size,
        "num_perm": config.num_perm,
        "bands": config.bands,
        "rows": config.rows,
        "verify": config.verify,
        **extra,
    }


def _filters(options: ReportOptions) -> dict[str, Any]:
    return {
        "site": options.site,
        "since": to_iso(options.since) if options.since is not None else None,
    }


def replay_link(replay_url: str | None, fetched_at: str | None, url: str) -> str | None:
    """``{replay_url}{14-digit timestamp}/{url}``, None without a replay URL or a capture time."""
    stamp = timestamp14_of(fetched_at)
    if not replay_url or not stamp:
        return None
    return f"{replay_url}{stamp}/{url}"


def _clip(value: float | None) -> float | None:
    """A similarity estimate within [0, 1]: the sketch's estimate of a containment near 1 can exceed it."""
    return None if value is None else min(max(value, 0.0), 1.0)


def _member_sort_key(member: MemberReport) -> tuple[int, str, str]:
    return (ROLE_ORDER.get(member.role, 9), member.published_at or "9999", member.url)


def _keep(cluster: ClusterReport, options: ReportOptions) -> bool:
    if options.site and not any(member.on_site(options.site) for member in cluster.members):
        return False
    if options.since is not None:
        since = options.since
        moments = [parse_iso(when) for m in cluster.members for when in (m.published_at, m.fetched_at)]
        if not any(moment is not None and moment >= since for moment in moments):
            return False
    return True


class _Assembler:
    """Turns engine decisions into report clusters, counts and per-site figures."""

    def __init__(
        self,
        engine: DedupEngine,
        options: ReportOptions,
        facts: Callable[[StoredDocument], _Facts | None],
        captures: CaptureLookup | None,
    ) -> None:
        self.engine = engine
        self.options = options
        self.facts = facts
        replay = options.replay_url
        self.citations = CitationReader(captures, lambda captured_at, url: replay_link(replay, captured_at, url))

    def cluster(self, cluster_id: int, decision: ClusterDecision) -> ClusterReport:
        members = []
        for verdict in decision.members:
            stored = self.engine.index.document(verdict.id)
            meta = stored.meta
            facts = self.facts(stored)
            site, domain = _site_of(meta, stored.url)
            fetched_at = facts.fetched_at if facts is not None else None
            offset = meta.get("warc_offset")
            filename = str(meta.get("warc_filename") or "")
            published = meta.get("published_at")
            members.append(
                MemberReport(
                    id=verdict.id,
                    url=verdict.url,
                    role=verdict.role,
                    site=site,
                    domain=domain,
                    title=str(meta.get("title") or ""),
                    published_at=published if isinstance(published, str) else None,
                    fetched_at=fetched_at,
                    jaccard=_clip(verdict.jaccard),
                    containment=_clip(verdict.containment),
                    chars=stored.chars,
                    evidence=verdict.evidence,
                    warc=WarcLocation(
                        filename=filename,
                        offset=offset if isinstance(offset, int) else None,
                        record_id=stored.record_id,
                    )
                    if filename
                    else None,
                    replay_url=replay_link(self.options.replay_url, fetched_at, verdict.url),
                    crawl_role=facts.crawl_role if facts is not None else None,
                    cited=self.citations.sources(_references(meta), facts.cited if facts is not None else ()),
                )
            )
        members.sort(key=_member_sort_key)
        return ClusterReport(
            id=cluster_id,
            decided_by=decision.decided_by,
            evidence=decision.evidence,
            flags=decision.flags,
            members=_compare_citations(members),
        )

    def clusters(self) -> list[ClusterReport]:
        found = [self.cluster(cluster_id, decision) for cluster_id, decision in self.engine.decisions()]
        found.sort(key=lambda c: (-c.size, c.canonical.published_at or "9999", c.id))
        return found


def _references(meta: dict[str, Any]) -> list[str]:
    values = meta.get("references")
    return [url for url in values if isinstance(url, str)] if isinstance(values, list) else []


def _compare_citations(members: list[MemberReport]) -> tuple[MemberReport, ...]:
    """Copies and excerpts with their sources marked against the original's (the first member)."""
    original = members[0]
    pages = {normalize_url(member.url) for member in members}
    compared = [
        dataclasses.replace(member, cited=against_original(original.cited, member.cited, pages))
        if member.role in ("copy", "excerpt")
        else member
        for member in members[1:]
    ]
    return (original, *compared)


def _sites(counts: Counter[tuple[str, str]], clusters: Iterable[ClusterReport]) -> list[SiteReport]:
    roles: dict[tuple[str, str], Counter[str]] = {}
    for cluster in clusters:
        for member in cluster.members:
            roles.setdefault((member.site, member.domain), Counter())[member.role] += 1
    reports = []
    for (site, domain), articles in counts.items():
        by_role = roles.get((site, domain), Counter())
        reports.append(
            SiteReport(
                site=site,
                domain=domain,
                articles=articles,
                originals=by_role["original"],
                copies=by_role["copy"] + by_role["excerpt"],
                related=by_role["related"],
            )
        )
    reports.sort(key=lambda s: (-s.articles, s.site))
    return reports


def _finish(
    *,
    source: str,
    parameters: dict[str, Any],
    options: ReportOptions,
    totals: Totals,
    counts: Counter[tuple[str, str]],
    clusters: list[ClusterReport],
    inputs: list[InputReport],
    texts: TextLoader | None,
) -> Report:
    roles = Counter(member.role for cluster in clusters for member in cluster.members)
    shown = [cluster for cluster in clusters if _keep(cluster, options)]
    if texts is not None and options.texts:
        shown[: options.texts] = [texts.with_texts(cluster) for cluster in shown[: options.texts]]
    return Report(
        generated_at=to_iso(utc_now()),
        producer=f"portal-archive/{__version__}",
        source=source,
        parameters=parameters,
        filters=_filters(options),
        totals=dataclasses.replace(
            totals,
            clusters=len(clusters),
            copies=roles["copy"],
            excerpts=roles["excerpt"],
            related=roles["related"],
            clusters_shown=len(shown),
        ),
        sites=_sites(counts, clusters),
        clusters=shown,
        inputs=inputs,
    )


def batches(documents: Iterator[SourcedDocument], size: int) -> Iterator[list[SourcedDocument]]:
    """Documents in lists of ``size`` (the engine signs a batch 2-3x faster than one at a time)."""
    batch: list[SourcedDocument] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_from_warcs(
    paths: Sequence[Path],
    config: DedupConfig,
    options: ReportOptions,
    *,
    reader: PageReader | None = None,
    progress: Callable[[int], None] | None = None,
    on_articles: Callable[[int], None] | None = None,
    jobs: int = 1,
) -> Report:
    """The report of a set of WARC files, through a fresh index in a temporary folder.

    Unreadable files are reported in ``Report.inputs`` (``problem``); the rest is still read.
    ``jobs`` processes extract pages (``WarcSource``); documents reach the index in the same order
    whatever their number, so the clusters are the same. ``on_articles`` is told how many articles
    each batch added.
    """
    reader = reader or PageReader()
    counts: Counter[tuple[str, str]] = Counter()
    articles = too_short = revisits = indexed = 0
    with tempfile.TemporaryDirectory(prefix="portal-archive-report-") as scratch:
        engine = DedupEngine.open(dataclasses.replace(config, index_path=Path(scratch) / "dedup.sqlite"))
        ledger = _Ledger(Path(scratch) / "facts.sqlite")
        source = WarcSource(
            paths, reader, use_metadata=options.use_metadata, progress=progress, on_capture=ledger.note_capture,
            jobs=jobs,
        )  # fmt: skip
        try:
            for batch in batches(source.documents(), BATCH_SIZE):
                verdicts = engine.add_many([sourced.document for sourced in batch], commit=True)
                rows = []
                for sourced, verdict in zip(batch, verdicts, strict=True):
                    articles += 1
                    if verdict.status == "too_short":
                        too_short += 1
                    elif verdict.status == "revisit":
                        revisits += 1
                    elif verdict.doc_id is not None:
                        indexed += 1
                        rows.append((verdict.doc_id, sourced))
                        document = sourced.document
                        meta = {"site": document.site, "site_domain": document.site_domain}
                        counts[_site_of(meta, document.url)] += 1
                ledger.add(rows)
                if on_articles is not None:
                    on_articles(len(batch))
            clusters = _Assembler(engine, options, lambda stored: ledger.get(stored.id), ledger.capture).clusters()
            texts = TextLoader(reader, lambda member: _ledger_text(ledger, member)) if options.texts else None
            pages = sum(item.pages for item in source.inputs)
            return _finish(
                source="warc",
                parameters=_parameters(config, metadata_records=options.use_metadata),
                options=options,
                totals=Totals(
                    pages_read=pages,
                    articles=articles,
                    indexed=indexed,
                    too_short=too_short,
                    revisits=revisits,
                    unextractable=source.unextractable,
                    set_aside=dict(sum((item.set_aside for item in source.inputs), Counter())),
                ),
                counts=counts,
                clusters=clusters,
                inputs=[
                    InputReport(
                        path=item.path,
                        kind="warc",
                        records=item.records,
                        pages=item.pages,
                        articles=item.articles,
                        metadata_records=item.metadata_records,
                        reextracted=item.reextracted,
                        problem=item.problem,
                    )
                    for item in source.inputs
                ],
                texts=texts,
            )
        finally:
            ledger.close()
            engine.close()


def _ledger_text(ledger: _Ledger, member: MemberReport) -> TextLocation | None:
    facts = ledger.get(member.id)
    return facts.text if facts is not None else None


def build_from_index(
    path: Path | str,
    config: DedupConfig,
    options: ReportOptions,
    *,
    warc_dir: Path | None = None,
    reader: PageReader | None = None,
) -> Report:
    """The report of a crawl's persistent index, the originals chosen again, nothing written to it.

    The crawl stored each cluster's original, but the report decides every cluster again from its
    members, because the stored row is not always the current answer, and holds less than a report
    shows:

    - Above ``4 * max_cluster_size`` members the crawl re-chooses the original only when the size
      reaches a power of two, so a stored row may name the original chosen among fewer members
      (under the default cap of 20, an original arriving as the 81st member is not stored as the
      original before the cluster reaches 128).
    - Crawl workers sharing a Redis index decide concurrently: a worker may store the decision it
      took on the members it saw after another stored one on more of them.
    - ``rebuild_clusters`` drops every stored row, and the report's own ``DEDUP_*`` policy
      (source, publisher and aggregator domains, time tolerance) may differ from the crawl's.
    - A row keeps the original, its deciding evidence and the flags; the report also shows the whole
      evidence and every member's role and similarity to the original, which the decision gives.

    Where none of these applies (every cluster decided in full under the same policy) the two agree:
    tests/report/test_index.py and tests/report/test_demo.py compare them, and pin the first case.

    Args:
        path: The index: a ``dedup.sqlite`` file, or the URL of a Redis index (``redis://…``; its
            key prefix is ``config.redis_prefix``).
        config: ``DEDUP_*`` settings: the canonical policy (domains, tolerance) and cluster limits;
            the copy rule and the sketches come from the index itself.
        warc_dir: The folder the index's WARC file names are relative to (default: the index's
            folder, or the current folder for a Redis index), for capture times, replay links and
            texts.

    Raises:
        ReportInputError: No index at ``path``, not a near-duplicate index, or a Redis server that
            cannot be reached.
    """
    hint = " Or report from the WARC files: --from warc."
    remote = isinstance(path, str) and is_index_url(path)
    where = config.at_index(path)
    index: NearDuplicateIndex
    try:
        index = open_index(where, None, read_only=True)
    except DedupIndexMismatch as exc:
        raise ReportInputError(f"{exc}{hint}") from exc
    except DedupIndexError as exc:
        raise ReportInputError(str(exc)) from exc
    try:
        engine = DedupEngine(index, max_cluster_size=config.max_cluster_size, max_candidates=config.max_candidates)
    except DedupIndexError as exc:
        index.close()
        raise ReportInputError(f"{exc}{hint}") from exc
    engine.policy = dataclasses.replace(config.canonical_policy(), rule=engine.rule)
    folder = warc_dir if warc_dir is not None else Path() if remote else Path(path).parent
    reader = reader or PageReader()
    captures = _CaptureIndex(folder)
    try:
        counts: Counter[tuple[str, str]] = Counter()
        for stored in index.documents():
            counts[_site_of(stored.meta, stored.url)] += 1
        clusters = _Assembler(engine, options, captures.facts, captures.capture if captures.cdxj else None).clusters()
        texts = TextLoader(reader, captures.text_of) if options.texts else None
        rule = engine.rule
        stored_config = dataclasses.replace(
            config,
            threshold=rule.threshold,
            containment=rule.containment,
            containment_min_chars=rule.containment_min_chars,
            short_threshold=rule.short_threshold,
            min_chars=rule.min_chars,
            shingle_size=index.parameters.shingle_size,
            num_perm=index.parameters.num_perm,
            bands=index.parameters.bands,
            rows=index.parameters.rows,
            verify=index.parameters.verify,
        )
        total = sum(counts.values())
        return _finish(
            source="index",
            parameters=_parameters(stored_config, metadata_records=None),
            options=options,
            totals=Totals(pages_read=None, articles=total, indexed=total),
            counts=counts,
            clusters=clusters,
            inputs=[InputReport(path=index.path if remote else str(path), kind="index", articles=total)],
            texts=texts,
        )
    finally:
        engine.close()


class _CaptureIndex:
    """Capture times and text locations of an index's documents, from the folder's CDXJ index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        cdxj = default_index_path(folder)
        self.cdxj = cdxj if cdxj.is_file() else None

    def facts(self, stored: StoredDocument) -> _Facts:
        filename = str(stored.meta.get("warc_filename") or "")
        offset = stored.meta.get("warc_offset")
        return _Facts(self._fetched_at(stored.url, filename, offset), None, None)

    def _fetched_at(self, url: str, filename: str, offset: object) -> str | None:
        if self.cdxj is None:
            return None
        entries = [e for e in lookup(self.cdxj, url) if e.url == url]
        exact = [e for e in entries if e.filename == filename and e.offset == offset]
        if not exact and not entries:
            return None
        return _iso_of_cdxj((exact or entries)[0].timestamp)

    def capture(self, url: str, record_id: str = "") -> Capture | None:
        """The folder's capture of ``url`` (CDXJ, which keeps no record ids): the earliest with a 2xx
        status, else the earliest."""
        if self.cdxj is None:
            return None
        entries = [entry for entry in lookup(self.cdxj, url) if entry.is_capture]
        if not entries:
            return None
        chosen = next((entry for entry in entries if entry.status.startswith("2")), entries[0])
        status = int(chosen.status) if chosen.status.isdigit() else None
        return Capture(chosen.url, _iso_of_cdxj(chosen.timestamp), status, "")

    def text_of(self, member: MemberReport) -> TextLocation | None:
        """The crawl's metadata record of the page when the CDXJ index lists it, else its response."""
        if self.cdxj is not None:
            wanted = metadata_uri(member.url)
            for entry in reversed(lookup(self.cdxj, wanted)):
                if entry.url == wanted:
                    try:
                        return TextLocation(str(inside(self.folder, entry.filename)), entry.offset, "metadata")
                    except ArchiveFolderError:
                        return None
        if member.warc is not None and member.warc.offset is not None:
            try:
                path = inside(self.folder, member.warc.filename)
            except ArchiveFolderError:
                return None
            return TextLocation(str(path), member.warc.offset, "page")
        return None


def _iso_of_cdxj(stamp: str) -> str:
    """A CDXJ entry's 14-digit timestamp as the report gives times (ISO 8601, UTC)."""
    return to_iso(from_timestamp14(stamp))
