"""The WeChat public-account site, modelled on mp.weixin.qq.com article pages.

Real WeChat has no public index, so the demo adds a home page and one profile page
per account that list its articles; article pages keep WeChat's element ids and
classes (rich_media_title, js_name, publish_time, js_content, 阅读原文).
"""

from __future__ import annotations

from typing import Final

from ..blocks import body_text
from ..manifest import ManifestEntry
from ..responses import TEXT_UTF8, Response, Route, SiteRoutes, fixed, text_response, weak_etag
from ..world import ACCOUNT_SLUGS, WechatPost, World
from .common import SiteBuild, china_time, esc, render_blocks, utc_iso

SERVER_NAME: Final = "nginx"
ORIGINAL_MARK: Final = "原创"
HEADING_TEMPLATE: Final = (
    '<section style="margin-top: 24px;"><strong><span style="font-size: 17px;">{text}</span></strong></section>'
)


def _layout(title: str, body: str, *, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1.0,maximum-scale=1.0,user-scalable=0">\n'
        f"<title>{esc(title)}</title>\n{head}</head>\n"
        f'<body id="activity-detail" class="zh_CN wx_wap_page">\n{body}\n</body>\n</html>\n'
    )


def render_article(post: WechatPost) -> str:
    """An article page with WeChat's structure and the 阅读原文 link to another site."""
    article = post.article
    content = render_blocks(
        article.blocks,
        paragraph='<p style="margin-bottom: 16px;"><span style="font-size: 15px;">{text}</span></p>',
        heading=HEADING_TEMPLATE,
        item="<li><p>{text}</p></li>",
        list_open='<ul class="list-paddingleft-1">',
    )
    authors = "、".join(article.authors)
    head = (
        f'<meta property="og:title" content="{esc(article.title)}">\n'
        f'<meta property="og:url" content="{esc(post.url)}">\n'
        f'<meta property="og:description" content="{esc(article.summary)}">\n'
        f'<meta name="author" content="{esc(authors)}">\n'
    )
    body = (
        '<div class="rich_media_area_primary"><div class="rich_media_area_primary_inner">\n'
        '<div id="img-content" class="rich_media_wrp">\n'
        f'<h1 class="rich_media_title" id="activity-name">{esc(article.title)}</h1>\n'
        '<div id="meta_content" class="rich_media_meta_list">'
        f'<span id="copyright_logo" class="rich_media_meta icon_appmsg_tag appmsg_title_tag">{ORIGINAL_MARK}</span>'
        f'<span class="rich_media_meta rich_media_meta_text">{esc(authors)}</span>'
        '<span class="rich_media_meta rich_media_meta_nickname" id="profileBt">'
        f'<a href="/profile/{post.account_slug}" id="js_name">{esc(article.account or "")}</a></span>'
        f'<em id="publish_time" class="rich_media_meta rich_media_meta_text">{china_time(article.published)}</em>'
        "</div>\n"
        '<div class="rich_media_content js_underline_content" id="js_content" style="visibility: visible;">\n'
        f'<section style="font-size: 15px; line-height: 1.75;">\n{content}\n</section>\n</div>\n'
        '<div class="rich_media_tool" id="js_toobar3">'
        f'<a id="js_view_source" class="media_tool_meta meta_primary" href="{esc(post.read_more_url)}">阅读原文</a>'
        "</div>\n</div>\n</div></div>\n"
        f'<script>var ct = "{int(article.published.timestamp())}"; var msg_title = "{esc(article.title)}";</script>'
    )
    return _layout(article.title, body, head=head)


def _profile(account: str, posts: list[WechatPost]) -> str:
    items = "\n".join(
        '<li class="weui-media-box">'
        f'<a class="weui-media-box__title" href="{post.path}">{esc(post.article.title)}</a>'
        f'<span class="weui-media-box__info">{china_time(post.article.published, "%Y-%m-%d")}</span>'
        f'<p class="weui-media-box__desc">{esc(post.article.summary)}</p></li>'
        for post in posts
    )
    body = (
        f'<div class="profile_info"><strong class="profile_nickname">{esc(account)}</strong></div>\n'
        f'<ul class="weui-panel__bd">\n{items}\n</ul>\n<a href="/">全部公众号</a>'
    )
    return _layout(account, body)


def _home(accounts: list[str]) -> str:
    links = "".join(
        f'<li><a class="profile-link" href="/profile/{ACCOUNT_SLUGS[account]}">{esc(account)}</a></li>'
        for account in accounts
    )
    return _layout("微信公众平台", f'<div class="weui-panel"><h2>公众号</h2><ul>{links}</ul></div>')


def _article_entry(post: WechatPost) -> ManifestEntry:
    article = post.article
    return ManifestEntry(
        url=post.url,
        site="wechat",
        kind="article",
        status=200,
        reachable=True,
        slug=article.slug,
        title=article.title,
        published=utc_iso(article.published),
        authors=article.authors,
        source=article.account,
        references=article.references,
        body_text=body_text(article.blocks),
        relation="original",
    )


def build_wechat_site(world: World) -> SiteBuild:
    """Routes and manifest entries of the WeChat-like site."""
    base = world.urls.wechat
    accounts = [account for account in ACCOUNT_SLUGS if any(p.article.account == account for p in world.wechat_posts)]
    routes: dict[str, Route] = {
        "/": fixed(text_response(200, _home(accounts))),
        "/robots.txt": fixed(text_response(200, "User-agent: *\nDisallow: /mp/\n", TEXT_UTF8)),
    }
    entries = [ManifestEntry(url=f"{base}/", site="wechat", kind="home", status=200, reachable=True)]
    for account in accounts:
        path = f"/profile/{ACCOUNT_SLUGS[account]}"
        posts = [post for post in world.wechat_posts if post.article.account == account]
        routes[path] = fixed(text_response(200, _profile(account, posts)))
        entries.append(ManifestEntry(url=f"{base}{path}", site="wechat", kind="list", status=200, reachable=True))
    for post in world.wechat_posts:
        page = render_article(post)
        etag = weak_etag(page.encode("utf-8"))
        routes[post.path] = fixed(text_response(200, page, etag=etag, last_modified=post.article.published))
        entries.append(_article_entry(post))
    entries.append(ManifestEntry(url=f"{base}/robots.txt", site="wechat", kind="robots", status=200, reachable=True))
    not_found = text_response(404, _layout("微信公众平台", '<div class="weui-msg"><p>该内容已被发布者删除</p></div>'))
    missing: Response = not_found
    return SiteBuild(SiteRoutes(SERVER_NAME, routes, lambda _request: missing), tuple(entries))
