"""Bodies cut short by the server or by the size limit are archived as received, marked truncated."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.demo.run import crawl_env
from portal_archive.warc.check import check_files
from tests.conftest import LINT_WARC, PROJECT_ROOT, lint_available

pytestmark = pytest.mark.slow
BIG = b"<html><body>" + b"<p>" + "长".encode() * 40_000 + b"</p></body></html>"


class CuttingSite(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self._send(b"User-agent: *\nAllow: /\n")
        elif self.path == "/":
            self._send(b'<a href="/cut">cut</a> <a href="/big">big</a> <a href="/announced">announced</a>')
        elif self.path == "/cut":
            # Announces 5,000 bytes, sends 1,200, then closes the connection.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>" + b"x" * 1185)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif self.path == "/big":
            # No Content-Length: the size is only known while streaming.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(BIG), 8192):
                self.wfile.write(BIG[i : i + 8192])
            self.close_connection = True
        elif self.path == "/announced":
            self._send(BIG)
        else:
            self.send_error(404)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cut_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CuttingSite)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    out = tmp_path_factory.mktemp("cut")
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "bendi",
        "-a",
        f"base_url={base}",
        "-s",
        f"WARC_DIR={out}",
        "-s",
        f"RUN_STATS_FILE={out / 'stats.json'}",
        "-s",
        "DOWNLOAD_MAXSIZE=50000",
    ]
    result = subprocess.run(command, env=crawl_env(), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    server.shutdown()
    server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    records = {}
    for path in out.glob("*.warc.gz"):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI").removeprefix(base)
                    records[uri] = (record.rec_headers, record.http_headers, record.raw_stream.read())
    yield {"dir": out, "records": records, "stats": json.loads((out / "stats.json").read_text()),
           "log": result.stderr}  # fmt: skip


def test_server_cut_is_archived_as_disconnect(cut_crawl: dict[str, Any]) -> None:
    warc_headers, http_headers, body = cut_crawl["records"]["/cut"]
    assert warc_headers.get_header("WARC-Truncated") == "disconnect"
    assert body == b"<html><body><p>" + b"x" * 1185
    assert http_headers.get_header("Content-Length") is None
    assert http_headers.get_header("X-Orig-Content-Length") == "5000"


def test_oversize_stream_is_cut_at_the_limit(cut_crawl: dict[str, Any]) -> None:
    warc_headers, _, body = cut_crawl["records"]["/big"]
    assert warc_headers.get_header("WARC-Truncated") == "length"
    assert 50_000 <= len(body) < len(BIG)  # cut after the socket read that crossed the limit
    assert BIG.startswith(body)


def test_announced_oversize_keeps_headers(cut_crawl: dict[str, Any]) -> None:
    warc_headers, http_headers, body = cut_crawl["records"]["/announced"]
    assert warc_headers.get_header("WARC-Truncated") == "length"
    assert body == b""
    assert http_headers.get_header("X-Orig-Content-Length") == str(len(BIG))
    assert cut_crawl["stats"]["fetch/oversize"] == 2


def test_cut_records_are_conformant(cut_crawl: dict[str, Any]) -> None:
    checked, problems = check_files([cut_crawl["dir"]])
    assert checked == 1 and [str(p) for p in problems] == []
    if lint_available():
        files = [str(p) for p in Path(cut_crawl["dir"]).glob("*.warc.gz")]
        lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
    assert "Traceback" not in cut_crawl["log"]
