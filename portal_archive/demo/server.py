"""The HTTP/1.1 server that puts one demo site on a socket.

Pages are decided by the site builders; this module owns only the wire format:
keep-alive, HEAD, 404/405, gzip negotiation (fixed mtime, so bytes are stable),
real chunk framing for responses that ask for it, and conditional GET: pages with
validators send ETag and Last-Modified and answer a matching request with 304.
"""

from __future__ import annotations

import gzip
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final
from urllib.parse import urlsplit

from .responses import HTML_UTF8, Request, Response, SiteRoutes, text_response

CHUNK_COUNT: Final = 3
IDLE_TIMEOUT_SECONDS: Final = 30
MAX_REQUEST_BODY: Final = 1 << 20
GZIP_TOKENS: Final = ("gzip", "x-gzip", "*")

Clock = Callable[[], datetime]
Recorder = Callable[[str, str, str, int], None]


def accepts_gzip(accept_encoding: str) -> bool:
    """True when the Accept-Encoding header admits gzip with a non-zero quality."""
    for token in accept_encoding.split(","):
        name, _, parameters = token.strip().partition(";")
        if name.strip().lower() not in GZIP_TOKENS:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


def _opaque_tags(header: str) -> set[str]:
    """Entity tags of an If-None-Match header, weakness dropped (weak comparison, RFC 9110 13.1.2)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def is_not_modified(request: Request, response: Response) -> bool:
    """Whether a GET/HEAD for a page with validators may be answered 304 (If-None-Match wins)."""
    if request.method not in ("GET", "HEAD") or response.status != 200:
        return False
    if request.if_none_match:
        if response.etag is None:
            return False
        tags = _opaque_tags(request.if_none_match)
        return "*" in tags or response.etag.removeprefix("W/") in tags
    if request.if_modified_since and response.last_modified is not None:
        try:
            since = parsedate_to_datetime(request.if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return response.last_modified.replace(microsecond=0) <= since
    return False


def split_chunks(body: bytes, count: int = CHUNK_COUNT) -> list[bytes]:
    """Cut a body into at most `count` non-empty pieces for chunked transfer."""
    size = -(-len(body) // count) if body else 0
    return [body[start : start + size] for start in range(0, len(body), size)] if size else []


class DemoHTTPServer(ThreadingHTTPServer):
    """A threaded server for one site; routes are attached once the world is built."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site_key: str, clock: Clock, recorder: Recorder) -> None:
        super().__init__(address, DemoRequestHandler)
        self.site_key = site_key
        self.clock = clock
        self.recorder = recorder
        self.site: SiteRoutes | None = None
        self.delay = 0.0
        """Seconds to wait before each answer: a slow site, to catch a crawl in the middle."""

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-response are normal for crawlers; anything else is printed."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class DemoRequestHandler(BaseHTTPRequestHandler):
    """Answers from the server's SiteRoutes; everything site-specific lives there."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_SECONDS
    server: DemoHTTPServer

    def version_string(self) -> str:
        return self.server.site.server_name if self.server.site else "nginx"

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the portal keeps its own request log."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_OPTIONS(self) -> None:
        self._serve("OPTIONS")

    def _target(self) -> str:
        parts = urlsplit(self.path)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    def _read_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        try:
            length = int(length_header) if length_header else 0
        except ValueError:
            length = 0
        if length < 0 or length > MAX_REQUEST_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length else b""

    def _read_chunked_body(self) -> bytes:
        pieces: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(pieces)
            pieces.append(self.rfile.read(size))
            self.rfile.readline()

    def _answer(self, method: str, target: str, body: bytes) -> Response:
        site = self.server.site
        if site is None:
            return text_response(503, "<h1>503 Service Unavailable</h1>", HTML_UTF8)
        request = Request(
            method,
            target,
            self.headers.get("Accept-Encoding", ""),
            body,
            self.server.clock(),
            if_none_match=self.headers.get("If-None-Match", ""),
            if_modified_since=self.headers.get("If-Modified-Since", ""),
        )
        route = site.routes.get(target)
        if route is None:
            return site.not_found(request)
        if method not in route.methods:
            allow = (("Allow", ", ".join(route.methods)),)
            return text_response(405, "<h1>405 Method Not Allowed</h1>", HTML_UTF8, headers=allow)
        try:
            response = route.handler(request)
        except Exception:  # a rendering bug must not kill the connection thread
            traceback.print_exc()
            return text_response(500, "<h1>500 Internal Server Error</h1>", HTML_UTF8)
        if is_not_modified(request, response):
            return Response(304, b"", "", gzip_negotiable=response.gzip_negotiable, etag=response.etag,
                            last_modified=response.last_modified)  # fmt: skip
        return response

    def _serve(self, method: str) -> None:
        if self.server.delay > 0:
            time.sleep(self.server.delay)
        target = self._target()
        response = self._answer(method, target, self._read_body())
        # Record before writing: a client that has read the response must find it in the log.
        self.server.recorder(self.server.site_key, method, target, response.status)
        self._write(method, response)

    def _write(self, method: str, response: Response) -> None:
        body = response.body
        headers = list(response.headers)
        if response.etag is not None:
            headers.append(("ETag", response.etag))
        if response.last_modified is not None:
            headers.append(("Last-Modified", format_datetime(response.last_modified.astimezone(UTC), usegmt=True)))
        if response.status == 304:
            self._write_not_modified(headers + ([("Vary", "Accept-Encoding")] if response.gzip_negotiable else []))
            return
        if response.gzip_negotiable:
            headers.append(("Vary", "Accept-Encoding"))
            if accepts_gzip(self.headers.get("Accept-Encoding", "")):
                body = gzip.compress(body, mtime=0)
                headers.append(("Content-Encoding", "gzip"))
        chunked = response.chunked and self.request_version == "HTTP/1.1"
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if not chunked:
            self.wfile.write(body)
            return
        for piece in split_chunks(body):
            self.wfile.write(f"{len(piece):x}\r\n".encode("ascii") + piece + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _write_not_modified(self, headers: list[tuple[str, str]]) -> None:
        """304: validators only; no body, so no Content-Type or Content-Length (RFC 9110 15.4.5)."""
        self.send_response(304)
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
