"""Article extraction: from page bytes to body text, metadata and labelled boilerplate.

The generic algorithm needs no per-site rules: the page is cut into text blocks, each block is
priced by its punctuation and link density, the article container is the element whose blocks
sum highest, and boilerplate (related links, recommendation lists, share prompts, footers,
disclaimers, breadcrumbs) is labelled and kept out of the body. Portal spiders may pass
``ArticleSelectors`` to pin any part. The parts live in ``portal_archive.extract``; the JSON form
of ``Article`` is documented in ``docs/extract-json.md``.
"""

from __future__ import annotations

import functools
import html as html_escape
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import urljoin

from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError

from portal_archive.extract.boilerplate import PROSE_MIN_CHARS, Label, Role, label_blocks
from portal_archive.extract.charset import decode_html
from portal_archive.extract.dates import DATE_LIKE_RE, parse_absolute_date
from portal_archive.extract.dom import HEADING_TAGS, Block, blocks_of, clean, parse, text_of
from portal_archive.extract.lexicon import (
    BYLINE_RE,
    ENGLISH_BYLINE_RE,
    MORE_LINK_RE,
    SOURCE_IN_LINE_RE,
    SOURCE_RE,
    simplified,
)
from portal_archive.extract.metadata import read_metadata, split_authors
from portal_archive.extract.scoring import BlockFeatures, boost_after_title, choose_container, features, mark_teasers
from portal_archive.extract.text import shows_title, squeeze
from portal_archive.items import BoilerplateBlock
from portal_archive.profiles import ArticleSelectors

JSON_FORMAT_VERSION: Final = 1
"""Bumped when a field of the JSON form changes meaning or disappears (docs/extract-json.md)."""
_MAX_BYTES: Final = 20 * 1024 * 1024
_BINARY_SNIFF: Final = 1024
_CONTROL_BYTES: Final = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}


@dataclass(frozen=True, kw_only=True)
class Article:
    """What extraction found on one page."""

    url: str
    title: str = ""
    canonical_url: str = ""
    byline: str = ""
    """The byline line as shown, e.g. ``整理 | 凌敏、核子可乐``."""
    authors: tuple[str, ...] = ()
    published_text: str = ""
    """The date as the page shows it (``7月前``, ``2024-04-01 10:30``) or its machine stamp."""
    published_at: str | None = None
    """ISO 8601 UTC when the date is absolute; relative dates stay ``None``."""
    source: str = ""
    """The attribution (``来源:InfoQ`` gives ``InfoQ``)."""
    references: tuple[str, ...] = ()
    """URLs listed under 参考链接 / References."""
    body_links: tuple[str, ...] = ()
    """Web links inside the body, in order, resolved against the page URL."""
    body_text: str = ""
    """Body paragraphs joined by ``\\n``."""
    body_html: str = ""
    """The body paragraphs as simple HTML (``<p>``, ``<h2>``…, ``<ul><li>``)."""
    boilerplate: tuple[BoilerplateBlock, ...] = field(default_factory=tuple)
    encoding: str = "utf-8"
    empty_reason: str = ""
    """Why ``body_text`` is empty (``empty document``, ``binary content``…); ``""`` otherwise."""
    page_kind: str = ""
    """``article``, or why the page is none (``no body``, ``short body``, ``listing page``,
    ``no prose``): the page-type decision for sites no portal profile describes."""
    page_type: str = ""
    """``article``, ``list`` (a listing or index page) or ``other``; ``page_kind`` says why."""
    body_path: str = ""
    """How the body was found: ``selectors`` (a portal profile's), ``scoring``, or ``scoring without
    class names`` (a second look when the first container held no body and the page has prose)."""


def article_to_dict(article: Article) -> dict[str, Any]:
    """The JSON-ready form of an ``Article``: field names as in the dataclass, tuples as lists."""
    return {"format_version": JSON_FORMAT_VERSION, **asdict(article)}


def article_to_json(article: Article, *, indent: int | None = 2) -> str:
    """``Article`` as JSON text: UTF-8 friendly (``ensure_ascii=False``), stable field order."""
    return json.dumps(article_to_dict(article), ensure_ascii=False, indent=indent)


HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
"""Content types extraction reads; a page declaring anything else is archived, not extracted."""
_HTML_OPENINGS: Final = (b"<!doctype html", b"<html")


def is_html(content_type: str | bytes | None, head: bytes = b"") -> bool:
    """An HTML media type; with none declared, bytes that open like an HTML document."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media:
        return media in HTML_TYPES
    return head.lstrip()[:64].lower().startswith(_HTML_OPENINGS)


def _looks_binary(data: bytes) -> bool:
    """NUL bytes or many control bytes near the start: an image, archive or PDF, not HTML."""
    head = data[:_BINARY_SNIFF]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text has NUL bytes by design
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return controls > len(head) // 20


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """Page bytes decoded and parsed once (``parse_page``), for callers that read the tree too.

    A crawler takes the page's links from ``root`` and then hands the page to ``extract_parsed``,
    so each page is decoded and parsed once. Extraction cleans the tree in place: read it first.
    """

    root: etree._Element | None
    """The parsed document, or ``None`` when there is nothing to extract (see ``empty_reason``)."""
    encoding: str = "utf-8"
    empty_reason: str = ""

    def hrefs(self) -> list[str]:
        """Every ``<a href>`` value in document order (before extraction has modified the tree)."""
        if self.root is None:
            return []
        found = _HREFS(self.root)
        return [str(href) for href in found] if isinstance(found, list) else []


_HREFS: Final = etree.XPath("//a/@href")


def parse_page(data: bytes, *, content_type: str | bytes | None = None) -> ParsedPage:
    """Decode and parse page bytes as ``extract_article`` does; never raises on bad input."""
    if not data or not data.strip():
        return ParsedPage(None, empty_reason="empty document")
    if _looks_binary(data):
        return ParsedPage(None, encoding="", empty_reason="binary content")
    if len(data) > _MAX_BYTES:
        data = data[:_MAX_BYTES]
    text, charset = decode_html(data, content_type)
    return parse_text(text, encoding=charset)


def parse_text(text: str, *, encoding: str = "utf-8") -> ParsedPage:
    """Parse already decoded HTML as ``extract_from_text`` does; never raises on bad input."""
    if not text.strip():
        return ParsedPage(None, encoding=encoding, empty_reason="empty document")
    root = parse(text)
    if root is None:
        return ParsedPage(None, encoding=encoding, empty_reason="not parseable as HTML")
    return ParsedPage(root, encoding=encoding)


def extract_parsed(page: ParsedPage, *, url: str, selectors: ArticleSelectors | None = None) -> Article:
    """Extract an ``Article`` from a page parsed by ``parse_page``; cleans ``page.root`` in place."""
    if page.root is None:
        return Article(
            url=url, encoding=page.encoding, empty_reason=page.empty_reason, page_kind="no body", page_type="other"
        )
    try:
        return _extract(page.root, url=url, selectors=selectors or ArticleSelectors(), encoding=page.encoding)
    except RecursionError:
        return Article(
            url=url, encoding=page.encoding, empty_reason="document nested too deeply", page_kind="no body",
            page_type="other",
        )  # fmt: skip


def extract_article(
    data: bytes,
    *,
    url: str,
    content_type: str | bytes | None = None,
    selectors: ArticleSelectors | None = None,
) -> Article:
    """Extract an ``Article`` from page bytes; never raises on bad input (empty body + reason).

    Args:
        data: the response body as fetched.
        url: the page URL, kept in the result.
        content_type: the ``Content-Type`` header, whose charset wins over ``<meta>``.
        selectors: per-portal CSS overrides; without them the generic algorithm decides.
    """
    return extract_parsed(parse_page(data, content_type=content_type), url=url, selectors=selectors)


def extract_from_text(
    text: str,
    *,
    url: str,
    selectors: ArticleSelectors | None = None,
    encoding: str = "utf-8",
) -> Article:
    """Extract an ``Article`` from already decoded HTML; never raises on bad input."""
    return extract_parsed(parse_text(text, encoding=encoding), url=url, selectors=selectors)


@functools.lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector | None:
    """A profile's selector compiled once: translating CSS to XPath costs more than running it."""
    try:
        return CSSSelector(selector)
    except (SelectorError, SyntaxError, ValueError):
        return None


def _select(root: etree._Element, selector: str) -> list[etree._Element]:
    if not selector:
        return []
    # lxml 6 loses the extension function behind cssselect's ``:contains()`` on every second call of
    # a reused selector ("XPath function '{}lower-case' not found"): compile those afresh each time.
    compiled = _compiled.__wrapped__(selector) if ":contains(" in selector else _compiled(selector)
    if compiled is None:
        return []
    try:
        found = compiled(root)
    except (SelectorError, SyntaxError, ValueError):
        return []
    return [el for el in found if isinstance(el, etree._Element)]


def fill_container(page: ParsedPage, selector: str, content_html: str) -> bool:
    """Put ``content_html`` into the page's first element matching ``selector``, as the page's own
    script does with what it fetches (an article API's body): the filled page then goes through
    the extraction every served page goes through. False when the page has no such element."""
    if page.root is None:
        return False
    targets = _select(page.root, selector)
    if not targets:
        return False
    fragment = parse(f"<html><body><div>{content_html}</div></body></html>") if content_html.strip() else None
    target = targets[0]
    for child in list(target):
        target.remove(child)
    target.text = None
    holder = fragment.find("body/div") if fragment is not None else None
    if holder is not None:
        target.text = holder.text
        target.extend(list(holder))
    return True


def _selected_text(root: etree._Element, selector: str) -> str:
    for el in _select(root, selector):
        text = text_of(el)
        if text:
            return text
    return ""


def _links(blocks: list[Block]) -> list[dict[str, str]]:
    return [{"title": title, "url": href} for block in blocks for title, href in block.links if title or href]


def _web_links(page_url: str, blocks: list[Block]) -> tuple[str, ...]:
    """The http(s) links of ``blocks``, absolute, each once, in order."""
    found: dict[str, None] = {}
    for block in blocks:
        for _title, href in block.links:
            try:
                target = urljoin(page_url, href.strip())
            except ValueError:
                continue
            if target.startswith(("http://", "https://")):
                found[target] = None
    return tuple(found)


def _remove_selected_boilerplate(root: etree._Element, selectors: ArticleSelectors) -> list[BoilerplateBlock]:
    """Apply the portal's ``(kind, selector)`` pairs: labelled blocks, gone from the page."""
    found: list[BoilerplateBlock] = []
    for kind, selector in selectors.boilerplate:
        for node in _select(root, selector):
            parent = node.getparent()
            if parent is None:
                continue
            node_blocks = blocks_of(node)
            found.append(
                BoilerplateBlock(
                    kind=kind,
                    text="\n".join(b.text for b in node_blocks),
                    links=_links(node_blocks),
                )
            )
            tail = node.tail
            node.tail = None
            if tail and tail.strip():
                previous = node.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            parent.remove(node)
    return found


def _block_range(blocks: list[Block], container: etree._Element) -> tuple[int, int]:
    """Indexes ``start``..``end - 1`` of the blocks inside ``container`` (a contiguous run)."""
    members = set(container.iter())
    inside = [b.index for b in blocks if b.owner in members]
    if not inside:
        return 0, 0
    return inside[0], inside[-1] + 1


def _grouped_boilerplate(blocks: list[Block], labels: list[Label]) -> list[BoilerplateBlock]:
    """Consecutive blocks of one section become one ``BoilerplateBlock``."""
    groups: list[tuple[str, int, list[Block]]] = []
    for block, label in zip(blocks, labels, strict=True):
        if label.role is not Role.BOILERPLATE:
            continue
        if groups and groups[-1][1] == label.section and groups[-1][0] == label.kind:
            groups[-1][2].append(block)
        else:
            groups.append((label.kind, label.section, [block]))
    return [
        BoilerplateBlock(kind=kind, text="\n".join(b.text for b in members), links=_links(members))
        for kind, _, members in groups
    ]


def _body_html(blocks: list[Block]) -> str:
    """Simple, safe HTML for the body: one element per paragraph, list items grouped."""
    parts: list[str] = []
    in_list = False
    for block in blocks:
        tag = block.tag
        parent = block.owner.getparent()
        escaped = html_escape.escape(block.text, quote=False)
        if tag == "li" or (parent is not None and parent.tag == "li"):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{escaped}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        element = tag if tag in HEADING_TAGS or tag == "pre" else "p"
        parts.append(f"<{element}>{escaped}</{element}>")
    if in_list:
        parts.append("</ul>")
    return "\n".join(parts)


def _metadata_index(labels: list[Label], role: Role, start: int, end: int) -> int:
    """The first block with that metadata role: inside the container first, then around it."""
    for i in range(start, end):
        if labels[i].role is role and labels[i].value:
            return i
    for i, label in enumerate(labels):
        if label.role is Role.OUTSIDE and label.kind == role.value and label.value:
            return i
    return -1


def _metadata_value(labels: list[Label], role: Role, start: int, end: int) -> str:
    """What the first metadata line of that role says (a source name, a date)."""
    i = _metadata_index(labels, role, start, end)
    return labels[i].value if i >= 0 else ""


def _metadata_line(blocks: list[Block], labels: list[Label], role: Role, start: int, end: int) -> str:
    """The first metadata line of that role as shown on the page."""
    i = _metadata_index(labels, role, start, end)
    return blocks[i].text if i >= 0 else ""


def _authors(byline: str) -> tuple[str, ...]:
    """Names from a byline line: ``整理 | 凌敏、核子可乐`` → ``("凌敏", "核子可乐")``."""
    if not byline:
        return ()
    match = BYLINE_RE.match(simplified(byline)) or ENGLISH_BYLINE_RE.match(byline)
    return split_authors(byline[match.start(1) : match.end(1)] if match else byline.split("|")[-1])


def _source_in_date_line(blocks: list[Block], labels: list[Label]) -> str:
    """``来源：新华社`` inside a date line such as ``2024-03-12 09:30 来源：新华社``."""
    for block, label in zip(blocks, labels, strict=True):
        is_date_line = label.role is Role.DATE or (label.role is Role.OUTSIDE and label.kind == Role.DATE.value)
        if is_date_line and (match := SOURCE_IN_LINE_RE.search(block.words)):
            return block.text[match.start(1) : match.end(1)]
    return ""


def _outside_value(labels: list[Label], kind: str) -> str:
    for label in labels:
        if label.role is Role.OUTSIDE and label.kind == kind and label.value:
            return label.value
    return ""


def _title_index(blocks: list[Block], title: str) -> int:
    """The block that shows the headline (a heading first), or -1."""
    key = squeeze(title)
    if len(key) < 4:
        return -1
    fallback = -1
    for block in blocks:
        if shows_title(squeeze(block.text), key, heading=block.tag in HEADING_TAGS):
            if block.tag in HEADING_TAGS:
                return block.index
            if fallback < 0:
                fallback = block.index
    return fallback


ARTICLE: Final = "article"
_MIN_BODY_CHARS: Final = {(True, True): 100, (True, False): 200, (False, True): 250, (False, False): 600}
"""Body characters (non-space) an article needs, by (mostly Chinese, dated or typed ``article``): a
short news item of a few Chinese sentences has a date; an English page of 600 characters and no
date is a small article at best, and a site's about or error page below that."""
_LISTING_LINK_SHARE: Final = 0.3
"""Share of the body that is link text, from which the "body" is a list of links to other pages."""
_PAGE_LINK_SHARE: Final = 0.5
_LISTING_MIN_LINKS: Final = 10
"""A page whose body proper is short, with this many links making up half its text, lists other pages."""
_LISTING_MIN_HEADLINES: Final = 3
"""Blocks that are each one headline link: with no article body, the page lists stories."""
_HEADLINE_LINK_DENSITY: Final = 0.6
"""A headline link may carry its date in the same line ("…2024-10-10")."""
_INDEX_MIN_LINKS: Final = 3
_HEADLINE_CHARS: Final = 8
_AUTHOR_LINK_CHARS: Final = 16
_NO_BODY_CHARS: Final = 20
"""A body shorter than this (characters: a follow button, a date) is as good as none."""
_NOT_ARTICLES: Final = frozenset({"website", "product", "profile", "book", "music.song", "video.other"})


def page_kind(
    blocks: list[Block],
    features: list[BlockFeatures],
    body: list[Block],
    *,
    dated: bool,
    og_type: str,
    headline: bool = False,
) -> str:
    """Whether a page is an article, else why not: the decision for sites no portal profile describes.

    Evidence, in order: a body at all; its length, less demanding for a dated page or one that says
    ``og:type=article``, and for Chinese text (denser than Latin); with no article body, a page of
    links, of headline links, or whose only text is a teaser under a headline link is a listing,
    unless the page shows its own story headline (an article whose body is rendered by script); a
    body made of links is a listing (the page around an article may be mostly links: portals' menus
    are); a body without one block of prose is a template or a form.
    """
    chars = sum(block.chars for block in body)
    chinese = sum(features[block.index].cjk for block in body) * 2 >= chars
    typed = og_type == ARTICLE or og_type.startswith("article:")
    if not body or chars < _MIN_BODY_CHARS[(chinese, dated or typed)]:
        if not headline and _lists_pages(blocks, body, chars):
            return "listing page"
        return "short body" if body else "no body"
    if og_type in _NOT_ARTICLES and not dated:
        return f"og:type {og_type}"
    if not typed and sum(block.link_chars for block in body) > _LISTING_LINK_SHARE * chars:
        return "listing page"
    if not any(features[block.index].is_prose for block in body):
        return "no prose"
    return ARTICLE


def _lists_pages(blocks: list[Block], body: list[Block], chars: int) -> bool:
    """A page without an article body that links to other pages as its content."""
    page_chars = sum(block.chars for block in blocks)
    linked = sum(block.link_chars for block in blocks)
    links = sum(len(block.links) for block in blocks)
    if links >= _LISTING_MIN_LINKS and linked > _PAGE_LINK_SHARE * page_chars:
        return True  # mostly links
    if chars < _NO_BODY_CHARS and links >= _INDEX_MIN_LINKS and linked > _PAGE_LINK_SHARE * page_chars:
        return True  # a small index: a few links and nothing else (accounts, sections)
    if sum(1 for block in blocks if _is_headline_link(block)) >= _LISTING_MIN_HEADLINES:
        return True  # headlines of other stories
    first = body[0].index if body else -1
    return first > 0 and _is_headline_link(blocks[first - 1])  # the only text is a teaser under a headline


def _is_story_headline(blocks: list[Block], index: int) -> bool:
    """The page's title shown as a story's heading: not a link, not a section name, and followed by
    what follows a story's headline (a dek, a date, a byline), not by links to other pages."""
    block = blocks[index]
    if block.tag not in HEADING_TAGS or block.links or block.chars < _HEADLINE_CHARS:
        return False
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    if following is None:
        return False
    return not following.links or _is_author_link(following)


def _is_author_link(block: Block) -> bool:
    """A name that links to its author's page, as bylines on content platforms do (not "更多", "more")."""
    return (
        len(block.links) == 1
        and block.link_density >= _HEADLINE_LINK_DENSITY
        and 2 <= block.chars <= _AUTHOR_LINK_CHARS
        and MORE_LINK_RE.search(block.words) is None
    )


def _is_headline_link(block: Block) -> bool:
    """A block that is one link with a headline's length: an entry of a list of stories or accounts."""
    return len(block.links) == 1 and block.link_density >= _HEADLINE_LINK_DENSITY and block.chars >= _HEADLINE_CHARS


def page_type(kind: str) -> str:
    """The page-type decision in three words: ``article``, ``list`` (an index of other pages), ``other``."""
    if kind == ARTICLE:
        return ARTICLE
    return "list" if kind == "listing page" else "other"


@dataclass(frozen=True, slots=True)
class PageLayout:
    """The page cut into blocks, the article container's block range, and every block's role."""

    blocks: list[Block]
    features: list[BlockFeatures]
    container: etree._Element | None
    start: int
    end: int
    labels: list[Label]
    path: str = "scoring"
    """How the container was found: ``selectors`` (a portal profile's), ``scoring``, or ``scoring
    without class names`` (the named container held no body while the page has prose); ``, captions``
    added when the body is a gallery's captions (nothing else was found)."""


def analyse(page: etree._Element, *, title: str, body_selector: str = "") -> PageLayout:
    """Cut a cleaned page into blocks, find the article container and label every block.

    ``extract_article`` is built on this; it is public so a page's decisions can be inspected
    block by block when an extraction looks wrong.
    """
    blocks = blocks_of(page)
    feats = [features(b) for b in blocks]
    chosen = _select(page, body_selector)
    if chosen:
        return _laid_out(blocks, feats, chosen[0], title, "selectors")
    title_index = _title_index(blocks, title)
    mark_teasers(blocks, feats, title_index)
    values = boost_after_title(blocks, feats, title_index)
    layout = _laid_out(blocks, feats, choose_container(page, blocks, values, title_index=title_index), title, "scoring")
    other = _other_story(blocks, feats, title_index, layout.end) if layout.container is not None else None
    if other is not None:
        # The chosen text runs into, or sits under, another story's headline and date (a stream of next
        # articles, a feed under the story): the page is about the story its own title opens.
        own = [value if title_index <= i < other else min(value, 0.0) for i, value in enumerate(values)]
        container = choose_container(page, blocks, own, title_index=title_index)
        story = _laid_out(blocks, feats, container, title, "scoring, the title's own story")
        if _body_chars(story) >= _NO_BODY_CHARS:
            layout = story
    if _body_chars(layout) < _NO_BODY_CHARS and _prose_chars(feats, blocks) >= _FALLBACK_PROSE:
        # Never no body while the page has paragraphs: its class names misled the choice.
        unnamed = choose_container(page, blocks, values, title_index=title_index, names=False)
        second = _laid_out(blocks, feats, unnamed, title, "scoring without class names")
        if _body_chars(second) > _body_chars(layout):
            layout = second
    if _body_chars(layout) < _NO_BODY_CHARS and layout.container is not None:
        # A photo gallery: the pictures' captions are the only text the page has about its story.
        gallery = _laid_out(blocks, feats, layout.container, title, f"{layout.path}, captions", captions=True)
        if _body_chars(gallery) >= _NO_BODY_CHARS:
            layout = gallery
    return layout


_STORY_DATE_WITHIN: Final = 4
"""Blocks after a headline in which its date line shows."""


def _other_story(blocks: list[Block], feats: list[BlockFeatures], title_index: int, end: int) -> int | None:
    """Where another story begins between the page's headline and ``end``: a heading that is not the
    title, with a date line of its own right after it (a subheading of the same story has none), after
    the headline's own dated story has had prose of its own (a masthead's "title" has none)."""
    if title_index < 0 or blocks[title_index].tag not in HEADING_TAGS or not _dated(blocks, title_index):
        # A headline shown as plain text, or a "title" with no date of its own (a site name in the
        # masthead): a dated heading after it may well be the story's own.
        return None
    title = squeeze(blocks[title_index].text)
    for i in range(title_index + 1, min(end, len(blocks))):
        block = blocks[i]
        if block.tag not in HEADING_TAGS or block.chars < _HEADLINE_MIN_CHARS:
            continue
        heading = squeeze(block.text)
        if heading in title or title in heading:
            continue  # the headline again, or with its dek
        if block.tag < blocks[title_index].tag:
            return None  # a weightier heading (h1 under an h2 "title"): the page's headline, not a next story
        if _dated(blocks, i):
            story = range(title_index + 1, i)
            prose = sum(blocks[j].chars for j in story if feats[j].is_prose and blocks[j].chars >= PROSE_MIN_CHARS)
            return i if prose >= _STORY_MIN_CHARS else None
    return None


def _dated(blocks: list[Block], heading: int) -> bool:
    """A date line shows within a few blocks after the heading at ``heading``, before any other heading."""
    for block in blocks[heading + 1 : heading + 1 + _STORY_DATE_WITHIN]:
        if block.tag in HEADING_TAGS:
            return False
        if block.chars <= _DATE_LINE_MAX_CHARS and DATE_LIKE_RE.search(block.text):
            return True
    return False


_HEADLINE_MIN_CHARS: Final = 6
_STORY_MIN_CHARS: Final = 50
"""Prose the title's own story shows before the next one (a photo caption under a masthead is not one)."""
_DATE_LINE_MAX_CHARS: Final = 80
_FALLBACK_PROSE: Final = 100
"""Characters of prose a page must hold for a body as good as none to be looked for again."""


def _laid_out(blocks: list[Block], feats: list[BlockFeatures], container: etree._Element | None, title: str,
              path: str, *, captions: bool = False) -> PageLayout:  # fmt: skip
    start, end = _block_range(blocks, container) if container is not None else (0, 0)
    labels = label_blocks(blocks, feats, start, end, title=title, captions=captions)
    return PageLayout(blocks, feats, container, start, end, labels, path)


def _body_chars(layout: PageLayout) -> int:
    return sum(
        block.chars for block, label in zip(layout.blocks, layout.labels, strict=True) if label.role is Role.BODY
    )


def _prose_chars(feats: list[BlockFeatures], blocks: list[Block]) -> int:
    return sum(block.chars for block, feat in zip(blocks, feats, strict=True) if feat.is_prose)


def _extract(root: etree._Element, *, url: str, selectors: ArticleSelectors, encoding: str) -> Article:
    metadata = read_metadata(root)
    title = _selected_text(root, selectors.title) if selectors.title else ""
    title = title or metadata.title
    byline = _selected_text(root, selectors.byline)
    published_text = _selected_text(root, selectors.date)
    source = _selected_text(root, selectors.source)
    references = [
        str(href).strip()
        for el in _select(root, selectors.references)
        for href in el.xpath("descendant-or-self::*/@href")
    ]
    clean(root)
    boilerplate = _remove_selected_boilerplate(root, selectors)
    body_root = root.find("body")
    page = body_root if body_root is not None else root
    layout = analyse(page, title=title, body_selector=selectors.body)
    blocks, labels, start, end = layout.blocks, layout.labels, layout.start, layout.end
    body_blocks = [b for b, label in zip(blocks, labels, strict=True) if label.role is Role.BODY]
    boilerplate.extend(_grouped_boilerplate(blocks, labels))

    byline = byline or _metadata_line(blocks, labels, Role.BYLINE, start, end)
    authors = _authors(byline)
    if source:
        match_source = SOURCE_RE.match(simplified(source))
        source = source[match_source.start(1) : match_source.end(1)] if match_source else source
    else:
        source = _metadata_value(labels, Role.SOURCE, start, end) or _source_in_date_line(blocks, labels)
    if not references:
        references = [label.value for label in labels if label.role is Role.REFERENCE]
    if published_text:
        published_at = parse_absolute_date(published_text)
    else:
        # The page's own words first; the machine stamp fills in what a relative date can't say.
        published_text = _metadata_value(labels, Role.DATE, start, end) or metadata.published_text
        published_at = metadata.published_at or (parse_absolute_date(published_text) if published_text else None)
    body_text = "\n".join(b.text for b in body_blocks)
    title_index = _title_index(blocks, title)
    headline = title_index >= 0 and _is_story_headline(blocks, title_index)
    kind = page_kind(blocks, layout.features, body_blocks, dated=bool(published_text or published_at),
                     og_type=metadata.og_type, headline=headline)  # fmt: skip
    return Article(
        url=url,
        title=title,
        canonical_url=metadata.canonical_url,
        byline=byline,
        authors=authors,
        published_text=published_text,
        published_at=published_at,
        source=source,
        references=tuple(dict.fromkeys(references)),
        body_links=_web_links(url, body_blocks),
        body_text=body_text,
        body_html=_body_html(body_blocks),
        boilerplate=tuple(boilerplate),
        encoding=encoding,
        empty_reason="" if body_text else "no body found",
        page_kind=kind,
        page_type=page_type(kind),
        body_path=layout.path,
    )
