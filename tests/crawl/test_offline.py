"""A crawl makes no network call it did not ask for: cookies never fetch the public suffix list.

Scrapy's cookie middleware asks tldextract whether a cookie's domain is a public suffix; tldextract
downloads the list from publicsuffix.org on first use unless told otherwise. ``OfflineAddon`` (in
``ADDONS``) points it at the bundled snapshot for every crawl, and importing the settings module
does nothing of the kind.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from portal_archive.demo.run import crawl_env
from tests.conftest import PROJECT_ROOT


class CookiePortal(BaseHTTPRequestHandler):
    """Every page sets a cookie; the home page links to one more page, which must send it back."""

    protocol_version = "HTTP/1.1"
    cookies_received: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        type(self).cookies_received.append((self.path, self.headers.get("Cookie", "")))
        status, body = (200, b'<html><body><a href="/more">more</a></body></html>')
        if self.path == "/robots.txt":
            status, body = 404, b""
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "session=abc; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ProxyTrap:
    """A TCP listener standing in for an HTTPS proxy: counts every connection, answers none."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def __enter__(self) -> ProxyTrap:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def cookie_portal() -> Iterator[str]:
    CookiePortal.cookies_received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CookiePortal)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_a_crawl_with_cookies_does_not_fetch_the_public_suffix_list(cookie_portal: str, tmp_path: Path) -> None:
    env = crawl_env()
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(name, None)
    cache = tmp_path / "tldextract-cache"  # empty: a download would not be served from an earlier one
    with ProxyTrap() as proxy:
        # Only the list's https:// URLs go to the trap; the crawl's own http:// requests go direct.
        env.update(https_proxy=proxy.url, HTTPS_PROXY=proxy.url, TLDEXTRACT_CACHE=str(cache))
        command = [
            sys.executable, "-m", "scrapy", "crawl", "bendi", "-a", f"base_url={cookie_portal}",
            "-s", f"WARC_DIR={tmp_path / 'archive'}", "-s", "LOG_LEVEL=INFO",
        ]  # fmt: skip
        result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        connections = proxy.connections
    assert result.returncode == 0, result.stderr[-3000:]
    assert "portal_archive.crawl.offline.OfflineAddon" in result.stderr
    # The cookie middleware did its work (and so asked tldextract about the cookie's domain)...
    assert ("/more", "session=abc") in CookiePortal.cookies_received, CookiePortal.cookies_received
    # ...without a single attempt to reach publicsuffix.org.
    assert connections == 0
    assert "publicsuffix" not in result.stderr.lower()


def test_importing_the_settings_module_leaves_the_cookie_middleware_alone() -> None:
    probe = (
        "from scrapy.downloadermiddlewares import cookies\n"
        "before = cookies._split_domain\n"
        "import portal_archive.settings\n"
        "assert cookies._split_domain is before, 'importing the settings replaced the suffix list'\n"
        "from portal_archive.crawl.offline import OfflineAddon\n"
        "from scrapy.settings import Settings\n"
        "OfflineAddon().update_settings(Settings())\n"
        "assert cookies._split_domain is not before and cookies._split_domain.suffix_list_urls == ()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=crawl_env(), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
