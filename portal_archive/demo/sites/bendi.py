"""The aggregator, modelled on Bendi News (bendi.news).

Article pages follow the seed page: breadcrumb, title, relative date, byline, body,
"参考链接:", InfoQ's "今日好文推荐" tail inside the body, source line, a run of
related headlines without separators, and the site disclaimer. The site also
carries the awkward parts a crawler must survive: cookies, a legacy redirect,
a dead link, a failing endpoint, GBK pages, one of them declared only in a meta tag.
"""

from __future__ import annotations

from typing import Final

from ..blocks import body_text
from ..manifest import ManifestEntry
from ..reldate import relative_date_text
from ..responses import (
    HTML_UTF8,
    TEXT_UTF8,
    XML_UTF8,
    Request,
    Response,
    Route,
    SiteRoutes,
    fixed,
    text_response,
    weak_etag,
)
from ..world import CATEGORIES, Story, World
from .common import BLANK_GIF, SiteBuild, esc, render_blocks, urlset, utc_iso

SERVER_NAME: Final = "nginx/1.18.0"
SITE_NAME: Final = "Bendi新闻"
PAGE_SIZE: Final = 10
HOME_LATEST_COUNT: Final = 20
BROKEN_PATH: Final = "/api/broken"
ADMIN_PATH: Final = "/admin/"
REGION_COOKIE: Final = "region=sh; Path=/"
FOLLOW_PROMPT: Final = "微信扫码关注该文公众号作者"
EXCERPT_MARK: Final = "……"
CHARSET_TAGS: Final = {
    ("utf-8", True): '<meta charset="utf-8">',
    ("gbk", True): '<meta http-equiv="Content-Type" content="text/html; charset=gbk">',
    ("gbk", False): '<meta charset="gbk">',
}
CONTENT_TYPES: Final = {
    ("utf-8", True): HTML_UTF8,
    ("gbk", True): "text/html; charset=GBK",
    ("gbk", False): "text/html",
}


def _header() -> str:
    links = "".join(f'<a href="/category/{category.slug}">{category.label}</a>' for category in CATEGORIES)
    return (
        '<header class="site-header"><div class="header-inner">'
        f'<a class="site-logo" href="/">{SITE_NAME}</a>'
        f'<nav class="site-nav"><a href="/">首页</a>{links}</nav>'
        "</div></header>"
    )


def _footer(disclaimer: str) -> str:
    return (
        '<footer class="site-footer"><div class="footer-inner">'
        f'<img class="footer-logo" src="{BLANK_GIF}" alt="logo">'
        '<div class="footer-links"><a href="mailto:contact@bendi.news">联系我们</a>'
        f'<a href="{BROKEN_PATH}">隐私协议</a><span class="copyright">©2024 bendi.news</span></div>'
        f'<div class="footer-brand">{SITE_NAME}</div>'
        f'<p class="footer-disclaimer">{esc(disclaimer)}</p>'
        "</div></footer>"
    )


def _layout(
    world: World, title: str, main: str, *, head: str = "", charset_tag: str = CHARSET_TAGS[("utf-8", True)]
) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n'
        f"{charset_tag}\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n{head}"
        "</head>\n<body>\n"
        f'<div id="__next">\n{_header()}\n<main class="main-container">\n{main}\n</main>\n'
        f"{_footer(world.seed_page.disclaimer)}\n</div>\n</body>\n</html>\n"
    )


def _news_item(path: str, title: str, summary: str, source: str) -> str:
    return (
        f'<li class="news-item"><a class="news-title" href="{esc(path)}">{esc(title)}</a>'
        f'<p class="news-summary">{esc(summary)}</p><span class="news-source">{esc(source)}</span></li>'
    )


def _story_content(story: Story) -> str:
    parts: list[str] = []
    if story.byline:
        parts.append(f'<p class="article-byline">{esc(story.byline)}</p>')
    if story.attribution:
        parts.append(f'<p class="article-attribution">{esc(story.attribution)}</p>')
    parts.append(
        render_blocks(
            story.blocks,
            paragraph="<p>{text}</p>",
            heading="<p><strong>{text}</strong></p>",
            item="<li>{text}</li>",
        )
    )
    if story.relation == "excerpt":
        parts.append(f'<p class="article-ellipsis">{EXCERPT_MARK}</p>')
    if story.references:
        parts.append('<p class="article-refs-title">参考链接:</p>')
        parts.extend(
            f'<p class="article-ref"><a href="{esc(url)}" target="_blank" rel="nofollow noopener">{esc(url)}</a></p>'
            for url in story.references
        )
    if story.recommendations_heading:
        parts.append(f'<p class="article-recommend-title"><strong>{esc(story.recommendations_heading)}</strong></p>')
        parts.extend(f'<p class="article-recommend">{esc(title)}</p>' for title in story.recommendations)
    return "\n".join(parts)


def render_story(world: World, story: Story, relative_date: str) -> str:
    """The article page, following the seed page's order of parts."""
    related = "".join(f'<a class="related-item" href="{esc(path)}">{esc(title)}</a>' for path, title in story.related)
    follow = (
        f'<div class="article-follow"><img src="{BLANK_GIF}" alt="qrcode"><p>{FOLLOW_PROMPT}</p></div>\n'
        if story.from_wechat_account
        else ""
    )
    head = (
        f'<meta name="description" content="{esc(story.article.summary)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{esc(story.title)}">\n'
        f'<meta property="og:url" content="{esc(story.url)}">\n'
        f'<link rel="canonical" href="{esc(story.url)}">\n'
    )
    main = (
        '<div class="article-page">\n'
        f'<nav class="breadcrumb"><a href="/">{SITE_NAME}</a><span class="breadcrumb-sep">&gt;</span>'
        f'<span class="breadcrumb-current">{esc(story.title)}</span></nav>\n'
        '<article class="article-detail">\n'
        f'<h1 class="article-title">{esc(story.title)}</h1>\n'
        f'<div class="article-meta"><span class="article-time">{relative_date}</span></div>\n'
        f'<div class="article-content" id="article-content">\n{_story_content(story)}\n</div>\n'
        f"{follow}"
        f'<div class="article-source">来源:{esc(story.source)}</div>\n'
        "</article>\n"
        '<section class="related-news"><h2 class="related-title">相关新闻</h2>'
        f'<div class="related-list">{related}</div></section>\n'
        "</div>"
    )
    key = (story.encoding, story.charset_in_header)
    return _layout(world, f"{story.title} - {SITE_NAME}", main, head=head, charset_tag=CHARSET_TAGS[key])


def _story_route(world: World, story: Story) -> Route:
    key = (story.encoding, story.charset_in_header)
    # The shown relative date follows the clock; the story's version, which the ETag names, does not.
    etag = weak_etag(render_story(world, story, "").encode("utf-8"))

    def answer(request: Request) -> Response:
        page = render_story(world, story, relative_date_text(story.ingest, request.now))
        return text_response(
            200, page, CONTENT_TYPES[key], encoding=story.encoding, etag=etag, last_modified=story.ingest
        )

    return Route(answer)


def _home(world: World) -> Response:
    latest = "\n".join(
        _news_item(story.path, story.title, story.article.summary, story.source)
        for story in world.stories[:HOME_LATEST_COUNT]
    )
    legacy = world.legacy_story
    main = (
        '<section class="home-latest"><h2 class="section-title">最新资讯</h2>\n'
        f'<ul class="news-list">\n{latest}\n</ul></section>\n'
        '<section class="home-hot"><h2 class="section-title">热门推荐</h2>'
        f'<ul class="hot-list"><li><a href="/article?id={legacy.cuid}">{esc(legacy.title)}</a></li></ul></section>'
    )
    cookies = (("Set-Cookie", f"sid={world.visitor_id}; Path=/; HttpOnly"), ("Set-Cookie", REGION_COOKIE))
    return text_response(200, _layout(world, f"{SITE_NAME} - 本地新闻资讯", main), headers=cookies)


def _list_path(category: str, page: int) -> str:
    return f"/category/{category}" if page == 1 else f"/category/{category}?page={page}"


def _list_pages(world: World) -> list[tuple[str, Response]]:
    pages: list[tuple[str, Response]] = []
    for category in CATEGORIES:
        stories = world.stories_in(category.slug)
        chunks = [stories[start : start + PAGE_SIZE] for start in range(0, len(stories), PAGE_SIZE)] or [()]
        for number, chunk in enumerate(chunks, start=1):
            items = [_news_item(story.path, story.title, story.article.summary, story.source) for story in chunk]
            if number == 1 and category.slug == world.missing_category:
                dead = _news_item(
                    f"/wxnews/{world.missing_cuid}", f"{category.label}快讯：相关内容已更新", "", SITE_NAME
                )
                items.insert(min(2, len(items)), dead)
            pager = []
            if number > 1:
                pager.append(f'<a class="page-prev" href="{_list_path(category.slug, number - 1)}">上一页</a>')
            pager.append(f'<span class="page-current">第{number}页</span>')
            if number < len(chunks):
                pager.append(f'<a class="page-next" href="{esc(_list_path(category.slug, number + 1))}">下一页</a>')
            main = (
                f'<div class="category-page"><h1 class="category-title">{category.label}</h1>\n'
                f'<ul class="news-list">\n{chr(10).join(items) or "<li class=empty>暂无内容</li>"}\n</ul>\n'
                f'<div class="pagination">{"".join(pager)}</div></div>'
            )
            title = f"{category.label} - {SITE_NAME}"
            pages.append((_list_path(category.slug, number), text_response(200, _layout(world, title, main))))
    return pages


def _status_page(world: World, status: int, heading: str) -> Response:
    main = f'<div class="error-page"><h1>{status}</h1><p>{heading}</p><a href="/">返回首页</a></div>'
    return text_response(status, _layout(world, f"{heading} - {SITE_NAME}", main))


def _robots(world: World) -> Response:
    text = f"User-agent: *\nDisallow: {ADMIN_PATH}\n\nSitemap: {world.urls.bendi}/sitemap.xml\n"
    return text_response(200, text, TEXT_UTF8)


def _sitemap(world: World) -> Response:
    base = world.urls.bendi
    locations: list[tuple[str, str | None]] = [(f"{base}/", None)]
    locations += [(f"{base}/category/{category.slug}", None) for category in CATEGORIES]
    locations += [(story.url, utc_iso(story.ingest)[:10]) for story in world.stories]
    return text_response(200, urlset(locations), XML_UTF8)


def _story_entry(story: Story) -> ManifestEntry:
    return ManifestEntry(
        url=story.url,
        site="bendi",
        kind="article",
        status=200,
        reachable=True,
        charset=story.encoding,
        charset_in_header=story.charset_in_header,
        slug=story.article.slug,
        title=story.title,
        published=utc_iso(story.article.published),
        ingest_time=utc_iso(story.ingest, milliseconds=True),
        authors=story.article.authors,
        source=story.source,
        references=story.references,
        body_text=body_text(story.blocks),
        relation=story.relation,
        original_url=story.original_url,
        edits=story.edits,
        category=story.category,
    )


def build_bendi_site(world: World) -> SiteBuild:
    """Routes and manifest entries of the aggregator."""
    base = world.urls.bendi
    legacy = world.legacy_story
    redirect_body = f'<html><body><a href="{legacy.path}">Found</a></body></html>'
    routes: dict[str, Route] = {
        "/": fixed(_home(world)),
        "/robots.txt": fixed(_robots(world)),
        "/sitemap.xml": fixed(_sitemap(world)),
        f"/article?id={legacy.cuid}": fixed(text_response(302, redirect_body, headers=(("Location", legacy.path),))),
        BROKEN_PATH: fixed(_status_page(world, 500, "服务器内部错误")),
        ADMIN_PATH: fixed(_status_page(world, 403, "无权访问")),
    }
    entries = [ManifestEntry(url=f"{base}/", site="bendi", kind="home", status=200, reachable=True)]
    for path, response in _list_pages(world):
        routes[path] = fixed(response)
        entries.append(ManifestEntry(url=f"{base}{path}", site="bendi", kind="list", status=200, reachable=True))
    for story in world.stories:
        routes[story.path] = _story_route(world, story)
        entries.append(_story_entry(story))
    entries += [
        ManifestEntry(
            url=f"{base}/article?id={legacy.cuid}",
            site="bendi",
            kind="redirect",
            status=302,
            reachable=True,
            location=legacy.url,
        ),
        ManifestEntry(
            url=f"{base}/wxnews/{world.missing_cuid}", site="bendi", kind="error", status=404, reachable=True
        ),
        ManifestEntry(url=f"{base}{BROKEN_PATH}", site="bendi", kind="error", status=500, reachable=True),
        ManifestEntry(url=f"{base}{ADMIN_PATH}", site="bendi", kind="error", status=403, reachable=False),
        ManifestEntry(url=f"{base}/robots.txt", site="bendi", kind="robots", status=200, reachable=True),
        ManifestEntry(url=f"{base}/sitemap.xml", site="bendi", kind="sitemap", status=200, reachable=True),
    ]
    not_found = _status_page(world, 404, "页面不存在")
    return SiteBuild(SiteRoutes(SERVER_NAME, routes, lambda _request: not_found), tuple(entries))
