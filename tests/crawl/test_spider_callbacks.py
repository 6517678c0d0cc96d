"""Spider callbacks on saved demo pages (``tests/resources/spiders``; regenerate with its ``generate.py``)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.exporters import JsonLinesItemExporter
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from portal_archive.capture.meta import FILENAME_META, RECORD_ID_META, REFERS_TO_META
from portal_archive.crawl.spider import ListPage, PortalSpider, should_abort_request
from portal_archive.items import ArticleItem, BoilerplateBlock
from spiders.bendi import BendiSpider
from spiders.infoq import InfoqSpider
from spiders.portal import ProfileSpider
from spiders.wechat import WechatSpider

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "spiders"
EXPECTED: dict[str, Any] = json.loads((RESOURCES / "expected.json").read_text(encoding="utf-8"))
NOW = EXPECTED["now"]
BASES = {BendiSpider: "http://bendi.test", InfoqSpider: "http://infoq.test", WechatSpider: "http://wechat.test"}
WARC_META = {RECORD_ID_META: "<urn:uuid:00000000-0000-4000-8000-000000000001>", FILENAME_META: "x.warc.gz"}


def make_spider(spidercls: type[PortalSpider], **settings: Any) -> PortalSpider:
    """A spider as a crawl builds it; its items come at once (the references tests ask for sources)."""
    crawler = get_crawler(spidercls, settings_dict={"DATES_NOW": NOW, "REFERENCES_ENABLED": False, **settings})
    return spidercls.from_crawler(crawler, base_url=BASES[spidercls])


def page(name: str, **meta: Any) -> TextResponse:
    info = EXPECTED["pages"][name]
    body = (RESOURCES / name).read_bytes()
    request = Request(info["url"], meta={**WARC_META, **meta})
    cls = XmlResponse if name.endswith(".xml") else HtmlResponse
    return cls(info["url"], body=body, headers={"Content-Type": info["content_type"]}, request=request)


def truth(name: str) -> dict[str, Any]:
    return dict(EXPECTED["pages"][name]["manifest"])


def items_of(results: list[Any]) -> list[ArticleItem]:
    return [result for result in results if isinstance(result, ArticleItem)]


def requests_of(results: list[Any]) -> list[Request]:
    return [result for result in results if isinstance(result, Request)]


def norm(text: str) -> str:
    """Whitespace-normalised text (NBSP and newlines included), as bodies are compared."""
    return " ".join(text.split())


def same_instant(iso: str | None, expected: str) -> bool:
    return iso is not None and abs((datetime.fromisoformat(iso) - datetime.fromisoformat(expected)).total_seconds()) < 1


def test_bendi_list_page_follows_articles_pagination_and_sections() -> None:
    spider = make_spider(BendiSpider)
    requests = requests_of(list(spider.parse(page("bendi_list.html"))))
    by_url = {request.url: request for request in requests}
    articles = [r for r in requests if "/wxnews/" in r.url]
    assert len({r.url for r in articles}) == 10
    assert all(r.callback == spider.parse_article for r in articles)
    assert by_url["http://bendi.test/category/tech?page=2"].callback == spider.parse
    assert "http://bendi.test/category/finance" in by_url
    assert all(url.startswith("http://bendi.test/") for url in by_url)
    assert not any(url.startswith("mailto:") for url in by_url)


def test_bendi_home_follows_footer_and_hot_links_but_not_denied_paths() -> None:
    spider = make_spider(BendiSpider)
    urls = {request.url for request in requests_of(list(spider.parse(page("bendi_home.html"))))}
    assert "http://bendi.test/api/broken" in urls
    assert any(url.startswith("http://bendi.test/article?id=") for url in urls)
    assert not any("/admin/" in url for url in urls)


def test_bendi_infoq_copy_item() -> None:
    spider = make_spider(BendiSpider)
    results = list(spider.parse_article(page("bendi_infoq_copy.html")))
    (item,) = items_of(results)
    expected = truth("bendi_infoq_copy.html")
    assert item.url == EXPECTED["pages"]["bendi_infoq_copy.html"]["url"] == item.canonical_url
    assert item.site == "bendi" and item.language == "zh"
    assert item.title == expected["title"]
    assert norm(item.body_text) == norm(expected["body_text"])
    assert "今日好文推荐" not in item.body_text and "整理 |" not in item.body_text
    assert item.published_text == "6月前"
    assert same_instant(item.published_at, expected["ingest_time"])
    assert item.byline == "整理 | 凌敏、核子可乐" and item.authors == ["凌敏", "核子可乐"]
    assert (item.source, item.source_domain) == ("InfoQ", "infoq.cn")
    assert item.references == expected["references"]
    kinds = {block.kind for block in item.boilerplate}
    assert {"nav", "related_links", "recommendations", "share", "footer", "disclaimer"} <= kinds
    related = next(block for block in item.boilerplate if block.kind == "related_links")
    assert len(related.links) >= 20
    assert all(link["title"] and link["url"].startswith("/wxnews/") for link in related.links)
    recommendations = next(block for block in item.boilerplate if block.kind == "recommendations")
    assert "今日好文推荐" in recommendations.text
    assert item.warc_record_id == WARC_META[RECORD_ID_META] and item.warc_filename == "x.warc.gz"
    assert item.fetched_at.endswith("+00:00")
    # Related stories are followed from article pages.
    assert len({r.url for r in requests_of(results) if "/wxnews/" in r.url}) >= 20


def test_bendi_wechat_copy_keeps_the_attribution_line_out_of_the_body() -> None:
    spider = make_spider(BendiSpider)
    (item,) = items_of(list(spider.parse_article(page("bendi_wechat_copy.html"))))
    expected = truth("bendi_wechat_copy.html")
    assert norm(item.body_text) == norm(expected["body_text"])
    assert (item.source, item.source_domain) == (expected["source"], "mp.weixin.qq.com")
    attribution = next(block for block in item.boilerplate if block.kind == "attribution")
    assert attribution.text.startswith("以下文章来源于")
    assert any(block.kind == "recommendations" for block in item.boilerplate)
    assert same_instant(item.published_at, expected["ingest_time"])


def test_bendi_gbk_page_declared_only_in_meta() -> None:
    spider = make_spider(BendiSpider)
    (item,) = items_of(list(spider.parse_article(page("bendi_gbk_meta_charset.html"))))
    expected = truth("bendi_gbk_meta_charset.html")
    assert (item.title, norm(item.body_text)) == (expected["title"], norm(expected["body_text"]))
    assert item.source == expected["source"] and item.source_domain == ""


def test_redirect_to_an_article_is_parsed_as_an_article() -> None:
    spider = make_spider(BendiSpider)
    assert len(items_of(list(spider.parse(page("bendi_infoq_copy.html"))))) == 1


def test_infoq_article_reads_the_nuxt_payload() -> None:
    spider = make_spider(InfoqSpider)
    (item,) = items_of(list(spider.parse_article(page("infoq_article.html"))))
    expected = truth("infoq_article.html")
    assert item.title == expected["title"]
    assert item.authors == expected["authors"]
    assert item.published_at == datetime.fromisoformat(expected["published"]).isoformat()
    assert item.tags and all(isinstance(tag, str) for tag in item.tags)
    assert norm(item.body_text) == norm(expected["body_text"])
    assert item.references == expected["references"]
    assert (item.source, item.source_domain) == ("InfoQ", "infoq.cn")
    assert not item.rendered


API_URL = "http://infoq.test/public/v1/article/getDetail"
API_RECORD = "<urn:uuid:00000000-0000-4000-8000-000000000002>"
CONTENT_RECORD = "<urn:uuid:00000000-0000-4000-8000-000000000003>"


def answer(request: Request, name: str | None, *, status: int = 200, record: str = API_RECORD) -> TextResponse:
    """The response to ``request``: a saved API answer, or an error answer when ``name`` is None."""
    body = (RESOURCES / name).read_bytes() if name else b'{"code":404,"msg":"article not found","data":null}'
    request.meta[RECORD_ID_META] = record
    return TextResponse(
        request.url, status=status, body=body, headers={"Content-Type": "application/json"}, request=request
    )


def api_request(spider: PortalSpider, name: str) -> Request:
    results = list(spider.parse_article(page(name)))
    assert items_of(results) == [] and not any(r.meta.get("playwright") for r in requests_of(results))
    (request,) = [r for r in requests_of(results) if r.method == "POST"]
    return request


def test_infoq_page_without_body_asks_the_article_api() -> None:
    spider = make_spider(InfoqSpider)
    request = api_request(spider, "infoq_shell_api.html")
    url = EXPECTED["pages"]["infoq_shell_api.html"]["url"]
    assert request.url == API_URL
    assert json.loads(request.body) == {"uuid": url.rsplit("/", 1)[1]}
    assert request.headers["Content-Type"] == b"application/json" and request.headers["Referer"] == url.encode()
    assert request.callback == spider.parse_detail and request.errback == spider.detail_failed
    assert spider.crawler.stats.get_value("spider/api/requested") == 1


@pytest.mark.parametrize("delivery", ["api", "prosemirror"])
def test_the_api_answer_is_extracted_as_the_filled_page(delivery: str) -> None:
    spider = make_spider(InfoqSpider)
    shell = f"infoq_shell_{delivery}.html"
    (item,) = items_of(list(spider.parse_detail(answer(api_request(spider, shell), f"infoq_detail_{delivery}.json"))))
    expected = truth(shell)
    assert norm(item.body_text) == norm(expected["body_text"])
    assert item.references == expected["references"] and item.title == expected["title"]
    assert item.authors == expected["authors"] and same_instant(item.published_at, expected["published"])
    assert item.warc_record_id == WARC_META[RECORD_ID_META]  # the article cites its page
    assert item.extra["body_from"] == "api" and item.extra["api_records"] == [API_RECORD]
    assert not item.rendered and "参考链接" not in item.body_text
    assert spider.crawler.stats.get_value("spider/api/read") == 1


def test_a_content_url_is_fetched_and_its_document_extracted() -> None:
    spider = make_spider(InfoqSpider)
    shell = "infoq_shell_content_url.html"
    (fetch,) = requests_of(
        list(spider.parse_detail(answer(api_request(spider, shell), "infoq_detail_content_url.json")))
    )
    assert fetch.url == EXPECTED["pages"]["infoq_content.json"]["url"] and fetch.method == "GET"
    assert fetch.meta["allow_offsite"] is True  # a publisher's static host is often another domain
    (item,) = items_of(list(spider.parse_content(answer(fetch, "infoq_content.json", record=CONTENT_RECORD))))
    assert norm(item.body_text) == norm(truth(shell)["body_text"])
    assert item.extra["api_records"] == [API_RECORD, CONTENT_RECORD]
    assert spider.crawler.stats.get_value("spider/api/content_url") == 1


def test_no_body_from_the_api_leads_to_a_browser_rendering() -> None:
    spider = make_spider(InfoqSpider)
    request = api_request(spider, "infoq_js_only.html")
    (render,) = requests_of(list(spider.parse_detail(answer(request, None, status=404))))
    assert render.meta.get("playwright") and render.url == EXPECTED["pages"]["infoq_js_only.html"]["url"]
    assert render.callback == spider.parse_rendered and render.errback == spider.render_failed
    assert render.dont_filter
    (method,) = render.meta["playwright_page_methods"]
    assert (method.method, method.args) == ("wait_for_selector", ("article .ProseMirror p",))
    assert render.meta[REFERS_TO_META] == WARC_META[RECORD_ID_META]
    unrendered = render.meta["unrendered_item"]
    assert unrendered.title == truth("infoq_js_only.html")["title"] and unrendered.body_text == ""
    assert spider.crawler.stats.get_value("spider/api/no_body") == 1


def test_with_rendering_off_no_request_goes_to_the_browser() -> None:
    spider = make_spider(InfoqSpider, RENDER_ENABLED=False)
    request = api_request(spider, "infoq_js_only.html")
    (item,) = list(spider.parse_detail(answer(request, None, status=404)))
    assert isinstance(item, ArticleItem) and item.body_text == ""
    assert "RENDER_ENABLED" in item.extra["empty_reason"]
    assert spider.crawler.stats.get_value("spider/render/disabled") == 1


def test_a_failed_api_request_is_counted_and_the_browser_asked() -> None:
    spider = make_spider(InfoqSpider)
    failure = Failure(TimeoutError("no answer"))  # type: ignore[no-untyped-call]  # Twisted ships no annotation
    failure.request = api_request(spider, "infoq_shell_api.html")  # type: ignore[attr-defined]
    (render,) = requests_of(list(spider.detail_failed(failure)))
    assert render.meta.get("playwright")
    assert spider.crawler.stats.get_value("spider/api/failed") == 1


def test_infoq_rendered_page_gives_the_body() -> None:
    spider = make_spider(InfoqSpider)
    response = page("infoq_js_only_rendered.html", playwright=True, **{REFERS_TO_META: WARC_META[RECORD_ID_META]})
    results = list(spider.parse_rendered(response))
    (item,) = items_of(results)
    expected = truth("infoq_js_only_rendered.html")
    assert item.rendered and norm(item.body_text) == norm(expected["body_text"])
    assert item.title == expected["title"] and same_instant(item.published_at, expected["published"])
    # A rendered page is never sent to the browser, or to the API, again.
    assert not [
        r for r in requests_of(list(spider.parse_article(response))) if r.meta.get("playwright") or r.method == "POST"
    ]


def test_failed_rendering_keeps_the_metadata() -> None:
    spider = make_spider(InfoqSpider)
    request = api_request(spider, "infoq_js_only.html")
    (render,) = requests_of(list(spider.parse_detail(answer(request, None, status=404))))
    failure = Failure(TimeoutError("no browser"))  # type: ignore[no-untyped-call]  # Twisted ships no annotation
    failure.request = render  # type: ignore[attr-defined]
    (item,) = list(spider.render_failed(failure))
    assert item.title == truth("infoq_js_only.html")["title"] and not item.rendered


def test_infoq_feed_and_sitemap_index() -> None:
    spider = make_spider(InfoqSpider)
    feed = requests_of(list(spider.parse_feed(page("infoq_feed.xml"))))
    articles = {r.url for r in feed if r.callback == spider.parse_article}
    assert len(articles) == 20 and all(url.startswith("http://infoq.test/article/") for url in articles)
    sitemaps = requests_of(list(spider.parse_sitemap(page("infoq_sitemap_index.xml"))))
    assert [r.url for r in sitemaps] == [
        "http://infoq.test/sitemap/index_1.xml",
        "http://infoq.test/sitemap/index_2.xml",
    ]
    assert all(r.callback == spider.parse_sitemap for r in sitemaps)


def test_wechat_article_and_profile() -> None:
    spider = make_spider(WechatSpider)
    results = list(spider.parse_article(page("wechat_article.html")))
    (item,) = items_of(results)
    expected = truth("wechat_article.html")
    assert (item.title, norm(item.body_text)) == (expected["title"], norm(expected["body_text"]))
    assert item.authors == expected["authors"]
    assert (item.source, item.source_domain) == (expected["source"], "mp.weixin.qq.com")
    assert same_instant(item.published_at, expected["published"])
    assert any(block.kind == "share" for block in item.boilerplate)
    assert requests_of(results) == []  # profile has from_articles = false; 阅读原文 is offsite anyway
    listed = requests_of(list(spider.parse(page("wechat_profile.html"))))
    assert listed and all(r.callback == spider.parse_article for r in listed if "/s/" in r.url)


def test_links_are_canonicalised_and_scoped() -> None:
    spider = make_spider(BendiSpider)
    request = spider.route("http://bendi.test/wxnews/cls46zk260023lpnyhyekusue?utm_source=x&spm=1#top")
    assert request is not None and request.url == "http://bendi.test/wxnews/cls46zk260023lpnyhyekusue"
    assert spider.route("http://other.test/wxnews/cls46zk260023lpnyhyekusue") is None
    assert spider.route("http://bendi.test:81/") is None
    assert spider.route("http://bendi.test/admin/users") is None


def test_items_export_as_json_lines_with_nested_blocks() -> None:
    spider = make_spider(BendiSpider)
    (item,) = items_of(list(spider.parse_article(page("bendi_infoq_copy.html"))))
    assert isinstance(item.boilerplate[0], BoilerplateBlock)
    buffer = io.BytesIO()
    exporter = JsonLinesItemExporter(buffer, encoding="utf-8", ensure_ascii=False)
    exporter.start_exporting()
    exporter.export_item(item)
    exporter.finish_exporting()
    row = json.loads(buffer.getvalue().decode("utf-8"))
    assert row["title"] == item.title and row["references"] == item.references
    assert {block["kind"] for block in row["boilerplate"]} >= {"related_links", "recommendations"}
    assert all(set(link) == {"title", "url"} for block in row["boilerplate"] for link in block["links"])


def test_browser_skips_heavy_resources() -> None:
    class FakeBrowserRequest:
        def __init__(self, resource_type: str) -> None:
            self.resource_type = resource_type

    kinds = ("image", "font", "media", "fetch", "document")
    assert [should_abort_request(FakeBrowserRequest(kind)) for kind in kinds] == [True, True, True, False, False]


@pytest.mark.parametrize("spidercls", [BendiSpider, InfoqSpider, WechatSpider])
def test_loopback_base_url_crawls_without_delay(spidercls: type[PortalSpider]) -> None:
    # A crawler whose settings are still open, as ``scrapy crawl`` hands it to ``from_crawler``.
    crawler = Crawler(spidercls, Settings({"DOWNLOAD_DELAY": 2.0, "AUTOTHROTTLE_START_DELAY": 3.0}))
    spider = spidercls.from_crawler(crawler, base_url="http://127.0.0.1:8123")
    assert spider.loopback
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 0.0
    assert crawler.settings.getfloat("AUTOTHROTTLE_START_DELAY") == 0.0
    live = Crawler(spidercls, Settings({"DOWNLOAD_DELAY": 2.0, "AUTOTHROTTLE_START_DELAY": 3.0}))
    spidercls.from_crawler(live)
    assert live.settings.getfloat("DOWNLOAD_DELAY") == spider.profile.delay > 0
    assert live.settings.getfloat("AUTOTHROTTLE_START_DELAY") == max(3.0, spider.profile.delay)
    pinned = Crawler(spidercls, Settings())
    pinned.settings.set("DOWNLOAD_DELAY", 7.5, priority="cmdline")
    spidercls.from_crawler(pinned)
    assert pinned.settings.getfloat("DOWNLOAD_DELAY") == 7.5


def list_answer(request: Request, items: list[dict[str, Any]]) -> TextResponse:
    body = json.dumps({"code": 0, "data": items}).encode()
    return TextResponse(request.url, body=body, headers={"Content-Type": "application/json"}, request=request)


def test_list_apis_page_by_the_last_score_and_open_each_topic_once() -> None:
    spider = make_spider(InfoqSpider)
    apis = spider.profile.list_apis
    assert apis is not None
    recommend, per_topic = apis.lists
    first = spider.list_request(ListPage(recommend.path, recommend.request_body()))
    assert first.method == "POST" and json.loads(first.body) == {"size": 20}
    items = [
        {"uuid": f"{n:020d}", "score": 100 - n, "topic": [{"id": 7, "name": "AI"}, {"id": n % 2, "name": "x"}]}
        for n in range(3)
    ]
    results = requests_of(list(spider.parse_list_api(list_answer(first, items))))
    articles = [r.url for r in results if r.callback == spider.parse_article]
    assert articles == [f"http://infoq.test/article/{n:020d}" for n in range(3)]
    topics = [json.loads(r.body) for r in results if r.url.endswith(per_topic.path)]
    assert [t["id"] for t in topics] == [7, 0, 1] and all(t["size"] == 20 for t in topics)  # each topic once
    (following,) = [r for r in results if r.url.endswith(recommend.path)]
    assert json.loads(following.body) == {"size": 20, "score": 98}  # after the last item's score
    # A server that ignores the cursor answers the same page again: nothing new, so no further page.
    again = requests_of(list(spider.parse_list_api(list_answer(following, items))))
    assert not [r for r in again if r.url.endswith(recommend.path)] and not [r for r in again if r.callback]
    stats = spider.crawler.stats
    assert stats.get_value("spider/api/list_pages") == 2 and stats.get_value("spider/api/list_articles") == 3


def test_a_list_answer_that_is_no_list_is_counted() -> None:
    spider = make_spider(InfoqSpider)
    apis = spider.profile.list_apis
    assert apis is not None
    request = spider.list_request(ListPage(apis.lists[0].path, b"{}"))
    error = TextResponse(request.url, status=200, body=b'{"code":500,"data":null}', request=request)
    assert list(spider.parse_list_api(error)) == []
    hostile = [{"uuid": "../../admin", "score": 1}, {"uuid": True, "score": 0}, "not an item"]
    assert requests_of(list(spider.parse_list_api(list_answer(request, hostile)))) == []  # type: ignore[list-item]
    assert spider.crawler.stats.get_value("spider/api/list_unreadable") == 1


def test_an_article_waits_for_the_sources_it_cites() -> None:
    spider = make_spider(BendiSpider, REFERENCES_ENABLED=True, INCREMENTAL_ENABLED=False)
    results = list(spider.parse_article(page("bendi_infoq_copy.html")))
    expected = truth("bendi_infoq_copy.html")["references"]
    assert items_of(results) == []  # held until every source is settled
    fetches = [r for r in requests_of(results) if r.callback == spider.parse_reference]
    assert [r.url for r in fetches] == [url for url in expected if not url.startswith("http://bendi.test")]
    for request in fetches:
        host = urlsplit(request.url).hostname
        assert request.meta["allow_offsite"] and request.meta["download_slot"] == f"reference:{host}"
        assert request.meta["incremental"] is False and request.errback == spider.reference_failed
    first, *rest = fetches
    released = list(spider.parse_reference(archived(first, status=200, record="<urn:uuid:1>")))
    assert released == []
    robots = Failure(IgnoreRequest("Forbidden by robots.txt"))  # type: ignore[no-untyped-call]
    robots.request = rest[0]  # type: ignore[attr-defined]
    assert list(spider.reference_failed(robots)) == []
    missing = rest[1]
    error = HttpError(archived(missing, status=404, record="<urn:uuid:3>"), "Ignoring non-200 response")
    failure = Failure(error)  # type: ignore[no-untyped-call]
    failure.request = missing  # type: ignore[attr-defined]
    (item,) = list(spider.reference_failed(failure))
    assert item.extra["cited"] == [
        {"url": first.url, "record_id": "<urn:uuid:1>", "status": 200},
        {"url": rest[0].url, "record_id": "", "status": None, "reason": "robots.txt"},
        {"url": missing.url, "record_id": "<urn:uuid:3>", "status": 404, "reason": "HTTP 404"},
    ]
    # Cited again by another article: settled already, nothing fetched, the item comes at once.
    again = list(spider.parse_article(page("bendi_infoq_copy.html")))
    (second,) = items_of(again)
    assert not [r for r in requests_of(again) if r.callback == spider.parse_reference]
    assert second.extra["cited"] == item.extra["cited"]


def archived(request: Request, *, status: int, record: str) -> TextResponse:
    request.meta[RECORD_ID_META] = record
    return TextResponse(request.url, status=status, body=b"<html></html>", request=request)


def test_references_that_cannot_be_fetched_are_listed_with_why() -> None:
    spider = make_spider(BendiSpider, REFERENCES_ENABLED=True, INCREMENTAL_ENABLED=False)
    item = ArticleItem(url="http://bendi.test/wxnews/c1", title="t", body_text="正文。")
    item.references = [
        "javascript:alert(1)", "mailto:editor@news.test", "http://", "http://[::1", f"/wxnews/c{'2' * 24}",
        "../files/a.pdf", "http://cited.test/a b", "",
    ]  # fmt: skip
    results = list(spider.emit(item))
    fetched = [r.url for r in requests_of(results)]
    assert fetched == ["http://bendi.test/files/a.pdf", "http://cited.test/a%20b"]
    assert items_of(results) == []
    for request in requests_of(results):
        list(spider.parse_reference(archived(request, status=200, record=f"<urn:uuid:{request.url[-1]}>")))
    assert spider.citations.waiting == 0
    reasons = {c["url"]: c.get("reason", "") for c in item.extra["cited"]}
    assert reasons == {
        "javascript:alert(1)": "not an http(s) link",
        "mailto:editor@news.test": "not an http(s) link",
        "http://": "not a valid URL",
        "http://[::1": "not a valid URL",
        f"http://bendi.test/wxnews/c{'2' * 24}": "the portal's own page",
        "http://bendi.test/files/a.pdf": "",
        "http://cited.test/a b": "",
    }


def test_a_profile_can_cite_the_links_inside_the_body_too(tmp_path: Path) -> None:
    profile = tmp_path / "cites.toml"
    profile.write_text(
        "name = 'cites'\nbase_url = 'http://news.test'\ncite_body_links = true\n[links]\narticle = ['^/a/[0-9]+$']\n",
        encoding="utf-8",
    )
    crawler = get_crawler(ProfileSpider, settings_dict={"REFERENCES_ENABLED": True, "INCREMENTAL_ENABLED": False})
    spider = ProfileSpider.from_crawler(crawler, profile=str(profile), base_url="http://news.test")
    prose = "城南大道将于本周六起进行为期三个月的封闭施工，届时过往车辆需按指示绕行，公交线路也将调整。"
    body = (
        f"<html><head><title>施工</title></head><body><h1>施工</h1><div class='main'><p>{prose}</p>"
        f"<p>{prose}据<a href='https://gov.test/notice/1'>市交通局通告</a>，详见<a href='/a/2'>上一篇</a>。</p>"
        f"<p>{prose}</p></div></body></html>"
    ).encode()
    request = Request("http://news.test/a/1", meta={RECORD_ID_META: "<urn:uuid:1>"})
    response = HtmlResponse(
        request.url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request
    )
    results = list(spider.parse_article(response))
    assert [r.url for r in requests_of(results) if r.callback == spider.parse_reference] == [
        "https://gov.test/notice/1"
    ]
    assert items_of(results) == []  # waits for its source; /a/2 is the portal's own article
