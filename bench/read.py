"""Reading WARC files others wrote: our ``index`` and ``check`` against FastWARC, cdxj-indexer and warcio.

The corpus is the third-party WARC files their producers call conformant (``../shared/data/
thirdparty_warcs``, read in place), gzip member by member, joined into one file of at least
``--megabytes`` (gzip members concatenate into a valid file). Every tool runs as its own process
over that file, in rounds (every tool once per round, ``--runs`` rounds, medians reported); wall
and CPU time and peak RSS come from GNU time. A second file holds one record
of ``--big-record`` MiB, for peak memory on a record larger than any buffer.

    .venv/bin/python bench/read.py [--megabytes 100] [--runs 3] [--big-record 400]

FastWARC (Resiliparse) comes with the project's ``bench`` extra.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
THIRD_PARTY = Path(__file__).resolve().parents[2] / "shared" / "data" / "thirdparty_warcs"
BIN = Path(sys.executable).parent
TIME = shutil.which("time") or "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


def conformant_gzip_files() -> list[Path]:
    """The per-record gzip files SOURCE.md calls conformant that every peer reads to the end.

    ``warcio check`` stops at the first file it cannot decode (brotli, warcio#73): such files are
    left out, or warcio's rate would be that of reading a part of the corpus.
    """
    rows = (line.split("|") for line in (THIRD_PARTY / "SOURCE.md").read_text(encoding="utf-8").splitlines())
    names = [cells[1].strip() for cells in rows if len(cells) > 4 and cells[3].strip() == "conformant"]
    files = [THIRD_PARTY / n for n in names if n.endswith(".warc.gz") and (THIRD_PARTY / n).exists()]
    return [path for path in files if _warcio_reads(path)]


def _warcio_reads(path: Path) -> bool:
    result = subprocess.run([str(BIN / "warcio"), "check", str(path)], capture_output=True, check=False)
    return result.returncode == 0


def join_corpus(files: list[Path], megabytes: int, out: Path) -> int:
    """Concatenate ``files`` (again and again) into ``out`` until it holds ``megabytes``; its size."""
    size = 0
    with out.open("wb") as joined:
        while size < megabytes * 1_000_000:
            for path in files:
                data = path.read_bytes()
                joined.write(data)
                size += len(data)
    return size


def big_record_file(mebibytes: int, out: Path) -> int:
    """One warcinfo and one response of ``mebibytes`` of random bytes, digests correct, uncompressed."""
    size = mebibytes * 1024 * 1024
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % size
    chunk = os.urandom(1 << 20)
    block, payload = hashlib.sha1(head), hashlib.sha1()  # noqa: S324 - the digest WARC files carry
    for _ in range(mebibytes):
        block.update(chunk)
        payload.update(chunk)

    def label(digest: Any) -> str:
        return "sha1:" + base64.b32encode(digest.digest()).decode()

    info = b"software: bench\r\n"
    with out.open("wb") as warc:
        warc.write(
            b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
            b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/warc-fields\r\nContent-Length: %d\r\n\r\n"
            % len(info)
            + info
            + b"\r\n\r\n"
        )
        warc.write(
            (
                "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
                "WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: http://bench.test/big\r\n"
                "Content-Type: application/http;msgtype=response\r\n"
                f"WARC-Block-Digest: {label(block)}\r\nWARC-Payload-Digest: {label(payload)}\r\n"
                f"Content-Length: {len(head) + size}\r\n\r\n"
            ).encode()
            + head
        )
        for _ in range(mebibytes):
            warc.write(chunk)
        warc.write(b"\r\n\r\n")
    return out.stat().st_size


def timed(command: list[str], cwd: Path) -> Run:
    """Run ``command`` under GNU time: wall seconds, user + system seconds, peak RSS."""
    result = subprocess.run([TIME, "-f", "%e %U %S %M", *command], cwd=cwd, capture_output=True, text=True, check=False)
    match = re.search(r"([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$", result.stderr)
    if match is None:
        raise RuntimeError(f"{command[0]}: no timing in {result.stderr[-500:]!r}")
    wall, user, system, rss = match.groups()
    return Run(float(wall), float(user) + float(system), int(rss) / 1024, result.returncode)


def tools(corpus: Path, work: Path) -> dict[str, list[str]]:
    """Each tool's command over ``corpus`` (ours indexes the folder it is in); index outputs go to ``work``."""
    folder = corpus.parent
    ours = str(BIN / "portal-archive")
    return {
        "ours index": [ours, "index", str(folder), "-o", str(work / "ours.cdxj")],
        "ours index -j1": [ours, "index", "-j", "1", str(folder), "-o", str(work / "ours1.cdxj")],
        "cdxj-indexer": [str(BIN / "cdxj-indexer"), str(corpus), "-o", str(work / "cdxj-indexer.cdxj")],
        "fastwarc index": [
            str(BIN / "fastwarc"),
            "index",
            "-f",
            "offset,length,filename,http:status,warc-target-uri",
            str(corpus),
            "-o",
            str(work / "fastwarc.cdxj"),
        ],
        "ours check": [ours, "check", "-q", str(corpus)],
        "ours check -j1": [ours, "check", "-q", "-j", "1", str(corpus)],
        "warcio check": [str(BIN / "warcio"), "check", str(corpus)],
        "fastwarc check": [str(BIN / "fastwarc"), "check", "-p", "-q", str(corpus)],
    }


def measure(name: str, command: list[str], work: Path, runs: int) -> list[Run]:
    found = []
    for _ in range(runs):
        for folder in (work / "folder", work / "big"):  # ours indexes anew every run
            shutil.rmtree(folder / "indexes", ignore_errors=True)
        found.append(timed(command, work))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-record", type=int, default=400, help="MiB of the one-record file (0: skip)")
    args = parser.parse_args(argv)
    if not THIRD_PARTY.is_dir():
        print(f"{THIRD_PARTY} is absent", file=sys.stderr)
        return 1
    if not (BIN / "fastwarc").exists():
        print("FastWARC is not installed: make setup (the bench extra) installs it", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-read-") as scratch:
        work = Path(scratch)
        (work / "folder").mkdir()
        corpus = work / "folder" / "corpus.warc.gz"
        size = join_corpus(conformant_gzip_files(), args.megabytes, corpus)
        rows: dict[str, dict[str, Any]] = {}
        commands = tools(corpus, work)
        timings: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(args.runs):  # rounds: every tool once per round, so a slow spell of the machine hits all
            for name, command in commands.items():
                timings[name] += measure(name, command, work, 1)
        for name, runs in timings.items():
            wall = statistics.median(r.wall for r in runs)
            cpu = statistics.median(r.cpu for r in runs)
            rows[name] = {
                "mb_per_s": size / 1e6 / wall if wall else 0.0,
                "mb_per_cpu_s": size / 1e6 / cpu if cpu else 0.0,
                "rss_mb": max(r.rss_mb for r in runs),
                "exit_codes": sorted({r.code for r in runs}),
            }
        big_rows: dict[str, float] = {}
        if args.big_record:
            (work / "big").mkdir()
            big = work / "big" / "big.warc"
            big_record_file(args.big_record, big)
            for name, command in tools(big, work).items():
                big_rows[name] = max(run.rss_mb for run in measure(name, command, work, 1))
            big.unlink()
    print(f"{size / 1e6:.0f} MB of gzipped WARC (conformant files joined), median of {args.runs} runs")
    print(
        f"{'tool':<16} {'MB/s':>7} {'MB/CPU-s':>9} {'vs fastwarc':>12} {'per CPU-s':>10} {'peak RSS MB':>12} "
        f"{'400 MiB record RSS':>19}"
    )
    for name, row in rows.items():
        peer = rows["fastwarc index" if "index" in name or name == "cdxj-indexer" else "fastwarc check"]
        ratio = row["mb_per_s"] / peer["mb_per_s"] if peer["mb_per_s"] else 0.0
        cpu_ratio = row["mb_per_cpu_s"] / peer["mb_per_cpu_s"] if peer["mb_per_cpu_s"] else 0.0
        big_rss = f"{big_rows[name]:.0f}" if name in big_rows else "-"
        print(f"{name:<16} {row['mb_per_s']:>7.1f} {row['mb_per_cpu_s']:>9.1f} {ratio:>11.2f}x {cpu_ratio:>9.2f}x "
              f"{row['rss_mb']:>12.0f} {big_rss:>19}")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "corpus_bytes": size,
        "runs": args.runs,
        "results": rows,
        "big_record_mib": args.big_record,
        "big_record_rss_mb": big_rows,
    }
    (RESULTS / "read.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"results: {RESULTS / 'read.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
