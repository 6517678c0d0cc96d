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
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings

from portal_archive import settings as project
from portal_archive.capture.meta import DATE_META, FILENAME_META, RECORD_ID_META
from portal_archive.capture.state import CrawlState, configured_state_path
from portal_archive.config import SettingsError, read_bool, read_float, read_int
from portal_archive.crawl.incremental import IncrementalConfig
from portal_archive.crawl.politeness import is_loopback
from portal_archive.crawl.redirects import REDIRECT_SCOPE_META
from portal_archive.items import ArticleItem
from portal_archive.profiles import Profile
from portal_archive.timestamps import parse_iso, utc_now
from portal_archive.urls import hostname_of, site_domain

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

__all__ = ["Citations", "CitedCapture", "CitedSourcesMixin", "ReferencesConfig"]

logger = logging.getLogger(__name__)

REFERENCE_META: Final = "reference"
"""The cited URL a request fetches (as the article cites it; redirects may lead elsewhere)."""
REFERENCES_EXTRA: Final = "cited"
"""``item.extra`` key of the settled references, in the order the article cites them."""
ROBOTS: Final = "robots.txt"
NOT_WEB: Final = "not an http(s) link"
BAD_URL: Final = "not a valid URL"
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
        self._by_url: dict[str, int] = {}
        """The waiting article (its key) of each page URL: asked after every response."""
        self._keys = itertools.count()

    def cite(
        self,
        item: ArticleItem,
        urls: list[str],
        refused: dict[str, str],
        known: Callable[[str], CitedCapture | None],
    ) -> tuple[list[str], ArticleItem | None]:
        """Note the sources an article cites (``urls``, absolute): the URLs to fetch now, and the item
        when nothing is left to wait for.

        ``refused`` holds the URLs never to fetch, each with its reason (not http(s), the portal's own);
        ``known`` gives the capture an earlier crawl made of a URL, when it need not be fetched again.
        """
        cited = list(dict.fromkeys(urls))
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
        self._by_url[item.url] = key
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
                if self._by_url.get(waiting.item.url) == key:
                    del self._by_url[waiting.item.url]
                released.append(self._finished(waiting))
        return released

    @property
    def waiting(self) -> int:
        """Articles still waiting for a source."""
        return len(self._waiting)

    def held(self, url: str) -> ArticleItem | None:
        """The item of the article at ``url``, while it waits for a source."""
        waiting = self._waiting.get(self._by_url.get(url, -1))
        return waiting.item if waiting is not None else None

    def _finished(self, waiting: _Waiting) -> ArticleItem:
        item = waiting.item
        item.extra[REFERENCES_EXTRA] = [self.settled[url].as_json() for url in waiting.cited if url in self.settled]
        return item


class CitedSourcesMixin:
    """Fetching the sources articles cite and holding each article until they settle (mixed into
    ``PortalSpider``; ``emit`` hands it every item that cites something)."""

    profile: Profile
    references: ReferencesConfig
    citations: Citations
    _state: CrawlState | None
    _state_tried: bool
    _body_pending: set[str]

    if TYPE_CHECKING:  # provided by PortalSpider
        crawler: Crawler

        def count(self, key: str, amount: int = 1) -> None: ...
        def _stable(self, method: Any) -> Any: ...
        def canonical(self, url: str) -> str: ...
        def wants(self, url: str) -> bool: ...
        def is_article(self, url: str) -> bool: ...
        def fetch_failed(self, failure: Failure) -> None: ...

    def holds_item(self, url: str) -> bool:
        """Whether the item of the page at ``url`` is still to come: its body is being fetched from the
        portal's API or a browser, or it waits for the sources it cites (``IncrementalSpiderMiddleware``
        then leaves the page unknown until the item goes through)."""
        return url in self._body_pending or self.citations.held(url) is not None

    def held_item(self, url: str) -> ArticleItem | None:
        """The item of the page at ``url`` while it waits for the sources it cites."""
        return self.citations.held(url)

    def cite_sources(self, item: ArticleItem) -> Iterator[ArticleItem | scrapy.Request]:
        """Requests for the sources ``item`` cites that need fetching, and the item once none is pending
        (at once when it cites nothing)."""
        urls = [_absolute(item.url, reference) for reference in item.references if reference.strip()]
        if self.profile.cite_body_links:
            urls += item.body_links
        if not urls:
            yield item
            return
        self.count("references/articles")
        to_fetch, ready = self.citations.cite(item, urls, self._refused(urls), self._known_capture)
        for url in to_fetch:
            try:
                yield self.reference_request(url)
            except ValueError:  # a URL Scrapy cannot request: settled, and said
                yield from self.citations.settle(CitedCapture(url, reason=BAD_URL))
        if ready is not None:
            yield ready

    def _refused(self, urls: list[str]) -> dict[str, str]:
        """The references never fetched as such, with why: not web links, or this portal's articles."""
        refused = {}
        for url in urls:
            try:
                scheme = urlsplit(url).scheme
            except ValueError:  # "http://[::1" and the like
                refused[url] = BAD_URL
                continue
            if scheme not in ("http", "https"):
                refused[url] = NOT_WEB
            elif not hostname_of(url):
                refused[url] = BAD_URL
            elif self.wants(canonical := self.canonical(url)) and self.is_article(canonical):
                refused[url] = OWN_PAGE  # the crawl fetches it as one of the portal's articles
        return refused

    def _known_capture(self, url: str) -> CitedCapture | None:
        """A capture of ``url`` this archive holds already (a source an earlier crawl archived, or a
        portal's page whose item went through), unless older than ``REFERENCES_REFRESH_DAYS``."""
        state = self._crawl_state()
        if state is None:
            return None
        cited = state.cited(url)
        if cited is not None:
            record_id, status, warc_date = cited.record_id, cited.status, cited.warc_date
        else:
            page = state.page(url)
            if page is None or not page.done:
                return None
            record_id, status, warc_date = page.record_id, None, page.warc_date
        captured = parse_iso(warc_date)
        refresh = self.references.refresh_days
        if refresh and (captured is None or (utc_now() - captured).total_seconds() > refresh * 86_400):
            return None
        self.count("references/known")
        return CitedCapture(url, record_id, status, captured_at=warc_date)

    def _crawl_state(self) -> CrawlState | None:
        """The archive's crawl state (``INCREMENTAL_*``), opened once; None without one."""
        if self._state is None and not self._state_tried:
            self._state_tried = True
            crawler = getattr(self, "crawler", None)
            settings = crawler.settings if crawler is not None else None
            if settings is not None and IncrementalConfig.from_settings(settings).enabled:
                self._state = CrawlState.open(configured_state_path(settings))
        return self._state

    def closed(self, reason: str) -> None:
        """Close the crawl-state connection (references and the article API's rechecks read it)."""
        if self._state is not None:
            self._state.close()
            self._state = None

    def reference_request(self, url: str) -> scrapy.Request:
        """A cited URL, in a download slot of its host's own: one at a time, at least the portal's delay."""
        self.count("references/requested")
        host = hostname_of(url)
        slot = f"reference:{host}"
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # no crawl running (a spider built for a test or a seed)
            downloader = None
        if downloader is not None and slot not in downloader.per_slot_settings:
            delay = 0.0 if is_loopback(url) else max(self.references.delay, self.profile.delay)
            downloader.per_slot_settings[slot] = {"concurrency": 1, "delay": delay, "jitter": 0.0}
        return scrapy.Request(
            url,
            callback=self._stable(self.parse_reference),
            errback=self._stable(self.reference_failed),
            meta={
                REFERENCE_META: url,
                "allow_offsite": True,
                "download_slot": slot,
                "autothrottle_dont_adjust_delay": True,
                "incremental": False,
                REDIRECT_SCOPE_META: site_domain(host),
            },
        )

    def parse_reference(self, response: Response) -> Iterator[ArticleItem]:
        """A cited page (or file) as archived: settled with its record; nothing on it is followed."""
        url = str(response.meta[REFERENCE_META])
        self.count("references/archived")
        final = response.url if response.url != url else ""
        record = str(response.meta.get(RECORD_ID_META) or "")
        state = self._crawl_state()
        if state is not None and record and 200 <= response.status < 300:
            date, filename = str(response.meta.get(DATE_META) or ""), str(response.meta.get(FILENAME_META) or "")
            state.remember_cited(url, record_id=record, status=response.status, warc_date=date, filename=filename)
        yield from self.citations.settle(CitedCapture(url, record, response.status, final))

    def reference_failed(self, failure: Failure) -> Iterator[ArticleItem]:
        """A cited URL that gave no 2xx capture: an error page (archived, with its status), robots.txt, a fault."""
        request = getattr(failure, "request", None)
        url = str(request.meta.get(REFERENCE_META)) if request is not None else ""
        if not url:
            return
        response = getattr(failure.value, "response", None)
        if isinstance(failure.value, IgnoreRequest) and "robots.txt" in str(failure.value):
            capture = CitedCapture(url, reason=ROBOTS)
        elif isinstance(response, Response):
            record = str(response.meta.get(RECORD_ID_META) or "") if response.request is not None else ""
            capture = CitedCapture(url, record, response.status, reason=f"HTTP {response.status}")
        else:
            self.fetch_failed(failure)
            capture = CitedCapture(url, reason=f"{type(failure.value).__name__}: {failure.getErrorMessage()}"[:200])
        self.count("references/not_archived/" + (ROBOTS if capture.reason == ROBOTS else "error"))
        yield from self.citations.settle(capture)


def _absolute(page: str, reference: str) -> str:
    """A reference as the page's reader follows it (relative to the page); as written when it cannot be."""
    reference = reference.strip()
    try:
        return reference if urlsplit(reference).scheme else urljoin(page, reference)
    except ValueError:
        return reference
