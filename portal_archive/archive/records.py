"""Read single archived records by index entry, bytes as stored, without scanning whole WARC files.

Records are read as stored (``portal_archive.warc.reader.raw_record_at``), so header bytes that
are not ASCII (GBK ``Content-Disposition``, say) come out exactly as archived. Payloads are
streamed; a ``revisit`` is resolved, through the index, to the record that holds its payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from portal_archive.archive.cdxj import CdxjEntry, lookup
from portal_archive.archive.folder import inside
from portal_archive.warc.reader import (
    CodingError,
    HttpHead,
    HttpHeadError,
    RecordHeaders,
    WarcFileError,
    entity_stream,
    raw_record_at,
    read_http_head,
)

READ_SIZE = 64 * 1024


class RecordReadError(RuntimeError):
    """A record could not be read where the index says it is, or a revisit's original is missing."""


@contextmanager
def open_block(directory: Path, filename: str, offset: int) -> Iterator[tuple[RecordHeaders, IO[bytes]]]:
    """The WARC headers and the block stream of the record at ``filename``:``offset``."""
    try:
        with raw_record_at(inside(directory, filename), offset) as record:
            yield record.headers, record.block
    except WarcFileError as exc:
        raise RecordReadError(f"cannot read the record at {filename}:{offset}: {exc.problem}") from exc


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


def _http_head(stream: IO[bytes]) -> HttpHead:
    try:
        return read_http_head(stream)
    except HttpHeadError as exc:
        raise RecordReadError(str(exc)) from exc


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
    """Read the record's headers and HTTP head; resolve a revisit to its original's entry.

    A revisit with an empty block (as WARC/0.18-era tools and pywb write them) has no HTTP head of its
    own: its original's stands for it, as replay tools read it.
    """
    with open_block(directory, entry.filename, entry.offset) as (headers, stream):
        revisit = headers.warc_type == "revisit"
        empty = revisit and headers.get("Content-Length") == "0"
        http = None if empty else _http_head(stream)
    payload_entry = entry
    if revisit:
        payload_entry = find_original(directory, index, headers)
    if http is None:
        with open_block(directory, payload_entry.filename, payload_entry.offset) as (_, stream):
            http = _http_head(stream)
    return Capture(entry, headers, http, payload_entry)


def iter_payload(directory: Path, capture: Capture, *, decode: bool = False) -> Iterator[bytes]:
    """The entity body as archived (de-chunked; content coding kept unless ``decode``), in pieces.

    A revisit's payload comes from its original, decoded by the original's own headers.
    """
    with open_block(directory, capture.payload_entry.filename, capture.payload_entry.offset) as (_, stream):
        http = _http_head(stream)
        try:
            body = entity_stream(stream, http, decode=decode)
            while chunk := body.read(READ_SIZE):
                yield chunk
        except CodingError as exc:
            raise RecordReadError(f"cannot decode the payload: {exc}") from exc


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
