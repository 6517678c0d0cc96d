"""``portal-archive crawl``: a scheduled crawl of one archive folder, portal after portal.

Made to be started by cron or a systemd timer (``docs/scheduling.md``):

- one run per archive folder at a time: an exclusive ``flock`` on ``DIR/.crawl.lock``; a second
  run exits with ``EXIT_BUSY`` (75, "try again later") naming the holder, or queues with ``--wait``;
- orphan ``.open`` files of a crawl that died are recovered first (``portal_archive.capture.recover``);
- each portal spider runs in its own ``scrapy crawl`` subprocess (a fresh reactor, the real CLI),
  one after another, with ``WARC_DIR`` set to the folder; its log goes to ``DIR/runs/``;
- ``DIR/runs/<UTC timestamp>.json`` summarises the run: per spider the exit status, problems,
  pages fetched, new / changed / not-modified articles, new near-duplicate clusters, WARC files
  written and the full Scrapy stats;
- the exit status is 0 only when every crawl succeeded. ``scrapy crawl`` itself exits 0 when
  every download failed; ``CrawlResult.problems`` says what counts as a failure.

SIGTERM or SIGINT stops the running crawl gracefully (Scrapy closes its WARC files) and runs no
further spider.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Final

from portal_archive.timestamps import iso_basic, to_iso, utc_now

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
"""The checkout (``scrapy.cfg``, ``spiders/``): crawls run there, whatever the caller's directory."""
LOCK_NAME: Final = ".crawl.lock"
RUNS_DIR: Final = "runs"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_BUSY: Final = 75  # EX_TEMPFAIL: another run holds the folder; cron can simply try next time
LOG_TAIL_BYTES: Final = 4000
WARC_SUFFIXES: Final = (".warc.gz", ".warc")
NO_ARTICLE: Final = "fetched pages but no article matched the portal's article links: is base_url right?"
"""A portal run that read pages and found no article, with none known from earlier runs."""


@dataclass(frozen=True)
class CrawlResult:
    """Outcome of one spider's ``scrapy crawl`` subprocess."""

    spider: str
    returncode: int
    stats: dict[str, Any]
    log_tail: str

    def _found_articles(self) -> bool:
        """Whether this portal has articles: read in this run, revalidated, or known from earlier runs."""
        stats = self.stats
        return any(
            stats.get(key)
            for key in ("spider/articles", "incremental/not_modified", "incremental/unchanged",
                        "incremental/has_known_articles")
        )  # fmt: skip

    @property
    def problems(self) -> list[str]:
        """Why this crawl should not count as a success (empty when it should)."""
        found = []
        if self.returncode != 0:
            found.append(f"scrapy exited {self.returncode}")
        if not self.stats:
            found.append("no stats written")
            return found
        if self.stats.get("finish_reason") != "finished":
            found.append(f"finish_reason {self.stats.get('finish_reason')!r}")
        if not self.stats.get("downloader/response_count"):
            found.append("fetched nothing")
        elif "spider/articles" in self.stats and not self._found_articles():  # a portal spider's run
            found.append(NO_ARTICLE)
        if self.stats.get("warc/errors"):
            found.append(f"{self.stats['warc/errors']} exchange(s) could not be archived")
        if self.stats.get("log_count/ERROR"):
            found.append(f"{self.stats['log_count/ERROR']} error(s) logged")
        return found


def crawl_env() -> dict[str, str]:
    """Environment that finds this project's settings and packages from any working directory."""
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = env.get("SCRAPY_SETTINGS_MODULE") or "portal_archive.settings"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def read_stats(path: Path) -> dict[str, Any]:
    """The ``RUN_STATS_FILE`` a crawl wrote, or ``{}`` when it wrote none (it died first)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def tail(log: IO[bytes]) -> str:
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
    return log.read().decode("utf-8", "replace")


# -- the folder lock ------------------------------------------------------------------------------


class ArchiveBusy(RuntimeError):
    """Another run holds the archive folder's lock."""


@contextmanager
def archive_lock(directory: Path, *, wait: bool) -> Iterator[None]:
    """Hold ``DIR/.crawl.lock`` for the whole run; its text says who holds it, for the next one.

    Raises:
        ArchiveBusy: another run holds it and ``wait`` is False.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            if not wait:
                raise ArchiveBusy(f"another crawl holds {path} ({holder})") from None
            print(f"portal-archive crawl: waiting for the crawl holding {path} ({holder})", file=sys.stderr)
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()} since {to_iso(utc_now())}\n")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            lock.flush()
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# -- what to crawl --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlTarget:
    """One ``scrapy crawl``: a spider and the ``-a`` arguments that pick its portal."""

    label: str
    spider: str
    arguments: tuple[tuple[str, str], ...] = ()


class UsageError(ValueError):
    """The command line names something that cannot be crawled."""


def project_spiders() -> dict[str, type]:
    """Spider classes of the project (``SPIDER_MODULES``), by name."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.conf import closest_scrapy_cfg
    from scrapy.utils.project import get_project_settings

    if not os.environ.get("SCRAPY_SETTINGS_MODULE") and not closest_scrapy_cfg():
        os.environ["SCRAPY_SETTINGS_MODULE"] = "portal_archive.settings"
    loader = SpiderLoader.from_settings(get_project_settings())
    return {name: loader.load(name) for name in loader.list()}


def check_arguments(targets: Sequence[CrawlTarget], arguments: Sequence[tuple[str, str]]) -> None:
    """Refuse spider arguments a portal spider cannot start with, before any crawl runs.

    Raises:
        UsageError: ``-a base_url=notaurl``, a profile file that cannot be read…, in one line.
    """
    from portal_archive.crawl.spider import spider_argument_problem

    spiders = project_spiders()
    for target in targets:
        spidercls = spiders.get(target.spider)
        given = dict(target.arguments) | dict(arguments)
        problem = spider_argument_problem(spidercls, given) if spidercls is not None else None
        if problem is not None:
            raise UsageError(f"{target.label}: {problem}" if not problem.startswith(target.spider) else problem)


def needs_profile(spider: type) -> bool:
    """The generic ``portal`` spider crawls nothing without ``-a profile=``."""
    from portal_archive.crawl.spider import PortalSpider

    return issubclass(spider, PortalSpider) and not spider.profile_name


def resolve_targets(names: Sequence[str], crawl_all: bool) -> list[CrawlTarget]:
    """Spider names and profile files (``*.toml``) as crawls, in the order given.

    Raises:
        UsageError: nothing to crawl, or an unknown name.
    """
    spiders = project_spiders()
    targets: list[CrawlTarget] = []
    if crawl_all:
        targets += [CrawlTarget(name, name) for name, cls in sorted(spiders.items()) if not needs_profile(cls)]
    for name in names:
        if name in spiders and not needs_profile(spiders[name]):
            targets.append(CrawlTarget(name, name))
        elif name.endswith(".toml") or Path(name).is_file():
            profile = Path(name).resolve()
            if not profile.is_file():
                raise UsageError(f"no such profile file: {name}")
            targets.append(CrawlTarget(profile.stem, "portal", (("profile", str(profile)),)))
        else:
            known = ", ".join(sorted(n for n, cls in spiders.items() if not needs_profile(cls)))
            raise UsageError(f"unknown portal {name!r}: name a spider ({known}) or a profile .toml file")
    if not targets:
        raise UsageError("name at least one portal, or --all")
    unique = {target.label: target for target in targets}
    return list(unique.values())


def parse_pairs(values: Sequence[str], option: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings as pairs.

    Raises:
        UsageError: a value without ``=``.
    """
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} takes NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def with_base_urls(
    targets: Sequence[CrawlTarget], base_urls: Sequence[tuple[str, str]], arguments: Sequence[tuple[str, str]]
) -> list[CrawlTarget]:
    """Each portal's own ``base_url`` (``--base-url NAME=URL``) in its arguments.

    Raises:
        UsageError: a name that is not one of the portals crawled, or ``base_url`` given both ways.
    """
    if not base_urls:
        return list(targets)
    if any(name == "base_url" for name, _ in arguments):
        raise UsageError("give base_url once: -a base_url=URL for every portal, or --base-url NAME=URL for each")
    chosen = dict(base_urls)
    labels = {target.label for target in targets}
    unknown = sorted(set(chosen) - labels)
    if unknown:
        raise UsageError(f"--base-url names {', '.join(unknown)}, not crawled here ({', '.join(sorted(labels))})")
    return [
        CrawlTarget(target.label, target.spider, (*target.arguments, ("base_url", chosen[target.label])))
        if target.label in chosen
        else target
        for target in targets
    ]


# -- running --------------------------------------------------------------------------------------


LIVE_INTERVAL: Final = 1.0
"""Seconds between the live line's updates (and the crawl's stats snapshots behind it)."""


@dataclass
class RunOptions:
    """What ``portal-archive crawl`` was asked to do."""

    targets: list[CrawlTarget]
    archive: Path
    settings: list[tuple[str, str]] = field(default_factory=list)
    arguments: list[tuple[str, str]] = field(default_factory=list)
    live: bool = False
    """Show a live line per portal on stderr (a terminal: ``sys.stderr.isatty()``)."""
    log_level: str = "INFO"
    wait: bool = False


class _Stopper:
    """SIGTERM/SIGINT: pass the signal on to the running crawl once, and start no other."""

    def __init__(self) -> None:
        self.stopped: int | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Stopper:
        if threading.current_thread() is threading.main_thread():  # only there can handlers be set
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopped is None:
            self.stopped = signum
            if self.child is not None and self.child.poll() is None:
                self.child.send_signal(signum)


def scrapy_crawl_command(target: CrawlTarget, options: RunOptions, stats_file: Path) -> list[str]:
    """The ``scrapy crawl`` command line of one target; ``-s`` given by the user win."""
    command = [sys.executable, "-m", "scrapy", "crawl", target.spider]
    for name, value in (*target.arguments, *options.arguments):
        command += ["-a", f"{name}={value}"]
    settings = [
        ("WARC_DIR", str(options.archive)),
        ("RUN_STATS_FILE", str(stats_file)),
        ("LOG_LEVEL", options.log_level),
        *([("RUN_STATS_PROGRESS_INTERVAL", str(LIVE_INTERVAL))] if options.live else []),
        *options.settings,
    ]
    for name, value in settings:
        command += ["-s", f"{name}={value}"]
    return command


def _warc_files(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir() if path.name.endswith(WARC_SUFFIXES)}


def run_one(target: CrawlTarget, options: RunOptions, log_path: Path, stopper: _Stopper) -> dict[str, Any]:
    """Crawl one target in a subprocess; its summary entry."""
    before = _warc_files(options.archive)
    started, clock = to_iso(utc_now()), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="portal-archive-crawl-") as tmp, log_path.open("w+b") as log:
        stats_file = Path(tmp) / "stats.json"
        process = subprocess.Popen(
            scrapy_crawl_command(target, options, stats_file),
            stdout=log, stderr=subprocess.STDOUT, env=crawl_env(), start_new_session=True,
        )  # fmt: skip
        stopper.child = process
        returncode = _wait(process, stats_file, target.label) if options.live else process.wait()
        stopper.child = None
        result = CrawlResult(target.label, returncode, read_stats(stats_file), tail(log))
    stats = result.stats
    return {
        "portal": target.label,
        "spider": target.spider,
        "arguments": dict(target.arguments) | dict(options.arguments),
        "exit_status": returncode,
        "ok": not result.problems,
        "problems": result.problems,
        "started": started,
        "finished": to_iso(utc_now()),
        "seconds": round(time.monotonic() - clock, 1),
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles": stats.get("item_scraped_count", 0),
        "new_articles": stats.get("incremental/new", 0),
        "changed_articles": stats.get("incremental/changed", 0),
        "not_modified": stats.get("incremental/not_modified", 0),
        "new_clusters": stats.get("dedup/clusters", 0),
        "warc_files": sorted(_warc_files(options.archive) - before),
        "log": str(log_path),
        "stats": stats,
        "log_tail": result.log_tail if result.problems else "",
    }


def live_line(label: str, stats: dict[str, Any], seconds: float) -> str:
    """What a crawl has done so far, in one line: pages, articles, new clusters, rate, errors."""
    if not stats:
        return f"  {label}: starting ({seconds:.0f} s)"  # Scrapy's start-up, before its first snapshot
    pages = int(stats.get("downloader/response_count", 0))
    rate = pages / seconds if seconds > 0 else 0.0
    errors = int(stats.get("log_count/ERROR", 0))
    return (
        f"  {label}: {pages} pages, {stats.get('item_scraped_count', 0)} articles, "
        f"{stats.get('dedup/clusters', 0)} new clusters, {rate:.1f} pages/s, {errors} errors"
    )


def _wait(process: subprocess.Popen[bytes], stats_file: Path, label: str) -> int:
    """Wait for the crawl, rewriting one terminal line with what it has done so far."""
    started = time.monotonic()
    while True:
        try:
            returncode = process.wait(timeout=LIVE_INTERVAL)
        except subprocess.TimeoutExpired:
            line = live_line(label, read_stats(stats_file), time.monotonic() - started)
            print(f"\r\x1b[K{line}", end="", file=sys.stderr, flush=True)
            continue
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)  # the final line replaces it
        return returncode


def _run_stamp(runs: Path) -> str:
    stamp = iso_basic(utc_now())
    candidate, serial = stamp, 1
    while (runs / f"{candidate}.json").exists():
        serial += 1
        candidate = f"{stamp}-{serial}"
    return candidate


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def recover_orphans(options: RunOptions) -> dict[str, Any]:
    """Recover ``.open`` files of dead crawls before anything else writes into the folder."""
    from portal_archive.capture.recover import recover_directory

    state_path = dict(options.settings).get("INCREMENTAL_STATE_PATH")
    report = recover_directory(options.archive, Path(state_path) if state_path else None)
    return {
        "files": [str(r.final_path or r.path) for r in report.recovered],
        "removed": [str(r.path) for r in report.recovered if r.removed],
        "records_kept": sum(len(r.records) for r in report.recovered),
        "bytes_cut": sum(r.bytes_cut for r in report.recovered),
        "live": [str(p) for p in report.live],
        "errors": report.errors,
    }


def run_crawl(options: RunOptions) -> int:
    """Lock the folder, recover orphans, crawl each target, write the summary; the exit status."""
    archive = options.archive
    try:
        with archive_lock(archive, wait=options.wait):
            runs = archive / RUNS_DIR
            runs.mkdir(parents=True, exist_ok=True)
            stamp = _run_stamp(runs)
            summary: dict[str, Any] = {"started": to_iso(utc_now()), "archive": str(archive), "portals": []}
            summary_path = runs / f"{stamp}.json"
            summary["recovery"] = recover_orphans(options)
            with _Stopper() as stopper:
                for target in options.targets:
                    if stopper.stopped is not None:
                        break
                    print(f"portal-archive crawl: {target.label} ...", file=sys.stderr)
                    entry = run_one(target, options, runs / f"{stamp}-{target.label}.log", stopper)
                    summary["portals"].append(entry)
                    _write_json(summary_path, summary)  # a partial summary survives a crash of the next crawl
                    print(_one_line(entry), file=sys.stderr)
                interrupted = stopper.stopped is not None
            failed = [e for e in summary["portals"] if not e["ok"]]
            ok = not failed and not interrupted and not summary["recovery"]["errors"]
            summary.update(
                finished=to_iso(utc_now()),
                interrupted=interrupted,
                ok=ok,
                exit_status=EXIT_OK if ok else EXIT_FAILED,
                skipped=[t.label for t in options.targets[len(summary["portals"]) :]],
            )
            _write_json(summary_path, summary)
            print(f"portal-archive crawl: summary {summary_path}", file=sys.stderr)
            for entry in failed:
                print(f"--- {entry['portal']} log (tail) ---\n{entry['log_tail']}", file=sys.stderr)
            return int(summary["exit_status"])
    except ArchiveBusy as exc:
        print(f"portal-archive crawl: {exc}; not starting (use --wait to queue behind it)", file=sys.stderr)
        return EXIT_BUSY


def _one_line(entry: dict[str, Any]) -> str:
    status = "ok" if entry["ok"] else "FAILED: " + "; ".join(entry["problems"])
    return (
        f"  {entry['portal']}: {entry['pages_fetched']} pages, {entry['new_articles']} new, "
        f"{entry['changed_articles']} changed, {entry['not_modified']} not modified, "
        f"{entry['new_clusters']} new clusters, {len(entry['warc_files'])} WARC file(s): {status}"
    )
