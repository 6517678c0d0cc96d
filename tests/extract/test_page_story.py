"""A page is about the story its own title and date open, not the longest one on it.

Streams of next articles and feeds under a short story carry longer stories, each with its own
headline and date line. The pages are written here; traditional Chinese included.
"""

from __future__ import annotations

from portal_archive.extract import extract_article

SHORT = [
    "市气象台今天上午发布寒潮蓝色预警，预计未来三天全市气温将下降八到十度，部分地区伴有大风。",
    "气象专家提醒市民注意添衣保暖，出行请关注实时路况信息。",
]
LONG = [f"第{n}段：记者走访了多个老旧小区，记录了居民生活的变化和改造中遇到的种种问题与期待。" for n in range(10)]


def story(tag: str, title: str, date: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        f"<div class='article'><{tag}>{title}</{tag}><div class='info'>{date} 来源：本报</div><div>{body}</div></div>"
    )


def page(title: str, *stories: str) -> bytes:
    return f"<html><head><title>{title} - 本地新闻</title></head><body>{''.join(stories)}</body></html>".encode()


def test_a_short_story_followed_by_a_stream_of_longer_ones_is_the_page() -> None:
    for tag in ("h1", "h2"):  # the next stories' headlines as weighty as the page's, or less
        html = page(
            "寒潮蓝色预警发布",
            story("h1", "寒潮蓝色预警发布", "2024-01-12 09:30", SHORT),
            f"<div class='stream'>{story(tag, '老旧小区改造记', '2024-01-11 18:00', LONG)}</div>",
        )
        article = extract_article(html, url="http://news.test/a.html")
        assert article.body_text == "\n".join(SHORT), tag
        assert article.body_path == "scoring, the title's own story"


def test_the_same_in_traditional_chinese() -> None:
    short = [text.replace("气象台", "氣象臺").replace("预警", "預警") for text in SHORT]
    html = page(
        "寒流藍色預警發布",
        story("h1", "寒流藍色預警發布", "2024年01月12日 09:30", short),
        story("h2", "老舊社區改造記", "2024年01月11日 18:00", LONG),
    )
    assert extract_article(html, url="http://news.test/tw.html").body_text == "\n".join(short)


def test_subheadings_of_one_story_do_not_cut_it() -> None:
    sections = "".join(f"<h2>第{n}部分</h2>" + "".join(f"<p>{text}</p>" for text in LONG[:3]) for n in range(3))
    html = page(
        "老旧小区改造记",
        f"<div class='article'><h1>老旧小区改造记</h1><div>2024-01-11 18:00</div><p>{SHORT[0]}</p>{sections}</div>",
    )
    article = extract_article(html, url="http://news.test/b.html")
    assert article.body_path == "scoring"
    assert LONG[2] in article.body_text and SHORT[0] in article.body_text


def test_a_masthead_that_carries_the_page_title_is_not_a_story() -> None:
    """The page's <title> is the site's name, shown in the masthead with today's date: the dated
    headline after it is the story, whatever its length."""
    masthead = "<div class='top'><h1>本地新闻网</h1><div>2024年01月12日 星期五</div><ul><li>首页</li></ul></div>"
    html = page("本地新闻网", masthead, story("h1", "老旧小区改造记", "2024-01-11 18:00", LONG))
    article = extract_article(html, url="http://news.test/c.html")
    assert article.body_text == "\n".join(LONG)


FEED = [
    f"第{n}篇推荐：记者走访了多个老旧小区，记录了居民生活的变化和改造中遇到的种种问题，以及居民的期待和担忧。"
    for n in range(6)
]
STORY = [*SHORT, "气象部门表示，此次寒潮过后气温将缓慢回升，下周中期有望恢复到常年同期水平。"]


def test_the_last_summary_of_a_feed_under_a_short_story_is_not_its_body() -> None:
    items = "".join(
        f"<div class='item'><h3><a href='/b/{n}.html'>城市更新系列报道之第{n}篇</a></h3><p>{text}</p></div>"
        for n, text in enumerate(FEED)
    )
    html = page(
        "寒潮蓝色预警发布",
        story("h1", "寒潮蓝色预警发布", "2024-01-12 09:30", STORY),
        f"<div class='feed'>{items}</div>",
    )
    article = extract_article(html, url="http://news.test/d.html")
    assert article.body_text == "\n".join(STORY)
    assert article.page_type == "article"
