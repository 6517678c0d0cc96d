"""The story record every demo site renders from, and the vocabularies it allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .blocks import Block, to_blocks

ORIGINS: Final = ("infoq", "wechat", "bendi")
WECHAT_ACCOUNTS: Final = ("硅谷观察笔记", "财经深一度", "科学小站")
BENDI_CATEGORIES: Final = ("本地", "社会", "生活", "文体")


@dataclass(frozen=True)
class Article:
    """One corpus story as its author published it, before any site dresses it up."""

    slug: str
    origin: str
    title: str
    authors: tuple[str, ...]
    published: datetime
    tags: tuple[str, ...]
    summary: str
    paragraphs: tuple[str, ...]
    account: str | None = None
    category: str | None = None
    references: tuple[str, ...] = ()
    recommended_titles: tuple[str, ...] = ()

    @property
    def blocks(self) -> tuple[Block, ...]:
        """Paragraphs classified into body text, subheadings and list items."""
        return to_blocks(self.paragraphs)
