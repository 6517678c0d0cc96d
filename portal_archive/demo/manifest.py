"""The ground truth of a demo world: every URL it serves and what a crawler should find there.

Crawler, archive and near-duplicate tests compare their results against this
record instead of re-deriving expectations from the corpus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any, Final, Literal, cast

Site = Literal["bendi", "infoq", "wechat", "forbes", "verge"]
Kind = Literal["home", "list", "article", "robots", "sitemap", "feed", "redirect", "error", "api", "cited"]
Relation = Literal["original", "copy", "excerpt", "aggregator-only"]

SITES: Final[tuple[Site, ...]] = ("bendi", "infoq", "wechat")
"""The three portals (``forbes`` and ``verge`` are sites their articles cite, not portals)."""
SYNDICATED_RELATIONS: Final = ("copy", "excerpt")


@dataclass(frozen=True)
class ManifestEntry:
    """One URL of the demo world.

    Article fields describe the page as served: `title` as shown there, `body_text`
    the body blocks shown (after script rendering for `js_only` pages, whose HTML lacks the body), without
    bylines, reference lists or recommendation tails. `published` is the original
    publication and `ingest_time` the aggregator's CUID time, both ISO 8601 UTC.
    `method` and `request_body` say how to call non-GET endpoints; `edits` lists
    how a syndicated copy was altered; `category` is the aggregator section.
    """

    url: str
    site: Site
    kind: Kind
    status: int
    reachable: bool
    location: str | None = None
    charset: str = "utf-8"
    charset_in_header: bool = True
    content_encoding: str | None = None
    chunked: bool = False
    method: str = "GET"
    request_body: str | None = None
    slug: str | None = None
    title: str | None = None
    published: str | None = None
    ingest_time: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    references: tuple[str, ...] = ()
    body_text: str | None = None
    js_only: bool = False
    robots_disallowed: bool = False
    """A cited page the site's robots.txt disallows: a polite crawler never asks for it."""
    delivery: str = ""
    """How an InfoQ article's body reaches a reader (``portal_archive.demo.world.Delivery``): ``html``,
    ``api``, ``prosemirror``, ``content_url`` or ``script`` (only a browser reads it); on a getDetail
    entry, the delivery of the article it answers for."""
    relation: Relation | None = None
    original_url: str | None = None
    edits: tuple[str, ...] = ()
    category: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestEntry:
        """Inverse of `to_dict`; unknown keys are an error so stale manifests fail loudly."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown manifest keys: {', '.join(unknown)}")
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        return cls(**values)


@dataclass(frozen=True)
class ManifestChanges:
    """What a later state of a world adds or changes, compared with state 1 ("the day before").

    `new` lists every URL the state serves for the first time (articles, list pages, copies);
    `changed` the article URLs whose content was edited: a new version of a page a crawler knows.
    """

    state: int
    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "new": list(self.new), "changed": list(self.changed)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestChanges:
        return cls(int(data["state"]), tuple(data.get("new", ())), tuple(data.get("changed", ())))


@dataclass(frozen=True)
class Manifest:
    """All entries of one world, in a stable order (site, then page order).

    `changes` is set for a later state of the world (see `portal_archive.demo.nextday`) and left
    out of the JSON for state 1, whose manifest stays as it always was.
    """

    entries: tuple[ManifestEntry, ...]
    changes: ManifestChanges | None = None

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, url: object) -> bool:
        return any(entry.url == url for entry in self.entries)

    def by_url(self, url: str) -> ManifestEntry:
        """The entry for an absolute URL; KeyError when the world has no such URL."""
        for entry in self.entries:
            if entry.url == url:
                return entry
        raise KeyError(url)

    def for_site(self, site: str) -> tuple[ManifestEntry, ...]:
        """Entries of one site ("bendi", "infoq" or "wechat")."""
        return tuple(entry for entry in self.entries if entry.site == site)

    def articles(self) -> tuple[ManifestEntry, ...]:
        """Every article page of all three sites."""
        return tuple(entry for entry in self.entries if entry.kind == "article")

    def syndications(self) -> list[tuple[str, str, str]]:
        """(copy URL, original URL, "copy" | "excerpt") for every aggregator republication."""
        return [
            (entry.url, entry.original_url, entry.relation)
            for entry in self.entries
            if entry.original_url is not None and entry.relation in SYNDICATED_RELATIONS
        ]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"entries": [entry.to_dict() for entry in self.entries]}
        if self.changes is not None:
            data["changes"] = self.changes.to_dict()
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        changes = ManifestChanges.from_dict(data["changes"]) if data.get("changes") else None
        return cls(tuple(ManifestEntry.from_dict(cast(dict[str, Any], item)) for item in data["entries"]), changes)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls.from_dict(json.loads(text))
