"""The near-duplicate report as data: totals, per-site syndication, clusters and their members.

Every renderer (table, JSON, CSV, HTML) reads this and nothing else. ``Report.to_dict`` is the JSON
form, schema ``portal-archive/dedup-report/1`` (``docs/report-json.md``,
``docs/dedup-report-1.schema.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from portal_archive.dedup.canonical import normalize_url
from portal_archive.urls import hostname_of

__all__ = ["SCHEMA", "ClusterReport", "InputReport", "MemberReport", "Report", "SiteReport", "Totals", "WarcLocation"]

SCHEMA: Final = "portal-archive/dedup-report/1"
ROLE_ORDER: Final = {"original": 0, "copy": 1, "excerpt": 2, "related": 3}


@dataclass(frozen=True, kw_only=True)
class WarcLocation:
    """Where a member's page (its response record) is archived."""

    filename: str
    offset: int | None
    record_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "offset": self.offset, "record_id": self.record_id or None}


@dataclass(frozen=True, kw_only=True)
class CitedSource:
    """A source one member cites (or, marked ``dropped``, one its original cites and it does not)."""

    url: str
    change: str = ""
    """For a copy or an excerpt, against the original: ``""`` (the original cites it too),
    ``added`` (only the copy cites it), ``dropped`` (the original cites it, the copy does not),
    ``original`` (it is a page of the cluster itself: the copy naming its original)."""
    captured_at: str | None = None
    """When the source was archived (its capture's ``WARC-Date``), None when no capture is known."""
    status: int | None = None
    record_id: str | None = None
    reason: str | None = None
    """Why there is no capture: what the crawl recorded (robots.txt, an error), or that the
    collection holds none; None when a capture is known or nothing could be looked up."""
    replay_url: str | None = None

    @property
    def archived(self) -> bool:
        return self.captured_at is not None or bool(self.record_id)

    @property
    def capture_text(self) -> str:
        """Where the source stands, in words: ``archived 2026-12-06 13:23``, ``archived … (HTTP 404)``,
        ``not archived: robots.txt``."""
        if not self.archived:
            return f"not archived: {self.reason}" if self.reason else "capture not known"
        when = (self.captured_at or "")[:16].replace("T", " ")
        failed = f"(HTTP {self.status})" if self.status is not None and not 200 <= self.status < 300 else ""
        return " ".join(part for part in ("archived", when, failed) if part)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "change": self.change or None,
            "archived": self.archived,
            "captured_at": self.captured_at,
            "status": self.status,
            "record_id": self.record_id,
            "reason": self.reason,
            "replay_url": self.replay_url,
        }


@dataclass(frozen=True, kw_only=True)
class MemberReport:
    """One page of a cluster."""

    id: int
    url: str
    role: str
    """``original``, ``copy``, ``excerpt`` or ``related``."""
    site: str
    domain: str
    title: str = ""
    published_at: str | None = None
    fetched_at: str | None = None
    jaccard: float | None = None
    """Estimated Jaccard similarity to the original (None for the original)."""
    containment: float | None = None
    chars: int = 0
    """Normalised text length the engine compared."""
    evidence: tuple[str, ...] = ()
    warc: WarcLocation | None = None
    replay_url: str | None = None
    crawl_role: str | None = None
    """The role recorded at crawl time (from a metadata record), when known."""
    text: str | None = None
    """The body text, loaded only for the HTML side-by-side view."""
    cited: tuple[CitedSource, ...] = ()
    """The sources it cites, in page order, then (for a copy) those of the original it dropped."""

    @property
    def citation_changes(self) -> dict[str, int]:
        """Citations this copy ``added`` and ``dropped`` against its original."""
        return {change: sum(1 for c in self.cited if c.change == change) for change in ("added", "dropped")}

    def on_site(self, wanted: str) -> bool:
        """Whether this member is on ``wanted``: a site key, a domain, or a subdomain of it."""
        key = wanted.strip().lower().removeprefix("www.")
        if not key:
            return False
        return self.site.lower() == key or any(
            host == key or host.endswith("." + key) for host in (self.domain.lower(), _host(self.url))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "role": self.role,
            "site": self.site,
            "domain": self.domain,
            "title": self.title,
            "published_at": self.published_at,
            "fetched_at": self.fetched_at,
            "jaccard": self.jaccard,
            "containment": self.containment,
            "chars": self.chars,
            "evidence": list(self.evidence),
            "warc": self.warc.to_dict() if self.warc is not None else None,
            "replay_url": self.replay_url,
            "crawl_role": self.crawl_role,
            "cited": [source.to_dict() for source in self.cited],
        }


@dataclass(frozen=True, kw_only=True)
class ClusterReport:
    """A cluster: its original, how it was chosen, and every member (the original first)."""

    id: int
    decided_by: str
    evidence: tuple[str, ...]
    flags: tuple[str, ...]
    members: tuple[MemberReport, ...]

    @property
    def canonical(self) -> MemberReport:
        return self.members[0]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def citation_changes(self) -> dict[str, int]:
        """Citations the copies added and dropped against the original, summed over the copies."""
        changes = [member.citation_changes for member in self.members[1:]]
        return {change: sum(c[change] for c in changes) for change in ("added", "dropped")}

    def cited_sources(self) -> list[tuple[CitedSource, tuple[str | None, ...]]]:
        """Every source a member cites or dropped (the original's first), each with, per member in
        order: None (it does not cite it) or its ``change`` mark (``""``: cited as the original does)."""
        rows: dict[str, CitedSource] = {}
        marks: dict[str, list[str | None]] = {}
        for position, member in enumerate(self.members):
            for source in member.cited:
                key = normalize_url(source.url)
                rows.setdefault(key, source)
                marks.setdefault(key, [None] * len(self.members))[position] = source.change
        return [(rows[key], tuple(marks[key])) for key in rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": self.size,
            "decided_by": self.decided_by,
            "evidence": list(self.evidence),
            "flags": list(self.flags),
            "canonical_url": self.canonical.url,
            "citation_changes": self.citation_changes,
            "members": [member.to_dict() for member in self.members],
        }


@dataclass(frozen=True, kw_only=True)
class SiteReport:
    """How much one site publishes that is republished elsewhere, and how much it republishes."""

    site: str
    domain: str
    articles: int
    originals: int = 0
    """Its articles that are the original of a cluster."""
    copies: int = 0
    """Its articles that are a copy or an excerpt of another site's (or its own) original."""
    related: int = 0

    @property
    def syndication_rate(self) -> float:
        """Share of its articles republished elsewhere."""
        return self.originals / self.articles if self.articles else 0.0

    @property
    def copy_rate(self) -> float:
        """Share of its articles that are copies or excerpts."""
        return self.copies / self.articles if self.articles else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "domain": self.domain,
            "articles": self.articles,
            "originals": self.originals,
            "copies": self.copies,
            "related": self.related,
            "syndication_rate": round(self.syndication_rate, 4),
            "copy_rate": round(self.copy_rate, 4),
        }


@dataclass(frozen=True, kw_only=True)
class InputReport:
    """One input: a WARC file or an index, what it gave and what was wrong with it."""

    path: str
    kind: str
    """``warc`` or ``index``."""
    records: int | None = None
    pages: int | None = None
    articles: int = 0
    metadata_records: int | None = None
    reextracted: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "records": self.records,
            "pages": self.pages,
            "articles": self.articles,
            "metadata_records": self.metadata_records,
            "reextracted": self.reextracted,
            "problem": self.problem,
        }


@dataclass(frozen=True, kw_only=True)
class Totals:
    """Counts over everything read (before ``--site`` / ``--since``)."""

    pages_read: int | None
    """HTML pages read from WARC files (None when reporting from an index)."""
    articles: int
    """Article documents compared (from metadata records or extraction; from the index)."""
    indexed: int
    """Articles long enough to compare (``--min-chars``) and not a repeat of an indexed URL."""
    too_short: int = 0
    revisits: int = 0
    """Articles whose URL was already indexed (a page captured twice)."""
    unextractable: int = 0
    clusters: int = 0
    copies: int = 0
    excerpts: int = 0
    related: int = 0
    clusters_shown: int = 0
    set_aside: Mapping[str, int] = field(default_factory=dict)
    """HTML pages read that are no article, by reason (``listing page``, ``short body``…)."""

    def why_no_article(self) -> str | None:
        """Why nothing was compared, in a user's words; None when something was."""
        if self.articles:
            return None
        if self.pages_read == 0:
            return "the input holds no HTML page (no responses: a WAT, WET or metadata-only file?)"
        if self.set_aside:
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.set_aside.items()))
            return f"none of the {self.pages_read} HTML page(s) is an article ({reasons})"
        return "no article page was read"

    def to_dict(self) -> dict[str, Any]:
        return {
            "pages_read": self.pages_read,
            "set_aside": dict(sorted(self.set_aside.items())),
            "articles": self.articles,
            "indexed": self.indexed,
            "too_short": self.too_short,
            "revisits": self.revisits,
            "unextractable": self.unextractable,
            "clusters": self.clusters,
            "copies": self.copies,
            "excerpts": self.excerpts,
            "related": self.related,
            "clusters_shown": self.clusters_shown,
        }


@dataclass(kw_only=True)
class Report:
    """Everything one ``dedup-report`` run found."""

    generated_at: str
    producer: str
    source: str
    """``warc`` (a fresh index built from WARC files) or ``index`` (a crawl's persistent index)."""
    parameters: dict[str, Any]
    filters: dict[str, Any]
    totals: Totals
    sites: list[SiteReport] = field(default_factory=list)
    clusters: list[ClusterReport] = field(default_factory=list)
    inputs: list[InputReport] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per unreadable input: ``path: what is wrong``."""
        return [f"{item.path}: {item.problem}" for item in self.inputs if item.problem]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``portal-archive/dedup-report/1``)."""
        return {
            "schema": SCHEMA,
            "generated_at": self.generated_at,
            "producer": self.producer,
            "source": self.source,
            "parameters": self.parameters,
            "filters": self.filters,
            "totals": self.totals.to_dict(),
            "sites": [site.to_dict() for site in self.sites],
            "clusters": [cluster.to_dict() for cluster in self.clusters],
            "inputs": [item.to_dict() for item in self.inputs],
            "problems": self.problems,
        }


def _host(url: str) -> str:
    return hostname_of(url).removeprefix("www.")
