"""How the aggregator alters the originals it republishes.

Near-duplicate detection is only tested honestly if copies differ the way real
republications do: a reworded headline, a dropped or touched-up sentence, an added
byline or recommendation tail, or a truncated excerpt. Every choice comes from the
RNG handed in, so a seed fixes the whole outcome.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Final, Literal

from .articles import Article
from .blocks import Block, split_sentences

CopyRelation = Literal["copy", "excerpt"]

TITLE_EDIT_PROBABILITY: Final = 0.5
TITLE_PREFIXES: Final = ("刚刚，", "突发！", "深度｜", "独家｜")
TITLE_SUFFIXES: Final = ("（附全文）", "｜深度好文", "，值得一读", "！")
CLAUSE_SEPARATORS: Final = ("：", ":", "｜", "|", "，", ",")
_CJK_ASCII_SPACE: Final = re.compile(r"(?<=[\u4e00-\u9fff]) +(?=[0-9A-Za-z])|(?<=[0-9A-Za-z%]) +(?=[\u4e00-\u9fff])")
SENTENCE_REWRITES: Final = (
    ("表示", "称"),
    ("目前", "当前"),
    ("近日", "日前"),
    ("已经", "已"),
    ("但是", "不过"),
    ("因此", "所以"),
    ("非常", "十分"),
    ("可以", "能够"),
    ("进行", "开展"),
    ("公司", "企业"),
)
SENTENCE_LEAD_IN: Final = "据悉，"
EXCERPT_SHARE: Final = (0.45, 0.75)
INFOQ_BYLINE_PREFIX: Final = "整理 | "
INFOQ_RECOMMENDATIONS_HEADING: Final = "今日好文推荐"
INFOQ_RECOMMENDATION_COUNT: Final = 4
WECHAT_RECOMMENDATIONS_HEADING: Final = "推荐阅读"
WECHAT_RECOMMENDATION_COUNT: Final = 3
WECHAT_EXTRA_PROBABILITY: Final = 0.5


@dataclass(frozen=True)
class CopyPlan:
    """The aggregator version of one original, and the list of edits that produced it."""

    relation: CopyRelation
    title: str
    blocks: tuple[Block, ...]
    byline: str | None
    attribution: str | None
    recommendations_heading: str | None
    recommendations: tuple[str, ...]
    edits: tuple[str, ...]


def _swap_clauses(title: str) -> str | None:
    for separator in CLAUSE_SEPARATORS:
        head, found, tail = title.partition(separator)
        if found and head.strip() and tail.strip():
            return f"{tail.strip()}{separator}{head.strip()}"
    return None


def edit_title(title: str, rng: random.Random) -> tuple[str, str | None]:
    """Maybe reword a headline; returns the shown title and the edit name (None if untouched)."""
    if rng.random() >= TITLE_EDIT_PROBABILITY:
        return title, None
    candidates: list[tuple[str, str]] = [
        ("title-prefix", rng.choice(TITLE_PREFIXES) + title),
        ("title-suffix", title + rng.choice(TITLE_SUFFIXES)),
        ("title-prefix", "重磅！" + title),
    ]
    swapped = _swap_clauses(title)
    if swapped is not None and swapped != title:
        candidates.append(("title-swap", swapped))
    despaced = _CJK_ASCII_SPACE.sub("", title)
    if despaced != title:
        candidates.append(("title-despace", despaced))
    name, shown = rng.choice(candidates)
    return shown, name


def _sentence_slots(blocks: list[Block], minimum: int) -> list[tuple[int, int]]:
    """(block index, sentence index) of every sentence in paragraphs with at least `minimum` sentences."""
    slots: list[tuple[int, int]] = []
    for block_index, block in enumerate(blocks):
        if block.kind != "paragraph":
            continue
        sentences = split_sentences(block.text)
        if len(sentences) >= minimum:
            slots.extend((block_index, sentence_index) for sentence_index in range(len(sentences)))
    return slots


def drop_sentence(blocks: list[Block], rng: random.Random) -> bool:
    """Remove one sentence from a paragraph that keeps at least one other; False if none qualifies."""
    slots = _sentence_slots(blocks, minimum=2)
    if not slots:
        return False
    block_index, sentence_index = rng.choice(slots)
    sentences = split_sentences(blocks[block_index].text)
    del sentences[sentence_index]
    blocks[block_index] = Block("paragraph", "".join(sentences))
    return True


def rewrite_sentence(sentence: str) -> str:
    """A copy editor's touch: swap in a synonym, or add a lead-in when none applies."""
    for original, replacement in SENTENCE_REWRITES:
        if original in sentence:
            return sentence.replace(original, replacement, 1)
    return SENTENCE_LEAD_IN + sentence


def edit_sentence(blocks: list[Block], rng: random.Random) -> bool:
    """Rewrite one sentence in place; False if the body has no prose paragraph."""
    slots = _sentence_slots(blocks, minimum=1)
    if not slots:
        return False
    block_index, sentence_index = rng.choice(slots)
    sentences = split_sentences(blocks[block_index].text)
    sentences[sentence_index] = rewrite_sentence(sentences[sentence_index])
    blocks[block_index] = Block("paragraph", "".join(sentences))
    return True


def excerpt_blocks(blocks: tuple[Block, ...], rng: random.Random) -> tuple[Block, ...]:
    """The first 45-75 % of the blocks, never ending on a dangling subheading."""
    share = rng.uniform(*EXCERPT_SHARE)
    kept = list(blocks[: max(1, round(len(blocks) * share))])
    while len(kept) > 1 and kept[-1].kind == "heading":
        kept.pop()
    return tuple(kept)


def _tail_for(
    article: Article, rng: random.Random, recommendation_pool: tuple[str, ...]
) -> tuple[str | None, str | None, str | None, tuple[str, ...], list[str]]:
    """Byline, attribution and recommendation list the aggregator adds for this origin."""
    edits: list[str] = []
    byline = attribution = heading = None
    recommendations: tuple[str, ...] = ()
    if article.origin == "infoq":
        if article.authors:
            byline = INFOQ_BYLINE_PREFIX + "、".join(article.authors)
            edits.append("byline")
        heading = INFOQ_RECOMMENDATIONS_HEADING
        recommendations = article.recommended_titles or tuple(
            rng.sample(recommendation_pool, min(INFOQ_RECOMMENDATION_COUNT, len(recommendation_pool)))
        )
        edits.append("recommendations")
    else:
        if rng.random() < WECHAT_EXTRA_PROBABILITY:
            author = f"，作者{'、'.join(article.authors)}" if article.authors else ""
            attribution = f"以下文章来源于{article.account}{author}"
            edits.append("attribution")
        if recommendation_pool and rng.random() < WECHAT_EXTRA_PROBABILITY:
            heading = WECHAT_RECOMMENDATIONS_HEADING
            count = min(WECHAT_RECOMMENDATION_COUNT, len(recommendation_pool))
            recommendations = tuple(rng.sample(recommendation_pool, count))
            edits.append("recommendations")
    return byline, attribution, heading, recommendations, edits


def plan_copy(
    article: Article,
    rng: random.Random,
    *,
    relation: CopyRelation,
    faithful: bool = False,
    recommendation_pool: tuple[str, ...] = (),
) -> CopyPlan:
    """Decide how the aggregator republishes `article`.

    `faithful` copies (the seed page) keep headline and body untouched; excerpts keep
    the opening share of the body. `recommendation_pool` holds titles the appended
    recommendation list may cite.
    """
    edits: list[str] = []
    title = article.title
    blocks = article.blocks
    if not faithful:
        title, title_edit = edit_title(article.title, rng)
        if title_edit is not None:
            edits.append(title_edit)
        if relation == "excerpt":
            blocks = excerpt_blocks(blocks, rng)
            edits.append("excerpt")
        editable = list(blocks)
        for _ in range(rng.randint(0, 2)):
            if drop_sentence(editable, rng):
                edits.append("drop-sentence")
        if rng.randint(0, 1) and edit_sentence(editable, rng):
            edits.append("edit-sentence")
        blocks = tuple(editable)
    byline, attribution, heading, recommendations, tail_edits = _tail_for(article, rng, recommendation_pool)
    return CopyPlan(
        relation=relation,
        title=title,
        blocks=blocks,
        byline=byline,
        attribution=attribution,
        recommendations_heading=heading,
        recommendations=recommendations,
        edits=tuple(edits + tail_edits),
    )
