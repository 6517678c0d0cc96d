"""Which part of the page is the article: block values summed over the DOM tree.

Every block gets a value: prose (punctuated, few links) is worth its non-link characters, link
text costs its length, short unpunctuated labels cost a little. The article container is the
element whose subtree sums highest: growing a candidate to its parent pays off only when the
parent adds more prose than it adds menus and link lists, which is how a body split across
sibling ``<div>`` s is kept whole while the sidebar next to it is not. Class and id names that
say "comment", "sidebar", "related" … turn prose under them into a cost, as in readability.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from lxml import etree

from portal_archive.extract.dom import Block
from portal_archive.extract.lines import NAV, line_kind
from portal_archive.extract.text import cjk_count, punctuation_count, sentence_end_count

# Class and id words that mean boilerplate: long ones anywhere inside a word, short ones as a
# whole word only (``ad`` must not match ``header``, ``pager`` must not match ``pageRow``).
_NEGATIVE_PARTS: Final = (
    "comment", "sidebar", "related", "recommend", "footer", "breadcrumb", "advert", "sponsor", "outbrain",
    "taboola", "newsletter", "subscribe", "popular", "trending", "copyright", "disclaimer", "pagination",
    "sharing", "social", "navigation", "navbar", "masthead", "cookie", "signup",
)  # fmt: skip
_NEGATIVE_WORDS: Final = (
    "ad", "ads", "nav", "menu", "hot", "share", "tags", "login", "modal", "popup", "pager", "aside",
    "promo", "rank", "ranking", "foot", "reply", "replies", "banner",
)  # fmt: skip
_POSITIVE_PARTS: Final = ("article", "content", "entry", "story", "post", "text", "main", "body", "detail")
_NEGATIVE_RE: Final = re.compile(
    "|".join(_NEGATIVE_PARTS) + "|" + "|".join(rf"(?<![a-z0-9]){word}(?![a-z0-9])" for word in _NEGATIVE_WORDS)
)
_POSITIVE_RE: Final = re.compile("|".join(_POSITIVE_PARTS))
_CAMEL_RE: Final = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NEGATIVE_ELEMENTS: Final = frozenset({"nav", "aside", "footer", "header", "menu"})
_UNCHOOSABLE: Final = frozenset({"html", "a", "span", "font", "b", "strong", "em", "i"})
# A teaser: a summary cut short with an ellipsis, maybe followed by a "more" link.
_TEASER_RE: Final = re.compile(r"(?:\.{3,}|…+|。{3,})\s*(?:[\[【(（<]?\s*\S{0,8}\s*[\]】)）>]?)?$")
_TEASER_MAX_CHARS: Final = 400
# After the headline, prose is worth more until this much link text has gone by.
_TITLE_RUN_LINK_CHARS: Final = 60
_TITLE_RUN_BOOST: Final = 2.0
NARROW_SHARE: Final = 0.85
# Shortest run of headlines: a few Chinese titles, or several English ones.
_TITLE_RUN_HANZI: Final = 80
_TITLE_RUN_LATIN: Final = 200
_PARAGRAPH_END_WINDOW: Final = 12
_HEADLINE_LINK_CHARS: Final = 20
_HEADLINE_LINK_HANZI: Final = 8
_TEASER_LOOKAROUND: Final = 3
_TEASER_SKIP_CHARS: Final = 40
_TEASER_DISCOUNT: Final = 0.2
_TEASER_LIST_SPAN: Final = 6
_NEVER_NEGATIVE: Final = frozenset({"html", "body", "main"})


@dataclass(slots=True)
class BlockFeatures:
    """What the value of a block is computed from; kept for the later boilerplate pass."""

    punctuation: int
    sentence_ends: int
    cjk: int
    is_prose: bool
    is_title_run: bool
    line_kind: str | None
    """The boilerplate kind the block's wording announces (share, footer, disclaimer, nav), if any."""
    value: float
    is_teaser: bool = False
    """A summary between two headline links: an entry of a list of other articles."""


def _is_title_run(text: str, chars: int, punct: int, ends: int, *, chinese: bool) -> bool:
    """Headlines run together: long, yet without the full stops and commas of prose.

    Chinese prose ends its sentences with 。 every few dozen characters and puts a comma every
    dozen or so; headlines use ！ and ？ now and then but hardly ever 。, and the run does not end
    on one.
    """
    if not chinese:
        return chars >= _TITLE_RUN_LATIN and punct < chars / 120 and ends <= chars / 200
    # A paragraph ends on 。, perhaps followed by a closing quote or a short "【详细】" link.
    if chars < _TITLE_RUN_HANZI or "。" in text[-_PARAGRAPH_END_WINDOW:]:
        return False
    commas = sum(text.count(mark) for mark in "，,、；;")
    return text.count("。") <= chars / 150 and ends <= chars / 80 and commas < chars / 25


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
    is_title_run = _is_title_run(text, chars, punct, ends, chinese=chinese)
    is_prose = density <= 0.5 and punct >= 1 and not is_title_run and (chars >= 12 or ends >= 1)
    kind = line_kind(block)
    if kind is not None and kind != NAV:
        # Disclaimers and footers are punctuated prose, yet never the article.
        is_prose = False
        value = -0.5 * chars
    elif density > 0.5:
        value = -1.0 * block.link_chars - 0.25 * plain
    elif is_prose:
        value = plain - 1.5 * block.link_chars
        if chars <= _TEASER_MAX_CHARS and _TEASER_RE.search(text):
            value *= 0.2
    elif is_title_run:
        value = -0.5 * chars
    elif plain >= 30:
        value = 0.3 * plain
    else:
        value = -2.0
    return BlockFeatures(punct, ends, cjk, is_prose, is_title_run, kind, value)


def _is_headline_link(block: Block) -> bool:
    """One link, long enough to be an article's headline ("Next post" and menus are not)."""
    if len(block.links) != 1 or block.link_density <= 0.5:
        return False
    anchor = block.links[0][0]
    if "://" in anchor or "www." in anchor:
        return False
    return block.link_chars >= _HEADLINE_LINK_CHARS or cjk_count(anchor) >= _HEADLINE_LINK_HANZI


def _neighbour_is_headline(
    blocks: list[Block], feats: list[BlockFeatures], i: int, step: int, title_index: int
) -> bool:
    """Whether a headline link is the next thing in that direction, past short date or author lines."""
    j = i + step
    for _ in range(_TEASER_LOOKAROUND):
        if not 0 <= j < len(blocks) or j == title_index:
            return False
        if _is_headline_link(blocks[j]):
            return True
        if feats[j].is_prose and blocks[j].chars > _TEASER_SKIP_CHARS:
            return False
        j += step
    return False


def mark_teasers(blocks: list[Block], feats: list[BlockFeatures], title_index: int = -1) -> None:
    """Discount prose sandwiched between headline links: it summarises another article.

    Lists of other stories ("More from …", 热点新闻 with summaries) repeat headline link,
    byline or date, summary; their summaries are punctuated prose, so without this they can
    outweigh a short article.
    """
    candidates = [
        i
        for i, feat in enumerate(feats)
        if feat.is_prose
        and feat.value > 0
        and blocks[i].chars <= _TEASER_MAX_CHARS
        and _neighbour_is_headline(blocks, feats, i, -1, title_index)
        and _neighbour_is_headline(blocks, feats, i, 1, title_index)
    ]
    # One sandwich is a link inside an article; a list repeats the pattern.
    for n, i in enumerate(candidates):
        before = candidates[n - 1] if n > 0 else -_TEASER_LIST_SPAN - 1
        after = candidates[n + 1] if n + 1 < len(candidates) else len(blocks) + _TEASER_LIST_SPAN
        if i - before <= _TEASER_LIST_SPAN or after - i <= _TEASER_LIST_SPAN:
            feats[i].is_teaser = True
            feats[i].value *= _TEASER_DISCOUNT
    # The list's last summary has a headline before it but none after, and no prose follows it: it
    # closes the list all the same (an article's paragraph is followed by more of the article).
    teasers = [i for i, feat in enumerate(feats) if feat.is_teaser]
    for n, last in enumerate(teasers):
        if n + 1 < len(teasers) and teasers[n + 1] - last <= _TEASER_LIST_SPAN:
            continue  # not the list's last sandwich
        for i in range(last + 1, min(last + 1 + _TEASER_LIST_SPAN, len(blocks))):
            feat = feats[i]
            if not feat.is_prose or feat.value <= 0:
                continue
            closes = not any(f.is_prose and not f.is_teaser for f in feats[i + 1 : i + 1 + _TEASER_LIST_SPAN])
            if (closes and blocks[i].chars <= _TEASER_MAX_CHARS
                    and _neighbour_is_headline(blocks, feats, i, -1, title_index)):  # fmt: skip
                feat.is_teaser = True
                feat.value *= _TEASER_DISCOUNT
            break


def boost_after_title(blocks: list[Block], feats: list[BlockFeatures], title_index: int) -> list[float]:
    """Block values with the prose right after the headline counted double.

    The article follows its headline; teaser lists elsewhere on the page can hold more
    punctuated text than a short article, but not right under the ``<h1>``.
    """
    values = [f.value for f in feats]
    if title_index < 0:
        return values
    link_chars = 0
    for i in range(title_index + 1, len(blocks)):
        if feats[i].line_kind not in (None, NAV):
            break
        if blocks[i].link_density > 0.5:
            link_chars += blocks[i].link_chars
            if link_chars > _TITLE_RUN_LINK_CHARS:
                break
        elif feats[i].is_prose and not feats[i].is_teaser and values[i] > 0:
            values[i] *= _TITLE_RUN_BOOST
    return values


def _hint(el: etree._Element) -> int:
    """-1 for names that mean boilerplate, +1 for names that mean content, 0 for both or neither."""
    if el.tag in _NEGATIVE_ELEMENTS:
        return -1
    names = f"{el.get('class', '')} {el.get('id', '')}"
    if len(names) <= 1:
        return 0
    return _name_hint(names)


@functools.lru_cache(maxsize=4096)
def _name_hint(names: str) -> int:
    """``_hint`` of a ``class`` + ``id`` string: pages repeat a few names on many elements."""
    words = _CAMEL_RE.sub(" ", names).lower()
    return int(_POSITIVE_RE.search(words) is not None) - int(_NEGATIVE_RE.search(words) is not None)


def choose_container(
    root: etree._Element, blocks: list[Block], values: list[float], *, title_index: int = -1, names: bool = True
) -> etree._Element | None:
    """The element whose blocks add up to the most article-like text, or ``None``.

    Prose under a boilerplate-named element (comments, sidebars) counts against every element
    above it, and nothing inside such an element can be chosen. Elements around the headline
    are exempt: a page wrapper named ``has-sidebar`` still holds the article. ``names=False``
    reads no class or id at all: for a page whose article sits in an element named for
    something else (``js_img_share_area``).
    """
    around_title: set[etree._Element] = set()
    if 0 <= title_index < len(blocks):
        owner = blocks[title_index].owner
        around_title = {owner, *owner.iterancestors()}
    totals: dict[etree._Element, float] = {}
    positives: dict[etree._Element, float] = {}
    hints: dict[etree._Element, int] = {}
    excluded: set[etree._Element] = set()
    for block, value in zip(blocks, values, strict=True):
        chain = [block.owner, *block.owner.iterancestors()]
        negative_at = -1
        for depth, el in enumerate(chain):
            hint = hints.get(el)
            if hint is None:
                named = names and el.tag not in _NEVER_NEGATIVE and el not in around_title
                hint = hints[el] = _hint(el) if named else 0
            if hint < 0 and negative_at < 0:
                negative_at = depth
        if negative_at >= 0:
            excluded.update(chain[:negative_at])
        for depth, el in enumerate(chain):
            adjusted = value
            if 0 <= negative_at <= depth and value > 0:
                adjusted = -0.3 * value
            totals[el] = totals.get(el, 0.0) + adjusted
            if adjusted > 0:
                positives[el] = positives.get(el, 0.0) + adjusted
    best: etree._Element | None = None
    best_score = 0.0
    for el, total in totals.items():
        if el.tag in _UNCHOOSABLE or el in excluded or hints[el] < 0:
            continue
        score = total * (1.1 if hints[el] > 0 else 1.0)
        if score > best_score:
            best, best_score = el, score
    if best is None:
        return root
    return _narrow(best, positives, lambda el: el.tag not in _UNCHOOSABLE and el not in excluded and hints[el] >= 0)


def _narrow(
    best: etree._Element, positives: dict[etree._Element, float], choosable: Callable[[etree._Element], bool]
) -> etree._Element:
    """Step down into the child that holds nearly all of the container's prose.

    A container found by summing often wraps the article header (dek, date, byline) or a tail
    of widgets; when one child holds almost all the prose, that child is the body proper.
    """
    while True:
        total = positives.get(best, 0.0)
        if total <= 0:
            return best
        child = max(
            (el for el in best if isinstance(el.tag, str) and el in positives), key=positives.__getitem__, default=None
        )
        if child is None or positives[child] < NARROW_SHARE * total or not choosable(child):
            return best
        best = child
