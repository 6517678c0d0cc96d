"""The crawl bench's generated portal is what its figures claim: 2-4 KB Chinese articles, all linked."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    sys.path.insert(0, str(BENCH))
    try:
        from sites.portal import build_site
    finally:
        sys.path.remove(str(BENCH))
    root = tmp_path_factory.mktemp("bench-site")
    return root, build_site(root, 300)


def test_articles_are_chinese_and_two_to_four_kilobytes(site: tuple[Path, object]) -> None:
    root, manifest = site
    articles = sorted(root.glob("news/*/*.html"))
    assert len(articles) == manifest.articles == 300  # type: ignore[attr-defined]
    for path in articles:
        data = path.read_bytes()
        assert 2000 <= len(data) <= 4500, (path, len(data))
        text = data.decode("utf-8")
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) >= 300, path


def test_every_page_is_reachable_from_the_home_page(site: tuple[Path, object]) -> None:
    root, manifest = site
    seen, todo = {"/index.html"}, ["/index.html"]
    while todo:
        page = (root / todo.pop().lstrip("/")).read_text("utf-8")
        for href in re.findall(r'href="(/[^"]*)"', page):
            target = "/index.html" if href == "/" else href
            if target not in seen and (root / target.lstrip("/")).is_file():
                seen.add(target)
                todo.append(target)
    html_pages = {"/" + str(p.relative_to(root)) for p in root.rglob("*.html")}
    assert seen == html_pages
    assert len(html_pages) + 1 == manifest.pages  # type: ignore[attr-defined]  # + robots.txt


def _shingles(path: Path, size: int = 5) -> set[str]:
    body = "".join(re.findall(r"<p>([^<]+)</p>", path.read_text("utf-8")))
    return {body[i : i + size] for i in range(len(body) - size + 1)}


def _jaccard(first: set[str], second: set[str]) -> float:
    return len(first & second) / len(first | second)


def test_planted_copies_are_near_copies_and_other_articles_are_not(site: tuple[Path, object]) -> None:
    """What the near-duplicate index should find in the crawl: the planted pairs, not chance overlaps."""
    root, manifest = site
    copies = manifest.copies  # type: ignore[attr-defined]
    assert len(copies) >= 20
    for copy_path, original_path in copies:
        copy, original = _shingles(root / copy_path.lstrip("/")), _shingles(root / original_path.lstrip("/"))
        assert _jaccard(copy, original) >= 0.6, (copy_path, original_path)
    planted = {frozenset(pair) for pair in copies}
    articles = sorted(root.glob("news/*/*.html"))[:40]
    for i, first in enumerate(articles):
        for second in articles[i + 1 :]:
            pair = frozenset("/" + str(p.relative_to(root)) for p in (first, second))
            if pair not in planted:
                assert _jaccard(_shingles(first), _shingles(second)) < 0.3, pair
