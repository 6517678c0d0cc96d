"""Near-duplicate engine at scale: documents per CPU-second, memory and bytes per document as the
index grows, with precision and recall against planted copies.

Usage::

    .venv/bin/python bench/dedup_scale.py --corpus ../shared/data/sina2018_dev [--docs 10000,100000]

Documents are made as they are indexed (nothing but the planted copies' originals is kept): a base
document is 2,000-4,000 characters of sentences drawn at random from the corpus's articles, four to
a paragraph, so no two base documents are near-copies of each other; after about one base in
twenty, a copy of it is planted a few hundred documents later, made as ``bench/dedup.py`` makes
them (header lines, footers, 0-25 % of sentences dropped, 0-13 % edited; 12 % cut to an excerpt).

Truth is exact and cheap at any size: a planted pair is a true pair when it satisfies the copy rule
on its full shingle sets (some planted copies are edited past it). Recall is the share of true
pairs the engine put in one cluster; precision the share of the pairs the engine verified that are
true pairs (strict: a planted copy edited past the rule that the sketches still took for a copy is
an error, and so would be two base documents taken for copies).

Per size, in a fresh index (``--runs``: several times, the median run shown; a shared machine's speed
varies by 10-20 % from run to run), after a warm-up (``warm_up``): CPU seconds of ``DedupEngine.add_many``
and the commits only (making documents is not timed), documents per CPU-second overall and over the
last tenth of the documents (the cost per document as the index has grown), the process's peak RSS,
the index file's bytes per document; then the wall time and peak RSS of ``portal-archive dedup-report
--index`` on the index (JSON of the whole collection, in a process of its own). Prints a table;
JSON to ``bench/results/dedup_scale.json``.

The control: a shared machine's speed moves by tens of percent within minutes, so the rate over the
last tenth is set beside the engine's rate on a small index measured in the same minutes. While the
last tenth is indexed, a second engine indexes other documents (another seed) into a fresh index, a
batch after every few of the large index's, up to ``CONTROL_DOCS`` (10,000, or the last tenth's size
when smaller): ``last_tenth_vs_control`` is the cost of a document at the large size against its cost
at the small one, with the machine's speed the same for both.

The peer, measured in the same run on the same documents (after the engine, whose peak RSS is taken
before): datasketch's in-memory ``MinHashLSH`` (the same 32 bands of 3 rows), given the same
signatures (made untimed), timed on a look-up then an insert per document, as the engine looks up
then inserts. It does a part of the engine's work (no
text preparation, signing, verification, clusters, nothing on disk, about 2.5 KB of memory per
document), and its rate is the machine's speed in the same run: the ratio to it stays when a shared
machine's speed moves.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasketch import LeanMinHash, MinHashLSH
from dedup import AGGREGATORS, PUBLISHERS, BenchDocument, _republish, _sentences, exact_shingles, read_articles

from portal_archive import __version__
from portal_archive.dedup import DedupConfig, DedupEngine, Document, MinHasher, prepare_text, shingle_hashes
from portal_archive.dedup.minhash import SCHEME

RESULTS = Path(__file__).resolve().parent / "results" / "dedup_scale.json"
BATCH = 128
CONTROL_DOCS = 10_000
"""Documents of the control index (see the module docstring)."""
COPY_SHARE = 0.05
COPY_DELAY = (50, 800)
"""Documents between an original and its planted copy."""


@dataclass(frozen=True)
class Planted:
    copy: int
    origin: int
    true: bool
    """Satisfies the copy rule on exact shingle sets."""


class Stream:
    """Documents ``0 … n-1`` as a crawl would deliver them, with the planted copies' truth."""

    def __init__(self, articles: list[tuple[str, list[str]]], seed: int, config: DedupConfig) -> None:
        self.pool = [s for _, paragraphs in articles for p in paragraphs for s in _sentences(p)]
        self.headlines = [title for title, _ in articles]
        self.seed = seed
        self.config = config
        self.planted: list[Planted] = []

    def _base(self, index: int) -> BenchDocument:
        rng = random.Random(self.seed * 1_000_003 + index)
        target, parts, length = rng.randint(2000, 4000), [], 0
        while length < target:
            paragraph = "".join(rng.choice(self.pool) for _ in range(4))
            parts.append(paragraph)
            length += len(paragraph)
        site, _ = rng.choice(PUBLISHERS)
        return BenchDocument(
            index=index, url=f"https://www.{site}/article/{index:07d}", site=site,
            title=rng.choice(self.headlines), text="\n".join(parts), published_at=None,
        )  # fmt: skip

    def _exactly_copies(self, first: str, second: str) -> bool:
        a, length_a = exact_shingles(first, self.config.shingle_size)
        b, length_b = exact_shingles(second, self.config.shingle_size)
        shared = int(np_intersect(a, b))
        if not a.size or not b.size:
            return False
        jaccard = shared / (a.size + b.size - shared)
        containment = shared / min(a.size, b.size)
        return self.config.rule().judge(jaccard, containment, length_a, length_b) is not None

    def documents(self, count: int) -> Any:
        rng = random.Random(self.seed)
        pending: list[tuple[int, int, BenchDocument]] = []  # (due position, origin index, origin)
        base = 0
        for position in range(count):
            if pending and pending[0][0] <= position:
                _, origin_index, origin = heapq.heappop(pending)
                title, text = _republish(origin, position, rng, self.headlines, rng.random() < 0.12)
                site = rng.choice(AGGREGATORS)
                self.planted.append(Planted(position, origin_index, self._exactly_copies(origin.text, text)))
                yield Document(url=f"https://{site}/news/{position:07d}", text=text, title=title, site=site)
                continue
            document = self._base(base)
            base += 1
            if rng.random() < COPY_SHARE:
                heapq.heappush(pending, (position + rng.randint(*COPY_DELAY), position, document))
            yield Document(url=f"{document.url}?p={position}", text=document.text, title=document.title,
                           site=document.site)  # fmt: skip


def np_intersect(a: Any, b: Any) -> int:
    import numpy as np

    return int(np.intersect1d(a, b, assume_unique=True).size)


def warm_up(articles: list[tuple[str, list[str]]], seed: int) -> None:
    """Index a few documents in a throwaway index: what every process does once (the normalisation
    tables, loading the compiled kernels: about 1.5 s) is not part of the cost per document."""
    with tempfile.TemporaryDirectory(prefix="dedup-scale-") as scratch:
        config = DedupConfig(index_path=Path(scratch) / "dedup.sqlite")
        with DedupEngine.open(config) as engine:
            # Past one sort of the band table's newest entries, so its compiled look-up is loaded too.
            documents = list(Stream(articles, seed + 1, config).documents(2_200))
            for start in range(0, len(documents), BATCH):
                engine.add_many(documents[start : start + BATCH], commit=True)


class Control:
    """A small fresh index fed in step with the large one's last tenth (see the module docstring)."""

    def __init__(self, articles: list[tuple[str, list[str]]], seed: int, scratch: Path, docs: int, span: int) -> None:
        self.config = DedupConfig(index_path=scratch / "control.sqlite")
        self.engine = DedupEngine.open(self.config)
        self.documents = iter(Stream(articles, seed + 2, self.config).documents(docs))
        self.docs, self.span = docs, max(1, span)
        self.done = 0
        self.cpu = 0.0

    def step(self, tail_done: int) -> None:
        """Catch up with the large index: ``tail_done`` of its last tenth's documents are in."""
        while self.done < self.docs and self.done * self.span < tail_done * self.docs:
            batch = list(itertools.islice(self.documents, min(BATCH, self.docs - self.done)))
            start = time.process_time()
            self.engine.add_many(batch, commit=True)
            self.cpu += time.process_time() - start
            self.done += len(batch)

    def close(self) -> None:
        self.engine.close()


def run_size(articles: list[tuple[str, list[str]]], docs: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dedup-scale-") as scratch:
        config = DedupConfig(index_path=Path(scratch) / "dedup.sqlite")
        stream = Stream(articles, seed, config)
        engine = DedupEngine.open(config)
        cpu = tail_cpu = 0.0
        tail_from = docs - docs // 10
        verified: set[tuple[int, int]] = set()
        position_of: dict[str, int] = {}
        batch: list[Document] = []
        done = 0

        reset_peak_rss()

        def flush() -> None:
            nonlocal cpu, tail_cpu, done
            start = time.process_time()
            verdicts = engine.add_many(batch, commit=True)
            spent = time.process_time() - start
            cpu += spent
            if done >= tail_from:
                tail_cpu += spent
            for verdict in verdicts:
                mine = position_of[verdict.url]
                for match in verdict.matches:
                    other = position_of[match.url]
                    verified.add((min(mine, other), max(mine, other)))
            done += len(batch)
            batch.clear()

        control = Control(articles, seed, Path(scratch), min(CONTROL_DOCS, docs - tail_from), docs - tail_from)
        tenth = max(1, docs // 10)
        for position, document in enumerate(stream.documents(docs)):
            position_of[document.url] = position
            batch.append(document)
            if len(batch) >= BATCH:
                flush()
                if done > tail_from:
                    control.step(done - tail_from)
            if (position + 1) % tenth == 0:
                print(f"  {position + 1:,} documents, {done / cpu if cpu else 0:,.0f} per CPU-second so far",
                      file=sys.stderr, flush=True)  # fmt: skip
        if batch:
            flush()
        control.step(docs - tail_from)
        control.close()
        engine_rss = peak_rss_mib()
        clusters = {member.url: cluster for cluster, decision in engine.decisions() for member in decision.members}
        engine.close()
        index_bytes = sum(p.stat().st_size for p in Path(scratch).glob("dedup.sqlite*"))
        report_seconds, report_rss = time_report(config.index_path)
    peer_cpu = run_peer(articles, docs, seed, config)
    url_of = {position: url for url, position in position_of.items()}
    truth = {(min(p.copy, p.origin), max(p.copy, p.origin)) for p in stream.planted if p.true}
    found = sum(1 for a, b in truth if clusters.get(url_of[a], -1) == clusters.get(url_of[b], -2))
    correct = sum(1 for pair in verified if pair in truth)  # strict: a planted pair past the rule is an error
    tail_rate = (docs - tail_from) / tail_cpu if tail_cpu else 0.0
    control_rate = control.done / control.cpu if control.cpu else 0.0
    return {
        "docs": docs,
        "planted": len(stream.planted),
        "true_pairs": len(truth),
        "cpu_seconds": round(cpu, 2),
        "docs_per_cpu_s": round(docs / cpu, 1),
        "last_tenth_docs_per_cpu_s": round((docs - tail_from) / tail_cpu, 1) if tail_cpu else None,
        "control_docs": control.done,
        "control_docs_per_cpu_s": round(control.done / control.cpu, 1) if control.cpu else None,
        "last_tenth_vs_control": round(tail_rate / control_rate, 3) if tail_rate and control_rate else None,
        "peak_rss_mib": round(engine_rss, 1),
        "index_bytes_per_doc": round(index_bytes / docs, 1),
        "recall": round(found / len(truth), 4) if truth else None,
        "precision": round(correct / len(verified), 4) if verified else None,
        "verified_pairs": len(verified),
        "peer_datasketch_lsh_docs_per_cpu_s": round(docs / peer_cpu, 1),
        "ratio_to_peer": round((docs / cpu) / (docs / peer_cpu), 3),
        "report_wall_seconds": round(report_seconds, 1),
        "report_peak_rss_mib": round(report_rss, 1),
    }


_REPORT = """
import sys
from portal_archive.cli import main
code = main(sys.argv[1:])
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]), file=sys.stderr)
sys.exit(code)
"""
"""``portal-archive dedup-report``, then its peak RSS (kB) on stderr: VmHWM counts this process's own
memory only (a fork's rusage also counts the pages it shared with the bench at the fork)."""


def run_peer(articles: list[tuple[str, list[str]]], docs: int, seed: int, config: DedupConfig) -> float:
    """CPU seconds of the peer on the same documents: datasketch's in-memory LSH given the same
    signatures (made untimed), a look-up then an insert per document, as the engine does."""
    hasher = MinHasher(config.num_perm, config.seed)
    width = config.bands * config.rows
    peer = MinHashLSH(num_perm=width, params=(config.bands, config.rows))
    spent = 0.0
    batch: list[Document] = []

    def flush() -> None:
        nonlocal spent
        texts = [prepare_text(document.text) for document in batch]
        signatures = hasher.signatures([shingle_hashes(text.codepoints, config.shingle_size) for text in texts], width)
        sketches = [LeanMinHash(seed=config.seed, hashvalues=row, scheme=SCHEME) for row in signatures]
        start = time.process_time()
        for document, sketch in zip(batch, sketches, strict=True):
            peer.query(sketch)
            peer.insert(document.url, sketch)
        spent += time.process_time() - start
        batch.clear()

    print(f"  the peer on the same {docs:,} documents ...", file=sys.stderr, flush=True)
    for document in Stream(articles, seed, config).documents(docs):
        batch.append(document)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return spent


def reset_peak_rss() -> None:
    """Start the peak RSS over from the current RSS (Linux: ``clear_refs``), so that each size's
    figure is its own, not an earlier size's or the peer's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    """The process's peak RSS since ``reset_peak_rss`` (``VmHWM``), else since it started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_report(index: Path | None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``portal-archive dedup-report --index`` on the index, as
    a researcher runs it (JSON, the whole collection), in a process of its own."""
    command = [sys.executable, "-c", _REPORT, "dedup-report", "--index", str(index), "--format", "json",
               "-o", os.devnull, "--no-progress"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"dedup-report failed: {done.stderr}")
    return seconds, int(done.stderr.split()[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, required=True, help="folder of .txt articles (sina2018_dev)")
    parser.add_argument("--docs", default="10000,100000", help="sizes, comma-separated (default 10000,100000)")
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--runs", type=int, default=1, help="runs per size; the table shows the median run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"dedup_scale: no corpus folder at {args.corpus}", file=sys.stderr)
        return 2
    articles = read_articles(args.corpus)
    sizes = [int(size) for size in args.docs.split(",") if size.strip()]
    warm_up(articles, args.seed)
    rows = []
    for size in sizes:
        runs = []
        for run in range(args.runs):
            print(f"indexing {size:,} documents (run {run + 1} of {args.runs}) ...", file=sys.stderr, flush=True)
            runs.append(run_size(articles, size, args.seed))
        runs.sort(key=lambda row: row["docs_per_cpu_s"])
        median = runs[len(runs) // 2]
        median["runs_docs_per_cpu_s"] = [row["docs_per_cpu_s"] for row in runs]
        rows.append(median)
    header = (
        f"{'docs':>9} {'docs/CPU-s':>10} {'last 10 %':>9} {'bytes/doc':>9} {'RSS MiB':>8} {'P':>7} {'R':>7} "
        f"{'report s':>8} {'report MiB':>10} {'peer/CPU-s':>10} {'vs peer':>7} {'control':>8} {'10 % vs control':>15}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['docs']:>9,} {row['docs_per_cpu_s']:>10,.0f} {row['last_tenth_docs_per_cpu_s'] or 0:>9,.0f} "
            f"{row['index_bytes_per_doc']:>9,.0f} {row['peak_rss_mib']:>8,.0f} {row['precision'] or 0:>7.4f} "
            f"{row['recall'] or 0:>7.4f} {row['report_wall_seconds']:>8,.1f} {row['report_peak_rss_mib']:>10,.0f} "
            f"{row['peer_datasketch_lsh_docs_per_cpu_s']:>10,.0f} {row['ratio_to_peer']:>6.3f}x "
            f"{row['control_docs_per_cpu_s'] or 0:>8,.0f} {row['last_tenth_vs_control'] or 0:>14.3f}x"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        scale = last["docs_per_cpu_s"] / first["docs_per_cpu_s"]
        against = last["ratio_to_peer"] / first["ratio_to_peer"]
        print(f"docs/CPU-s at {last['docs']:,} = {scale:.2f}x that at {first['docs']:,}", end=" ")
        print(f"(against the peer: {against:.2f}x)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"when": datetime.now(UTC).isoformat(timespec="seconds"), "version": __version__,
             "machine": platform.platform(), "corpus": str(args.corpus), "sizes": rows},
            indent=2,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
