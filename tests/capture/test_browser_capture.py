"""Pages rendered by real Chromium: the archive keeps the server's bytes plus the rendered DOM."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from portal_archive.demo.run import crawl_env
from portal_archive.warc.check import check_files
from tests.conftest import LINT_WARC, PROJECT_ROOT, lint_available

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} not installed (make setup installs it)"),
]


@pytest.fixture(scope="module")
def rendered_crawl(demo_portal: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    entry = next(e for e in demo_portal.manifest.entries if e.kind == "article" and e.delivery == "api")
    out = tmp_path_factory.mktemp("rendered")
    items = out / "items.jsonl"
    command = [
        sys.executable, "-m", "scrapy", "runspider", str(PROJECT_ROOT / "tests/spiders_for_tests/render_once.py"),
        "-a", f"url={entry.url}", "-a", "wait_for=article .ProseMirror p",
        "-s", f"WARC_DIR={out / 'warc'}", "-s", f"RUN_STATS_FILE={out / 'stats.json'}", "-O", str(items),
    ]  # fmt: skip
    result = subprocess.run(command, env=crawl_env(), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    records = []
    http_lines: dict[str, str] = {}
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                records.append((record.rec_type, record.rec_headers, record.content_stream().read()))
                if record.http_headers is not None:
                    http_lines[record.rec_headers.get_header("WARC-Record-ID")] = (
                        f"{record.http_headers.protocol} {record.http_headers.statusline}"
                    )
    return {
        "entry": entry,
        "dir": out / "warc",
        "items": [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()],
        "stats": json.loads((out / "stats.json").read_text(encoding="utf-8")),
        "records": records,
        "http_lines": http_lines,
        "log": result.stderr,
    }


def test_rendered_body_reaches_the_callback(rendered_crawl: dict[str, Any]) -> None:
    (item,) = rendered_crawl["items"]
    first_paragraph = rendered_crawl["entry"].body_text.split("\n")[0]
    assert first_paragraph[:40] in item["text"]


def test_document_archived_once_as_sent_and_dom_as_resource(rendered_crawl: dict[str, Any]) -> None:
    entry = rendered_crawl["entry"]
    records = rendered_crawl["records"]
    documents = [h for t, h, _ in records if t == "response" and h.get_header("WARC-Target-URI") == entry.url]
    assert len(documents) == 1
    (item,) = rendered_crawl["items"]
    assert item["warc_record_id"] == documents[0].get_header("WARC-Record-ID")
    resources = [(h, body) for t, h, body in records if t == "resource"]
    assert len(resources) == 1
    headers, dom = resources[0]
    assert headers.get_header("WARC-Target-URI") == "urn:dom:" + entry.url
    assert headers.get_header("WARC-Refers-To") == item["warc_record_id"]
    assert headers.get_header("WARC-Record-ID") == item["warc_dom_record_id"]
    assert entry.body_text.split("\n")[0][:40].encode("utf-8") in dom


def test_browser_network_exchanges_archived(rendered_crawl: dict[str, Any]) -> None:
    posts = [
        (h, body) for t, h, body in rendered_crawl["records"]
        if t == "request" and h.get_header("WARC-Target-URI").endswith("/public/v1/article/getDetail")
    ]  # fmt: skip
    assert len(posts) == 1
    headers, body = posts[0]
    assert rendered_crawl["http_lines"][headers.get_header("WARC-Record-ID")] == (
        "POST /public/v1/article/getDetail HTTP/1.1"
    )
    assert json.loads(body) == {"uuid": rendered_crawl["entry"].url.rsplit("/", 1)[1]}
    api = [
        body for t, h, body in rendered_crawl["records"]
        if t == "response" and h.get_header("WARC-Target-URI").endswith("/public/v1/article/getDetail")
    ]  # fmt: skip
    assert len(api) == 1 and b"article_title" in api[0]
    stats = rendered_crawl["stats"]
    assert stats["warc/browser/exchanges"] >= 1
    assert stats.get("warc/browser/errors", 0) == 0
    assert stats["warc/records/resource"] == 1


def test_rendered_capture_is_conformant(rendered_crawl: dict[str, Any]) -> None:
    checked, problems = check_files([rendered_crawl["dir"]])
    assert checked == 1 and [str(p) for p in problems] == []
    if lint_available():
        files = [str(p) for p in rendered_crawl["dir"].glob("*.warc.gz")]
        lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
