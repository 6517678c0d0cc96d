"""Replay of a demo crawl, end to end: pywb in place, the ``replay`` command, the WACZ, ReplayWeb.page.

pywb gevent-patches the interpreter on import, so it only runs in subprocesses here (``PROBE``).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.archive.cdxj import default_index_path
from portal_archive.archive.metadata import METADATA_URI_PREFIX, decode
from portal_archive.demo.run import CrawlResult
from portal_archive.extract import detect_charset
from portal_archive.replay.pywb_app import ReplayConfig
from portal_archive.replay.pywbenv import pywb_bin, pywb_python
from portal_archive.replay.wacz import write_wacz
from tests.conftest import PROJECT_ROOT
from tests.replay_samples import GBK_HTML, SHADOWED_URL, write_sample_archive

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
RWP_DIR = PROJECT_ROOT / "vendor" / "replaywebpage"
SCHEMA = json.loads((PROJECT_ROOT / "docs" / "article-metadata-1.schema.json").read_text(encoding="utf-8"))
FAR_FUTURE = "29991231235959"

# Runs pywb's WSGI app on a list of jobs: {"cwd", "config" (None: pywb's defaults in cwd), "requests"}.
# It runs under pywb's own Python (portal_archive.replay.pywbenv), which has no test tools: stdlib only.
PROBE = r"""
from gevent import monkey
monkey.patch_all(thread=False)
import base64, json, os, sys
from pathlib import Path
from pywb.apps.frontendapp import FrontEndApp
from tests.wsgi_call import call_wsgi
jobs = json.load(sys.stdin)
results = []
for job in jobs:
    os.chdir(job["cwd"])
    app = FrontEndApp(config_file=job["config"])
    replies = []
    for item in job["requests"]:
        status, headers, body = call_wsgi(app, item["path"], item.get("headers", {}))
        replies.append({"status": status, "headers": headers, "body": base64.b64encode(body).decode("ascii")})
    app.warcserver_server.stop()
    results.append(replies)
Path(sys.argv[1]).write_text(json.dumps(results))
"""


@dataclass(frozen=True)
class Record:
    """One record of the demo archive, read back with warcio."""

    warc_type: str
    url: str
    date: str
    record_id: str
    refers_to: str
    status: int
    headers: list[tuple[str, str]]
    block: bytes

    @property
    def timestamp(self) -> str:
        return "".join(ch for ch in self.date if ch.isdigit())[:14]


@dataclass(frozen=True)
class DemoArchive:
    directory: Path
    results: list[CrawlResult]
    records: list[Record]
    portal: Any

    def by_url(self) -> dict[str, list[Record]]:
        found: dict[str, list[Record]] = defaultdict(list)
        for record in self.records:
            found[record.url].append(record)
        return found

    def response(self, url: str) -> Record:
        return next(r for r in self.by_url()[url] if r.warc_type == "response")

    def metadata(self) -> list[Record]:
        return [r for r in self.records if r.warc_type == "metadata"]

    def articles(self, charset: str | None = None) -> list[Any]:
        return [
            e
            for e in self.portal.manifest.articles()
            if e.reachable and not e.js_only and (charset is None or e.charset == charset)
        ]


def read_records(directory: Path) -> Iterator[Record]:
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "revisit", "metadata"):
                    continue
                http = record.http_headers if record.rec_type != "metadata" else None
                yield Record(
                    warc_type=record.rec_type,
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    date=record.rec_headers.get_header("WARC-Date"),
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                    refers_to=record.rec_headers.get_header("WARC-Refers-To") or "",
                    status=int(http.get_statuscode()) if http else 0,
                    headers=list(http.headers) if http else [],
                    block=record.raw_stream.read(),
                )


@pytest.fixture(scope="module")
def demo(demo_portal: Any, demo_archive: tuple[Path, list[CrawlResult]]) -> DemoArchive:
    directory, results = demo_archive
    for result in results:
        assert result.problems == [], result.log_tail
    return DemoArchive(directory, results, list(read_records(directory)), demo_portal)


def probe(jobs: list[dict[str, Any]], work: Path) -> list[list[dict[str, Any]]]:
    out = work / "probe.json"
    result = subprocess.run(
        [str(pywb_python()), "-c", PROBE, str(out)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    replies: list[list[dict[str, Any]]] = json.loads(out.read_text(encoding="utf-8"))
    for job in replies:
        for reply in job:
            reply["body"] = base64.b64decode(reply["body"])
            reply["header"] = {k.lower(): v for k, v in reply["headers"]}
    return replies


def our_config(directory: Path, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    config = ReplayConfig(directory, default_index_path(directory), collection="demo", framed=False).write(work)
    return {"cwd": str(work), "config": str(config)}


def charset_of(record: Record) -> str:
    """The page's charset as a browser finds it: header, then ``<meta>`` (in the decoded body)."""
    headers = {k.lower(): v for k, v in record.headers}
    body = gzip.decompress(record.block) if headers.get("content-encoding") == "gzip" else record.block
    return detect_charset(body, headers.get("content-type", ""))


def squash(text: str) -> str:
    """Whitespace runs (NBSP included) as one space: pages and extraction space text differently."""
    return " ".join(text.split())


def first_words(entry: Any) -> str:
    return squash(str(entry.body_text).strip().splitlines()[0])[:12]


# -- the crawl ------------------------------------------------------------------------------------


def test_crawl_writes_a_metadata_record_per_article_and_a_sorted_index(demo: DemoArchive) -> None:
    for result in demo.results:
        assert result.stats["warc/metadata/written"] == result.stats["item_scraped_count"]
        assert not result.stats.get("warc/metadata/errors")
    by_id = {r.record_id: r for r in demo.records}
    described = set()
    for record in demo.metadata():
        assert record.url.startswith(METADATA_URI_PREFIX)
        document = decode(record.block)
        jsonschema.validate(document, SCHEMA)
        assert document["capture"]["record_id"] == record.refers_to
        if record.refers_to in by_id:
            assert by_id[record.refers_to].url == document["url"] == record.url.removeprefix(METADATA_URI_PREFIX)
        described.add(document["url"])
    assert {e.url for e in demo.articles()} <= described
    index = default_index_path(demo.directory)
    lines = index.read_bytes().splitlines()
    assert lines == sorted(lines)
    assert {json.loads(line.split(b" ", 2)[2])["filename"] for line in lines} == {
        p.name for p in demo.directory.glob("*.warc.gz")
    }


# -- pywb over the folder, in place -------------------------------------------------------------


def test_pywb_replays_the_folder_through_our_index_and_config(demo: DemoArchive, tmp_path: Path) -> None:
    by_url = demo.by_url()
    entries = [e for e in demo.portal.manifest.entries if e.reachable and e.url in by_url]
    raw_requests = []
    for entry in entries:
        capture = demo.response(entry.url)
        headers = {"Accept-Encoding": "gzip"} if entry.content_encoding == "gzip" else {}
        raw_requests.append({"path": f"/demo/{capture.timestamp}id_/{entry.url}", "headers": headers})

    gbk = demo.articles("gbk")
    utf8 = [e for e in demo.articles("utf-8") if e.site == "infoq"][:1]  # gzip-encoded
    rewritten = gbk + utf8
    rewrite_requests = [{"path": f"/demo/{demo.response(e.url).timestamp}/{e.url}"} for e in rewritten]

    redirect = next(e for e in demo.portal.manifest.entries if e.kind == "redirect" and e.status == 301)
    redirect_request = {"path": f"/demo/{demo.response(redirect.url).timestamp}/{redirect.url}"}

    broken = next(e for e in demo.portal.manifest.entries if e.kind == "error" and e.status == 500)
    revisits = [r for r in by_url[broken.url] if r.warc_type == "revisit"]
    assert revisits, "the retried 500 page should have produced revisits"
    revisit_requests = [{"path": f"/demo/{r.timestamp}id_/{broken.url}"} for r in revisits]

    # A metadata record is written after its page: the page must still win at that time and later.
    shadow_requests = []
    for record in demo.metadata():
        page_url = record.url.removeprefix(METADATA_URI_PREFIX)
        if page_url not in by_url or all(r.warc_type != "response" for r in by_url[page_url]):
            continue
        for timestamp in (record.timestamp, FAR_FUTURE):
            gzipped = ("Content-Encoding", "gzip") in demo.response(page_url).headers
            headers = {"Accept-Encoding": "gzip"} if gzipped else {}
            shadow_requests.append({"path": f"/demo/{timestamp}id_/{page_url}", "url": page_url, "headers": headers})

    (raw, rewrite, (moved,), revisit, shadow) = probe(
        [
            {**our_config(demo.directory, tmp_path / "pywb"), "requests": requests}
            for requests in (raw_requests, rewrite_requests, [redirect_request], revisit_requests, shadow_requests)
        ],
        tmp_path,
    )

    for entry, reply in zip(entries, raw, strict=True):
        assert reply["status"] == entry.status, entry.url
        if entry.status not in (301, 302):
            assert reply["body"] == demo.response(entry.url).block, entry.url

    for entry, reply in zip(rewritten, rewrite, strict=True):
        assert reply["status"] == 200, entry.url
        text = reply["body"].decode(charset_of(demo.response(entry.url)))
        assert entry.title in text and first_words(entry) in squash(text), entry.url

    assert moved["status"] == 301
    assert moved["header"]["location"].endswith(f"/demo/{demo.response(redirect.url).timestamp}/{redirect.location}")

    original = demo.response(broken.url)
    for reply in revisit:
        assert reply["status"] == 500
        assert reply["body"] == original.block

    assert shadow
    for request, reply in zip(shadow_requests, shadow, strict=True):
        assert reply["status"] == 200, request["path"]
        assert reply["header"]["content-type"].startswith("text/html"), request["path"]
        assert reply["body"] == demo.response(request["url"]).block, request["path"]


def test_a_metadata_record_under_the_page_url_would_shadow_the_page(tmp_path: Path) -> None:
    """The control for the test above: why the records are filed under ``urn:article:``."""
    from portal_archive.archive.cdxj import build_index

    sample = write_sample_archive(tmp_path / "archive", shadowing_control=True)
    build_index(sample.directory)
    request = {"path": f"/demo/{FAR_FUTURE}id_/{SHADOWED_URL}"}
    ((shadowed,),) = probe([{**our_config(sample.directory, tmp_path / "pywb"), "requests": [request]}], tmp_path)
    assert shadowed["header"]["content-type"].startswith("application/json")
    assert shadowed["body"] != GBK_HTML


# -- portal-archive replay ------------------------------------------------------------------------


def test_replay_command_serves_the_folder_on_loopback(demo: DemoArchive) -> None:
    article = demo.articles("gbk")[0]
    capture = demo.response(article.url)
    process = subprocess.Popen(
        [str(BIN / "portal-archive"), "replay", str(demo.directory), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/archive/)$", line.strip())
        assert match, line + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        base = match.group(1)
        with urllib.request.urlopen(f"{base}{capture.timestamp}mp_/{article.url}", timeout=30) as reply:
            assert reply.status == 200
            page = reply.read().decode(charset_of(capture))
        assert article.title in page and first_words(article) in squash(page)
        with urllib.request.urlopen(f"{base}{capture.timestamp}id_/{article.url}", timeout=30) as reply:
            assert reply.read() == capture.block
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM)
    # No third-party warning on the terminal (gevent's MonkeyPatchWarning about pywb patching again).
    assert process.stderr is not None and "Warning" not in process.stderr.read()


def test_html_report_links_open_the_archived_pages_in_replay(demo: DemoArchive, tmp_path: Path) -> None:
    """A report outlives the portal: its titles open the captures where ``portal-archive replay``
    serves them by default, and they resolve there; ``--live-links`` links the live pages."""
    import html

    from portal_archive.cli import main
    from portal_archive.cli.report import DEFAULT_REPLAY_URL

    report = tmp_path / "report.html"
    assert main(["dedup-report", str(demo.directory), "--format", "html", "-o", str(report), "--no-progress"]) == 0
    page = report.read_text("utf-8")
    archived = re.findall(r'href="(http://127\.0\.0\.1:8080/archive/\d{14}/[^"]+)"', page)
    links = [html.unescape(link) for link in archived]
    assert len(links) >= 30 and "portal-archive replay DIR" in page
    process = subprocess.Popen(
        [str(BIN / "portal-archive"), "replay", str(demo.directory), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        match = re.search(r"at (http://127\.0\.0\.1:\d+/archive/)$", process.stdout.readline().strip())
        assert match
        for link in links[:: max(1, len(links) // 8)]:  # the same URL form, at the port this replay took
            with urllib.request.urlopen(link.replace(DEFAULT_REPLAY_URL, match.group(1)), timeout=30) as reply:
                assert reply.status == 200, link
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    live = tmp_path / "live.html"
    argv = ["dedup-report", str(demo.directory), "--format", "html", "-o", str(live), "--no-progress", "--live-links"]
    assert main(argv) == 0
    assert DEFAULT_REPLAY_URL not in live.read_text("utf-8")


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_client_rendered_articles_replay_with_their_body_in_chromium(demo: DemoArchive, tmp_path: Path) -> None:
    """An empty shell replays with its body: the page's own POST to getDetail (and the content URL it
    names) find their archived answers, filed under the request body by the index."""
    shells = [
        next(e for e in demo.portal.manifest.articles() if e.delivery == delivery)
        for delivery in ("api", "prosemirror", "content_url")
    ]
    for entry in shells:  # the served HTML has no body: only replayed API answers can show it
        assert first_words(entry) not in squash(demo.response(entry.url).block.decode("utf-8", "replace"))
    process = subprocess.Popen(
        [str(BIN / "portal-archive"), "replay", str(demo.directory), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    texts: dict[str, str] = {}

    def browse(base: str) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--disable-gpu"])
            try:
                page = browser.new_page()
                for entry in shells:
                    page.goto(f"{base}{demo.response(entry.url).timestamp}/{entry.url}")
                    wanted = [entry.title, first_words(entry)]
                    texts[entry.url] = _frame_texts_until(page, wanted, timeout_s=60, misses=[])
                page.screenshot(path=str(tmp_path / "shell.png"))
            finally:
                browser.close()

    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/archive/)$", line.strip())
        assert match, line + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        worker = threading.Thread(target=browse, args=(match.group(1),))  # sync Playwright wants its own thread
        worker.start()
        worker.join(timeout=240)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    for entry in shells:
        shown = squash(texts.get(entry.url, ""))
        assert entry.title in shown and first_words(entry) in shown, (entry.delivery, shown[:300])
        assert all(squash(line)[:12] in shown for line in str(entry.body_text).splitlines()[-2:]), entry.delivery


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_no_replay_server_outlives_the_command(demo: DemoArchive, stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [str(BIN / "portal-archive"), "replay", str(demo.directory), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        port = int(match.group(1))
        servers = _children(process.pid)
        assert len(servers) == 1
        os.kill(process.pid, stop)  # the command only, as a service manager or a closed terminal does
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(servers[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(servers[0]), f"pywb (pid {servers[0]}) outlived the command"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_replay_command_refuses_a_folder_without_warcs(tmp_path: Path) -> None:
    (tmp_path / "crawl.warc.gz.open").write_bytes(b"")
    result = subprocess.run(
        [str(BIN / "portal-archive"), "replay", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "no WARC files" in result.stderr and "is a crawl still running?" in result.stderr
    assert result.stdout == ""


# -- show ------------------------------------------------------------------------------------------


def test_show_returns_the_gbk_page_unchanged(demo: DemoArchive, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    from portal_archive.cli import main

    gbk = demo.articles("gbk")
    for article in gbk:
        assert main(["show", article.url, "--raw", "--archive", str(demo.directory)]) == 0
        out = capsysbinary.readouterr().out
        assert out == demo.response(article.url).block
        assert article.title.encode("gbk") in out
    # and through the console script, with stdout a pipe
    result = subprocess.run(
        [str(BIN / "portal-archive"), "show", gbk[0].url, "--raw", "--archive", str(demo.directory)],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == demo.response(gbk[0].url).block


# -- WACZ: validation, pywb import, ReplayWeb.page ----------------------------------------------


@pytest.fixture(scope="module")
def demo_wacz(demo: DemoArchive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("wacz") / "demo.wacz"
    report = write_wacz(demo.directory, output, title="Demo portal")
    assert report.extracted_pages == 0
    return output


def test_wacz_validates_and_lists_the_articles(demo: DemoArchive, demo_wacz: Path) -> None:
    result = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(demo_wacz)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    import zipfile

    with zipfile.ZipFile(demo_wacz) as archive:
        _, *lines = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()
    pages = {p["url"]: p for p in map(json.loads, lines)}
    for article in demo.articles():
        assert pages[article.url]["title"] == article.title
        assert first_words(article) in squash(pages[article.url]["text"])


def test_wacz_imports_into_pywb_and_replays(demo: DemoArchive, demo_wacz: Path, tmp_path: Path) -> None:
    for command in (["init", "demo"], ["add", "demo", "--unpack-wacz", str(demo_wacz)]):
        result = subprocess.run([str(pywb_bin("wb-manager")), *command], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    articles = demo.articles("gbk")[:2] + demo.articles("utf-8")[:1]
    requests = []
    for article in articles:
        timestamp = demo.response(article.url).timestamp
        requests += [
            {"path": f"/demo/{timestamp}id_/{article.url}", "headers": {"Accept-Encoding": "gzip"}},
            {"path": f"/demo/{timestamp}mp_/{article.url}"},
        ]
    (replies,) = probe([{"cwd": str(tmp_path), "config": None, "requests": requests}], tmp_path)
    for n, article in enumerate(articles):
        raw, rewritten = replies[2 * n], replies[2 * n + 1]
        capture = demo.response(article.url)
        assert raw["status"] == 200 and raw["body"] == capture.block
        assert article.title in rewritten["body"].decode(charset_of(capture))


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with byte ranges: ReplayWeb.page reads a WACZ by range requests."""

    routes: ClassVar[dict[str, Path]] = {}
    misses: ClassVar[list[str]] = []
    """Paths asked for and not served: replay URLs that reached the network, not the service worker."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        target = self.routes.get(self.path.split("?", 1)[0])
        if target is None:
            self.misses.append(self.path)
            self.send_error(404)
            return
        data = target.read_bytes()
        content_type = {".js": "application/javascript", ".html": "text/html; charset=utf-8"}.get(
            target.suffix, "application/octet-stream"
        )
        match = re.match(r"bytes=(\d*)-(\d*)$", self.headers.get("Range", ""))
        if match and (match.group(1) or match.group(2)):
            start = int(match.group(1)) if match.group(1) else len(data) - int(match.group(2))
            end = int(match.group(2)) if match.group(1) and match.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            data = data[start : end + 1]
        else:
            self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data)


def _frame_texts_until(page: Any, wanted: list[str], timeout_s: float, misses: list[str]) -> str:
    """Poll every frame (the replay iframe sits inside shadow DOM) until one shows all of ``wanted``.

    On a first visit the viewer can open its replay frame before its service worker controls the
    page (seen on a loaded machine): the frame's request then reaches the static server, which has
    no such path. A visitor reloads; so does this, twice at most, once the worker is installed.
    """
    import time

    deadline = time.monotonic() + timeout_s
    seen = ""
    reloads = 0
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                text = frame.evaluate("document.body ? document.body.innerText : ''")
            except Exception:  # frames come and go while the viewer loads  # noqa: S112
                continue
            if all(w in squash(text) for w in wanted):
                return str(text)
            seen = seen or str(text)
        if misses and reloads < 2:
            reloads += 1
            misses.clear()
            page.wait_for_timeout(2000)  # the worker finishes installing
            page.reload()
        page.wait_for_timeout(250)
    return seen


@pytest.mark.skipif(not (RWP_DIR / "ui.js").is_file(), reason="ReplayWeb.page not installed: run scripts/bootstrap.sh")
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_wacz_opens_in_replaywebpage(demo: DemoArchive, demo_wacz: Path, tmp_path: Path) -> None:
    article = next(e for e in demo.articles("gbk") if e.charset_in_header)
    page_html = tmp_path / "index.html"
    page_html.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><script src="/ui.js"></script></head>'
        '<body style="margin:0"><replay-web-page style="display:block;height:100vh" source="/demo.wacz"'
        f' url="{article.url}"></replay-web-page></body></html>',
        encoding="utf-8",
    )
    handler = type(
        "Routes",
        (_RangeHandler,),
        {
            "routes": {
                "/": page_html,
                "/index.html": page_html,
                "/ui.js": RWP_DIR / "ui.js",
                "/replay/sw.js": RWP_DIR / "sw.js",
                "/demo.wacz": demo_wacz,
            },
            "misses": [],
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wanted = [article.title, first_words(article)]
    screenshot = tmp_path / "replaywebpage.png"

    def browse() -> str:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                ],
            )
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                text = _frame_texts_until(page, wanted, timeout_s=90, misses=handler.misses)
                page.screenshot(path=str(screenshot))
                return text
            finally:
                browser.close()

    try:
        # Playwright's sync API refuses to run where an asyncio loop is running: give it a thread.
        result: list[str] = []
        worker = threading.Thread(target=lambda: result.append(browse()))
        worker.start()
        worker.join(timeout=180)
    finally:
        server.shutdown()
        server.server_close()
    assert result, "the browser did not finish"
    assert all(w in squash(result[0]) for w in wanted), (result[0][:500], handler.misses)
    assert screenshot.stat().st_size > 10_000
