"""The near-duplicate engine: text in, verdict out, index updated.

For each document: strip attribution lines and normalise (``normalize``), hash character n-grams
(``shingles``), sign (``minhash``), look up candidates sharing a band (``lsh`` + ``index``), verify
every candidate on the stored sketch against the copy rule (``sketch`` + ``verify``), store the
document, join the cluster of its copies (``index``) and choose the cluster's original
(``canonical``). Documents are streamed: only the current batch is in memory, the rest is in the index
(a SQLite file, or a Redis server shared by crawl workers).

Results are approximate in two ways: LSH may miss a pair (with the default 32 x 3 bands, a pair at
J = 0.4 is found with probability 0.88, at J = 0.5 with 0.986), and the default verification sketch
estimates Jaccard with a root-mean-square error of about 0.015, so pairs within that of a threshold
may be judged either way. ``DEDUP_VERIFY = "exact"`` removes the second, at about 10 KB per document
instead of 0.9 KB.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Final, Literal, Self

import numpy as np
import numpy.typing as npt

from portal_archive import settings as project
from portal_archive.dedup.canonical import (
    CanonicalPolicy,
    ClusterDecision,
    Member,
    MemberVerdict,
    choose_canonical,
    judge_member,
    normalize_url,
)
from portal_archive.dedup.config import DedupConfig
from portal_archive.dedup.deferred import kernels
from portal_archive.dedup.document import Document
from portal_archive.dedup.index import (
    DedupIndexMismatch,
    IndexParameters,
    NearDuplicateIndex,
    NewDocument,
    StoredDocument,
    open_index,
)
from portal_archive.dedup.lsh import band_keys
from portal_archive.dedup.minhash import MinHasher
from portal_archive.dedup.normalize import PreparedText, RemovedLine, prepare_text
from portal_archive.dedup.shingles import shingle_hashes
from portal_archive.dedup.sketch import make_sketch
from portal_archive.dedup.verify import CopyRule, Relation, Similarity

__all__ = ["COPY_MARKER_KINDS", "DedupEngine", "Match", "Verdict", "VerdictRole", "VerdictStatus"]

COPY_MARKER_KINDS: Final = ("source", "reprint", "original_title", "read_original")
STORED_REFERENCES: Final = 32
"""Cited URLs the index keeps per document (for the report's citation comparison): a page that
lists more is a link list, not a story's sources, and must not grow the index."""
"""Removed lines that a republisher adds (bylines and related-story blocks also occur on originals)."""

VerdictStatus = Literal["indexed", "revisit", "too_short"]
VerdictRole = Literal["unique", "original", "copy", "excerpt", "related"]


@dataclass(frozen=True, kw_only=True)
class Match:
    """An indexed document the new one was verified against and found to be a copy of."""

    id: int
    url: str
    relation: Relation
    jaccard: float
    containment: float


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """What the engine concluded about one document."""

    url: str
    status: VerdictStatus
    """``indexed``, ``revisit`` (its URL was already indexed: nothing stored) or ``too_short``."""
    chars: int
    """Normalised length after attribution lines were stripped."""
    doc_id: int | None = None
    """Id in the index (None when too short)."""
    cluster_id: int | None = None
    """The cluster (its smallest member id), None while the document has no copy."""
    role: VerdictRole | None = None
    """``unique`` (no copy indexed), ``original`` (the cluster's canonical), ``copy``, ``excerpt``
    (the shorter text mostly inside the original) or ``related`` (in the cluster only through another
    member); None when too short."""
    canonical_id: int | None = None
    canonical_url: str | None = None
    """URL of the cluster's original (the document's own URL when unique or the original)."""
    jaccard: float | None = None
    """Estimated Jaccard similarity to the canonical (None for the canonical itself)."""
    containment: float | None = None
    """Estimated share of the smaller text's shingles found in the other (None for the canonical)."""
    matches: tuple[Match, ...] = ()
    """Indexed documents this one was verified to copy (or be copied by), when it was added."""
    evidence: tuple[str, ...] = ()
    """Why the original was chosen (for the original), or how this member relates to it."""
    flags: tuple[str, ...] = ()
    """``oversized`` when the cluster has more members than ``max_cluster_size``."""
    new_cluster: bool = False
    merged_clusters: tuple[int, ...] = ()
    removed: tuple[RemovedLine, ...] = ()
    """Attribution and boilerplate lines stripped before shingling."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, as stored in ``item.extra["dedup"]``."""
        return {
            "status": self.status,
            "doc_id": self.doc_id,
            "cluster_id": self.cluster_id,
            "role": self.role,
            "canonical_url": self.canonical_url,
            "similarity": self.jaccard,
            "containment": self.containment,
            "matches": [
                {"url": m.url, "relation": m.relation, "jaccard": m.jaccard, "containment": m.containment}
                for m in self.matches
            ],
            "evidence": list(self.evidence),
            "flags": list(self.flags),
            "normalized_chars": self.chars,
            "stripped": [{"kind": line.kind, "text": line.text, "value": line.value} for line in self.removed],
        }


@dataclass(frozen=True, slots=True)
class _Prepared:
    document: Document
    text: PreparedText
    hashes: npt.NDArray[np.uint32]
    sketch: npt.NDArray[np.uint32] | npt.NDArray[np.uint8]
    """The verification sketch, computed while the hashes are still in cache."""


@dataclass(frozen=True, slots=True)
class _Stored:
    """A document stored in the index, its candidates still to verify."""

    item: _Prepared
    doc_id: int | None
    """None when its URL was indexed already (a revisit: nothing stored)."""
    candidates: Sequence[int]
    sketch: bytes
    """Its stored verification sketch."""
    position: int
    """Its place in the batch's verdicts."""


class DedupEngine:
    """Finds syndicated copies among streamed documents, in a persistent index.

    Args:
        index: The open index; its parameters fix shingle size, permutations, banding and sketch.
        rule: The copy rule; None takes the index's thresholds, which a given rule must equal.
        policy: How the original of a cluster is chosen.
        max_cluster_size: Clusters above this are flagged ``oversized``; above four times this the
            original is re-chosen only when the size reaches a power of two, so an artefact cluster
            of thousands of members does not make every insert quadratic.
        max_candidates: Candidates verified per document at most, those sharing the most bands
            first (only texts repeated that many times reach it).
        commit_every: Documents per transaction.
        commit_interval: Seconds after which a transaction is committed at the next document, even
            with fewer than ``commit_every`` (0: no limit); ``commit`` ends one at any time.

    Raises:
        DedupIndexMismatch: The index was built by another version of the text preparation, shingle
            hash, permutation scheme or datasketch major version than this code computes, or with
            other thresholds than ``rule``'s.

    Example:
        >>> with DedupEngine.open(DedupConfig(index_path=Path("archive/dedup.sqlite"))) as engine:
        ...     verdict = engine.add(Document(url="https://bendi.news/wxnews/c1", text=body))
        ...     verdict.role, verdict.canonical_url
    """

    def __init__(
        self,
        index: NearDuplicateIndex,
        *,
        rule: CopyRule | None = None,
        policy: CanonicalPolicy | None = None,
        max_cluster_size: int = project.DEDUP_MAX_CLUSTER_SIZE,
        max_candidates: int = project.DEDUP_MAX_CANDIDATES,
        commit_every: int = project.DEDUP_COMMIT_EVERY,
        commit_interval: float = project.DEDUP_COMMIT_INTERVAL,
    ) -> None:
        parameters = index.parameters
        supported = IndexParameters()
        remedy = index.mismatch_remedy
        for name in ("scheme", "shingle_hash", "normalization", "datasketch_major"):
            if getattr(parameters, name) != getattr(supported, name):
                raise DedupIndexMismatch(
                    index.path, name, str(getattr(parameters, name)), str(getattr(supported, name)), remedy=remedy
                )
        self.index = index
        stored_rule = CopyRule(
            threshold=parameters.threshold,
            containment=parameters.containment,
            containment_min_chars=parameters.containment_min_chars,
            short_threshold=parameters.short_threshold,
            min_chars=parameters.min_chars,
        )
        for name in ("threshold", "containment", "containment_min_chars", "short_threshold", "min_chars"):
            if rule is not None and getattr(rule, name) != getattr(stored_rule, name):
                raise DedupIndexMismatch(
                    index.path, name, str(getattr(stored_rule, name)), str(getattr(rule, name)), remedy=remedy
                )
        self.rule = rule or stored_rule
        self.policy = policy or CanonicalPolicy(rule=self.rule)
        self.max_cluster_size = max_cluster_size
        self.max_candidates = max_candidates
        self.commit_every = commit_every
        self.commit_interval = commit_interval
        self._first_uncommitted = 0.0
        self.hasher = MinHasher(parameters.num_perm, parameters.seed)
        self.sketch = make_sketch(parameters.verify, bins=parameters.sketch_bins, bits=parameters.sketch_bits)
        self._uncommitted = 0

    @classmethod
    def open(cls, config: DedupConfig) -> Self:
        """Open (or create) the index ``config`` names and build an engine on it: the SQLite file
        at ``config.index_path``, or the Redis index at ``config.index_url``.

        Raises:
            DedupIndexMismatch: The index was built with other parameters.
            DedupIndexError: The index cannot be opened (a Redis server that cannot be reached
                raises ``DedupIndexUnavailable``, the cause chained).
        """
        index = open_index(config, config.index_parameters())
        return cls(
            index,
            rule=config.rule(),
            policy=config.canonical_policy(),
            max_cluster_size=config.max_cluster_size,
            max_candidates=config.max_candidates,
            commit_every=config.commit_every,
            commit_interval=config.commit_interval,
        )

    def warm_up(self) -> None:
        """Do now what the first document would otherwise wait for: load the compiled loops and
        (SQLite) read the band keys and sketches of every indexed document into memory (a few
        seconds at a million documents). A crawl calls it as it opens, before its event loop has pages to serve."""
        kernels.warm_up()
        self.index.warm_up()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit and close the index."""
        self.index.close()

    def add(self, document: Document) -> Verdict:
        """Index one document and return the verdict about it (see ``add_many``).

        Raises:
            sqlite3.Error: The index file cannot be written.
        """
        return self.add_many([document])[0]

    def add_many(self, documents: Sequence[Document], *, commit: bool = False) -> list[Verdict]:
        """Index documents in order; each is compared with every document indexed before it.

        Signatures of the batch are computed together (the fast path); each document is then stored
        and its candidates looked up in order, so copies within the batch are found too. With
        ``commit`` on a transactional index (SQLite), the candidates of the whole batch are then
        verified in one pass; otherwise each document's right after it is stored. Clusters and
        verdicts follow document by document, in order, either way.

        Args:
            documents: The batch.
            commit: Commit once, when the whole batch is indexed (bulk indexing: what the call
                returns is durable, and one commit writes each touched page once); otherwise
                transactions follow ``commit_every`` and ``commit_interval``.

        Returns:
            One verdict per document, in order. A verdict reflects the index when its document
            was added: an original that arrives after its copies becomes the canonical from then
            on, and ``decide`` gives the current state of a cluster.
        """
        prepared = [self._prepare(document) for document in documents]
        signable = [p for p in prepared if self.rule.indexable(p.text.length)]
        # Without stored signatures only the banded values are ever read (96 of 128 by default).
        signatures = self.hasher.signatures([p.hashes for p in signable], self.index.parameters.signature_width)
        keys = band_keys(signatures, self.index.parameters.bands, self.index.parameters.rows)
        row = {id(p): position for position, p in enumerate(signable)}
        # One transaction holds the batch: a crash loses all of it or none, so a document stored and
        # not yet clustered is never committed, and the batch's candidates can wait to be verified
        # together (at a million documents most texts have a few, which share a band by chance).
        together = commit and self.index.transactional
        verdicts: dict[int, Verdict] = {}
        waiting: list[_Stored] = []
        for place, item in enumerate(prepared):
            position = row.get(id(item))
            if position is None:
                verdicts[place] = Verdict(
                    url=item.document.url, status="too_short", chars=item.text.length, removed=item.text.removed
                )
                continue
            waiting.append(self._store(item, signatures[position], keys[position], place))
            if not together:
                self._conclude(waiting, verdicts, deferred=commit)
        self._conclude(waiting, verdicts, deferred=commit)
        if commit:
            self.commit()
        return [verdicts[place] for place in range(len(prepared))]

    def _prepare(self, document: Document) -> _Prepared:
        text = prepare_text(document.text)
        if not self.rule.indexable(text.length):
            empty = np.zeros(0, dtype=np.uint32)
            return _Prepared(document, text, empty, empty)
        hashes = shingle_hashes(text.codepoints, self.index.parameters.shingle_size)
        return _Prepared(document, text, hashes, self.sketch.load(hashes))

    def _store(
        self, item: _Prepared, signature: npt.NDArray[np.uint32], keys: npt.NDArray[np.int32], position: int
    ) -> _Stored:
        """Store one document and look up its candidates, in one step of the index: SQLite looks
        up, then inserts, in one write transaction; Redis stores and looks up in one script. Either
        way no other crawl writes in between, so of two copies added at the same time, the second
        finds the first."""
        document, text = item.document, item.text
        sketch = self.sketch.encode(item.sketch)
        added = self.index.add(
            NewDocument(
                url=document.url,
                record_id=document.record_id,
                chars=text.length,
                shingles=int(item.hashes.size),
                signature=signature,
                band_keys=keys,
                sketch=sketch,
                meta=_metadata(document, text),
            ),
            limit=self.max_candidates,
        )
        return _Stored(item, added.doc_id, added.candidates, sketch, position)

    def _conclude(self, waiting: list[_Stored], verdicts: dict[int, Verdict], *, deferred: bool) -> None:
        """Verify the stored documents' candidates, then join each to the clusters of its copies and
        put its verdict in its place, in order; ``waiting`` is emptied."""
        found = self._verify(waiting)
        for stored, matches in zip(waiting, found, strict=True):
            verdicts[stored.position] = self._verdict(stored, matches, deferred=deferred)
        waiting.clear()

    def _verdict(self, stored: _Stored, matches: list[Match], *, deferred: bool) -> Verdict:
        document, text, doc_id = stored.item.document, stored.item.text, stored.doc_id
        if doc_id is None:
            existing = self.index.find_url(document.url)
            if existing is None:  # pragma: no cover - the conflict says it exists
                raise RuntimeError(f"{document.url} is neither new nor indexed")
            return self._revisit(existing, text)
        self._written(deferred=deferred)
        if not matches:
            return _unique(document.url, "indexed", text.length, doc_id, text)
        for match in matches:
            self.index.add_pair(doc_id, match.id, match.relation, match.jaccard, match.containment)
        joined = self.index.join(doc_id, [m.id for m in matches])
        cluster_id, outcome = self._decide_current(joined.cluster_id, doc_id)
        return outcome.verdict(
            document.url,
            text,
            doc_id,
            cluster_id,
            matches=tuple(matches),
            new_cluster=joined.created,
            merged=joined.merged,
        )

    def _verify(self, waiting: Sequence[_Stored]) -> list[list[Match]]:
        """For each stored document, the candidates the copy rule accepts. Most candidates are texts
        that share a band by chance (a sentence, a boilerplate paragraph): every pair of the batch is
        estimated and dropped on arrays, and only the few that may match are judged one by one."""
        matches: list[list[Match]] = [[] for _ in waiting]
        counts = [len(stored.candidates) for stored in waiting]  # none for a revisit (``Added``)
        total = sum(counts)
        if not total:
            return matches
        owners = np.repeat(np.arange(len(waiting)), counts)
        wanted = np.fromiter(chain.from_iterable(stored.candidates for stored in waiting), dtype=np.int64, count=total)
        found = self.index.candidate_sketches(np.unique(wanted).tolist())
        if not len(found):
            return matches
        # Each pair's row in what was found (a candidate deleted meanwhile is skipped).
        order = np.argsort(found.ids, kind="stable")
        at = np.minimum(np.searchsorted(found.ids[order], wanted), len(found) - 1)
        held = found.ids[order[at]] == wanted
        rows, owners = order[at[held]], owners[held]
        seconds = (
            found.sketches[rows]
            if isinstance(found.sketches, np.ndarray)
            else [found.sketches[r] for r in rows.tolist()]
        )
        firsts = [waiting[o].sketch for o in owners.tolist()]
        first_sizes = np.fromiter((int(s.item.hashes.size) for s in waiting), dtype=np.int64, count=len(waiting))[
            owners
        ]
        second_sizes = found.shingles[rows]
        estimates = self.sketch.intersections(firsts, first_sizes, seconds, second_sizes)
        jaccard, containment = Similarity.of_many(estimates, first_sizes, second_sizes)
        for pair in np.flatnonzero(self.rule.may_match(jaccard, containment)).tolist():
            owner, position = int(owners[pair]), int(rows[pair])
            stored = waiting[owner]
            similarity = Similarity.from_intersection(
                float(estimates[pair]), int(first_sizes[pair]), int(second_sizes[pair]), exact=self.sketch.exact
            )
            relation = self.rule.judge(
                similarity.jaccard, similarity.containment, stored.item.text.length, int(found.chars[position])
            )
            if relation is not None:
                other = int(found.ids[position])
                url = found.urls[position] if found.urls is not None else self.index.document(other).url
                matches[owner].append(
                    Match(
                        id=other,
                        url=url,
                        relation=relation,
                        jaccard=round(similarity.jaccard, 4),
                        containment=round(similarity.containment, 4),
                    )
                )
        return matches

    def _revisit(self, doc_id: int, text: PreparedText) -> Verdict:
        stored = self.index.document(doc_id)
        if stored.cluster is None:
            return _unique(stored.url, "revisit", stored.chars, doc_id, text)
        cluster_id, outcome = self._decide_current(stored.cluster, doc_id, full=True)
        return outcome.verdict(stored.url, text, doc_id, cluster_id, status="revisit")

    def _written(self, *, deferred: bool = False) -> None:
        now = time.monotonic()
        if not self._uncommitted:
            self._first_uncommitted = now
        self._uncommitted += 1
        if deferred:
            return
        if self._uncommitted >= self.commit_every or (
            self.commit_interval and now - self._first_uncommitted >= self.commit_interval
        ):
            self.commit()

    def commit(self) -> None:
        """End the open transaction: what was indexed becomes visible to other processes."""
        self.index.commit()
        self._uncommitted = 0

    def _decide_current(self, cluster_id: int, newcomer: int, *, full: bool = False) -> tuple[int, _Outcome]:
        """``_decide`` (``decide`` when ``full``) on the newcomer's cluster, followed to the cluster
        it is in now if another worker merged it meanwhile.

        With a shared Redis index, a cluster can be merged into another between the join and the
        decision; its members then answer under the new cluster id. SQLite never gets here twice.
        """
        for _attempt in range(8):
            try:
                if full:
                    decision = self.decide(cluster_id)
                    return cluster_id, _Outcome.of(decision, decision.verdict(newcomer))
                return cluster_id, self._decide(cluster_id, newcomer)
            except KeyError:
                current = self.index.document(newcomer).cluster
                if current is None or current == cluster_id:
                    raise
                cluster_id = current
        return cluster_id, self._decide(cluster_id, newcomer)

    def _decide(self, cluster_id: int, newcomer: int) -> _Outcome:
        """The newcomer's verdict, re-choosing the cluster's original when that is affordable."""
        size = self.index.cluster_size(cluster_id)
        stored = self.index.cluster(cluster_id)
        affordable = size <= 4 * self.max_cluster_size or size & (size - 1) == 0
        if stored is not None and not affordable and stored.canonical != newcomer:
            member = _member(self.index.document(newcomer))
            canonical = _member(self.index.document(stored.canonical))
            verdict = judge_member(member, canonical, self._similarity(member, canonical), self.policy)
            self.index.save_cluster(cluster_id, stored.canonical, size, stored.decided_by, stored.flags)
            return _Outcome(canonical=canonical, evidence=(), flags=stored.flags, member=verdict)
        decision = self.decide(cluster_id)
        return _Outcome.of(decision, decision.verdict(newcomer))

    def decide(self, cluster_id: int) -> ClusterDecision:
        """Choose the original of a cluster now, store it (unless the index was opened read-only, as
        a report opens it), and return the full decision.

        Raises:
            KeyError: No document belongs to ``cluster_id``.
        """
        members = [_member(stored) for stored in self.index.cluster_members(cluster_id)]
        if not members:
            raise KeyError(cluster_id)
        loaded = {s.id: self.sketch.decode(s.sketch) for s in self.index.sketches([m.id for m in members])}

        def similarity(first: Member, second: Member) -> Similarity:
            shared = self.sketch.intersection(loaded[first.id], first.shingles, loaded[second.id], second.shingles)
            return Similarity.from_intersection(shared, first.shingles, second.shingles, exact=self.sketch.exact)

        decision = choose_canonical(members, similarity, self.policy, max_size=self.max_cluster_size)
        if not self.index.read_only:
            self.index.save_cluster(
                cluster_id, decision.canonical.id, len(members), decision.decided_by, decision.flags
            )
        return decision

    def decisions(self) -> Iterator[tuple[int, ClusterDecision]]:
        """Every cluster with its original chosen now, in cluster id order (for reports).

        A cluster merged into another while this runs (a crawl still writing to a shared index) is
        skipped: its members are reported under the cluster they joined.
        """
        for cluster_id in self.index.cluster_ids():
            try:
                decision = self.decide(cluster_id)
            except KeyError:
                continue
            yield cluster_id, decision

    def _similarity(self, first: Member, second: Member) -> Similarity:
        sketches = {s.id: self.sketch.decode(s.sketch) for s in self.index.sketches([first.id, second.id])}
        shared = self.sketch.intersection(sketches[first.id], first.shingles, sketches[second.id], second.shingles)
        return Similarity.from_intersection(shared, first.shingles, second.shingles, exact=self.sketch.exact)

    def similarity(self, first_id: int, second_id: int) -> Similarity:
        """Similarity of two indexed documents, from their stored sketches.

        Approximate unless the index stores exact shingle sets (``verify="exact"``).

        Raises:
            KeyError: One of the ids is not in the index.
        """
        return self._similarity(_member(self.index.document(first_id)), _member(self.index.document(second_id)))


def _unique(url: str, status: VerdictStatus, chars: int, doc_id: int, text: PreparedText) -> Verdict:
    """The verdict of a document in no cluster: its own original."""
    return Verdict(
        url=url,
        status=status,
        chars=chars,
        doc_id=doc_id,
        role="unique",
        canonical_id=doc_id,
        canonical_url=url,
        removed=text.removed,
    )


def _metadata(document: Document, text: PreparedText) -> dict[str, Any]:
    """What the index keeps about a document for the canonical choice and for reports (no empty values)."""
    meta: dict[str, Any] = {}
    for key, value in (
        ("title", document.title),
        ("site", document.site),
        ("site_domain", document.site_domain),
        ("published_at", document.published_at),
        ("source", document.source),
        ("source_domain", document.source_domain),
        ("byline", document.byline),
        ("warc_filename", document.warc_filename),
        ("warc_offset", document.warc_offset),
    ):
        if value:
            meta[key] = value
    if document.fetched_at and not document.published_at:
        meta["fetched_at"] = document.fetched_at  # the weakest evidence of an original, kept only when needed
    canonical = document.canonical_url
    if canonical and canonical != document.url and normalize_url(canonical) != normalize_url(document.url):
        meta["canonical_url"] = canonical
    if document.references:
        meta["references"] = list(document.references[:STORED_REFERENCES])
    read_original = [url for url in (document.read_original_url,) if url]
    if text.removed:
        read_original.extend(text.read_original_urls)
        for key, values in (("attributions", text.attributions), ("original_titles", text.original_titles)):
            if values:
                meta[key] = list(values)
        if not document.byline and (bylines := text.values("byline")):
            meta["byline"] = bylines[0]
        markers = sum(1 for line in text.removed if line.kind in COPY_MARKER_KINDS)
        if markers:
            meta["copy_markers"] = markers
    if read_original:
        meta["read_original"] = read_original
    return meta


def _member(stored: StoredDocument) -> Member:
    meta = stored.meta
    attributions = [*meta.get("attributions", ()), meta.get("source", ""), meta.get("source_domain", "")]
    return Member(
        id=stored.id,
        url=stored.url,
        title=str(meta.get("title", "")),
        site=str(meta.get("site", "")),
        site_domain=str(meta.get("site_domain", "")),
        published_at=meta.get("published_at"),
        fetched_at=meta.get("fetched_at"),
        canonical_url=str(meta.get("canonical_url", "")),
        read_original_urls=tuple(meta.get("read_original", ())),
        attributions=tuple(dict.fromkeys(a for a in attributions if a)),
        original_titles=tuple(meta.get("original_titles", ())),
        byline=str(meta.get("byline", "")),
        chars=stored.chars,
        shingles=stored.shingles,
        copy_markers=int(meta.get("copy_markers", 0)),
    )


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    """A cluster's original and one member's verdict, with the evidence to report for that member."""

    canonical: Member
    evidence: tuple[str, ...]
    """Why the original was chosen (reported to the original itself)."""
    flags: tuple[str, ...]
    member: MemberVerdict

    @classmethod
    def of(cls, decision: ClusterDecision, member: MemberVerdict) -> _Outcome:
        return cls(canonical=decision.canonical, evidence=decision.evidence, flags=decision.flags, member=member)

    def verdict(
        self,
        url: str,
        text: PreparedText,
        doc_id: int,
        cluster_id: int,
        *,
        status: VerdictStatus = "indexed",
        matches: tuple[Match, ...] = (),
        new_cluster: bool = False,
        merged: tuple[int, ...] = (),
    ) -> Verdict:
        original = self.member.role == "original"
        return Verdict(
            url=url,
            status=status,
            chars=text.length,
            doc_id=doc_id,
            cluster_id=cluster_id,
            role=self.member.role,
            canonical_id=self.canonical.id,
            canonical_url=self.canonical.url,
            jaccard=self.member.jaccard,
            containment=self.member.containment,
            matches=matches,
            evidence=self.evidence if original else self.member.evidence,
            flags=self.flags,
            new_cluster=new_cluster,
            merged_clusters=merged,
            removed=text.removed,
        )
