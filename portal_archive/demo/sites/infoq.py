"""The original publisher, modelled on InfoQ China (infoq.cn).

As on the real Nuxt site, an article page carries a `__NUXT_DATA__` payload, and its body is
either server-rendered inside `.ProseMirror` or left empty for the page's script to fill from the
getDetail API (`POST /public/v1/article/getDetail {"uuid": …}`): most articles here are such shells,
whose API answer holds the body as HTML, as a ProseMirror document (a JSON string), or as a
`content_url` to fetch it from. One article's script fills the body from data only the page holds,
so only a browser reads it. Article pages are gzipped when the client accepts it; the home page is
sent with chunked framing.
"""

from __future__ import annotations

import base64
import json
import zlib
from email.utils import format_datetime
from typing import Any, Final

from ..blocks import body_text
from ..manifest import ManifestEntry
from ..nuxt_encoder import Tagged, encode_nuxt_data
from ..responses import (
    JSON_UTF8,
    RSS_UTF8,
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
from ..world import InfoqPost, World
from .common import SiteBuild, china_time, esc, render_blocks, urlset, utc_iso

SERVER_NAME: Final = "Tengine"
SITE_TITLE: Final = "InfoQ - 促进软件开发及相关领域知识与创新的传播"
SOURCE_NAME: Final = "InfoQ"
DETAIL_API_PATH: Final = "/public/v1/article/getDetail"
RECOMMEND_API_PATH: Final = "/public/v1/my/recommond"
TOPIC_LIST_API_PATH: Final = "/public/v1/article/getList"
TOPIC_INFO_API_PATH: Final = "/public/v1/topic/getInfo"
LIST_SIZE: Final = 20
"""The page size a client asks (``size``) when it names none; at most ``MAX_LIST_SIZE``."""
MAX_LIST_SIZE: Final = 50
HOME_LATEST_COUNT: Final = 15
FEED_SIZE: Final = 20
SITEMAP_PARTS: Final = 2
RECOMMEND_COUNT: Final = 4


def _uid(name: str) -> int:
    """A stable numeric id for an author or topic name, as the API exposes them."""
    return zlib.crc32(name.encode("utf-8")) % 10_000_000


def content_html(post: InfoqPost) -> str:
    """The ProseMirror body: what the page renders and what the API returns as `content`."""
    parts = [
        render_blocks(
            post.article.blocks,
            paragraph="<p>{text}</p>",
            heading="<h2>{text}</h2>",
            item="<li><p>{text}</p></li>",
        )
    ]
    if post.article.references:
        parts.append("<p>参考链接:</p>")
        parts.extend(f'<p><a href="{esc(url)}" target="_blank">{esc(url)}</a></p>' for url in post.article.references)
    return "\n".join(parts)


def _text_node(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def content_document(post: InfoqPost) -> dict[str, Any]:
    """The body as InfoQ's editor stores it: a ProseMirror document (links are nodes, lists
    ``bulletedlist``/``listitem``), with the same blocks and references as `content_html`."""
    nodes: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for block in post.article.blocks:
        if block.kind == "item":
            items.append({"type": "listitem", "content": [{"type": "paragraph", "content": [_text_node(block.text)]}]})
            continue
        if items:
            nodes.append({"type": "bulletedlist", "content": items})
            items = []
        if block.kind == "heading":
            nodes.append({"type": "heading", "attrs": {"level": 2}, "content": [_text_node(block.text)]})
        else:
            nodes.append({"type": "paragraph", "content": [_text_node(block.text)]})
    if items:
        nodes.append({"type": "bulletedlist", "content": items})
    if post.article.references:
        nodes.append({"type": "paragraph", "content": [_text_node("参考链接:")]})
        for url in post.article.references:
            link = {"type": "link", "attrs": {"href": url}, "content": [_text_node(url)]}
            nodes.append({"type": "paragraph", "content": [link]})
    return {"type": "doc", "content": nodes}


def _document_json(post: InfoqPost) -> str:
    return json.dumps(content_document(post), ensure_ascii=False, separators=(",", ":"))


def detail_record(post: InfoqPost, base: str) -> dict[str, Any]:
    """What getDetail answers for an article, by how its page gets the body."""
    record = article_record(post, with_content=False)
    if post.delivery == "content_url":
        record["content_url"] = base + post.content_path
    elif post.delivery == "prosemirror":
        record["content"] = _document_json(post)
    elif post.delivery != "script":
        record["content"] = content_html(post)
    return record


def article_record(post: InfoqPost, *, with_content: bool) -> dict[str, Any]:
    """The article object of the payload and of getDetail, in InfoQ's field names."""
    article = post.article
    record: dict[str, Any] = {
        "uuid": post.post_id,
        "article_title": article.title,
        "article_summary": article.summary,
        "publish_time": round(article.published.timestamp() * 1000),
        "author": [{"uid": _uid(name), "nickname": name} for name in article.authors],
        "topic": [{"id": _uid(tag), "name": tag} for tag in article.tags],
    }
    if with_content:
        record["content"] = content_html(post)
    return record


def nuxt_payload(post: InfoqPost) -> str:
    """`__NUXT_DATA__` as Nuxt 3 writes it: reactive wrappers around useAsyncData results."""
    state = {
        "data": Tagged(
            "ShallowReactive",
            (
                {
                    f"article-detail-{post.post_id}": {
                        "code": 0,
                        "data": article_record(post, with_content=not post.js_only),
                    }
                },
            ),
        ),
        "state": {},
        "once": Tagged("Set", ()),
        "_errors": Tagged("ShallowReactive", ({},)),
        "serverRendered": True,
        "path": post.path,
    }
    return encode_nuxt_data(Tagged("ShallowReactive", (state,)))


_PROSEMIRROR_SCRIPT: Final = """
  function esc(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function render(node) {
    var inner = (node.content || []).map(render).join('');
    switch (node.type) {
      case 'text': return esc(node.text || '');
      case 'paragraph': return '<p>' + inner + '</p>';
      case 'heading': return '<h' + node.attrs.level + '>' + inner + '</h' + node.attrs.level + '>';
      case 'bulletedlist': return '<ul>' + inner + '</ul>';
      case 'listitem': return '<li>' + inner + '</li>';
      case 'link': return '<a href="' + esc(node.attrs.href) + '" target="_blank">' + inner + '</a>';
      default: return inner;
    }
  }
  function show(content) {
    box.innerHTML = content.charAt(0) === '{' ? render(JSON.parse(content)) : content;
  }
"""


def _fetch_script(post: InfoqPost) -> str:
    """The shell's script: getDetail, then `content_url` if named, then the body into `.ProseMirror`."""
    return (
        "<script>\n(function () {\n"
        "  var box = document.querySelector('.ProseMirror');\n"
        f"{_PROSEMIRROR_SCRIPT}"
        f"  fetch('{DETAIL_API_PATH}', {{method: 'POST', headers: {{'Content-Type': 'application/json'}},"
        f" body: JSON.stringify({{uuid: '{post.post_id}'}})}})\n"
        "    .then(function (response) { return response.json(); })\n"
        "    .then(function (payload) {\n"
        "      var data = payload.data;\n"
        "      return data.content_url ? fetch(data.content_url).then(function (r) { return r.text(); })"
        " : data.content;\n"
        "    })\n"
        "    .then(show);\n"
        "})();\n</script>\n"
    )


def _inline_script(post: InfoqPost) -> str:
    """A body only the page's own script can produce (encoded in the page; the API has none)."""
    packed = base64.b64encode(content_html(post).encode("utf-8")).decode("ascii")
    return (
        "<script>\n(function () {\n"
        f"  var packed = '{packed}';\n"
        "  var bytes = Uint8Array.from(atob(packed), function (c) { return c.charCodeAt(0); });\n"
        "  document.querySelector('.ProseMirror').innerHTML = new TextDecoder('utf-8').decode(bytes);\n"
        "})();\n</script>\n"
    )


def _layout(title: str, main: str, *, head: str = "", tail: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n"
        '<link rel="alternate" type="application/rss+xml" title="InfoQ" href="/feed">\n'
        f"{head}</head>\n<body>\n"
        '<div id="__nuxt"><div class="layout">\n'
        '<header class="com-header"><a class="logo" href="/">InfoQ</a>'
        '<nav class="nav"><a href="/">首页</a><a href="/feed">RSS</a></nav></header>\n'
        f"{main}\n"
        '<footer class="com-footer"><a href="/feed">RSS 订阅</a>'
        "<span>© 2024 极客邦控股（北京）有限公司</span></footer>\n"
        f"</div></div>\n{tail}</body>\n</html>\n"
    )


def render_article(post: InfoqPost, recommended: list[InfoqPost]) -> str:
    """An article page; the body is left empty for the script-rendered article."""
    article = post.article
    authors = "".join(f'<span class="com-author-name">{esc(name)}</span>' for name in article.authors)
    body = "" if post.js_only else content_html(post)
    recommend = "".join(
        f'<li><a class="com-article-title" href="{other.path}">{esc(other.article.title)}</a></li>'
        for other in recommended
    )
    main = (
        '<div class="article-main">\n<article class="article-detail">\n'
        f'<h1 class="article-title">{esc(article.title)}</h1>\n'
        f'<div class="article-info"><div class="author-list">{authors}</div>'
        f'<span class="date">{china_time(article.published)}</span></div>\n'
        f'<div class="article-summary">{esc(article.summary)}</div>\n'
        f'<div class="article-content"><div class="article-preview ProseMirror">{body}</div></div>\n'
        "</article>\n"
        f'<section class="recommend"><h2>相关推荐</h2><ul>{recommend}</ul></section>\n</div>'
    )
    head = (
        f'<meta name="description" content="{esc(article.summary)}">\n'
        f'<meta name="keywords" content="{esc(",".join(article.tags))}">\n'
        f'<meta property="og:title" content="{esc(article.title)}">\n'
        f'<link rel="canonical" href="{esc(post.url)}">\n'
    )
    tail = f'<script id="__NUXT_DATA__" type="application/json" data-ssr="true">{nuxt_payload(post)}</script>\n'
    if post.delivery == "script":
        tail += _inline_script(post)
    elif post.js_only:
        tail += _fetch_script(post)
    return _layout(f"{article.title}_InfoQ", main, head=head, tail=tail)


def _home(world: World) -> Response:
    items = "\n".join(
        '<div class="article-item">'
        f'<a class="com-article-title" href="{post.path}">{esc(post.article.title)}</a>'
        f'<p class="summary">{esc(post.article.summary)}</p>'
        f'<div class="info"><span class="author">{esc("、".join(post.article.authors))}</span>'
        f'<span class="date">{china_time(post.article.published, "%Y-%m-%d")}</span></div></div>'
        for post in world.infoq_posts[:HOME_LATEST_COUNT]
    )
    hot = "".join(
        f'<li><a href="{post.legacy_path}">{esc(post.article.title)}</a></li>'
        for post in world.infoq_posts
        if post.legacy_path
    )
    main = (
        f'<main class="index-main">\n<section class="list-wrap"><h2>最新文章</h2>\n{items}\n</section>\n'
        f'<section class="hot"><h2>热门文章</h2><ul>{hot}</ul></section>\n</main>'
    )
    return text_response(200, _layout(SITE_TITLE, main), chunked=True)


def _feed(world: World) -> Response:
    posts = world.infoq_posts[:FEED_SIZE]
    items = "\n".join(
        "<item>"
        f"<title>{esc(post.article.title)}</title>"
        f"<link>{esc(post.url)}</link>"
        f'<guid isPermaLink="true">{esc(post.url)}</guid>'
        f"<pubDate>{format_datetime(post.article.published)}</pubDate>"
        f"<dc:creator>{esc('、'.join(post.article.authors))}</dc:creator>"
        f"<description>{esc(post.article.summary)}</description>"
        "</item>"
        for post in posts
    )
    built = format_datetime(posts[0].article.published) if posts else ""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>InfoQ 推荐</title><link>{esc(world.urls.infoq)}/</link>"
        "<description>InfoQ 中文站最新文章</description><language>zh-cn</language>"
        f"<lastBuildDate>{built}</lastBuildDate>\n{items}\n</channel>\n</rss>\n"
    )
    return text_response(200, text, RSS_UTF8)


def _sitemaps(world: World) -> dict[str, Response]:
    base = world.urls.infoq
    posts = world.infoq_posts
    share = -(-len(posts) // SITEMAP_PARTS)
    parts = {
        f"/sitemap/index_{number}.xml": posts[(number - 1) * share : number * share]
        for number in range(1, SITEMAP_PARTS + 1)
    }
    index_rows = "\n".join(f"  <sitemap><loc>{base}{path}</loc></sitemap>" for path in parts)
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{index_rows}\n</sitemapindex>\n'
    )
    responses = {"/sitemap.xml": text_response(200, index, XML_UTF8)}
    for path, chunk in parts.items():
        locations = [(post.url, utc_iso(post.article.published)[:10]) for post in chunk]
        responses[path] = text_response(200, urlset(locations), XML_UTF8)
    return responses


def _json(status: int, payload: dict[str, Any]) -> Response:
    return text_response(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")), JSON_UTF8)


def _detail_route(world: World) -> Route:
    by_id = {post.post_id: post for post in world.infoq_posts}
    base = world.urls.infoq

    def answer(request: Request) -> Response:
        try:
            uuid = json.loads(request.body.decode("utf-8") or "{}").get("uuid")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return _json(400, {"code": 400, "msg": "invalid request body", "data": None})
        post = by_id.get(uuid) if isinstance(uuid, str) else None
        if post is None:
            return _json(404, {"code": 404, "msg": "article not found", "data": None})
        return _json(200, {"code": 0, "data": detail_record(post, base)})

    return Route(answer, methods=("POST",))


def list_score(post: InfoqPost, rank: int) -> int:
    """A list item's ``score``, the cursor lists page by: newest first, never two alike."""
    return round(post.article.published.timestamp() * 1000) * 100 + (99 - rank % 100)


def _list_item(post: InfoqPost, score: int) -> dict[str, Any]:
    record = article_record(post, with_content=False)
    return {**record, "label": [], "score": score}


def _asked(request: Request) -> dict[str, Any] | None:
    try:
        asked = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return asked if isinstance(asked, dict) else None


def _page_of(scored: list[tuple[int, InfoqPost]], asked: dict[str, Any]) -> Response:
    """One page of a list, newest first, after the ``score`` asked (the last item of the page before)."""
    size, after = asked.get("size", LIST_SIZE), asked.get("score")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        return _json(400, {"code": 400, "msg": "size must be a positive integer", "data": None})
    if after is not None and (not isinstance(after, int | float) or isinstance(after, bool)):
        return _json(400, {"code": 400, "msg": "score must be a number", "data": None})
    chosen = [(score, post) for score, post in scored if after is None or score < after][: min(size, MAX_LIST_SIZE)]
    return _json(200, {"code": 0, "data": [_list_item(post, score) for score, post in chosen]})


def _scored(world: World) -> list[tuple[int, InfoqPost]]:
    posts = sorted(world.infoq_posts, key=lambda post: -post.article.published.timestamp())
    return sorted(((list_score(post, rank), post) for rank, post in enumerate(posts)), key=lambda pair: -pair[0])


def topic_ids(world: World) -> dict[int, str]:
    """Every topic an article names, by the id the API gives it."""
    return {_uid(tag): tag for post in world.infoq_posts for tag in post.article.tags}


def _list_routes(world: World) -> dict[str, Route]:
    """The recommendation list, the per-topic lists and topic lookups, as InfoQ's clients POST them."""
    scored = _scored(world)
    topics = topic_ids(world)

    def recommend(request: Request) -> Response:
        asked = _asked(request)
        if asked is None:
            return _json(400, {"code": 400, "msg": "invalid request body", "data": None})
        return _page_of(scored, asked)

    def topic_list(request: Request) -> Response:
        asked = _asked(request)
        topic = asked.get("id") if asked is not None else None
        if asked is None or topic not in topics:
            return _json(404, {"code": 404, "msg": "topic not found", "data": None})
        return _page_of([(score, post) for score, post in scored if topics[topic] in post.article.tags], asked)

    def topic_info(request: Request) -> Response:
        asked = _asked(request) or {}
        by_alias = {name: topic for topic, name in topics.items()}
        topic = asked.get("id") if "id" in asked else by_alias.get(str(asked.get("alias")))
        if topic not in topics:
            return _json(404, {"code": 404, "msg": "topic not found", "data": None})
        return _json(200, {"code": 0, "data": {"id": topic, "name": topics[topic], "alias": topics[topic]}})

    return {
        RECOMMEND_API_PATH: Route(recommend, methods=("POST",)),
        TOPIC_LIST_API_PATH: Route(topic_list, methods=("POST",)),
        TOPIC_INFO_API_PATH: Route(topic_info, methods=("POST",)),
    }


def _recommended(posts: tuple[InfoqPost, ...], index: int) -> list[InfoqPost]:
    """The next older articles (wrapping around), as a sidebar would list them."""
    count = min(RECOMMEND_COUNT, len(posts) - 1)
    return [posts[(index + offset) % len(posts)] for offset in range(1, count + 1)]


def _article_entry(post: InfoqPost) -> ManifestEntry:
    article = post.article
    return ManifestEntry(
        url=post.url,
        site="infoq",
        kind="article",
        status=200,
        reachable=True,
        content_encoding="gzip",
        slug=article.slug,
        title=article.title,
        published=utc_iso(article.published),
        authors=article.authors,
        source=SOURCE_NAME,
        references=article.references,
        body_text=body_text(article.blocks),
        js_only=post.js_only,
        delivery=post.delivery,
        relation="original",
    )


def build_infoq_site(world: World) -> SiteBuild:
    """Routes and manifest entries of the InfoQ-like original site."""
    base = world.urls.infoq
    robots = f"User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\n"
    routes: dict[str, Route] = {
        "/": fixed(_home(world)),
        "/robots.txt": fixed(text_response(200, robots, TEXT_UTF8)),
        "/feed": fixed(_feed(world)),
        DETAIL_API_PATH: _detail_route(world),
        **_list_routes(world),
    }
    entries = [ManifestEntry(url=f"{base}/", site="infoq", kind="home", status=200, reachable=True, chunked=True)]
    for index, post in enumerate(world.infoq_posts):
        page = render_article(post, _recommended(world.infoq_posts, index))
        routes[post.path] = fixed(
            text_response(
                200,
                page,
                gzip_negotiable=True,
                etag=weak_etag(page.encode("utf-8")),
                last_modified=post.modified or post.article.published,
            )
        )
        entries.append(_article_entry(post))
        if post.delivery == "content_url":
            routes[post.content_path] = fixed(text_response(200, _document_json(post), JSON_UTF8))
    for post in world.infoq_posts:
        if post.legacy_path:
            body = f'<html><body><a href="{post.url}">Moved Permanently</a></body></html>'
            routes[post.legacy_path] = fixed(text_response(301, body, headers=(("Location", post.url),)))
            entries.append(
                ManifestEntry(
                    url=f"{base}{post.legacy_path}",
                    site="infoq",
                    kind="redirect",
                    status=301,
                    reachable=True,
                    location=post.url,
                )
            )
    entries.append(ManifestEntry(url=f"{base}/feed", site="infoq", kind="feed", status=200, reachable=True))
    for path, response in _sitemaps(world).items():
        routes[path] = fixed(response)
        entries.append(ManifestEntry(url=f"{base}{path}", site="infoq", kind="sitemap", status=200, reachable=True))
    entries.append(ManifestEntry(url=f"{base}/robots.txt", site="infoq", kind="robots", status=200, reachable=True))
    for post in world.infoq_posts:
        if not post.js_only:
            continue
        # Called by the page's script (and by a crawler that reads the API), never linked.
        entries.append(
            ManifestEntry(
                url=f"{base}{DETAIL_API_PATH}",
                site="infoq",
                kind="api",
                status=200,
                reachable=False,
                method="POST",
                request_body=json.dumps({"uuid": post.post_id}),
                delivery=post.delivery,
            )
        )
        if post.delivery == "content_url":
            entries.append(
                ManifestEntry(url=f"{base}{post.content_path}", site="infoq", kind="api", status=200, reachable=False)
            )
    # Pages of this site that articles cite but the site does not serve (a real article's URL): its own
    # articles link them (参考链接), so a crawl of the site meets them.
    served = {post.url for post in world.infoq_posts}
    cited = {url for post in world.infoq_posts for url in post.article.references}
    cited |= {url for story in world.stories for url in story.references}
    for url in sorted(u for u in cited if u.startswith(base + "/") and u not in served):
        linked = any(url in post.article.references for post in world.infoq_posts)
        entries.append(ManifestEntry(url=url, site="infoq", kind="cited", status=404, reachable=linked))
    # The lists' first pages, as a client starts them (later pages follow the last item's score).
    first_pages = [(RECOMMEND_API_PATH, {"size": LIST_SIZE})] + [
        (TOPIC_LIST_API_PATH, {"id": topic, "ptype": 0, "type": 0, "size": LIST_SIZE})
        for topic in sorted(topic_ids(world))
    ]
    for path, asked in first_pages:
        entries.append(
            ManifestEntry(
                url=f"{base}{path}", site="infoq", kind="api", status=200, reachable=False, method="POST",
                request_body=json.dumps(asked),
            )
        )  # fmt: skip
    not_found_page = _layout("404 - InfoQ", '<main class="error-page"><h1>404</h1><p>页面不存在</p></main>')
    not_found = text_response(404, not_found_page)
    return SiteBuild(SiteRoutes(SERVER_NAME, routes, lambda _request: not_found), tuple(entries))
