"""The one reader of archived records: any WARC file, streamed or at an offset, parsed or as stored.

Reads ``.warc`` and ``.warc.gz`` files written by anyone (our writer, wget, Heritrix,
Browsertrix, Common Crawl) through warcio, one record at a time: a file is never read whole. A
file that cannot be read to its end (empty, not a WARC, truncated gzip stream, a record shorter
than its ``Content-Length``) raises ``WarcFileError`` naming the file and the last good record,
after every complete record before the damage was yielded, so the readable rest still counts.

Two views of a record: ``ArchivedRecord`` (``read_records``, ``record_at``) with its HTTP status,
type and decoded payload, for the report; ``RawRecord`` (``iter_raw_records``, ``raw_record_at``,
``parse_raw_record``) with its WARC headers and block exactly as stored, for the checker, recovery
and ``show``, whose HTTP layer ``read_http_head`` / ``split_http`` and ``entity_stream`` take apart
by hand (header bytes that are not ASCII stay as archived).
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, cast

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed

from portal_archive.warc.codings import CodingError, decoding_stream

__all__ = [
    "CAPTURE_TYPES",
    "ArchivedRecord",
    "CodingError",
    "FileScan",
    "HttpHead",
    "HttpHeadError",
    "PayloadError",
    "RawRecord",
    "RecordHeaders",
    "WarcFileError",
    "entity_stream",
    "iter_raw_records",
    "parse_raw_record",
    "raw_record_at",
    "read_http_head",
    "read_records",
    "record_at",
    "scan",
    "split_http",
]

logger = logging.getLogger(__name__)

READ_SIZE: Final = 64 * 1024
MAX_HEADER_BYTES: Final = 256 * 1024
GZIP_MAGIC: Final = b"\x1f\x8b"


class WarcFileError(Exception):
    """A WARC file that cannot be read (further); ``str()`` is one line naming the file."""

    def __init__(self, path: Path | str, problem: str, complete: int = 0) -> None:
        self.path = str(path)
        self.problem = problem
        self.complete = complete
        """Records read completely before the problem."""
        super().__init__(f"{path}: {problem}")


class HttpHeadError(ValueError):
    """A record block whose HTTP layer cannot be read (no status line, or oversized)."""


class PayloadError(Exception):
    """One record's payload cannot be decoded (a broken content coding); the file itself is fine."""


class ArchivedRecord:
    """One record as it streams by: its WARC fields, the HTTP status and type, and its payload.

    The payload must be read (``payload``) before the next record is asked for: the file moves on.
    """

    __slots__ = ("_cursor", "_record", "content_type", "date", "misframed_before", "offset", "path",
                 "raw_target_uri", "record_id", "refers_to", "status", "target_uri", "warc_type")  # fmt: skip

    def __init__(
        self, record: Any, path: Path, offset: int | None, cursor: list[int], *, misframed_before: bool = False
    ) -> None:
        self._record = record
        self._cursor = cursor
        self.path = path
        self.offset = offset
        self.misframed_before = misframed_before
        """The record before this one was not followed by CRLF CRLF (its ``Content-Length`` is off)."""
        headers = record.rec_headers
        self.raw_target_uri: str = str(
            getattr(headers, "raw_target_uri", None) or headers.get_header("WARC-Target-URI") or ""
        )
        """``WARC-Target-URI`` as stored, before warcio mends wget's ``<…>`` and spaces."""
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
            stream = self._entity()
            while size < limit and (chunk := stream.read(min(READ_SIZE, limit - size))):
                parts.append(chunk)
                size += len(chunk)
        except (zlib.error, OSError, ValueError, EOFError) as exc:  # CodingError is a ValueError
            failure = exc
        self.drain()
        if failure is not None:
            raise PayloadError(f"{type(failure).__name__}: {failure}") from failure
        return b"".join(parts)

    @property
    def headers(self) -> RecordHeaders:
        """Every WARC header field as stored, with the version line."""
        return RecordHeaders.of(self._record)

    @property
    def block(self) -> IO[bytes]:
        """The record block as stored (after the HTTP head when the records are read with it parsed)."""
        stream: IO[bytes] = self._record.raw_stream
        return stream

    @property
    def block_left(self) -> int:
        """Bytes of the block not read yet; after reading to the end, more than 0 means the file was cut."""
        return max(int(getattr(self._record.raw_stream, "limit", 0)), 0)

    def _entity(self) -> IO[bytes]:
        """The entity as the payload reader sees it: de-chunked, every content coding removed."""
        raw: IO[bytes] = self._record.raw_stream
        http = self._record.http_headers
        if http is None:
            return raw
        chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
        return decoding_stream(_dechunked(raw) if chunked else raw, http.get_header("Content-Encoding"))

    def drain(self) -> None:
        """Read the rest of the record block; a block shorter than declared means the file was cut."""
        raw = self._record.raw_stream
        complete = self._cursor[0]
        try:
            while raw.read(READ_SIZE):
                pass
        except EOFError as exc:  # a file compressed as one gzip stream, cut short
            raise WarcFileError(self.path, _truncated(self.path, complete), complete) from exc
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise WarcFileError(self.path, f"corrupt gzip data after record {complete}", complete) from exc
        if getattr(raw, "limit", 0) > 0:
            raise WarcFileError(self.path, _truncated(self.path, complete), complete)


def _keep_stored_target_uris(loader: Any) -> None:
    """Keep each ``WARC-Target-URI`` as stored before warcio mends it (``raw_target_uri``), and let it
    mend quietly: the checker reports wget's ``<…>`` and spaces itself, warcio would print a warning."""

    def mend(rec_headers: Any) -> Any:
        uri = rec_headers.get_header("WARC-Target-URI")
        rec_headers.raw_target_uri = uri
        if uri is not None and uri.startswith("<") and uri.endswith(">"):
            uri = uri[1:-1]
            rec_headers.replace_header("WARC-Target-URI", uri)
        if uri is not None and " " in uri:
            uri = uri.replace(" ", "%20")
            rec_headers.replace_header("WARC-Target-URI", uri)
        return uri

    loader._ensure_target_uri_format = mend


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
    if isinstance(exc, EOFError):  # gzip.GzipFile: the stream ends inside a member
        return f"truncated {'gzip stream' if gzipped else 'record'} after record {complete}"
    if isinstance(exc, zlib.error | gzip.BadGzipFile):
        return f"corrupt gzip data after record {complete}"
    try:
        if gzipped and offset >= 0:
            whole = _member_is_complete(fh, offset)
            if whole is False:
                return f"truncated gzip stream after record {complete}"
            if whole is None:
                return f"corrupt gzip data after record {complete}"
        elif not gzipped and offset >= path.stat().st_size - 1:
            return f"truncated record after record {complete}"
    except OSError:
        pass  # the description falls back to warcio's words below
    if complete == 0:
        return "not a WARC file"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"unreadable record after record {complete} ({detail[:200]})"


class _GunzipStream(io.RawIOBase):
    """The decompressed bytes of a gzip file (any number of members), remembering whether it was cut.

    ``gzip.GzipFile`` signals a cut stream with an ``EOFError`` that warcio takes for the end of
    the file; here the cut is recorded in ``truncated`` and checked once the records are read.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._input = b""
        self._output = b""
        self._in_member = False
        self.truncated = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._output:
            if not self._input:
                self._input = self._raw.read(READ_SIZE)
                if not self._input:
                    self.truncated = self._in_member  # the file ended inside a member
                    return 0
            self._in_member = True
            self._output = self._decompressor.decompress(self._input, READ_SIZE)
            self._input = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                # The member is complete; whatever follows is the next member. zlib puts all of it in
                # unused_data, and may repeat it in unconsumed_tail: that copy is dropped.
                self._input = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                self._in_member = False
        size = min(len(view), len(self._output))
        view[:size] = self._output[:size]
        self._output = self._output[size:]
        return size


class _OneGzipStream(Exception):
    """warcio found a whole-file gzip (one member holding many records): read it as one stream."""


class _Reading:
    """One pass over a file: complete records so far and bytes reported to the progress callback."""

    def __init__(self, path: Path, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.path = path
        self.raw = raw
        self.progress = progress
        self.cursor = [0]
        self.reported = 0

    def advance(self) -> None:
        if self.progress is not None:
            position = self.raw.tell()
            if position > self.reported:
                self.progress(position - self.reported)
                self.reported = position

    def records(
        self, stream: IO[bytes], *, seekable: bool, skip: int = 0, parse_http: bool = True
    ) -> Iterator[ArchivedRecord]:
        iterator = ArchiveIterator(stream, check_digests=False, no_record_parse=not parse_http)
        iterator.INC_RECORD = ""  # warcio writes framing errors to stderr: they are counted instead (misframed)
        _keep_stored_target_uris(iterator.loader)
        framing_errors = 0
        seen = 0
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                return
            except ArchiveLoadFailed as exc:
                if seekable and "non-chunked gzip" in str(exc):
                    raise _OneGzipStream from exc
                raise self._failure(iterator, exc) from exc
            except Exception as exc:  # warcio raises assorted errors (AttributeError too) on damaged input
                raise self._failure(iterator, exc) from exc
            seen += 1
            if seen <= skip:
                continue  # yielded by the first pass already
            if self.cursor[0] == 0 and not _opens_an_archive(record):
                # warcio reads any line of five words as an ARC header: a text file is no archive.
                gzipped = _is_gzip(self.path)
                raise WarcFileError(self.path, "not a WARC file (gzip data that is not WARC)" if gzipped else
                                    "not a WARC file")  # fmt: skip
            misframed = iterator.err_count > framing_errors
            framing_errors = iterator.err_count
            archived = ArchivedRecord(
                record, self.path, iterator.offset if seekable else None, self.cursor, misframed_before=misframed
            )
            yield archived
            archived.drain()
            self.cursor[0] += 1
            self.advance()

    def _failure(self, iterator: Any, exc: Exception) -> WarcFileError:
        # ``offset`` is where the failing record starts once warcio has finished the previous one.
        message = _describe_failure(self.path, self.raw, int(iterator.offset), self.cursor[0], exc)
        return WarcFileError(self.path, message, self.cursor[0])


def read_records(
    path: Path, *, progress: Callable[[int], None] | None = None, parse_http: bool = True
) -> Iterator[ArchivedRecord]:
    """Every record of one WARC file, in order, streamed.

    A ``.warc.gz`` compressed as one gzip stream (not one member per record, as ``gzip x.warc``
    makes it) is read too, sequentially: its records have no offset to seek to.

    Args:
        path: A ``.warc`` or ``.warc.gz`` file (compression is detected, not taken from the name).
        progress: Called with the number of file bytes consumed since the previous call.
        parse_http: False leaves each block as stored (``ArchivedRecord.block``): no HTTP status or
            type, no payload decoding, for readers that hold the bytes to their headers.

    Raises:
        WarcFileError: The file is missing, empty, not a WARC, or cannot be read to its end; every
            complete record before the problem has been yielded.
    """
    try:
        size = path.stat().st_size
        if size == 0:
            raise WarcFileError(path, "empty file")
        fh = path.open("rb")
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc
    with fh:
        reading = _Reading(path, fh, progress)
        one_stream = False
        try:
            yield from reading.records(fh, seekable=True, parse_http=parse_http)
        except _OneGzipStream:
            one_stream = True
        if one_stream:
            logger.info("%(path)s is one gzip stream, not a member per record: reading it sequentially", {"path": path})
            fh.seek(0)
            gunzip = _GunzipStream(fh)
            with io.BufferedReader(gunzip, READ_SIZE) as stream:
                yield from reading.records(stream, seekable=False, skip=reading.cursor[0], parse_http=parse_http)
            if gunzip.truncated:
                complete = reading.cursor[0]
                raise WarcFileError(path, f"truncated gzip stream after record {complete}", complete)
        if progress is not None:
            progress(max(size - reading.reported, 0))
    if reading.cursor[0] == 0:
        raise WarcFileError(path, "no WARC records")


CAPTURE_TYPES: Final = frozenset({"response", "revisit", "resource"})
"""Record types that hold (or stand for) a fetched payload: what replay and reports read."""


@dataclass
class FileScan:
    """What one pass over a file's records found, payloads unread."""

    path: Path
    records: int = 0
    """Records read completely."""
    captures: int = 0
    """Complete ``response``, ``revisit`` and ``resource`` records."""
    last_complete_offset: int | None = None
    """Where the last complete record starts (None: no complete record, or no offsets: whole-file gzip)."""
    whole_file_gzip: bool = False
    """One gzip stream for the whole file: readable in order, but no record can be reached by offset."""
    problem: WarcFileError | None = None
    """Why reading stopped before the end, if it did."""


def scan(path: Path) -> FileScan:
    """Read every record of ``path`` to its end without decoding a payload; never raises on content."""
    found = FileScan(path)
    try:
        for record in read_records(path):
            record.drain()
            found.records += 1
            found.captures += record.warc_type in CAPTURE_TYPES
            if record.offset is None:
                found.whole_file_gzip = True
            else:
                found.last_complete_offset = record.offset
    except WarcFileError as problem:
        found.problem = problem
        found.records = problem.complete
    return found


def _first_record_at(path: Path, offset: int, *, parse_http: bool) -> Iterator[tuple[Any, IO[bytes]]]:
    """The warcio record at ``offset`` of ``path`` (zero or one), with the open file it reads from."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc
    with fh:
        try:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, no_record_parse=not parse_http, check_digests=False)))
        except StopIteration:
            return
        except Exception as exc:  # a wrong offset makes warcio fail in many ways
            raise WarcFileError(path, f"no readable record at offset {offset} ({type(exc).__name__})") from exc
        yield record, fh


def record_at(path: Path, offset: int) -> Iterator[ArchivedRecord]:
    """The one record at ``offset`` of ``path`` (an iterator of zero or one record).

    Raises:
        WarcFileError: The file or the record cannot be read.
    """
    for record, _ in _first_record_at(path, offset, parse_http=True):
        yield ArchivedRecord(record, path, offset, [0])


# -- records as stored: WARC headers and the block, bytes untouched -------------------------------


@dataclass(frozen=True)
class RecordHeaders:
    """The WARC header fields of one record, as stored."""

    version: str
    """``WARC/1.1``, ``WARC/1.0`` (or whatever the version line says)."""
    fields: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """The first value of field ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.fields if key.lower() == wanted), None)

    @property
    def warc_type(self) -> str:
        return self.get("WARC-Type") or ""

    @classmethod
    def of(cls, record: Any) -> RecordHeaders:
        """The headers of a warcio record."""
        headers = record.rec_headers
        return cls(str(headers.protocol or ""), tuple((str(k), str(v)) for k, v in headers.headers))


@dataclass(frozen=True)
class RawRecord:
    """One record unparsed: its WARC headers and a stream over its block, as stored."""

    headers: RecordHeaders
    block: IO[bytes]
    """Read it before the next record is asked for: the file moves on."""


def iter_raw_records(fh: IO[bytes]) -> Iterator[RawRecord]:
    """Every record of an open WARC file, unparsed (the checker holds the bytes to their headers).

    warcio's errors on damaged input propagate: the caller says what they mean for its purpose.
    """
    for record in ArchiveIterator(fh, no_record_parse=True, check_digests=False):
        yield RawRecord(RecordHeaders.of(record), record.raw_stream)


def parse_raw_record(data: bytes) -> RawRecord:
    """The one record that ``data`` holds (a gzip member's content, or one framed record).

    Raises:
        ValueError: the header block cannot be parsed, with warcio's words.
    """
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data), no_record_parse=True, check_digests=False)))
    except Exception as exc:  # warcio raises assorted errors on damaged headers
        raise ValueError(str(exc) or type(exc).__name__) from exc
    return RawRecord(RecordHeaders.of(record), record.raw_stream)


@contextmanager
def raw_record_at(path: Path, offset: int) -> Iterator[RawRecord]:
    """The record at ``offset`` of ``path``, unparsed.

    Raises:
        WarcFileError: no readable record there.
    """
    for record, _ in _first_record_at(path, offset, parse_http=False):
        yield RawRecord(RecordHeaders.of(record), record.raw_stream)
        return
    raise WarcFileError(path, f"no record at offset {offset}")


# -- the HTTP layer of a block --------------------------------------------------------------------


@dataclass(frozen=True)
class HttpHead:
    """The HTTP status (or request) line and headers of a record block, as stored."""

    raw: bytes
    """Status line, header lines and the blank line, byte for byte."""
    status_line: bytes
    headers: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def from_lines(cls, raw: bytes, lines: list[bytes]) -> HttpHead:
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers.append((name.strip(), value.strip()))
        return cls(raw, lines[0] if lines else b"", tuple(headers))

    def values(self, name: bytes) -> list[bytes]:
        """Every value of header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def get(self, name: bytes) -> bytes | None:
        """The last value of header ``name`` (case-insensitive), or ``None``."""
        found = self.values(name)
        return found[-1] if found else None

    @property
    def status(self) -> int | None:
        """The status code of a response line, None when there is none."""
        parts = self.status_line.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    @property
    def chunked(self) -> bool:
        """Whether a ``Transfer-Encoding`` header names chunked coding."""
        return b"chunked" in b",".join(self.values(b"Transfer-Encoding")).lower()

    @property
    def content_type(self) -> str:
        value = self.get(b"Content-Type")
        return value.decode("latin-1") if value else ""


def read_http_head(stream: IO[bytes]) -> HttpHead:
    """Consume the HTTP header part of a record block, leaving ``stream`` at the entity body.

    Raises:
        HttpHeadError: no status line, or headers beyond ``MAX_HEADER_BYTES``.
    """
    lines: list[bytes] = []
    size = 0
    while True:
        line = stream.readline()
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise HttpHeadError(f"HTTP headers longer than {MAX_HEADER_BYTES} bytes")
        if not line:
            break
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    if not lines:
        raise HttpHeadError("record has no HTTP status line")
    return HttpHead.from_lines(b"".join(lines), [line.rstrip(b"\r\n") for line in lines])


def split_http(block: bytes) -> tuple[HttpHead, bytes] | None:
    """The HTTP head of a whole block and the entity after it; None without a CRLF CRLF."""
    end = block.find(b"\r\n\r\n")
    if end < 0:
        return None
    return HttpHead.from_lines(block[: end + 4], block[:end].split(b"\r\n")), block[end + 4 :]


def entity_stream(stream: IO[bytes], http: HttpHead, *, decode: bool) -> IO[bytes]:
    """The entity of a block whose head has been read: de-chunked, and content-decoded if ``decode``.

    Raises:
        CodingError: a content coding this reader does not decode (``warc.codings``); a coding that
            breaks later raises it on read.
    """
    body = _dechunked(stream) if http.chunked else stream
    return decoding_stream(body, http.get(b"Content-Encoding")) if decode else body


def _dechunked(stream: IO[bytes]) -> IO[bytes]:
    """Chunked transfer coding removed; a body that is not chunk-framed after all reads as stored."""
    return cast(IO[bytes], ChunkedDataReader(stream))
