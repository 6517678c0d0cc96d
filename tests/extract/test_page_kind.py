"""Which pages of a site no profile describes are articles: the decision the report and replay read."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from portal_archive.extract import extract_article

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
PROSE = "腊月十二早上七点，天色还灰蒙蒙的，城西区和平里社区一间四十多平方米的快递驿站已经亮起了灯。"


def page(body: str, *, head: str = "", title: str = "驿站") -> bytes:
    return f"<html><head><title>{title}</title>{head}</head><body><h1>{title}</h1>{body}</body></html>".encode()


def test_a_page_of_prose_is_an_article() -> None:
    body = "".join(f"<p>{PROSE}</p>" for _ in range(6))
    assert extract_article(page(body), url="http://x/").page_kind == "article"


def test_a_short_dated_chinese_news_item_is_an_article() -> None:
    body = f"<div class='date'>2024-03-12 09:30</div><div id='content'><p>{PROSE}</p><p>{PROSE}</p><p>{PROSE}</p></div>"
    assert extract_article(page(body), url="http://x/").page_kind == "article"


def test_an_about_page_is_too_short_and_an_empty_one_has_no_body() -> None:
    about = "<p>This domain is for use in illustrative examples in documents. You may use it without asking.</p>"
    assert extract_article(page(about, title="Example Domain"), url="http://x/").page_kind == "short body"
    assert extract_article(b"", url="http://x/").page_kind == "no body"


def test_a_list_of_links_to_other_pages_is_a_listing() -> None:
    items = "".join(f"<li><a href='/a/{n}'>{PROSE[:30]}第{n}条</a> {PROSE[:12]}</li>" for n in range(40))
    assert extract_article(page(f"<ul>{items}</ul>"), url="http://x/").page_kind == "listing page"


def test_a_page_that_says_it_is_an_article_needs_less_text() -> None:
    short = f"<p>{PROSE}{PROSE}{PROSE}</p>"
    typed = '<meta property="og:type" content="article">'
    assert extract_article(page(short), url="http://x/").page_kind == "short body"
    assert extract_article(page(short, head=typed), url="http://x/").page_kind == "article"


@pytest.mark.parametrize(("folder", "least"), [("daniel_zh", 0.95), ("realpages_zh", 0.90)])
def test_real_article_pages_are_taken_for_articles(folder: str, least: float) -> None:
    files = sorted((SHARED / folder / "html").glob("*"))
    if not files:
        pytest.skip(f"{SHARED / folder} is absent")
    kinds = Counter(
        extract_article(
            gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes(), url="http://x/"
        ).page_kind
        for f in files
    )
    assert kinds["article"] >= least * len(files), kinds


def test_the_page_type_of_every_demo_portal_page_as_served() -> None:
    """List and home pages say ``list``, articles ``article``; an article whose body only script renders
    (the demo's InfoQ shell) is ``other`` as served: its headline stands alone."""
    import http.client
    from datetime import UTC, datetime
    from urllib.parse import urlsplit

    from portal_archive.demo import DemoPortal

    wrong = []
    with DemoPortal(seed=20240401, now=datetime(2024, 11, 5, 12, 0, tzinfo=UTC)) as portal:
        for entry in portal.manifest:
            if entry.kind not in ("home", "list", "article") or entry.status != 200:
                continue
            parts = urlsplit(entry.url)
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
            connection.request("GET", parts.path or "/")
            served = connection.getresponse().read()
            connection.close()
            expected = "other" if entry.js_only else "article" if entry.kind == "article" else "list"
            got = extract_article(served, url=entry.url).page_type
            if got != expected:
                wrong.append((entry.url, entry.kind, got))
    assert wrong == []


def test_the_page_type_of_every_bench_site_page(tmp_path: Path) -> None:
    import sys

    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        from sites.portal import build_site
    finally:
        sys.path.remove(str(bench))
    build_site(tmp_path, 60)
    types = Counter()
    for path in tmp_path.rglob("*.html"):
        relative = path.relative_to(tmp_path).as_posix()
        story = relative.startswith("news/") and relative.count("/") == 2
        got = extract_article(path.read_bytes(), url=f"http://bench.test/{relative}").page_type
        types[(story, got)] += 1
    assert set(types) == {(True, "article"), (False, "list")}, types
