"""End to end: each spider crawls the demo portal with ``scrapy crawl NAME -O items.jsonl`` and finds exactly
the manifest's articles, with their titles, dates, attribution, references and bodies.

The portal runs with a fixed clock (``now``), so the aggregator's relative dates span minutes to
months, and the crawls resolve them against the same instant (``-s DATES_NOW``). All crawls run
at once, in subprocesses (a fresh reactor each, the real CLI), next to two profile-only crawls:
a WeChat-style origin described by a TOML file written here, and a small site whose robots.txt
asks for a Crawl-delay.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from portal_archive.demo import DemoPortal, ManifestEntry
from portal_archive.demo.run import crawl_env
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

NOW = datetime(2024, 10, 18, 7, 42, tzinfo=UTC)
SEED = 20240401
SITES = ("bendi", "infoq", "wechat")
SITE_URL_ATTR = {"bendi": "aggregator_url", "infoq": "infoq_url", "wechat": "wechat_url"}
CHROMIUM = Path(os.environ.get("PORTAL_ARCHIVE_CHROMIUM", "/usr/bin/chromium"))
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} to render script-only pages"
)
DAY_SECONDS = 86_400
CRAWL_DELAY = 1
POLITE_PAGES = 3

WECHAT_STYLE_PROFILE = """
# A WeChat-style mirror, described by data alone.
name = "wxmirror"
role = "publisher"
base_url = "https://wx.mirror.example"
start_paths = ["/"]
delay = 1.5

[links]
article = ['^/s/[A-Za-z0-9_-]{22}$']
follow = ['^/$', '^/profile/']

[selectors]
title = "h1.rich_media_title"
body = "#js_content"
byline = "#meta_content .rich_media_meta_text"
date = "#publish_time"
source = "#js_name"

[selectors.boilerplate]
share = ["#js_toobar3"]
"""

POLITE_PROFILE = """
name = "polite"
base_url = "https://polite.example"
delay = 0

[links]
article = ['^/a/\\d+\\.html$']
"""


@dataclass(frozen=True)
class Crawl:
    """One finished ``scrapy crawl``: its exit code, items, stats and log."""

    returncode: int
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str
    raw_jsonl: str


@dataclass(frozen=True)
class Crawls:
    manifest: list[ManifestEntry]
    runs: dict[str, Crawl]
    polite_hits: list[tuple[float, str]]

    def articles(self, site: str) -> dict[str, ManifestEntry]:
        """The site's manifest articles; never empty, so no per-article check can pass on nothing."""
        found = {e.url: e for e in self.manifest if e.site == site and e.kind == "article"}
        assert found, f"the manifest lists no article of {site}"
        return found

    def items(self, run: str) -> dict[str, dict[str, Any]]:
        return {item["url"]: item for item in self.runs[run].items}


class _QuietHandler(SimpleHTTPRequestHandler):
    hits: list[tuple[float, str]]

    def log_message(self, format: str, *args: object) -> None:
        self.hits.append((time.monotonic(), self.path))


def _polite_site(root: Path) -> None:
    root.mkdir()
    (root / "robots.txt").write_text(f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\n", encoding="utf-8")
    links = "".join(f'<li><a href="/a/{n}.html?utm_source=home">第{n}篇</a></li>' for n in range(1, POLITE_PAGES + 1))
    (root / "index.html").write_text(f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
    (root / "a").mkdir()
    for n in range(1, POLITE_PAGES + 1):
        body = (
            f"<html><head><meta charset='utf-8'></head><body><h1>第{n}篇</h1><p>{'正文内容。' * 30}</p></body></html>"
        )
        (root / "a" / f"{n}.html").write_text(body, encoding="utf-8")


def _command(spider: str, out: Path, base_url: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}", *extra,
        "-O", str(out / "items.jsonl"),
        "-s", f"WARC_DIR={out / 'warc'}",
        "-s", f"RUN_STATS_FILE={out / 'stats.json'}",
        "-s", f"DATES_NOW={NOW.isoformat()}",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip


def _lists_only_profile() -> str:
    """InfoQ's profile with its list APIs as the only way to articles: no home, feed, sitemap or links."""
    text = (PROJECT_ROOT / "portal_archive/profiles/portals/infoq.toml").read_text(encoding="utf-8")
    text = text.replace('start_paths = ["/"]', "start_paths = []").replace(
        "from_articles = true", "from_articles = false"
    )
    lines = [line for line in text.splitlines() if not line.startswith(("sitemaps =", "feeds ="))]
    assert "start_paths = []" in lines and "from_articles = false" in lines
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawls]:
    work = tmp_path_factory.mktemp("spider-crawls")
    profile_path = work / "wxmirror.toml"
    profile_path.write_text(WECHAT_STYLE_PROFILE, encoding="utf-8")
    polite_profile = work / "polite.toml"
    polite_profile.write_text(POLITE_PROFILE, encoding="utf-8")
    _polite_site(work / "polite-site")
    hits: list[tuple[float, str]] = []
    handler = type("Handler", (_QuietHandler,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(work / "polite-site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    polite_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with DemoPortal(seed=SEED, now=NOW) as portal:
            jobs = {site: _command(site, work / site, getattr(portal, SITE_URL_ATTR[site])) for site in SITES}
            lists_only = work / "infoq-lists.toml"
            lists_only.write_text(_lists_only_profile(), encoding="utf-8")
            jobs["infoq-lists"] = _command(
                "portal",
                work / "infoq-lists",
                portal.infoq_url,
                "-a",
                f"profile={lists_only}",
                "-s",
                "RENDER_ENABLED=False",
            )
            jobs["infoq-norender"] = _command(
                "infoq", work / "infoq-norender", portal.infoq_url, "-s", "RENDER_ENABLED=False"
            )
            jobs["wxmirror"] = _command("portal", work / "wxmirror", portal.wechat_url, "-a", f"profile={profile_path}")
            jobs["polite"] = _command("portal", work / "polite", polite_url, "-a", f"profile={polite_profile}")
            running = {}
            for name, command in jobs.items():
                (work / name).mkdir(exist_ok=True)
                log = (work / name / "crawl.log").open("w+b")
                process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, env=crawl_env(), cwd=PROJECT_ROOT
                )
                running[name] = (process, log)
            runs = {}
            for name, (process, log) in running.items():
                returncode = process.wait(timeout=300)
                log.seek(0)
                text = log.read().decode("utf-8", "replace")
                log.close()
                out = work / name
                raw = (out / "items.jsonl").read_text(encoding="utf-8") if (out / "items.jsonl").exists() else ""
                stats_file = out / "stats.json"
                stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
                items = [json.loads(line) for line in raw.splitlines() if line.strip()]
                runs[name] = Crawl(returncode, items, stats, text, raw)
            yield Crawls(list(portal.manifest.entries), runs, hits)
    finally:
        server.shutdown()
        server.server_close()


def norm(text: str | None) -> str:
    """Whitespace-normalised text, as bodies are compared."""
    return " ".join((text or "").split())


def within_a_day(iso: str | None, expected: str | None) -> bool:
    if iso is None or expected is None:
        return False
    return abs((datetime.fromisoformat(iso) - datetime.fromisoformat(expected)).total_seconds()) < DAY_SECONDS


@pytest.mark.parametrize("run", [*SITES, "infoq-norender", "infoq-lists", "wxmirror", "polite"])
def test_crawl_finishes_cleanly(crawls: Crawls, run: str) -> None:
    crawl = crawls.runs[run]
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert crawl.stats.get("finish_reason") == "finished", crawl.log[-3000:]
    assert not crawl.stats.get("log_count/ERROR"), crawl.log[-3000:]
    assert crawl.stats.get("item_scraped_count") == len(crawl.items) == crawl.stats.get("spider/articles")
    assert not crawl.stats.get("dates/unresolved")
    if run != "polite":  # a loopback base_url drops the profile's delay (the polite profile has none)
        assert crawl.stats.get("politeness/loopback") == 1


@pytest.mark.parametrize("site", SITES)
def test_exactly_the_manifest_articles(crawls: Crawls, site: str) -> None:
    urls = [item["url"] for item in crawls.runs[site].items]
    assert len(urls) == len(set(urls)), Counter(urls).most_common(3)
    assert set(urls) == set(crawls.articles(site))


@pytest.mark.parametrize("site", SITES)
def test_titles_attribution_and_references(crawls: Crawls, site: str) -> None:
    items = crawls.items(site)
    for url, entry in crawls.articles(site).items():
        item = items[url]
        assert item["site"] == site
        assert item["title"] == entry.title, url
        assert item["source"] == entry.source, url
        assert item["references"] == list(entry.references), url
        if site != "bendi":  # the aggregator shows authors only in some bylines
            assert item["authors"] == list(entry.authors), url


@pytest.mark.parametrize("site", SITES)
def test_bodies_equal_the_manifest(crawls: Crawls, site: str) -> None:
    items = crawls.items(site)
    unequal = [
        url
        for url, entry in crawls.articles(site).items()
        if norm(items[url]["body_text"]) != norm(entry.body_text)
        and not (entry.delivery == "script" and not CHROMIUM.exists())
    ]
    assert unequal == []


@pytest.mark.parametrize("site", SITES)
def test_dates_within_the_day(crawls: Crawls, site: str) -> None:
    """Originals against ``published``; aggregator copies against the CUID ``ingest_time``."""
    items = crawls.items(site)
    for url, entry in crawls.articles(site).items():
        expected = entry.ingest_time if site == "bendi" else entry.published
        assert within_a_day(items[url]["published_at"], expected), (url, items[url]["published_text"], expected)


def test_relative_dates_resolve_to_the_cuid_time(crawls: Crawls) -> None:
    items = crawls.items("bendi")
    texts = {items[url]["published_text"] for url in crawls.articles("bendi")}
    assert any(text.endswith("分钟前") for text in texts) and any(text.endswith("天前") for text in texts)
    assert any(text.endswith("月前") for text in texts)
    for url, entry in crawls.articles("bendi").items():
        ingest = datetime.fromisoformat(entry.ingest_time or "")
        assert abs((datetime.fromisoformat(items[url]["published_at"]) - ingest).total_seconds()) < 1, url
    assert crawls.runs["bendi"].stats["dates/hint"] == len(items)


def test_aggregator_boilerplate_and_source_domains(crawls: Crawls) -> None:
    items = crawls.items("bendi")
    for url, entry in crawls.articles("bendi").items():
        item = items[url]
        kinds = {block["kind"] for block in item["boilerplate"]}
        assert {"nav", "related_links", "footer", "disclaimer"} <= kinds, url
        related = next(block for block in item["boilerplate"] if block["kind"] == "related_links")
        assert related["links"] and all(link["title"] and link["url"] for link in related["links"])
        if entry.source == "InfoQ":
            assert item["source_domain"] == "infoq.cn"
            assert "recommendations" in kinds and "share" in kinds
            assert item["byline"].startswith("整理 | ") and item["authors"] == list(entry.authors)
        for noise in ("今日好文推荐", "微信扫码关注该文公众号作者", "参考链接:", "以下文章来源于", "来源:"):
            assert noise not in item["body_text"], (url, noise)
    wechat_copies = [
        items[url]
        for url, e in crawls.articles("bendi").items()
        if e.relation != "aggregator-only" and e.source != "InfoQ"
    ]
    assert wechat_copies and all(item["source_domain"] == "mp.weixin.qq.com" for item in wechat_copies)


@NEEDS_CHROMIUM
def test_script_only_article_is_rendered_by_chromium(crawls: Crawls) -> None:
    (entry,) = [e for e in crawls.articles("infoq").values() if e.delivery == "script"]
    item = crawls.items("infoq")[entry.url]
    assert item["rendered"] is True
    assert norm(item["body_text"]) == norm(entry.body_text)
    stats = crawls.runs["infoq"].stats
    assert stats["spider/render/requested"] == stats["spider/render/rendered"] == 1
    assert stats.get("playwright/browser_count", 0) >= 1
    others = [i for i in crawls.runs["infoq"].items if i["url"] != entry.url]
    assert not any(i["rendered"] for i in others)


API_DELIVERIES = ("api", "prosemirror", "content_url")


@pytest.mark.parametrize("run", ["infoq", "infoq-norender"])
def test_shell_pages_are_read_through_the_article_api(crawls: Crawls, run: str) -> None:
    """Empty shells get their body from getDetail (HTML, ProseMirror or content_url), never from a browser."""
    items = crawls.items(run)
    shells = [e for e in crawls.articles("infoq").values() if e.delivery in API_DELIVERIES]
    assert len(shells) * 2 > len(crawls.articles("infoq"))
    for entry in shells:
        item = items[entry.url]
        assert item["extra"]["body_from"] == "api" and not item["rendered"], entry.url
        assert norm(item["body_text"]) == norm(entry.body_text), entry.url
        assert item["references"] == list(entry.references) and item["title"] == entry.title
    stats = crawls.runs[run].stats
    assert stats["spider/api/read"] == len(shells)
    assert stats["spider/api/requested"] == len(shells) + 1  # and the script-only page, which the API cannot give
    assert stats["spider/api/content_url"] == sum(e.delivery == "content_url" for e in shells)


def test_the_list_apis_alone_find_every_article(crawls: Crawls) -> None:
    """Recommendations and per-topic lists, paged by score, lead to every article (no feed, sitemap or link)."""
    crawl = crawls.runs["infoq-lists"]
    items = crawls.items("infoq-lists")
    assert set(items) == set(crawls.articles("infoq"))
    stats = crawl.stats
    assert stats["spider/api/list_articles"] == len(items)
    pages_of_recommendations = -(-len(items) // 20) + 1  # the last page is empty: the list's end
    assert stats["spider/api/list_pages"] > pages_of_recommendations  # topic lists were read too
    assert "spider/api/list_unreadable" not in stats


def test_with_rendering_off_no_page_goes_to_a_browser(crawls: Crawls) -> None:
    crawl = crawls.runs["infoq-norender"]
    items = crawls.items("infoq-norender")
    assert set(items) == set(crawls.articles("infoq"))
    for url, entry in crawls.articles("infoq").items():
        if entry.delivery == "script":  # only a browser can read it: the item says so
            assert items[url]["body_text"] == "" and "RENDER_ENABLED" in items[url]["extra"]["empty_reason"]
            assert items[url]["title"] == entry.title
        else:
            assert norm(items[url]["body_text"]) == norm(entry.body_text), url
    assert crawl.stats["spider/render/disabled"] == 1
    assert not any(key.startswith(("playwright/", "spider/render/requested")) for key in crawl.stats)


@pytest.mark.parametrize("run", SITES)
def test_every_reference_is_archived_or_says_why_not(crawls: Crawls, run: str) -> None:
    """The sources an article cites, fetched once, on their own hosts' terms (robots.txt obeyed)."""
    disallowed = {e.url for e in crawls.manifest if e.robots_disallowed}
    status = {e.url: e.status for e in crawls.manifest}
    settled: dict[str, dict[str, Any]] = {}
    for url, entry in crawls.articles(run).items():
        item = crawls.items(run)[url]
        cited = item["extra"].get("cited", [])
        assert [c["url"] for c in cited] == list(entry.references), url
        for capture in cited:
            settled.setdefault(capture["url"], capture)
            assert settled[capture["url"]] == capture  # one capture per URL, whichever article cites it
            if capture["url"] in disallowed:
                assert capture["reason"] == "robots.txt" and not capture["record_id"], capture
            elif capture.get("reason") == "the portal's own page":
                assert run == "infoq"  # crawled as a page of the portal, not as a source
            else:
                assert capture["record_id"].startswith("<urn:uuid:"), capture
                assert capture["status"] == status[capture["url"]], capture
    stats = crawls.runs[run].stats
    fetched = [c for c in settled.values() if c["record_id"]]
    assert stats.get("references/requested", 0) == len(fetched) + sum(c["url"] in disallowed for c in settled.values())
    if run != "wechat":
        assert fetched  # the demo's InfoQ originals and Bendi copies cite sources


def test_items_are_plain_json_lines_with_nested_blocks(crawls: Crawls) -> None:
    first = json.loads(crawls.runs["bendi"].raw_jsonl.splitlines()[0])
    assert isinstance(first["boilerplate"], list) and isinstance(first["boilerplate"][0], dict)
    assert set(first["boilerplate"][0]) == {"kind", "text", "links"}
    assert first["published_at"].endswith("+00:00") and first["fetched_at"].endswith("+00:00")
    assert all(item["warc_record_id"].startswith("<urn:uuid:") for run in SITES for item in crawls.runs[run].items)


def test_a_portal_added_as_a_profile_alone_is_crawled(crawls: Crawls) -> None:
    items = crawls.items("wxmirror")
    assert set(items) == set(crawls.articles("wechat"))
    for url, entry in crawls.articles("wechat").items():
        assert items[url]["site"] == "wxmirror"
        assert items[url]["title"] == entry.title
        assert norm(items[url]["body_text"]) == norm(entry.body_text)
        assert within_a_day(items[url]["published_at"], entry.published)


def test_robots_crawl_delay_is_honoured(crawls: Crawls) -> None:
    stats = crawls.runs["polite"].stats
    assert stats["politeness/crawl_delay"] == CRAWL_DELAY
    assert {item["url"].rsplit("/", 1)[1] for item in crawls.runs["polite"].items} == {
        f"{n}.html" for n in range(1, POLITE_PAGES + 1)
    }  # canonical URLs: the utm_source of the links is gone
    times = [moment for moment, path in crawls.polite_hits if path != "/robots.txt"]
    assert len(times) == POLITE_PAGES + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= CRAWL_DELAY * 0.8, gaps


def test_bad_profile_stops_the_crawl_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(WECHAT_STYLE_PROFILE.replace("[selectors]", "[selectors]\nheadline = 'h1'"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"profile={bad}", "-s", "WARC_ENABLED=False"],
        capture_output=True, text=True, env=crawl_env(), cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"{bad}: selectors.headline: unknown key" in result.stderr


def test_scrapy_list_and_check() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        capture_output=True,
        text=True,
        env=crawl_env(),
        cwd=PROJECT_ROOT,
        check=True,
    )
    assert set(listed.stdout.split()) >= {"bendi", "infoq", "wechat", "portal"}
    checked = subprocess.run(
        [sys.executable, "-m", "scrapy", "check"],
        capture_output=True,
        text=True,
        env=crawl_env(),
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
