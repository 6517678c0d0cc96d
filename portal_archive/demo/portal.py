"""DemoPortal: the three demo sites running on local ports, plus the manifest describing them."""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from .assembly import DEFAULT_SEED, AssembledWorld, assemble_world
from .manifest import SITES, Manifest
from .server import DemoHTTPServer
from .sites import CITED_SITES
from .world import SiteUrls

DEFAULT_PORT_BASE = 8101
"""Where ``portal-archive demo`` serves the sites by default, one port each from here (bendi,
infoq, wechat, then the two cited sites): the same URLs run after run, so a second demo is an
incremental crawl of the same pages."""


def ports_from(base: int) -> dict[str, int]:
    """Each site's port counted from ``base`` (0: any free port for every site)."""
    return {site: base + number if base else 0 for number, site in enumerate((*SITES, *CITED_SITES))}


class RequestRecord(NamedTuple):
    """One request the portal answered; `path` includes the query string."""

    method: str
    path: str
    status: int


class DemoPortal:
    """Starts the aggregator, the InfoQ-like and the WeChat-like servers on free ports.

    The world is built after the ports are bound, because pages link across sites by
    absolute URL. `now` fixes the clock behind the aggregator's relative dates;
    None follows the real clock. `state` 2 serves "the next day" (`portal_archive.demo.nextday`);
    `set_state` switches a running portal between the two on the same ports, as a scheduled
    re-crawl would find the sites. `ports` asks for a port per site (``ports_from``); a port that
    is taken falls back to a free one, and `notes` says so.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        corpus_dir: Path | None = None,
        state: int = 1,
        ports: Mapping[str, int] | None = None,
    ) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if state not in (1, 2):
            raise ValueError(f"state must be 1 or 2, got {state!r}")
        self.seed = seed
        self.now = now
        self.host = host
        self.corpus_dir = corpus_dir
        self._state = state
        self.ports = dict(ports or {})
        self.notes: list[str] = []
        """What did not go as asked (a port taken), in a user's words."""
        self._delay = 0.0
        self._worlds: dict[int, AssembledWorld] = {}
        self._servers: dict[str, DemoHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._manifest: Manifest | None = None
        self._log: list[tuple[str, RequestRecord]] = []
        self._log_lock = threading.Lock()

    @property
    def delay(self) -> float:
        """Seconds every site waits before answering (0: at once)."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay = max(0.0, seconds)
        for server in self._servers.values():
            server.delay = self._delay

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
            for site in (*SITES, *CITED_SITES):
                self._servers[site] = self._bind(site, self.ports.get(site, 0))
                self._servers[site].delay = self._delay
            servers = self._servers
            urls = SiteUrls(
                servers["bendi"].base_url, servers["infoq"].base_url, servers["wechat"].base_url,
                forbes=servers["forbes"].base_url, verge=servers["verge"].base_url,
            )  # fmt: skip
            self._worlds[1] = assemble_world(self.seed, urls, corpus_dir=self.corpus_dir)
            assembled = self._world(self._state)
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

    def serve_until_stopped(self, announce: Callable[[int], None]) -> None:
        """Serve until SIGTERM or Ctrl-C; ``kill -USR1`` turns the portal to the other day on the same
        ports (as a scheduled re-crawl would find the sites) and ``announce`` says which it serves."""
        stop = threading.Event()

        def next_day(_signum: int, _frame: object) -> None:
            self.set_state(3 - self.state)
            announce(self.state)

        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        signal.signal(signal.SIGUSR1, next_day)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()

    def _bind(self, site: str, port: int) -> DemoHTTPServer:
        """The site's server on ``port``, or on a free port (noted) when that one is taken."""
        try:
            return DemoHTTPServer((self.host, port), site, self.clock, self._record)
        except OSError as exc:
            if not port or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
        server = DemoHTTPServer((self.host, 0), site, self.clock, self._record)
        self.notes.append(f"port {port} is taken: {site} is served on {server.base_url} instead")
        return server

    def _world(self, state: int) -> AssembledWorld:
        if state not in self._worlds:
            from .nextday import assemble_next_day  # state 2 is built on state 1

            self._worlds[state] = assemble_next_day(self._worlds[1], self.seed, self.corpus_dir)
        return self._worlds[state]

    @property
    def state(self) -> int:
        """1 (the world as first served) or 2 (the next day)."""
        return self._state

    def set_state(self, state: int) -> None:
        """Serve state 1 or 2 from now on, on the same ports; the manifest follows."""
        if state not in (1, 2):
            raise ValueError(f"state must be 1 or 2, got {state!r}")
        if not self._servers:
            raise RuntimeError("portal not started")
        assembled = self._world(state)
        for site_key, server in self._servers.items():
            server.site = assembled.sites[site_key].routes
        self._manifest = assembled.manifest
        self._state = state

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
    def cited_urls(self) -> dict[str, str]:
        """Base URL of the two sites the articles cite (``forbes``, ``verge``), by site key."""
        return {site: self._url(site) for site in CITED_SITES}

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
