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

SEED = 20240401
NOW = datetime(2024, 10, 18, 7, 42, tzinfo=UTC)
SEED_SLUG = "stability-ai-crisis"
DETAIL_API_PATH = "/public/v1/article/getDetail"
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
    js_infoq = next(p for p in world.infoq_posts if p.js_only)
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

    # What the browser shows once the page's script has filled the body from the detail API.
    api_body, _ = serve("infoq", DETAIL_API_PATH, "POST", json.dumps({"uuid": js_infoq.post_id}).encode())
    content = json.loads(api_body)["data"]["content"]
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
    keys = ("title", "published", "ingest_time", "authors", "source", "references", "body_text", "js_only", "relation")
    data = entry.to_dict()
    return {key: data[key] for key in keys}


if __name__ == "__main__":
    main()
