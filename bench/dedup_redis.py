"""Near-duplicate index on Redis: bytes per document, client CPU and wall throughput, vs SQLite.

Usage::

    .venv/bin/python bench/dedup_redis.py --corpus ../shared/data/sina2018_dev [--docs 10000] [--workers 2]

Same corpus as ``bench/dedup.py`` (``build_corpus``: real paragraphs, 5 % planted copies and excerpts,
shuffled). Every path runs the whole ``DedupEngine`` (normalise, sign, look up, verify, cluster,
choose the original) on that corpus, ``--batch`` documents per ``add_many``:

- ``sqlite``: the single-machine ``DedupIndex`` (one file, as ``bench/dedup.py``);
- ``redis``: our layout (``RedisDedupIndex``: Lua scripts, linear-hashed band and URL maps in
  listpack hashes, packed records, sketches in fixed slots of 64 KiB strings), one client;
- ``redis xN``: the same with N worker processes adding interleaved shares of the corpus at once
  (the distributed case), checked to give the clusters and originals of one process;
- ``datasketch``: datasketch's ``MinHashLSH`` with its Redis storage for the band lookups (query,
  then insert: not safe with concurrent writers) and our records, sketches and clusters beside it.

Figures: documents per second of the client's CPU (``time.process_time``), per second of wall
time, the Redis server's CPU per document (``INFO cpu``), requests per document, and bytes per
document in Redis as the growth of ``used_memory`` (allocator size classes included), split by key
family with ``MEMORY USAGE``. Bytes per document are also recorded as the index grows (the linear
hashing keeps them flat). ``--truth`` computes the exact copy pairs (about 2 CPU minutes for 10,000
documents) for precision and recall; without it, pairs are compared with the SQLite run's. A
cluster join is timed as a Lua script and as a lock-protected read-modify-write (``--joins``).

Writes a table to stdout and JSON to ``bench/results/dedup_redis.json``. The machine is shared:
compare figures of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasketch
import numpy as np
import redis
from datasketch import LeanMinHash, MinHashLSH

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import dedup as dedup_bench  # noqa: E402  (bench/dedup.py: the corpus and the exact truth)

from portal_archive.dedup import DedupConfig, DedupEngine, Document, IndexParameters, NewDocument  # noqa: E402
from portal_archive.dedup.index import Added  # noqa: E402
from portal_archive.dedup.index.redis import RedisDedupIndex  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "dedup_redis.json"
PREFIX = "bench:"
ENGINE_COMMIT_EVERY = 200
"""Documents per index transaction in these runs: the batch the published figures were measured with
(a crawl commits every article, ``DEDUP_COMMIT_EVERY``)."""
FAMILIES = {
    "b": "bands",
    "bo": "bands",
    "lh": "bands",
    "u": "urls",
    "d": "records",
    "s": "sketches",
    "sx": "sketches",
    "g": "sketches",
    "m": "clusters",
    "c": "clusters",
    "cl": "clusters",
    "cr": "clusters",
    "p": "pairs",
}


@dataclass(kw_only=True)
class PathResult:
    """One path's figures."""

    name: str
    documents: int
    wall_seconds: float
    client_cpu_seconds: float
    server_cpu_seconds: float | None = None
    round_trips: int | None = None
    bytes_total: int | None = None
    bytes_by_family: dict[str, int] = field(default_factory=dict)
    bytes_as_it_grows: list[tuple[int, float]] = field(default_factory=list)
    """``(documents, bytes per document)`` at each quarter of the corpus."""
    pairs: int = 0
    same_as_sqlite: bool | None = None
    notes: str = ""

    def figures(self) -> dict[str, Any]:
        figures = asdict(self)
        figures["docs_per_wall_second"] = self.documents / self.wall_seconds
        figures["docs_per_client_cpu_second"] = self.documents / self.client_cpu_seconds
        if self.server_cpu_seconds is not None:
            figures["server_cpu_us_per_doc"] = self.server_cpu_seconds / self.documents * 1e6
        if self.round_trips is not None:
            figures["round_trips_per_doc"] = self.round_trips / self.documents
        if self.bytes_total is not None:
            figures["bytes_per_doc"] = self.bytes_total / self.documents
            figures["bytes_per_doc_by_family"] = {k: v / self.documents for k, v in self.bytes_by_family.items()}
        return figures


def _used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def _server_cpu(client: Any) -> float:
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def _by_family(client: Any, prefix: str) -> dict[str, int]:
    sizes: Counter[str] = Counter()
    for key in client.scan_iter(match=f"{prefix}*", count=2000):
        family = key.decode()[len(prefix) :].split(":")[0]
        sizes[FAMILIES.get(family, "other")] += int(client.memory_usage(key, samples=0) or 0)
    return dict(sizes)


def _datasketch_bytes(client: Any, basename: str) -> int:
    return sum(
        int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter(match=f"{basename}*", count=2000)
    )


def _batches(documents: Sequence[Document], size: int) -> Iterator[Sequence[Document]]:
    for start in range(0, len(documents), size):
        yield documents[start : start + size]


def _pairs(engine: DedupEngine) -> set[tuple[str, str]]:
    urls = {d.id: d.url for d in engine.index.documents()}
    return {tuple(sorted((urls[p.first], urls[p.second]))) for p in engine.index.pairs()}  # type: ignore[misc]


def _clusters(engine: DedupEngine) -> dict[frozenset[str], str]:
    return {frozenset(v.url for v in d.members): d.canonical.url for _, d in engine.decisions()}


def run_sqlite(documents: Sequence[Document], batch: int, work: Path) -> tuple[PathResult, list[Any], Any]:
    path = work / "dedup.sqlite"
    wall, cpu = time.perf_counter(), time.process_time()
    with DedupEngine.open(DedupConfig(index_path=path, commit_every=ENGINE_COMMIT_EVERY)) as engine:
        verdicts = [v.as_dict() for chunk in _batches(documents, batch) for v in engine.add_many(chunk)]
        engine.commit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine.index.checkpoint()  # type: ignore[attr-defined]
        storage = engine.index.storage()  # type: ignore[attr-defined]
        pairs, clusters = _pairs(engine), _clusters(engine)
    result = PathResult(
        name="sqlite",
        documents=len(documents),
        wall_seconds=wall,
        client_cpu_seconds=cpu,
        bytes_total=storage.file_bytes,
        bytes_by_family={k: v for k, v in storage.by_component().items()},
        pairs=len(pairs),
        notes="DedupIndex, one file; bytes: the file after a WAL checkpoint",
    )
    return result, verdicts, (pairs, clusters)


def _checkpoints(total: int) -> set[int]:
    return {total * quarter // 4 for quarter in (1, 2, 3, 4)}


def run_redis(
    documents: Sequence[Document], batch: int, client: Any, url: str, reference: tuple[Any, Any], verdicts: list[Any]
) -> PathResult:
    client.flushdb()
    config = DedupConfig(index_url=url, redis_prefix=PREFIX, commit_every=ENGINE_COMMIT_EVERY)
    before, server = _used_memory(client), _server_cpu(client)
    grows: list[tuple[int, float]] = []
    found: list[Any] = []
    marks = _checkpoints(len(documents))
    wall, cpu = time.perf_counter(), time.process_time()
    paused = 0.0
    with DedupEngine.open(config) as engine:
        done = 0
        for chunk in _batches(documents, batch):
            found += [v.as_dict() for v in engine.add_many(chunk)]
            done += len(chunk)
            if any(done - len(chunk) < mark <= done for mark in marks):
                pause = time.perf_counter()
                grows.append((done, (_used_memory(client) - before) / done))
                paused += time.perf_counter() - pause
        wall, cpu = time.perf_counter() - wall - paused, time.process_time() - cpu
        server = _server_cpu(client) - server
        round_trips = engine.index.round_trips  # type: ignore[attr-defined]
        used = _used_memory(client) - before
        pairs, clusters = _pairs(engine), _clusters(engine)
    return PathResult(
        name="redis",
        documents=len(documents),
        wall_seconds=wall,
        client_cpu_seconds=cpu,
        server_cpu_seconds=server,
        round_trips=round_trips,
        bytes_total=used,
        bytes_by_family=_by_family(client, PREFIX),
        bytes_as_it_grows=grows,
        pairs=len(pairs),
        same_as_sqlite=found == verdicts and (pairs, clusters) == reference,
        notes="RedisDedupIndex, one client; same verdicts, pairs, clusters and originals as SQLite when true",
    )


_WORKER = """
import json, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[6]]
from portal_archive.dedup import DedupConfig, DedupEngine, Document

rows = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
url, part, parts, start = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
mine = [Document(**row) for row in rows[part::parts]]
with DedupEngine.open(DedupConfig(index_url=url, redis_prefix="bench:", commit_every=int(sys.argv[8]))) as engine:
    while not start.exists():
        time.sleep(0.001)
    wall, cpu = time.perf_counter(), time.process_time()
    for s in range(0, len(mine), int(sys.argv[7])):
        engine.add_many(mine[s : s + int(sys.argv[7])])
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                      "round_trips": engine.index.round_trips, "started": wall}))
"""


def run_workers(
    documents: Sequence[Document],
    batch: int,
    workers: int,
    client: Any,
    url: str,
    reference: tuple[Any, Any],
    work: Path,
) -> PathResult:
    client.flushdb()
    rows, start = work / "documents.json", work / "start"
    start.unlink(missing_ok=True)
    rows.write_text(json.dumps([asdict(d) for d in documents], ensure_ascii=False), encoding="utf-8")
    server = _server_cpu(client)
    before = _used_memory(client)
    running = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(rows),
                url,
                str(part),
                str(workers),
                str(start),
                str(ROOT),
                str(batch),
                str(ENGINE_COMMIT_EVERY),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for part in range(workers)
    ]
    time.sleep(2.0 + workers)  # imports and connections, then all start together
    began = time.perf_counter()
    start.touch()
    reports = []
    for process in running:
        out, _ = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(f"worker failed with exit code {process.returncode}")
        reports.append(json.loads(out))
    wall = time.perf_counter() - began
    server = _server_cpu(client) - server
    with DedupEngine.open(DedupConfig(index_url=url, redis_prefix=PREFIX, commit_every=ENGINE_COMMIT_EVERY)) as engine:
        same = (_pairs(engine), _clusters(engine)) == reference
    return PathResult(
        name=f"redis x{workers}",
        documents=len(documents),
        wall_seconds=wall,
        client_cpu_seconds=sum(r["cpu"] for r in reports),
        server_cpu_seconds=server,
        round_trips=sum(r["round_trips"] for r in reports),
        bytes_total=_used_memory(client) - before,
        pairs=len(reference[0]),
        same_as_sqlite=same,
        notes=f"{workers} worker processes adding interleaved shares at once; client CPU summed over workers; "
        "same pairs, clusters and originals as one SQLite process when true",
    )


class DatasketchBandsIndex(RedisDedupIndex):
    """Option A: band lookups in datasketch's ``MinHashLSH`` (Redis storage), the rest in our keys.

    ``query`` then ``insert`` are separate round trips, so two workers adding copies of each other at
    the same moment can miss each other; measured for its memory and speed only.
    """

    def attach(self, url: str, basename: bytes) -> None:
        parsed = redis.connection.parse_url(url)
        # The engine signs only the banded values (``signature_width``) when no signature is stored.
        self.lsh = MinHashLSH(
            num_perm=self.parameters.signature_width or self.parameters.num_perm,
            params=(self.parameters.bands, self.parameters.rows),
            storage_config={"type": "redis", "basename": basename, "redis": parsed},
        )
        packer = self._band_keys  # documents come without band keys: they are in datasketch's storage
        self._band_keys = lambda band_keys: [] if band_keys.size == 0 else packer(band_keys)

    def add(self, document: NewDocument, *, limit: int | None = None) -> Added:
        empty = np.zeros(0, dtype=np.int32)
        minhash = LeanMinHash(seed=self.parameters.seed, hashvalues=document.signature, scheme="affine32")
        found = sorted(int(key) for key in self.lsh.query(minhash))
        added = RedisDedupIndex.add(self, _without_bands(document, empty))
        if added.doc_id is None:
            return added
        self.lsh.insert(added.doc_id, minhash, check_duplication=False)
        return Added(added.doc_id, found[:limit] if limit is not None else found)


def _without_bands(document: NewDocument, empty: Any) -> NewDocument:
    from dataclasses import replace

    return replace(document, band_keys=empty)


def run_datasketch(
    documents: Sequence[Document], batch: int, client: Any, url: str, reference: tuple[Any, Any]
) -> PathResult:
    client.flushdb()
    before, server = _used_memory(client), _server_cpu(client)
    basename = b"bench-ds"
    index = DatasketchBandsIndex.open(url, IndexParameters(), prefix=PREFIX)
    index.attach(url, basename)
    engine = DedupEngine(index)
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in _batches(documents, batch):
        engine.add_many(chunk)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = _server_cpu(client) - server
    used = _used_memory(client) - before
    families = _by_family(client, PREFIX)
    families["bands"] = _datasketch_bytes(client, basename.decode())
    pairs, clusters = _pairs(engine), _clusters(engine)
    engine.close()
    return PathResult(
        name="datasketch",
        documents=len(documents),
        wall_seconds=wall,
        client_cpu_seconds=cpu,
        server_cpu_seconds=server,
        bytes_total=used,
        bytes_by_family=families,
        pairs=len(pairs),
        same_as_sqlite=(pairs, clusters) == reference,
        notes="MinHashLSH(storage_config redis) for bands (query, then insert; round trips not counted), "
        "our records/sketches/clusters",
    )


_RELEASE_LOCK = """
-- release the lock only if this client still holds it
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def time_joins(client: Any, url: str, joins: int) -> dict[str, float]:
    """Median microseconds per join: our Lua script, and a read-modify-write under a short lock."""
    client.flushdb()
    index = RedisDedupIndex.open(url, IndexParameters(), prefix="joins:")
    rng = np.random.default_rng(7)
    pairs = rng.integers(1, joins, size=(joins, 2)).tolist()
    lua = []
    for first, second in pairs:
        started = time.perf_counter()
        index.join(int(first), [int(second)])
        lua.append(time.perf_counter() - started)
    index.close()
    release = client.register_script(_RELEASE_LOCK)
    locked = []
    for first, second in pairs:
        started = time.perf_counter()
        token = os.urandom(8)
        while not client.set("lockjoin:lock", token, nx=True, px=2000):
            time.sleep(0.0005)
        ids = [int(first), int(second)]
        labels = client.hmget("lockjoin:m", ids)
        clusters = sorted({int(c) for c in labels if c is not None})
        target = min([*clusters, *ids])
        pipe = client.pipeline(transaction=False)
        for cluster in clusters:
            if cluster != target:
                members = client.smembers(f"lockjoin:c:{cluster}")
                for member in members:
                    pipe.hset("lockjoin:m", member, target)
                if members:
                    pipe.sadd(f"lockjoin:c:{target}", *members)
                pipe.delete(f"lockjoin:c:{cluster}")
        for doc, label in zip(ids, labels, strict=True):
            if label is None:
                pipe.hset("lockjoin:m", doc, target)
                pipe.sadd(f"lockjoin:c:{target}", doc)
        pipe.execute()
        release(keys=["lockjoin:lock"], args=[token])
        locked.append(time.perf_counter() - started)
    return {
        "joins": joins,
        "lua_script_us_median": statistics.median(lua) * 1e6,
        "locked_rmw_us_median": statistics.median(locked) * 1e6,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of .txt articles (evaluation only)")
    parser.add_argument("--docs", type=int, default=10000, help="documents in the corpus, planted copies included")
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--batch", type=int, default=64, help="documents per add_many call")
    parser.add_argument("--workers", type=int, default=2, help="concurrent worker processes for the redis xN path")
    parser.add_argument("--datasketch-docs", type=int, default=0, help="documents for the datasketch path (0: all)")
    parser.add_argument("--joins", type=int, default=2000, help="cluster joins timed per method")
    parser.add_argument("--truth", action="store_true", help="compute the exact copy pairs for precision and recall")
    parser.add_argument("--redis-url", help="an empty Redis database to use (default: a private redis-server)")
    parser.add_argument(
        "--paths",
        default="sqlite,redis,workers,datasketch,joins",
        help="comma-separated subset of sqlite,redis,workers,datasketch,joins (the others need sqlite for "
        "their same-as-SQLite check)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    articles = dedup_bench.read_articles(args.corpus)
    if not articles:
        print(f"no .txt articles under {args.corpus}", file=sys.stderr)
        return 2
    corpus = dedup_bench.build_corpus(articles, args.docs, seed=args.seed)
    documents = dedup_bench._documents(corpus)
    print(f"corpus: {len(documents)} documents from {len(articles)} articles")
    with tempfile.TemporaryDirectory(prefix="dedup-redis-bench-") as scratch:
        work = Path(scratch)
        server = None if args.redis_url else RedisServer(work / "redis").__enter__()
        url = args.redis_url or server.url_for(1)  # type: ignore[union-attr]
        client = redis.Redis.from_url(url)
        try:
            version = client.info("server")["redis_version"]
            # Warm-up: numpy, normalisation tables, script loading.
            warmup = DedupConfig(index_url=url, redis_prefix="warmup:", commit_every=ENGINE_COMMIT_EVERY)
            with DedupEngine.open(warmup) as engine:
                engine.add_many(documents[:50])
            client.flushdb()
            wanted = set(args.paths.split(","))
            paths: list[PathResult] = []
            verdicts: list[Any] = []
            reference: tuple[Any, Any] = (None, None)
            if "sqlite" in wanted:
                sqlite, verdicts, reference = run_sqlite(documents, args.batch, work)
                paths.append(sqlite)
            if "redis" in wanted:
                paths.append(run_redis(documents, args.batch, client, url, reference, verdicts))
            if "workers" in wanted:
                paths.append(run_workers(documents, args.batch, args.workers, client, url, reference, work))
            if "datasketch" in wanted:
                sample = documents[: args.datasketch_docs] if args.datasketch_docs else documents
                paths.append(run_datasketch(sample, args.batch, client, url, reference))
            for path in paths:
                if reference == (None, None) or path.documents != len(documents):
                    path.same_as_sqlite = None
                print(_line(path))
            joins = time_joins(client, url, args.joins) if "joins" in wanted else None
            client.flushdb()
        finally:
            client.close()
            if server is not None:
                server.__exit__(None, None, None)
    quality = None
    if args.truth and reference[0] is not None:
        truth = dedup_bench.exact_truth([d.text for d in corpus.documents], DedupConfig().rule(), 5)
        position = {d.url: d.index for d in corpus.documents}
        found = {tuple(sorted((position[a], position[b]))) for a, b in reference[0]}
        quality = dedup_bench._precision_recall(found, truth)  # type: ignore[arg-type]
    result = {
        "machine": {
            "python": platform.python_version(),
            "redis_server": version,
            "redis_py": redis.__version__,
            "datasketch": datasketch.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "corpus": {"documents": len(documents), "articles": len(articles), "seed": args.seed, "batch": args.batch},
        "paths": {p.name: p.figures() for p in paths},
        "joins": joins,
        "pairs_vs_exact_truth": quality,
    }
    _print(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


def _line(path: PathResult) -> str:
    figures = path.figures()
    return (
        f"{path.name}: {figures['docs_per_wall_second']:.0f} docs/wall-s, "
        f"{figures['docs_per_client_cpu_second']:.0f} docs/client-CPU-s, "
        f"{figures.get('bytes_per_doc', 0):.0f} bytes/doc"
    )


def _print(result: dict[str, Any]) -> None:
    print()
    header = f"{'path':12s} {'docs/wall-s':>11s} {'docs/CPU-s':>10s} {'server µs/doc':>13s} {'req/doc':>7s}"
    print(header + f" {'bytes/doc':>9s}  same as SQLite")
    for name, p in result["paths"].items():
        server = p.get("server_cpu_us_per_doc")
        trips = p.get("round_trips_per_doc")
        print(
            f"{name:12s} {p['docs_per_wall_second']:11.0f} {p['docs_per_client_cpu_second']:10.0f} "
            f"{'' if server is None else f'{server:.0f}':>13s} {'' if trips is None else f'{trips:.2f}':>7s} "
            f"{p.get('bytes_per_doc', 0):9.0f}  {p['same_as_sqlite']}"
        )
    print()
    families = ("bands", "urls", "records", "sketches", "clusters", "pairs")
    print(f"{'bytes per document':20s} " + " ".join(f"{f:>9s}" for f in families))
    for name in ("redis", "datasketch"):
        if name in result["paths"]:
            parts = result["paths"][name]["bytes_per_doc_by_family"]
            print(f"{name:20s} " + " ".join(f"{parts.get(f, 0):9.0f}" for f in families))
    if "redis" in result["paths"]:
        growth = ", ".join(f"{n}: {b:.0f}" for n, b in result["paths"]["redis"]["bytes_as_it_grows"])
        print(f"redis bytes/doc as the index grows: {growth}")
    joins = result["joins"]
    if joins:
        print(
            f"cluster join: Lua script {joins['lua_script_us_median']:.0f} µs, "
            f"lock + read-modify-write {joins['locked_rmw_us_median']:.0f} µs (median of {joins['joins']})"
        )
    if result["pairs_vs_exact_truth"]:
        q = result["pairs_vs_exact_truth"]
        print(f"pairs vs exact truth: P {q['precision']:.4f} R {q['recall']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
