"""Extract: from an article page's bytes to its body text, metadata and labelled boilerplate.

The public API (``extract_article``, ``Article``, ``ParsedPage`` …) is re-exported here from
``extractor``; the other modules are its parts, one concern each:

- ``extractor``: the generic algorithm and its result, ``Article`` (JSON form: docs/extract-json.md);
- ``charset``: bytes to text (header, ``<meta>``, BOM, detection, mojibake repair);
- ``dom``: parse, drop scripts and hidden elements, cut the page into text blocks;
- ``text``: punctuation and script counts of a block's text;
- ``lexicon``: the words pages use to announce boilerplate, bylines, sources and dates;
- ``lines``: single lines that are boilerplate by their wording;
- ``scoring``: block values and the choice of the article container;
- ``boilerplate``: every block's role (body, a labelled boilerplate kind, a metadata line);
- ``metadata``: title, canonical URL and machine-readable dates from ``<head>``;
- ``dates``: publication dates as pages print them (absolute, relative, CUID-assisted), in UTC;
- ``nuxt``: the ``__NUXT_DATA__`` state of Nuxt 3 pages (InfoQ's title, authors, publish time).
"""

from __future__ import annotations

from portal_archive.extract.charset import decode_html, detect_charset
from portal_archive.extract.dates import SHANGHAI, parse_absolute_date
from portal_archive.extract.extractor import (
    HTML_TYPES,
    JSON_FORMAT_VERSION,
    Article,
    PageLayout,
    ParsedPage,
    analyse,
    article_to_dict,
    article_to_json,
    extract_article,
    extract_from_text,
    extract_parsed,
    is_html,
    parse_page,
    parse_text,
)
from portal_archive.profiles import ArticleSelectors

__all__ = [
    "HTML_TYPES",
    "JSON_FORMAT_VERSION",
    "SHANGHAI",
    "Article",
    "ArticleSelectors",
    "PageLayout",
    "ParsedPage",
    "analyse",
    "article_to_dict",
    "article_to_json",
    "decode_html",
    "detect_charset",
    "extract_article",
    "extract_from_text",
    "extract_parsed",
    "is_html",
    "parse_absolute_date",
    "parse_page",
    "parse_text",
]
