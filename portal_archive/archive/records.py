"""Read single archived records by index entry, bytes as stored, without scanning whole WARC files.

HTTP headers are split off the record block by hand, not through warcio's parser, so header bytes
that are not ASCII (GBK ``Content-Disposition``, say) come out exactly as archived. Payloads are
streamed; a ``revisit`` is resolved to the record that holds its payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

from portal_archive.archive.cdxj import CdxjEntry, lookup
from portal_archive.archive.folder import inside

READ_SIZE = 64 * 1024
MAX_HEADER_BYTES = 256 * 1024


class RecordReadError(RuntimeError):
    """A record could not be read where the index says it is, or a revisit's original is missing."""


@dataclass(frozen=True)
class HttpHead:
    """The HTTP status line and headers of a ``response`` or ``revisit`` block, as stored."""

    raw: bytes
    """Status line, header lines and the blank line, byte for byte."""
    status_line: bytes
    headers: tuple[tuple[bytes, bytes], ...]

    def get(self, name: bytes) -> bytes | None:
        """The last value of header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found

    @property
    def content_type(self) -> str:
        value = self.get(b"Content-Type")
        return value.decode("latin-1") if value else ""


def read_http_head(stream: IO[bytes]) -> HttpHead:
    """Consume the HTTP header part of a record block, leaving ``stream`` at the entity body."""
    lines: list[bytes] = []
    size = 0
    while True:
        line = stream.readline()
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise RecordReadError(f"HTTP headers longer than {MAX_HEADER_BYTES} bytes")
        if not line:
            break
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
    if not lines:
        raise RecordReadError("record has no HTTP status line")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.rstrip(b"\r\n").partition(b":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return HttpHead(b"".join(lines), lines[0].rstrip(b"\r\n"), tuple(headers))


@dataclass(frozen=True)
class RecordHeaders:
    """The WARC header fields of one record."""

    fields: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.fields if key.lower() == wanted), None)

    @property
    def warc_type(self) -> str:
        return self.get("WARC-Type") or ""


@contextmanager
def open_block(directory: Path, filename: str, offset: int) -> Iterator[tuple[RecordHeaders, IO[bytes]]]:
    """The WARC headers and the block stream of the record at ``filename``:``offset``."""
    path = inside(directory, filename)
    with path.open("rb") as fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh, no_record_parse=True, check_digests=False)))
        except StopIteration as exc:
            raise RecordReadError(f"no record at {filename}:{offset}") from exc
        except Exception as exc:  # warcio raises ArchiveLoadFailed and zlib errors on a bad offset
            raise RecordReadError(f"cannot read the record at {filename}:{offset}: {exc}") from exc
        headers = RecordHeaders(tuple((str(k), str(v)) for k, v in record.rec_headers.headers))
        yield headers, record.raw_stream


def read_block(directory: Path, entry: CdxjEntry, limit: int = 64 * 1024 * 1024) -> tuple[RecordHeaders, bytes]:
    """A small record's headers and block (metadata records): at most ``limit`` bytes."""
    with open_block(directory, entry.filename, entry.offset) as (headers, stream):
        block = stream.read(limit + 1)
    if len(block) > limit:
        raise RecordReadError(f"record at {entry.filename}:{entry.offset} is larger than {limit} bytes")
    return headers, block


@dataclass(frozen=True)
class Capture:
    """An archived response (or revisit) and where its payload lives."""

    entry: CdxjEntry
    headers: RecordHeaders
    http: HttpHead
    payload_entry: CdxjEntry
    """The entry itself, or for a ``revisit`` the record whose payload it repeats."""

    @property
    def record_id(self) -> str:
        return self.headers.get("WARC-Record-ID") or ""

    @property
    def warc_type(self) -> str:
        return self.headers.warc_type


def find_original(directory: Path, index: Path, revisit: RecordHeaders) -> CdxjEntry:
    """The response a ``revisit`` points at: same payload digest, preferably its referred-to date."""
    target = revisit.get("WARC-Refers-To-Target-URI") or revisit.get("WARC-Target-URI") or ""
    digest = revisit.get("WARC-Payload-Digest") or ""
    refers_date = "".join(ch for ch in revisit.get("WARC-Refers-To-Date") or "" if ch.isdigit())[:14]
    candidates = [
        e for e in lookup(index, target) if e.mime != "warc/revisit" and e.fields.get("digest") == digest and e.status
    ]
    if not candidates:
        raise RecordReadError(f"the original of the revisit of {target} ({digest}) is not in this archive")
    exact = [e for e in candidates if e.timestamp == refers_date]
    return (exact or candidates)[0]


def load_capture(directory: Path, index: Path, entry: CdxjEntry) -> Capture:
    """Read the record's headers and HTTP head; resolve a revisit to its original's entry."""
    with open_block(directory, entry.filename, entry.offset) as (headers, stream):
        http = read_http_head(stream)
    payload_entry = entry
    if headers.warc_type == "revisit":
        payload_entry = find_original(directory, index, headers)
    return Capture(entry, headers, http, payload_entry)


def _content_coding(http: HttpHead) -> str | None:
    value = http.get(b"Content-Encoding")
    coding = value.decode("latin-1").strip().lower() if value else ""
    return coding if coding and coding != "identity" else None


def _entity_stream(stream: IO[bytes], http: HttpHead, decode: bool) -> Any:
    chunked = (http.get(b"Transfer-Encoding") or b"").strip().lower() == b"chunked"
    coding = _content_coding(http) if decode else None
    if coding and coding not in BufferedReader.get_supported_decompressors():
        raise RecordReadError(f"cannot decode content coding {coding!r}")
    if chunked:
        return ChunkedDataReader(stream, decomp_type=coding)
    if coding:
        return BufferedReader(stream, decomp_type=coding)
    return stream


def iter_payload(directory: Path, capture: Capture, *, decode: bool = False) -> Iterator[bytes]:
    """The entity body as archived (de-chunked; content coding kept unless ``decode``), in pieces.

    A revisit's payload comes from its original, decoded by the original's own headers.
    """
    with open_block(directory, capture.payload_entry.filename, capture.payload_entry.offset) as (_, stream):
        http = read_http_head(stream)
        body = _entity_stream(stream, http, decode)
        while chunk := body.read(READ_SIZE):
            yield chunk


def copy_payload(directory: Path, capture: Capture, out: BinaryIO, *, decode: bool = False) -> int:
    """Stream the payload into ``out``; returns the number of bytes written."""
    written = 0
    for chunk in iter_payload(directory, capture, decode=decode):
        out.write(chunk)
        written += len(chunk)
    return written


def read_payload(directory: Path, capture: Capture, *, decode: bool = True, limit: int = 32 * 1024 * 1024) -> bytes:
    """At most ``limit`` bytes of the payload, for extraction (extraction reads a page at a time)."""
    parts: list[bytes] = []
    size = 0
    for chunk in iter_payload(directory, capture, decode=decode):
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


def metadata_for(directory: Path, index: Path, capture: Capture) -> tuple[RecordHeaders, bytes] | None:
    """The article metadata record written about ``capture`` (joined on ``WARC-Refers-To``), if any."""
    from portal_archive.archive.metadata import metadata_uri

    for entry in lookup(index, metadata_uri(capture.entry.url)):
        if entry.url != metadata_uri(capture.entry.url):
            continue
        headers, block = read_block(directory, entry)
        if headers.warc_type == "metadata" and headers.get("WARC-Refers-To") == capture.record_id:
            return headers, block
    return None
