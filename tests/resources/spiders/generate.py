"""Regenerate the saved pages the spider callback tests read: ``python tests/resources/spiders/generate.py``.

Pages come straight from the demo portal's route handlers (no sockets), under fixed base URLs
and a fixed clock, so the output is byte-for-byte reproducible. ``expected.json`` holds, per
page, the URL and ``Content-Type`` it was served with and the manifest's ground truth.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from portal_archive.demo.assembly import PREVIEW_URLS, assemble_world  # noqa: E402
from portal_archive.demo.manifest import ManifestEntry  # noqa: E402
from portal_archive.demo.responses import Request  # noqa: E402
from portal_archive.demo.sites.infoq import content_html  # noqa: E402

SEED = 20240401
NOW = datetime(2024, 10, 18, 7, 42, tzinfo=UTC)
SEED_SLUG = "stability-ai-crisis"
DETAIL_API_PATH = "/public/v1/article/getDetail"
API_DELIVERIES = ("api", "prosemirror", "content_url")
_PROSEMIRROR_EMPTY = re.compile(r'(<div class="article-preview ProseMirror">)(</div>)')


def main() -> None:
    assembled = assemble_world(SEED, PREVIEW_URLS)
    world, manifest = assembled.world, assembled.manifest
    bases = {"bendi": PREVIEW_URLS.bendi, "infoq": PREVIEW_URLS.infoq, "wechat": PREVIEW_URLS.wechat}

    def serve(site: str, path: str, method: str = "GET", body: bytes = b"") -> tuple[bytes, str]:
        route = assembled.sites[site].routes.routes[path]
        response = route.handler(Request(method, path, "", body, NOW))
        assert response.status == 200, (site, path, response.status)
        return response.body, response.content_type

    seed_story = next(s for s in world.stories if s.article.slug == SEED_SLUG)
    wechat_copy = next(s for s in world.stories if "attribution" in s.edits)
    meta_charset = next(s for s in world.stories if s.encoding == "gbk" and not s.charset_in_header)
    plain_infoq = next(p for p in world.infoq_posts if p.article.references and not p.js_only)
    js_infoq = next(p for p in world.infoq_posts if p.delivery == "script")
    shells = {delivery: next(p for p in world.infoq_posts if p.delivery == delivery) for delivery in API_DELIVERIES}
    wechat_post = world.wechat_posts[0]
    pages = {
        "bendi_home.html": ("bendi", "/"),
        "bendi_list.html": ("bendi", "/category/tech"),
        "bendi_infoq_copy.html": ("bendi", seed_story.path),
        "bendi_wechat_copy.html": ("bendi", wechat_copy.path),
        "bendi_gbk_meta_charset.html": ("bendi", meta_charset.path),
        "infoq_article.html": ("infoq", plain_infoq.path),
        "infoq_js_only.html": ("infoq", js_infoq.path),
        "infoq_feed.xml": ("infoq", "/feed"),
        "infoq_sitemap_index.xml": ("infoq", "/sitemap.xml"),
        "wechat_article.html": ("wechat", wechat_post.path),
        "wechat_profile.html": ("wechat", f"/profile/{wechat_post.account_slug}"),
    }
    pages_out: dict[str, dict[str, object]] = {}
    expected: dict[str, object] = {"now": NOW.isoformat(), "seed": SEED, "pages": pages_out}
    for name, (site, path) in pages.items():
        body, content_type = serve(site, path)
        (HERE / name).write_bytes(body)
        url = bases[site] + path
        entry: dict[str, object] = {"url": url, "content_type": content_type}
        if url in manifest:
            entry["manifest"] = _truth(manifest.by_url(url))
        pages_out[name] = entry

    # Client-rendered pages: the empty shell, getDetail's answer and, for one, its content URL's.
    for delivery, post in shells.items():
        name = f"infoq_shell_{delivery}.html"
        body, content_type = serve("infoq", post.path)
        (HERE / name).write_bytes(body)
        pages_out[name] = {"url": post.url, "content_type": content_type, "manifest": _truth(manifest.by_url(post.url))}
        answer, answer_type = serve("infoq", DETAIL_API_PATH, "POST", json.dumps({"uuid": post.post_id}).encode())
        (HERE / f"infoq_detail_{delivery}.json").write_bytes(answer)
        pages_out[f"infoq_detail_{delivery}.json"] = {
            "url": bases["infoq"] + DETAIL_API_PATH,
            "content_type": answer_type,
        }
        if delivery == "content_url":
            content_body, content_body_type = serve("infoq", post.content_path)
            (HERE / "infoq_content.json").write_bytes(content_body)
            pages_out["infoq_content.json"] = {
                "url": bases["infoq"] + post.content_path,
                "content_type": content_body_type,
            }

    # What the browser shows once the script-only page has filled its body from its own data.
    content = content_html(js_infoq)
    unrendered, content_type = serve("infoq", js_infoq.path)
    rendered = _PROSEMIRROR_EMPTY.sub(lambda m: m.group(1) + content + m.group(2), unrendered.decode("utf-8"), count=1)
    (HERE / "infoq_js_only_rendered.html").write_text(rendered, encoding="utf-8")
    pages_out["infoq_js_only_rendered.html"] = {
        "url": js_infoq.url,
        "content_type": content_type,
        "manifest": _truth(manifest.by_url(js_infoq.url)),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _truth(entry: ManifestEntry) -> dict[str, object]:
    keys = (
        "title", "published", "ingest_time", "authors", "source", "references", "body_text", "js_only", "delivery",
        "relation",
    )  # fmt: skip
    data = entry.to_dict()
    return {key: data[key] for key in keys}


if __name__ == "__main__":
    main()
