"""Redirects a portal crawl must not follow: off the portal, round in a circle, or on forever.

Scrapy's ``RedirectMiddleware`` checks neither the port of a redirect target (its offsite filter
matches domains only, so ``host:8080`` redirecting to ``host:9999`` is followed) nor cycles (a
redirect back to a URL already seen is dropped silently by the duplicate filter), and it gives up
after ``REDIRECT_MAX_TIMES`` with a DEBUG line. ``RedirectGuardMiddleware`` runs just before it:
every 3xx it stops is still archived (capture happens at ``response_downloaded``), then counted
and logged once as ``fetch/offsite`` or ``fetch/redirect_loop``.

The portal is the spider's ``origin`` (``scheme://host[:port]``); a redirect to the same host on the
other scheme's default port (``http`` → ``https``) stays on it. Spiders without ``origin`` get
Scrapy's domain check only.

Settings: ``REDIRECT_GUARD_ENABLED`` (default True), Scrapy's ``REDIRECT_ENABLED`` and
``REDIRECT_MAX_TIMES``. Stats: ``fetch/offsite``, ``fetch/redirect_loop``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import NotConfigured
from w3lib.url import safe_url_string

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_bool, read_int
from portal_archive.crawl.faults import OFFSITE, REDIRECT_LOOP, FetchFault, account
from portal_archive.urls import hostname_of, site_domain

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
REDIRECT_SCOPE_META: Final = "redirect_scope"
"""A registrable domain a request's redirects must stay within, instead of the spider's origin
(a cited source's site, ``crawl.references``)."""
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True, kw_only=True)
class RedirectGuardConfig:
    """``REDIRECT_GUARD_*`` settings, and Scrapy's ``REDIRECT_*`` the guard mirrors.

    Defaults: ``portal_archive.settings``.
    """

    enabled: bool = project.REDIRECT_GUARD_ENABLED
    redirects_followed: bool = project.REDIRECT_ENABLED
    """Scrapy's ``REDIRECT_ENABLED``: when nothing is followed there is nothing to guard."""
    max_redirects: int = project.REDIRECT_MAX_TIMES
    """Scrapy's ``REDIRECT_MAX_TIMES``: one hop past it is a ``fetch/redirect_loop``."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate; raise ``SettingsError`` naming the key."""
        config = cls(
            enabled=read_bool(settings, "REDIRECT_GUARD_ENABLED", cls.enabled),
            redirects_followed=read_bool(settings, "REDIRECT_ENABLED", cls.redirects_followed),
            max_redirects=read_int(settings, "REDIRECT_MAX_TIMES", cls.max_redirects),
        )
        if config.max_redirects < 0:
            raise SettingsError(f"REDIRECT_MAX_TIMES must not be negative, got {config.max_redirects}")
        return config


class OffsiteRedirect(FetchFault):
    """A redirect whose target lies off the portal's origin."""


class RedirectLoop(FetchFault):
    """A redirect back to a URL of its own chain, or one hop past ``REDIRECT_MAX_TIMES``."""


def _host_and_port(url: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    return (parts.hostname or "").lower(), port


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def same_site(origin: str, url: str) -> bool:
    """Whether ``url`` is on ``origin``: same host, and the same port (default ports match either scheme)."""
    ours, theirs = _host_and_port(origin), _host_and_port(url)
    if ours is None or theirs is None or ours[0] != theirs[0]:
        return False
    if ours[1] == theirs[1]:
        return True
    return ours[1] in _DEFAULT_PORTS.values() and theirs[1] in _DEFAULT_PORTS.values()


def redirect_target(request: Request, response: Response) -> str | None:
    """Where a 3xx points, resolved as ``RedirectMiddleware`` resolves it; ``None`` for no redirect."""
    location = response.headers.get(b"Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    target = safe_url_string(location)
    if location.startswith(b"//"):
        target = urlsplit(request.url).scheme + "://" + target.lstrip("/")
    return urljoin(request.url, target)


class RedirectGuardMiddleware:
    """Stops offsite, circular and endless redirects before ``RedirectMiddleware`` follows them."""

    def __init__(self, crawler: Crawler, stats: StatsCollector, max_redirects: int) -> None:
        self.crawler = crawler
        self.stats = stats
        self.max_redirects = max_redirects

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = RedirectGuardConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("REDIRECT_GUARD_ENABLED is False")
        if not config.redirects_followed:
            raise NotConfigured("REDIRECT_ENABLED is False: nothing is followed")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before middlewares
        return cls(crawler, crawler.stats, config.max_redirects)

    def _followed_by_scrapy(self, request: Request, response: Response) -> bool:
        """The conditions under which ``RedirectMiddleware`` would act on this response."""
        spider_statuses = getattr(self.crawler.spider, "handle_httpstatus_list", ())
        return not (
            request.meta.get("dont_redirect", False)
            or response.status in spider_statuses
            or response.status in request.meta.get("handle_httpstatus_list", ())
            or request.meta.get("handle_httpstatus_all", False)
        )

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass the response on, or raise ``OffsiteRedirect`` / ``RedirectLoop`` (already counted)."""
        target = redirect_target(request, response)
        if target is None or not self._followed_by_scrapy(request, response):
            return response
        if urlsplit(target).scheme not in _DEFAULT_PORTS:
            return response  # RedirectMiddleware leaves those alone too
        scope = request.meta.get(REDIRECT_SCOPE_META)
        origin = getattr(self.crawler.spider, "origin", None)
        if isinstance(scope, str):
            # A request off the portal (a cited source): it may move within its own site, and only there.
            if site_domain(hostname_of(target)) != scope:
                self._stop(OffsiteRedirect, request, f"redirect to {target} leaves {scope}")
        elif isinstance(origin, str) and not same_site(origin, target):
            self._stop(OffsiteRedirect, request, f"redirect to {target} leaves {origin}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if _without_fragment(target) in {_without_fragment(url) for url in chain}:
            self._stop(RedirectLoop, request, f"redirect to {target} closes a loop of {len(chain)} URL(s)")
        hops = request.meta.get("redirect_times", 0) + 1
        ttl = request.meta.get("redirect_ttl", self.max_redirects)
        if not ttl or hops > self.max_redirects:
            limit = f"REDIRECT_MAX_TIMES {self.max_redirects}"
            self._stop(RedirectLoop, request, f"redirect to {target} would be hop {hops} ({limit})")
        return response

    def _stop(self, fault: type[FetchFault], request: Request, message: str) -> None:
        kind = OFFSITE if fault is OffsiteRedirect else REDIRECT_LOOP
        error = fault(kind, message)
        account(kind, request.url, error, self.stats)
        raise error
