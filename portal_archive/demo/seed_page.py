"""The real Bendi News page the demo is modelled on, parsed into its parts.

The page is kept verbatim as text so the aggregator copy of its story can reproduce
the original layout (byline, references, InfoQ's recommendation tail, disclaimer)
instead of an invented one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from .articles import Article

SEED_PAGE_NAME: Final = "seed_bendi_page.txt"
PACKAGE_CORPUS_DIR: Final = Path(__file__).resolve().parent / "corpus"

SEED_SLUG: Final = "stability-ai-crisis"
SEED_PUBLISHED: Final = datetime.fromisoformat("2024-04-01T10:30:00+08:00")
SEED_TAGS: Final = ("AI", "创业")

BYLINE_PREFIX: Final = "整理 |"
REFERENCES_MARKER: Final = "参考链接:"
RECOMMENDATIONS_MARKER: Final = "今日好文推荐"
FOLLOW_MARKER: Final = "微信扫码关注该文公众号作者"
SOURCE_PREFIX: Final = "来源:"
RELATED_MARKER: Final = "相关新闻"
DISCLAIMER_PREFIX: Final = "Bendi.news刊载"
SUMMARY_MAX_CHARS: Final = 120


class SeedPageError(ValueError):
    """The seed page text lost a landmark the parser relies on."""


@dataclass(frozen=True)
class SeedPage:
    """The landmarks of the seed page, in page order."""

    title: str
    relative_date: str
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]
    references: tuple[str, ...]
    recommended_titles: tuple[str, ...]
    source: str
    related_run: str
    footer_line: str
    disclaimer: str


def seed_page_path(corpus_dir: Path | None = None) -> Path:
    """Prefer a seed page next to the given corpus, else the packaged copy."""
    if corpus_dir is not None and (corpus_dir / SEED_PAGE_NAME).is_file():
        return corpus_dir / SEED_PAGE_NAME
    return PACKAGE_CORPUS_DIR / SEED_PAGE_NAME


def load_seed_page(corpus_dir: Path | None = None) -> SeedPage:
    """Read and parse the seed page that belongs to a corpus."""
    path = seed_page_path(corpus_dir)
    try:
        return parse_seed_page(path.read_text(encoding="utf-8"))
    except SeedPageError as error:
        raise SeedPageError(f"{path.name}: {error}") from error


def _index_of(lines: list[str], predicate_text: str, start: int, *, prefix: bool = False) -> int:
    for index in range(start, len(lines)):
        line = lines[index]
        if (prefix and line.startswith(predicate_text)) or (not prefix and line == predicate_text):
            return index
    raise SeedPageError(f"landmark {predicate_text!r} not found after line {start + 1}")


def _non_empty(lines: list[str]) -> list[str]:
    return [line for line in lines if line]


def parse_seed_page(text: str) -> SeedPage:
    """Split the page text at its visible landmarks ("整理 |", "参考链接:", ...)."""
    lines = [line.strip() for line in text.splitlines()]
    breadcrumb_end = _index_of(lines, ">", 0)
    header = _non_empty(lines[breadcrumb_end + 1 :])
    if len(header) < 3:
        raise SeedPageError("title and date lines missing after the breadcrumb")
    title, relative_date = header[0], header[2]
    byline_at = _index_of(lines, BYLINE_PREFIX, breadcrumb_end, prefix=True)
    authors = tuple(name.strip() for name in lines[byline_at][len(BYLINE_PREFIX) :].split("、") if name.strip())
    references_at = _index_of(lines, REFERENCES_MARKER, byline_at)
    recommendations_at = _index_of(lines, RECOMMENDATIONS_MARKER, references_at)
    follow_at = _index_of(lines, FOLLOW_MARKER, recommendations_at)
    source_at = _index_of(lines, SOURCE_PREFIX, follow_at, prefix=True)
    related_at = _index_of(lines, RELATED_MARKER, source_at)
    footer_at = _index_of(lines, "联系我们", related_at, prefix=True)
    disclaimer_at = _index_of(lines, DISCLAIMER_PREFIX, footer_at, prefix=True)
    paragraphs = tuple(_non_empty(lines[byline_at + 1 : references_at]))
    references = tuple(_non_empty(lines[references_at + 1 : recommendations_at]))
    if not paragraphs or not all(url.startswith("http") for url in references):
        raise SeedPageError("body paragraphs or reference URLs are malformed")
    related = _non_empty(lines[related_at + 1 : footer_at])
    return SeedPage(
        title=title,
        relative_date=relative_date,
        authors=authors,
        paragraphs=paragraphs,
        references=references,
        recommended_titles=tuple(_non_empty(lines[recommendations_at + 1 : follow_at])),
        source=lines[source_at][len(SOURCE_PREFIX) :].strip(),
        related_run=related[0] if related else "",
        footer_line=lines[footer_at],
        disclaimer=lines[disclaimer_at],
    )


def _summary_from(paragraphs: tuple[str, ...]) -> str:
    for paragraph in paragraphs:
        if len(paragraph) > SUMMARY_MAX_CHARS // 2:
            return paragraph[:SUMMARY_MAX_CHARS]
    return paragraphs[0]


def seed_article(page: SeedPage) -> Article:
    """The InfoQ original behind the seed page, which is always syndicated."""
    return Article(
        slug=SEED_SLUG,
        origin="infoq",
        title=page.title,
        authors=page.authors,
        published=SEED_PUBLISHED,
        tags=SEED_TAGS,
        summary=_summary_from(page.paragraphs),
        paragraphs=page.paragraphs,
        references=page.references,
        recommended_titles=page.recommended_titles,
    )
