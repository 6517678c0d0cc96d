"""The ``portal-archive`` command: one parser, each stage's subcommands in a module of their own.

Crawling itself stays ``scrapy crawl NAME``; this command adds what a crawl does not. Modules:
``crawl`` (``crawl``, ``recover``, ``demo``), ``extract`` (``extract``), ``archive`` (``check``,
``index``, ``show``, ``wacz``, ``replay``), ``report`` (``dedup-report``, ``dedup-export``) and
``dist`` (``dist seed|worker|status``). Handlers are thin: the work is in the library. Every handler
returns an exit code: 0 ok, 1 a problem with the input or the run, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from portal_archive import __version__
from portal_archive.cli.archive import add_archive_commands
from portal_archive.cli.crawl import add_crawl_commands
from portal_archive.cli.dist import add_dist_commands
from portal_archive.cli.extract import add_extract_command
from portal_archive.cli.report import add_export_command, add_index_command, add_report_command

__all__ = ["EXAMPLES", "build_parser", "main"]

EXAMPLES: dict[str, tuple[str, ...]] = {
    "check": ("portal-archive check archive/", "portal-archive check --strict archive/bendi-*.warc.gz"),
    "index": ("portal-archive index archive/",),
    "replay": ("portal-archive replay archive/    # then open http://127.0.0.1:8080/archive/",),
    "wacz": ("portal-archive wacz archive/ -o demo.wacz --title 'Demo portal, first day'",),
    "show": ("portal-archive show --json https://www.infoq.cn/article/ktsN07R8UDXAGcgkRLQc",),
    "crawl": (
        "portal-archive crawl --all --archive archive/",
        "portal-archive crawl bendi -a base_url=https://bendi.news",
    ),
    "recover": ("portal-archive recover archive/",),
    "demo": ("portal-archive demo -o archive/", "portal-archive demo --serve    # then crawl it as it says"),
    "extract": ("portal-archive extract --format json --url https://bendi.news/wxnews/x page.html",),
    "dedup-report": (
        "portal-archive dedup-report archive/",
        "portal-archive dedup-report --format html -o report.html --replay-url http://127.0.0.1:8080/archive/ archive/",
        "portal-archive dedup-report --no-metadata --jobs 4 /data/heritrix-2024/ --format csv -o copies.csv",
    ),
    "dedup-export": ("portal-archive dedup-export --from redis://127.0.0.1:6379/0 --to archive/dedup.sqlite",),
    "dedup-index": (
        "portal-archive dedup-index /data/cc-news/part-0*.warc.gz --index redis://10.0.0.5:6379/1",
        "portal-archive dedup-index --no-metadata archive/ --index archive/dedup.sqlite",
    ),
    "dist seed": ("portal-archive dist seed bendi --redis redis://10.0.0.5:6379/0",),
    "dist worker": ("portal-archive dist worker bendi --redis redis://10.0.0.5:6379/0 --archive archive/",),
    "dist status": ("portal-archive dist status --redis redis://10.0.0.5:6379/0",),
}
"""What each subcommand's ``--help`` ends with: real command lines to start from."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for tests and documentation."""
    parser = argparse.ArgumentParser(
        prog="portal-archive",
        description="Crawl news portals into WARC files, extract articles, find syndicated copies, replay.",
    )
    parser.add_argument("--version", action="version", version=f"portal-archive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_archive_commands(sub)  # check, index, replay, wacz, show
    add_crawl_commands(sub)  # crawl, recover, demo
    add_extract_command(sub)  # extract
    add_report_command(sub)  # dedup-report
    add_export_command(sub)  # dedup-export
    add_index_command(sub)  # dedup-index
    add_dist_commands(sub)  # dist seed|worker|status
    _finish_help(sub, "")
    return parser


EXAMPLES_HEADING = "examples:"


class _ExamplesAsWritten(argparse.HelpFormatter):
    """Descriptions wrapped as usual; the examples kept line by line, as they are to be typed."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES_HEADING):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _finish_help(sub: argparse._SubParsersAction[argparse.ArgumentParser], prefix: str) -> None:
    """Every subcommand's own ``--help`` opens with its one-line description and ends with examples."""
    for choice in sub._choices_actions:
        name = f"{prefix}{choice.dest}"
        parser = sub.choices[choice.dest]
        if not parser.description and choice.help:
            parser.description = choice.help[0].upper() + choice.help[1:] + "."
        examples = EXAMPLES.get(name, ())
        if examples and not parser.epilog:
            parser.epilog = EXAMPLES_HEADING + "\n" + "\n".join(f"  {line}" for line in examples)
            parser.formatter_class = _ExamplesAsWritten
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _finish_help(action, f"{name} ")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly, as Unix tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass  # no file descriptor behind sys.stdout: nothing left to flush
        return 141
