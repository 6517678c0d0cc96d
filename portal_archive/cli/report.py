"""``portal-archive dedup-report``: which archived articles are copies of which, and why.

Exit codes: 0 ok; 1 an input could not be read (named on stderr; the readable rest is still
reported); 2 usage (bad options, or an output path that would overwrite an input).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from portal_archive.timestamps import parse_iso

if TYPE_CHECKING:
    from portal_archive.dedup import DedupConfig
    from portal_archive.report.model import Report

__all__ = ["add_export_command", "add_report_command", "run_export", "run_report"]

FORMATS: Final = ("table", "json", "csv", "html")
DEFAULT_REPLAY_URL: Final = "http://127.0.0.1:8080/archive/"
"""``portal-archive replay``'s address with its defaults (``--port 8080``, ``--collection archive``)."""
UTF8_BOM: Final = "\ufeff"
"""Before a CSV: without it Excel reads the file in the locale's code page and garbles Chinese."""
INDEX_NAME: Final = "dedup.sqlite"
COMMAND: Final = "portal-archive dedup-report"
_PARALLEL_FROM_BYTES: Final = 16 << 20


class UsageError(ValueError):
    """Options that cannot work together (exit 2)."""


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    """How WARC input is read, the same for ``dedup-report`` and ``dedup-index``."""
    parser.add_argument(
        "--no-metadata", action="store_true", help="ignore our article metadata records: re-extract every page"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it is off when stderr is no TTY)")
    from portal_archive.cli.archive import positive_int

    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        metavar="N",
        help="processes that extract pages, this one included (default: every core; one for less than 16 MB of "
        "WARC input)",
    )


def extraction_jobs(requested: int | None, input_bytes: int) -> int:
    """Processes to extract pages with: as asked, else every core the process may use, except for
    small inputs, where starting the processes (about a second each) costs more than it saves."""
    if requested is not None:
        return requested
    if input_bytes < _PARALLEL_FROM_BYTES:
        return 1
    from portal_archive.warc.runs import default_jobs

    return default_jobs()


def add_report_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``dedup-report`` on the ``portal-archive`` parser."""
    report = sub.add_parser(
        "dedup-report",
        help="clusters of syndicated copies in WARC files or a near-duplicate index: table, JSON, CSV or HTML",
        description=(
            "Report syndicated copies: read WARC files (ours use their article metadata records, any other is "
            "extracted page by page) into a fresh near-duplicate index, or read a crawl's index, and list every "
            "cluster with its original, the evidence, and each copy."
        ),
    )
    report.add_argument(
        "inputs",
        nargs="*",
        metavar="WARC|DIR",
        help="WARC files (.warc, .warc.gz) or folders of them (default: the project's WARC_DIR); a folder "
        "holding dedup.sqlite is reported from that index unless --from warc",
    )
    report.add_argument(
        "--index",
        metavar="PATH|URL",
        help="report from this near-duplicate index: a dedup.sqlite file, or a Redis index (redis://HOST:PORT/DB, "
        "rediss://…, unix://…; keys under DEDUP_REDIS_PREFIX)",
    )
    report.add_argument(
        "--from",
        dest="source",
        choices=("auto", "warc", "index"),
        default="auto",
        help="auto (default): a folder's dedup.sqlite when it has one and no WARC-only option is given",
    )
    report.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    report.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    report.add_argument("--threshold", type=float, metavar="X", help="Jaccard threshold of a copy (WARC input)")
    report.add_argument("--min-chars", type=int, metavar="N", help="shortest text compared (WARC input)")
    report.add_argument("--site", metavar="DOMAIN", help="only clusters with a member on this site key or domain")
    report.add_argument(
        "--since", metavar="DATE", help="only clusters with a member published or fetched on or after DATE (UTC)"
    )
    report.add_argument(
        "--replay-url", metavar="URL",
        help="replay links: URL + 14-digit timestamp + / + page URL (HTML default: " + DEFAULT_REPLAY_URL
        + ", where `portal-archive replay DIR` serves)",
    )  # fmt: skip
    report.add_argument(
        "--live-links", action="store_true", help="HTML: link the live pages, not their archived captures"
    )
    _add_reading_options(report)
    report.add_argument(
        "--html-diffs", type=int, default=50, metavar="N", help="clusters with side-by-side texts in HTML (default 50)"
    )
    report.add_argument(
        "--no-bom", action="store_true", help="CSV without the UTF-8 byte order mark (Excel needs it for Chinese)"
    )
    report.set_defaults(func=run_report)


def add_export_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``dedup-export`` on the ``portal-archive`` parser."""
    export = sub.add_parser(
        "dedup-export",
        help="copy a Redis near-duplicate index into a dedup.sqlite file, for archiving beside the WARCs",
        description=(
            "Copy every document, sketch, band key, verified pair, cluster and stored original of a Redis "
            "near-duplicate index into a new SQLite index file that dedup-report --index and single-machine "
            "crawls read. Copy an index no crawl is writing to."
        ),
    )
    export.add_argument("--from", dest="source", required=True, metavar="URL", help="redis://, rediss:// or unix://")
    export.add_argument("--to", dest="target", required=True, metavar="FILE", help="the SQLite file to create")
    export.add_argument("--prefix", metavar="PREFIX", help="key prefix of the index (default: DEDUP_REDIS_PREFIX)")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    """The ``dedup-export`` handler: 0 ok, 1 the index cannot be read or the file written, 2 usage."""
    import dataclasses

    from portal_archive.dedup import DedupIndexError
    from portal_archive.dedup.config import is_index_url

    command = "portal-archive dedup-export"
    if not is_index_url(args.source):
        print(f"{command}: --from must be a redis://, rediss:// or unix:// URL", file=sys.stderr)
        return 2
    try:
        config = _config(argparse.Namespace(threshold=None, min_chars=None))
    except UsageError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    config = dataclasses.replace(
        config, index_url=args.source, index_url_setting="--from", redis_prefix=args.prefix or config.redis_prefix
    )
    from portal_archive.dedup.export import export_to_sqlite
    from portal_archive.dedup.index.redis import open_from_config

    try:
        with open_from_config(config, None, True) as index:
            summary = export_to_sqlite(index, Path(args.target))
    except (DedupIndexError, OSError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    print(
        f"{summary.documents} documents, {summary.band_entries} band entries, {summary.pairs} pairs, "
        f"{summary.clusters} clusters written to {summary.path}",
        file=sys.stderr,
    )
    return 0


@dataclass
class _Inputs:
    warcs: list[Path] = field(default_factory=list)
    index: Path | None = None
    index_url: str | None = None
    """A Redis index (``--index redis://…``)."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """``(path, what is wrong)`` of inputs that are not even files."""
    protected: list[Path] = field(default_factory=list)
    """Files the output must never replace."""


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = parse_iso(text)
    if moment is None:
        raise UsageError(f"--since {text!r}: expected a date (2024-06-01) or an ISO 8601 time")
    return moment


def _default_replay(args: argparse.Namespace) -> str | None:
    """Where an HTML report links its pages unless told: the captures, as ``portal-archive replay``
    serves them by default (live pages end with the demo, or change)."""
    return DEFAULT_REPLAY_URL if args.format == "html" and not args.live_links else None


def _replay_prefix(text: str | None) -> str | None:
    if not text:
        return None
    if not text.lower().startswith(("http://", "https://")) or any(ch.isspace() for ch in text):
        raise UsageError(f"--replay-url {text!r}: expected an http(s) URL such as http://127.0.0.1:8080/archive/")
    return text if text.endswith("/") else text + "/"


def _wants_warcs(args: argparse.Namespace) -> bool:
    """Options only a fresh index built from WARC files can honour."""
    return bool(args.no_metadata or args.threshold is not None or args.min_chars is not None)


def _resolve_inputs(args: argparse.Namespace) -> _Inputs:
    from portal_archive.archive.folder import warc_files

    found = _Inputs()
    given = [Path(p) for p in args.inputs]
    if not given and not args.index:
        from portal_archive.cli.archive import default_archive_dir

        given = [default_archive_dir()]
    folders_with_index = [p for p in given if p.is_dir() and (p / INDEX_NAME).is_file()]
    if args.index:
        if args.source == "warc":
            raise UsageError("--index and --from warc contradict each other")
        if given and args.inputs:
            raise UsageError("give either --index or WARC files/folders, not both")
        from portal_archive.dedup.config import is_index_url

        if is_index_url(args.index):
            if _wants_warcs(args):
                raise UsageError(
                    "--threshold, --min-chars and --no-metadata need WARC input (a fresh index); "
                    "an existing index keeps the thresholds it was built with: use --from warc"
                )
            found.index_url = args.index.strip()
            return found
        found.index = Path(args.index)
    elif args.source == "index" or (
        args.source == "auto" and len(given) == 1 and folders_with_index == given and not _wants_warcs(args)
    ):
        if len(given) != 1 or not (given[0] / INDEX_NAME).is_file():
            raise UsageError(f"--from index needs one folder holding {INDEX_NAME} (or --index PATH)")
        found.index = given[0] / INDEX_NAME
    if found.index is not None:
        if _wants_warcs(args):
            raise UsageError(
                "--threshold, --min-chars and --no-metadata need WARC input (a fresh index); "
                "an existing index keeps the thresholds it was built with: use --from warc"
            )
        found.protected.append(found.index)
        found.protected.extend(found.index.with_name(found.index.name + suffix) for suffix in ("-wal", "-shm"))
        return found
    for path in given:
        if path.is_dir():
            files = warc_files(path)
            if not files:
                found.problems.append((str(path), "no WARC files (*.warc.gz, *.warc)"))
            found.warcs.extend(files)
        elif path.exists():
            found.warcs.append(path)
        else:
            found.problems.append((str(path), "no such file or folder"))
    found.protected.extend(found.warcs)
    return found


def _check_output(output: Path, protected: list[Path]) -> None:
    if output.is_dir():
        raise UsageError(f"--output {output}: is a folder")
    target = output.resolve()
    for path in protected:
        if path.exists() and (target == path.resolve() or (output.exists() and output.samefile(path))):
            raise UsageError(f"--output {output}: refusing to overwrite the input {path}")


def _config(args: argparse.Namespace) -> DedupConfig:
    import dataclasses

    from scrapy.utils.project import get_project_settings

    from portal_archive.dedup import DedupConfig, DedupSettingsError

    try:
        config = DedupConfig.from_settings(get_project_settings())
        if args.threshold is not None:
            config = dataclasses.replace(config, threshold=float(args.threshold))
        if args.min_chars is not None:
            config = dataclasses.replace(config, min_chars=int(args.min_chars))
        return config
    except DedupSettingsError as exc:
        message = str(exc).replace("DEDUP_THRESHOLD", "--threshold").replace("DEDUP_MIN_CHARS", "--min-chars")
        raise UsageError(message) from exc


def _renderer(name: str) -> Callable[[Report, TextIO], None]:
    if name == "json":
        from portal_archive.report.render_json import render_json

        return render_json
    if name == "csv":
        from portal_archive.report.render_csv import render_csv

        return render_csv
    if name == "html":
        from portal_archive.report.render_html import render_html

        return render_html
    from portal_archive.report.render_table import render_table

    return render_table


@contextmanager
def _destination(output: Path | None, newline: str | None) -> Iterator[TextIO]:
    """Standard output, or a file replaced only once the report is complete."""
    if output is None:
        stream = sys.stdout
        if reconfigure := getattr(stream, "reconfigure", None):
            reconfigure(encoding="utf-8")  # Chinese text whatever the locale says
        try:
            yield stream
            stream.flush()
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, and keep Python from complaining at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        return
    folder = output.parent if str(output.parent) else Path()
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline=newline) as stream:
            yield stream
        # mkstemp makes the file private; a report is an ordinary file, as the umask says.
        mask = os.umask(0)
        os.umask(mask)
        Path(temporary).chmod(0o666 & ~mask)
        Path(temporary).replace(output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report(args: argparse.Namespace, inputs: _Inputs, config: DedupConfig) -> Report:
    from portal_archive.report.build import ReportOptions, build_from_index, build_from_warcs
    from portal_archive.report.progress import ByteProgress

    options = ReportOptions(
        use_metadata=not args.no_metadata,
        site=args.site,
        since=_parse_since(args.since),
        replay_url=_replay_prefix(args.replay_url or _default_replay(args)),
        texts=max(args.html_diffs, 0) if args.format == "html" else 0,
    )
    if inputs.index_url is not None:
        from portal_archive.cli.archive import default_archive_dir

        return build_from_index(inputs.index_url, config, options, warc_dir=default_archive_dir())
    if inputs.index is not None:
        return build_from_index(inputs.index, config, options)
    total = sum(path.stat().st_size for path in inputs.warcs if path.is_file())
    with ByteProgress(total, enabled=not args.no_progress) as progress:
        return build_from_warcs(
            inputs.warcs, config, options, progress=progress.advance, on_articles=progress.count_articles,
            jobs=extraction_jobs(args.jobs, total),
        )  # fmt: skip


def run_report(args: argparse.Namespace) -> int:
    """The ``dedup-report`` handler: 0 ok, 1 an input could not be read, 2 usage."""
    from portal_archive.archive.sources import ExtractionProcessDied
    from portal_archive.report.build import ReportInputError

    try:
        inputs = _resolve_inputs(args)
        output = Path(args.output) if args.output else None
        if output is not None:
            _check_output(output, inputs.protected)
        if args.live_links and args.replay_url:
            raise UsageError("--live-links and --replay-url ask for different links; give one of them")
        if args.threshold is not None and not 0.0 < args.threshold <= 1.0:
            raise UsageError(f"--threshold must be in (0, 1], got {args.threshold}")
        if args.min_chars is not None and args.min_chars < 1:
            raise UsageError(f"--min-chars must be at least 1, got {args.min_chars}")
        config = _config(args)
        report = _report(args, inputs, config)
    except UsageError as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 2
    except (ReportInputError, ExtractionProcessDied) as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 1
    from portal_archive.report.model import InputReport

    report.inputs[:0] = [InputReport(path=path, kind="warc", problem=problem) for path, problem in inputs.problems]
    for problem in report.problems:
        print(f"{COMMAND}: {problem}", file=sys.stderr)
    with _destination(output, "" if args.format == "csv" else None) as stream:
        if args.format == "csv" and not args.no_bom:
            stream.write(UTF8_BOM)
        _renderer(args.format)(report, stream)
    return 1 if report.problems else 0


def add_index_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``dedup-index`` on the ``portal-archive`` parser."""
    index = sub.add_parser(
        "dedup-index",
        help="add the articles of WARC files to a shared near-duplicate index (one machine's shard)",
        description=(
            "Read WARC files as dedup-report does (our metadata records, else extraction) and add every article "
            "to a persistent near-duplicate index: a Redis index shared by several machines, each indexing its own "
            "files, or a dedup.sqlite file. dedup-report --index then reports the whole collection."
        ),
    )
    index.add_argument("inputs", nargs="+", metavar="WARC|DIR", help="WARC files or folders of them")
    index.add_argument(
        "--index", required=True, metavar="URL|FILE", help="redis://HOST:PORT/DB (rediss://, unix://) or a dedup.sqlite"
    )
    _add_reading_options(index)
    index.set_defaults(func=run_index)


def run_index(args: argparse.Namespace) -> int:
    """The ``dedup-index`` handler: 0 ok, 1 an input could not be read (the rest is indexed), 2 usage."""

    from portal_archive.archive.folder import warc_files
    from portal_archive.archive.sources import ExtractionProcessDied
    from portal_archive.dedup import DedupIndexError
    from portal_archive.report.progress import ByteProgress
    from portal_archive.report.shards import index_shard

    command = "portal-archive dedup-index"
    try:
        config = _config(argparse.Namespace(threshold=None, min_chars=None))
    except UsageError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    config = config.at_index(args.index)
    paths: list[Path] = []
    for given in (Path(p) for p in args.inputs):
        if given.is_dir():
            paths += warc_files(given)
        elif given.is_file():
            paths.append(given)
        else:
            print(f"{command}: {given}: no such file or folder", file=sys.stderr)
            return 2
    if not paths:
        print(f"{command}: no WARC files in {', '.join(args.inputs)}", file=sys.stderr)
        return 2
    total = sum(path.stat().st_size for path in paths)
    try:
        with ByteProgress(total, enabled=not args.no_progress) as progress:
            summary = index_shard(
                paths, config, use_metadata=not args.no_metadata, progress=progress.advance,
                on_articles=progress.count_articles, jobs=extraction_jobs(args.jobs, total),
            )  # fmt: skip
    except (DedupIndexError, ExtractionProcessDied) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    for problem in summary.problems:
        print(f"{command}: {problem}", file=sys.stderr)
    statuses, roles = summary.statuses, summary.roles
    print(
        f"{summary.files} WARC file(s), {summary.pages} pages, {summary.articles} articles: "
        f"{statuses['indexed']} indexed ({roles['copy']} copies, {roles['excerpt']} excerpts when added), "
        f"{statuses['revisit']} already indexed, {statuses['too_short']} too short; index {args.index}",
        file=sys.stderr,
    )
    return 1 if summary.problems else 0
