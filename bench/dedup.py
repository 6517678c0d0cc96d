"""A syndication corpus for the near-duplicate bench: real news paragraphs, planted copies, exact truth.

Base documents (2,000-4,000 characters) are assembled from the paragraphs of real articles read
from ``--corpus`` (one article per ``.txt`` file, as in the sina2018 dev set, which never enters
this repository). About one in twenty is then republished the way aggregators do it: 0-3 header
lines (``整理 | X``, ``来源：InfoQ``, ``原标题：…``), footers (``相关阅读：`` and 3-8 headlines,
``责任编辑：…``), 0-25 % of sentences dropped, 0-13 % edited, and 12 % cut to a 45-85 % excerpt.

Truth is exact: every pair of documents is compared on its full set of 64-bit shingle hashes
(sparse ``X · Xᵀ`` by blocks of rows), and a pair is a copy when it satisfies the copy rule.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from portal_archive.dedup.normalize import prepare_text
from portal_archive.dedup.shingles import fmix64
from portal_archive.dedup.verify import CopyRule

_JUNK = re.compile(r"[{};<>]|function|var |\.css|window\.|document\.|http|新浪众测|下载客户端|SINA|sinaimg")
_SENTENCE = re.compile(r"[^。！？]*[。！？]+[”」』]?|[^。！？]+$")
PUBLISHERS = (("infoq.cn", "InfoQ"), ("36kr.com", "36氪"), ("thepaper.cn", "澎湃新闻"), ("xinhuanet.com", "新华社"))
AGGREGATORS = ("bendi.news", "sohu.com", "toutiao.com", "dy.163.com")
NAMES = ("凌敏", "核子可乐", "张三", "李四", "王五", "赵六", "褚杏娟", "罗燕珊")
EDIT_PAIRS = (
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
FILLER = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"


@dataclass(frozen=True, kw_only=True)
class BenchDocument:
    """One document of the corpus, with the facts the engine must find."""

    index: int
    url: str
    site: str
    title: str
    text: str
    published_at: str | None
    origin: int | None = None
    """Index of the document this one was planted from (None for a base document)."""
    kind: str = "base"
    """``base``, ``copy`` or ``excerpt``."""


@dataclass(kw_only=True)
class Corpus:
    """The documents and, once computed, the exact truth."""

    documents: list[BenchDocument]
    truth: set[tuple[int, int]] = field(default_factory=set)
    """Pairs (i < j) that satisfy the copy rule on exact shingle sets."""
    truth_seconds: float = 0.0


def read_articles(directory: Path) -> list[tuple[str, list[str]]]:
    """``(headline, paragraphs)`` of every ``.txt`` under ``directory``; markup and ad lines dropped."""
    articles = []
    for path in sorted(directory.rglob("*.txt")):
        lines = [
            line.strip(" \t\u3000\u00a0\ufeff")
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        ]
        paragraphs = [line for line in lines if len(line) >= 12 and not _JUNK.search(line)]
        if paragraphs:
            articles.append((path.stem, paragraphs))
    return articles


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE.findall(paragraph) if s.strip()]


def _edit(sentence: str, rng: random.Random) -> str:
    """Touch up one sentence the way re-editors do: a synonym, a lead-in, or a few characters."""
    for old, new in rng.sample(EDIT_PAIRS, len(EDIT_PAIRS)):
        if old in sentence and rng.random() < 0.5:
            return sentence.replace(old, new, 1)
    if rng.random() < 0.3:
        return "据悉，" + sentence
    chars = list(sentence)
    for _ in range(rng.randint(1, 3)):
        if len(chars) > 4:
            chars[rng.randrange(len(chars) - 1)] = rng.choice(FILLER)
    return "".join(chars)


def _republish(
    original: BenchDocument, index: int, rng: random.Random, headlines: Sequence[str], excerpt: bool
) -> tuple[str, str]:
    paragraphs = [_sentences(p) for p in original.text.split("\n")]
    total = sum(len(p) for p in paragraphs)
    drop = rng.uniform(0.0, 0.25)
    edit = rng.uniform(0.0, 0.13)
    kept_paragraphs = []
    for sentences in paragraphs:
        kept = []
        for sentence in sentences:
            if total > 3 and rng.random() < drop:
                continue
            kept.append(_edit(sentence, rng) if rng.random() < edit else sentence)
        if kept:
            kept_paragraphs.append("".join(kept))
    body = "\n".join(kept_paragraphs)
    if excerpt:
        share = rng.uniform(0.45, 0.85)
        cut = int(len(body) * share)
        stop = max(body.rfind("。", 0, cut), body.rfind("\n", 0, cut))
        body = body[: stop + 1 if stop > len(body) // 3 else cut]
    publisher = next((name for domain, name in PUBLISHERS if original.site == domain), "InfoQ")
    headers = [
        f"整理 | {rng.choice(NAMES)}、{rng.choice(NAMES)}",
        f"来源：{publisher}",
        f"原标题：{original.title}",
        f"本文转载自微信公众号“{publisher}”",
    ]
    rng.shuffle(headers)
    lines = headers[: rng.randint(0, 3)]
    lines.append(body)
    if rng.random() < 0.7:
        lines.append(rng.choice(("相关阅读：", "推荐阅读", "今日好文推荐", "相关新闻")))
        lines.extend(rng.sample(list(headlines), rng.randint(3, 8)))
    if rng.random() < 0.5:
        lines.append(f"责任编辑：{rng.choice(NAMES)}")
    title = original.title if rng.random() < 0.5 else f"{original.title}（附全文）"
    return title, "\n".join(lines)


def build_corpus(
    articles: Sequence[tuple[str, list[str]]], documents: int, *, copy_share: float = 0.05, seed: int = 20240401
) -> Corpus:
    """Assemble ``documents`` documents, ``copy_share`` of them planted copies (1-3 per original)."""
    rng = random.Random(seed)
    headlines = [title for title, _ in articles]
    target_copies = int(documents * copy_share)
    base_count = documents - target_copies
    docs: list[BenchDocument] = []
    start = datetime(2024, 4, 1, tzinfo=UTC)

    def paragraph_stream() -> Iterator[tuple[str, str]]:
        # First pass: whole articles in random order. Later passes (more documents than the
        # articles can fill) shuffle single sentences into new paragraphs, so that no two base
        # documents share an article or a long paragraph: they would be copies nobody planted.
        order = list(range(len(articles)))
        rng.shuffle(order)
        for position in order:
            title, paragraphs = articles[position]
            for paragraph in paragraphs:
                yield title, paragraph
        pool = [(title, sentence) for title, paragraphs in articles for p in paragraphs for sentence in _sentences(p)]
        while True:
            rng.shuffle(pool)
            for start in range(0, len(pool) - 4, 4):
                yield pool[start][0], "".join(sentence for _, sentence in pool[start : start + 4])

    stream = paragraph_stream()
    for index in range(base_count):
        length = rng.randint(2000, 4000)
        parts: list[str] = []
        title = ""
        while sum(len(p) for p in parts) < length:
            headline, paragraph = next(stream)
            title = title or headline
            parts.append(paragraph)
        site, _ = rng.choice(PUBLISHERS)
        moment = start + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        docs.append(
            BenchDocument(
                index=index,
                url=f"https://www.{site}/article/{index:06d}",
                site=site,
                title=title,
                text="\n".join(parts),
                published_at=moment.isoformat(),
            )
        )
    originals = rng.sample(range(base_count), k=min(base_count, target_copies))
    planted = 0
    for origin in originals:
        for _ in range(rng.choices((1, 2, 3), weights=(70, 20, 10))[0]):
            if planted >= target_copies:
                break
            index = len(docs)
            excerpt = rng.random() < 0.12
            title, text = _republish(docs[origin], index, rng, headlines, excerpt)
            site = rng.choice(AGGREGATORS)
            published = docs[origin].published_at
            later = None
            if published and rng.random() < 0.8:
                later = (datetime.fromisoformat(published) + timedelta(minutes=rng.randint(10, 60 * 72))).isoformat()
            docs.append(
                BenchDocument(
                    index=index,
                    url=f"https://{site}/news/{index:06d}",
                    site=site,
                    title=title,
                    text=text,
                    published_at=later,
                    origin=origin,
                    kind="excerpt" if excerpt else "copy",
                )
            )
            planted += 1
    order = list(range(len(docs)))
    rng.shuffle(order)  # originals and copies arrive in any order, as in a crawl
    shuffled = [docs[i] for i in order]
    renumber = {old: new for new, old in enumerate(order)}
    return Corpus(
        documents=[
            BenchDocument(
                index=renumber[d.index],
                url=d.url,
                site=d.site,
                title=d.title,
                text=d.text,
                published_at=d.published_at,
                origin=renumber[d.origin] if d.origin is not None else None,
                kind=d.kind,
            )
            for d in shuffled
        ]
    )


def exact_shingles(text: str, size: int) -> tuple[npt.NDArray[np.uint64], int]:
    """Unique 64-bit shingle hashes (no truncation) of a prepared text, and its normalised length."""
    codepoints = prepare_text(text).codepoints
    count = int(codepoints.size)
    if count == 0:
        return np.zeros(0, dtype=np.uint64), 0
    width = min(size, count)
    windows = count - width + 1
    points = codepoints.astype(np.uint64)
    rolling = points[:windows].copy()
    for offset in range(1, width):
        rolling *= np.uint64(0x9E3779B97F4A7C15)
        rolling += points[offset : offset + windows]
    return np.unique(fmix64(rolling)), count


def exact_truth(texts: Sequence[str], rule: CopyRule, size: int, block: int = 256) -> set[tuple[int, int]]:
    """Pairs (i < j) satisfying ``rule`` on exact shingle sets, over all pairs."""
    sets, lengths = zip(*(exact_shingles(text, size) for text in texts), strict=True)
    sizes = np.array([s.size for s in sets], dtype=np.int64)
    vocabulary, columns = np.unique(np.concatenate(sets), return_inverse=True)
    rows = np.repeat(np.arange(len(sets)), sizes)
    matrix = sparse.csr_matrix(
        (np.ones(columns.size, dtype=np.int32), (rows, columns)), shape=(len(sets), vocabulary.size)
    )
    transposed = matrix.T.tocsc()
    truth: set[tuple[int, int]] = set()
    for first in range(0, len(sets), block):
        product = (matrix[first : first + block] @ transposed).tocoo()
        left = product.row + first
        keep = left < product.col
        for i, j, shared in zip(
            left[keep].tolist(), product.col[keep].tolist(), product.data[keep].tolist(), strict=True
        ):
            size_i, size_j = int(sizes[i]), int(sizes[j])
            jaccard = shared / (size_i + size_j - shared)
            containment = shared / min(size_i, size_j)
            if rule.judge(jaccard, containment, lengths[i], lengths[j]) is not None:
                truth.add((i, j))
    return truth
