"""Client-rendered InfoQ pages: read through the article API against rendered by Chromium, same run.

Usage::

    .venv/bin/python bench/api.py [--runs 3]

The demo portal's InfoQ-like site serves most articles as empty shells whose script fills the body
from ``getDetail`` (HTML, a ProseMirror document, or a ``content_url``). The ``infoq`` spider is run
on it two ways, one ``scrapy crawl`` process each, every pipeline on:

- ``api``: the bundled profile: a shell's body comes from the article API (``[api]``), no browser;
- ``chromium``: the same profile without ``[api] detail``: every shell is rendered by Chromium
  (scrapy-playwright, ``/usr/bin/chromium``), as the spider read them before.

Per variant: articles with a body, shells read (``spider/api/read`` or ``spider/render/rendered``),
wall seconds, CPU seconds of the crawl and every process it waited for (Chromium's included), and
articles per CPU-second; the ratio is against ``chromium``. Prints a table and writes JSON to
``bench/results/api.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_archive.demo import DemoPortal  # noqa: E402
from portal_archive.demo.run import crawl_env  # noqa: E402

PROFILE = ROOT / "portal_archive" / "profiles" / "portals" / "infoq.toml"


@dataclass
class Run:
    variant: str
    articles: int
    with_body: int
    shells_read: int
    wall_s: float
    cpu_s: float

    @property
    def per_cpu_s(self) -> float:
        return self.with_body / self.cpu_s if self.cpu_s else 0.0


def _without_detail_api(work: Path) -> Path:
    """The bundled profile minus its article API: shells are left to the browser."""
    keep = [
        line
        for line in PROFILE.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("detail =", "detail_body =", "id ="))
    ]
    path = work / "infoq-chromium.toml"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


def _crawl(variant: str, base_url: str, work: Path, profile: Path | None) -> Run:
    out = work / variant
    out.mkdir(parents=True, exist_ok=True)
    spider = ["portal", "-a", f"profile={profile}"] if profile is not None else ["infoq"]
    command = [
        sys.executable, "-m", "scrapy", "crawl", *spider, "-a", f"base_url={base_url}",
        "-O", str(out / "items.jsonl"), "-s", f"WARC_DIR={out / 'warc'}",
        "-s", f"RUN_STATS_FILE={out / 'stats.json'}", "-s", "LOG_LEVEL=WARNING", "-s", "REFERENCES_ENABLED=False",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=crawl_env(), cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    items = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines() if line]
    stats: dict[str, Any] = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    shells = int(stats.get("spider/api/read", 0)) + int(stats.get("spider/render/rendered", 0))
    with_body = sum(1 for item in items if item.get("body_text"))
    return Run(variant, len(items), with_body, shells, wall, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "api.json")
    args = parser.parse_args(argv)
    runs: dict[str, list[Run]] = {"api": [], "chromium": []}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, DemoPortal() as portal:
        work = Path(tmp)
        chromium_profile = _without_detail_api(work)
        for number in range(args.runs):  # rounds: both variants once per round, so a slow spell hits both
            for variant, profile in (("api", None), ("chromium", chromium_profile)):
                runs[variant].append(_crawl(variant, portal.infoq_url, work / f"{number}", profile))
    medians = {
        variant: Run(
            variant,
            found[0].articles,
            found[0].with_body,
            found[0].shells_read,
            statistics.median(r.wall_s for r in found),
            statistics.median(r.cpu_s for r in found),
        )
        for variant, found in runs.items()
    }
    peer = medians["chromium"].per_cpu_s
    print(f"InfoQ-like demo site, {medians['api'].articles} articles, median of {args.runs} rounds")
    print(f"{'variant':10} {'articles':>8} {'bodies':>7} {'shells read':>11} {'wall s':>7} {'CPU s':>7} "
          f"{'articles/CPU-s':>14} {'vs chromium':>11}")  # fmt: skip
    for run in medians.values():
        ratio = run.per_cpu_s / peer if peer else 0.0
        print(f"{run.variant:10} {run.articles:8d} {run.with_body:7d} {run.shells_read:11d} {run.wall_s:7.1f} "
              f"{run.cpu_s:7.1f} {run.per_cpu_s:14.1f} {ratio:10.1f}x")  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": platform.platform(),
        "runs": args.runs,
        "medians": {variant: {**asdict(run), "per_cpu_s": run.per_cpu_s} for variant, run in medians.items()},
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
