"""Loading and validating the corpus the demo world is built from.

Corpus files are written by hand, so every problem is reported with the file,
the entry and the key at fault rather than surfacing later as a rendering crash.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from .articles import BENDI_CATEGORIES, ORIGINS, WECHAT_ACCOUNTS, Article
from .seed_page import PACKAGE_CORPUS_DIR, load_seed_page, seed_article

SLUG_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
REQUIRED_KEYS: Final = ("slug", "origin", "title", "authors", "published", "tags", "summary", "paragraphs")


class CorpusError(ValueError):
    """A corpus file is unreadable or an entry breaks the schema."""


class _EntryReader:
    """Typed access to one JSON entry that names the file, entry and key on failure."""

    def __init__(self, file_name: str, index: int, raw: object) -> None:
        self.where = f"{file_name}[{index}]"
        if not isinstance(raw, dict):
            raise CorpusError(f"{self.where}: expected a JSON object, got {type(raw).__name__}")
        self.raw: dict[str, Any] = raw
        slug = raw.get("slug")
        if isinstance(slug, str):
            self.where = f"{file_name}[{index}] (slug {slug!r})"

    def fail(self, key: str, problem: str) -> CorpusError:
        return CorpusError(f"{self.where}: key {key!r}: {problem}")

    def text(self, key: str) -> str:
        if key not in self.raw:
            raise self.fail(key, "missing")
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r:.60}")
        return value.strip()

    def text_list(self, key: str, *, required: bool = True, non_empty: bool = False) -> tuple[str, ...]:
        if key not in self.raw:
            if required:
                raise self.fail(key, "missing")
            return ()
        value = self.raw[key]
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(key, "expected a list of non-empty strings")
        if non_empty and not value:
            raise self.fail(key, "expected at least one entry")
        return tuple(item.strip() for item in value)

    def published(self) -> datetime:
        value = self.text("published")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise self.fail("published", f"not ISO 8601: {value!r}") from error
        if moment.tzinfo is None:
            raise self.fail("published", f"needs a UTC offset such as +08:00: {value!r}")
        return moment

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value


def parse_entry(file_name: str, index: int, raw: object) -> Article:
    """Validate one corpus entry and turn it into an Article."""
    reader = _EntryReader(file_name, index, raw)
    slug = reader.text("slug")
    if not slug.isascii() or not SLUG_PATTERN.fullmatch(slug):
        raise reader.fail("slug", f"must be ASCII letters, digits, '.', '_' or '-': {slug!r}")
    origin = reader.choice("origin", ORIGINS)
    return Article(
        slug=slug,
        origin=origin,
        title=reader.text("title"),
        authors=reader.text_list("authors"),
        published=reader.published(),
        tags=reader.text_list("tags"),
        summary=reader.text("summary"),
        paragraphs=reader.text_list("paragraphs", non_empty=True),
        account=reader.choice("account", WECHAT_ACCOUNTS) if origin == "wechat" else None,
        category=reader.choice("category", BENDI_CATEGORIES) if origin == "bendi" else None,
        references=reader.text_list("references", required=False),
    )


def parse_corpus_file(path: Path) -> list[Article]:
    """Read one corpus file: a JSON array of article objects."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorpusError(f"{path.name}: cannot read JSON: {error}") from error
    if not isinstance(data, list):
        raise CorpusError(f"{path.name}: expected a JSON array of articles, got {type(data).__name__}")
    return [parse_entry(path.name, index, raw) for index, raw in enumerate(data)]


def load_corpus(corpus_dir: Path | None = None) -> tuple[Article, ...]:
    """All articles of `corpus_dir/*.json` (file-name order) followed by the seed article."""
    directory = Path(corpus_dir) if corpus_dir is not None else PACKAGE_CORPUS_DIR
    if not directory.is_dir():
        raise CorpusError(f"corpus directory not found: {directory}")
    articles: list[Article] = []
    slug_owner: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        for article in parse_corpus_file(path):
            if article.slug in slug_owner:
                raise CorpusError(
                    f"{path.name}: key 'slug': {article.slug!r} already used in {slug_owner[article.slug]}"
                )
            slug_owner[article.slug] = path.name
            articles.append(article)
    seed = seed_article(load_seed_page(directory))
    if seed.slug in slug_owner:
        raise CorpusError(f"{slug_owner[seed.slug]}: key 'slug': {seed.slug!r} is reserved for the seed page")
    articles.append(seed)
    return tuple(articles)
