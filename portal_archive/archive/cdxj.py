"""The archive folder's CDXJ index: the lines cdxj-indexer writes, kept in byte order, read by bisection.

``DIR/indexes/index.cdxj`` lists every ``response``, ``revisit``, ``resource`` and ``metadata``
record of the finished WARC files in ``DIR`` (``filename`` relative to ``DIR``). pywb finds
captures by binary search, so an unsorted index makes it answer 404 for URLs it holds: lines are
sorted as bytes (``LC_ALL=C sort`` order). Each WARC is indexed once into
``DIR/indexes/parts/NAME.cdxj`` and the parts are merged, so re-indexing after a crawl only reads
the new files. Request bodies are not appended (``--post-append`` crashes on non-UTF-8 bodies,
cdxj-indexer #30; the crawls only GET).
A crawl rebuilds the index when its engine stops (``archive.extension``).
"""

from __future__ import annotations

import fcntl
import hashlib
import heapq
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Self

from portal_archive.archive.folder import require_archive
from portal_archive.archive.indexing import index_warc, url_key
from portal_archive.warc.reader import FileScan

logger = logging.getLogger(__name__)

INDEX_DIR = "indexes"
INDEX_NAME = "index.cdxj"
PARTS_DIR = "parts"
LOCK_NAME = ".lock"


class ArchiveIndexError(RuntimeError):
    """A WARC file could not be indexed (truncated or not a WARC)."""


def default_index_path(directory: Path) -> Path:
    """Where ``portal-archive index`` and the crawl extension write the folder's index."""
    return directory / INDEX_DIR / INDEX_NAME


@dataclass(frozen=True)
class FileProblem:
    """A file of the folder the index leaves out, in whole or from an offset on, and why."""

    name: str
    cause: str
    skipped: bool
    """True: nothing of it is indexed; False: its complete records are, the damaged rest is not."""

    def __str__(self) -> str:
        return f"{self.name}: {self.cause}"


@dataclass(frozen=True)
class IndexReport:
    """What one ``build_index`` call did."""

    path: Path
    warc_count: int
    reindexed: int
    merged: bool
    problems: tuple[FileProblem, ...] = ()
    """Files left out (``skipped``) or indexed only up to their damage, every time the index is built."""
    notes: tuple[str, ...] = ()
    """Files indexed as they are but worth a word (no responses: a WAT file…), and files not indexed
    at all because they are not captures (``*.wat.gz``, ``*.wet.gz``)."""

    @property
    def indexed_warcs(self) -> int:
        return self.warc_count - sum(problem.skipped for problem in self.problems)


@contextmanager
def _folder_lock(indexes: Path) -> Iterator[None]:
    """Serialise index builds: several crawls may write into one folder and finish together."""
    with (indexes / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _is_newer(derived: Path, source: Path) -> bool:
    try:
        return derived.stat().st_mtime_ns >= source.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def _replace_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through ``write(binary_file)`` into a temporary sibling, fsync, then rename over ``target``."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


_PROBLEM_SUFFIX = ".problem"
"""Beside a part: why the file is left out or cut, so later builds say it again without re-reading."""
NOT_CAPTURES: Final = {".wat.gz": "a WAT file", ".wat": "a WAT file", ".wet.gz": "a WET file", ".wet": "a WET file"}
"""Files derived from a crawl (metadata and extracted text), not captures: said, never indexed."""


def _index_part(warc: Path, part: Path, jobs: int) -> FileProblem | None:
    """Index one file into ``part`` in one pass; what is wrong with it, if anything."""
    found: list[FileScan] = []
    _replace_atomically(part, lambda out: found.append(index_warc(warc, out, jobs=jobs)))
    scanned = found[0]
    problem: FileProblem | None = None
    if scanned.problem is not None and scanned.records == 0:
        problem = FileProblem(warc.name, scanned.problem.problem, skipped=True)
    elif scanned.whole_file_gzip:
        problem = FileProblem(warc.name, scanned.layout_problem, skipped=True)
    elif scanned.problem is not None:
        problem = FileProblem(
            warc.name, f"{scanned.problem.problem}: its {scanned.records} complete record(s) are indexed", skipped=False
        )
    sidecar = part.with_name(part.name + _PROBLEM_SUFFIX)
    if problem is not None:
        sidecar.write_text(json.dumps({"cause": problem.cause, "skipped": problem.skipped}), encoding="utf-8")
    else:
        sidecar.unlink(missing_ok=True)
    return problem


def _recorded_problem(warc: Path, part: Path) -> FileProblem | None:
    sidecar = part.with_name(part.name + _PROBLEM_SUFFIX)
    try:
        recorded = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return FileProblem(warc.name, str(recorded.get("cause", "")), skipped=bool(recorded.get("skipped")))


def _not_captures(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(
        f"{path.name}: {kind} (no responses): not indexed"
        for path in directory.iterdir()
        for suffix, kind in NOT_CAPTURES.items()
        if path.is_file() and path.name.endswith(suffix)
    )


def _merge(parts: list[Path], out: BinaryIO) -> None:
    with ExitStack() as stack:
        streams = [stack.enter_context(part.open("rb")) for part in parts]
        out.writelines(heapq.merge(*streams))


def build_index(
    directory: Path, output: Path | None = None, *, index_root: Path | None = None, jobs: int = 1
) -> IndexReport:
    """Bring ``output`` (default ``DIR/indexes/index.cdxj``) up to date with the folder's WARC files.

    ``index_root`` replaces ``DIR/indexes`` as the home of the parts, the lock and the default output.

    Raises:
        ArchiveFolderError: the folder is missing or holds no finished WARC file.
        ArchiveIndexError: a WARC file could not be read.
        OSError: the index could not be written (read-only folder, full disk).
    """
    warcs = require_archive(directory)
    indexes = index_root or directory / INDEX_DIR
    target = output or indexes / INDEX_NAME
    parts_dir = indexes / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(indexes):
        parts = []
        problems: list[FileProblem] = []
        reindexed = 0
        for warc in warcs:
            part = parts_dir / f"{warc.name}.cdxj"
            if not _is_newer(part, warc):
                problem = _index_part(warc, part, jobs)
                reindexed += 1
            else:
                problem = _recorded_problem(warc, part)
            if problem is not None:
                logger.info("Index of %(dir)s: %(problem)s", {"dir": directory, "problem": problem})
                problems.append(problem)
            parts.append(part)
        wanted = {part.name for part in parts}
        stale = [p for p in parts_dir.glob("*.cdxj") if p.name not in wanted]
        merged = bool(reindexed or stale) or not all(_is_newer(target, part) for part in parts)
        if merged:
            _replace_atomically(target, lambda out: _merge(parts, out))
        for part in stale:
            part.unlink(missing_ok=True)
            part.with_name(part.name + _PROBLEM_SUFFIX).unlink(missing_ok=True)
    return IndexReport(
        path=target,
        warc_count=len(warcs),
        reindexed=reindexed,
        merged=merged,
        problems=tuple(problems),
        notes=tuple(_not_captures(directory)),
    )


def private_index_root(directory: Path) -> Path:
    """Where the index of a folder we cannot write into is kept: this user's temporary folder."""
    key = hashlib.sha256(str(directory.resolve()).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"portal-archive-{os.getuid()}" / key


def ensure_index(directory: Path) -> Path:
    """The folder's up-to-date index; a read-only folder (a mounted copy) gets a private one."""
    return ensure_index_report(directory).path


def ensure_index_report(directory: Path) -> IndexReport:
    """``ensure_index``, with what the build found (files left out, notes) for commands that say it."""
    try:
        return build_index(directory)
    except OSError as exc:
        root = private_index_root(directory)
        logger.info("Cannot index into %(dir)s (%(exc)s); using %(root)s", {"dir": directory, "exc": exc, "root": root})
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return build_index(directory, index_root=root)


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CdxjEntry:
    """One index line: SURT key, 14-digit timestamp and the JSON fields cdxj-indexer wrote."""

    urlkey: str
    timestamp: str
    fields: dict[str, Any]

    @classmethod
    def parse(cls, line: bytes) -> Self:
        """Split ``KEY TIMESTAMP {json}``; raise ``ValueError`` on anything else."""
        key, timestamp, data = line.rstrip(b"\r\n").split(b" ", 2)
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise ValueError("CDXJ fields are not a JSON object")
        return cls(key.decode("utf-8"), timestamp.decode("ascii"), fields)

    @property
    def url(self) -> str:
        return str(self.fields.get("url", ""))

    @property
    def mime(self) -> str:
        return str(self.fields.get("mime", ""))

    @property
    def status(self) -> str:
        return str(self.fields.get("status", ""))

    @property
    def filename(self) -> str:
        return str(self.fields["filename"])

    @property
    def offset(self) -> int:
        return int(self.fields["offset"])

    @property
    def length(self) -> int:
        return int(self.fields["length"])

    @property
    def is_capture(self) -> bool:
        """A ``response`` or ``revisit`` of an HTTP URL: what replay shows for that URL."""
        return self.url.startswith(("http://", "https://")) and (self.mime == "warc/revisit" or bool(self.status))


def _line_at_or_after(fh: BinaryIO, position: int) -> tuple[int, bytes]:
    """The first whole line starting at or after ``position``, and where it starts."""
    if position == 0:
        fh.seek(0)
    else:
        fh.seek(position - 1)
        fh.readline()
    start = fh.tell()
    return start, fh.readline()


def iter_prefix(index: Path, prefix: bytes) -> Iterator[bytes]:
    """Lines of a byte-sorted file that start with ``prefix``, found by bisection (no full scan)."""
    with index.open("rb") as fh:
        low, high = 0, index.stat().st_size
        while low < high:
            middle = (low + high) // 2
            _, line = _line_at_or_after(fh, middle)
            if line and line < prefix:
                low = middle + 1
            else:
                high = middle
        start, _ = _line_at_or_after(fh, low)
        fh.seek(start)
        for line in fh:
            if not line.startswith(prefix):
                return
            yield line


def lookup(index: Path, url: str) -> list[CdxjEntry]:
    """Every index entry of ``url``'s SURT key, by timestamp: those filed under it, and the answers to
    its POST (or PUT) requests, filed under the key with the method and body appended as a query (as
    replay looks them up) and found among the key's query forms."""
    key = url_key(url)
    entries = [CdxjEntry.parse(line) for line in iter_prefix(index, key.encode("utf-8") + b" ")]
    asked = [
        entry
        for line in iter_prefix(index, key.split("?", 1)[0].encode("utf-8") + b"?")
        if (entry := CdxjEntry.parse(line)).fields.get("method") and url_key(entry.url) == key
    ]
    return sorted(entries + asked, key=lambda entry: entry.timestamp) if asked else entries
