"""``dedup-report --jobs``: articles per wall-second as extraction spreads over processes, with the
clusters checked equal to one process's.

Usage::

    .venv/bin/python bench/report_jobs.py [--articles 3000] [--jobs 1,2] [--runs 3]

The archive is ``bench/report.py``'s synthetic crawl, read with ``--no-metadata``: every page is
extracted, as in a third-party collection (wget, Heritrix, Common Crawl), which is where extraction
is the cost. Each setting runs ``build_from_warcs`` (read, extract, index, cluster, choose the
originals), median wall time of ``--runs`` runs after a warm-up, the settings taking turns, on an
otherwise idle machine: wall time is the point here. The peer is ``--jobs 1`` in the same run.
Writes a table to stdout and JSON to ``bench/results/report_jobs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--jobs", default="1,2", help="settings to compare, comma-separated; the first is the peer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = [int(j) for j in args.jobs.split(",") if j.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-report-jobs-") as scratch:
        paths = write_archive(Path(scratch), make_articles(args.articles, args.seed))
        archive_bytes = sum(p.stat().st_size for p in paths)
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
    print(f"{args.articles} articles re-extracted, {archive_bytes / 1e6:.1f} MB of WARC, {os.cpu_count()} cores")
    print(f"{'jobs':>5} {'articles':>9} {'clusters':>9} {'articles/wall-s':>16} {'vs first':>9} {'same':>5}")
    for row in rows:
        ratio = row["articles_per_wall_second"] / peer
        row["ratio_to_first"] = round(ratio, 2)
        print(
            f"{row['jobs']:>5} {row['articles']:>9} {row['clusters']:>9} {row['articles_per_wall_second']:>16,.0f} "
            f"{ratio:>8.2f}x {'yes' if row['same_clusters_as_first'] else 'NO':>5}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"when": datetime.now(UTC).isoformat(timespec="seconds"), "version": __version__,
             "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
             "archive": {"articles": args.articles, "warc_bytes": archive_bytes}, "results": rows},
            indent=2,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return 0 if all(row["same_clusters_as_first"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
