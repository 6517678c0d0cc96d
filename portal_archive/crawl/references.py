"""The sources an article cites, archived one hop away: each fetched once per crawl, never followed.

A syndicated copy and its original are evidence only with what they cite: cited pages change or
vanish within months. So every URL in an article's references (its 参考链接 list) is fetched right
after the article and archived like any exchange (a PDF or an image as it is, up to
``DOWNLOAD_MAXSIZE``), and nothing on it is followed. Politeness towards a cited host is at least
the portal's: its robots.txt is obeyed (Scrapy reads each host's), it gets a download slot of its own
(``reference:<host>``) with one request at a time and ``REFERENCES_DELAY`` between requests (the
portal's delay when longer; none for a loopback host, as for a loopback portal), and redirects may
not leave its site.

The article's item waits until every source it cites is settled, so its metadata record can list
each one (``Citations``): the WARC record id of its capture and the status, or why there is none
(robots.txt, a fetch error, a link that is not http(s), one past ``REFERENCES_MAX_PER_ARTICLE``, the
portal's own page, which the crawl reads as a page of its own). A URL cited again is not fetched
again. A crawl stopped before a reference settles leaves its article unfinished: an incremental
crawl fetches that article again, as it does any article whose item never went through.

A source the archive already holds (a capture an earlier crawl made, remembered in the crawl state,
or a page of a portal whose item went through) is not fetched again: the article lists that
capture, until it is older than ``REFERENCES_REFRESH_DAYS``.

A distributed crawl does not fetch sources yet: a worker holding an article cannot know that
another worker took its source's response from the shared queue.

Settings: ``REFERENCES_ENABLED`` (default True), ``REFERENCES_MAX_PER_ARTICLE`` (20),
``REFERENCES_DELAY`` (seconds, 2.0), ``REFERENCES_REFRESH_DAYS`` (0: never fetched again).
Stats: ``references/requested``, ``references/archived``, ``references/known`` (held by the archive
already), ``references/not_archived/<reason>``, ``references/articles`` (items that waited for
their sources).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Self

from scrapy.settings import BaseSettings

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_bool, read_float, read_int
from portal_archive.items import ArticleItem

__all__ = ["Citations", "CitedCapture", "ReferencesConfig"]

REFERENCES_EXTRA: Final = "cited"
"""``item.extra`` key of the settled references, in the order the article cites them."""
ROBOTS: Final = "robots.txt"
NOT_WEB: Final = "not an http(s) link"
OVER_LIMIT: Final = "over REFERENCES_MAX_PER_ARTICLE"
OWN_PAGE: Final = "the portal's own page"


@dataclass(frozen=True, kw_only=True)
class ReferencesConfig:
    """``REFERENCES_*`` settings (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.REFERENCES_ENABLED
    max_per_article: int = project.REFERENCES_MAX_PER_ARTICLE
    delay: float = project.REFERENCES_DELAY
    """Seconds between two requests to one cited host (at least the portal's delay; none on loopback)."""
    refresh_days: float = project.REFERENCES_REFRESH_DAYS
    """A source this archive holds is fetched again once its capture is this old; 0: never."""
    distributed: bool = False
    """``DISTRIBUTED_REDIS_URL`` is set: another worker may take a source's response while this one
    holds the article, so sources are not fetched (they are in a single-process crawl)."""

    @property
    def active(self) -> bool:
        return self.enabled and not self.distributed

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and check the family; a value that cannot be used names its key."""
        config = cls(
            enabled=read_bool(settings, "REFERENCES_ENABLED", cls.enabled),
            max_per_article=read_int(settings, "REFERENCES_MAX_PER_ARTICLE", cls.max_per_article),
            delay=read_float(settings, "REFERENCES_DELAY", cls.delay),
            refresh_days=read_float(settings, "REFERENCES_REFRESH_DAYS", cls.refresh_days),
            distributed=bool(settings.get("DISTRIBUTED_REDIS_URL")),
        )
        if config.max_per_article < 0:
            raise SettingsError(f"REFERENCES_MAX_PER_ARTICLE must be 0 or more, got {config.max_per_article}")
        if config.delay < 0:
            raise SettingsError(f"REFERENCES_DELAY must be 0 or more seconds, got {config.delay}")
        if config.refresh_days < 0:
            raise SettingsError(f"REFERENCES_REFRESH_DAYS must be 0 (never) or more days, got {config.refresh_days}")
        return config


@dataclass(frozen=True, slots=True)
class CitedCapture:
    """How one cited URL was settled: its capture, or why there is none."""

    url: str
    record_id: str = ""
    """``WARC-Record-ID`` of the response archived for it (an error page's too)."""
    status: int | None = None
    final_url: str = ""
    """Where redirects led, when elsewhere."""
    reason: str = ""
    """Why nothing (or only an error) was archived; empty for a plain 2xx capture."""
    captured_at: str = ""
    """``WARC-Date`` of a capture an earlier crawl made (this crawl did not fetch the source again)."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"url": self.url, "record_id": self.record_id, "status": self.status}
        if self.final_url:
            data["final_url"] = self.final_url
        if self.captured_at:
            data["captured_at"] = self.captured_at
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass(slots=True)
class _Waiting:
    item: ArticleItem
    cited: list[str]
    pending: set[str] = field(default_factory=set)


class Citations:
    """The cited URLs a crawl has settled or is fetching, and the articles waiting for them."""

    def __init__(self, max_per_article: int) -> None:
        self.max_per_article = max_per_article
        self.settled: dict[str, CitedCapture] = {}
        self._fetching: dict[str, list[int]] = {}
        self._waiting: dict[int, _Waiting] = {}
        self._keys = itertools.count()

    def cite(
        self, item: ArticleItem, refused: dict[str, str], known: Callable[[str], CitedCapture | None]
    ) -> tuple[list[str], ArticleItem | None]:
        """Note the article's references: the URLs to fetch now, and the item when nothing is left to wait for.

        ``refused`` holds the URLs never to fetch, each with its reason (not http(s), the portal's own);
        ``known`` gives the capture an earlier crawl made of a URL, when it need not be fetched again.
        """
        cited = list(dict.fromkeys(item.references))
        key = next(self._keys)
        waiting = _Waiting(item, cited)
        to_fetch: list[str] = []
        for number, url in enumerate(cited):
            if url in self.settled:
                continue
            if url in refused or number >= self.max_per_article:
                self.settled.setdefault(url, CitedCapture(url, reason=refused.get(url, OVER_LIMIT)))
                continue
            if url not in self._fetching and (earlier := known(url)) is not None:
                self.settled[url] = earlier
                continue
            waiting.pending.add(url)
            if url not in self._fetching:
                to_fetch.append(url)
            self._fetching.setdefault(url, []).append(key)
        if not waiting.pending:
            return to_fetch, self._finished(waiting)
        self._waiting[key] = waiting
        return to_fetch, None

    def settle(self, capture: CitedCapture) -> list[ArticleItem]:
        """Record how a URL was settled; the items no longer waiting for anything."""
        self.settled[capture.url] = capture
        released = []
        for key in self._fetching.pop(capture.url, []):
            waiting = self._waiting.get(key)
            if waiting is None:
                continue
            waiting.pending.discard(capture.url)
            if not waiting.pending:
                del self._waiting[key]
                released.append(self._finished(waiting))
        return released

    @property
    def waiting(self) -> int:
        """Articles still waiting for a source."""
        return len(self._waiting)

    def held(self, url: str) -> ArticleItem | None:
        """The item of the article at ``url``, while it waits for a source."""
        return next((waiting.item for waiting in self._waiting.values() if waiting.item.url == url), None)

    def _finished(self, waiting: _Waiting) -> ArticleItem:
        item = waiting.item
        item.extra[REFERENCES_EXTRA] = [self.settled[url].as_json() for url in waiting.cited if url in self.settled]
        return item
