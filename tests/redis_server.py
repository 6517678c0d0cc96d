"""A real ``redis-server`` for tests: a private instance on 127.0.0.1, a free port, no persistence.

Debian's ``redis-server`` package (installed by ``scripts/bootstrap.sh``) is started as a child
process with a generated config in a temporary folder; it listens on 127.0.0.1 only and saves
nothing to disk, so every test session starts from an empty store and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from redis import Redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServerError(RuntimeError):
    """``redis-server`` is missing or did not start."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """``with RedisServer(tmp) as server: server.url`` -> ``redis://127.0.0.1:PORT/0``."""

    def __init__(self, directory: Path, *, maxmemory: str = "") -> None:
        self.directory = directory
        self.maxmemory = maxmemory
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def url_for(self, db: int) -> str:
        """Another logical database of the same server (tests that must not share keys)."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    @contextmanager
    def empty_db(self, db: int) -> Iterator[Redis]:
        """A client on logical database ``db``, emptied before and after: a test module's own keys."""
        from redis import Redis

        client = Redis.from_url(self.url_for(db))
        client.flushdb()
        try:
            yield client
        finally:
            client.flushdb()
            client.close()

    def __enter__(self) -> Self:
        if not Path(REDIS_SERVER).is_file():
            raise RedisServerError(f"{REDIS_SERVER} not found: run scripts/bootstrap.sh (apt package redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        for _attempt in range(5):
            self.port = _free_port()
            config = self.directory / "redis.conf"
            lines = [
                "bind 127.0.0.1",
                f"port {self.port}",
                "protected-mode yes",
                f"dir {self.directory}",
                'save ""',
                "appendonly no",
                "daemonize no",
                "databases 64",
                "loglevel warning",
                f"logfile {self.directory / 'redis.log'}",
            ]
            if self.maxmemory:
                lines.append(f"maxmemory {self.maxmemory}")
            config.write_text("\n".join(lines) + "\n")
            self.process = subprocess.Popen([REDIS_SERVER, str(config)], stdout=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self._stop()
        log = self.directory / "redis.log"
        tail = log.read_text("utf-8", "replace")[-2000:] if log.exists() else ""
        raise RedisServerError(f"redis-server did not start:\n{tail}")

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
