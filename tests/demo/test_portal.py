"""The offline demo portal, checked over real sockets against its own manifest (no Scrapy)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from portal_archive.demo import (
    CorpusError,
    DemoPortal,
    Manifest,
    ManifestEntry,
    cuid_timestamp,
    decode_nuxt_data,
    find_nuxt_article,
    load_corpus,
    preview_manifest,
    relative_date_text,
)
from portal_archive.demo.seed_page import SEED_SLUG, load_seed_page
from portal_archive.extract.prosemirror import prosemirror_html

SEED = 20240401
NOW = datetime(2024, 11, 5, 12, 0, tzinfo=UTC)
SCRIPT = re.compile(r"<script\b.*?</script>", re.IGNORECASE | re.DOTALL)
ANCHOR_HREF = re.compile(r"<a\s[^>]*?href=\"([^\"]*)\"", re.IGNORECASE)
SITEMAP_LOC = re.compile(r"<loc>([^<]+)</loc>")
FEED_LINK = re.compile(r"<link>([^<]+)</link>")
META_CHARSET = re.compile(rb"<meta[^>]+charset=\"?([A-Za-z0-9_-]+)", re.IGNORECASE)
PROSE_MIRROR = re.compile(r'<div class="article-preview ProseMirror">(.*?)</div>', re.DOTALL)


class Fetched(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def text(self) -> str:
        """Body decoded as a browser would: Content-Encoding, then header or meta charset."""
        body = gzip.decompress(self.body) if self.header("Content-Encoding") == "gzip" else self.body
        content_type = self.header("Content-Type") or ""
        charset = content_type.partition("charset=")[2].strip()
        if not charset:
            found = META_CHARSET.search(body[:2048])
            charset = found.group(1).decode("ascii") if found else "utf-8"
        return body.decode(charset)


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None) -> Fetched:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=headers or {})
        response = connection.getresponse()
        return Fetched(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def request_entry(entry: ManifestEntry, accept_gzip: bool = True) -> Fetched:
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    if entry.method == "POST":
        headers["Content-Type"] = "application/json"
    return fetch(entry.url, entry.method, headers, entry.request_body)


@pytest.fixture(scope="module")
def portal() -> Iterator[DemoPortal]:
    with DemoPortal(seed=SEED, now=NOW) as running:
        yield running


@pytest.fixture(scope="module")
def manifest(portal: DemoPortal) -> Manifest:
    return portal.manifest


def test_every_manifest_entry_answers_its_expected_status(manifest: Manifest) -> None:
    wrong = []
    for entry in manifest:
        got = request_entry(entry)
        if got.status != entry.status:
            wrong.append((entry.url, entry.status, got.status))
        assert got.header("Date") and got.header("Server"), entry.url
        if entry.content_encoding == "gzip":
            assert got.header("Content-Encoding") == "gzip", entry.url
        if entry.chunked:
            assert got.header("Transfer-Encoding") == "chunked", entry.url
            assert got.header("Content-Length") is None, entry.url
        else:
            assert got.header("Content-Length") == str(len(got.body)), entry.url
    assert wrong == []


def test_head_sends_headers_without_body_and_connections_stay_open(portal: DemoPortal) -> None:
    parts = urlsplit(portal.aggregator_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("HEAD", "/")
        head = connection.getresponse()
        assert head.status == 200 and head.read() == b""
        length = int(head.getheader("Content-Length") or 0)
        connection.request("GET", "/")
        get = connection.getresponse()
        assert len(get.read()) == length > 0
        connection.request("GET", "/no/such/page")
        missing = connection.getresponse()
        assert missing.status == 404 and b"<html" in missing.read()
    finally:
        connection.close()


def test_unknown_paths_are_404_pages_on_every_site(portal: DemoPortal) -> None:
    for base in portal.urls.values():
        got = fetch(f"{base}/definitely/missing")
        assert got.status == 404
        assert (got.header("Content-Type") or "").startswith("text/html")


def test_infoq_article_is_gzipped_only_for_clients_that_accept_it(manifest: Manifest) -> None:
    entry = next(e for e in manifest.for_site("infoq") if e.kind == "article" and not e.js_only)
    zipped = fetch(entry.url, headers={"Accept-Encoding": "gzip, deflate"})
    plain = fetch(entry.url, headers={"Accept-Encoding": "identity"})
    refused = fetch(entry.url, headers={"Accept-Encoding": "gzip;q=0"})
    assert zipped.header("Content-Encoding") == "gzip"
    assert zipped.header("Vary") == "Accept-Encoding" == plain.header("Vary")
    assert plain.header("Content-Encoding") is None and refused.header("Content-Encoding") is None
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.body == fetch(entry.url, headers={"Accept-Encoding": "gzip"}).body
    assert entry.title is not None and entry.title in unescape(plain.body.decode("utf-8"))


def _raw_get(base: str, path: str) -> bytes:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode("ascii"))
        received = []
        while chunk := sock.recv(65536):
            received.append(chunk)
    return b"".join(received)


def test_chunked_page_carries_chunk_framing_on_the_wire(portal: DemoPortal, manifest: Manifest) -> None:
    entry = next(e for e in manifest if e.chunked)
    raw = _raw_get(portal.infoq_url, urlsplit(entry.url).path)
    head, _, payload = raw.partition(b"\r\n\r\n")
    header_lines = head.decode("latin-1").lower().split("\r\n")
    assert "transfer-encoding: chunked" in header_lines
    assert not any(line.startswith("content-length:") for line in header_lines)
    pieces = []
    while True:
        size_line, _, payload = payload.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert payload == b"\r\n"
            break
        pieces.append(payload[:size])
        assert payload[size : size + 2] == b"\r\n"
        payload = payload[size + 2 :]
    assert 2 <= len(pieces) <= 3
    assert b"".join(pieces) == fetch(entry.url).body


def test_gbk_pages_decode_as_gbk_and_show_their_title(manifest: Manifest) -> None:
    gbk = [e for e in manifest.articles() if e.charset == "gbk"]
    assert len(gbk) >= 2
    assert len([e for e in gbk if not e.charset_in_header]) == 1
    assert all(e.category == "local" for e in gbk if e.charset_in_header)
    for entry in gbk:
        got = fetch(entry.url)
        content_type = got.header("Content-Type")
        if entry.charset_in_header:
            assert content_type == "text/html; charset=GBK"
        else:
            assert content_type == "text/html"
            assert b'<meta charset="gbk">' in got.body
        with pytest.raises(UnicodeDecodeError):
            got.body.decode("utf-8")
        assert entry.title is not None and entry.title in unescape(got.body.decode("gbk"))


def test_aggregator_home_sets_two_cookies(portal: DemoPortal) -> None:
    cookies = fetch(f"{portal.aggregator_url}/").header_values("Set-Cookie")
    assert len(cookies) == 2
    assert any(cookie.startswith("sid=") and "HttpOnly" in cookie for cookie in cookies)


def test_redirects_point_at_the_manifest_location(manifest: Manifest) -> None:
    redirects = [e for e in manifest if e.kind == "redirect"]
    assert {e.status for e in redirects} == {301, 302}
    for entry in redirects:
        got = fetch(entry.url)
        assert got.status == entry.status
        assert entry.location is not None
        assert urljoin(entry.url, got.header("Location") or "") == entry.location
        assert fetch(entry.location).status == 200


def test_cuids_decode_to_the_manifest_ingest_time(manifest: Manifest) -> None:
    stories = [e for e in manifest.for_site("bendi") if e.kind == "article"]
    assert stories
    for entry in stories:
        cuid = entry.url.rsplit("/", 1)[1]
        assert len(cuid) == 25 and cuid.startswith("c") and cuid == cuid.lower()
        assert entry.ingest_time is not None and entry.published is not None
        ingest = datetime.fromisoformat(entry.ingest_time)
        assert cuid_timestamp(cuid) == ingest
        delay = ingest - datetime.fromisoformat(entry.published)
        if entry.relation == "aggregator-only":
            assert delay == timedelta(0)
        else:
            assert timedelta(minutes=1) <= delay <= timedelta(days=1)


def test_cuid_example_from_the_real_site_decodes() -> None:
    assert cuid_timestamp("cls46zk260023lpnyhyekusue").replace(microsecond=0) == datetime(
        2024, 2, 2, 5, 15, 52, tzinfo=UTC
    )


def _placeholders(portal: DemoPortal) -> str:
    text = portal.manifest.to_json()
    for site, base in {**portal.urls, **portal.cited_urls}.items():
        text = text.replace(base, f"http://{site}.test")
    return text


def test_same_seed_gives_the_same_manifest_and_another_seed_does_not(portal: DemoPortal) -> None:
    first, again = preview_manifest(SEED), preview_manifest(SEED)
    assert first == again
    assert Manifest.from_json(_placeholders(portal)) == first
    other = preview_manifest(SEED + 1)
    assert other != first
    assert {e.url for e in other.articles()} != {e.url for e in first.articles()}
    assert Manifest.from_json(first.to_json()) == first


def test_seed_article_has_one_faithful_aggregator_copy(manifest: Manifest) -> None:
    seed_page = load_seed_page()
    copies = [e for e in manifest.for_site("bendi") if e.slug == SEED_SLUG]
    assert len(copies) == 1
    copy = copies[0]
    original = next(e for e in manifest.for_site("infoq") if e.slug == SEED_SLUG)
    assert (copy.url, original.url, "copy") in manifest.syndications()
    assert copy.title == seed_page.title and copy.authors == ("凌敏", "核子可乐")
    # The references, served by the demo's cited sites: the same pages, on local hosts.
    assert [urlsplit(url).path for url in copy.references] == [urlsplit(url).path for url in seed_page.references]
    assert copy.source == "InfoQ"
    page = unescape(fetch(copy.url).text())
    first_paragraph = seed_page.paragraphs[0]
    first_prose = next(p for p in seed_page.paragraphs if len(p) > 60)
    assert copy.body_text is not None and copy.body_text.startswith(first_paragraph)
    for expected in [first_paragraph, first_prose, "整理 | 凌敏、核子可乐", "参考链接:", *copy.references]:
        assert expected in page
    for expected in ["今日好文推荐", *seed_page.recommended_titles, "微信扫码关注该文公众号作者", "来源:InfoQ"]:
        assert expected in page
    assert page.index("今日好文推荐") < page.index('<div class="article-follow">') < page.index("相关新闻")
    assert "联系我们" in page and "©2024 bendi.news" in page and seed_page.disclaimer in page
    assert f'<link rel="canonical" href="{copy.url}">' in page


def test_syndication_shape(manifest: Manifest) -> None:
    pairs = manifest.syndications()
    excerpts = [pair for pair in pairs if pair[2] == "excerpt"]
    originals = [e for e in manifest.articles() if e.relation == "original"]
    assert 3 <= len(excerpts) <= 4
    assert abs(len(pairs) - 1 - len(originals) / 3) <= 2
    urls = {e.url for e in originals}
    assert all(original in urls for _copy, original, _relation in pairs)
    for copy_url, original_url, relation in pairs:
        copy, original = manifest.by_url(copy_url), manifest.by_url(original_url)
        assert copy.body_text and original.body_text
        if relation == "excerpt":
            assert len(copy.body_text) < 0.85 * len(original.body_text)
            assert "……" in fetch(copy_url).text()


def test_relative_date_text_against_a_fixed_clock(manifest: Manifest) -> None:
    moment = datetime(2024, 4, 1, 2, 30, tzinfo=UTC)
    cases = {
        timedelta(seconds=30): "刚刚",
        timedelta(minutes=5): "5分钟前",
        timedelta(hours=3): "3小时前",
        timedelta(hours=30): "昨天",
        timedelta(days=6): "6天前",
        timedelta(days=215): "7月前",
        timedelta(days=800): "2年前",
    }
    for elapsed, expected in cases.items():
        assert relative_date_text(moment, moment + elapsed) == expected
    for entry in manifest.for_site("bendi"):
        if entry.kind == "article" and entry.ingest_time:
            expected = relative_date_text(datetime.fromisoformat(entry.ingest_time), NOW)
            assert f'<span class="article-time">{expected}</span>' in fetch(entry.url).text()


def detail_answer(manifest: Manifest, entry: ManifestEntry) -> dict[str, object]:
    """getDetail's ``data`` for an article, called as the manifest's entry for it says."""
    uuid = entry.url.rsplit("/", 1)[1]
    (api,) = [
        e
        for e in manifest
        if e.kind == "api" and e.method == "POST" and json.loads(e.request_body or "{}").get("uuid") == uuid
    ]
    assert not api.reachable and api.delivery == entry.delivery
    data: dict[str, object] = json.loads(request_entry(api).body)["data"]
    return data


def test_most_infoq_articles_are_shells_filled_from_the_detail_api(manifest: Manifest) -> None:
    articles = [e for e in manifest.for_site("infoq") if e.kind == "article"]
    shells = [e for e in articles if e.js_only]
    assert len(shells) * 2 > len(articles)
    assert {e.delivery for e in shells} == {"api", "prosemirror", "content_url", "script"}
    assert [e.delivery for e in shells].count("script") == 1
    for entry in shells:
        page = fetch(entry.url).text()
        body = PROSE_MIRROR.search(page)
        assert body is not None and body.group(1) == "", entry.url
        record = find_nuxt_article(decode_nuxt_data(page))
        assert record is not None and record["article_title"] == entry.title and "content" not in record
        data = detail_answer(manifest, entry)
        assert data["article_title"] == entry.title
        assert [author["nickname"] for author in data["author"]] == list(entry.authors)  # type: ignore[attr-defined]
        assert entry.body_text is not None
        first_line = entry.body_text.splitlines()[0]
        if entry.delivery == "api":
            assert first_line in unescape(str(data["content"]))
        elif entry.delivery == "prosemirror":
            assert first_line in unescape(prosemirror_html(json.loads(str(data["content"]))))
        elif entry.delivery == "content_url":
            assert "content" not in data
            (content,) = [e for e in manifest if e.url == data["content_url"]]
            assert content.kind == "api" and not content.reachable
            assert first_line in unescape(prosemirror_html(json.loads(fetch(content.url).body)))
        else:  # only the page's own script knows this body
            assert "content" not in data and "content_url" not in data
            assert first_line not in page


def test_nuxt_payload_of_a_rendered_article_carries_its_content(manifest: Manifest) -> None:
    entry = next(e for e in manifest.for_site("infoq") if e.kind == "article" and not e.js_only)
    page = fetch(entry.url).text()
    record = find_nuxt_article(decode_nuxt_data(page))
    assert record is not None
    assert record["article_title"] == entry.title
    assert [author["nickname"] for author in record["author"]] == list(entry.authors)
    assert entry.published is not None
    published_ms = datetime.fromisoformat(entry.published).timestamp() * 1000
    assert record["publish_time"] == published_ms
    body = PROSE_MIRROR.search(page)
    assert body is not None and record["content"] == body.group(1)


def _links_of(url: str, got: Fetched) -> list[str]:
    if 300 <= got.status < 400:
        return [got.header("Location") or ""]
    text = got.text()
    if url.endswith("/robots.txt"):
        return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("sitemap:")]
    content_type = got.header("Content-Type") or ""
    if "xml" in content_type:
        return SITEMAP_LOC.findall(text) + FEED_LINK.findall(text)
    if "html" in content_type:
        markup = SCRIPT.sub("", text)  # a script's string literals are not links
        return [unescape(href) for href in ANCHOR_HREF.findall(markup)]
    return []


def crawl_by_links(base: str, start_urls: list[str]) -> set[str]:
    """Every in-site URL reachable from the start URLs, robots.txt, sitemaps and feeds."""
    origin = urlsplit(base).netloc
    queue = deque([*start_urls, f"{base}/robots.txt"])
    seen = set(queue)
    while queue:
        url = queue.popleft()
        got = fetch(url, headers={"Accept-Encoding": "gzip"})
        for link in _links_of(url, got):
            target = urldefrag(urljoin(url, link)).url
            parts = urlsplit(target)
            if parts.scheme in ("http", "https") and parts.netloc == origin and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


@pytest.mark.parametrize("site", ["bendi", "infoq", "wechat"])
def test_reachable_means_reachable_by_links(portal: DemoPortal, manifest: Manifest, site: str) -> None:
    found = crawl_by_links(portal.urls[site], portal.start_urls[site])
    entries = manifest.for_site(site)
    assert found == {e.url for e in entries if e.reachable}
    assert not found & {e.url for e in entries if not e.reachable}


def test_request_log_records_method_path_and_status(portal: DemoPortal) -> None:
    portal.clear_request_log()
    fetch(f"{portal.wechat_url}/robots.txt", method="HEAD")
    fetch(f"{portal.wechat_url}/missing")
    assert portal.requests_for("wechat")[-2:] == [("HEAD", "/robots.txt", 200), ("GET", "/missing", 404)]
    assert ("GET", "/missing", 404) in portal.request_log


def test_corpus_loads_with_the_seed_article_last() -> None:
    articles = load_corpus()
    assert articles[-1].slug == SEED_SLUG and articles[-1].origin == "infoq"
    assert len({article.slug for article in articles}) == len(articles)


def test_corpus_errors_name_the_file_and_key(tmp_path: Path) -> None:
    good = {
        "slug": "ok-story",
        "origin": "wechat",
        "account": "科学小站",
        "title": "标题",
        "authors": ["作者"],
        "published": "2024-01-01T08:00:00+08:00",
        "tags": [],
        "summary": "摘要",
        "paragraphs": ["正文。"],
    }
    (tmp_path / "a.json").write_text(json.dumps([good], ensure_ascii=False), encoding="utf-8")
    assert load_corpus(tmp_path)[0].slug == "ok-story"
    broken = {**good, "slug": "bad-story", "published": "2024-01-01 08:00"}
    (tmp_path / "b.json").write_text(json.dumps([broken], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b\.json\[0\].*'published'"):
        load_corpus(tmp_path)
    (tmp_path / "b.json").write_text(json.dumps([{**good, "slug": "x", "account": "无名号"}]), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b\.json\[0\].*'account'"):
        load_corpus(tmp_path)
