"""DemoPortal: the three demo sites running on local ports, plus the manifest describing them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from .assembly import DEFAULT_SEED, assemble_world
from .manifest import SITES, Manifest
from .server import DemoHTTPServer
from .world import SiteUrls


class RequestRecord(NamedTuple):
    """One request the portal answered; `path` includes the query string."""

    method: str
    path: str
    status: int


class DemoPortal:
    """Starts the aggregator, the InfoQ-like and the WeChat-like servers on free ports.

    The world is built after the ports are bound, because pages link across sites by
    absolute URL. `now` fixes the clock behind the aggregator's relative dates;
    None follows the real clock.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        corpus_dir: Path | None = None,
    ) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.seed = seed
        self.now = now
        self.host = host
        self.corpus_dir = corpus_dir
        self._servers: dict[str, DemoHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._manifest: Manifest | None = None
        self._log: list[tuple[str, RequestRecord]] = []
        self._log_lock = threading.Lock()

    def clock(self) -> datetime:
        """The portal's idea of the current time."""
        return self.now if self.now is not None else datetime.now(UTC)

    def _record(self, site: str, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self._log.append((site, RequestRecord(method, path, status)))

    def start(self) -> DemoPortal:
        """Bind the three ports, build the world for them and serve in background threads."""
        if self._servers:
            raise RuntimeError("portal already started")
        try:
            for site in SITES:
                self._servers[site] = DemoHTTPServer((self.host, 0), site, self.clock, self._record)
            servers = self._servers
            urls = SiteUrls(servers["bendi"].base_url, servers["infoq"].base_url, servers["wechat"].base_url)
            assembled = assemble_world(self.seed, urls, corpus_dir=self.corpus_dir)
        except BaseException:
            self._close_servers()
            raise
        for site_key, server in self._servers.items():
            server.site = assembled.sites[site_key].routes
            thread = threading.Thread(target=server.serve_forever, name=f"demo-{site_key}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._manifest = assembled.manifest
        return self

    def _close_servers(self) -> None:
        for server in self._servers.values():
            server.server_close()
        self._servers.clear()

    def stop(self) -> None:
        """Stop serving and release the ports; safe to call twice."""
        for server in self._servers.values():
            server.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._close_servers()

    def __enter__(self) -> DemoPortal:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _url(self, site: str) -> str:
        if site not in self._servers:
            raise RuntimeError("portal not started")
        return self._servers[site].base_url

    @property
    def aggregator_url(self) -> str:
        return self._url("bendi")

    @property
    def infoq_url(self) -> str:
        return self._url("infoq")

    @property
    def wechat_url(self) -> str:
        return self._url("wechat")

    @property
    def urls(self) -> dict[str, str]:
        """Base URL of every site, by site key."""
        return {site: self._url(site) for site in SITES}

    @property
    def start_urls(self) -> dict[str, list[str]]:
        """Crawl entry points: each site's home page (robots.txt leads to sitemaps)."""
        return {site: [f"{self._url(site)}/"] for site in SITES}

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            raise RuntimeError("portal not started")
        return self._manifest

    @property
    def request_log(self) -> list[RequestRecord]:
        """A snapshot of every request answered so far, all sites, in order."""
        with self._log_lock:
            return [record for _site, record in self._log]

    def requests_for(self, site: str) -> list[RequestRecord]:
        """The request log of one site ("bendi", "infoq" or "wechat")."""
        with self._log_lock:
            return [record for logged_site, record in self._log if logged_site == site]

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()
