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
from portal_archive.cli.report import add_export_command, add_report_command

__all__ = ["build_parser", "main"]


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
    add_dist_commands(sub)  # dist seed|worker|status
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
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly, as Unix tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass  # no file descriptor behind sys.stdout: nothing left to flush
        return 141
