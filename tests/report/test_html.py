"""The HTML report: escaped untrusted text, http(s)-only links, no network assets, and what a
browser shows (headless Chromium)."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from portal_archive.cli import main
from portal_archive.report.diff import side_by_side
from portal_archive.report.render_html import render_html, safe_href
from tests.report.test_inputs import (
    article_html,
    http_response,
    paragraphs,
    response,
    warcinfo,
    write_warc,
)

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
HOSTILE_TITLE = "<script>window.__pwned=1</script>标题"
HOSTILE_COPY_URL = 'http://portal.example.com/a/"><script>window.__pwned=3</script>.html'
HOSTILE_LINE = '<img src=x onerror="window.__pwned=2">图片说明'

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def hostile_warc(path: Path) -> Path:
    """An original whose title is a script tag, and a copy at a URL that tries to break out of href."""
    body = [*paragraphs(0, 5), HOSTILE_LINE]
    original = http_response(
        200,
        [("Content-Type", "text/html; charset=utf-8")],
        article_html(HOSTILE_TITLE, body, "2024-03-01T08:00:00+08:00"),
    )
    copy = http_response(
        200,
        [("Content-Type", "text/html; charset=utf-8")],
        article_html(HOSTILE_TITLE, [*body, "转载补充说明：本文有删改。"], "2024-03-02T08:00:00+08:00"),
    )
    records = [
        warcinfo("heritrix/3.4.0"),
        response("http://evil.example.cn/1.html", original, "2024-03-03T00:00:00Z"),
        response(HOSTILE_COPY_URL, copy, "2024-03-03T00:00:01Z"),
    ]
    return write_warc(path, records)


class Tags(HTMLParser):
    """Every element name and attribute of a page, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: set[str] = set()
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def in_browser(page_file: Path, screenshot: Path, inspect: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Open a local file in headless Chromium, screenshot it, and return what ``inspect`` reads."""

    def browse() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                requested: list[str] = []
                page.on("request", lambda request: requested.append(request.url))
                page.goto(page_file.as_uri())
                page.screenshot(path=str(screenshot))
                return {**inspect(page), "requested": requested}
            finally:
                browser.close()

    # Playwright's sync API refuses to run where an asyncio loop is running: give it a thread.
    result: list[dict[str, Any]] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(browse())
        except BaseException as exc:  # handed back to the test thread
            failure.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=120)
    if failure:
        raise failure[0]
    assert result, "the browser did not finish"
    return result[0]


# -- the page as text ----------------------------------------------------------------------------------


def test_safe_href_allows_only_http_urls() -> None:
    assert safe_href("https://infoq.cn/a?b=1&c=2") == "https://infoq.cn/a?b=1&amp;c=2"
    assert safe_href('http://x.cn/"onmouseover="alert(1)') == "http://x.cn/&quot;onmouseover=&quot;alert(1)"
    refused = ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:x"]
    refused += ["data:text/html,x", "//evil.cn/", "http://", "file:///etc/passwd", "vbscript:x", "http://a b.cn/", ""]
    for bad in refused:
        assert safe_href(bad) is None, bad


def test_diff_marks_what_the_copy_added_and_dropped() -> None:
    rows = side_by_side("第一句。第二句。第三句讲了数字 42。", "第一句。第三句讲了数字 43。新增的一句话。")
    dropped = [s.text for row in rows for s in row.left if s.kind == "del"]
    added = [s.text for row in rows for s in row.right if s.kind == "ins"]
    assert "第二句。" in dropped and "新增的一句话。" in added
    assert "2" in dropped and "3" in added  # an edited number is marked inside its sentence


def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    warc = hostile_warc(tmp_path / "hostile.warc.gz")
    out = tmp_path / "report.html"
    assert main(["dedup-report", str(warc), "--format", "html", "-o", str(out), "--no-progress"]) == 0
    page = out.read_text("utf-8")
    assert html.escape(HOSTILE_TITLE) in page
    assert "<ins>" in page and html.escape("转载补充说明") in page
    assert "Content-Security-Policy" in page and html.escape("default-src 'none'") in page
    tags = Tags()
    tags.feed(page)
    # Nothing runs and nothing loads: no script, image, frame or link element, no src or on* attribute.
    assert not tags.names & {"script", "img", "iframe", "link", "object", "embed", "svg", "base", "form"}
    assert not [name for name, _ in tags.attributes if name == "src" or name.startswith("on")]
    assert "@import" not in page and "url(" not in page
    hrefs = [value for name, value in tags.attributes if name == "href"]
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert HOSTILE_COPY_URL in hrefs  # intact as a value: its quote did not end the attribute


def test_empty_report_page(tmp_path: Path) -> None:
    from portal_archive.report.model import Report, Totals

    report = Report(
        generated_at="2024-04-01T00:00:00+00:00",
        producer="portal-archive/test",
        source="warc",
        parameters={},
        filters={"site": None, "since": None},
        totals=Totals(pages_read=0, articles=0, indexed=0),
    )
    out = tmp_path / "empty.html"
    with out.open("w", encoding="utf-8") as stream:
        render_html(report, stream)
    assert "No clusters." in out.read_text("utf-8")


# -- in a browser ----------------------------------------------------------------------------------------


@needs_chromium
def test_script_in_a_title_is_shown_as_text_and_never_runs(tmp_path: Path) -> None:
    warc = hostile_warc(tmp_path / "hostile.warc.gz")
    out = tmp_path / "report.html"
    assert main(["dedup-report", str(warc), "--format", "html", "-o", str(out), "--no-progress"]) == 0
    seen = in_browser(
        out,
        tmp_path / "hostile.png",
        lambda page: {
            "pwned": page.evaluate("typeof window.__pwned"),
            "scripts": page.evaluate("document.scripts.length"),
            "images": page.evaluate("document.images.length"),
            "text": page.inner_text("body"),
            "title_visible": page.get_by_role("heading", name=HOSTILE_TITLE).first.is_visible(),
        },
    )
    assert seen["pwned"] == "undefined"
    assert seen["scripts"] == 0 and seen["images"] == 0
    assert HOSTILE_TITLE in seen["text"] and "<script>" in seen["text"]
    assert HOSTILE_LINE in seen["text"]
    assert seen["title_visible"]
    assert seen["requested"] == [out.as_uri()]  # no network assets
    assert (tmp_path / "hostile.png").stat().st_size > 10_000


@pytest.mark.slow
@needs_chromium
def test_demo_report_renders_its_clusters(demo_archive: tuple[Path, list[Any]], tmp_path: Path) -> None:
    directory, _ = demo_archive
    out = tmp_path / "demo.html"
    code = main(["dedup-report", str(directory), "--from", "warc", "--format", "html", "-o", str(out), "--no-progress"])
    assert code == 0
    titles = re.findall(r'<h2><span class="muted">\d+\.</span> ([^<]*)</h2>', out.read_text("utf-8"))
    titles = [html.unescape(title) for title in titles]
    assert len(titles) >= 15
    seen = in_browser(
        out,
        tmp_path / "demo.png",
        lambda page: {
            "visible": [title for title in titles if page.get_by_role("heading", name=title).first.is_visible()],
            "clusters": page.locator("section.cluster").count(),
            "diffs": page.locator("details .sbs").count(),
        },
    )
    assert seen["visible"] == titles
    assert seen["clusters"] == len(titles)
    assert seen["diffs"] >= len(titles)  # each copy side by side with its original
    assert seen["requested"] == [out.as_uri()]
    assert (tmp_path / "demo.png").stat().st_size > 10_000
