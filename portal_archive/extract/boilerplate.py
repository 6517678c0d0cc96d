"""Give every block a role: body, a labelled boilerplate kind, or a metadata line.

Inside the article container the order of blocks matters. A section header (相关新闻, 今日好文推荐,
参考链接 …) opens a section that takes in the headline-like blocks after it and closes at the
next prose paragraph; this is how InfoQ's recommendation tail is cut even though it sits inside
the article. Link lists and runs of headlines after the last paragraph are related links even
without a header. Outside the container only blocks with a clear sign (a header, a breadcrumb
separator, a copyright or disclaimer formula, a share prompt) are labelled; other page chrome is
simply not body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from portal_archive.extract.dates import DATE_LIKE_RE, RELATIVE_DATE_RE, date_text
from portal_archive.extract.dom import HEADING_TAGS, Block
from portal_archive.extract.lexicon import (
    BYLINE_RE,
    CAPTION_CREDIT_RE,
    COMMENTS_HEADER_RE,
    EDITOR_RE,
    ENGLISH_BYLINE_RE,
    ENGLISH_DATE_RE,
    FURNITURE_RE,
    INLINE_REFERENCE_RE,
    RECOMMEND_HEADER_RE,
    REFERENCES_HEADER_RE,
    RELATED_HEADER_RE,
    SOURCE_RE,
    URL_RE,
)
from portal_archive.extract.lines import COMMENTS, FOOTER, RECOMMENDATIONS, RELATED
from portal_archive.extract.scoring import BlockFeatures
from portal_archive.extract.text import shows_title, squeeze, strip_decoration

_HEADER_MAX_CHARS: Final = 24
_COMMENTS_HEADER_MAX_CHARS: Final = 40
PROSE_MIN_CHARS: Final = 25
"""A paragraph of the article, not a caption or a label."""
_ITEM_MAX_CHARS: Final = 100
_META_LINE_MAX_CHARS: Final = 80
_SHORT_LINE_MAX_CHARS: Final = 60
_MIN_LIST_LINKS: Final = 2
_DATE_LOOKBEHIND: Final = 8
_FIRST_PARAGRAPH_CHARS: Final = 150
_SHORT_TAIL_CHARS: Final = 20
_MAX_TRIMMED_TAIL: Final = 4
_CAPTION_DEPTH: Final = 4
_CAPTION_MAX_CHARS: Final = 200
_CAPTION_TAGS: Final = frozenset({"figure", "figcaption"})
_CAPTION_WORDS: Final = ("caption", "credit", "gallery", "slideshow", "lightbox")


class Role(StrEnum):
    """What a block is for."""

    BODY = "body"
    BOILERPLATE = "boilerplate"
    BYLINE = "byline"
    EDITOR = "editor"
    SOURCE = "source"
    REFERENCE = "reference"
    DATE = "date"
    TITLE = "title"
    DROPPED = "dropped"
    OUTSIDE = "outside"


@dataclass(slots=True)
class Label:
    """A block's role, its boilerplate kind, and the value a metadata line carries."""

    role: Role
    kind: str = ""
    value: str = ""
    section: int = -1
    """Blocks of one boilerplate section share this number, so they become one labelled block."""


def _header_kind(block: Block) -> str | None:
    """The section a short header opens: a boilerplate kind, ``"references"``, or ``None``."""
    if block.chars > _HEADER_MAX_CHARS * (2 if block.text.isascii() else 1):
        return None
    label = strip_decoration(block.words)
    if not label:
        return None
    if REFERENCES_HEADER_RE.match(label):
        return "references"
    if RECOMMEND_HEADER_RE.match(label):
        return RECOMMENDATIONS
    if RELATED_HEADER_RE.match(label):
        return RELATED
    return None


def _is_item(block: Block, feats: BlockFeatures, title_key: str) -> bool:
    """Headline-shaped: what the entries of a link list or recommendation list look like."""
    if block.tag in HEADING_TAGS and block.link_density <= 0.5:
        return False  # the next heading starts something else
    if shows_title(squeeze(block.text), title_key, heading=False):
        return False
    if block.link_density > 0.5 or feats.is_title_run:
        return True
    text = block.text
    if block.chars > _ITEM_MAX_CHARS:
        # Under a list header, a long block without the full stops of prose is the list itself,
        # its headlines run together.
        return feats.cjk * 2 >= block.chars and "。" not in text[-12:] and text.count("。") <= block.chars / 150
    if "。" in text:
        return False
    return not (feats.sentence_ends >= 2 and block.chars > _SHORT_LINE_MAX_CHARS)


def _meta_line(block: Block, title_key: str) -> Label | None:
    """Title repeats, bylines, editor credits, source and date lines."""
    text = block.text
    if block.chars > _META_LINE_MAX_CHARS:
        return None
    if shows_title(squeeze(text), title_key, heading=block.tag in HEADING_TAGS):
        return Label(Role.TITLE)
    words = block.words  # matched in simplified script; values are cut from the text as shown
    if match := BYLINE_RE.match(words):
        return Label(Role.BYLINE, value=text[match.start(1) : match.end(1)])
    if match := ENGLISH_BYLINE_RE.match(text):
        return Label(Role.BYLINE, value=match.group(1))
    if EDITOR_RE.match(words):
        return Label(Role.EDITOR)
    if match := SOURCE_RE.match(words):
        return Label(Role.SOURCE, value=text[match.start(1) : match.end(1)])
    if match := INLINE_REFERENCE_RE.match(text):
        return Label(Role.REFERENCE, value=match.group(1))
    if RELATIVE_DATE_RE.match(text):
        return Label(Role.DATE, value=text)
    return None


def _is_caption(block: Block) -> bool:
    """Inside a ``<figure>``, ``<figcaption>`` or an element named caption, credit or gallery."""
    for depth, el in enumerate((block.owner, *block.owner.iterancestors())):
        if depth > _CAPTION_DEPTH:
            return False
        if el.tag in _CAPTION_TAGS:
            return True
        names = f"{el.get('class', '')} {el.get('id', '')}".lower()
        if any(word in names for word in _CAPTION_WORDS):
            return True
    return False


def _ends_in_credit(block: Block) -> bool:
    """A short line that ends in a picture credit is a caption, not a paragraph."""
    return block.chars <= _CAPTION_MAX_CHARS and CAPTION_CREDIT_RE.search(block.text) is not None


def _reference_of(block: Block) -> str | None:
    """The URL a line under 参考链接 cites: its bare text, or its one outside link."""
    if match := URL_RE.match(block.text):
        return match.group(1)
    if block.link_density > 0.8 and len(block.links) == 1 and block.links[0][1].startswith(("http:", "https:")):
        return block.links[0][1]
    return None


class _Labeller:
    """One pass over the blocks, remembering the open section."""

    def __init__(self, blocks: list[Block], feats: list[BlockFeatures], title: str, *, captions: bool) -> None:
        self.blocks = blocks
        self.captions = captions
        self.feats = feats
        self.title_key = squeeze(title) if len(squeeze(title)) >= 4 else ""
        self.labels = [Label(Role.OUTSIDE) for _ in blocks]
        self.sections = 0
        self.trim_tail = True
        self.last_sentence = -1

    def _new_section(self) -> int:
        self.sections += 1
        return self.sections

    def inside(self, start: int, end: int) -> None:
        """Label the container's blocks ``start``..``end - 1``."""
        blocks, feats, labels = self.blocks, self.feats, self.labels
        comments = self._comments_from(start, end)
        if comments < end:  # readers' comments run to the container's end: none of it is the article
            section = self._new_section()
            for i in range(comments, end):
                labels[i] = Label(Role.BOILERPLATE, kind=COMMENTS, section=section)
            end = comments
        prose = [
            i for i in range(start, end)
            if feats[i].is_prose and not feats[i].is_teaser and blocks[i].chars >= PROSE_MIN_CHARS
        ]  # fmt: skip
        last_prose = prose[-1] if prose else start - 1
        # The article header (dek, date, byline) ends where the first real paragraph starts.
        long_prose = [i for i in prose if blocks[i].chars >= _FIRST_PARAGRAPH_CHARS]
        first_prose = min(long_prose[0] if long_prose else end, prose[2] if len(prose) > 2 else end)
        # A few short lines after the last paragraph are leftovers ("(完)", "返回"); many are a list.
        short_tail = sum(1 for i in range(last_prose + 1, end) if self._is_short_line(i))
        self.trim_tail = short_tail <= _MAX_TRIMMED_TAIL
        # Short lines are trimmed only after the last sentence: a line broken mid-sentence is the article.
        self.last_sentence = max(
            (i for i in range(start, end) if feats[i].is_prose and feats[i].sentence_ends), default=start - 1
        )
        open_kind: str | None = None
        section = -1
        for i in range(start, end):
            block, feat = blocks[i], feats[i]
            header = _header_kind(block)
            if header is not None:
                open_kind, section = header, self._new_section()
                role = Role.DROPPED if header == "references" else Role.BOILERPLATE
                labels[i] = Label(role, kind="" if header == "references" else header, section=section)
                continue
            if open_kind == "references":
                if (url := _reference_of(block)) is not None:
                    labels[i] = Label(Role.REFERENCE, value=url)
                    continue
                open_kind = None
            elif open_kind is not None:
                kind = feat.line_kind
                if kind is None and _is_item(block, feat, self.title_key):
                    labels[i] = Label(Role.BOILERPLATE, kind=open_kind, section=section)
                    continue
                open_kind = None
            labels[i] = self._single(i, first_prose, last_prose)

    def _comments_from(self, start: int, end: int) -> int:
        """Where a comment section opens after the article's first paragraph (``end``: none does)."""
        seen_prose = False
        for i in range(start, end):
            block, feat = self.blocks[i], self.feats[i]
            short = block.chars <= _COMMENTS_HEADER_MAX_CHARS and "。" not in block.text
            if seen_prose and short and COMMENTS_HEADER_RE.search(block.words):
                return i
            seen_prose = seen_prose or (feat.is_prose and block.chars >= PROSE_MIN_CHARS)
        return end

    def _is_short_line(self, i: int) -> bool:
        """A label-sized line without punctuation that is not a subheading."""
        block = self.blocks[i]
        return not self.feats[i].is_prose and block.chars <= _SHORT_TAIL_CHARS and block.tag not in HEADING_TAGS

    def _single(self, i: int, first_prose: int, last_prose: int) -> Label:
        """The role of a container block outside any section, from its own words and position."""
        block, feat = self.blocks[i], self.feats[i]
        meta = _meta_line(block, self.title_key)
        if meta is not None:
            return meta
        kind = feat.line_kind
        if kind is not None:
            return Label(Role.BOILERPLATE, kind=kind, section=self._section_for(i, kind))
        if feat.is_teaser:
            if i > last_prose:
                return Label(Role.BOILERPLATE, kind=RELATED, section=self._section_for(i, RELATED))
            return Label(Role.DROPPED)
        if feat.is_title_run or (
            block.link_density > 0.5 and len(block.links) >= _MIN_LIST_LINKS and block.link_chars >= 12
        ):
            if i > last_prose:
                return Label(Role.BOILERPLATE, kind=RELATED, section=self._section_for(i, RELATED))
            return Label(Role.DROPPED)
        if first_prose < i < last_prose and URL_RE.match(block.text):
            return Label(Role.BODY)  # a bare link cited inside the article
        furniture = FURNITURE_RE.match(block.words) is not None
        caption = not self.captions and (_is_caption(block) or _ends_in_credit(block))
        if block.link_density > 0.5 or caption or furniture:
            return Label(Role.DROPPED)
        is_sentence = "。" in block.text or feat.sentence_ends > 1
        if (
            i < first_prose
            and block.chars <= _META_LINE_MAX_CHARS
            and not is_sentence
            and (DATE_LIKE_RE.search(block.text) or ENGLISH_DATE_RE.search(block.text))
        ):
            return Label(Role.DATE, value=date_text(block.text))
        if i > max(last_prose, self.last_sentence) and self.trim_tail and self._is_short_line(i):
            return Label(Role.DROPPED)
        return Label(Role.BODY)

    def _section_for(self, i: int, kind: str) -> int:
        """Continue the previous block's section when it has the same kind, else open one."""
        if i > 0:
            previous = self.labels[i - 1]
            if previous.role is Role.BOILERPLATE and previous.kind == kind:
                return previous.section
        return self._new_section()

    def outside(self, indexes: range, *, dates_from: int = -1) -> None:
        """Label page chrome around the container: only what clearly announces itself.

        Date lines are only read from ``dates_from`` on: between the headline and the body,
        not in a list of other stories.
        """
        blocks, feats, labels = self.blocks, self.feats, self.labels
        open_kind: str | None = None
        section = -1
        for i in indexes:
            block = blocks[i]
            header = _header_kind(block)
            if header is not None and header != "references":
                open_kind, section = header, self._new_section()
                labels[i] = Label(Role.BOILERPLATE, kind=header, section=section)
                continue
            if open_kind is not None and feats[i].line_kind is None and _is_item(block, feats[i], self.title_key):
                labels[i] = Label(Role.BOILERPLATE, kind=open_kind, section=section)
                continue
            open_kind = None
            meta = _meta_line(block, self.title_key)
            if meta is not None and meta.role in (Role.SOURCE, Role.BYLINE, Role.DATE):
                labels[i] = Label(Role.OUTSIDE, value=meta.value, kind=meta.role.value)
                continue
            if 0 <= dates_from <= i and block.chars <= _META_LINE_MAX_CHARS and DATE_LIKE_RE.search(block.text):
                labels[i] = Label(Role.OUTSIDE, value=date_text(block.text), kind=Role.DATE.value)
                continue
            kind = feats[i].line_kind
            if kind is None and i > 0 and labels[i - 1].kind == FOOTER and block.chars <= 40:
                kind = FOOTER
            if kind is not None:
                labels[i] = Label(Role.BOILERPLATE, kind=kind, section=self._section_for(i, kind))


def label_blocks(
    blocks: list[Block], feats: list[BlockFeatures], start: int, end: int, *, title: str, captions: bool = False
) -> list[Label]:
    """Roles for every block, given the container's block range ``start``..``end - 1``.

    ``captions``: keep pictures' captions as body (a gallery, whose captions are all the text it has).
    """
    labeller = _Labeller(blocks, feats, title, captions=captions)
    labeller.outside(range(0, start), dates_from=max(0, start - _DATE_LOOKBEHIND))
    labeller.inside(start, end)
    labeller.outside(range(end, len(blocks)))
    return labeller.labels
