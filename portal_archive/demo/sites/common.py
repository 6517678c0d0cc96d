"""Markup and formatting shared by the three site builders."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from ..blocks import Block
from ..manifest import ManifestEntry
from ..responses import SiteRoutes

CHINA_TIME: Final = timezone(timedelta(hours=8))
# A 1x1 GIF inline, so logos and QR codes never send a crawler to a missing file.
BLANK_GIF: Final = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@dataclass(frozen=True)
class SiteBuild:
    """A site's routes together with the manifest entries describing them."""

    routes: SiteRoutes
    entries: tuple[ManifestEntry, ...]


def esc(text: str) -> str:
    """Escape for HTML text and double-quoted attributes alike."""
    return html.escape(text, quote=True)


def render_blocks(
    blocks: Iterable[Block],
    *,
    paragraph: str,
    heading: str,
    item: str,
    list_open: str = "<ul>",
    list_close: str = "</ul>",
) -> str:
    """Blocks as markup; templates take `{text}`, consecutive items share one list element."""
    parts: list[str] = []
    in_list = False
    for block in blocks:
        if block.kind == "item" and not in_list:
            parts.append(list_open)
            in_list = True
        elif block.kind != "item" and in_list:
            parts.append(list_close)
            in_list = False
        template = {"paragraph": paragraph, "heading": heading, "item": item}[block.kind]
        parts.append(template.format(text=esc(block.text)))
    if in_list:
        parts.append(list_close)
    return "\n".join(parts)


def utc_iso(moment: datetime, *, milliseconds: bool = False) -> str:
    """ISO 8601 in UTC, as the manifest records times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds" if milliseconds else "seconds")


def china_time(moment: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Beijing wall-clock time, as Chinese sites print dates."""
    return moment.astimezone(CHINA_TIME).strftime(pattern)


def urlset(locations: Iterable[tuple[str, str | None]]) -> str:
    """A sitemap <urlset> of (URL, lastmod date or None)."""
    rows = []
    for location, lastmod in locations:
        lastmod_tag = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        rows.append(f"  <url><loc>{esc(location)}</loc>{lastmod_tag}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows) + "\n</urlset>\n"
    )
