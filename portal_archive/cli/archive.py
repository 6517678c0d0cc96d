"""The subcommands of ``portal-archive`` that read WARC files: ``check``, ``index``, ``show``, ``wacz``, ``replay``.

Handlers are thin: the work is in ``portal_archive.warc``, ``portal_archive.archive`` and
``portal_archive.replay``. Exit codes: 0 ok, 1 bad input or not archived (``check``: a problem
found), 2 usage (argparse). The archive folder defaults to the crawl's ``WARC_DIR``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal_archive.archive.folder import ArchiveFolderError, inside

if TYPE_CHECKING:
    from portal_archive.archive.cdxj import FileProblem


def expected_errors() -> tuple[type[Exception], ...]:
    """Failures that are about the input (exit 1), not bugs; imported late to keep ``--help`` fast."""
    from portal_archive.archive.cdxj import ArchiveIndexError
    from portal_archive.archive.metadata import MetadataRecordError
    from portal_archive.archive.records import RecordReadError
    from portal_archive.replay.pywbenv import PywbNotFound
    from portal_archive.replay.show import NotArchivedError

    return ArchiveFolderError, ArchiveIndexError, MetadataRecordError, RecordReadError, NotArchivedError, PywbNotFound


def default_archive_dir() -> Path:
    """The project's ``WARC_DIR`` (``archive`` unless configured), so crawl and CLI agree."""
    from scrapy.utils.project import get_project_settings

    from portal_archive.capture.config import WarcConfig

    return WarcConfig.from_settings(get_project_settings()).directory


def _archive_dir(value: str | None) -> Path:
    return Path(value) if value else default_archive_dir()


def _reporting(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Expected failures become one line on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except expected_errors() as exc:
            print(f"portal-archive {args.command}: {exc}", file=sys.stderr)
            return 1

    return run


def _cmd_check(args: argparse.Namespace) -> int:
    import json

    from portal_archive.warc.check import SEVERITIES, check_files
    from portal_archive.warc.runs import default_jobs

    checked, problems = check_files(
        [Path(p) for p in args.files], group=not args.every, jobs=args.jobs or default_jobs()
    )
    counts = {severity: sum(p.count for p in problems if p.severity == severity) for severity in SEVERITIES}
    if args.format == "json":
        document = {"files": checked, "counts": counts, "problems": [p.to_json() for p in problems]}
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            print(problem)
    if not args.quiet:
        print(
            f"{checked} file(s) checked: {counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} note(s)",
            file=sys.stderr,
        )
    failing = counts["error"] + (counts["warning"] if args.strict else 0)
    return 1 if failing or checked == 0 else 0


def positive_int(text: str) -> int:
    """A count on the command line: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return value


@_reporting
def _cmd_index(args: argparse.Namespace) -> int:
    from portal_archive.archive.cdxj import build_index
    from portal_archive.warc.runs import default_jobs

    directory = _archive_dir(args.dir)
    output = None
    if args.output:
        output = Path(args.output) if Path(args.output).is_absolute() else inside(directory, args.output)
    report = build_index(directory, output, jobs=args.jobs or default_jobs())
    for line in _folder_findings(args.command, directory, report.problems, report.notes):
        print(line, file=sys.stderr)
    skipped = sum(problem.skipped for problem in report.problems)
    summary = f"{report.path}: {report.warc_count} WARC file(s), {report.reindexed} newly indexed"
    if report.problems:
        summary += f"; {skipped} left out, {len(report.problems) - skipped} indexed up to their damage"
    print(summary)
    return 1 if report.problems else 0


def _folder_findings(command: str, directory: Path, problems: Sequence[FileProblem], notes: Sequence[str]) -> list[str]:
    """One line per file a folder command left out or cut, then its notes: the reader's words."""
    return [f"portal-archive {command}: {directory / str(problem)}" for problem in problems] + [
        f"portal-archive {command}: note: {directory / note}" for note in notes
    ]


@_reporting
def _cmd_replay(args: argparse.Namespace) -> int:
    from portal_archive.replay.launcher import run_replay

    return run_replay(_archive_dir(args.dir), host=args.host, port=args.port, collection=args.collection)


@_reporting
def _cmd_wacz(args: argparse.Namespace) -> int:
    from portal_archive.replay.wacz import write_wacz

    output = Path(args.output)
    if output.suffix != ".wacz":
        raise ArchiveFolderError(f"{output}: the output file name must end in .wacz")
    report = write_wacz(_archive_dir(args.dir), output, title=args.title or "", description=args.description or "")
    for line in _folder_findings(args.command, _archive_dir(args.dir), report.problems, ()):
        print(line, file=sys.stderr)
    print(
        f"{report.path}: {report.warc_count} WARC file(s), {report.page_count} article page(s)"
        f" ({report.extracted_pages} re-extracted for want of a metadata record)"
    )
    return 1 if report.problems else 0


@_reporting
def _cmd_show(args: argparse.Namespace) -> int:
    from portal_archive.replay.show import ShowRequest, View, show

    view: View = args.view or "captures"
    if args.decode and view != "raw":
        print("portal-archive show: --decode only applies to --raw", file=sys.stderr)
        return 2
    request = ShowRequest(directory=_archive_dir(args.archive), url=args.url, at=args.at, view=view, decode=args.decode)
    out = sys.stdout.buffer
    try:
        show(request, out)
        out.flush()
    except BrokenPipeError:
        # The reader (``| head``) went away: nothing left to say, and nothing went wrong here.
        return 0
    return 0


def _timestamp(value: str) -> str:
    from portal_archive.timestamps import parse_timestamp_prefix

    try:
        return parse_timestamp_prefix(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_archive_commands(sub: Any) -> None:
    """Register the subcommands on ``portal-archive``'s subparsers."""
    dir_help = "archive folder holding the WARC files (default: the WARC_DIR setting, 'archive')"

    check = sub.add_parser(
        "check",
        help="verify WARC files: digests, structure, revisits, the HTTP layer",
        description="Check WARC files against their bytes and their WARC version. Findings are errors (a 'shall' "
        "of the standard, or what breaks replay), warnings (a 'should', or a producer quirk that hurts replay) "
        "or notes; one line per cause and file. Exit 1 on errors (with --strict, on warnings too).",
    )
    check.add_argument("files", nargs="+", help="WARC files or folders of them")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("--format", choices=("text", "json"), default="text", help="text lines or one JSON document")
    check.add_argument("--every", action="store_true", help="one line per record, not per cause and file")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument(
        "-j", "--jobs", type=positive_int, default=0,
        help="processes that check one large gzip WARC file in runs of whole records (default: the CPUs)",
    )  # fmt: skip
    check.set_defaults(func=_cmd_check)

    index = sub.add_parser("index", help="write the archive folder's byte-sorted CDXJ index (DIR/indexes/index.cdxj)")
    index.add_argument("dir", nargs="?", help=dir_help)
    index.add_argument(
        "-o", "--output", help="index file, relative to DIR unless absolute (default: indexes/index.cdxj)"
    )
    index.add_argument(
        "-j", "--jobs", type=positive_int, default=0,
        help="processes that index one large gzip WARC file in runs of whole records (default: the CPUs)",
    )  # fmt: skip
    index.set_defaults(func=_cmd_index)

    replay = sub.add_parser("replay", help="replay the archive folder in the browser through pywb")
    replay.add_argument("dir", nargs="?", help=dir_help)
    replay.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine)")
    replay.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    replay.add_argument("--collection", default="archive", help="collection name in the URL (default: archive)")
    replay.set_defaults(func=_cmd_replay)

    wacz = sub.add_parser("wacz", help="package the archive folder as a WACZ file for ReplayWeb.page and pywb")
    wacz.add_argument("dir", nargs="?", help=dir_help)
    wacz.add_argument("-o", "--output", required=True, help="the WACZ file to write (FILE.wacz)")
    wacz.add_argument("--title", help="collection title (default: the folder name)")
    wacz.add_argument("--description", help="collection description")
    wacz.set_defaults(func=_cmd_wacz)

    show = sub.add_parser("show", help="print what the archive holds for a URL")
    show.add_argument("url", help="the page URL as crawled")
    show.add_argument(
        "--at", type=_timestamp, help="capture closest to this time: YYYY[MM[DD[hh[mm[ss]]]]] or ISO 8601 UTC"
    )
    views = show.add_mutually_exclusive_group()
    views.add_argument(
        "--raw", dest="view", action="store_const", const="raw", help="payload bytes exactly as archived"
    )
    views.add_argument(
        "--headers", dest="view", action="store_const", const="headers", help="HTTP status line and headers"
    )
    views.add_argument("--text", dest="view", action="store_const", const="text", help="title and article text (UTF-8)")
    views.add_argument("--json", dest="view", action="store_const", const="json", help="the article metadata record")
    show.add_argument("--decode", action="store_true", help="with --raw: remove the content coding (gzip, deflate)")
    show.add_argument("--archive", help=dir_help)
    show.set_defaults(func=_cmd_show)
