"""Serve the three demo sites on local ports until Ctrl-C (or SIGTERM), printing their URLs."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from .assembly import DEFAULT_SEED
from .portal import DemoPortal


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. 2024-11-01T12:00:00+08:00")
    return moment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_archive.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="world seed (default %(default)s)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--now", type=_aware, help="fixed clock for relative dates (ISO 8601 with offset)")
    parser.add_argument("--corpus-dir", type=Path, help="corpus folder (default: the bundled corpus)")
    parser.add_argument("--print-manifest", action="store_true", help="print the manifest JSON after the URLs")
    parser.add_argument("--state", type=int, choices=(1, 2), default=1, help="2 serves the next day (default 1)")
    args = parser.parse_args(argv)
    portal = DemoPortal(seed=args.seed, now=args.now, host=args.host, corpus_dir=args.corpus_dir, state=args.state)
    with portal:
        for site, url in portal.urls.items():
            print(f"{site:<7} {url}/")
        if args.print_manifest:
            print(portal.manifest.to_json())
        print(f"serving state {portal.state}; kill -USR1 {os.getpid()} switches state; Ctrl-C stops", file=sys.stderr)
        sys.stdout.flush()
        portal.serve_until_stopped(lambda state: print(f"now serving state {state}", file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
