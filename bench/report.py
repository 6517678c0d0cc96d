"""Report bench: archived articles read per CPU-second, from our metadata records and by re-extraction.

Usage::

    .venv/bin/python bench/report.py [--articles 3000] [--runs 3]

Builds a synthetic crawl with our writer: per article one ``response`` (an HTML page of 2,000-4,000
characters assembled from the demo corpus paragraphs), its ``request``, and the article metadata
record a crawl writes (``portal-archive/article-metadata/1``); one in seven articles is republished
on an aggregator host with a header line, a footer and some sentences dropped, one in five of those
cut to an excerpt. Two stages are timed, each with the metadata records and with them ignored
(``--no-metadata``: every page extracted again):

- read: ``WarcSource.documents()``, i.e. stream the WARC files and turn records into article
  documents (what the report adds to the engine);
- end to end: ``build_from_warcs``, i.e. the whole ``dedup-report`` minus rendering: read, index in a
  fresh near-duplicate index, cluster, decide the originals.

Timings are process CPU time (``time.process_time``), median of ``--runs`` runs after a warm-up.
Writes a table to stdout and JSON to ``bench/results/report.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from portal_archive import __version__
from portal_archive.archive.metadata import CONTENT_TYPE, article_metadata, encode, metadata_uri
from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import WarcSource
from portal_archive.dedup import DedupConfig
from portal_archive.items import ArticleItem
from portal_archive.report.build import ReportOptions, build_from_warcs
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "portal_archive" / "demo" / "corpus"
RESULTS = Path(__file__).resolve().parent / "results" / "report.json"
TARGET_PER_CPU_SECOND = 2000
ENGINE_COMMIT_EVERY = 200
"""Documents per index transaction in these runs: the batch the published figures were measured with
(a crawl commits every article, ``DEDUP_COMMIT_EVERY``)."""


def corpus_paragraphs() -> list[str]:
    return [p for f in sorted(CORPUS.glob("*.json")) for a in json.loads(f.read_text("utf-8")) for p in a["paragraphs"]]


def make_articles(count: int, seed: int) -> list[tuple[str, str, list[str], str]]:
    """``(url, title, paragraphs, published)``: originals on publisher hosts, some copies on an aggregator."""
    rng = random.Random(seed)
    paragraphs = [p for p in corpus_paragraphs() if len(p) > 40]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    articles: list[tuple[str, str, list[str], str]] = []
    while len(articles) < count:
        n = len(articles)
        body: list[str] = []
        while sum(map(len, body)) < rng.randint(2000, 4000):
            body.append(rng.choice(paragraphs))
        published = start + timedelta(minutes=37 * n)
        title = f"{rng.choice(paragraphs)[:18]}（{n}）"
        articles.append((f"https://news{n % 7}.example.cn/a/{n}.html", title, body, published.isoformat()))
        if n % 7 == 0 and len(articles) < count:
            copy = [p for p in body if rng.random() > 0.1]
            if rng.random() < 0.2:
                copy = copy[: max(2, len(copy) // 2)]
            copy = [f"来源：新闻{n % 7}网", *copy, "责任编辑：王五"]
            later = (published + timedelta(hours=3)).isoformat()
            articles.append((f"https://agg.example.com/wxnews/{n}", f"重磅！{title}", copy, later))
    return articles


def page_html(title: str, body: list[str], published: str) -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta property="article:published_time" content="{published}"></head><body>'
        '<div class="nav"><a href="/">首页</a></div>'
        f"<h1>{escape(title)}</h1><div class='content'>"
        + "".join(f"<p>{escape(p)}</p>" for p in body)
        + "</div><div class='footer'>版权所有</div></body></html>"
    ).encode("utf-8")


def write_archive(folder: Path, articles: list[tuple[str, str, list[str], str]]) -> list[Path]:
    """One crawl's WARC files: response + request + metadata record per article, as our crawl writes them."""
    writer = RotatingWarcWriter(
        directory=folder,
        prefix="bench",
        max_size=50_000_000,
        warcinfo=[("software", f"portal-archive/{__version__} (bench)"), ("format", "WARC File Format 1.1")],
        host="bench",
    )
    for url, title, body, published in articles:
        exchange = HttpExchange(
            url=url,
            status=200,
            response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
            body=page_html(title, body, published),
        )
        written = writer.write_exchange(exchange)
        item = ArticleItem(
            url=url,
            site=url.split("/")[2],
            title=title,
            published_at=published,
            body_text="\n".join(body),
            fetched_at=written.date,
            warc_record_id=written.record_id,
            warc_filename=written.filename,
            warc_offset=written.offset,
        )
        writer.write_related(
            "metadata",
            url=metadata_uri(url),
            content_type=CONTENT_TYPE,
            block=encode(article_metadata(item)),
            refers_to=written.record_id,
            concurrent_to=written.record_id,
        )
    writer.close()
    return sorted(writer.finished_files)


def cpu_seconds(action: Callable[[], object], runs: int) -> list[float]:
    """CPU seconds of ``runs`` calls, after one warm-up call (imports, caches, spiders)."""
    timings = []
    for _ in range(runs + 1):
        started = time.process_time()
        action()
        timings.append(time.process_time() - started)
    return timings[1:]


def measure(paths: list[Path], *, use_metadata: bool, runs: int, reader: PageReader) -> dict[str, Any]:
    options = ReportOptions(use_metadata=use_metadata)
    read = cpu_seconds(lambda: sum(1 for _ in WarcSource(paths, reader, use_metadata=use_metadata).documents()), runs)
    config = DedupConfig(commit_every=ENGINE_COMMIT_EVERY)
    whole = cpu_seconds(lambda: build_from_warcs(paths, config, options, reader=reader), runs)
    report = build_from_warcs(paths, config, options, reader=reader)
    articles = report.totals.articles
    return {
        "articles": articles,
        "clusters": report.totals.clusters,
        "copies": report.totals.copies,
        "excerpts": report.totals.excerpts,
        "read_cpu_seconds": read,
        "read_articles_per_cpu_second": articles / statistics.median(read),
        "end_to_end_cpu_seconds": whole,
        "end_to_end_articles_per_cpu_second": articles / statistics.median(whole),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    articles = make_articles(args.articles, args.seed)
    reader = PageReader()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        paths = write_archive(Path(scratch), articles)
        archive_bytes = sum(p.stat().st_size for p in paths)
        results = {
            "metadata records": measure(paths, use_metadata=True, runs=args.runs, reader=reader),
            "re-extraction": measure(paths, use_metadata=False, runs=args.runs, reader=reader),
        }
    print(f"{len(articles)} articles, {archive_bytes / 1e6:.1f} MB of WARC ({len(paths)} file(s)), {args.runs} runs")
    print(f"{'path':<18} {'articles':>9} {'clusters':>9} {'read/CPU-s':>11} {'end-to-end/CPU-s':>17}")
    for label, row in results.items():
        read, whole = row["read_articles_per_cpu_second"], row["end_to_end_articles_per_cpu_second"]
        print(f"{label:<18} {row['articles']:>9} {row['clusters']:>9} {read:>11,.0f} {whole:>17,.0f}")
    fast = results["metadata records"]["read_articles_per_cpu_second"]
    verdict = "meets" if fast >= TARGET_PER_CPU_SECOND else "misses"
    print(f"reading with metadata records {verdict} the target of {TARGET_PER_CPU_SECOND:,} articles per CPU-second")
    summary = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "corpus": {"articles": len(articles), "warc_files": len(paths), "warc_bytes": archive_bytes, "seed": args.seed},
        "target_articles_per_cpu_second": TARGET_PER_CPU_SECOND,
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
