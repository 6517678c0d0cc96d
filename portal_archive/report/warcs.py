"""Streaming any WARC file record by record, and saying clearly what is wrong with a broken one.

Reads ``.warc`` and ``.warc.gz`` files written by anyone (our writer, wget, Heritrix,
Browsertrix, Common Crawl) through warcio, one record at a time: a file is never read whole. A
file that cannot be read to its end (empty, not a WARC, truncated gzip stream, a record shorter
than its ``Content-Length``) raises ``WarcFileError`` naming the file and the last good record,
after every complete record before the damage was yielded, so the readable rest still counts.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

__all__ = ["ArchivedRecord", "PayloadError", "WarcFileError", "read_records", "record_at"]

logger = logging.getLogger(__name__)

READ_SIZE: Final = 64 * 1024
GZIP_MAGIC: Final = b"\x1f\x8b"


class WarcFileError(Exception):
    """A WARC file that cannot be read (further); ``str()`` is one line naming the file."""

    def __init__(self, path: Path | str, problem: str, complete: int = 0) -> None:
        self.path = str(path)
        self.problem = problem
        self.complete = complete
        """Records read completely before the problem."""
        super().__init__(f"{path}: {problem}")


class PayloadError(Exception):
    """One record's payload cannot be decoded (a broken content coding); the file itself is fine."""


class ArchivedRecord:
    """One record as it streams by: its WARC fields, the HTTP status and type, and its payload.

    The payload must be read (``payload``) before the next record is asked for: the file moves on.
    """

    __slots__ = ("_cursor", "_record", "content_type", "date", "offset", "path", "record_id", "refers_to",
                 "status", "target_uri", "warc_type")  # fmt: skip

    def __init__(self, record: Any, path: Path, offset: int, cursor: list[int]) -> None:
        self._record = record
        self._cursor = cursor
        self.path = path
        self.offset = offset
        headers = record.rec_headers
        self.warc_type: str = str(record.rec_type or "")
        self.target_uri: str = _strip_brackets(headers.get_header("WARC-Target-URI") or "")
        self.record_id: str = str(headers.get_header("WARC-Record-ID") or "")
        self.date: str = str(headers.get_header("WARC-Date") or "")
        self.refers_to: str = str(headers.get_header("WARC-Refers-To") or "")
        http = record.http_headers
        self.status: int | None = None
        if http is not None and self.warc_type in ("response", "revisit"):
            try:
                self.status = int(http.get_statuscode())
            except (TypeError, ValueError):
                self.status = None
            self.content_type: str = str(http.get_header("Content-Type") or "")
        else:
            self.content_type = str(headers.get_header("Content-Type") or "")

    def payload(self, limit: int) -> bytes:
        """The entity body, de-chunked and content-decoded, at most ``limit`` bytes.

        Raises:
            WarcFileError: The record ends before its ``Content-Length`` (a truncated file).
            PayloadError: The content coding is broken (the record is complete).
        """
        parts: list[bytes] = []
        size = 0
        failure: Exception | None = None
        try:
            stream = self._record.content_stream()
            while size < limit and (chunk := stream.read(min(READ_SIZE, limit - size))):
                parts.append(chunk)
                size += len(chunk)
        except (zlib.error, OSError, ValueError, EOFError) as exc:  # brotli and zlib errors on a bad coding
            failure = exc
        self.drain()
        if failure is not None:
            raise PayloadError(f"{type(failure).__name__}: {failure}") from failure
        return b"".join(parts)

    def drain(self) -> None:
        """Read the rest of the record block; a block shorter than declared means the file was cut."""
        raw = self._record.raw_stream
        while raw.read(READ_SIZE):
            pass
        if getattr(raw, "limit", 0) > 0:
            complete = self._cursor[0]
            raise WarcFileError(self.path, _truncated(self.path, complete), complete)


def _strip_brackets(uri: str) -> str:
    """wget (WARC/1.0) writes ``<http://…>``; the brackets are not part of the URI."""
    uri = uri.strip()
    return uri[1:-1] if uri.startswith("<") and uri.endswith(">") else uri


def _opens_an_archive(record: Any) -> bool:
    """A WARC record, or the ``filedesc://`` header every ARC file starts with."""
    if str(getattr(record, "format", "")).startswith("warc"):
        return True
    return bool(record.rec_type == "arc_header")


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _truncated(path: Path, complete: int) -> str:
    kind = "gzip stream" if _is_gzip(path) else "record"
    return f"truncated {kind} after record {complete}"


def _member_is_complete(fh: IO[bytes], offset: int) -> bool | None:
    """Whether the gzip member starting at ``offset`` ends before the file does (None: corrupt data)."""
    fh.seek(offset)
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        while not decompressor.eof:
            data = fh.read(READ_SIZE)
            if not data:
                return False
            decompressor.decompress(data, READ_SIZE)
            while decompressor.unconsumed_tail and not decompressor.eof:
                decompressor.decompress(decompressor.unconsumed_tail, READ_SIZE)
    except zlib.error:
        return None
    return True


def _describe_failure(path: Path, fh: IO[bytes], offset: int, complete: int, exc: Exception) -> str:
    """One line for a record warcio could not parse: not a WARC, truncated, or corrupt."""
    gzipped = _is_gzip(path)
    if complete == 0 and isinstance(exc, ArchiveLoadFailed) and "Unknown archive format" in str(exc):
        return "not a WARC file (gzip data that is not WARC)" if gzipped else "not a WARC file"
    if gzipped:
        whole = _member_is_complete(fh, offset)
        if whole is False:
            return f"truncated gzip stream after record {complete}"
        if whole is None or isinstance(exc, zlib.error):
            return f"corrupt gzip data after record {complete}"
    elif offset >= path.stat().st_size - 1 or isinstance(exc, EOFError):
        return f"truncated record after record {complete}"
    if complete == 0:
        return f"not a WARC file ({exc})"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"unreadable record after record {complete} ({detail[:200]})"


def read_records(path: Path, *, progress: Callable[[int], None] | None = None) -> Iterator[ArchivedRecord]:
    """Every record of one WARC file, in order, streamed.

    Args:
        path: A ``.warc`` or ``.warc.gz`` file (compression is detected, not taken from the name).
        progress: Called with the number of file bytes consumed since the previous call.

    Raises:
        WarcFileError: The file is missing, empty, not a WARC, or cannot be read to its end; every
            complete record before the problem has been yielded.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc
    if size == 0:
        raise WarcFileError(path, "empty file")
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc
    cursor = [0]
    reported = 0
    with fh:
        iterator = ArchiveIterator(fh, check_digests=False)
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # warcio raises assorted errors (AttributeError too) on damaged input
                # ``offset`` is where the failing record starts once warcio has finished the previous one.
                message = _describe_failure(path, fh, iterator.offset, cursor[0], exc)
                raise WarcFileError(path, message, cursor[0]) from exc
            if cursor[0] == 0 and not _opens_an_archive(record):
                # warcio reads any line of five words as an ARC header: a text file is no archive.
                raise WarcFileError(
                    path, "not a WARC file (gzip data that is not WARC)" if _is_gzip(path) else "not a WARC file"
                )
            archived = ArchivedRecord(record, path, iterator.offset, cursor)
            yield archived
            archived.drain()
            cursor[0] += 1
            if progress is not None:
                position = fh.tell()
                progress(position - reported)
                reported = position
        if progress is not None:
            progress(size - reported)
    if cursor[0] == 0:
        raise WarcFileError(path, "no WARC records")


def record_at(path: Path, offset: int) -> Iterator[ArchivedRecord]:
    """The one record at ``offset`` of ``path`` (an iterator of zero or one record).

    Raises:
        WarcFileError: The file or the record cannot be read.
    """
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc
    with fh:
        try:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, check_digests=False)))
        except StopIteration:
            return
        except Exception as exc:  # a wrong offset makes warcio fail in many ways
            raise WarcFileError(path, f"no readable record at offset {offset} ({type(exc).__name__})") from exc
        yield ArchivedRecord(record, path, offset, [0])
