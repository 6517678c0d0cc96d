"""Body structure: the corpus stores flat paragraphs, the sites need headings and lists.

The corpus marks subheadings only by being short and unpunctuated, and list items
(in the seed page) by a leading bullet, so both are recognised here, once, for all
three sites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

BlockKind = Literal["paragraph", "heading", "item"]

BULLET: Final = "•"
HEADING_MAX_CHARS: Final = 32
_SENTENCE_END: Final = "。！!；;：:，,…"
_SENTENCE = re.compile(r"[^。！？!?]+(?:[。！？!?]+[”’」』）)\"']*)?|[。！？!?]+")


@dataclass(frozen=True)
class Block:
    """One unit of an article body; `text` carries no bullet or markup."""

    kind: BlockKind
    text: str


def classify_paragraph(raw: str) -> Block:
    """Tell a subheading or list item from ordinary body text."""
    text = raw.strip()
    if text.startswith(BULLET):
        return Block("item", text[len(BULLET) :].strip())
    looks_like_heading = len(text) <= HEADING_MAX_CHARS and "。" not in text and text[-1:] not in _SENTENCE_END
    return Block("heading" if looks_like_heading else "paragraph", text)


def to_blocks(paragraphs: tuple[str, ...] | list[str]) -> tuple[Block, ...]:
    """Classify every paragraph of an article."""
    return tuple(classify_paragraph(paragraph) for paragraph in paragraphs)


def split_sentences(text: str) -> list[str]:
    """Split Chinese prose after 。！？ (keeping closing quotes with their sentence)."""
    return [piece for piece in _SENTENCE.findall(text) if piece.strip()]


def body_text(blocks: tuple[Block, ...]) -> str:
    """The plain text a reader sees, one block per line, as the manifest records it."""
    return "\n".join(block.text for block in blocks)
