"""The hostile portal: one list page linking every case, and one handler per case.

Each ``Case`` names the fault, the URL(s) the list page links, and what the crawl is expected to
do with it; ``tests/crawl/test_hostile_crawl.py`` asserts those expectations case by case.
"""

from __future__ import annotations

import gzip
import html
import random
import time
from dataclasses import dataclass, field
from functools import cache

from tests.hostile.server import Exchange, Handler, HostileServer

PARAGRAPH = (
    "这是一段用于测试的新闻正文，内容足够长，以便正文抽取算法把它识别为文章主体。"
    + "记者从有关部门获悉，相关工作正在稳步推进。"
)
SLOW_SECONDS = 3.5
"""Longer than the crawl's DOWNLOAD_TIMEOUT."""
HUGE_BODY = 3 * 1024 * 1024
"""Larger than the crawl's DOWNLOAD_MAXSIZE."""
BOMB_INFLATED = 64 * 1024 * 1024
RETRY_AFTER = 1
RETRY_AFTER_LONG = 3600
ROBOTS_TXT = b"User-agent: *\nDisallow: /a/private/\n"
HOSTILE_TITLE_HTML = "标题 &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; A&amp;B"
HOSTILE_TITLE_TEXT = "标题 <script>alert(1)</script> &amp; A&B"
UNICODE_PATH = "/a/新闻/一"
UNICODE_PATH_ENCODED = "/a/%E6%96%B0%E9%97%BB/%E4%B8%80"
UNICODE_REDIRECT_PATH = "/a/新闻/三"
CALENDAR_START = 20240101


def article_html(title: str, *, date: str = "2024-03-01 10:00", paragraphs: int = 4, extra: str = "") -> str:
    """A plain article page: headline, date line, a few paragraphs."""
    body = "".join(f"<p>{PARAGRAPH}第{n}段。</p>" for n in range(1, paragraphs + 1))
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f'<div class="meta"><span class="time">{date}</span></div>'
        f'<div id="content">{body}{extra}</div></body></html>'
    )


def _article(title: str, **kwargs: str) -> Handler:
    page = article_html(title, **kwargs).encode("utf-8")
    return lambda ex: ex.respond(200, page)


@dataclass(frozen=True)
class Case:
    """One fault the crawl must survive."""

    number: int
    name: str
    links: tuple[str, ...]
    """Hrefs the list page carries for this case (relative, or absolute with ``{origin}``/``{decoy}``)."""
    routes: dict[str, Handler] = field(default_factory=dict)


# -- handlers ------------------------------------------------------------------------------------


def wrong_charset(ex: Exchange) -> None:
    ex.respond(200, article_html("错误的字符集声明").encode("gbk"), content_type=b"text/html; charset=utf-8")


def gbk_header(ex: Exchange) -> None:
    headers = [(b"X-Source", "人民日报".encode("gbk")), (b"Set-Cookie", "name=张三; Path=/".encode("gbk"))]
    ex.respond(200, article_html("头部含GBK字节").encode("utf-8"), headers)


def bad_gzip(ex: Exchange) -> None:
    ex.respond(200, b"this is definitely not gzip data", [(b"Content-Encoding", b"gzip")])


def bad_gzip_magic(ex: Exchange) -> None:
    ex.respond(200, b"\x1f\x8b\x08\x00" + b"\xff" * 40, [(b"Content-Encoding", b"gzip")])


def _announce_then_cut(ex: Exchange) -> bytes:
    page = article_html("被截断的正文", paragraphs=30).encode("utf-8")
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n")
    ex.send(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(page))
    return page[: len(page) // 3]


def short_body(ex: Exchange) -> None:
    ex.send(_announce_then_cut(ex))
    ex.close()


def reset_mid_body(ex: Exchange) -> None:
    ex.send(_announce_then_cut(ex))
    time.sleep(0.2)  # let the bytes reach the client before the RST discards the send buffer
    ex.reset()


def reset_after_head(ex: Exchange) -> None:
    _announce_then_cut(ex)
    time.sleep(0.2)
    ex.reset()


def reset_unannounced(ex: Exchange) -> None:
    """No Content-Length: the body ends when the connection does, so a reset looks like an end."""
    page = article_html("没有长度的重置", paragraphs=30).encode("utf-8")
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n")
    ex.send(page[: len(page) // 3])
    time.sleep(0.2)
    ex.reset()


def slow(ex: Exchange) -> None:
    time.sleep(SLOW_SECONDS)
    ex.respond(200, article_html("太慢的页面").encode("utf-8"))


def huge(ex: Exchange) -> None:
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n")
    ex.send(b"<html><head><title>\xe5\xb7\xa8\xe5\x9e\x8b</title></head><body><h1>huge</h1>")
    chunk = ("<p>" + PARAGRAPH + "</p>").encode("utf-8") * 64
    sent = 0
    while sent < HUGE_BODY and ex.send(chunk):
        sent += len(chunk)


@cache
def bomb_bytes() -> bytes:
    return gzip.compress(b" " * BOMB_INFLATED, compresslevel=9, mtime=0)


def gzip_bomb(ex: Exchange) -> None:
    ex.respond(200, bomb_bytes(), [(b"Content-Encoding", b"gzip")])


def redirect(location: bytes, status: int = 302) -> Handler:
    return lambda ex: ex.respond(status, b"", [(b"Location", location)])


def endless_redirect(ex: Exchange) -> None:
    step = int(ex.hit.query.removeprefix("n=") or 0)
    ex.respond(302, b"", [(b"Location", b"/a/loop?n=%d" % (step + 1))])


def endless_pagination(ex: Exchange) -> None:
    page = int(ex.hit.query.removeprefix("page=") or 1)
    link = f'<a class="page-next" href="/list?page={page + 1}">下一页</a>'
    ex.respond(
        200,
        f"<html><body><p>第{page}页</p>{link}</body></html>".encode(),
    )


def calendar(ex: Exchange) -> None:
    day = int(ex.hit.path.rsplit("/", 1)[1])
    links = f'<a href="/cal/{day - 1}">前一天</a> <a href="/cal/{day + 1}">后一天</a>'
    ex.respond(200, f"<html><body><p>{day}</p>{links}</body></html>".encode())


def flaky(ex: Exchange) -> None:
    if ex.count() == 1:
        ex.respond(500, b"<html><body><p>temporarily broken</p></body></html>")
    else:
        ex.respond(200, article_html("重试后成功").encode("utf-8"))


def throttled(retry_after: int, title: str) -> Handler:
    def handle(ex: Exchange) -> None:
        if ex.count() == 1:
            ex.respond(429, b"slow down", [(b"Retry-After", str(retry_after).encode())], content_type=b"text/plain")
        else:
            ex.respond(200, article_html(title).encode("utf-8"))

    return handle


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64


def malformed(ex: Exchange) -> None:
    body = (
        "<html><head><title>残缺的标记</title><body><h1>残缺的标记</h1><div id='content'><p>"
        + PARAGRAPH
        + "<body><div><p>"
        + PARAGRAPH
        + "<table><tr><td><p>"
        + PARAGRAPH
        + "</html></body><p>尾巴"
    )
    ex.respond(200, body.encode("utf-8"))


def garbage(ex: Exchange) -> None:
    ex.respond(200, random.Random(24).randbytes(8192))


def many_headers(ex: Exchange) -> None:
    headers = [(b"X-Filler-%d" % n, b"v") for n in range(10_000)]
    ex.respond(200, article_html("一万个头部").encode("utf-8"), headers)


def huge_header(ex: Exchange) -> None:
    ex.respond(200, article_html("巨大的头部").encode("utf-8"), [(b"X-Huge", b"h" * (1024 * 1024))])


def duplicate_length(ex: Exchange) -> None:
    page = article_html("重复的长度").encode("utf-8")
    headers = [(b"Content-Length", b"%d" % (len(page) - 10)), (b"Content-Length", b"%d" % len(page))]
    ex.respond(200, page, headers, length=False)


def duplicate_equal_length(ex: Exchange) -> None:
    page = article_html("重复但相同的长度").encode("utf-8")
    headers = [(b"Content-Length", b"%d" % len(page)), (b"Content-Length", b"%d" % len(page))]
    ex.respond(200, page, headers, length=False)


def robots(ex: Exchange) -> None:
    ex.respond(200, ROBOTS_TXT, content_type=b"text/plain")


# -- the cases -----------------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    Case(1, "wrong charset", ("/a/wrong-charset",), {"/a/wrong-charset": wrong_charset}),
    Case(2, "GBK header bytes", ("/a/gbk-header",), {"/a/gbk-header": gbk_header}),
    Case(3, "invalid gzip", ("/a/bad-gzip", "/a/bad-gzip-magic"),
         {"/a/bad-gzip": bad_gzip, "/a/bad-gzip-magic": bad_gzip_magic}),
    Case(4, "body shorter than Content-Length", ("/a/short-body",), {"/a/short-body": short_body}),
    Case(5, "connection reset mid-body", ("/a/reset", "/a/reset-after-head", "/a/reset-unannounced"),
         {"/a/reset": reset_mid_body, "/a/reset-after-head": reset_after_head,
          "/a/reset-unannounced": reset_unannounced}),
    Case(6, "slower than the timeout", ("/a/slow",), {"/a/slow": slow}),
    Case(7, "larger than DOWNLOAD_MAXSIZE", ("/a/huge",), {"/a/huge": huge}),
    Case(8, "gzip bomb", ("/a/gzip-bomb",), {"/a/gzip-bomb": gzip_bomb}),
    Case(9, "redirect loop", ("/a/loop?n=0", "/a/cycle-a"),
         {"/a/loop": endless_redirect, "/a/cycle-a": redirect(b"/a/cycle-b"), "/a/cycle-b": redirect(b"/a/cycle-a")}),
    Case(10, "redirect off the allowed origin", ("/a/away-port", "/a/away-host"), {}),
    Case(11, "endless pagination and calendar", ("/list?page=1", f"/cal/{CALENDAR_START}"),
         {"/list": endless_pagination, "/cal/": calendar}),
    Case(12, "tracking parameters", ("/a/tracked?utm_source=wx", "/a/tracked?spm=a.b.c", "/a/tracked?from=timeline#c",
                                     "/a/tracked"),
         {"/a/tracked": _article("同一篇文章")}),
    Case(13, "500 then 200", ("/a/flaky",), {"/a/flaky": flaky}),
    Case(14, "429 with Retry-After", ("/a/throttled", "/a/throttled-long"),
         {"/a/throttled": throttled(RETRY_AFTER, "限流之后"),
          "/a/throttled-long": throttled(RETRY_AFTER_LONG, "长限流之后")}),
    Case(15, "PDF and image at article URLs", ("/a/report", "/a/photo"),
         {"/a/report": lambda ex: ex.respond(200, PDF, content_type=b"application/pdf"),
          "/a/photo": lambda ex: ex.respond(200, PNG, content_type=b"image/png")}),
    Case(16, "malformed HTML", ("/a/malformed",), {"/a/malformed": malformed}),
    Case(17, "empty 200 body", ("/a/empty",), {"/a/empty": lambda ex: ex.respond(200, b"")}),
    Case(18, "binary garbage as text/html", ("/a/garbage",), {"/a/garbage": garbage}),
    Case(19, "robots.txt disallows a section", ("/a/private/secret",), {"/robots.txt": robots}),
    Case(20, "10,000 headers and a 1 MB header", ("/a/many-headers", "/a/huge-header"),
         {"/a/many-headers": many_headers, "/a/huge-header": huge_header}),
    Case(21, "IDN host and Unicode paths",
         (UNICODE_PATH, UNICODE_PATH_ENCODED, UNICODE_PATH_ENCODED.lower(), "{origin_unicode}/a/新闻/二",
          "/a/idn-redirect"),
         {"/a/%E6%96%B0%E9%97%BB/": _article("中文路径"),
          "/a/idn-redirect": redirect(UNICODE_REDIRECT_PATH.encode("utf-8"))}),
    Case(22, "impossible dates", ("/a/bad-month", "/a/bad-day"),
         {"/a/bad-month": _article("不可能的月份", date="13月前"),
          "/a/bad-day": _article("不可能的日期", date="2024-02-30 10:00")}),
    Case(23, "script and entities in the title", ("/a/script-title",),
         {"/a/script-title": _article(HOSTILE_TITLE_HTML, extra="<script>document.write('注入')</script>")}),
    Case(24, "duplicate Content-Length", ("/a/dup-length", "/a/dup-length-equal"),
         {"/a/dup-length": duplicate_length, "/a/dup-length-equal": duplicate_equal_length}),
)  # fmt: skip


class HostileSite:
    """The hostile portal on ``server`` plus a decoy origin that must never be contacted."""

    def __init__(self, unicode_host: str) -> None:
        self.unicode_host = unicode_host
        self.ascii_host = unicode_host.encode("idna").decode("ascii")
        self.decoy = HostileServer({})
        routes: dict[str, Handler] = {"/": self._home}
        for case in CASES:
            routes.update(case.routes)
        routes["/a/away-port"] = self._away_port
        routes["/a/away-host"] = self._away_host
        self.server = HostileServer(routes)

    @property
    def base_url(self) -> str:
        """The origin as a user would type it: the Unicode host name."""
        return f"http://{self.unicode_host}:{self.server.port}"

    @property
    def ascii_base_url(self) -> str:
        return f"http://{self.ascii_host}:{self.server.port}"

    def _away_port(self, ex: Exchange) -> None:
        ex.respond(302, b"", [(b"Location", f"http://{self.ascii_host}:{self.decoy.port}/a/decoy".encode())])

    def _away_host(self, ex: Exchange) -> None:
        ex.respond(302, b"", [(b"Location", f"http://offsite.localhost:{self.server.port}/a/decoy".encode())])

    def _home(self, ex: Exchange) -> None:
        hrefs = [link.format(origin_unicode=self.base_url) for case in CASES for link in case.links]
        items = "".join(f'<li><a href="{html.escape(href)}">case</a></li>' for href in hrefs)
        ex.respond(200, f"<html><head><meta charset='utf-8'></head><body><ul>{items}</ul></body></html>".encode())

    def __enter__(self) -> HostileSite:
        self.server.__enter__()
        self.decoy.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.decoy.__exit__(None, None, None)
