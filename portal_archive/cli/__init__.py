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
from portal_archive.cli.replay import add_replay_commands


def _cmd_check(args: argparse.Namespace) -> int:
    from portal_archive.warc.check import check_files

    checked, problems = check_files([Path(p) for p in args.files])
    for problem in problems:
        print(problem)
    if not args.quiet:
        print(f"{checked} file(s) checked, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems or checked == 0 else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from portal_archive.demo.run import run_demo

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

    add_replay_commands(sub)  # index, replay, wacz, show
    from portal_archive.cli.report import add_export_command, add_report_command

    add_report_command(sub)  # dedup-report
    add_export_command(sub)  # dedup-export
    from portal_archive.cli.crawl import add_crawl_commands

    add_crawl_commands(sub)  # crawl, recover
    from portal_archive.cli.dist import add_dist_commands

    add_dist_commands(sub)  # dist seed|worker|status

    extract = sub.add_parser("extract", help="extract the article from a saved HTML page: body text or JSON")
    extract.add_argument("file", help="HTML file, or - for standard input")
    extract.add_argument("--url", default="", help="the page URL to record (default: the file's file:// URI)")
    extract.add_argument("--format", choices=("text", "json"), default="text", help="body text or the whole Article")
    extract.add_argument("--content-type", default=None, help="HTTP Content-Type, whose charset wins over <meta>")
    extract.set_defaults(func=_cmd_extract)
    return parser


def _cmd_extract(args: argparse.Namespace) -> int:
    from portal_archive.extract import article_to_json, extract_article

    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    url = args.url or ("" if args.file == "-" else Path(args.file).resolve().as_uri())
    article = extract_article(data, url=url, content_type=args.content_type)
    if reconfigure := getattr(sys.stdout, "reconfigure", None):
        reconfigure(encoding="utf-8")  # Chinese text must print whatever the locale says
    print(article_to_json(article) if args.format == "json" else article.body_text)
    if article.empty_reason:
        print(f"no article body: {article.empty_reason}", file=sys.stderr)
    return 0 if article.body_text else 1


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
