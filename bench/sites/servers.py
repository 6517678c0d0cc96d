"""Serve a generated site on 127.0.0.1 as a child process: nginx, or an asyncio server with latency.

``NginxServer`` writes a config into a temp folder (``daemon off``, one process, no access log,
sendfile, unlimited keep-alive) and runs Debian's nginx with it. ``DelayServer`` runs this module
as a script: every file of the site is read into memory with its response head pre-rendered, and
each response is sent ``--latency-ms`` after its request arrived (``asyncio.sleep``: many requests
wait at once, as on a remote site, and a waiting request costs no CPU). Both expose ``cpu_seconds()``
(user + system of the server process, from ``/proc``) so a bench can show that the server is not
its bottleneck.

    .venv/bin/python bench/sites/servers.py SITE_DIR [--port 0] [--latency-ms 50]   # by hand
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from typing import Self

_CLK_TCK = os.sysconf("SC_CLK_TCK")
CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".txt": b"text/plain; charset=utf-8",
    ".json": b"application/json",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (``/proc/PID/stat`` fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {timeout} s")


class _ChildServer:
    name = "server"

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid) if self.process is not None else 0.0

    def __enter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-")
        self.port = free_port()
        self.process = self._start(Path(self._tmp.name))
        _wait_for_port(self.port, self.process)
        return self

    def _start(self, tmp: Path) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._tmp is not None:
            self._tmp.cleanup()


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    types {{ text/html html; text/plain txt; application/json json; }}
    default_type application/octet-stream;
    charset utf-8;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


class NginxServer(_ChildServer):
    """Debian's nginx serving ``root`` on a free port of 127.0.0.1 (one process, ``daemon off``)."""

    name = "nginx"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def _start(self, tmp: Path) -> subprocess.Popen[bytes]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=self.port, root=self.root))
        return subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


class DelayServer(_ChildServer):
    """This module as a child process: the site from memory, each response ``latency_ms`` late."""

    name = "delay"

    def __init__(self, root: Path, latency_ms: float) -> None:
        super().__init__()
        self.root = root.resolve()
        self.latency_ms = latency_ms

    def _start(self, tmp: Path) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            __file__,
            str(self.root),
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
        ]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)


# -- the delaying server itself ---------------------------------------------------------------------


def load_site(root: Path) -> dict[bytes, bytes]:
    """Path → complete response (head + body) for every file under ``root``; ``/`` is ``/index.html``."""
    pages: dict[bytes, bytes] = {}
    modified = formatdate(time.time(), usegmt=True).encode()
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        body = path.read_bytes()
        kind = CONTENT_TYPES.get(path.suffix, b"application/octet-stream")
        head = (
            b"HTTP/1.1 200 OK\r\nServer: bench-delay\r\nContent-Type: "
            + kind
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nLast-Modified: "
            + modified
            + b"\r\nConnection: keep-alive\r\n\r\n"
        )
        url_path = "/" + path.relative_to(root).as_posix()
        pages[url_path.encode()] = head + body
        if path.name == "index.html":
            pages[url_path[: -len("index.html")].encode()] = head + body
    return pages


NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n"


async def serve(root: Path, port: int, latency: float) -> None:
    pages = load_site(root)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = asyncio.get_running_loop().time()
                target = head.split(b" ", 2)[1].split(b"?", 1)[0] if head.count(b" ") >= 2 else b""
                response = pages.get(target, NOT_FOUND)
                if head.startswith(b"HEAD "):
                    response = response.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                delay = latency - (asyncio.get_running_loop().time() - arrived)
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(response)
                await writer.drain()
                if b"\r\nconnection: close" in head.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    port = args.port or free_port()
    print(f"serving {args.root} on http://127.0.0.1:{port} with {args.latency_ms:g} ms latency", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.root, port, args.latency_ms / 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
