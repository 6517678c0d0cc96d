"""Which part of the page is the article: block values summed over the DOM tree.

Every block gets a value: prose (punctuated, few links) is worth its non-link characters, link
text costs its length, short unpunctuated labels cost a little. The article container is the
element whose subtree sums highest: growing a candidate to its parent pays off only when the
parent adds more prose than it adds menus and link lists, which is how a body split across
sibling ``<div>`` s is kept whole while the sidebar next to it is not. Class and id names that
say "comment", "sidebar", "related" … turn prose under them into a cost, as in readability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from lxml import etree

from portal_archive.extract.dom import Block
from portal_archive.extract.text import cjk_count, punctuation_count, sentence_end_count

_NEGATIVE_WORDS: Final = re.compile(
    r"comment|sidebar|breadcrumb|crumbs|share|social|related|recommend|copyright|advert|sponsor|"
    r"widget|pagination|pager|popular|trending|newsletter|subscribe|outbrain|taboola|footer|"
    r"disclaimer|masthead|toolbar|login|signup|banner|promo|cookie|modal|popup|rank",
    re.IGNORECASE,
)
_NEGATIVE_TOKENS: Final = frozenset(
    {"ad", "ads", "nav", "navbar", "menu", "hot", "side", "aside", "foot", "tags", "tag", "header", "top", "reply"}
)
_POSITIVE_WORDS: Final = re.compile(r"article|content|entry|story|post-?body|text|main|detail|body", re.IGNORECASE)
_NEGATIVE_ELEMENTS: Final = frozenset({"nav", "aside", "footer", "header", "menu"})
_TOKEN_SPLIT: Final = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")
_UNCHOOSABLE: Final = frozenset({"html", "a", "span", "font", "b", "strong", "em", "i"})
_HINT_ATTRIBUTES: Final = ("class", "id")
# Share of all prose a hinted element may hold before its hint is taken for a site-wide mistake
# (``<body class="has-sidebar">``).
_MAX_HINTED_SHARE: Final = 0.6


@dataclass(slots=True, frozen=True)
class BlockFeatures:
    """What the value of a block is computed from; kept for the later boilerplate pass."""

    punctuation: int
    sentence_ends: int
    cjk: int
    is_prose: bool
    is_title_run: bool
    value: float


def features(block: Block) -> BlockFeatures:
    """Classify a block as prose, a run of headlines, or a label, and price it."""
    text = block.text
    chars = block.chars
    punct = punctuation_count(text)
    ends = sentence_end_count(text)
    cjk = cjk_count(text)
    plain = chars - block.link_chars
    density = block.link_density
    chinese = cjk * 2 >= chars
    # Headlines run together: long, yet hardly any punctuation (a prose sentence has some).
    sparse = punct < chars / (50 if chinese else 120)
    is_title_run = chars >= 80 and sparse and ends <= chars / 200
    is_prose = density <= 0.5 and punct >= 1 and not is_title_run and (chars >= 12 or ends >= 1)
    if density > 0.5:
        value = -1.0 * block.link_chars - 0.25 * plain
    elif is_prose:
        value = plain - 1.5 * block.link_chars
    elif is_title_run:
        value = -0.5 * chars
    elif plain >= 30:
        value = 0.3 * plain
    else:
        value = -2.0
    return BlockFeatures(punct, ends, cjk, is_prose, is_title_run, value)


def _hint(el: etree._Element) -> int:
    """-1 for names that mean boilerplate, +1 for names that mean content, else 0."""
    tag = el.tag
    if tag in _NEGATIVE_ELEMENTS:
        return -1
    names = " ".join(el.get(attr, "") for attr in _HINT_ATTRIBUTES)
    if not names.strip():
        return 0
    if _NEGATIVE_WORDS.search(names):
        return -1
    if any(token.lower() in _NEGATIVE_TOKENS for token in _TOKEN_SPLIT.split(names) if token):
        return -1
    if _POSITIVE_WORDS.search(names):
        return 1
    return 0


def choose_container(root: etree._Element, blocks: list[Block], values: list[float]) -> etree._Element | None:
    """The element whose blocks add up to the most article-like text, or ``None``."""
    totals: dict[etree._Element, float] = {}
    prose: dict[etree._Element, float] = {}
    hints: dict[etree._Element, int] = {}
    chains: list[list[etree._Element]] = []
    page_prose = 0.0
    for block, value in zip(blocks, values, strict=True):
        chain = [block.owner, *block.owner.iterancestors()]
        chains.append(chain)
        if value > 0:
            page_prose += value
        for el in chain:
            totals[el] = totals.get(el, 0.0) + value
            if value > 0:
                prose[el] = prose.get(el, 0.0) + value
            if el not in hints:
                hints[el] = _hint(el)
    if page_prose <= 0:
        return None
    # Prose under a boilerplate-named element counts against everything above it.
    for chain, value in zip(chains, values, strict=True):
        if value <= 0:
            continue
        for depth, el in enumerate(chain):
            if hints[el] < 0 and prose.get(el, 0.0) < _MAX_HINTED_SHARE * page_prose:
                for above in chain[depth:]:
                    totals[above] -= 1.3 * value
                break
    best: etree._Element | None = None
    best_score = 0.0
    for el, total in totals.items():
        if el.tag in _UNCHOOSABLE or not isinstance(el.tag, str):
            continue
        score = total * (1.1 if hints[el] > 0 else 1.0)
        if score > best_score:
            best, best_score = el, score
    return best if best is not None else root
