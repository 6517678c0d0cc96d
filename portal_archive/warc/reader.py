"""The one reader of archived records: any WARC file, streamed or at an offset, parsed or as stored.

Reads ``.warc`` and ``.warc.gz`` files written by anyone (our writer, wget, Heritrix, Browsertrix,
Common Crawl), one record at a time, through ``warc.framing``: a file is never read whole, gzip is
inflated member by member, and a record whose ``Content-Length`` is wrong is marked and stepped over.
A file that cannot be read to its end (empty, not a WARC, truncated or corrupt gzip, a record
shorter than its ``Content-Length``) raises ``WarcFileError`` naming the file and the last good
record, after every complete record before the damage was yielded, so the readable rest still counts.

Two views of a record: ``ArchivedRecord`` (``read_records``, ``record_at``) with its HTTP status,
type and decoded payload, for the report, the index and the checker; ``RawRecord``
(``raw_record_at``, ``parse_raw_record``) with its WARC headers and block exactly as stored, for
recovery and ``show``, whose HTTP layer ``read_http_head`` / ``split_http`` and ``entity_stream``
take apart by hand (header bytes that are not ASCII stay as archived).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Final, cast

from warcio.bufferedreaders import ChunkedDataReader

from portal_archive.warc.codings import CodingError, decoding_stream
from portal_archive.warc.framing import BLANK_LINE, Frame, FrameReader, FramingError, first_values, open_frames, text_of

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
    "SentRequest",
    "WarcFileError",
    "entity_stream",
    "gzip_layout_problem",
    "mended_target_uri",
    "parse_raw_record",
    "raw_record_at",
    "read_http_head",
    "read_records",
    "record_at",
    "scan",
    "sent_request",
    "split_http",
]

logger = logging.getLogger(__name__)

READ_SIZE: Final = 64 * 1024
MAX_HEADER_BYTES: Final = 256 * 1024
_HTTP_TYPES: Final = frozenset({"response", "revisit", "request"})
_HTTP_FIELD: Final = re.compile(rb"([^:\r\n]*): *([^\r\n]*)")


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


def mended_target_uri(stored: str) -> str:
    """``WARC-Target-URI`` as a URL: wget's ``<…>`` taken off, spaces escaped (as warcio and pywb read it)."""
    uri = stored.strip()
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1]
    return uri.replace(" ", "%20") if " " in uri else uri


@dataclass(frozen=True)
class RecordHeaders:
    """The WARC header fields of one record, as stored."""

    version: str
    """``WARC/1.1``, ``WARC/1.0`` (or whatever the version line says)."""
    fields: tuple[tuple[str, str], ...]

    @cached_property
    def lowered(self) -> dict[str, str]:
        """Field names in lower case to their first value (for readers that look up many fields)."""
        return first_values(self.fields)

    def get(self, name: str) -> str | None:
        """The first value of field ``name`` (case-insensitive), or ``None``."""
        return self.lowered.get(name.lower())

    @property
    def warc_type(self) -> str:
        return self.get("WARC-Type") or ""

    @classmethod
    def of(cls, frame: Frame) -> RecordHeaders:
        """The headers of a framed record (sharing its lookup table)."""
        headers = cls(frame.version, tuple(frame.fields))
        headers.__dict__["lowered"] = frame.lowered
        return headers


class _Block(io.RawIOBase):
    """A record block as a stream: bytes held back after its HTTP head first, then the rest."""

    def __init__(self, frame: Frame, pending: bytes = b"") -> None:
        super().__init__()
        self._frame = frame
        self._pending = pending

    def readable(self) -> bool:
        return True

    def skip(self) -> None:
        """Drop the rest of the block unread."""
        self._pending = b""
        self._frame.skip()

    def read(self, size: int | None = -1) -> bytes:
        want = -1 if size is None else size
        if not self._pending:
            return self._frame.read(want)
        part = self._pending if want < 0 else self._pending[:want]
        self._pending = self._pending[len(part) :]
        if want < 0:
            return part + self._frame.read(-1)
        return part

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    @property
    def limit(self) -> int:
        """Bytes of the block not read yet (for readers that drain it)."""
        return len(self._pending) + self._frame.left


def _head_of(frame: Frame) -> tuple[HttpHead | None, bytes]:
    """The HTTP head at the start of ``frame``'s block (up to its first blank line, or the whole of a
    block without one, as warcio reads it), and the bytes read past it."""
    data = b""
    while True:
        blank = BLANK_LINE.search(data)
        if blank is not None:
            return HttpHead.parse(data[: blank.start()], data[: blank.end()]), data[blank.end() :]
        more = frame.read(READ_SIZE)
        if not more:
            if not data:
                return None, b""
            return HttpHead.parse(data, data), b""
        if len(data) > MAX_HEADER_BYTES:
            return None, data + more
        data += more


class ArchivedRecord:
    """One record as it streams by: its WARC fields, the HTTP status and type, and its payload.

    The payload must be read (``payload``) before the next record is asked for: the file moves on.
    ``parse_http``: read the HTTP head of ``request``, ``response`` and ``revisit`` records (True),
    of the types in a set, or of none (False).
    """

    __slots__ = ("_block", "_frame", "_http", "content_type", "date", "misframed_before", "offset", "path",
                 "raw_target_uri", "record_id", "refers_to", "status", "target_uri", "warc_type")  # fmt: skip

    def __init__(self, frame: Frame, path: Path, *, parse_http: bool | frozenset[str],
                 misframed_before: bool = False) -> None:  # fmt: skip
        self._frame = frame
        self.path = path
        self.offset = frame.offset
        self.misframed_before = misframed_before
        """The record before this one was not followed by CRLF CRLF (its ``Content-Length`` is off)."""
        get = frame.lowered.get
        self.raw_target_uri: str = get("warc-target-uri") or ""
        """``WARC-Target-URI`` as stored, with wget's ``<…>`` and any spaces."""
        self.warc_type: str = get("warc-type") or ""
        self.target_uri: str = mended_target_uri(self.raw_target_uri)
        self.record_id: str = get("warc-record-id") or ""
        self.date: str = get("warc-date") or ""
        self.refers_to: str = get("warc-refers-to") or ""
        self.status: int | None = None
        self._http: HttpHead | None = None
        pending = b""
        if (parse_http and self.warc_type in (_HTTP_TYPES if parse_http is True else parse_http) and frame.block_size
                and self.target_uri.startswith(("http:", "https:"))):  # fmt: skip
            self._http, pending = _head_of(frame)
        self._block = _Block(frame, pending)
        if self._http is not None and self.warc_type != "request":
            self.status = self._http.status
            self.content_type: str = self._http.first_content_type
        else:
            self.content_type = get("content-type") or ""

    @property
    def length(self) -> int | None:
        """Bytes the record takes in its file, once read (None where gzip members are not one per record)."""
        return self._frame.length

    @property
    def misframed(self) -> bool:
        """Once the next record is asked for: this one was not followed by CRLF CRLF."""
        return self._frame.misframed

    @property
    def http(self) -> HttpHead | None:
        """The HTTP head, when read (``parse_http``)."""
        return self._http

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
    def fields(self) -> dict[str, str]:
        """WARC header field names in lower case to their first value."""
        return self._frame.lowered

    @property
    def version(self) -> str:
        """The version line: ``WARC/1.1``, ``WARC/1.0``, …"""
        return self._frame.version

    @property
    def headers(self) -> RecordHeaders:
        """Every WARC header field as stored, with the version line."""
        return RecordHeaders.of(self._frame)

    @property
    def block(self) -> IO[bytes]:
        """The record block as stored (after the HTTP head when the records are read with it parsed)."""
        return cast(IO[bytes], self._block)

    def read_block(self, size: int) -> bytes:
        """The next ``size`` bytes of the block at most, as stored: the fast way through (``b""`` at its end)."""
        return self._block.read(size)

    @property
    def block_left(self) -> int:
        """Bytes of the block not read yet; after reading to the end, more than 0 means the file was cut."""
        return self._block.limit

    def _entity(self) -> IO[bytes]:
        """The entity as the payload reader sees it: de-chunked, every content coding removed."""
        raw = self.block
        http = self._http
        if http is None:
            return raw
        return decoding_stream(_dechunked(raw) if http.chunked else raw, http.get(b"Content-Encoding"))

    def drain(self) -> None:
        """Pass the rest of the record block; a block shorter than declared means the file was cut."""
        self._block.skip()
        if self._frame.left:
            raise WarcFileError(self.path, self._frame.cut_short(), self._frame.complete_before)


CAPTURE_TYPES: Final = frozenset({"response", "revisit", "resource"})
"""Record types that hold (or stand for) a fetched payload: what replay and reports read."""


def _open(path: Path) -> IO[bytes]:
    try:
        if path.stat().st_size == 0:
            raise WarcFileError(path, "empty file")
        return path.open("rb")
    except OSError as exc:
        raise WarcFileError(path, exc.strerror.lower() if exc.strerror else "cannot be read") from exc


class Reading:
    """One pass over a file: its records, and what the pass found about the file as a whole."""

    def __init__(self, path: Path, *, parse_http: bool | frozenset[str] = True,
                 progress: Callable[[int], None] | None = None,
                 start: int = 0, stop: int | None = None) -> None:  # fmt: skip
        self.path = path
        self.parse_http = parse_http
        """As ``ArchivedRecord`` takes it: True, a set of record types, or False."""
        self.progress = progress
        self.start = start
        self.stop = stop
        """Read the records from ``start`` up to the one that starts at ``stop`` (a run of the file)."""
        self.stopped_at: int | None = None
        """Where the first record at or after ``stop`` starts (None: it has no offset, or there is none)."""
        self.frames: FrameReader | None = None
        self.found = FileScan(path)
        """What the pass has found so far: complete records, captures, gzip layout, the problem that ended it."""

    @property
    def members(self) -> int:
        """gzip members read (0 for an uncompressed file), the one at ``stop`` not counted."""
        if self.frames is None:
            return 0
        return self.frames.members - (1 if self.stopped_at is not None else 0)

    @property
    def members_split(self) -> bool:
        """A record that does not start, or end, where a gzip member does."""
        return self.frames.members_split if self.frames is not None else False

    @property
    def skipped_bytes(self) -> int:
        """Bytes passed over between records (after a wrong ``Content-Length``, to the next version line)."""
        return self.frames.skipped_bytes if self.frames is not None else 0

    def __iter__(self) -> Iterator[ArchivedRecord]:
        path = self.path
        found = self.found
        try:
            with _open(path) as fh:
                frames = self.frames = open_frames(fh, start=self.start)
                reported = 0
                previous: Frame | None = None
                stop = self.stop
                try:
                    for frame in frames.frames():
                        if stop is not None and (frame.offset is None or frame.offset >= stop):
                            self.stopped_at = frame.offset
                            return
                        misframed = previous is not None and previous.misframed
                        record = ArchivedRecord(frame, path, parse_http=self.parse_http, misframed_before=misframed)
                        yield record
                        record.drain()
                        previous = frame
                        found.records += 1
                        found.captures += record.warc_type in CAPTURE_TYPES
                        if record.offset is not None:
                            found.last_complete_offset = record.offset
                        if self.progress is not None and (position := fh.tell()) > reported:
                            self.progress(position - reported)
                            reported = position
                except FramingError as failure:
                    raise WarcFileError(path, failure.problem, failure.complete) from failure
                if self.progress is not None:
                    self.progress(max(path.stat().st_size - reported, 0))
            if frames.complete == 0:
                raise WarcFileError(path, "no WARC records")
            if frames.members_split and frames.members == 1:
                logger.info("%(path)s is one gzip stream, not a member per record: read in order", {"path": path})
        except WarcFileError as problem:
            found.problem = problem
            found.records = problem.complete
            raise
        finally:
            found.members = self.members
            found.whole_file_gzip = self.members_split


def read_records(
    path: Path, *, progress: Callable[[int], None] | None = None, parse_http: bool = True
) -> Iterator[ArchivedRecord]:
    """Every record of one WARC file, in order, streamed.

    A ``.warc.gz`` compressed as one gzip stream (not one member per record, as ``gzip x.warc``
    makes it) is read too: its records after the first have no offset to seek to.

    Args:
        path: A ``.warc`` or ``.warc.gz`` file (compression is detected, not taken from the name).
        progress: Called with the number of file bytes consumed since the previous call.
        parse_http: False leaves each block as stored (``ArchivedRecord.block``): no HTTP status or
            type, no payload decoding, for readers that hold the bytes to their headers.

    Raises:
        WarcFileError: The file is missing, empty, not a WARC, or cannot be read to its end; every
            complete record before the problem has been yielded.
    """
    return iter(Reading(path, parse_http=parse_http, progress=progress))


def gzip_layout_problem(members: int, records: int) -> str:
    """The words for gzip members that are not one per record."""
    if members == 1:
        return (
            "whole-file gzip, not one member per record: no record can be reached by offset (repair: warcio recompress)"
        )
    return (f"{members} gzip members for {records} records: not one member per record, records inside a member "
            "cannot be reached by offset (repair: warcio recompress)")  # fmt: skip


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
    """gzip members that are not one per record (one stream for the file, or split elsewhere)."""
    members: int = 0
    """gzip members (0: an uncompressed file)."""
    problem: WarcFileError | None = None
    """Why reading stopped before the end, if it did."""

    @property
    def layout_problem(self) -> str:
        return gzip_layout_problem(self.members, self.records) if self.whole_file_gzip else ""


def scan(path: Path) -> FileScan:
    """Read every record of ``path`` to its end without decoding a payload; never raises on content."""
    reading = Reading(path, parse_http=False)
    with contextlib.suppress(WarcFileError):  # the problem is in reading.found
        for _ in reading:
            pass
    return reading.found


def _first_frame(path: Path, offset: int) -> Iterator[Frame]:
    """The record at ``offset`` of ``path`` (zero or one), framed, with the file open while it is used."""
    with _open(path) as fh:
        try:
            fh.seek(0, io.SEEK_END)
            if offset >= fh.tell():
                return
            frames = open_frames(fh, start=offset).frames()
            frame = next(frames, None)
        except FramingError as exc:
            raise WarcFileError(path, f"no readable record at offset {offset} ({exc.problem})") from exc
        if frame is not None:
            yield frame
            frames.close()


def record_at(path: Path, offset: int) -> Iterator[ArchivedRecord]:
    """The one record at ``offset`` of ``path`` (an iterator of zero or one record).

    Raises:
        WarcFileError: The file or the record cannot be read.
    """
    for frame in _first_frame(path, offset):
        yield ArchivedRecord(frame, path, parse_http=True)


# -- records as stored: WARC headers and the block, bytes untouched -------------------------------


@dataclass(frozen=True)
class RawRecord:
    """One record unparsed: its WARC headers and a stream over its block, as stored."""

    headers: RecordHeaders
    block: IO[bytes]
    """Read it before the next record is asked for: the file moves on."""


def _raw(frame: Frame) -> RawRecord:
    return RawRecord(RecordHeaders.of(frame), cast(IO[bytes], io.BufferedReader(_Block(frame), READ_SIZE)))


def parse_raw_record(data: bytes) -> RawRecord:
    """The one record that ``data`` holds (a gzip member's content, or one framed record).

    Raises:
        ValueError: the header block cannot be parsed.
    """
    frames = FrameReader(iter([(-1, data, -1)]), gzipped=False).frames()
    try:
        frame = next(frames, None)
    except FramingError as exc:
        raise ValueError(exc.problem) from exc
    if frame is None:
        raise ValueError("no WARC record")
    return _raw(frame)


@contextmanager
def raw_record_at(path: Path, offset: int) -> Iterator[RawRecord]:
    """The record at ``offset`` of ``path``, unparsed.

    Raises:
        WarcFileError: no readable record there.
    """
    for frame in _first_frame(path, offset):
        yield _raw(frame)
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
    def parse(cls, head: bytes, raw: bytes) -> HttpHead:
        """The head whose status and header lines are ``head`` (no blank line); ``raw`` as stored."""
        first, _, rest = head.partition(b"\n")
        if b"\n " in rest or b"\t" in rest or b" \r" in rest or b" \n" in rest or b" :" in rest or rest[-1:] == b" ":
            return cls.from_lines(raw, [line.rstrip(b"\r") for line in head.split(b"\n")])  # white space to trim
        return cls(raw, first.rstrip(b"\r"), tuple(_HTTP_FIELD.findall(rest)))

    @classmethod
    def from_lines(cls, raw: bytes, lines: list[bytes]) -> HttpHead:
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers.append((name.strip(), value.strip()))
        return cls(raw, lines[0] if lines else b"", tuple(headers))

    @cached_property
    def _by_name(self) -> dict[bytes, list[bytes]]:
        found: dict[bytes, list[bytes]] = {}
        for key, value in self.headers:
            found.setdefault(key.lower(), []).append(value)
        return found

    def values(self, name: bytes) -> list[bytes]:
        """Every value of header ``name`` (case-insensitive), in order."""
        return list(self._by_name.get(name.lower(), ()))

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
        if b"chunked" not in self.raw.lower():  # most heads: no need to look the header up
            return False
        return b"chunked" in b",".join(self.values(b"Transfer-Encoding")).lower()

    @property
    def content_type(self) -> str:
        value = self.get(b"Content-Type")
        return value.decode("latin-1") if value else ""

    @property
    def first_content_type(self) -> str:
        """The first ``Content-Type`` value, as replay tools and CDX indexers read it."""
        return self.first_value_text(b"Content-Type") or ""

    def first_value_text(self, name: bytes) -> str | None:
        """The first value of header ``name`` as text (UTF-8, else Latin-1), or None."""
        wanted = name.lower()
        for key, value in self.headers:  # one look-up: a scan costs less than the table
            if key.lower() == wanted:
                return text_of(value)
        return None

    @property
    def status_text(self) -> str:
        """The status code as the status line writes it (``""`` when there is none), as CDX indexers keep it."""
        parts = text_of(self.status_line).rstrip().split(" ", 1)
        return parts[1].strip().split(" ", 1)[0] if len(parts) > 1 else ""


@dataclass(frozen=True, slots=True)
class SentRequest:
    """What a ``request`` record says was sent: the method, the body's type and the body."""

    method: str
    content_type: str
    body: bytes


def sent_request(record: ArchivedRecord, limit: int) -> SentRequest | None:
    """The request a ``request`` record read with its HTTP head holds; the body as sent (bounded by its
    ``Content-Length``), at most ``limit`` bytes. None for other records. Reads the record's block."""
    http = record.http
    if record.warc_type != "request" or http is None:
        return None
    method = http.status_line.split(b" ", 1)[0].decode("ascii", "replace").upper()
    declared = (http.get(b"Content-Length") or b"").strip()
    if declared.isdigit():
        limit = min(limit, int(declared))
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := record.read_block(min(READ_SIZE, limit - size))):
        parts.append(chunk)
        size += len(chunk)
    return SentRequest(method, http.content_type, b"".join(parts))


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
