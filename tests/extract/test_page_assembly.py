"""Pages put together the way real portals assemble them still give their story.

Written here (no real page is copied): a page built from server-side includes that closes the
document before its article, a photo gallery whose only text is its captions, and a headline shown
with a badge and a linked author name.
"""

from __future__ import annotations

from portal_archive.extract import extract_article

STORY = (
    "第十届常务委员会第二十八次会议听取了关于调整年末余额限额的说明，并对议案进行了审议。"
    "会议同意提出的议案，同意财政经济委员会在审查报告中提出的建议。会议决定：批准发行特别国债购买外汇，"
    "批准年末国债余额限额按报告所列数额调整。"
)
HEADER = (
    "<div class='header'><ul><li><a href='/'>首页</a></li><li>|</li><li><a href='/en/'>EN</a></li>"
    "<li><a href='/login'>登录</a></li></ul></div><div class='siteurl'>https://www.gov.test/</div>"
)


def test_an_article_after_an_included_header_that_closes_the_document_is_found() -> None:
    for end in ("</html>", "</body>", "</BODY></HTML>"):
        html = (
            f"<html><head><title>关于调整限额的决议</title></head><body>{HEADER}{end}"
            f"<div class='content'><p>关于调整限额的决议</p><p>（2007年6月29日会议通过）</p><p>{STORY}</p></div>"
            "<div class='footer'>版权所有：政府网 京ICP备05070218号</div></body></html>"
        )
        article = extract_article(html.encode(), url="https://www.gov.test/gongbao/1.htm")
        assert article.body_text == STORY, end
        assert article.page_type == "article"


CAPTION = (
    "当全世界绝大部分国家都在为吸引游客而绞尽脑汁的时候，只有这么一个国家一脸淡定，"
    "这个国家便是位于两个大国中间的、世界第二大内陆国，草原占了国土的八成。"
)


def gallery(caption: str) -> bytes:
    items = "".join(f"<li class='image-item'><img src='/p/{n}.jpg' alt=''></li>" for n in range(5))
    related = "".join(f"<li><a href='/group/{n}/'>相关图集第{n}组：草原上的老照片</a></li>" for n in range(6))
    return (
        "<html><head><title>最不愁吃肉的国家</title></head><body>"
        f"<div class='image-gallery'><ul class='image-list'>{items}</ul>"
        "<div class='info-box'><h2><span>原创</span>最不愁吃肉的国家</h2>"
        "<div class='pgc'><a href='/c/user/1/'><span>去旅行</span></a>"
        "<div class='subscribe'><span>关注</span></div></div>"
        f"<div class='abstract'><span>1/5</span>{caption}</div></div>"
        "<div><span class='time'>2019-09-08 11:42:03</span></div></div>"
        f"<h3>相关推荐</h3><ul>{related}</ul></body></html>"
    ).encode()


def test_a_gallery_whose_only_text_is_a_caption_gives_the_caption() -> None:
    article = extract_article(gallery(CAPTION), url="https://www.news.test/a1/")
    assert article.body_text.removeprefix("1/5").strip() == CAPTION
    assert article.body_path.endswith(", captions")
    assert "关注" not in article.body_text


def test_a_caption_is_not_the_body_when_the_page_has_paragraphs() -> None:
    html = (
        "<html><head><title>城南大道封闭施工</title></head><body><h1>城南大道封闭施工</h1><div class='main'>"
        f"<figure><img src='/a.jpg'><figcaption>{CAPTION}</figcaption></figure><p>{STORY}</p></div></body></html>"
    )
    article = extract_article(html.encode(), url="https://www.news.test/a2/")
    assert article.body_text == STORY
    assert article.body_path == "scoring"


def test_a_headline_with_a_badge_and_a_linked_author_opens_a_story_not_a_list() -> None:
    caption = CAPTION + "蒙古国的牧民一年四季逐水草而居，饮食以牛羊肉和奶制品为主，蔬菜水果则多靠从邻国运来。"
    article = extract_article(gallery(caption), url="https://www.news.test/a3/")
    assert "最不愁吃肉的国家" not in article.body_text  # the badged headline is the title, not body
    assert article.page_kind != "listing page"


def test_a_paragraph_that_adds_words_to_the_title_stays_in_the_body() -> None:
    html = (
        "<html><head><title>城南大道封闭施工</title></head><body><h1>城南大道封闭施工</h1><div class='main'>"
        f"<p>（原标题：城南大道封闭施工）</p><p>{STORY}</p><p>{CAPTION}</p></div></body></html>"
    )
    article = extract_article(html.encode(), url="https://www.news.test/a4/")
    assert article.body_text == f"（原标题：城南大道封闭施工）\n{STORY}\n{CAPTION}"


def test_a_last_paragraph_that_ends_in_a_back_to_home_link_is_the_article() -> None:
    last = "转型之路，道阻且长。可以预见的是，行业的整顿仍将持续。"
    html = (
        "<html><head><title>城南大道封闭施工</title></head><body><h1>城南大道封闭施工</h1><div class='main'>"
        f"<p>{STORY}</p><p>{CAPTION}</p><p>{last}<a href='http://www.news.test/'>返回新闻网首页&gt;&gt;</a></p>"
        "</div><div class='crumbs'><a href='/'>首页</a> &gt; <a href='/news/'>新闻</a> &gt; 正文</div></body></html>"
    )
    article = extract_article(html.encode(), url="https://www.news.test/a5/")
    assert article.body_text.splitlines() == [STORY, CAPTION, f"{last}返回新闻网首页>>"]
    assert [block.kind for block in article.boilerplate] == ["nav"]
