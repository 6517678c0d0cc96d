"""Where each record of a WARC file starts and ends: gzip members inflated, header fields, blocks.

The framing under every command that reads WARC files (``warc.reader`` builds its record views on
it). Written for files others made, and for speed, since ``check`` and ``index`` read every byte:

- gzip is inflated member by member with ISA-L (``isal``: zlib's API at about twice its speed; zlib
  when it is missing), in bounded steps. Each member's compressed offset and length are kept: a record
  that starts a member has an offset to seek to, and one that ends where its member ends has a
  length; one gzip stream for many records (``gzip x.warc``) or members split elsewhere leave them
  out, and readers say so.
- A record is framed by its ``Content-Length``; the ``CRLF CRLF`` after its block is checked, and a
  record that runs short or long is marked ``misframed`` (the next header is found again by its
  version line, so one wrong length does not end the file).
- Memory stays bounded: inflated pieces are at most ``PIECE`` bytes and blocks stream through
  ``Frame.read``; a header block is at most ``MAX_HEADER`` bytes.

Nothing here decodes a block: bytes stay as stored. A file that ends inside a record, gzip data that
is corrupt, and a file that is no WARC raise ``FramingError`` after every complete record before.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Generator, Iterable, Iterator
from typing import IO, Any, Final, NoReturn

_inflate: Any
try:
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib reads the same files, slower
    _inflate = zlib

__all__ = [
    "BLANK_LINE",
    "MAX_HEADER",
    "PIECE",
    "Frame",
    "FrameReader",
    "FramingError",
    "first_values",
    "member_splits",
    "open_frames",
    "pieces",
    "text_of",
]

PIECE: Final = 1 << 20
"""Most inflated bytes produced in one step (and read from a plain file at once)."""
_FEED: Final = 16 * 1024
"""Compressed bytes handed to the inflater per step: what is copied again at each member's end."""
_READ: Final = 1 << 20
MAX_HEADER: Final = 256 * 1024
"""Longest WARC header block read; beyond it the bytes are no WARC header."""
_INFLATE_ERRORS: Final = (zlib.error, getattr(_inflate, "error", zlib.error))
_VERSION_LINE: Final = re.compile(rb"(?:^|\n)(WARC/\d+\.\d+\r?\n)")
_BLANK: Final = b"\r\n"
_FIELD: Final = re.compile(r"([^:\r\n]+): *([^\r\n]*)\r?\n?")
_CONTENT_LENGTH: Final = re.compile(r"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r*$", re.MULTILINE | re.IGNORECASE)
BLANK_LINE: Final = re.compile(rb"\n\r*\n")
"""The line that ends a header block: CRLF CRLF as the standard says, LF or CR CR LF as some wrote."""


class FramingError(Exception):
    """The file cannot be framed further: ``problem`` in a user's words, ``complete`` records before it."""

    def __init__(self, problem: str, complete: int = 0) -> None:
        self.problem = problem
        self.complete = complete
        super().__init__(problem)


class _Failure:
    """A problem met by the piece producer, handed on in order with the pieces."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind
        """``truncated`` (the file ends inside a gzip member), ``corrupt`` or ``not-gzip``."""


Piece = tuple[int, bytes, int] | _Failure
"""``(member_start, data, member_end)``: compressed offsets where ``data`` starts and ends a member (-1: not)."""


def pieces(fh: IO[bytes], start: int = 0, *, gzipped: bool) -> Iterator[Piece]:
    """The inflated (or plain) bytes of ``fh`` from ``start``, in pieces of at most ``PIECE`` bytes, lazily."""
    fh.seek(start)
    if not gzipped:
        while data := fh.read(_READ):
            yield -1, data, -1
        return
    buffer = b""
    base = start  # file offset of buffer[0]
    at = 0
    while True:
        if len(buffer) - at < 2:  # refill: the next member's magic must be in the buffer
            buffer, base, at = buffer[at:] + fh.read(_READ), base + at, 0
            if not buffer:
                return
        member_start = base + at
        if buffer[at : at + 2] != b"\x1f\x8b":
            yield _Failure("not-gzip")
            return
        inflater = _inflate.decompressobj(31)
        first = True
        while True:
            if at >= len(buffer):
                buffer, base, at = fh.read(_READ), base + at, 0
                if not buffer:
                    yield _Failure("truncated")
                    return
            feed = buffer[at : at + _FEED]
            try:
                data = inflater.decompress(feed, PIECE)
                while inflater.unconsumed_tail and not inflater.eof:  # the output limit was reached
                    if data:
                        yield (member_start if first else -1), data, -1
                        first = False
                    data = inflater.decompress(inflater.unconsumed_tail, PIECE)
            except _INFLATE_ERRORS:
                yield _Failure("corrupt")
                return
            if inflater.eof:
                at += len(feed) - len(inflater.unused_data)
                yield (member_start if first else -1), data, base + at
                break
            at += len(feed)
            if data:
                yield (member_start if first else -1), data, -1
                first = False


def member_splits(fh: IO[bytes], size: int, parts: int) -> list[int]:
    """Offsets that cut a gzip file into about ``parts`` runs of whole members, for readers in parallel.

    Each is the first offset at or after ``k * size / parts`` where a gzip member starts whose bytes
    inflate to a WARC version line: the start of a record. A reader of a run checks that its last
    record ends exactly at the next split (a record spanning members would not); 0 and the end are
    not listed.
    """
    found: list[int] = []
    for k in range(1, parts):
        at = k * size // parts
        while at < size:
            fh.seek(at)
            window = fh.read(_READ)
            if not window:
                break
            hit = window.find(b"\x1f\x8b\x08")
            while hit >= 0:
                try:
                    head = _inflate.decompressobj(31).decompress(window[hit : hit + 4096], 16)
                except _INFLATE_ERRORS:
                    head = b""
                if head.startswith(b"WARC/"):
                    break
                hit = window.find(b"\x1f\x8b\x08", hit + 1)
            if hit >= 0:
                at += hit
                break
            at += max(len(window) - 2, 1)
        if at < size and (not found or at > found[-1]):
            found.append(at)
    return found


class Frame:
    """One record's framing: where it is, its header fields as stored, and its block, streamed."""

    __slots__ = ("_end", "_reader", "block_size", "fields", "length", "lowered", "misframed", "offset", "version")

    def __init__(self, reader: FrameReader, offset: int | None, version: str, fields: list[tuple[str, str]],
                 lowered: dict[str, str], block_size: int, end: int) -> None:  # fmt: skip
        self._reader = reader
        self._end = end
        self.offset = offset
        """Where the record starts in the file (None: inside a gzip member that began before it)."""
        self.version = version
        self.fields = fields
        self.lowered = lowered
        """Field names in lower case to their first value."""
        self.block_size = block_size
        """``Content-Length``: the block's size as declared."""
        self.length: int | None = None
        """Once read, the record's length as CDX indexes give it: its gzip member's (None when the record
        does not end where a member ends), or up to the end of its block in an uncompressed file."""
        self.misframed = False
        """Once read: the block was not followed by ``CRLF CRLF`` and the next record (``Content-Length`` is wrong)."""

    def get(self, name: str) -> str | None:
        """The first value of WARC header field ``name`` (case-insensitive)."""
        return self.lowered.get(name.lower())

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` more bytes of the block (all of it for -1); ``b""`` at its end or the file's."""
        return self._reader.read_block(self._end, size)

    def skip(self) -> None:
        """Pass over the rest of the block without reading it out (to the file's end if it is cut)."""
        self._reader.skip_block(self._end)

    @property
    def left(self) -> int:
        """Block bytes not read yet."""
        return self._reader.block_left(self._end)

    @property
    def complete_before(self) -> int:
        """Records of the file read completely before this one."""
        return self._reader.complete

    def cut_short(self) -> str:
        """The words for a block the file ends inside of."""
        return self._reader.cut_short()


class FrameReader:
    """The records of one file in order, framed (see the module's docstring).

    Args:
        source: Pieces from ``pieces``.
        gzipped: The file is gzip: offsets and lengths come from its members.
        base: File offset of the first byte of a plain file's pieces.
    """

    def __init__(self, source: Iterator[Piece], *, gzipped: bool, base: int = 0) -> None:
        self._source = source
        self.gzipped = gzipped
        self.members = 0
        """gzip members begun so far."""
        self._data = b""
        self._at = 0
        self._base = base
        """Stream position of ``_data[0]`` (a file offset for plain files)."""
        self._starts: dict[int, int] = {}
        self._ends: dict[int, int] = {}
        self._failure: _Failure | None = None
        self.complete = 0
        """Records framed and read to their end."""
        self.members_split = False
        """A record that does not start, or does not end, where a gzip member does."""
        self.skipped_bytes = 0
        """Bytes between records that are no record (after a misframed one)."""

    # -- the window of bytes ----------------------------------------------------------------------

    def _more(self) -> bool:
        """Append the next piece to the window; False at the end of the file (or a failure)."""
        if self._failure is not None:
            return False
        piece = next(self._source, None)
        if piece is None:
            return False
        if isinstance(piece, _Failure):
            self._failure = piece
            return False
        start, data, end = piece
        if self._at:
            self._base += self._at
            self._data = self._data[self._at :]
            self._at = 0
        if start >= 0:
            self._starts[self._base + len(self._data)] = start
            self.members += 1
        self._data = self._data + data if self._data else data
        if end >= 0:
            self._ends[self._base + len(self._data)] = end
        return True

    def _position(self) -> int:
        return self._base + self._at

    def read_block(self, end: int, size: int) -> bytes:
        """Bytes of the block that ends at stream position ``end``: at most ``size`` (all that is left for -1)."""
        if size < 0:
            parts = []
            while part := self.read_block(end, PIECE):
                parts.append(part)
            return b"".join(parts)
        want = min(end - self._position(), size)
        if want <= 0 or (self._at >= len(self._data) and not self._more()):
            return b""
        part = self._data[self._at : self._at + want]
        self._at += len(part)
        return part

    def skip_block(self, end: int) -> None:
        """Move past the block that ends at stream position ``end`` (or to the end of the stream), copying nothing."""
        while (left := end - self._position()) > 0:
            if len(self._data) - self._at >= left:
                self._at += left
                return
            self._at = len(self._data)
            if not self._more():
                return

    def block_left(self, end: int) -> int:
        return max(end - self._position(), 0)

    # -- records ----------------------------------------------------------------------------------

    def frames(self) -> Generator[Frame, None, None]:
        """Every record; the caller reads (or not) each block before asking for the next."""
        previous: Frame | None = None
        while True:
            if previous is not None:
                self._finish(previous)
            if self._at >= len(self._data) and not self._more():
                break
            self._prune()
            frame = self._frame()
            previous = frame
            yield frame
        self._raise_failure()

    def _prune(self) -> None:
        position = self._position()
        if len(self._starts) > 8:
            self._starts = {k: v for k, v in self._starts.items() if k >= position}
        if len(self._ends) > 8:
            self._ends = {k: v for k, v in self._ends.items() if k >= position}

    def _raise_failure(self) -> None:
        failure = self._failure
        if failure is None:
            return
        complete = self.complete
        if failure.kind == "truncated":
            raise FramingError(f"truncated gzip stream after record {complete}", complete)
        if failure.kind == "not-gzip" and complete:
            raise FramingError(f"data after record {complete} is not gzip", complete)
        if failure.kind == "not-gzip" or (failure.kind == "corrupt" and not complete and not self._data):
            raise FramingError("not a WARC file (the gzip data is corrupt)", complete)
        raise FramingError(f"corrupt gzip data after record {complete}", complete)

    def _frame(self) -> Frame:
        start = self._position()
        data = self._data
        blank = BLANK_LINE.search(data, self._at)
        while blank is None:
            if len(data) - self._at > MAX_HEADER or not self._more():
                self._no_header()
            data = self._data
            blank = BLANK_LINE.search(data, self._at)
        head = data[self._at : blank.start()]
        if not head.startswith(b"WARC/"):
            self._no_header()
        text = text_of(head)
        first, _, rest = text.partition("\n")
        version = first.strip()
        if "\n " in rest or "\n\t" in rest or " \r" in rest or "\t" in rest or " :" in rest or rest[-1:] == " ":
            fields = _folded(rest)  # folded lines or white space to trim: the slow way
        else:
            fields = _FIELD.findall(rest)
        lowered = first_values(fields)
        declared = lowered.get("content-length", "")
        if declared.isascii() and declared.isdigit():
            size = int(declared)
        else:  # none, or not a number: the first one that is, as warcio reads it
            length = _CONTENT_LENGTH.search(rest)
            size = int(length.group(1)) if length is not None else 0
        self._at = blank.end()
        offset = self._starts.get(start) if self.gzipped else start
        if self.gzipped and offset is None:
            self.members_split = True
        return Frame(self, offset, version, fields, lowered, size, self._position() + size)

    def _no_header(self) -> NoReturn:
        """No header block where a record should start: say why (never returns)."""
        self._raise_failure()
        if self.complete == 0 and not self._data.startswith(b"WARC/", self._at):
            raise FramingError("not a WARC file (gzip data that is not WARC)" if self.gzipped else "not a WARC file")
        raise FramingError(self.cut_short(), self.complete)

    def cut_short(self) -> str:
        """The words for a file that ends inside a record."""
        kind = "gzip stream" if self.gzipped else "record"
        return f"truncated {kind} after record {self.complete}"

    def _finish(self, frame: Frame) -> None:
        """Pass what is left of ``frame``'s block and the blank lines after it."""
        self.skip_block(frame._end)
        if frame._end > self._position():
            self._raise_failure()
            raise FramingError(self.cut_short(), self.complete)
        # Two CRLFs end a record; wget and others agree. Anything else is a wrong Content-Length.
        while len(self._data) - self._at < 4 and self._more():
            pass
        data = self._data
        at = self._at
        if data.startswith(b"\r\n\r\n", at):
            at += 4
            misframed = False
        else:
            misframed = True
        while data.startswith(_BLANK, at):  # more blank lines: tolerated, but not the form
            at += 2
            misframed = True
        self._at = at
        junk = at < len(data) and not data.startswith(b"WARC/", at)
        frame.misframed = misframed or junk
        if junk:
            self._resync()
        position = self._position()
        if self.gzipped:
            # The piece that ends a member may come after its last bytes (the gzip trailer, no data).
            while position not in self._ends and self._at >= len(self._data) and self._more():
                pass
            member_end = self._ends.get(position)
            if member_end is not None and frame.offset is not None:
                frame.length = member_end - frame.offset
            elif not frame.misframed:
                self.members_split = True
        elif frame.offset is not None:
            frame.length = frame._end - frame.offset
        self.complete += 1

    def _resync(self) -> None:
        """Skip to the next WARC version line at the start of a line (to the end when none follows)."""
        while True:
            match = _VERSION_LINE.search(self._data, self._at)
            if match is not None:
                self.skipped_bytes += match.start(1) - self._at
                self._at = match.start(1)
                return
            keep = max(len(self._data) - 16, self._at)
            self.skipped_bytes += keep - self._at
            self._at = keep
            if not self._more():
                self.skipped_bytes += len(self._data) - self._at
                self._at = len(self._data)
                return


def _folded(text: str) -> list[tuple[str, str]]:
    """Header fields with continuation lines (a line that opens with white space goes on the one before)."""
    fields: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return [(name, value) for name, value in fields if name]


def first_values(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names in lower case to their first value: how a field is looked up."""
    return {name.lower(): value for name, value in reversed(list(fields))}  # the first value is set last


def text_of(raw: bytes) -> str:
    """Header bytes as text: UTF-8, or Latin-1 byte for byte when they are not UTF-8 (as warcio reads them)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def open_frames(fh: IO[bytes], *, start: int = 0) -> FrameReader:
    """A ``FrameReader`` over an open file from ``start`` (gzip detected from the bytes there)."""
    fh.seek(start)
    gzipped = fh.read(2) == b"\x1f\x8b"
    return FrameReader(pieces(fh, start, gzipped=gzipped), gzipped=gzipped, base=start)
