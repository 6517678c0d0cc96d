"""The two sites demo articles cite, modelled on forbes.com and theverge.com.

Each serves the pages the world's references point to (an HTML page each, a PDF report on the
forbes-like site), a robots.txt, and 404 for anything else. The verge-like site's robots.txt
disallows ``/private/``: a crawler archiving cited sources must leave those pages alone.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from ..manifest import ManifestEntry, Site
from ..responses import TEXT_UTF8, Request, Response, Route, SiteRoutes, fixed, text_response
from ..world import World
from .common import SiteBuild, esc

CITED_SITES: Final[tuple[Site, ...]] = ("forbes", "verge")
DISALLOWED: Final = {"forbes": (), "verge": ("/private/",)}
NAMES: Final = {"forbes": "Forbes-like Business News", "verge": "Verge-like Tech News"}
PDF: Final = "application/pdf"


def _pdf(title: str) -> bytes:
    """A small, well-formed PDF: a file type a cited-source crawler archives as it is."""
    content = b"BT /F1 12 Tf 10 50 Td (%s) Tj ET" % title.encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(objects) + 1, table)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, len(out))


def _page(site: str, path: str) -> Response:
    slug = path.strip("/").rsplit("/", 1)[-1].removesuffix(".pdf")
    if path.endswith(".pdf"):
        return Response(200, _pdf(f"Report: {slug}"), PDF)
    title = f"{slug.replace('-', ' ').title()} | {NAMES[site]}"
    body = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title></head><body>"
        f"<h1>{esc(title)}</h1><p>The story the article cites, as {esc(NAMES[site])} published it.</p>"
        "<p><a href='/'>Home</a> · <a href='/latest/'>Latest</a></p></body></html>"
    )
    return text_response(200, body)


_NOT_FOUND: Final = text_response(404, "<html><body><h1>404</h1></body></html>")


def _not_found(_request: Request) -> Response:
    return _NOT_FOUND


def build_cited_sites(world: World) -> dict[str, SiteBuild]:
    """Routes and manifest entries of the forbes-like and verge-like sites."""
    bases: dict[Site, str] = {"forbes": world.urls.forbes, "verge": world.urls.verge}
    cited = {
        url
        for post in world.infoq_posts
        for url in post.article.references
        if any(base and url.startswith(base + "/") for base in bases.values())
    }
    cited |= {url for story in world.stories for url in story.references}
    builds: dict[str, SiteBuild] = {}
    for site, base in bases.items():
        robots = "User-agent: *\n" + "".join(f"Disallow: {path}\n" for path in DISALLOWED[site])
        routes: dict[str, Route] = {"/robots.txt": fixed(text_response(200, robots, TEXT_UTF8))}
        entries = [ManifestEntry(url=f"{base}/robots.txt", site=site, kind="robots", status=200, reachable=False)]
        for url in sorted(u for u in cited if u.startswith(base + "/")):
            parts = urlsplit(url)
            path = parts.path
            routes[path + (f"?{parts.query}" if parts.query else "")] = fixed(_page(site, path))
            disallowed = any(path.startswith(prefix) for prefix in DISALLOWED[site])
            entries.append(
                ManifestEntry(
                    url=url, site=site, kind="cited", status=200, reachable=False, robots_disallowed=disallowed
                )
            )
        builds[site] = SiteBuild(SiteRoutes(NAMES[site], routes, _not_found), tuple(entries))
    return builds
