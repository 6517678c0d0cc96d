"""End-to-end crawl bench: our pipeline against wget and bare Scrapy, on one generated site, same run.

A static Chinese news portal (``bench/sites/portal.py``: 2,000 articles of 2-4 KB, a tenth of
them syndicated near-copies, 100 paginated list pages, robots.txt) is written to a temp folder and
served on 127.0.0.1 by nginx (``bench/sites/servers.py``; generated config, ``daemon off``). Each
variant then crawls the whole site as a child process:

- ``wget``: Debian's wget, ``-r -l inf --warc-file`` (gzip + digests), robots.txt respected;
- ``bare``: ``scrapy runspider bench/bare_spider.py``: Scrapy's defaults (run outside the
  project), following every link, no WARC, no extraction;
- ``bare+warc``: the same spider with our capture extension only (fetch + WARC);
- ``ours-nopipe``: ``scrapy crawl portal`` with project settings but ``ITEM_PIPELINES={}``
  (fetch + WARC + extraction, no near-duplicate index, no metadata records);
- ``ours``: ``scrapy crawl portal`` with project settings: fetch, WARC, extraction, near-duplicate
  index, metadata records, CDXJ index at the end.

Every Scrapy variant gets the same ``CONCURRENT_REQUESTS`` / ``CONCURRENT_REQUESTS_PER_DOMAIN``
(``--concurrency TOTAL/PER_DOMAIN``, default the project's), ``LOG_LEVEL=INFO`` and
``TELNETCONSOLE_ENABLED=False``. Per run: wall seconds of the process (start-up included), CPU
seconds (user + system of the child and its children, from ``os.wait4``), peak RSS, pages
(responses received: robots.txt, home, lists, articles). Rates are medians over ``--runs`` rounds;
variants alternate within a round so load drift hits all of them alike. The server's own CPU is
reported to show that it is not the bottleneck.

Modes::

    .venv/bin/python bench/crawl.py [--runs 3]                  # throughput, nginx
    .venv/bin/python bench/crawl.py --latency-ms 50 [--concurrency 16/8 32/16]
    .venv/bin/python bench/crawl.py --memory [--articles 20000]

``--latency-ms`` serves the site from an in-memory asyncio server that answers each request that
many milliseconds late (a remote site: requests wait side by side, costing no CPU), so concurrency
decides wall throughput. ``--memory`` crawls a 20,000-article site with ``ours`` and samples the
crawler's RSS (``/proc/PID/status``) at every ``LogStats`` line (``LOGSTATS_INTERVAL=1``), reporting
it at 5,000 and at 20,000 pages crawled.

Prints tables and writes JSON to ``bench/results/crawl.json`` (one section per mode, kept across
runs of the other modes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sites.portal import SiteManifest, build_site, write_profile
from sites.servers import DelayServer, NginxServer, nginx_binary

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
SCRAPY = str(VENV_BIN / "scrapy")
BARE_SPIDER = BENCH / "bare_spider.py"
CAPTURE_ONLY = json.dumps({"portal_archive.capture.extension.WarcCaptureExtension": 0})
DEFAULT_VARIANTS = ("wget", "bare", "bare+warc", "ours-nopipe", "ours")
LATENCY_VARIANTS = ("wget", "bare", "ours")
LOGSTATS_RE = re.compile(r"Crawled (\d+) pages")
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""


@dataclass
class Run:
    """One crawl by one variant."""

    wall_s: float
    cpu_s: float
    maxrss_mb: float
    pages: int
    server_cpu_s: float
    stats: dict[str, Any] = field(default_factory=dict)
    rss_samples: list[tuple[int, float]] = field(default_factory=list)
    """``(pages crawled, RSS MB)`` at each LogStats line (memory mode)."""


@dataclass
class Context:
    base_url: str
    profile: Path
    concurrency: tuple[int, int]
    server_cpu: Callable[[], float]
    sample_memory: bool = False
    extra_settings: tuple[str, ...] = ()
    profile_dir: Path | None = None
    """With ``--py-spy DIR``: Scrapy variants run under ``py-spy record`` (collapsed stacks in DIR)."""


def project_concurrency() -> tuple[int, int]:
    from portal_archive import settings

    return int(settings.CONCURRENT_REQUESTS), int(settings.CONCURRENT_REQUESTS_PER_DOMAIN)


def parse_concurrency(text: str) -> tuple[int, int]:
    total, _, per_domain = text.partition("/")
    return int(total), int(per_domain or total)


def _sample_rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _crawler_pid(pid: int) -> int:
    """The crawling process: ``pid`` itself, or its child when ``/usr/bin/time`` runs it."""
    if not TIME:
        return pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pid
    return int(children[0]) if children else pid


def _follow_log(log: Path, pid: int, done: threading.Event, samples: list[tuple[int, float]]) -> None:
    """Read LogStats lines as they are written; sample the crawler's RSS at each."""
    position = 0
    while not done.is_set():
        time.sleep(0.05)
        try:
            with log.open("rb") as fh:
                fh.seek(position)
                chunk = fh.read()
        except OSError:
            continue
        end = chunk.rfind(b"\n") + 1
        position += end
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            match = LOGSTATS_RE.search(line)
            if match:
                rss = _sample_rss(_crawler_pid(pid))
                if rss:
                    samples.append((int(match.group(1)), rss))


def run_child(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], context: Context, log: Path | None = None, out: Path
) -> Run:
    """Run one crawl to completion; wall, CPU and peak RSS of the child (and its children).

    CPU comes from ``os.wait4`` (user + system of the child and every child it waited for). Peak
    RSS comes from ``/usr/bin/time`` wrapped around the command: a child forked from this process
    inherits its RSS high-water mark until ``exec`` (the kernel keeps the larger of the two), which
    would report ~60 MB for wget.
    """
    server_before = context.server_cpu()
    samples: list[tuple[int, float]] = []
    rss_file = out / "maxrss.txt"
    wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *command] if TIME else list(command)
    with (out / "stdout.txt").open("wb") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=stdout, stderr=subprocess.STDOUT)
        done = threading.Event()
        follower = None
        if context.sample_memory and log is not None:
            follower = threading.Thread(target=_follow_log, args=(log, process.pid, done, samples), daemon=True)
            follower.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        if follower is not None:
            follower.join()
    if process.returncode != 0:
        tail = (out / "stdout.txt").read_text("utf-8", "replace")[-3000:]
        raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{tail}")
    maxrss_kb = usage.ru_maxrss
    if TIME:
        maxrss_kb = int(rss_file.read_text().split()[-1])
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        maxrss_mb=maxrss_kb / 1024,
        pages=0,
        server_cpu_s=context.server_cpu() - server_before,
        rss_samples=samples,
    )


def _scrapy_env(project: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    if project:
        env["SCRAPY_SETTINGS_MODULE"] = "portal_archive.settings"
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _common_settings(context: Context, out: Path) -> list[str]:
    total, per_domain = context.concurrency
    settings = [
        f"CONCURRENT_REQUESTS={total}",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={per_domain}",
        "TELNETCONSOLE_ENABLED=False",
        "REMOTE_CONTROL_ENABLED=False",
        "LOG_LEVEL=INFO",
        f"LOG_FILE={out / 'crawl.log'}",
    ]
    if context.sample_memory:
        settings.append("LOGSTATS_INTERVAL=1")
    return settings


def _flags(settings: Sequence[str]) -> list[str]:
    return [part for setting in settings for part in ("-s", setting)]


def crawl_wget(context: Context, out: Path) -> Run:
    command = [
        "wget",
        "-r",
        "-l",
        "inf",
        "--no-verbose",
        f"--warc-file={out / 'wget'}",
        "-P",
        str(out / "files"),
        "-nH",
        context.base_url + "/",
    ]
    run = run_child(command, cwd=out, env=dict(os.environ), context=context, out=out)
    run.pages = count_warc_responses(out / "wget.warc.gz")
    return run


def count_warc_responses(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as fh:
        return sum(1 for record in ArchiveIterator(fh) if record.rec_type == "response")


def _scrapy_run(command: list[str], context: Context, out: Path, stats_file: Path, *, project: bool) -> Run:
    if context.profile_dir is not None:
        context.profile_dir.mkdir(parents=True, exist_ok=True)
        stacks = context.profile_dir / f"{out.name.rsplit('-', 1)[0]}.txt"
        command = [str(VENV_BIN / "py-spy"), "record", "-r", "250", "-f", "raw", "-o", str(stacks), "--", *command]
    run = run_child(
        command, cwd=ROOT if project else out, env=_scrapy_env(project), context=context, log=out / "crawl.log", out=out
    )
    run.stats = json.loads(stats_file.read_text("utf-8"))
    run.pages = int(run.stats.get("response_received_count", 0))
    return run


def crawl_bare(context: Context, out: Path, *, warc: bool = False) -> Run:
    stats = out / "stats.json"
    settings = [*_common_settings(context, out), "ROBOTSTXT_OBEY=True", *context.extra_settings]
    if warc:
        settings += [f"EXTENSIONS={CAPTURE_ONLY}", f"WARC_DIR={out / 'archive'}"]
    command = [
        SCRAPY,
        "runspider",
        str(BARE_SPIDER),
        "-a",
        f"start_url={context.base_url}/",
        "-a",
        f"stats_file={stats}",
        *_flags(settings),
    ]
    return _scrapy_run(command, context, out, stats, project=False)


def crawl_ours(context: Context, out: Path, *, pipelines: bool = True) -> Run:
    stats = out / "stats.json"
    settings = [
        *_common_settings(context, out),
        f"WARC_DIR={out / 'archive'}",
        f"RUN_STATS_FILE={stats}",
        *context.extra_settings,
    ]
    if not pipelines:
        settings.append("ITEM_PIPELINES={}")
    command = [
        SCRAPY,
        "crawl",
        "portal",
        "-a",
        f"profile={context.profile}",
        "-a",
        f"base_url={context.base_url}",
        *_flags(settings),
    ]
    return _scrapy_run(command, context, out, stats, project=True)


VARIANTS: dict[str, Callable[[Context, Path], Run]] = {
    "wget": crawl_wget,
    "bare": crawl_bare,
    "bare+warc": lambda c, o: crawl_bare(c, o, warc=True),
    "ours-nopipe": lambda c, o: crawl_ours(c, o, pipelines=False),
    "ours": crawl_ours,
}
DESCRIPTIONS = {
    "wget": "wget 1.21 -r --warc-file (C, no extraction)",
    "bare": "bare Scrapy (no WARC, no extraction)",
    "bare+warc": "bare Scrapy + our WARC capture",
    "ours-nopipe": "ours: fetch + WARC + extraction",
    "ours": "ours: full pipeline",
}
STAT_KEYS = (
    "elapsed_time_seconds",
    "item_scraped_count",
    "memusage/max",
    "warc/bytes",
    "warc/records/metadata",
    "dedup/indexed",
    "dedup/clusters",
    "dedup/copies",
    "dedup/excerpts",
    "dedup/originals",
    "spider/empty_body",
    "log_count/ERROR",
    "log_count/WARNING",
)


def summarise(name: str, runs: list[Run]) -> dict[str, Any]:
    med = statistics.median
    row: dict[str, Any] = {
        "variant": name,
        "runs": len(runs),
        "pages": int(med(r.pages for r in runs)),
        "wall_s": med(r.wall_s for r in runs),
        "cpu_s": med(r.cpu_s for r in runs),
        "pages_per_s": med(r.pages / r.wall_s for r in runs),
        "pages_per_cpu_s": med(r.pages / r.cpu_s for r in runs),
        "maxrss_mb": med(r.maxrss_mb for r in runs),
        "server_cpu_share": max(r.server_cpu_s / r.wall_s for r in runs),
        "all_runs": [
            {
                "wall_s": round(r.wall_s, 3),
                "cpu_s": round(r.cpu_s, 3),
                "pages": r.pages,
                "maxrss_mb": round(r.maxrss_mb, 1),
                "server_cpu_s": round(r.server_cpu_s, 3),
            }
            for r in runs
        ],
    }
    if runs[0].stats:
        row["stats"] = {k: runs[-1].stats[k] for k in STAT_KEYS if k in runs[-1].stats}
    return row


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    wget = next((r for r in rows if r["variant"] == "wget"), None)
    bare = next((r for r in rows if r["variant"].split(" ")[0] == "bare"), None)
    print(f"\n{title}")
    header = (
        f"{'variant':44} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} {'pages/CPU-s':>11} "
        f"{'RSS MB':>7} {'wall vs wget':>12} {'CPU vs wget':>11} {'wall vs bare':>12} {'CPU vs bare':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratios = []
        for peer in (wget, bare):
            for key in ("pages_per_s", "pages_per_cpu_s"):
                ratios.append(f"{row[key] / peer[key]:.2f}x" if peer else "-")
        label = row.get("label", DESCRIPTIONS.get(row["variant"], row["variant"]))
        print(
            f"{label:44} {row['pages']:6d} {row['wall_s']:7.2f} {row['pages_per_s']:8.1f} {row['cpu_s']:7.2f} "
            f"{row['pages_per_cpu_s']:11.1f} {row['maxrss_mb']:7.0f} {ratios[0]:>12} {ratios[1]:>11} "
            f"{ratios[2]:>12} {ratios[3]:>11}"
        )
    share = max(r["server_cpu_share"] for r in rows)
    print(f"server CPU at most {share * 100:.1f} % of one core during any run")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "wget": _version(["wget", "--version"]),
        "nginx": _version([nginx_binary() or "nginx", "-v"]),
    }


def _version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else ""


def run_variants(
    names: Sequence[str],
    specs: Sequence[tuple[int, int]],
    context: Context,
    runs: int,
    work: Path,
    marks: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """``runs`` rounds; in each, every (variant, concurrency) crawls once, in turn.

    With ``marks`` (memory mode), each row also gets the RSS at those numbers of pages crawled.
    """
    jobs = [(name, spec) for name in names for spec in (specs if name != "wget" else specs[:1])]
    results: dict[tuple[str, tuple[int, int]], list[Run]] = {job: [] for job in jobs}
    for round_number in range(runs):
        for name, spec in jobs:
            out = Path(tempfile.mkdtemp(prefix=f"{name.replace('+', '-')}-", dir=work))
            context.concurrency = spec
            run = VARIANTS[name](context, out)
            results[(name, spec)].append(run)
            print(
                f"  round {round_number + 1}: {name:12} c={spec[0]}/{spec[1]}  {run.pages} pages  "
                f"{run.wall_s:6.2f} s wall  {run.cpu_s:6.2f} s CPU  {run.maxrss_mb:5.0f} MB",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)
    rows = []
    for (name, spec), measured in results.items():
        row = summarise(name, measured)
        row["concurrency"] = list(spec) if name != "wget" else None
        if len(specs) > 1 and name != "wget":
            row["label"] = f"{DESCRIPTIONS[name]} c={spec[0]}/{spec[1]}"
        if marks:
            row["memory"] = memory_summary(measured, marks)
        rows.append(row)
    return rows


def memory_summary(run_rows: list[Run], marks: Sequence[int]) -> dict[str, Any]:
    """RSS at the first sample at or past each mark, per run, and the growth between the marks."""
    per_run: list[dict[int, tuple[int, float] | None]] = []
    for run in run_rows:
        points: dict[int, tuple[int, float] | None] = {}
        for mark in marks:
            sample = next((s for s in run.rss_samples if s[0] >= mark), None)
            if sample is None and run.rss_samples and run.rss_samples[-1][0] >= 0.97 * mark:
                sample = run.rss_samples[-1]  # the last LogStats line before the crawl ended
            points[mark] = sample
        per_run.append(points)
    summary: dict[str, Any] = {"marks": {}}
    for mark in marks:
        taken = [point for points in per_run if (point := points[mark]) is not None]
        summary["marks"][mark] = {
            "rss_mb": statistics.median(rss for _, rss in taken) if taken else None,
            "pages_at_sample": [pages for pages, _ in taken],
        }
    # From the first mark to the second (5,000 to 20,000 pages); later marks show where it levels off.
    first, second = summary["marks"][marks[0]]["rss_mb"], summary["marks"][marks[1]]["rss_mb"]
    summary["growth"] = (second - first) / first if first and second else None
    summary["samples"] = [run.rss_samples for run in run_rows]
    return summary


def save(section: str, data: dict[str, Any], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if output.exists():
        try:
            existing = json.loads(output.read_text("utf-8"))
        except json.JSONDecodeError:
            existing = {}
    existing[section] = data
    output.write_text(json.dumps(existing, indent=2, ensure_ascii=False))
    print(f"results: {output} [{section}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--articles", type=int, help="articles in the generated site (default 2000; 20000 with --memory)"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="serve each response this late (asyncio server)")
    parser.add_argument("--memory", action="store_true", help="RSS at 5,000 and 20,000 pages crawled (ours)")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), help="default: all (wget, bare, ours)")
    parser.add_argument(
        "--concurrency",
        nargs="+",
        type=parse_concurrency,
        metavar="TOTAL/PER_DOMAIN",
        help="CONCURRENT_REQUESTS/CONCURRENT_REQUESTS_PER_DOMAIN for every Scrapy variant; several "
        "values are crawled in turn (default: the project's settings)",
    )
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra Scrapy setting for every Scrapy variant (e.g. to measure one component)",
    )
    parser.add_argument(
        "--py-spy",
        dest="py_spy",
        type=Path,
        metavar="DIR",
        help="record each Scrapy variant with py-spy (collapsed stacks in DIR; CPU figures include py-spy)",
    )
    parser.add_argument("--section", help="name of the JSON section (default: the mode)")
    parser.add_argument("--output", type=Path, default=RESULTS / "crawl.json")
    args = parser.parse_args(argv)

    articles = args.articles or (20_000 if args.memory else 2000)
    if args.memory:
        names: Sequence[str] = args.variants or ("ours",)
        section = args.section or "memory"
    elif args.latency_ms:
        names = args.variants or LATENCY_VARIANTS
        section = args.section or f"latency_{args.latency_ms:g}ms"
    else:
        names = args.variants or DEFAULT_VARIANTS
        section = args.section or "normal"
    if "wget" in names and shutil.which("wget") is None:
        raise SystemExit("wget is not installed (apt-get install -y wget)")
    specs = args.concurrency or [project_concurrency()]

    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        manifest: SiteManifest = build_site(work / "site", articles)
        print(
            f"site: {manifest.pages} pages ({manifest.articles} articles of {manifest.article_bytes_min}-"
            f"{manifest.article_bytes_max} B, {len(manifest.copies)} near-copies, {manifest.list_pages} list "
            f"pages), {manifest.bytes / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s"
        )
        if args.latency_ms:
            server: NginxServer | DelayServer = DelayServer(work / "site", args.latency_ms)
        else:
            if nginx_binary() is None:
                raise SystemExit("nginx is not installed (apt-get install -y nginx)")
            server = NginxServer(work / "site")
        with server:
            profile = write_profile(work / "benchportal.toml", server.base_url)
            context = Context(
                base_url=server.base_url,
                profile=profile,
                concurrency=specs[0],
                server_cpu=server.cpu_seconds,
                sample_memory=args.memory,
                extra_settings=tuple(args.settings),
                profile_dir=args.py_spy.resolve() if args.py_spy else None,
            )
            print(
                f"server: {server.name} at {server.base_url}"
                + (f", {args.latency_ms:g} ms per response" if args.latency_ms else "")
            )
            marks: tuple[int, ...] = ()
            if args.memory:
                # 5,000 and 20,000 pages, then every 20,000 on a larger site (--articles).
                marks = (5000, *range(20_000, manifest.pages + 1, 20_000))
                if len(marks) < 2:
                    marks = (5000, max(manifest.pages // 1000 * 1000, 5000))
            rows = run_variants(names, specs, context, args.runs, work, marks)

    title = (
        f"{manifest.pages} pages, median of {args.runs} runs, "
        f"{f'{args.latency_ms:g} ms latency per response' if args.latency_ms else 'no added latency'}, "
        f"{platform.machine()} x {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print_table(title, rows)
    if marks:
        print("\nRSS (MB, median) of the crawling process by pages crawled, sampled at LogStats lines")
        growth_label = f"{marks[0] // 1000}k-{marks[1] // 1000}k"
        print(f"{'variant':44} " + " ".join(f"{mark:>9d}" for mark in marks) + f" {growth_label:>9}")
        for row in rows:
            memory = row["memory"]
            values = [memory["marks"][mark]["rss_mb"] for mark in marks]
            growth = memory["growth"]
            print(
                f"{row.get('label', DESCRIPTIONS.get(row['variant'], row['variant'])):44} "
                + " ".join(f"{v:9.1f}" if v is not None else f"{'-':>9}" for v in values)
                + (f" {growth * 100:+8.1f}%" if growth is not None else f" {'-':>9}")
            )
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "site": {
            "pages": manifest.pages,
            "articles": manifest.articles,
            "list_pages": manifest.list_pages,
            "near_copies": len(manifest.copies),
            "bytes": manifest.bytes,
            "article_bytes": [manifest.article_bytes_min, manifest.article_bytes_max],
        },
        "latency_ms": args.latency_ms,
        "runs": args.runs,
        "settings": args.settings,
        "server": "delay (asyncio, in memory)" if args.latency_ms else "nginx",
        "rows": rows,
    }
    if marks:
        summary["memory_marks"] = list(marks)
    save(section, summary, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
