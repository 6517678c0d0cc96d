"""Page-level metadata read before cleaning: title, canonical URL, machine-readable dates.

These live in ``<head>`` (``<title>``, ``<link rel=canonical>``, Open Graph and article
``<meta>``) and in ``<time datetime>``, all of which cleaning removes or ignores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from lxml import etree

from portal_archive.extract.dates import parse_machine_date
from portal_archive.extract.dom import normalize_space, text_of
from portal_archive.extract.lexicon import AUTHOR_SPLIT_RE
from portal_archive.extract.text import squeeze

_TITLE_SEPARATORS_RE: Final = re.compile(r"\s*(?:[|｜_–—]|\s-\s|--)\s*")
_CANONICAL_XPATH: Final = etree.XPath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
_OG_TITLE_XPATH: Final = etree.XPath("//meta[@property='og:title' or @name='og:title']/@content")
_TITLE_XPATH: Final = etree.XPath("//title")
_HEADINGS_XPATH: Final = etree.XPath("//h1 | //h2")
_DATE_META_XPATH: Final = etree.XPath(
    "//meta[@property='article:published_time' or @name='article:published_time' or @name='pubdate' "
    "or @name='publishdate' or @name='PubDate' or @name='publish_date' or @itemprop='datePublished' "
    "or @name='date' or @name='DC.date.issued' or @name='sailthru.date' or @property='og:published_time']/@content"
    " | //time/@datetime"
)
_OG_TYPE_XPATH: Final = etree.XPath("//meta[@property='og:type' or @name='og:type']/@content")
_MAX_TITLE_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What ``<head>`` and machine-readable stamps say about the page."""

    title: str
    canonical_url: str
    published_text: str
    published_at: str | None
    og_type: str = ""
    """``og:type``, lower-cased (``article``, ``website``, ``product``…): what the page says it is."""


def _first_string(values: object) -> str:
    if isinstance(values, list):
        for value in values:
            text = normalize_space(str(value))
            if text:
                return text
    return ""


def _title(root: etree._Element) -> str:
    """The visible headline: an ``<h1>``/``<h2>`` that ``<title>`` contains, else the best part of it."""
    head_title = _first_string(_OG_TITLE_XPATH(root))
    title_el = _TITLE_XPATH(root)
    document_title = ""
    if isinstance(title_el, list) and title_el and isinstance(title_el[0], etree._Element):
        document_title = text_of(title_el[0])
    reference = squeeze(head_title or document_title)
    headings = _HEADINGS_XPATH(root)
    first_h1 = ""
    if isinstance(headings, list):
        for el in headings:
            if not isinstance(el, etree._Element):
                continue
            text = text_of(el)
            if not text or len(text) > _MAX_TITLE_CHARS:
                continue
            key = squeeze(text)
            if reference and len(key) >= 4 and key in reference:
                return text
            if not first_h1 and el.tag == "h1":
                first_h1 = text
    if first_h1:
        return first_h1
    if head_title:
        return head_title
    parts = [p for p in _TITLE_SEPARATORS_RE.split(document_title) if p]
    return max(parts, key=len) if parts else ""


def read_metadata(root: etree._Element) -> PageMetadata:
    """Title, canonical URL and a machine-readable publication date, when the page has them."""
    published_text = _first_string(_DATE_META_XPATH(root))
    return PageMetadata(
        title=_title(root),
        canonical_url=_first_string(_CANONICAL_XPATH(root)),
        published_text=published_text,
        published_at=parse_machine_date(published_text) if published_text else None,
        og_type=_first_string(_OG_TYPE_XPATH(root)).lower(),
    )


def split_authors(names: str) -> tuple[str, ...]:
    """``凌敏、核子可乐`` → ``("凌敏", "核子可乐")``; also commas, slashes and "and"."""
    parts = (p.strip(" |｜丨:：") for p in AUTHOR_SPLIT_RE.split(names))
    return tuple(p for p in parts if p)
