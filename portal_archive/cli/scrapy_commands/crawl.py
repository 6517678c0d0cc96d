"""``scrapy crawl`` that checks a portal spider's arguments before the crawl starts.

Scrapy builds the spider inside a running crawl, so a bad ``-a base_url=notaurl``, a missing
``-a profile=`` file or a misspelt spider name surfaced as a traceback with the one useful line at
its end.
Checked first, it is that line alone, and exit status 2 (a usage error), as everywhere else in
the project.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from portal_archive.crawl.spider import spider_argument_problem

if TYPE_CHECKING:
    import argparse

EXIT_USAGE = 2


class Command(ScrapyCrawlCommand):
    """Scrapy's ``crawl``, refusing unusable portal spider arguments in one line."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                problem: str | None = f"no spider named {args[0]!r} (`scrapy list` names them)"
            else:
                problem = spider_argument_problem(spidercls, opts.spargs)
            if problem is not None:
                print(f"scrapy crawl: {problem}", file=sys.stderr)
                self.exitcode = EXIT_USAGE
                return
        super().run(args, opts)
