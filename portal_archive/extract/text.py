"""Character-level measures of a block's text: punctuation, script, sentence shape.

Chinese prose carries a comma or full stop every dozen characters; titles, menus and lists of
headlines carry almost none. These counts are the cheapest signal that separates them, and they
work without any word segmentation.
"""

from __future__ import annotations

import re
from typing import Final

_PUNCT_RE: Final = re.compile(r"[，。！？；：、,.!?;:]")
_SENTENCE_END_RE: Final = re.compile(r"[。！？!?]|\.(?:\s|$|[\"'”’)])")
_CJK_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_ALNUM_RE: Final = re.compile(r"[\W_]+")
_STRIP_DECORATION_RE: Final = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_BADGE_CHARS: Final = 4
"""A label shown with a headline ("原创", "独家", "视频"), at most this long, without digits."""


def punctuation_count(text: str) -> int:
    """Commas, stops, colons and their full-width forms."""
    return len(_PUNCT_RE.findall(text))


def sentence_end_count(text: str) -> int:
    """Full stops, question and exclamation marks that end a sentence."""
    return len(_SENTENCE_END_RE.findall(text))


def cjk_count(text: str) -> int:
    """Han ideographs."""
    return len(_CJK_RE.findall(text))


def strip_decoration(text: str) -> str:
    """Drop leading and trailing symbols (``【】▌■·>:`` …) around a short label."""
    return _STRIP_DECORATION_RE.sub("", text)


def squeeze(text: str) -> str:
    """Text without spaces or punctuation, for comparing titles that were re-spaced."""
    return _NOT_ALNUM_RE.sub("", text).lower()


def shows_title(text_key: str, title_key: str, *, heading: bool) -> bool:
    """Whether a block's squeezed text is the page's squeezed title: the same, or, in a heading, with a
    short badge (a paragraph that adds words to the title, "（原标题：…）", says something of its own)."""
    if not title_key:
        return False
    extra = len(text_key) - len(title_key)
    if extra == 0:
        return text_key == title_key
    if not heading or not 0 < extra <= _BADGE_CHARS:
        return False
    if text_key.startswith(title_key):
        badge = text_key[len(title_key) :]
    elif text_key.endswith(title_key):
        badge = text_key[:extra]
    else:
        return False
    return not any(char.isdigit() for char in badge)  # "第1页": a page of the story, not a label
