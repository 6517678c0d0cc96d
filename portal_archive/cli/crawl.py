"""The ``crawl``, ``recover`` and ``demo`` subcommands of ``portal-archive``: crawls of a folder.

Handlers are thin; the work is in ``portal_archive.crawl.runner``, ``portal_archive.capture.recover``
and ``portal_archive.demo.run``.
Exit codes: 0 ok, 1 a crawl failed (or recovery hit an error), 2 usage, 75 the folder is busy
with another run (``crawl`` without ``--wait``). Documentation: ``docs/scheduling.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _archive(value: str | None, settings: list[tuple[str, str]]) -> Path:
    if value:
        return Path(value).resolve()
    configured = dict(settings).get("WARC_DIR")
    if configured:
        return Path(configured).resolve()
    from portal_archive.cli.archive import default_archive_dir

    return default_archive_dir().resolve()


def _cmd_crawl(args: argparse.Namespace) -> int:
    from portal_archive.crawl.runner import (
        EXIT_USAGE,
        RunOptions,
        UsageError,
        check_arguments,
        parse_pairs,
        resolve_targets,
        run_crawl,
        with_base_urls,
    )

    try:
        settings = parse_pairs(args.set or [], "-s")
        arguments = parse_pairs(args.arg or [], "-a")
        archive = _archive(args.archive, settings)
        if args.archive and dict(settings).get("WARC_DIR") not in (None, str(archive), args.archive):
            raise UsageError("--archive and -s WARC_DIR name different folders; give one of them")
        targets = resolve_targets(args.portals, args.all)
        targets = with_base_urls(targets, parse_pairs(args.base_url or [], "--base-url"), arguments)
        check_arguments(targets, arguments)
    except UsageError as exc:
        print(f"portal-archive crawl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = [(name, value) for name, value in settings if name != "WARC_DIR"]
    options = RunOptions(
        targets=targets,
        archive=archive,
        settings=settings,
        arguments=arguments,
        log_level=args.log_level,
        wait=args.wait,
        live=sys.stderr.isatty(),
    )
    return run_crawl(options)


def _cmd_recover(args: argparse.Namespace) -> int:
    from portal_archive.capture.recover import recover_directory

    directory = _archive(args.dir, [])
    report = recover_directory(directory, Path(args.state) if args.state else None)
    for outcome in report.recovered:
        if outcome.removed:
            print(f"removed {outcome.path}: nothing complete to keep ({outcome.reason or 'empty'})")
        else:
            why = f" ({outcome.reason})" if outcome.reason else ""
            print(
                f"recovered {outcome.final_path}: {len(outcome.records)} record(s), "
                f"{outcome.bytes_cut} byte(s) cut{why}"
            )
    for path in report.live:
        print(f"left alone {path}: a running crawl is writing it")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.recovered:
        _reindex(directory)
    if not report.recovered and not report.live and not report.errors:
        print(f"no unfinished WARC files in {directory}", file=sys.stderr)
    return 1 if report.errors else 0


def _reindex(directory: Path) -> None:
    """Bring the folder's CDXJ index up to date with the recovered files (best effort)."""
    from portal_archive.archive.cdxj import ArchiveIndexError, build_index
    from portal_archive.archive.folder import ArchiveFolderError

    try:
        build_index(directory)
    except (ArchiveFolderError, ArchiveIndexError, OSError) as exc:
        print(f"index not updated: {exc}", file=sys.stderr)


def _cmd_demo(args: argparse.Namespace) -> int:
    from portal_archive.demo.run import run_demo, serve_demo

    if args.port_base and not 1024 <= args.port_base <= 65535 - 4:
        print(f"portal-archive demo: --port-base must be 0 or 1024-65531, got {args.port_base}", file=sys.stderr)
        return 2
    if args.serve:
        return serve_demo(seed=args.seed, port_base=args.port_base, archive=Path(args.output))
    return run_demo(
        output=Path(args.output),
        seed=args.seed,
        spiders=tuple(args.spider) if args.spider else None,
        log_level=args.log_level,
        port_base=args.port_base,
    )


def add_crawl_commands(sub: Any) -> None:
    """Register ``crawl``, ``recover`` and ``demo`` on the ``portal-archive`` subparsers."""
    crawl = sub.add_parser(
        "crawl",
        help="crawl portals into an archive folder, one after another, for cron or systemd timers",
        description="Run the named portal spiders one after another (each in its own `scrapy crawl`), "
        "holding the folder's lock; write DIR/runs/<timestamp>.json; exit non-zero when a crawl failed "
        "or fetched nothing. Later runs only revalidate known articles (docs/scheduling.md).",
    )
    crawl.add_argument("portals", nargs="*", metavar="PORTAL", help="spider name or profile .toml file")
    crawl.add_argument("--all", action="store_true", help="every portal spider of the project")
    crawl.add_argument("--archive", metavar="DIR", help="archive folder (default: WARC_DIR, i.e. archive)")
    crawl.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="Scrapy setting for every crawl")
    crawl.add_argument("-a", "--arg", action="append", metavar="NAME=VALUE", help="spider argument for every crawl")
    crawl.add_argument(
        "--base-url", action="append", metavar="PORTAL=URL", help="where one portal is served (repeatable)"
    )
    crawl.add_argument("--wait", action="store_true", help="queue behind a run holding the folder (default: exit 75)")
    crawl.add_argument("--log-level", default="INFO", help="Scrapy log level of the crawl logs (default: INFO)")
    crawl.set_defaults(func=_cmd_crawl)

    recover = sub.add_parser(
        "recover",
        help="close .open WARC files of crawls that died: keep complete records, cut a torn tail",
    )
    recover.add_argument("dir", nargs="?", help="archive folder (default: WARC_DIR, i.e. archive)")
    recover.add_argument("--state", help="crawl-state file to resync (default: DIR/crawlstate.sqlite)")
    recover.set_defaults(func=_cmd_recover)

    demo = sub.add_parser("demo", help="serve the bundled demo portal on 127.0.0.1 and crawl it into WARCs")
    demo.add_argument("-o", "--output", default="archive", help="folder for WARC files (default: archive)")
    demo.add_argument("--seed", type=int, default=20240401, help="demo world seed (default: 20240401)")
    demo.add_argument("--spider", action="append", help="crawl only this spider (repeatable)")
    demo.add_argument("--log-level", default="WARNING", help="Scrapy log level for the crawls (default: WARNING)")
    demo.add_argument(
        "--port-base", type=int, default=8101, metavar="PORT",
        help="serve the five demo sites on PORT..PORT+4 (default 8101; 0: any free ports); a taken port "
        "falls back to a free one, with a note",
    )  # fmt: skip
    demo.add_argument(
        "--serve", action="store_true",
        help="only serve the demo portal until Ctrl-C, printing the crawl command for it (kill -USR1: next day)",
    )  # fmt: skip
    demo.set_defaults(func=_cmd_demo)
