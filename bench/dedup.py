"""Near-duplicate bench: throughput, precision/recall against exact truth, and bytes per document.

Usage::

    .venv/bin/python bench/dedup.py --corpus ../shared/data/sina2018_dev [--docs 4000] [--runs 3]

Writes a table to stdout and JSON to ``bench/results/dedup.json``. Timings are process CPU time
(``time.process_time``), median of ``--runs`` runs, after a warm-up: the machine is shared, so wall
time means little. Three paths are timed end to end (normalise + shingle + sign + index insert):
datasketch's default (one ``MinHash`` per document, ``update`` per shingle, SHA-1, ``MinHashLSH``
insert), the same with ``update_batch``, and ours (table-driven normalisation, numpy shingle hashes,
batched ``affine32`` signatures, SQLite index insert); ours is also timed with candidate lookup,
verification and clustering (the whole ``DedupEngine.add_many``), and datasketch's paths on a subsample
(``--datasketch-docs``), since they run at 20-300 documents per second.

Corpus. Base documents (2,000-4,000 characters) are assembled from the paragraphs of real articles read
from ``--corpus`` (one article per ``.txt`` file, as in the sina2018 dev set, which never enters
this repository). About one in twenty is then republished the way aggregators do it: 0-3 header
lines (``整理 | X``, ``来源：InfoQ``, ``原标题：…``), footers (``相关阅读：`` and 3-8 headlines,
``责任编辑：…``), 0-25 % of sentences dropped, 0-13 % edited, and 12 % cut to a 45-85 % excerpt.

Truth is exact: every pair of documents is compared on its full set of 64-bit shingle hashes
(sparse ``X · Xᵀ`` by blocks of rows), and a pair is a copy when it satisfies the copy rule.
Precision and recall are over pairs: candidates (LSH, for several bandings, with the misses the
S-curve expects from the true pairs' Jaccard) and verified copies (what the engine reports).

Storage is the index file of the last engine run, per document: as built (after a WAL checkpoint,
so the file holds everything) and after ``DedupIndex.compact`` (VACUUM), split into band rows,
verification sketches, documents (row, URL index, WARC file names) and the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import datasketch
import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH
from scipy import sparse

from portal_archive.dedup import (
    DedupConfig,
    DedupEngine,
    DedupIndex,
    Document,
    MinHasher,
    NewDocument,
    StorageReport,
    band_keys,
    candidate_probability,
    make_sketch,
    normalize_text,
    prepare_text,
    shingle_hashes,
    shingles,
    strip_attribution,
)
from portal_archive.dedup.shingles import fmix64
from portal_archive.dedup.verify import CopyRule

RESULTS = Path(__file__).resolve().parent / "results" / "dedup.json"
ENGINE_COMMIT_EVERY = 200
"""Documents per index transaction in these runs: the batch the published figures were measured with
(a crawl commits every article, ``DEDUP_COMMIT_EVERY``)."""

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


# --- Throughput --------------------------------------------------------------------------------


def _datasketch_path(texts: Sequence[str], *, batch: bool, size: int, bands: int, rows: int) -> None:
    """The obvious pipeline: reference normalisation, Python shingles, one MinHash per document."""
    lsh = MinHashLSH(num_perm=128, params=(bands, rows))
    for number, text in enumerate(texts):
        body, _ = strip_attribution(text)
        grams = {gram.encode("utf-8") for gram in shingles(normalize_text(body), size)}
        minhash = MinHash(num_perm=128, seed=1)
        if batch:
            minhash.update_batch(grams)
        else:
            for gram in grams:
                minhash.update(gram)
        lsh.insert(number, minhash, check_duplication=False)


def _our_ingest(texts: Sequence[str], urls: Sequence[str], config: DedupConfig, path: Path, batch: int) -> None:
    """Normalise + shingle + sign + index insert with the engine's building blocks, no lookup."""
    parameters = config.index_parameters()
    hasher = MinHasher(parameters.num_perm, parameters.seed)
    sketch = make_sketch(parameters.verify, bins=parameters.sketch_bins, bits=parameters.sketch_bits)
    with DedupIndex.open(path, parameters) as index:
        for start in range(0, len(texts), batch):
            prepared = [prepare_text(text) for text in texts[start : start + batch]]
            hashes = [shingle_hashes(p.codepoints, parameters.shingle_size) for p in prepared]
            loaded = [sketch.load(h) for h in hashes]
            signatures = hasher.signatures(hashes, parameters.signature_width)  # as the engine signs
            keys = band_keys(signatures, parameters.bands, parameters.rows)
            for offset, text in enumerate(prepared):
                index.insert(
                    NewDocument(
                        url=urls[start + offset],
                        record_id="",
                        chars=text.length,
                        shingles=int(hashes[offset].size),
                        signature=signatures[offset],
                        band_keys=keys[offset],
                        sketch=sketch.encode(loaded[offset]),
                    )
                )
            if (start // batch) % 4 == 3:
                index.commit()


def _our_signatures(texts: Sequence[str], size: int) -> None:
    hasher = MinHasher()
    hashes = [shingle_hashes(prepare_text(text).codepoints, size) for text in texts]
    hasher.signatures(hashes)


def _cpu(run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def _fresh(directory: Path, name: str) -> Path:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


# --- Quality -----------------------------------------------------------------------------------


def _documents(corpus: Corpus) -> list[Document]:
    return [
        Document(
            url=d.url,
            text=d.text,
            title=d.title,
            site=d.site,
            published_at=d.published_at,
            record_id=f"<urn:uuid:00000000-0000-4000-8000-{d.index:012d}>",
        )
        for d in corpus.documents
    ]


def _engine_run(corpus: Corpus, config: DedupConfig, batch: int) -> tuple[float, DedupEngine, set[tuple[int, int]]]:
    """Index the corpus with the engine; return CPU seconds, the open engine and the verified pairs."""
    documents = _documents(corpus)
    engine = DedupEngine.open(config)
    verified: set[tuple[int, int]] = set()
    position = {d.url: d.index for d in corpus.documents}
    start = time.process_time()
    verdicts = [v for s in range(0, len(documents), batch) for v in engine.add_many(documents[s : s + batch])]
    engine.index.commit()
    seconds = time.process_time() - start
    for verdict in verdicts:
        for match in verdict.matches:
            a, b = position[verdict.url], position[match.url]
            verified.add((min(a, b), max(a, b)))
    return seconds, engine, verified


def _signatures(corpus: Corpus, config: DedupConfig) -> tuple[list[int], npt.NDArray[np.uint32]]:
    """Corpus positions of the indexable documents and their signatures (as the engine computes them)."""
    rule, hasher = config.rule(), MinHasher(config.num_perm, config.seed)
    positions, hash_sets = [], []
    for document in corpus.documents:
        prepared = prepare_text(document.text)
        if rule.indexable(prepared.length):
            positions.append(document.index)
            hash_sets.append(shingle_hashes(prepared.codepoints, config.shingle_size))
    return positions, hasher.signatures(hash_sets)


def _candidate_pairs(
    positions: Sequence[int], signatures: npt.NDArray[np.uint32], bands: int, rows: int
) -> set[tuple[int, int]]:
    """Every pair of corpus positions sharing a band under (bands, rows)."""
    tables: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    for position, keys in zip(positions, band_keys(signatures, bands, rows).tolist(), strict=True):
        for band, key in enumerate(keys):
            tables[(band, key)].append(position)
    pairs: set[tuple[int, int]] = set()
    for members in tables.values():
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                pairs.add((min(first, second), max(first, second)))
    return pairs


def _precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float | int]:
    hits = len(found & truth)
    return {
        "pairs": len(found),
        "true_positives": hits,
        "false_positives": len(found - truth),
        "false_negatives": len(truth - found),
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
    }


def _canonical_accuracy(corpus: Corpus, engine: DedupEngine) -> dict[str, float | int]:
    """Share of planted copies whose cluster names their planted original as the original."""
    ids = {stored.url: stored.id for stored in engine.index.documents()}
    url_of = {d.index: d.url for d in corpus.documents}
    decisions: dict[int, Any] = {}
    right = wrong = unclustered = 0
    for document in corpus.documents:
        if document.origin is None:
            continue
        stored = engine.index.document(ids[document.url])
        if stored.cluster is None:
            unclustered += 1
            continue
        if stored.cluster not in decisions:
            decisions[stored.cluster] = engine.decide(stored.cluster)
        if decisions[stored.cluster].canonical.url == url_of[document.origin]:
            right += 1
        else:
            wrong += 1
    judged = right + wrong
    return {"correct": right, "wrong": wrong, "unclustered": unclustered, "accuracy": right / judged if judged else 0.0}


# --- Report ------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Runs:
    """CPU seconds per path and run, and the engines of the last run (kept open for the quality checks)."""

    seconds: dict[str, list[float]]
    engine: DedupEngine
    verified: set[tuple[int, int]]
    exact_engine: DedupEngine
    exact_verified: set[tuple[int, int]]


def _time_paths(corpus: Corpus, args: argparse.Namespace, config: DedupConfig, work: Path) -> _Runs:
    texts = [d.text for d in corpus.documents]
    urls = [d.url for d in corpus.documents]
    default_sample, batch_sample = texts[: args.datasketch_docs], texts[: args.batch_docs]
    size, bands, rows = config.shingle_size, config.bands, config.rows
    seconds: dict[str, list[float]] = defaultdict(list)
    engines: list[tuple[DedupEngine, set[tuple[int, int]], DedupEngine, set[tuple[int, int]]]] = []
    for run in range(args.runs):
        seconds["datasketch_default"].append(
            _cpu(partial(_datasketch_path, default_sample, batch=False, size=size, bands=bands, rows=rows))
        )
        seconds["datasketch_update_batch"].append(
            _cpu(partial(_datasketch_path, batch_sample, batch=True, size=size, bands=bands, rows=rows))
        )
        seconds["ours_signatures"].append(_cpu(partial(_our_signatures, texts, size)))
        ingest_path = _fresh(work, f"ingest-{run}.sqlite")
        seconds["ours_ingest"].append(_cpu(partial(_our_ingest, texts, urls, config, ingest_path, args.batch)))
        engine_seconds, engine, verified = _engine_run(
            corpus,
            DedupConfig(index_path=_fresh(work, f"engine-{run}.sqlite"), commit_every=ENGINE_COMMIT_EVERY),
            args.batch,
        )
        seconds["ours_engine"].append(engine_seconds)
        exact_seconds, exact_engine, exact_verified = _engine_run(
            corpus,
            DedupConfig(
                index_path=_fresh(work, f"exact-{run}.sqlite"), verify="exact", commit_every=ENGINE_COMMIT_EVERY
            ),
            args.batch,
        )
        seconds["ours_engine_exact"].append(exact_seconds)
        for previous in engines:
            previous[0].close()
            previous[2].close()
        engines = [(engine, verified, exact_engine, exact_verified)]
        print(f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in seconds.items()))
    engine, verified, exact_engine, exact_verified = engines[0]
    return _Runs(
        seconds=dict(seconds),
        engine=engine,
        verified=verified,
        exact_engine=exact_engine,
        exact_verified=exact_verified,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of .txt articles (evaluation only)")
    parser.add_argument("--docs", type=int, default=4000, help="documents in the corpus, planted copies included")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per path (the median is reported)")
    parser.add_argument("--datasketch-docs", type=int, default=150, help="subsample for datasketch's default path")
    parser.add_argument("--batch-docs", type=int, default=1000, help="subsample for datasketch's update_batch path")
    parser.add_argument("--batch", type=int, default=64, help="documents per add_many call")
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    config = DedupConfig()
    articles = read_articles(args.corpus)
    if not articles:
        print(f"no .txt articles under {args.corpus}", file=sys.stderr)
        return 2
    corpus = build_corpus(articles, args.docs, seed=args.seed)
    texts = [d.text for d in corpus.documents]
    lengths = [len(t) for t in texts]
    print(
        f"corpus: {len(texts)} documents from {len(articles)} articles, median {statistics.median(lengths):.0f} chars"
    )
    start = time.process_time()
    corpus.truth = exact_truth(texts, config.rule(), config.shingle_size)
    corpus.truth_seconds = time.process_time() - start
    planted = {(min(d.index, d.origin), max(d.index, d.origin)) for d in corpus.documents if d.origin is not None}
    print(f"truth: {len(corpus.truth)} copy pairs ({len(planted)} planted), {corpus.truth_seconds:.0f} CPU s")

    # Warm-ups: normalisation tables, datasketch's permutations, numpy's first calls.
    _datasketch_path(texts[:5], batch=True, size=config.shingle_size, bands=config.bands, rows=config.rows)
    _our_signatures(texts[:50], config.shingle_size)
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as work:
        runs = _time_paths(corpus, args, config, Path(work))
        result = _report(corpus, args, config, runs, articles=len(articles), planted=planted)
        runs.engine.close()
        runs.exact_engine.close()
    _print(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


def _report(
    corpus: Corpus,
    args: argparse.Namespace,
    config: DedupConfig,
    runs: _Runs,
    *,
    articles: int,
    planted: set[tuple[int, int]],
) -> dict[str, Any]:
    """Everything measured, as the JSON written to ``--out``."""
    texts = [d.text for d in corpus.documents]
    lengths = [len(t) for t in texts]
    storage = {"oph": _storage(runs.engine), "exact": _storage(runs.exact_engine)}
    positions, signatures = _signatures(corpus, config)
    candidates = {
        f"{bands}x{rows}": _precision_recall(_candidate_pairs(positions, signatures, bands, rows), corpus.truth)
        for bands, rows in _bandings(config)
    }
    truth_jaccard = _truth_jaccard(corpus, config)
    kinds = {d.index: d.kind for d in corpus.documents}
    missed = corpus.truth - runs.verified
    counts = {"datasketch_default": args.datasketch_docs, "datasketch_update_batch": args.batch_docs}
    rates = {
        name: len(texts[: counts.get(name, len(texts))]) / statistics.median(values)
        for name, values in runs.seconds.items()
    }
    return {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "datasketch": datasketch.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "parameters": {**config.index_parameters().stored(), "batch": args.batch},
        "corpus": {
            "documents": len(texts),
            "articles": articles,
            "median_chars": statistics.median(lengths),
            "planted_copies": sum(1 for d in corpus.documents if d.kind == "copy"),
            "planted_excerpts": sum(1 for d in corpus.documents if d.kind == "excerpt"),
            "truth_pairs": len(corpus.truth),
            "planted_pairs_in_truth": len(planted & corpus.truth),
            "truth_cpu_seconds": corpus.truth_seconds,
        },
        "throughput_docs_per_cpu_second": rates,
        "timings_cpu_seconds": runs.seconds,
        "timed_documents": {name: len(texts[: counts.get(name, len(texts))]) for name in runs.seconds},
        "candidates": candidates,
        "candidate_probability": {
            f"{b}x{r}": {str(j): round(candidate_probability(j, b, r), 4) for j in (0.3, 0.4, 0.5, 0.7)}
            for b, r in _bandings(config)
        },
        "expected_candidate_misses": {
            f"{b}x{r}": round(sum(1.0 - candidate_probability(j, b, r) for j in truth_jaccard), 2)
            for b, r in _bandings(config)
        },
        "verified": _precision_recall(runs.verified, corpus.truth),
        "verified_exact": _precision_recall(runs.exact_verified, corpus.truth),
        "missed_by_kind": {
            kind: sum(1 for a, b in missed if kind in (kinds[a], kinds[b])) for kind in ("base", "copy", "excerpt")
        },
        "canonical": _canonical_accuracy(corpus, runs.engine),
        "storage": storage,
    }


def _bandings(config: DedupConfig) -> list[tuple[int, int]]:
    """Bandings whose candidate recall is reported: the configured one, the format-1 default (40, 3),
    and two cheaper ones."""
    return list(dict.fromkeys([(config.bands, config.rows), (40, 3), (32, 3), (24, 3), (32, 4)]))


def _truth_jaccard(corpus: Corpus, config: DedupConfig) -> list[float]:
    """Exact Jaccard similarity of every truth pair (for the expected LSH misses of each banding)."""
    sets = {i: exact_shingles(corpus.documents[i].text, config.shingle_size)[0] for pair in corpus.truth for i in pair}
    values = []
    for first, second in sorted(corpus.truth):
        shared = np.intersect1d(sets[first], sets[second], assume_unique=True).size
        values.append(shared / (sets[first].size + sets[second].size - shared))
    return values


def _per_document(report: StorageReport) -> dict[str, Any]:
    return {
        "bytes_per_document": report.bytes_per_document,
        "by_component_per_document": {k: v / report.documents for k, v in report.by_component().items()},
        "by_object_per_document": {k: v / report.documents for k, v in report.by_object.items()},
    }


def _storage(engine: DedupEngine) -> dict[str, Any]:
    """Bytes per document on disk as built (WAL folded into the file) and after ``compact`` (VACUUM)."""
    index = engine.index
    index.checkpoint()
    on_disk = sum(
        Path(f"{index.path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{index.path}{suffix}").exists()
    )
    built = index.storage()
    index.compact()
    compacted = index.storage()
    return {
        **_per_document(built),
        "file_bytes_on_disk_per_document": on_disk / built.documents,
        "compacted": _per_document(compacted),
    }


def _print(result: dict[str, Any]) -> None:
    rates = result["throughput_docs_per_cpu_second"]
    timed = result["timed_documents"]
    verified, exact = result["verified"], result["verified_exact"]
    storage = result["storage"]
    rows = [
        ("datasketch default (update, SHA-1)", rates["datasketch_default"], timed["datasketch_default"], "", ""),
        ("datasketch update_batch (SHA-1)", rates["datasketch_update_batch"], timed["datasketch_update_batch"], "", ""),
        ("ours: normalise+shingle+sign only", rates["ours_signatures"], timed["ours_signatures"], "", ""),
        ("ours: normalise+shingle+sign+index insert", rates["ours_ingest"], timed["ours_ingest"], "", ""),
        (
            "ours: engine (+lookup, verify, cluster), oph",
            rates["ours_engine"],
            timed["ours_engine"],
            f"P {verified['precision']:.4f} R {verified['recall']:.4f}",
            f"{storage['oph']['bytes_per_document']:.0f}",
        ),
        (
            "ours: engine, exact verification",
            rates["ours_engine_exact"],
            timed["ours_engine_exact"],
            f"P {exact['precision']:.4f} R {exact['recall']:.4f}",
            f"{storage['exact']['bytes_per_document']:.0f}",
        ),
    ]
    print()
    print(f"{'path':48s} {'docs/CPU-s':>11s} {'docs':>6s}  {'pairs vs exact truth':22s} {'bytes/doc':>9s}")
    for label, rate, docs, quality, size in rows:
        print(f"{label:48s} {rate:11.0f} {docs:6d}  {quality:22s} {size:>9s}")
    print()
    for name, figures in result["candidates"].items():
        print(
            f"candidates {name}: P {figures['precision']:.4f} R {figures['recall']:.4f} "
            f"({figures['pairs']} pairs, {figures['false_negatives']} truth pairs missed, "
            f"{result['expected_candidate_misses'][name]:.1f} expected from the S-curve)"
        )
    canonical = result["canonical"]
    print(f"canonical original of planted copies: {canonical['accuracy']:.4f} ({canonical['wrong']} wrong)")
    print()
    components = ("bands", "sketches", "documents", "other")
    print(f"{'bytes per document':30s} " + " ".join(f"{c:>9s}" for c in components) + f" {'total':>9s}")
    for name in ("oph", "exact"):
        for label, figures in (
            (f"{name}, as built", storage[name]),
            (f"{name}, compacted", storage[name]["compacted"]),
        ):
            parts = figures["by_component_per_document"]
            print(
                f"{label:30s} "
                + " ".join(f"{parts[c]:9.0f}" for c in components)
                + f" {figures['bytes_per_document']:9.0f}"
            )
    per_object = ", ".join(f"{k} {v:.0f}" for k, v in storage["oph"]["by_object_per_document"].items() if v >= 1)
    print(f"by table and index (oph, as built): {per_object}")


if __name__ == "__main__":
    sys.exit(main())
