"""WARC writing throughput: our writer against plain warcio, same records, same run.

Writes N response + request records, as a crawl does, and reports records per CPU-second and
file size. Bodies are built from the demo corpus's Chinese paragraphs, or taken from real pages
(``--pages DIR`` of ``*.html`` / ``*.html.gz``, e.g. ../shared/data/daniel_zh/html, read in place).

    .venv/bin/python bench/warc_write.py [--records 2000] [--body-size 50000] [--runs 3] [--pages DIR]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter

RESULTS = Path(__file__).parent / "results"
CORPUS = Path(__file__).resolve().parent.parent / "portal_archive" / "demo" / "corpus"


def make_bodies(count: int, size: int, seed: int = 7) -> list[bytes]:
    """Distinct Chinese article pages of about ``size`` bytes, from the demo corpus paragraphs."""
    paragraphs = [p for f in sorted(CORPUS.glob("*.json")) for a in json.loads(f.read_text("utf-8"))
                  for p in a["paragraphs"]]  # fmt: skip
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        parts = [f"<html><head><meta charset='utf-8'><title>文章 {i}</title></head><body><article>"]
        length = 0
        while length < size:
            chunk = f"<p>{rng.choice(paragraphs)}</p>\n"
            parts.append(chunk)
            length += len(chunk.encode("utf-8"))
        parts.append("</article></body></html>")
        bodies.append("".join(parts).encode("utf-8")[:size])
    return bodies


def load_pages(directory: Path, count: int) -> list[bytes]:
    """Real pages, cycled to ``count`` records (each record still gets its own URL)."""
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".html", ".html.gz")))
    if not files:
        raise SystemExit(f"no .html or .html.gz files in {directory}")
    pages = [gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes() for p in files]
    # A distinct tail per record: identical payloads would become revisits and flatter our writer.
    return [pages[i % len(pages)] + b"<!-- record %d -->" % i for i in range(count)]


HEADERS = [(b"Content-Type", b"text/html; charset=utf-8"), (b"Server", b"nginx")]


def run_ours(bodies: list[bytes], directory: Path, level: int) -> Path:
    writer = RotatingWarcWriter(directory=directory, prefix="ours", gzip_level=level, host="bench",
                                warcinfo=[("software", "bench")])  # fmt: skip
    for i, body in enumerate(bodies):
        headers = [*HEADERS, (b"Content-Length", str(len(body)).encode())]
        writer.write_exchange(HttpExchange(url=f"http://bench.test/a/{i}", status=200, response_headers=headers,
                                           request_headers=[(b"User-Agent", b"bench")], body=body,
                                           ip_address="127.0.0.1"))  # fmt: skip
    path = writer.close()
    assert path is not None
    return path


def run_warcio(bodies: list[bytes], directory: Path) -> Path:
    path = directory / "warcio.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "bench"}))
        for i, body in enumerate(bodies):
            url = f"http://bench.test/a/{i}"
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx"),
                       ("Content-Length", str(len(body)))]  # fmt: skip
            response = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-IP-Address": "127.0.0.1"},
            )  # fmt: skip
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET /a/{i} HTTP/1.1", [("Host", "bench.test"), ("User-Agent", "bench")],
                                              is_http_request=True),
            )  # fmt: skip
            writer.write_request_response_pair(request, response)
    return path


def measure(label: str, action: Callable[[Path], Path], runs: int) -> dict[str, float | str]:
    cpu, wall, sizes = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            path = action(Path(tmp))
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start_wall)
            sizes.append(path.stat().st_size)
    return {"writer": label, "cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall),
            "bytes": statistics.median(sizes)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--body-size", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=Path, help="folder of real pages to use as bodies")
    args = parser.parse_args()
    bodies = load_pages(args.pages, args.records) if args.pages else make_bodies(args.records, args.body_size)
    size = sum(map(len, bodies)) // len(bodies)
    rows = [
        measure("warcio 1.8 (gzip level 9)", lambda d: run_warcio(bodies, d), args.runs),
        measure("portal-archive level 6 (default)", lambda d: run_ours(bodies, d, 6), args.runs),
        measure("portal-archive level 1", lambda d: run_ours(bodies, d, 1), args.runs),
    ]
    base = rows[0]
    source = f"pages from {args.pages}" if args.pages else "demo-corpus pages"
    print(f"{args.records} records, {size} B mean body ({source}), median of {args.runs} runs, {platform.machine()}")
    print(f"{'writer':34} {'records/CPU-s':>14} {'vs warcio':>10} {'MB':>8} {'size vs warcio':>15}")
    for row in rows:
        rate = args.records / float(row["cpu_s"])
        row["records_per_cpu_s"] = rate
        row["speed_ratio"] = float(base["cpu_s"]) / float(row["cpu_s"])
        row["size_ratio"] = float(row["bytes"]) / float(base["bytes"])
        print(f"{row['writer']:34} {rate:14.0f} {row['speed_ratio']:9.2f}x {float(row['bytes']) / 1e6:8.2f} "
              f"{(row['size_ratio'] - 1) * 100:+14.2f}%")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "warc_write.json"
    summary = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "records": args.records,
               "body_size": size, "source": source, "runs": args.runs, "rows": rows}  # fmt: skip
    out.write_text(json.dumps(summary, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
