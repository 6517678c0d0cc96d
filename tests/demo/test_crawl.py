"""End to end: the portal spiders crawl the demo portal into conformant, replayable WARC files."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.demo.run import CrawlResult
from portal_archive.replay.pywbenv import pywb_python
from portal_archive.warc.check import check_files
from tests.conftest import LINT_WARC, PROJECT_ROOT, lint_available

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Capture:
    """One archived response or revisit, as read back from the WARC files."""

    warc_type: str
    url: str
    status: int
    date: str
    payload: bytes
    headers: list[tuple[str, str]]
    file: str


@dataclass(frozen=True)
class DemoCrawl:
    directory: Path
    results: list[CrawlResult]
    captures: list[Capture]

    def by_url(self) -> dict[str, list[Capture]]:
        found: dict[str, list[Capture]] = defaultdict(list)
        for capture in self.captures:
            found[capture.url].append(capture)
        return found


def read_captures(directory: Path) -> Iterator[Capture]:
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "revisit"):
                    continue
                yield Capture(
                    warc_type=record.rec_type,
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    status=int(record.http_headers.get_statuscode()),
                    date=record.rec_headers.get_header("WARC-Date"),
                    payload=record.raw_stream.read(),
                    headers=list(record.http_headers.headers),
                    file=path.name,
                )


@pytest.fixture(scope="session")
def demo_crawl(demo_archive: tuple[Path, list[CrawlResult]]) -> DemoCrawl:
    directory, results = demo_archive
    return DemoCrawl(directory, results, list(read_captures(directory)))


def test_every_crawl_succeeds_and_counts_its_records(demo_crawl: DemoCrawl) -> None:
    for result in demo_crawl.results:
        assert result.problems == [], result.log_tail
        stats = result.stats
        assert stats["warc/records/response"] > 0
        assert stats["warc/records/request"] == stats["warc/records/response"] + stats.get("warc/records/revisit", 0)
        assert stats["warc/records/warcinfo"] == stats["warc/files"] >= 1
        assert stats["warc/bytes"] == sum(
            p.stat().st_size for p in demo_crawl.directory.glob(f"{result.spider}-*.warc.gz")
        )


def test_nothing_left_open(demo_crawl: DemoCrawl) -> None:
    assert not list(demo_crawl.directory.glob("*.open"))
    assert len(list(demo_crawl.directory.glob("*.warc.gz"))) >= 3


def test_every_reachable_manifest_url_archived_exactly_once(demo_portal: Any, demo_crawl: DemoCrawl) -> None:
    captured = demo_crawl.by_url()
    reachable = {e.url for e in demo_portal.manifest.entries if e.reachable}
    missing = sorted(reachable - set(captured))
    assert missing == []
    for url in reachable:
        kinds = [c.warc_type for c in captured[url]]
        # Retries of an identical payload (the 500 page) are revisits; one full response per URL.
        assert kinds.count("response") == 1, (url, kinds)
    # Script-driven requests (the JS-only page's API call, made by the browser) are archived too.
    scripted = {e.url for e in demo_portal.manifest.entries if e.kind == "api"}
    # The sources articles cite, archived one hop away; robots.txt of their sites obeyed.
    cited = {
        e.url
        for e in demo_portal.manifest.entries
        if (e.site in ("forbes", "verge") or e.kind == "cited") and not e.robots_disallowed
    }
    disallowed = {e.url for e in demo_portal.manifest.entries if e.robots_disallowed}
    assert disallowed and not disallowed & set(captured)
    assert sorted(cited - set(captured)) == []
    unexpected = sorted(set(captured) - reachable - scripted - cited)
    assert unexpected == []


def test_redirects_are_their_own_3xx_records(demo_portal: Any, demo_crawl: DemoCrawl) -> None:
    captured = demo_crawl.by_url()
    redirects = [e for e in demo_portal.manifest.entries if e.kind == "redirect" and e.reachable]
    assert {e.status for e in redirects} >= {301, 302}
    for entry in redirects:
        (capture,) = captured[entry.url]
        assert capture.status == entry.status
        location = dict((k.lower(), v) for k, v in capture.headers)["location"]
        assert urlsplit(location).path == urlsplit(entry.location).path


def test_gzip_and_cookies_kept_as_received(demo_portal: Any, demo_crawl: DemoCrawl) -> None:
    captured = demo_crawl.by_url()
    gzipped = [e for e in demo_portal.manifest.entries if e.content_encoding == "gzip" and e.reachable]
    assert gzipped
    for entry in gzipped:
        capture = next(c for c in captured[entry.url] if c.warc_type == "response")
        assert capture.payload.startswith(b"\x1f\x8b")
        assert ("Content-Encoding", "gzip") in capture.headers
    home = next(c for c in captured[demo_portal.aggregator_url + "/"] if c.warc_type == "response")
    assert len([v for k, v in home.headers if k.lower() == "set-cookie"]) == 2


def test_warcs_pass_our_checker(demo_crawl: DemoCrawl) -> None:
    checked, problems = check_files([demo_crawl.directory])
    assert checked >= 3
    assert [str(p) for p in problems] == []


def test_warcs_pass_warcio_check(demo_crawl: DemoCrawl) -> None:
    files = [str(p) for p in sorted(demo_crawl.directory.glob("*.warc.gz"))]
    code = "import sys; from warcio.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", code, "check", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not lint_available(), reason="shared WARC linter not present")
def test_warcs_pass_shared_linter_strict(demo_crawl: DemoCrawl) -> None:
    files = [str(p) for p in sorted(demo_crawl.directory.glob("*.warc.gz"))]
    result = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert "errors=0 warnings=0" in result.stdout


def fetch_live(url: str, accept_gzip: bool) -> bytes:
    """The entity body the demo server sends for ``url`` right now (transfer coding removed)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + ("?" + parts.query if parts.query else "")
    conn.request("GET", path, headers={"Accept-Encoding": "gzip" if accept_gzip else "identity"})
    body = conn.getresponse().read()
    conn.close()
    return body


def build_probe_index(directory: Path, index: Path) -> None:
    """The byte-sorted CDXJ index of the folder's WARCs, as cdxj-indexer writes it, for the probe."""
    from cdxj_indexer import CDXJIndexer

    warcs = sorted(str(p) for p in directory.iterdir() if p.name.endswith((".warc.gz", ".warc")))
    with index.open("w") as out:
        CDXJIndexer(out, warcs, sort=True, filename=None).process_all()


def replay(directory: Path, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = directory.parent / f"{directory.name}-replay.json"
    index = directory.parent / f"{directory.name}-replay.cdxj"
    build_probe_index(directory, index)
    result = subprocess.run(
        [str(pywb_python()), "-m", "tests.replay_probe", str(directory), str(index), str(out)],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return list(json.loads(out.read_text(encoding="utf-8")))


def pywb_timestamp(warc_date: str) -> str:
    return "".join(ch for ch in warc_date if ch.isdigit())[:14]


def test_pywb_id_replay_returns_exactly_the_bytes_sent(demo_portal: Any, demo_crawl: DemoCrawl) -> None:
    captured = demo_crawl.by_url()
    entries = [e for e in demo_portal.manifest.entries if e.reachable]
    requests, expected = [], []
    for entry in entries:
        capture = next(c for c in captured[entry.url] if c.warc_type == "response")
        gzip_page = entry.content_encoding == "gzip"
        requests.append(
            {
                "path": f"/demo/{pywb_timestamp(capture.date)}id_/{entry.url}",
                "headers": {"Accept-Encoding": "gzip"} if gzip_page else {},
            }
        )
        expected.append((entry, capture))
    replies = replay(demo_crawl.directory, requests)
    kinds_checked = set()
    for (entry, capture), reply in zip(expected, replies, strict=True):
        assert reply["status"] == entry.status, entry.url
        body = base64.b64decode(reply["body"])
        if entry.status in (301, 302):
            kinds_checked.add("redirect")
            continue
        assert body == capture.payload, entry.url
        if entry.kind in ("article", "list", "home", "robots", "sitemap", "feed"):
            assert body == fetch_live(entry.url, accept_gzip=entry.content_encoding == "gzip"), entry.url
        if entry.content_encoding == "gzip":
            kinds_checked.add("gzip")
            assert body.startswith(b"\x1f\x8b")
        if entry.charset == "gbk":
            kinds_checked.add("gbk")
            assert entry.title.encode("gbk") in body
        if entry.url == demo_portal.aggregator_url + "/":
            kinds_checked.add("cookies")
            assert len([v for k, v in reply["headers"] if k.lower() == "set-cookie"]) == 2
    assert kinds_checked == {"redirect", "gzip", "gbk", "cookies"}


def test_metadata_records_point_at_the_captures_of_the_cited_sources(demo_portal: Any, demo_crawl: DemoCrawl) -> None:
    """Each article's record lists its sources: the record id of a capture in the archive, or why none."""
    records: dict[str, tuple[str, str]] = {}
    cited: list[dict[str, Any]] = []
    for path in sorted(demo_crawl.directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                headers = record.rec_headers
                if record.rec_type in ("response", "revisit"):
                    records[headers.get_header("WARC-Record-ID")] = (
                        record.rec_type,
                        headers.get_header("WARC-Target-URI"),
                    )
                elif record.rec_type == "metadata" and headers.get_header("WARC-Target-URI").startswith("urn:article:"):
                    cited += json.loads(record.content_stream().read())["article"].get("cited", [])
    disallowed = {e.url for e in demo_portal.manifest.entries if e.robots_disallowed}
    assert cited and {c["url"] for c in cited} >= disallowed
    for capture in cited:
        if capture["url"] in disallowed:
            assert capture["reason"] == "robots.txt" and capture["record_id"] == ""
        elif capture.get("reason") != "the portal's own page":
            assert records[capture["record_id"]][1] in (capture["url"], capture.get("final_url")), capture
