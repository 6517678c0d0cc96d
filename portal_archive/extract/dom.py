"""Parse a page, drop what never carries article text, and cut it into text blocks.

A block is a run of text between block-level boundaries (``<p>``, ``<div>``, ``<li>``, ``<br>``
…), in document order. Scoring and boilerplate labelling work on blocks rather than on elements
because Chinese portals often put a whole article in one ``<div>`` split by ``<br>``, and often
run a list of links together with no separator at all. Every walk here is iterative: deeply
nested input must not hit Python's recursion limit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from portal_archive.extract.lexicon import simplified

BLOCK_TAGS: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
        "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
HEADING_TAGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_JUNK_TAGS: Final = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "select", "option", "textarea", "button", "input", "head", "map", "audio", "video", "link", "meta",
)  # fmt: skip
_STYLED_XPATH: Final = etree.XPath("//*[@style or @hidden or @aria-hidden]")
_HAS_JUNK_XPATH: Final = etree.XPath("boolean(descendant::*[" + " or ".join(f"self::{t}" for t in _JUNK_TAGS) + "])")
_HIDING_STYLE_RE: Final = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_XML_DECL_RE: Final = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACE_RE: Final = re.compile(r"\s+")
# A browser reads on after ``</body>`` or ``</html>`` (the rest of the page still goes into the body);
# libxml2 drops what follows ``</html>`` and puts what follows ``</body>`` outside the body. Pages built
# from server-side includes close the document mid-page, so these end tags are dropped before parsing.
_DOCUMENT_END_RE: Final = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_SENTENCE_PUNCT_RE: Final = re.compile(r"[。！？!?]|\.\s")
_PROSE_ANCHOR_CHARS: Final = 200
# lxml's plain parser: lxml.html's element classes cost a lookup for every element visited.
_PARSER: Final = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


def parse(text: str) -> etree._Element | None:
    """Parse decoded HTML; ``None`` when nothing element-like is left.

    The text is re-encoded and handed to libxml2 with a fixed UTF-8 parser, so a stale
    ``<meta charset>`` or an XML declaration inside the string cannot re-decode it. Content after an
    early ``</body>`` or ``</html>`` stays in the body, as in a browser.
    """
    cleaned = _DOCUMENT_END_RE.sub("", _CONTROL_RE.sub("", _XML_DECL_RE.sub("", text, count=1)))
    if not cleaned.strip():
        return None
    try:
        root = etree.fromstring(cleaned.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root if root is not None and len(root) else None


def clean(root: etree._Element) -> None:
    """Remove scripts, styles, forms' widgets and hidden elements in place (keeps their tails)."""
    styled = _STYLED_XPATH(root)
    for el in styled if isinstance(styled, list) else ():
        if not isinstance(el, etree._Element) or el.getparent() is None or el.tag in ("html", "body"):
            continue
        hidden = el.get("hidden") is not None or el.get("aria-hidden") == "true"
        if hidden or _HIDING_STYLE_RE.search(el.get("style", "")):
            _drop_keep_tail(el)
    etree.strip_elements(root, *_JUNK_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def _drop_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def text_of(el: etree._Element) -> str:
    """All visible text inside an element, whitespace collapsed.

    Metadata (a headline, a date) is read before the page is cleaned, so a ``<script>`` inside a
    ``<h1>`` must not lend its code to the title.
    """
    if _HAS_JUNK_XPATH(el):
        el = copy.deepcopy(el)
        el.tail = None
        etree.strip_elements(el, *_JUNK_TAGS, with_tail=False)
    return normalize_space("".join(el.itertext()))


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (including U+3000 and NBSP) into one space."""
    return _SPACE_RE.sub(" ", text).strip()


@dataclass(slots=True, eq=False)
class Block:
    """One run of text between block boundaries, with what scoring needs to know about it."""

    index: int
    text: str
    owner: etree._Element
    """The nearest block-level element around the text."""
    chars: int
    """Non-space characters."""
    link_chars: int
    """Non-space characters inside ``<a>``."""
    links: list[tuple[str, str]] = field(default_factory=list)
    """``(anchor text, href)`` of the links that start in this block."""
    words: str = ""
    """The text with traditional characters written simplified (``lexicon.simplified``), for the
    lexicon's patterns: folded once here, offsets as in ``text``."""

    @property
    def tag(self) -> str:
        """The owner element's tag."""
        return str(self.owner.tag)

    @property
    def link_density(self) -> float:
        """Share of the block's characters that are link text."""
        return self.link_chars / self.chars if self.chars else 0.0


class _BlockBuilder:
    """Accumulates inline text until the next block boundary."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.links: list[tuple[str, str]] = []

    def add(self, text: str, *, in_link: bool) -> None:
        """Append inline text; link text is counted apart for the link density."""
        self.parts.append(text)
        if in_link:
            self.link_chars += len("".join(text.split()))

    def flush(self, owner: etree._Element) -> None:
        """Close the current block (a boundary was reached); empty runs leave no block."""
        if not self.parts:
            self.links = []
            return
        text = normalize_space("".join(self.parts))
        if text:
            chars = len(text) - text.count(" ")
            self.blocks.append(
                Block(
                    index=len(self.blocks),
                    text=text,
                    owner=owner,
                    chars=chars,
                    link_chars=min(self.link_chars, chars),
                    links=self.links,
                    words=simplified(text),
                )
            )
        self.parts = []
        self.link_chars = 0
        self.links = []


def _is_prose_anchor(text: str) -> bool:
    """Paragraphs of sentences inside one ``<a>``: text that a missing ``</a>`` swallowed."""
    return len(text) > _PROSE_ANCHOR_CHARS and len(_SENTENCE_PUNCT_RE.findall(text)) >= 3


def blocks_of(root: etree._Element) -> list[Block]:
    """The text blocks of a cleaned page (``clean``), in document order."""
    builder = _BlockBuilder()
    owners: list[etree._Element] = [root]
    link_depth = 0
    prose_anchors: set[etree._Element] = set()
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            if tag in BLOCK_TAGS:
                builder.flush(owners[-1])
                owners.append(el)
            elif tag == "a":
                # Cleaned already: no script or style left to skip (``text_of``'s XPath check per
                # link took a tenth of the extraction time on link-heavy pages).
                anchor = normalize_space("".join(el.itertext()))
                # An anchor wrapping whole paragraphs is an unclosed tag, not navigation.
                if _is_prose_anchor(anchor):
                    prose_anchors.add(el)
                else:
                    link_depth += 1
                href = el.get("href")
                if href is not None:
                    builder.links.append((anchor, href.strip()))
            if el.text:
                builder.add(el.text, in_link=link_depth > 0)
        else:
            if tag in BLOCK_TAGS:
                builder.flush(owners[-1])
                if len(owners) > 1:
                    owners.pop()
            elif tag == "a" and el not in prose_anchors:
                link_depth = max(0, link_depth - 1)
            elif tag == "br":
                builder.flush(owners[-1])
            if el.tail:
                builder.add(el.tail, in_link=link_depth > 0)
    builder.flush(owners[-1])
    return builder.blocks
