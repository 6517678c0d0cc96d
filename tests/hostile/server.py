"""A raw-socket HTTP/1.1 server whose handlers write bytes themselves.

``http.server`` cannot send two ``Content-Length`` headers, a 1 MB header line, a body shorter
than announced or a TCP reset; here every byte on the wire is the handler's choice. Every request
is logged (arrival time, method, target, ``Host``) so tests can assert what was, and what was
never, requested.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

MAX_REQUEST_HEAD = 64 * 1024
HeaderPairs = Iterable[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Hit:
    """One request as it arrived."""

    at: float
    """``time.monotonic()`` when the request head was read."""
    method: str
    target: str
    """The request target as sent (path and query, percent-encoded by the client)."""
    host: str

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


class Exchange:
    """One request on one connection; the handler answers with raw bytes."""

    def __init__(self, sock: socket.socket, hit: Hit, server: HostileServer) -> None:
        self.sock = sock
        self.hit = hit
        self.server = server
        self.closed = False

    def send(self, data: bytes) -> bool:
        """Write bytes; ``False`` once the client has gone (it may time out before we answer)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: HeaderPairs = (),
        *,
        content_type: bytes = b"text/html; charset=utf-8",
        reason: bytes = b"",
        length: bool = True,
    ) -> None:
        """A whole response: status line, the given headers, ``Content-Length`` unless told not to."""
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason or _REASONS.get(status, b"Status"))]
        if content_type:
            head.append(b"Content-Type: " + content_type + b"\r\n")
        head.extend(name + b": " + value + b"\r\n" for name, value in headers)
        if length:
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(b"Connection: close\r\n\r\n")
        self.send(b"".join(head) + body)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (``SO_LINGER`` 0) instead of a clean close."""
        if self.closed:
            return
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.closed = True

    def close(self) -> None:
        """Close cleanly (FIN) after everything written."""
        if self.closed:
            return
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        self.sock.close()
        self.closed = True

    def count(self) -> int:
        """How many times this request target's path has been requested, this one included."""
        return self.server.count(self.hit.path)


Handler = Callable[[Exchange], None]
_REASONS = {200: b"OK", 301: b"Moved Permanently", 302: b"Found", 404: b"Not Found", 429: b"Too Many Requests",
            500: b"Internal Server Error"}  # fmt: skip


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(8192)
        if not chunk or len(data) > MAX_REQUEST_HEAD:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


class _ConnectionHandler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            head = _read_head(sock)
        except OSError:
            return
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
        host = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "host":
                host = value.strip()
        owner = self.server.owner
        hit = Hit(time.monotonic(), method, target, host)
        owner.record(hit)
        exchange = Exchange(sock, hit, owner)
        try:
            owner.handler_for(hit.path)(exchange)
        finally:
            exchange.close()


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up mid-answer are part of the game: stay quiet."""


def not_found(exchange: Exchange) -> None:
    exchange.respond(404, b"<html><body><p>not found</p></body></html>")


class HostileServer:
    """Serves ``routes`` (exact paths, or prefixes ending in ``/``) on 127.0.0.1, port 0."""

    def __init__(self, routes: Mapping[str, Handler]) -> None:
        self.routes = dict(routes)
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = _TCPServer(("127.0.0.1", 0), _ConnectionHandler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for hit in self.hits if hit.path == path)

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def handler_for(self, path: str) -> Handler:
        if path in self.routes:
            return self.routes[path]
        prefixes = [p for p in self.routes if p.endswith("/") and path.startswith(p) and p != "/"]
        return self.routes[max(prefixes, key=len)] if prefixes else not_found

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
