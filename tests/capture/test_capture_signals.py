"""A crawl stopped by SIGTERM or SIGINT still closes and renames its WARC file."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from portal_archive.demo.run import crawl_env
from portal_archive.warc.check import check_files
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


class SlowPortal(BaseHTTPRequestHandler):
    """A home page linking 200 list pages that each take a while to answer."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif self.path == "/":
            body = "".join(f'<a href="/category/c{i}">c{i}</a>' for i in range(200)).encode()
        else:
            time.sleep(0.3)
            body = f"<html><body><p>{self.path}</p></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def slow_portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPortal)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_closes_and_renames_the_open_file(slow_portal: str, tmp_path: Path, signum: int) -> None:
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "bendi",
        "-a",
        f"base_url={slow_portal}",
        "-s",
        f"WARC_DIR={tmp_path}",
        "-s",
        "LOG_LEVEL=INFO",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=2",
    ]
    process = subprocess.Popen(
        command, env=crawl_env(), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.warc.gz.open")):
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "no .open WARC file appeared"
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert not list(tmp_path.glob("*.open"))
    files = list(tmp_path.glob("*.warc.gz"))
    assert len(files) == 1
    checked, problems = check_files(files)
    assert checked == 1 and problems == []
    assert b"Closed WARC file" in stderr
