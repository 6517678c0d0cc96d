"""Body and boilerplate separation: the seed aggregator page and one small page per kind."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from portal_archive.extract import (
    Article,
    ArticleSelectors,
    article_to_dict,
    article_to_json,
    extract_article,
    extract_from_text,
)

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "extraction"
SEED_HTML = RESOURCES / "seed_bendi_article.html"
SEED_BODY = RESOURCES / "seed_bendi_article.body.txt"

PROSE = (
    "市气象台今天上午发布寒潮蓝色预警，预计未来三天全市气温将下降八到十度，部分地区伴有大风。",
    "交通部门提醒，寒潮期间道路可能结冰，驾驶员应减速慢行，保持安全车距，避免急刹车和急转弯。",
    "据了解，今年入冬以来这是第三次明显降温过程，供暖单位已经提前做好准备，确保居民室内温度达标。",
    "气象专家表示，这次冷空气势力较强，影响范围广，老人和儿童要注意添衣保暖，尽量减少户外活动。",
    "记者从市应急管理局获悉，各区已经开放临时避寒场所，为有需要的市民提供热水、棉被和简单餐食。",
)
RELATED_TITLES = (
    "全市供暖季提前启动 居民家中温度普遍达标",
    "暴雪过后环卫工人连夜清扫主干道积雪",
    "专家解读：今冬为何冷空气如此频繁",
    "寒潮来袭 多趟航班延误旅客滞留机场",
)


def _page(*parts: str, title: str = "寒潮来袭全市气温骤降") -> str:
    body = "\n".join(parts)
    return (
        f'<html><head><meta charset="utf-8"><title>{title}_示例新闻网</title></head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def _article(*parts: str) -> str:
    return '<div class="box">' + "".join(f"<p>{p}</p>" for p in PROSE) + "".join(parts) + "</div>"


def _extract(html: str, **kwargs: object) -> Article:
    return extract_from_text(html, url="https://news.example.cn/a/1.html", **kwargs)  # type: ignore[arg-type]


def _kinds(article: Article) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for block in article.boilerplate:
        found.setdefault(block.kind, []).append(block.text)
    return found


def _char_recall(truth: str, guess: str, n: int = 4) -> float:
    """Share of the truth's character 4-grams that the guess contains (spaces ignored)."""
    t, g = re.sub(r"\s+", "", truth), re.sub(r"\s+", "", guess)
    truth_grams = Counter(t[i : i + n] for i in range(len(t) - n + 1))
    guess_grams = Counter(g[i : i + n] for i in range(len(g) - n + 1))
    matched = sum(min(count, guess_grams[gram]) for gram, count in truth_grams.items())
    return matched / max(1, sum(truth_grams.values()))


# --- the seed page -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Article:
    return extract_article(SEED_HTML.read_bytes(), url="https://bendi.news/wxnews/c0000000000000000000000001")


def test_seed_body_recall_against_original_text(seed: Article) -> None:
    assert _char_recall(SEED_BODY.read_text(encoding="utf-8"), seed.body_text) >= 0.98


def test_seed_body_holds_no_boilerplate(seed: Article) -> None:
    for marker in (
        "今日好文推荐",
        "相关新闻",
        "微信扫码",
        "来源:InfoQ",
        "联系我们",
        "Bendi.news刊载",
        "参考链接",
        "整理 |",
    ):
        assert marker not in seed.body_text
    for link_title in ("前端的未来已然到来", "第一个倒下的AI大模型硬件创企", "别玩 AI", "百年银行赶大潮"):
        assert link_title not in seed.body_text
    assert "https://" not in seed.body_text
    assert seed.title not in seed.body_text.splitlines()


def test_seed_boilerplate_is_labelled(seed: Article) -> None:
    kinds = _kinds(seed)
    assert set(kinds) >= {"nav", "recommendations", "share", "related_links", "footer", "disclaimer"}
    related = next(b for b in seed.boilerplate if b.kind == "related_links")
    assert related.text.startswith("相关新闻")
    assert len(related.links) == 25
    assert related.links[-1]["title"] == "别玩 AI"
    recommendations = next(b for b in seed.boilerplate if b.kind == "recommendations")
    assert [link["title"] for link in recommendations.links][:2] == [
        "百年银行赶大潮:三年攻坚,出击数据治理与 AI 应用",
        "前端的未来已然到来",
    ]
    assert "微信扫码关注该文公众号作者" in kinds["share"]
    assert any("©2024 bendi.news" in text for text in kinds["footer"])
    assert kinds["disclaimer"][0].startswith("Bendi.news刊载任何文章")
    assert kinds["nav"][0].startswith("Bendi新闻 >")


def test_seed_metadata(seed: Article) -> None:
    assert seed.title == "大模型创业淘汰潮开始了:这是第一个估值 10 亿美元的祭品"
    assert seed.byline == "整理 | 凌敏、核子可乐"
    assert seed.authors == ("凌敏", "核子可乐")
    assert seed.published_text == "7月前"
    assert seed.published_at is None
    assert seed.source == "InfoQ"
    assert seed.references == (
        "https://www.forbes.com/sites/kenrickcai/2024/03/29/how-stability-ais-founder-tanked-his-billion-dollar-startup/?sh=ae1884f3e630",
        "https://www.infoq.cn/article/ktsN07R8UDXAGcgkRLQc",
        "https://www.theverge.com/2024/3/23/24109511/stability-ai-ceo-emad-mostaque-resignation-decentralized-ai",
    )
    assert seed.canonical_url == "https://bendi.news/wxnews/c0000000000000000000000001"
    assert seed.encoding == "utf-8"
    assert seed.empty_reason == ""


def test_seed_with_links_flattened_to_text() -> None:
    """Aggregators sometimes drop the anchors: the lists are then plain runs of headlines."""
    flat = re.sub(r"</?a\b[^>]*>", "", SEED_HTML.read_text(encoding="utf-8"))
    article = _extract(flat)
    assert _char_recall(SEED_BODY.read_text(encoding="utf-8"), article.body_text) >= 0.98
    for text in ("第一个倒下的AI大模型硬件创企", "前端的未来已然到来", "今日好文推荐", "相关新闻"):
        assert text not in article.body_text
    kinds = _kinds(article)
    assert any("第一个倒下的AI大模型硬件创企" in text for text in kinds["related_links"])
    assert any("前端的未来已然到来" in text for text in kinds["recommendations"])


def test_seed_body_html_mirrors_body_text(seed: Article) -> None:
    assert seed.body_html.count("<li>") == 5
    assert "<p>风雨飘摇中的 Stability AI 还能走多远?</p>" in seed.body_html
    assert "今日好文推荐" not in seed.body_html


# --- one small page per boilerplate kind -----------------------------------------------------------


def test_related_links_list_with_dates_is_not_body() -> None:
    items = "".join(
        f'<li><a href="/n/{i}.html">{t}</a><span>(2024-03-0{i + 1} 10:2{i})</span></li>'
        for i, t in enumerate(RELATED_TITLES)
    )
    article = _extract(_page(_article(f"<h3>相关新闻</h3><ul>{items}</ul>")))
    assert article.body_text.splitlines() == list(PROSE)
    related = _kinds(article)["related_links"]
    assert len(related) == 1 and related[0].startswith("相关新闻")
    assert [link["title"] for link in article.boilerplate[-1].links] == list(RELATED_TITLES)


def test_run_together_anchors_without_header_are_related_links() -> None:
    run = "".join(f'<a href="/n/{i}.html">{t}</a>' for i, t in enumerate(RELATED_TITLES * 2))
    article = _extract(_page(_article(f"<div>{run}</div>")))
    assert article.body_text.splitlines() == list(PROSE)
    assert "related_links" in _kinds(article)


def test_flattened_headline_run_after_the_body_is_related_links() -> None:
    article = _extract(_page(_article(f"<div>{''.join(RELATED_TITLES * 3)}</div>")))
    assert article.body_text.splitlines() == list(PROSE)
    assert "related_links" in _kinds(article)


def test_recommendation_tail_inside_the_article_is_cut() -> None:
    tail = "<p><strong>推荐阅读</strong></p>" + "".join(f"<p>{t}</p>" for t in RELATED_TITLES)
    article = _extract(_page(_article(tail)))
    assert article.body_text.splitlines() == list(PROSE)
    assert _kinds(article)["recommendations"][0].splitlines() == ["推荐阅读", *RELATED_TITLES]


def test_share_prompts_are_labelled() -> None:
    article = _extract(
        _page(
            _article(
                '<div><span>分享到：</span><a href="#">微博</a><a href="#">微信</a></div>',
                "<p>长按识别二维码关注我们</p>",
            )
        )
    )
    assert article.body_text.splitlines() == list(PROSE)
    assert len(_kinds(article)["share"]) >= 1


def test_footer_and_disclaimer_are_labelled() -> None:
    footer = (
        '<div class="bottom"><a href="/about">关于我们</a> | <a href="/contact">联系我们</a>'
        "<p>Copyright © 2024 示例新闻网 版权所有 京ICP备12345678号</p>"
        "<p>免责声明：本文仅代表作者本人观点，与本网站无关，如有侵权请联系删除。</p></div>"
    )
    article = _extract(_page(_article(), footer))
    assert article.body_text.splitlines() == list(PROSE)
    kinds = _kinds(article)
    assert "footer" in kinds and "disclaimer" in kinds
    assert "免责声明" not in article.body_text


def test_breadcrumb_is_nav() -> None:
    crumbs = '<div><a href="/">首页</a> &gt; <a href="/society/">社会</a> &gt; 正文</div>'
    article = _extract(_page(crumbs, _article()).replace("<h1>", '<div class="x"></div><h1>'))
    assert article.body_text.splitlines() == list(PROSE)
    assert _kinds(article)["nav"][0].startswith("首页 >")


def test_byline_source_editor_and_date_lines_are_metadata() -> None:
    html = _page(
        "<div>2024-03-12 09:30 来源：示例日报</div>",
        '<div class="box"><p>作者：王小明、李华</p>'
        + "".join(f"<p>{p}</p>" for p in PROSE)
        + "<p>（责任编辑：张三）</p></div>",
    )
    article = _extract(html)
    assert article.body_text.splitlines() == list(PROSE)
    assert article.byline == "作者：王小明、李华"
    assert article.authors == ("王小明", "李华")
    assert article.source == "示例日报"
    assert article.published_text == "2024-03-12 09:30"
    assert article.published_at == "2024-03-12T01:30:00+00:00"


def test_reference_urls_leave_the_body() -> None:
    refs = "<p>参考资料：</p><p>https://example.org/report.pdf</p><p><a href='https://example.com/x'>https://example.com/x</a></p>"
    article = _extract(_page(_article(refs)))
    assert article.body_text.splitlines() == list(PROSE)
    assert article.references == ("https://example.org/report.pdf", "https://example.com/x")


def test_repeated_title_is_not_body() -> None:
    article = _extract(_page(_article().replace('<div class="box">', '<div class="box"><p>寒潮来袭全市气温骤降</p>')))
    assert article.title == "寒潮来袭全市气温骤降"
    assert article.body_text.splitlines() == list(PROSE)


def test_subheadings_inside_the_body_stay() -> None:
    parts = [f"<p>{PROSE[0]}</p>", "<h2>出行提示</h2>", *(f"<p>{p}</p>" for p in PROSE[1:])]
    article = _extract(_page('<div class="box">' + "".join(parts) + "</div>"))
    assert article.body_text.splitlines() == [PROSE[0], "出行提示", *PROSE[1:]]
    assert "<h2>出行提示</h2>" in article.body_html


def test_short_article_beats_a_sidebar_of_teasers() -> None:
    teasers = "".join(
        f'<div><h3><a href="/t/{i}.html">{t}</a></h3><p>{PROSE[i]}{PROSE[(i + 1) % 5]}</p></div>'
        for i, t in enumerate(RELATED_TITLES)
    )
    html = _page(f'<div class="main"><p>{PROSE[0]}</p></div>', f'<div class="aside-list">{teasers}</div>')
    assert _extract(html).body_text == PROSE[0]


def test_comments_are_not_the_body() -> None:
    comments = "".join(f'<div class="comment-item"><p>{p}{p}</p></div>' for p in PROSE)
    html = _page(f'<div class="text"><p>{PROSE[0]}</p><p>{PROSE[1]}</p></div>', f'<div id="comments">{comments}</div>')
    assert _extract(html).body_text.splitlines() == [PROSE[0], PROSE[1]]


def test_english_article_with_byline_and_related_stories() -> None:
    paragraphs = [
        "The city council voted on Tuesday to extend the night bus network to three new districts, officials said.",
        "Supporters argued that shift workers have waited years for reliable late services, "
        "while critics questioned the cost.",
        "The first routes are expected to open next spring, pending a final review of the operating budget.",
    ]
    related = "".join(
        f'<li><a href="/r/{i}">Council approves new budget plan for parks number {i}</a></li>' for i in range(4)
    )
    html = (
        "<html><head><title>Council extends night buses | Example Times</title></head><body>"
        "<h1>Council extends night buses</h1><p>By Jane Doe and John Roe</p>"
        '<div class="story">' + "".join(f"<p>{p}</p>" for p in paragraphs) + "</div>"
        f"<h2>Related stories</h2><ul>{related}</ul><footer>© 2024 Example Times. All rights reserved.</footer>"
        "</body></html>"
    )
    article = _extract(html)
    assert article.body_text.splitlines() == paragraphs
    assert article.authors == ("Jane Doe", "John Roe")
    assert "related_links" in _kinds(article)


# --- selectors and the JSON form --------------------------------------------------------------------


def test_selectors_pin_body_title_and_boilerplate() -> None:
    html = _page(
        '<div id="js_content">'
        + "".join(f"<p>{p}</p>" for p in PROSE[:2])
        + '<section class="promo"><p>点击阅读原文，了解更多精彩内容，欢迎转发。</p></section></div>',
        '<div class="other">' + "".join(f"<p>{p}{p}</p>" for p in PROSE) + "</div>",
        '<span id="publish_time">2024-04-01 10:30</span><span id="js_name">InfoQ</span>',
    )
    selectors = ArticleSelectors(
        title="h1",
        body="#js_content",
        date="#publish_time",
        source="#js_name",
        boilerplate=(("recommendations", "section.promo"),),
    )
    article = _extract(html, selectors=selectors)
    assert article.body_text.splitlines() == list(PROSE[:2])
    assert article.source == "InfoQ"
    assert article.published_at == "2024-04-01T02:30:00+00:00"
    assert article.boilerplate[0].kind == "recommendations"


def test_bad_selector_falls_back_to_generic() -> None:
    article = _extract(_page(_article()), selectors=ArticleSelectors(body="div[[[", title=":::"))
    assert article.body_text.splitlines() == list(PROSE)


def test_json_form_has_stable_fields(seed: Article) -> None:
    data = json.loads(article_to_json(seed))
    assert list(data) == list(article_to_dict(seed))
    assert list(data)[:3] == ["format_version", "url", "title"]
    assert data["boilerplate"][0].keys() == {"kind", "text", "links"}
    assert "今日好文推荐" in article_to_json(seed)  # not escaped as \\u sequences
