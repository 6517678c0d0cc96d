"""The ``extract`` subcommand of ``portal-archive``: one saved page in, its article out.

Exit codes: 0 a body was found, 1 none (the reason on stderr) or the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


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


def add_extract_command(sub: Any) -> None:
    """Register ``extract`` on ``portal-archive``'s subparsers."""
    extract = sub.add_parser("extract", help="extract the article from a saved HTML page: body text or JSON")
    extract.add_argument("file", help="HTML file, or - for standard input")
    extract.add_argument("--url", default="", help="the page URL to record (default: the file's file:// URI)")
    extract.add_argument("--format", choices=("text", "json"), default="text", help="body text or the whole Article")
    extract.add_argument("--content-type", default=None, help="HTTP Content-Type, whose charset wins over <meta>")
    extract.set_defaults(func=_cmd_extract)
