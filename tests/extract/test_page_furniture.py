"""What follows a story on its page stays out of its body: readers' comments and a platform's notice.

The pages are written here (no real page is copied): one story in a container that also holds what
portals put under it, in simplified and in traditional Chinese.
"""

from __future__ import annotations

from portal_archive.extract import extract_article

STORY = [
    "记者从市交通管理部门获悉，城南大道将于本周六起进行为期三个月的封闭施工，届时过往车辆需按指示绕行。",
    "施工期间，公交线路也将作出调整，部分站点临时取消，市民可通过官方渠道查询最新的出行信息。",
    "交管部门提醒，施工路段周边可能出现拥堵，请驾驶人提前规划路线，遵守现场交通标志和民警指挥。",
]
STORY_TRADITIONAL = [
    "記者從市交通管理部門獲悉，城南大道將於本週六起進行為期三個月的封閉施工，屆時過往車輛需按指示繞行。",
    "施工期間，公車路線也將作出調整，部分站點臨時取消，市民可透過官方管道查詢最新的出行資訊。",
    "交管部門提醒，施工路段周邊可能出現壅塞，請駕駛人提前規劃路線，遵守現場交通標誌和員警指揮。",
]


def page(paragraphs: list[str], tail: str, *, title: str = "城南大道封闭施工") -> bytes:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<div class='main'>{body}{tail}</div></body></html>"
    ).encode()


def comments(header: str, names: tuple[str, str] = ("网友", "网友")) -> str:
    entries = "".join(
        f"<div><span>{names[n % 2]}{n}[北京]2019-05-17 20:3{n}</span><p>{remark}</p><span>顶{n}|踩0</span></div>"
        for n, remark in enumerate(["大家注意安全。", "请过往车辆谨慎慢行！", "晚上能走吧？"])
    )
    return f"<div><span>{header}</span></div>{entries}<div>目前没有更多跟贴，欢迎你发表观点</div>"


def test_a_comment_section_under_the_story_is_not_its_body() -> None:
    for header in ("跟贴 19 参与 206", "0条评论|0人参与网友评论", "最热评论", "评论"):
        article = extract_article(page(STORY, comments(header)), url="http://news.test/a/1.html")
        assert article.body_text == "\n".join(STORY), header
        assert any(block.kind == "comments" for block in article.boilerplate)


def test_a_comment_section_in_traditional_chinese_is_not_the_body() -> None:
    article = extract_article(page(STORY_TRADITIONAL, comments("網友評論")), url="http://news.test/a/2.html")
    assert article.body_text == "\n".join(STORY_TRADITIONAL)


def test_a_platform_notice_under_a_users_post_is_not_the_body() -> None:
    notice = (
        "<p>特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台用户上传并发布，本平台仅提供信息存储服务。</p>"
        "<p>Notice: The content above (including the pictures and videos if any) is uploaded and posted by a user "
        "of a social media platform, which only provides information storage services.</p>"
    )
    article = extract_article(page(STORY, notice), url="http://news.test/a/3.html")
    assert article.body_text == "\n".join(STORY)
    assert [block.kind for block in article.boilerplate] == ["disclaimer"]


def test_a_story_that_breaks_its_last_sentence_over_short_lines_keeps_them() -> None:
    lines = [
        "道路施工会给大家的出行带来不便，",
        "但短暂的维修换来的是",
        "日后的更安全、更畅通。",
        "愿大家都能",
        "平安出行。",
    ]
    article = extract_article(page(STORY + lines, comments("跟贴 3")), url="http://news.test/a/4.html")
    assert article.body_text == "\n".join(STORY + lines)


def test_a_story_that_talks_about_comments_keeps_that_paragraph() -> None:
    about = "这篇报道发表后，网友评论纷纷表示支持，认为施工虽然带来不便，但有利于城市长远发展。"
    article = extract_article(page([*STORY, about], ""), url="http://news.test/a/5.html")
    assert article.body_text == "\n".join([*STORY, about])


def test_a_traditional_chinese_page_labels_its_sections_as_a_simplified_one_does() -> None:
    related = "".join(f"<li><a href='/n/{n}'>市府宣布第{n}批道路改善工程名單出爐</a></li>" for n in range(5))
    tail = (
        "<p>（責任編輯：陳小明）</p><p>來源：中央社</p>"
        f"<div><h3>相關新聞</h3><ul>{related}</ul></div>"
        f"<div><h3>延伸閱讀</h3><ul>{related}</ul></div>"
    )
    article = extract_article(page(STORY_TRADITIONAL, tail, title="城南大道封閉施工"), url="http://news.test/tw/1")
    assert article.body_text == "\n".join(STORY_TRADITIONAL)
    assert article.source == "中央社"
    assert {block.kind for block in article.boilerplate} == {"related_links"}
    simplified_page = page(STORY, tail.replace("相關新聞", "相关新闻").replace("延伸閱讀", "延伸阅读"))
    assert {block.kind for block in extract_article(simplified_page, url="http://news.test/cn/1").boilerplate} == {
        "related_links"
    }


def test_an_article_in_an_element_named_for_something_else_is_still_found() -> None:
    """Class names point away from the story ("share area" around it): no body is not an answer while
    the page has paragraphs; the second look, without class names, says so."""
    body = "".join(f"<p>{text}</p>" for text in STORY)
    html = (
        "<html><head><title>城南大道封闭施工</title></head><body><h1>城南大道封闭施工</h1>"
        "<p class='p_time'>2020年09月11日 18:05 来源：本报</p>"
        f"<div class='js_img_share_area'><div id='main_content'>{body}</div></div></body></html>"
    ).encode()
    article = extract_article(html, url="http://news.test/a/6.html")
    assert article.body_text == "\n".join(STORY)
    assert article.body_path == "scoring without class names"
    assert extract_article(page(STORY, ""), url="http://news.test/a/7.html").body_path == "scoring"
