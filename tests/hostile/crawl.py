"""Run ``scrapy crawl portal`` against the hostile portal and collect everything a test asserts on.

The crawl is a subprocess (a fresh reactor, the real CLI), driven by a TOML profile written here.
While it runs, the process's listening TCP sockets are sampled from ``/proc``: a crawl must open
no port (no telnet console, no remote control).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from portal_archive.demo.run import crawl_env
from tests.hostile.server import Hit
from tests.hostile.site import HostileSite

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UNICODE_HOST = "新闻.localhost"
DOWNLOAD_TIMEOUT = 2
RETRY_TIMES = 1
REDIRECT_MAX_TIMES = 5
DOWNLOAD_MAXSIZE = 1024 * 1024
RETRY_AFTER_MAX = 2
MAX_PAGES = 5
MAX_DEPTH = 4

PROFILE = f"""
# The hostile portal: every case is an article URL under /a/, plus two traps for list pages.
name = "hostile"
base_url = "http://hostile.localhost"
delay = 0
start_paths = ["/"]

[links]
article = ['^/a/']
follow = ['^/$', '^/list', '^/cal/']
pagination = ["a.page-next"]
max_pages = {MAX_PAGES}
max_depth = {MAX_DEPTH}

[selectors]
title = "h1"
date = ".time"
body = "#content"
"""


@dataclass(frozen=True)
class ArchivedRecord:
    """One ``response`` or ``revisit`` record, split into its raw HTTP head and stored entity."""

    warc_type: str
    uri: str
    warc_fields: dict[str, str]
    status: int
    head: bytes
    payload: bytes

    @property
    def target(self) -> str:
        """Path and query of the target URI, percent-encoded as archived."""
        parts = urlsplit(self.uri)
        return parts.path + ("?" + parts.query if parts.query else "")

    def header_lines(self) -> list[bytes]:
        return self.head.split(b"\r\n")[1:]


@dataclass
class HostileCrawl:
    returncode: int
    log: str
    stats: dict[str, Any]
    items: list[dict[str, Any]]
    records: list[ArchivedRecord]
    request_hosts: list[bytes]
    hits: list[Hit]
    decoy_hits: list[Hit]
    listening_ports: set[int]
    warc_dir: Path
    elapsed: float
    base_url: str
    ascii_base_url: str

    def hits_for(self, target: str) -> list[Hit]:
        """Requests whose path (and query, when ``target`` has one) equals ``target``."""
        if "?" in target:
            return [hit for hit in self.hits if hit.target == target]
        return [hit for hit in self.hits if hit.path == target]

    def records_for(self, target: str) -> list[ArchivedRecord]:
        return [record for record in self.records if record.target == target]

    def item(self, target: str) -> dict[str, Any]:
        (found,) = self.items_for(target)
        return found

    def items_for(self, target: str) -> list[dict[str, Any]]:
        return [item for item in self.items if _target(item["url"]) == target]


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _listening_inodes() -> dict[str, int]:
    """Socket inode → port of every TCP socket listening on this machine."""
    found: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                found[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return found


def listening_ports(pid: int) -> set[int]:
    """Ports on which process ``pid`` listens (read from ``/proc``; empty if it has exited)."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = fd.readlink().as_posix()
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
    except OSError:
        return set()
    listening = _listening_inodes()
    return {listening[inode] for inode in inodes if inode in listening}


def read_records(warc_dir: Path) -> tuple[list[ArchivedRecord], list[bytes]]:
    """Response/revisit records, and the ``Host`` line of every request record, from all WARC files."""
    records: list[ArchivedRecord] = []
    hosts: list[bytes] = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, no_record_parse=True):
                block = record.raw_stream.read()
                fields = dict(record.rec_headers.headers)
                if record.rec_type == "request":
                    hosts += [line for line in block.split(b"\r\n") if line.lower().startswith(b"host:")]
                if record.rec_type not in ("response", "revisit"):
                    continue
                uri = fields.get("WARC-Target-URI", "")
                if not uri.startswith("http"):
                    continue
                head, _, payload = block.partition(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                records.append(ArchivedRecord(record.rec_type, uri, fields, status, head, payload))
    return records, hosts


def run_hostile_crawl(site: HostileSite, work: Path) -> HostileCrawl:
    """Crawl ``site`` with the generic ``portal`` spider; short timeouts keep the slow cases quick."""
    profile = work / "hostile.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    out = work / "out"
    command = [
        sys.executable, "-m", "scrapy", "crawl", "portal",
        "-a", f"profile={profile}", "-a", f"base_url={site.base_url}",
        "-O", str(out / "items.jsonl"),
        "-s", f"WARC_DIR={out / 'warc'}",
        "-s", f"RUN_STATS_FILE={out / 'stats.json'}",
        "-s", f"DOWNLOAD_TIMEOUT={DOWNLOAD_TIMEOUT}",
        "-s", f"RETRY_TIMES={RETRY_TIMES}",
        "-s", f"REDIRECT_MAX_TIMES={REDIRECT_MAX_TIMES}",
        "-s", f"DOWNLOAD_MAXSIZE={DOWNLOAD_MAXSIZE}",
        "-s", f"RETRY_AFTER_MAX={RETRY_AFTER_MAX}",
        "-s", "TWISTED_DNS_RESOLVER=tests.hostile.resolver.LocalhostResolver",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip
    log_path = work / "crawl.log"
    ports: set[int] = set()
    started = time.monotonic()
    with log_path.open("w+b") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=crawl_env(), cwd=PROJECT_ROOT)

        def sample() -> None:
            while process.poll() is None:
                ports.update(listening_ports(process.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = process.wait(timeout=180)
        sampler.join()
    elapsed = time.monotonic() - started
    text = log_path.read_text(encoding="utf-8", errors="replace")
    stats_file = out / "stats.json"
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    items_file = out / "items.jsonl"
    raw_items = items_file.read_text(encoding="utf-8") if items_file.exists() else ""
    items = [json.loads(line) for line in raw_items.splitlines() if line.strip()]
    records, hosts = read_records(out / "warc")
    return HostileCrawl(
        returncode=returncode,
        log=text,
        stats=stats,
        items=items,
        records=records,
        request_hosts=hosts,
        hits=list(site.server.hits),
        decoy_hits=list(site.decoy.hits),
        listening_ports=ports,
        warc_dir=out / "warc",
        elapsed=elapsed,
        base_url=site.base_url,
        ascii_base_url=site.ascii_base_url,
    )
