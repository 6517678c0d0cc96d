"""The fault-handling components one at a time: classification, redirect guard, Retry-After,
list-page limits, ASCII URIs in records. The end-to-end view is ``test_hostile_crawl.py``."""

from __future__ import annotations

import asyncio
import gzip
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from portal_archive.crawl import faults
from portal_archive.crawl.faults import FetchFault, FetchFaultMiddleware, classify, record_failure
from portal_archive.crawl.redirects import OffsiteRedirect, RedirectGuardMiddleware, RedirectLoop, same_site
from portal_archive.crawl.retryafter import RetryAfterMiddleware, parse_retry_after
from portal_archive.crawl.spider import LIST_DEPTH_META, LIST_PAGE_META
from portal_archive.extract import extract_article
from portal_archive.profiles import DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAGES, ProfileError, parse_profile
from portal_archive.warc.records import HttpExchange, WarcRecordBuilder, http_request_block
from spiders.portal import ProfileSpider


def failed(*reasons: BaseException) -> DownloadFailedError:
    error = DownloadFailedError("download failed")
    error.__cause__ = ResponseFailed([Failure(reason) for reason in reasons])
    return error


def bomb() -> IgnoreRequest:
    error = IgnoreRequest("Ignored response: too big during decompression")
    error.__cause__ = type("_DecompressionMaxSizeExceeded", (ValueError,), {})()
    return error


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (DownloadTimeoutError("took longer than 2.0 seconds"), faults.TIMEOUT),
        (failed(ValueError("Invalid response: conflicting Content-Length headers")), faults.BAD_RESPONSE),
        (failed(ConnectionDone()), faults.BAD_RESPONSE),
        (failed(ConnectionLost()), faults.CONNECTION_LOST),
        (ResponseNeverReceived([Failure(ConnectionDone())]), faults.CONNECTION_LOST),
        (gzip.BadGzipFile("Not a gzipped file"), faults.DECODE_ERROR),
        (bomb(), faults.DECOMPRESSED_OVERSIZE),
        (IgnoreRequest("Forbidden by robots.txt"), faults.ROBOTS_FORBIDDEN),
        (IgnoreRequest("max redirections reached"), faults.REDIRECT_LOOP),
        (IgnoreRequest("Filtered offsite request to 'x.test'"), faults.OFFSITE),
        (IgnoreRequest("something else"), faults.IGNORED),
        (HttpError(Response("http://e.test/", status=404), "Ignoring non-200 response"), faults.HTTP_ERROR),
        (KeyError("a bug"), None),
    ],
)
def test_classification(exception: BaseException, kind: faults.FaultKind | None) -> None:
    assert classify(exception) == kind


def test_every_kind_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "faults.md").read_text(encoding="utf-8")
    assert all(f"`{kind.stat}`" in text for kind in faults.ALL_KINDS)


def test_middleware_turns_a_given_up_download_into_a_counted_fault(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(Spider)
    middleware = build_from_crawler(FetchFaultMiddleware, crawler)
    request = Request("http://e.test/slow")
    with pytest.raises(FetchFault) as raised, caplog.at_level(logging.INFO):
        middleware.process_exception(request, DownloadTimeoutError("took longer than 2.0 seconds"))
    assert raised.value.kind is faults.TIMEOUT and isinstance(raised.value.__cause__, DownloadTimeoutError)
    assert crawler.stats is not None and crawler.stats.get_value("fetch/timeout") == 1
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "fetch/timeout" in record.getMessage()
    assert middleware.process_exception(request, IgnoreRequest("Forbidden by robots.txt")) is None
    assert middleware.process_exception(request, KeyError("bug")) is None


def test_errback_accounting_is_loud_for_the_unexpected(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(Spider)
    failure = Failure(KeyError("a bug"))
    failure.request = Request("http://e.test/x")  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO):
        assert record_failure(failure, crawler.stats) is faults.UNEXPECTED
    assert crawler.stats is not None and crawler.stats.get_value("fetch/unexpected") == 1
    assert caplog.records[0].levelno == logging.ERROR and caplog.records[0].exc_info is not None


def test_robots_forbidden_is_logged_but_left_to_scrapys_counter() -> None:
    crawler = get_crawler(Spider)
    record_failure(Failure(IgnoreRequest("Forbidden by robots.txt")), crawler.stats)
    assert crawler.stats is not None and crawler.stats.get_value("robotstxt/forbidden") is None


# -- redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("http://e.test/x", True),
        ("https://e.test/x", True),  # http -> https on the default ports
        ("http://e.test:80/x", True),
        ("http://e.test:8080/x", False),
        ("http://other.test/x", False),
        ("http://[::1/x", False),
    ],
)
def test_same_site(url: str, same: bool) -> None:
    assert same_site("http://e.test", url) is same


def guard(origin: str = "http://e.test:8080", max_times: int = 3) -> RedirectGuardMiddleware:
    crawler = get_crawler(Spider, {"REDIRECT_MAX_TIMES": max_times})
    crawler.spider = crawler._create_spider("guarded")
    crawler.spider.origin = origin  # type: ignore[attr-defined]
    return build_from_crawler(RedirectGuardMiddleware, crawler)


def redirect(request: Request, location: bytes) -> Response:
    return Response(request.url, status=302, headers={"Location": location}, request=request)


def test_guard_stops_offsite_loops_and_endless_chains() -> None:
    middleware = guard()
    request = Request("http://e.test:8080/a")
    with pytest.raises(OffsiteRedirect):
        middleware.process_response(request, redirect(request, b"http://e.test:9999/a"))
    with pytest.raises(RedirectLoop):
        middleware.process_response(request, redirect(request, b"/a#top"))
    deep = Request("http://e.test:8080/n3", meta={"redirect_times": 3, "redirect_urls": ["http://e.test:8080/n0"]})
    with pytest.raises(RedirectLoop):
        middleware.process_response(deep, redirect(deep, b"/n4"))
    fine = redirect(request, b"/b")
    assert middleware.process_response(request, fine) is fine
    kept = Request("http://e.test:8080/a", meta={"dont_redirect": True})
    assert middleware.process_response(kept, redirect(kept, b"http://evil.test/")).status == 302
    assert middleware.stats.get_value("fetch/offsite") == 1 and middleware.stats.get_value("fetch/redirect_loop") == 2


# -- Retry-After -------------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = datetime(2024, 4, 1, tzinfo=UTC)
    assert parse_retry_after(b"7", now) == 7
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True).encode(), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(days=1), usegmt=True).encode(), now) == 0
    assert parse_retry_after(b"soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after(b"-5", now) is None


def retry_after(max_wait: float) -> RetryAfterMiddleware:
    crawler = get_crawler(Spider, {"RETRY_AFTER_MAX": max_wait, "RETRY_TIMES": 1})
    crawler.spider = crawler._create_spider("throttled")
    return build_from_crawler(RetryAfterMiddleware, crawler)


def test_retry_after_retries_and_caps_then_gives_up() -> None:
    middleware = retry_after(0)
    request = Request("http://e.test/a")
    throttled = Response(request.url, status=429, headers={"Retry-After": "3600"}, request=request)
    retry = asyncio.run(middleware.process_response(request, throttled))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1 and retry.dont_filter
    assert middleware.stats.get_value("fetch/retry_after_capped") == 1
    again = Response(retry.url, status=429, headers={"Retry-After": "1"}, request=retry)
    assert asyncio.run(middleware.process_response(retry, again)) is again  # RETRY_TIMES used up
    assert retry.meta["dont_retry"] is True
    plain = Response(request.url, status=429, request=request)
    assert asyncio.run(middleware.process_response(request, plain)) is plain  # left to RetryMiddleware


# -- list-page limits and content types --------------------------------------------------------------


PROFILE = """
name = "limits"
base_url = "http://e.test"
delay = 0
[links]
article = ['^/a/', '^/新闻/']
follow = ['^/list', '^/cal/']
pagination = ["a.next"]
max_pages = 2
max_depth = 2
"""


@pytest.fixture
def spider(tmp_path: Path) -> ProfileSpider:
    path = tmp_path / "limits.toml"
    path.write_text(PROFILE, encoding="utf-8")
    return ProfileSpider(profile=str(path), base_url="http://E.test")


def page(url: str, depth: int, number: int = 1, body: str = "") -> HtmlResponse:
    request = Request(url, meta={LIST_DEPTH_META: depth, LIST_PAGE_META: number})
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request)


def test_profile_limits_default_and_validate() -> None:
    profile = parse_profile({"name": "x", "base_url": "http://x.test", "links": {"article": ["^/a/"]}}, "x.toml")
    assert (profile.links.max_pages, profile.links.max_depth) == (DEFAULT_MAX_PAGES, DEFAULT_MAX_DEPTH)
    with pytest.raises(ProfileError, match=r"links\.max_pages: must be a whole number"):
        parse_profile({"name": "x", "base_url": "http://x.test", "links": {"article": ["^/a/"], "max_pages": 1.5}}, "x")


def test_pagination_stops_at_max_pages(spider: ProfileSpider) -> None:
    first = page("http://e.test/list?page=1", depth=1)
    second = spider.route("http://e.test/list?page=2", pagination=True, source=first)
    assert second is not None and second.meta[LIST_PAGE_META] == 2 and second.meta[LIST_DEPTH_META] == 1
    assert spider.route("http://e.test/list?page=3", pagination=True, source=page(second.url, 1, 2)) is None


def test_next_links_are_not_also_followed_as_plain_links(spider: ProfileSpider) -> None:
    response = page("http://e.test/list?page=2", 1, 2, '<a class="next" href="/list?page=3">next</a>')
    assert [r.url for r in spider.parse(response) if isinstance(r, Request)] == []


def test_list_depth_stops_calendar_traps_but_not_articles(spider: ProfileSpider) -> None:
    deep = page("http://e.test/cal/2", depth=2)
    assert spider.route("http://e.test/cal/3", source=deep) is None
    article = spider.route("http://e.test/a/1", source=deep)
    assert article is not None and article.errback == spider.article_failed


def test_unicode_links_are_one_ascii_request(spider: ProfileSpider) -> None:
    routed = [
        spider.route(f"http://e.test{path}")
        for path in ("/新闻/一", "/%E6%96%B0%E9%97%BB/%E4%B8%80", "/%e6%96%b0%e9%97%bb/%e4%b8%80")
    ]
    # The first spelling is requested in ASCII; the other two are the same URL, requested already.
    assert [r.url if r is not None else None for r in routed] == [
        "http://e.test/%E6%96%B0%E9%97%BB/%E4%B8%80",
        None,
        None,
    ]


def test_idn_base_url_becomes_punycode() -> None:
    idn = ProfileSpider(profile="bendi", base_url="http://新闻.example:8080")
    assert idn.base_url == "http://xn--efvy88h.example:8080" and idn.allowed_domains == ["xn--efvy88h.example"]


def test_pdf_at_an_article_url_is_not_extracted(spider: ProfileSpider) -> None:
    request = Request("http://e.test/a/report")
    response = Response(request.url, body=b"%PDF-1.4\n", headers={"Content-Type": "application/pdf"}, request=request)
    assert list(spider.parse_article(response)) == []


def test_hostile_title_is_text_decoded_once() -> None:
    html = "<title>x</title><h1>A &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;<script>evil()</script></h1>"
    assert extract_article(html.encode(), url="http://e.test/").title == "A <script>alert(1)</script> &amp;"


# -- records -------------------------------------------------------------------------------------------


def test_records_carry_ascii_uris() -> None:
    exchange = HttpExchange(url="http://新闻.test/路径?q=值", status=200, body=b"x")
    record = WarcRecordBuilder().response(exchange, record_id="<urn:uuid:1>", date="d", payload_digest="p")
    assert dict(record.fields)["WARC-Target-URI"] == "http://xn--efvy88h.test/%E8%B7%AF%E5%BE%84?q=%E5%80%BC"
    block = http_request_block(exchange)
    assert block.startswith(b"GET /%E8%B7%AF%E5%BE%84?q=%E5%80%BC HTTP/1.1\r\nHost: xn--efvy88h.test\r\n")


def test_header_values_cannot_break_the_record() -> None:
    exchange = HttpExchange(url="http://e.test/", status=200, response_headers=[(b"X-Evil", b"a\r\n\r\nHTTP/1.1 200")])
    block = WarcRecordBuilder().response(exchange, record_id="<urn:uuid:1>", date="d", payload_digest="p").block
    assert block == b"HTTP/1.1 200 OK\r\nX-Evil: a    HTTP/1.1 200\r\n\r\n"
