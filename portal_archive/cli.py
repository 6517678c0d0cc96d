"""The ``portal-archive`` command: thin handlers over the library.

Crawling stays ``scrapy crawl NAME``; this command adds what a crawl does not: the bundled demo,
archive checks and (later) reports. Every handler returns an exit code: 0 ok, 1 a problem with
the input or the run, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from portal_archive import __version__


def _cmd_check(args: argparse.Namespace) -> int:
    from portal_archive.warc.check import check_files

    checked, problems = check_files([Path(p) for p in args.files])
    for problem in problems:
        print(problem)
    if not args.quiet:
        print(f"{checked} file(s) checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems or checked == 0 else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from portal_archive.demo_run import run_demo

    return run_demo(
        output=Path(args.output),
        seed=args.seed,
        spiders=tuple(args.spider) if args.spider else None,
        log_level=args.log_level,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for tests and documentation."""
    parser = argparse.ArgumentParser(prog="portal-archive", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"portal-archive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="verify WARC files: digests, HTTP layer, revisits, structure")
    check.add_argument("files", nargs="+", help="WARC files or folders of them")
    check.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    check.set_defaults(func=_cmd_check)

    demo = sub.add_parser("demo", help="serve the bundled demo portal on 127.0.0.1 and crawl it into WARCs")
    demo.add_argument("-o", "--output", default="archive", help="folder for WARC files (default: archive)")
    demo.add_argument("--seed", type=int, default=20240401, help="demo world seed (default: 20240401)")
    demo.add_argument("--spider", action="append", help="crawl only this spider (repeatable)")
    demo.add_argument("--log-level", default="WARNING", help="Scrapy log level for the crawls (default: WARNING)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
