"""Article extraction: from page bytes to body text, metadata and labelled boilerplate.

Charset comes from the HTTP header, then ``<meta>``, then a BOM, then trial decoding; GBK and
GB2312 are read as their superset GB18030 so rare characters survive. Bad bytes never raise.
Portal spiders pass ``ArticleSelectors``; without them a text-density fallback picks the body.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from lxml import etree, html
from lxml.cssselect import CSSSelector

from portal_archive.items import BoilerplateBlock

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.IGNORECASE)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._-]+)", re.IGNORECASE)
_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "big5": "big5hkscs"}
_BLOCK_TAGS = {"p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption"}
_ABSOLUTE_DATE_RE = re.compile(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?")
_SOURCE_RE = re.compile(r"^\s*来源\s*[:：]\s*(.+?)\s*$")


@dataclass(frozen=True, kw_only=True)
class ArticleSelectors:
    """CSS selectors for one portal's article pages; empty means "use the generic fallback"."""

    title: str = "h1"
    body: str = ""
    byline: str = ""
    date: str = ""
    source: str = ""
    references: str = ""
    boilerplate: tuple[tuple[str, str], ...] = ()
    """``(kind, selector)`` pairs removed from the body and kept as labelled blocks."""


@dataclass(frozen=True, kw_only=True)
class Article:
    """What extraction found on one page."""

    url: str
    title: str = ""
    canonical_url: str = ""
    byline: str = ""
    authors: tuple[str, ...] = ()
    published_text: str = ""
    published_at: str | None = None
    source: str = ""
    references: tuple[str, ...] = ()
    body_text: str = ""
    body_html: str = ""
    boilerplate: tuple[BoilerplateBlock, ...] = field(default_factory=tuple)
    encoding: str = "utf-8"
    empty_reason: str = ""


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def detect_charset(data: bytes, content_type: str | bytes | None = None) -> str:
    """Header, then ``<meta>``, then BOM, then UTF-8 if it decodes, else GB18030."""
    if content_type:
        header = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
        match = _HEADER_CHARSET_RE.search(header)
        if match and (codec := _codec(match.group(1))):
            return codec
    match_meta = _META_CHARSET_RE.search(data[:4096])
    if match_meta and (codec := _codec(match_meta.group(1))):
        return codec
    for bom, codec_name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return codec_name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def decode_html(data: bytes, content_type: str | bytes | None = None) -> tuple[str, str]:
    """Decode page bytes; undecodable bytes become U+FFFD instead of raising."""
    charset = detect_charset(data, content_type)
    return data.decode(charset, errors="replace"), charset


def _text(node: etree._Element) -> str:
    return re.sub(r"\s+", " ", node.text_content() if hasattr(node, "text_content") else "").strip()


def _paragraphs(container: etree._Element) -> list[str]:
    blocks = [el for el in container.iter() if isinstance(el.tag, str) and el.tag in _BLOCK_TAGS]
    # Keep the innermost blocks only, so an <li><p> is not counted twice.
    leaves = [el for el in blocks if not any(isinstance(d.tag, str) and d.tag in _BLOCK_TAGS for d in el.iterdescendants())]
    texts = [_text(el) for el in leaves] if leaves else [_text(container)]
    return [t for t in texts if t]


def _select_first(tree: etree._Element, selector: str) -> etree._Element | None:
    if not selector:
        return None
    found = CSSSelector(selector)(tree)
    return found[0] if found else None


def _fallback_body(tree: etree._Element) -> etree._Element | None:
    """The element whose direct paragraph children hold the most text."""
    best, best_score = None, 0
    for el in tree.iter("div", "article", "section", "td", "main"):
        score = sum(len(_text(p)) for p in el if isinstance(p.tag, str) and p.tag == "p")
        if score > best_score:
            best, best_score = el, score
    return best


def parse_absolute_date(text: str) -> str | None:
    """``2024-03-12 09:30`` style dates, read as Asia/Shanghai time, returned as ISO UTC."""
    match = _ABSOLUTE_DATE_RE.search(text)
    if not match:
        return None
    year, month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
    except ValueError:
        return None
    return local.astimezone(UTC).isoformat()


def extract_article(
    data: bytes,
    *,
    url: str,
    content_type: str | bytes | None = None,
    selectors: ArticleSelectors | None = None,
) -> Article:
    """Extract an ``Article`` from page bytes; never raises on bad input (empty body + reason)."""
    selectors = selectors or ArticleSelectors()
    text, charset = decode_html(data, content_type)
    if not text.strip():
        return Article(url=url, encoding=charset, empty_reason="empty document")
    try:
        tree = html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return Article(url=url, encoding=charset, empty_reason="not parseable as HTML")
    title_el = _select_first(tree, selectors.title)
    title = _text(title_el) if title_el is not None else ""
    if not title:
        og_title = tree.xpath("//meta[@property='og:title']/@content")
        title = str(og_title[0]).strip() if og_title else _text(tree.find(".//title")) if tree.find(".//title") is not None else ""
    canonical = tree.xpath("//link[@rel='canonical']/@href") or tree.xpath("//meta[@property='og:url']/@content")
    byline_el = _select_first(tree, selectors.byline)
    byline = _text(byline_el) if byline_el is not None else ""
    authors: tuple[str, ...] = ()
    if byline:
        names = re.split(r"\s*[|｜]\s*", byline, maxsplit=1)[-1]
        authors = tuple(a for a in re.split(r"[、,，\s]+", names) if a)
    date_el = _select_first(tree, selectors.date)
    published_text = _text(date_el) if date_el is not None else ""
    source_el = _select_first(tree, selectors.source)
    source = ""
    if source_el is not None:
        source_text = _text(source_el)
        match = _SOURCE_RE.match(source_text)
        source = match.group(1) if match else source_text
    references: tuple[str, ...] = ()
    if selectors.references:
        references = tuple(
            str(h).strip() for el in CSSSelector(selectors.references)(tree) for h in el.xpath(".//@href | self::*/@href")
        )
    body = _select_first(tree, selectors.body) if selectors.body else None
    if body is None:
        body = _fallback_body(tree)
    boilerplate: list[BoilerplateBlock] = []
    if body is not None:
        for kind, selector in selectors.boilerplate:
            for node in CSSSelector(selector)(body):
                links = [{"title": _text(a), "url": str(a.get("href", ""))} for a in node.iter("a")]
                boilerplate.append(BoilerplateBlock(kind=kind, text=_text(node), links=links))
                parent = node.getparent()
                if parent is not None:
                    parent.remove(node)
    paragraphs = _paragraphs(body) if body is not None else []
    body_text = "\n".join(paragraphs)
    return Article(
        url=url,
        title=title,
        canonical_url=str(canonical[0]).strip() if canonical else "",
        byline=byline,
        authors=authors,
        published_text=published_text,
        published_at=parse_absolute_date(published_text) if published_text else None,
        source=source,
        references=references,
        body_text=body_text,
        body_html=html.tostring(body, encoding="unicode") if body is not None else "",
        boilerplate=tuple(boilerplate),
        encoding=charset,
        empty_reason="" if body_text else "no body found",
    )
