"""A WeChat article page as mp.weixin.qq.com serves it: what its scripts say and the HTML leaves empty."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_archive.extract.article import ArticleAssembler, FetchedPage
from portal_archive.extract.extractor import parse_page
from portal_archive.extract.wechat import read_wechat_state
from portal_archive.profiles import load_profile

PARAGRAPHS = [
    "清明节前夕，市民政部门在各公墓开设了网上祭扫通道，市民足不出户即可寄托哀思，减少人员聚集。",
    "据介绍，今年的网上祭扫平台新增了代客献花和集体共祭服务，截至昨日已有两万余人次参与。",
]


def served_page(*, ct: str = "1522968980", nickname: str = "城市晚报") -> bytes:
    """The shape of a 2018 page as served: h2 title, empty #publish_time, the values in scripts."""
    body = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    return (
        "<html><head><title></title></head><body><div id='img-content'>"
        "<h2 class='rich_media_title' id='activity-name'>清明网上祭扫&amp;集体共祭</h2>"
        "<div id='meta_content'><em id='publish_time' class='rich_media_meta rich_media_meta_text'></em>"
        "<a id='post-user'></a></div>"
        f"<div class='rich_media_content' id='js_content'>{body}</div></div>"
        f'<script>var nickname = "{nickname}";\nvar ct = "{ct}";\nvar publish_time = "2018-04-06" || "";\n'
        'var msg_title = "清明网上祭扫&amp;集体共祭";</script></body></html>'
    ).encode()


def test_the_scripts_give_title_account_and_the_moment_of_publication() -> None:
    state = read_wechat_state(parse_page(served_page()).root)
    assert state is not None
    assert (state.title, state.source, state.publish_time) == ("清明网上祭扫&集体共祭", "城市晚报", 1522968980000)


def test_a_page_without_those_scripts_has_no_state() -> None:
    plain = parse_page(b"<html><body><p>x</p><script>var a = 1;</script></body></html>")
    assert read_wechat_state(plain.root) is None
    undated = read_wechat_state(parse_page(served_page(ct="soon")).root)
    assert undated is not None and undated.publish_time is None


def test_the_wechat_profile_assembles_a_served_page() -> None:
    fetched = FetchedPage(
        url="https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv", body=served_page(),
        fetched_at=datetime(2020, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    counted: list[str] = []
    item = ArticleAssembler(load_profile("wechat"), count=counted.append).assemble(fetched)
    assert item.title == "清明网上祭扫&集体共祭"
    assert item.source == "城市晚报"
    assert item.published_at == "2018-04-05T22:56:20+00:00"
    assert item.body_text == "\n".join(PARAGRAPHS)
    assert "dates/embedded" in counted
