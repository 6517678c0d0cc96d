"""Property tests: whatever bytes a site sends, extraction returns an ``Article`` (an empty body with
a reason at worst) and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_archive.extract import Article, ArticleSelectors, extract_article, extract_from_text

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
URL = "http://hostile.test/a/1"

FRAGMENTS = [
    "<html>", "</html>", "<head>", "<body>", "</body>", "<body><body>", "<p>", "</p>", "<div id='content'>", "</div>",
    "<h1>", "</h1>", "<title>", "</title>", "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>",
    "&amp;", "&amp;amp;", "&lt;script&gt;", "&#0;", "&#x110000;", "&#99999999999;", "&nbsp;", "<meta charset='gbk'>",
    "<meta charset=\"bogus\">", "<meta http-equiv='Content-Type' content='text/html; charset=big5'>", "\x00", "\ufeff",
    "<table><tr><td>", "<li>", "<ul>", "<a href='javascript:x'>", "<a href='//evil/'>", "<svg><foreignObject>",
    "<?xml version='1.0' encoding='utf-16'?>", "<!DOCTYPE html>", "来源：新华社", "2024-02-30", "13月前", "参考链接",
    "这是一段足够长的中文正文，用来让抽取算法认为它是文章主体。", "\r\n", "<p>" + "正文。" * 40 + "</p>",
]  # fmt: skip
CODECS = ["utf-8", "gbk", "big5", "utf-16", "latin-1", "shift_jis"]
CONTENT_TYPES = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=gbk", "text/html; charset=bogus",
                 "text/html; charset=", "application/octet-stream", b"text/html; charset=\xff\xfe"]  # fmt: skip

html_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=60).map("".join)


@st.composite
def encoded_pages(draw: st.DrawFn) -> bytes:
    text = draw(html_text)
    codec = draw(st.sampled_from(CODECS))
    return text.encode(codec, errors="ignore")


def _sound(article: Article) -> None:
    assert isinstance(article, Article)
    assert bool(article.body_text) != bool(article.empty_reason)


@FAST
@given(st.binary(max_size=4096), st.sampled_from(CONTENT_TYPES))
def test_random_bytes(data: bytes, content_type: str | bytes | None) -> None:
    _sound(extract_article(data, url=URL, content_type=content_type))


@FAST
@given(encoded_pages(), st.sampled_from(CONTENT_TYPES))
def test_html_like_pages_in_any_encoding(data: bytes, content_type: str | bytes | None) -> None:
    _sound(extract_article(data, url=URL, content_type=content_type))


@FAST
@given(st.integers(min_value=0, max_value=20_000), st.sampled_from(["<div>", "<p>", "<b>", "<span><div>"]))
def test_deep_nesting(depth: int, tag: str) -> None:
    _sound(extract_article((tag * depth + "正文" * 50).encode("utf-8"), url=URL))


@FAST
@given(html_text, st.text(alphabet="abc#.:>+~*[]=()\"' ,-_0123456789|^$\\", max_size=20))
def test_hostile_css_selectors_from_a_profile(text: str, selector: str) -> None:
    selectors = ArticleSelectors(title=selector, body=selector, date=selector, boilerplate=(("footer", selector),))
    _sound(extract_from_text(text, url=URL, selectors=selectors))
