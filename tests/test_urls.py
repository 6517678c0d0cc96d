"""URL canonicalisation: tracking parameters and fragments go, everything else stays as it was."""

from __future__ import annotations

import pytest

from portal_archive.urls import canonicalize_url, hostname_of, is_tracking_param, site_domain


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.infoq.cn/article/ktsN07R8UDXAGcgkRLQc?utm_source=rss&utm_medium=article",
            "https://www.infoq.cn/article/ktsN07R8UDXAGcgkRLQc",
        ),
        (
            "https://bendi.news/wxnews/cls46zk260023lpnyhyekusue#comments",
            "https://bendi.news/wxnews/cls46zk260023lpnyhyekusue",
        ),
        ("HTTPS://Bendi.News:443/category/tech?page=2&spm=a.b.c", "https://bendi.news/category/tech?page=2"),
        ("http://127.0.0.1:8080/s/abc?from=timeline&share_token=x1", "http://127.0.0.1:8080/s/abc"),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab&chksm=cd&scene=21#wechat_redirect",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab",
        ),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/x?b=2&a=1", "https://example.com/x?b=2&a=1"),
        ("https://example.com/x?q=%E4%B8%AD&UTM_Campaign=y", "https://example.com/x?q=%E4%B8%AD"),
        ("https://example.com/x?flag&utm_x=1&&b=", "https://example.com/x?flag&b="),
    ],
)
def test_canonical_urls(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_parameter_order_and_encoding_kept_when_nothing_is_dropped() -> None:
    url = "https://example.com/list?sort=new&page=2&q=a+b%2Fc"
    assert canonicalize_url(url) == url


def test_one_article_one_url() -> None:
    variants = [
        "https://www.infoq.cn/article/abc",
        "https://www.infoq.cn/article/abc#top",
        "https://WWW.INFOQ.CN:443/article/abc?utm_source=wechat",
        "https://www.infoq.cn/article/abc?spm=1&from=groupmessage&isappinstalled=0",
    ]
    assert {canonicalize_url(url) for url in variants} == {"https://www.infoq.cn/article/abc"}


def test_profile_specific_parameters_are_dropped_too() -> None:
    assert canonicalize_url("https://a.example/x?ref=home&id=3", extra_tracking=["REF"]) == "https://a.example/x?id=3"


@pytest.mark.parametrize("url", ["mailto:a@example.com", "javascript:void(0)", "not a url", "http://[::1/x", ""])
def test_other_schemes_and_garbage_come_back_unchanged(url: str) -> None:
    assert canonicalize_url(url) == url


def test_host_and_parameter_predicates() -> None:
    assert is_tracking_param("utm_term") and is_tracking_param("SPM") and not is_tracking_param("page")
    assert hostname_of("https://WWW.InfoQ.cn/x") == "www.infoq.cn"
    assert hostname_of("http://[::1") == ""
    assert site_domain("www.infoq.cn") == "infoq.cn"
    assert site_domain("mp.weixin.qq.com") == "mp.weixin.qq.com"
