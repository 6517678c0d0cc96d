"""The sources each member of a cluster cites, set against its original's, and where each is archived.

A copy that keeps the original's body but drops its 参考链接, or cites sources of its own, bends the
evidence chain a researcher follows: the report lists the original's sources and, per copy, each
source it added or dropped. URLs are compared as ``canonical.normalize_url`` reduces them (scheme,
``www.``, fragment and trailing slash do not make two sources).

Where a source is archived comes from two places: what the crawl recorded when it settled the
source (the article's metadata record, ``crawl.references``: the capture's record id, or why there
is none), and the collection itself (a capture of the URL among the report's input files, or in the
folder's CDXJ index), which is all there is for an archive another tool wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from portal_archive.archive.sources import Capture
from portal_archive.dedup.canonical import normalize_url
from portal_archive.report.model import CitedSource
from portal_archive.timestamps import parse_iso, to_iso

__all__ = ["NOT_IN_COLLECTION", "CaptureLookup", "CitationReader", "against_original"]

NOT_IN_COLLECTION: Final = "no capture in the collection"

CaptureLookup = Callable[[str, str], Capture | None]
"""``(url, record id the crawl recorded or "") -> capture``: the one with that record id when there."""
ReplayLink = Callable[[str | None, str], str | None]


@dataclass(frozen=True)
class CitationReader:
    """A member's cited URLs as ``CitedSource`` entries, each with its capture or why there is none.

    Args:
        lookup: The collection's capture of a URL (None when it holds none; ``CaptureLookup``), or
            None when there is nothing to look in (a shared index without its WARC folder).
        replay: ``(captured_at, url) -> replay URL`` of a capture (None when no replay is set).
    """

    lookup: CaptureLookup | None
    replay: ReplayLink

    def sources(
        self, references: Sequence[str], settled: Sequence[Mapping[str, object]] = ()
    ) -> tuple[CitedSource, ...]:
        """The sources in ``references`` (page order); ``settled``: the crawl's entry per source."""
        by_key = {normalize_url(str(entry.get("url") or "")): entry for entry in settled}
        return tuple(self._source(url, by_key.get(normalize_url(url))) for url in dict.fromkeys(references))

    def _source(self, url: str, settled: Mapping[str, object] | None) -> CitedSource:
        record_id = _text(settled, "record_id")
        status = settled.get("status") if settled is not None else None
        captured_at = _iso(_text(settled, "captured_at"))
        reason = _text(settled, "reason")
        if (not captured_at or status is None) and self.lookup is not None:
            # The date or status of the crawl's capture, or a capture the crawl did not make (another
            # crawl's, the portal's own page, an archive another tool wrote).
            capture = self.lookup(_text(settled, "final_url") or url, record_id)
            if capture is not None and (not record_id or capture.record_id in ("", record_id)):
                captured_at = captured_at or _iso(capture.date)
                status = status if status is not None else capture.status
                if not record_id:
                    record_id = capture.record_id
                    reason = f"HTTP {status}" if isinstance(status, int) and not 200 <= status < 300 else ""
            elif not record_id and not reason:
                reason = NOT_IN_COLLECTION
        archived = bool(captured_at or record_id)
        return CitedSource(
            url=url,
            captured_at=captured_at,
            status=status if isinstance(status, int) and not isinstance(status, bool) else None,
            record_id=record_id or None,
            reason=reason or None,
            replay_url=self.replay(captured_at, url) if archived else None,
        )


def against_original(
    original: Sequence[CitedSource], copy: Sequence[CitedSource], cluster_pages: Collection[str]
) -> tuple[CitedSource, ...]:
    """A copy's sources marked against its original's, then the original's sources it dropped.

    ``cluster_pages``: the members' URLs, normalised; a copy citing one of them (its original,
    usually) names where it comes from rather than adding a source.
    """
    kept = {normalize_url(source.url) for source in original}
    cited = {normalize_url(source.url) for source in copy}
    marked = [
        replace(source, change="" if key in kept else "original" if key in cluster_pages else "added")
        for source in copy
        for key in (normalize_url(source.url),)
    ]
    marked.extend(replace(source, change="dropped") for source in original if normalize_url(source.url) not in cited)
    return tuple(marked)


def _text(entry: Mapping[str, object] | None, key: str) -> str:
    value = entry.get(key) if entry is not None else None
    return value if isinstance(value, str) else ""


def _iso(value: str) -> str | None:
    moment = parse_iso(value) if value else None
    return to_iso(moment) if moment is not None else None
