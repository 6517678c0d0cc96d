"""``dedup-report --jobs``: articles per wall-second as extraction spreads over processes, with the
clusters checked equal to one process's.

Usage::

    .venv/bin/python bench/report_jobs.py [--articles 3000] [--jobs 1,2] [--runs 3]

The archive is ``bench/report.py``'s synthetic crawl, read with ``--no-metadata``: every page is
extracted, as in a third-party collection (wget, Heritrix, Common Crawl), which is where extraction
is the cost. Each setting runs ``build_from_warcs`` (read, extract, index, cluster, choose the
originals), median wall time of ``--runs`` runs after a warm-up, the settings taking turns, on an
otherwise idle machine: wall time is the point here. The peer is ``--jobs 1`` in the same run.

The machine's own ceiling is measured in the same turns: the archive's articles written as two
halves, and two independent ``--jobs 1`` reports, one per half, run at the same time in two
processes that never talk to each other. Their articles per wall-second over one process's is what
two cores give this work when nothing is shared or sent (a virtual machine's two cores may give
less than 2x); ``--jobs 2`` is shown against it too.
Writes a table to stdout and JSON to ``bench/results/report_jobs.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import make_articles, write_archive

from portal_archive import __version__
from portal_archive.dedup import DedupConfig
from portal_archive.report.build import ReportOptions, build_from_warcs
from portal_archive.report.model import Report

RESULTS = Path(__file__).resolve().parent / "results" / "report_jobs.json"


def clusters(report: Report) -> list[list[str]]:
    """Each cluster as its sorted member URLs, with its original first."""
    return sorted([c.canonical.url, *sorted(m.url for m in c.members)] for c in report.clusters)


def run(paths: list[Path], jobs: int) -> tuple[float, Report]:
    """Wall seconds of one report with ``jobs`` extraction processes."""
    started = time.perf_counter()
    report = build_from_warcs(paths, DedupConfig(), ReportOptions(use_metadata=False), jobs=jobs)
    return time.perf_counter() - started, report


def _report_of(paths: list[Path]) -> None:
    build_from_warcs(paths, DedupConfig(), ReportOptions(use_metadata=False), jobs=1)


def independent(halves: list[list[Path]]) -> float:
    """Wall seconds of one ``--jobs 1`` report per half, all at once, each in its own process."""
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    processes = [context.Process(target=_report_of, args=(half,)) for half in halves]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    wall = time.perf_counter() - started
    failed = [process.exitcode for process in processes if process.exitcode]
    if failed:
        raise RuntimeError(f"an independent report failed with exit code {failed[0]}")
    return wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--jobs", default="1,2", help="settings to compare, comma-separated; the first is the peer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = [int(j) for j in args.jobs.split(",") if j.strip()]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-jobs-") as scratch:
        articles = make_articles(args.articles, args.seed)
        paths = write_archive(Path(scratch), articles)
        archive_bytes = sum(p.stat().st_size for p in paths)
        middle = len(articles) // 2
        halves = [
            write_archive(Path(scratch) / name, part)
            for name, part in (("first", articles[:middle]), ("second", articles[middle:]))
        ]
        ceiling_walls: list[float] = []
        walls: dict[int, list[float]] = {jobs: [] for jobs in settings}
        found: dict[int, list[list[str]]] = {}
        reports: dict[int, Report] = {}
        # Settings take turns, run after run: a shared machine's speed drifts over minutes, and
        # turns spread the drift over every setting alike. The first turn warms up and is not timed.
        for turn in range(args.runs + 1):
            for jobs in settings:
                print(f"turn {turn} of {args.runs}, --jobs {jobs} ...", file=sys.stderr, flush=True)
                wall, report = run(paths, jobs)
                if turn:
                    walls[jobs].append(wall)
                found[jobs], reports[jobs] = clusters(report), report
            print(f"turn {turn} of {args.runs}, two independent halves ...", file=sys.stderr, flush=True)
            wall = independent(halves)
            if turn:
                ceiling_walls.append(wall)
        for jobs in settings:
            report = reports[jobs]
            wall = statistics.median(walls[jobs])
            rows.append({
                "jobs": jobs,
                "articles": report.totals.articles,
                "clusters": report.totals.clusters,
                "wall_seconds": [round(w, 2) for w in walls[jobs]],
                "articles_per_wall_second": round(report.totals.articles / wall, 1),
                "same_clusters_as_first": found[jobs] == found[settings[0]],
            })  # fmt: skip
    peer = rows[0]["articles_per_wall_second"]
    ceiling_rate = round(args.articles / statistics.median(ceiling_walls), 1)
    ceiling = {
        "processes": len(halves),
        "articles": args.articles,
        "wall_seconds": [round(w, 2) for w in ceiling_walls],
        "articles_per_wall_second": ceiling_rate,
        "ratio_to_first": round(ceiling_rate / peer, 2),
    }
    print(f"{args.articles} articles re-extracted, {archive_bytes / 1e6:.1f} MB of WARC, {os.cpu_count()} cores")
    print(
        f"{'jobs':>28} {'articles':>9} {'clusters':>9} {'articles/wall-s':>16} {'vs first':>9} {'vs ceiling':>11} "
        f"{'same':>5}"
    )
    for row in rows:
        ratio = row["articles_per_wall_second"] / peer
        row["ratio_to_first"] = round(ratio, 2)
        row["ratio_to_ceiling"] = round(row["articles_per_wall_second"] / ceiling_rate, 2)
        print(
            f"{row['jobs']:>28} {row['articles']:>9} {row['clusters']:>9} {row['articles_per_wall_second']:>16,.0f} "
            f"{ratio:>8.2f}x {row['ratio_to_ceiling']:>10.2f}x {'yes' if row['same_clusters_as_first'] else 'NO':>5}"
        )
    print(
        f"{'ceiling: 2 x --jobs 1, halves':>28} {args.articles:>9} {'-':>9} {ceiling_rate:>16,.0f} "
        f"{ceiling['ratio_to_first']:>8.2f}x {1:>10.2f}x {'-':>5}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"when": datetime.now(UTC).isoformat(timespec="seconds"), "version": __version__,
             "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
             "archive": {"articles": args.articles, "warc_bytes": archive_bytes}, "results": rows,
             "ceiling": ceiling},
            indent=2,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return 0 if all(row["same_clusters_as_first"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
