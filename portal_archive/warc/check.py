"""Verify WARC files against their own bytes and their WARC version: digests, structure, the HTTP layer.

``warcio check`` verifies digests only, and skips revisits; this checker also holds the HTTP layer to
the stored entity (a gzip ``Content-Encoding`` needs gzip bytes, ``Content-Length`` the entity length,
``Transfer-Encoding: chunked`` a chunked body), which is what breaks replay. Every finding has a
severity:

- ``error``: violates a "shall" of the WARC version the record declares, or breaks replay (a digest
  that does not match, a truncated record or file, a duplicate record id, gzip that is not one
  member per record, a file that is no WARC);
- ``warning``: a "should" of the standard, or a producer quirk known to hurt replay (a payload digest
  over the chunked bytes, as wget 1.14 and warcprox 1.4 compute it; a revisit with a block and no
  ``WARC-Truncated``; an HTTP header that does not describe the stored body);
- ``info``: what the standard allows but a reader may want to know (no warcinfo record first, a
  response without its request in a file that has requests; HTTP-layer notes on browser captures,
  which keep a decoded body under its original headers).

Records are read through the one reader (``warc.reader``), block by block: memory stays bounded
whatever a record's size, and a file it cannot read is described in the words every command uses.
Findings of one cause in one file are summed up on one line. Nothing here raises on a file's content.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

from portal_archive.warc.reader import (
    ArchivedRecord,
    HttpHead,
    Reading,
    WarcFileError,
    gzip_layout_problem,
    record_at,
)
from portal_archive.warc.runs import Run, in_processes, renumbered, split_runs

__all__ = [
    "SEVERITIES",
    "Problem",
    "WarcChecker",
    "check_files",
    "dechunk",
    "digest_matches",
    "iter_warc_paths",
    "payload_digest_matches",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: Final[tuple[Severity, ...]] = ("error", "warning", "info")
READ_SIZE: Final = 64 * 1024
MAX_HTTP_HEAD: Final = 256 * 1024
_DATE_RE: Final = {
    "WARC/0.17": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    "WARC/0.18": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    "WARC/1.0": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    "WARC/1.1": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$"),
}
_WHITE_SPACE: Final = re.compile(r"\s")
_RECORD_ID_RE: Final = re.compile(r"^<[a-z][a-z0-9+.-]*:.+>$", re.IGNORECASE)
_STATUS_RE: Final = re.compile(rb"^HTTP/\d(\.\d)? \d{3}( |$)")
_MANDATORY: Final = ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type")
_MANDATORY_LOWERED: Final = tuple((name, name.lower()) for name in _MANDATORY)
_HTTP_TYPES: Final = {
    "response": "application/http;msgtype=response",
    "revisit": "application/http;msgtype=response",
    "request": "application/http;msgtype=request",
}
_IDENTICAL: Final = ("/revisit/identical-payload-digest", "/revisit/uri-agnostic-identical-payload-digest")
"""Revisit profiles that repeat a payload by digest: the standard's, and Webrecorder's across URLs."""
_NOT_MODIFIED: Final = "/revisit/server-not-modified"
_MISFRAMED: Final = "record not followed by CRLF CRLF: its Content-Length is wrong"
_NEXT_RECORD_RE: Final = re.compile(rb"\r\n\r\nWARC/(?:0\.1[78]|1\.[01])\r\n")
_BROWSER_CAPTURE_RE: Final = re.compile(rb"browsertrix|archiveweb\.page|wabac|warcio\.js", re.IGNORECASE)
"""warcinfo ``software`` of capture tools that record what a browser received, bodies decoded."""


@dataclass(frozen=True)
class Problem:
    """One finding in a file: its severity, its cause in a user's words, and where it first shows."""

    path: str
    severity: Severity
    cause: str
    where: str = ""
    """``#12 response http://…``: the record number, type and target of the first occurrence."""
    offset: int | None = None
    record_id: str = ""
    count: int = 1
    """Records in the file with the same cause (one line says them all)."""

    @property
    def message(self) -> str:
        return self.cause

    def __str__(self) -> str:
        located = self.where
        if self.offset is not None:
            located = f"{located} at offset {self.offset}".strip()
        if self.record_id:
            located = f"{located} {self.record_id}".strip()
        more = f" (and {self.count - 1} more record(s))" if self.count > 1 else ""
        place = f"{located}: " if located else ""
        return f"{self.path}: {self.severity}: {place}{self.cause}{more}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "severity": self.severity,
            "cause": self.cause,
            "record": self.where,
            "offset": self.offset,
            "record_id": self.record_id,
            "count": self.count,
        }


def digest_matches(labelled: str, data: bytes) -> bool | None:
    """Compare a ``algo:value`` WARC digest (base32 or hex) with ``data``; ``None`` if unsupported."""
    digest = _Digest.of(labelled)
    if digest is None:
        return None
    digest.update(data)
    return digest.matches()


def dechunk(data: bytes) -> bytes:
    """Remove chunked transfer coding; ``ValueError`` when ``data`` is not chunk-framed."""
    out = bytearray()
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            return bytes(out)
        out += data[pos : pos + size]
        if data[pos + size : pos + size + 2] != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
        pos += size + 2


def payload_digest_matches(labelled: str, head: HttpHead, entity: bytes) -> bool | None:
    """Compare a ``WARC-Payload-Digest`` with an entity as stored.

    A chunked ``Transfer-Encoding`` header over chunk-framed bytes: the digest is over the de-chunked
    payload (what our writer and warcio compute); a body that is not chunk-framed is compared as is
    (the HTTP-layer check reports the framing).
    """
    if head.chunked:
        with contextlib.suppress(ValueError):
            entity = dechunk(entity)
    return digest_matches(labelled, entity)


_BASE32: Final = re.compile(r"[A-Z2-7]+")
_BASE32_AS_DIGITS: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")


def _base32(value: str) -> bytes:
    """RFC 4648 base32 (padding optional) decoded through ``int``: the standard library's decoder is slow."""
    text = value.upper().rstrip("=")
    if not _BASE32.fullmatch(text):
        raise ValueError("not base32")
    bits = len(text) * 5
    size = bits // 8
    return (int(text.translate(_BASE32_AS_DIGITS), 32) >> (bits - size * 8)).to_bytes(size, "big")


_HASHES: Final[dict[str, tuple[Callable[..., Any], int]]] = {
    "sha1": (hashlib.sha1, 20),
    "sha256": (hashlib.sha256, 32),
    "sha512": (hashlib.sha512, 64),
    "md5": (hashlib.md5, 16),
}
"""The digests computed: constructor and digest size."""


def _expected_digest(labelled: str) -> tuple[str, bytes] | None:
    """The algorithm and the bytes a labelled digest names (``b""`` when its value does not decode)."""
    algorithm, _, value = labelled.partition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    value = value.strip()
    if algorithm not in _HASHES or not value:
        return None
    size = _HASHES[algorithm][1]
    try:
        expected = binascii.unhexlify(value) if len(value) == size * 2 else _base32(value)
    except (binascii.Error, ValueError):
        expected = b""
    return algorithm, expected


class _Digest:
    """A labelled WARC digest (``sha1:BASE32`` or hex), computed over bytes fed in pieces."""

    __slots__ = ("_expected", "_hash", "update")

    def __init__(self, algorithm: str, expected: bytes) -> None:
        self._hash = _HASHES[algorithm][0](usedforsecurity=False)
        self._expected = expected
        self.update: Callable[[bytes | memoryview], None] = self._hash.update

    @classmethod
    def of(cls, labelled: str | None) -> _Digest | None:
        """None for no label or an algorithm this checker does not compute."""
        if not labelled:
            return None
        expected = _expected_digest(labelled)
        return None if expected is None else cls(*expected)

    def matches(self) -> bool:
        digest: bytes = self._hash.digest()
        return digest == self._expected


class _Dechunker:
    """Chunked transfer coding removed from an entity fed in pieces; ``framed`` turns False on bad framing."""

    def __init__(self) -> None:
        self._buffer = b""
        self._left = 0
        self._state = "size"
        self.framed = True
        self.ended = False

    def feed(self, data: bytes | memoryview) -> bytes:
        if not self.framed or self.ended:
            return b""
        self._buffer += data
        out = bytearray()
        while self._buffer and self.framed and not self.ended:
            if self._state == "data":
                piece = self._buffer[: self._left]
                out += piece
                self._left -= len(piece)
                self._buffer = self._buffer[len(piece) :]
                if self._left == 0:
                    self._state = "crlf"
            elif self._state == "crlf":
                if len(self._buffer) < 2:
                    break
                self.framed = self._buffer.startswith(b"\r\n")
                self._buffer = self._buffer[2:]
                self._state = "size"
            else:
                eol = self._buffer.find(b"\r\n")
                if eol < 0:
                    self.framed = len(self._buffer) < 1024  # a chunk-size line is short
                    break
                try:
                    self._left = int(self._buffer[:eol].split(b";", 1)[0], 16)
                except ValueError:
                    self.framed = False
                    break
                self._buffer = self._buffer[eol + 2 :]
                self._state = "data" if self._left else "trailer"
                self.ended = self._left == 0
        return bytes(out)


_Finding = tuple[Severity, str]


class _RecordFacts:
    """What one record's block showed, read once, in pieces."""

    __slots__ = ("findings",)

    def __init__(self) -> None:
        self.findings: list[_Finding] = []

    def add(self, severity: Severity, cause: str) -> None:
        self.findings.append((severity, cause))


class _Checked(NamedTuple):
    """One complete record as the file-level judgement needs it: where it is, its links, and what its
    own bytes showed (any process can find that out)."""

    offset: int | None
    warc_type: str
    uri: str
    record_id: str
    version: str
    concurrent_to: str
    capture: bool
    """A record replay finds by its id (a duplicate id of one misleads replay)."""
    http_response: bool
    misframed_before: bool
    findings: tuple[_Finding, ...]


class _BlockReader:
    """Reads one block in pieces: block digest, HTTP head, entity length, payload digests, codings."""

    __slots__ = ("_tail", "block_digest", "dechunked_payload", "dechunker", "entity_length", "entity_start", "head",
                 "head_bytes", "head_unterminated", "http", "inflate", "inflate_broken", "next_header_inside",
                 "payload_label", "raw_payload")  # fmt: skip

    def __init__(self, fields: dict[str, str], warc_type: str, http: bool) -> None:
        self.block_digest = _Digest.of(fields.get("warc-block-digest"))
        self.payload_label = fields.get("warc-payload-digest") if warc_type == "response" else None
        """Computed for responses only: a revisit's or a request's block has no payload to compare."""
        self.http = http
        self.head: HttpHead | None = None
        self.head_bytes = b""
        self.head_unterminated = False
        self.entity_length = 0
        self.entity_start = b""
        self.raw_payload = _Digest.of(self.payload_label)
        self.dechunked_payload: _Digest | None = None
        self.dechunker: _Dechunker | None = None
        self.inflate: Any = None
        self.inflate_broken = False
        self.next_header_inside = False
        """A WARC version line after a blank line inside the block: the next record, swallowed."""
        self._tail = b""

    def feed(self, data: bytes) -> None:
        if self.block_digest is not None:
            self.block_digest.update(data)
            # Only a block digest that fails asks whether the next record begins inside this block.
            window = self._tail + data if self._tail else data
            if not self.next_header_inside and window.find(b"\r\n\r\nWARC/") >= 0:  # the pattern decides
                self.next_header_inside = _NEXT_RECORD_RE.search(window) is not None
            self._tail = window[-16:]
        if self.http and self.head is None:
            self.head_bytes += data
            end = self.head_bytes.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head_bytes) > MAX_HTTP_HEAD:
                    self.http = False
                    self.head_unterminated = True
                return
            head = self.head_bytes
            self.head = HttpHead.parse(head[:end], head[: end + 4])
            self.head_bytes = b""
            if self.head.chunked:
                self.dechunker = _Dechunker()
                self.dechunked_payload = _Digest.of(self.payload_label)
            if b"deflate" in self.head.raw.lower():  # the only coding whose stored body is tried here
                coding = b",".join(self.head.values(b"Content-Encoding")).strip().lower()
                if coding == b"deflate":
                    self.inflate = zlib.decompressobj()
            if end + 4 < len(head):
                self._entity(memoryview(head)[end + 4 :])  # the body after the head, not copied
            return
        if self.head is not None and data:
            self._entity(data)

    def _entity(self, data: bytes | memoryview) -> None:
        self.entity_length += len(data)
        if len(self.entity_start) < 16:
            self.entity_start += data[:16]
        if self.raw_payload is not None:
            self.raw_payload.update(data)
        payload = self.dechunker.feed(data) if self.dechunker is not None else data
        if self.dechunked_payload is not None and self.dechunker is not None:
            self.dechunked_payload.update(payload)
        if self.inflate is not None and not self.inflate_broken and payload:
            try:
                self.inflate.decompress(payload, 1)
            except zlib.error:
                if self.entity_length == len(data):  # raw deflate, without the zlib wrapper
                    self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    try:
                        self.inflate.decompress(payload, 1)
                    except zlib.error:
                        self.inflate_broken = True
                else:
                    self.inflate_broken = True

    def finish(self) -> None:
        if self.http and self.head is None and not self.head_unterminated:
            self.head_unterminated = True


class _RecordChecker:
    """Judges each record on its own bytes: headers, digests, the HTTP layer (work any process can do).

    Args:
        browser_capture: The file's warcinfo names a browser-based capture tool (HTTP-layer findings
            are notes then: ``_browser_capture``).
    """

    def __init__(self, browser_capture: bool) -> None:
        self._browser_capture = browser_capture

    def check(self, record: ArchivedRecord) -> _Checked | None:
        """The record judged; None when its block is cut short (the reader says so next, for the file)."""
        fields = record.fields
        version = record.version
        warc_type = record.warc_type
        uri = record.target_uri
        raw_uri = record.raw_target_uri
        record_id = fields.get("warc-record-id") or ""
        facts = _RecordFacts()
        self._check_headers(facts, version, fields, warc_type, raw_uri, record_id)
        is_http = warc_type in _HTTP_TYPES and uri.startswith(("http:", "https:"))
        block = _BlockReader(fields, warc_type, http=is_http)
        while chunk := record.read_block(READ_SIZE):
            block.feed(chunk)
        block.finish()
        if record.block_left:
            return None
        self._check_digests(facts, block, warc_type)
        if is_http:
            self._check_http(facts, fields, warc_type, block)
        if warc_type == "revisit":
            self._check_revisit(facts, version, fields, block)
        capture = warc_type in _HTTP_TYPES or (warc_type == "resource" and raw_uri.startswith(("http:", "https:")))
        return _Checked(
            record.offset, warc_type, uri, record_id, version, fields.get("warc-concurrent-to") or "", capture,
            warc_type == "response" and uri.startswith(("http:", "https:")), record.misframed_before,
            tuple(facts.findings),
        )  # fmt: skip

    def _check_headers(self, facts: _RecordFacts, version: str, fields: dict[str, str], warc_type: str, uri: str,
                       record_id: str) -> None:  # fmt: skip
        for name, lowered in _MANDATORY_LOWERED:
            if not fields.get(lowered):
                facts.add("error", f"missing {name}")
        if record_id and not _RECORD_ID_RE.match(record_id):
            facts.add("error", f"WARC-Record-ID is not a <uri>: {record_id!r}")
        date = fields.get("warc-date") or ""
        pattern = _DATE_RE.get(version)
        if pattern is not None and date and not pattern.match(date):
            facts.add("error", f"WARC-Date {date!r} is not valid for {version}")
        if uri.startswith("<"):
            # WARC/1.0's grammar put every URI in <>, and wget wrote so; WARC/1.1 takes them off this field.
            if version == "WARC/1.1":
                facts.add("error", "WARC-Target-URI wrapped in <> (not allowed in WARC/1.1)")
            else:
                facts.add("warning", "WARC-Target-URI wrapped in <> (as WARC/1.0's grammar wrote it; readers that "
                          "do not strip them miss the URL)")  # fmt: skip
        if _WHITE_SPACE.search(uri.strip()):
            facts.add("error", "WARC-Target-URI contains white space: not a URI")
        if warc_type in _HTTP_TYPES and uri.startswith(("http:", "https:")):
            content_type = (fields.get("content-type") or "").replace(" ", "").lower()
            if content_type != _HTTP_TYPES[warc_type]:
                facts.add("warning", f"Content-Type {content_type!r}, expected {_HTTP_TYPES[warc_type]!r}")

    def _check_digests(self, facts: _RecordFacts, block: _BlockReader, warc_type: str) -> None:
        if block.block_digest is not None and not block.block_digest.matches():
            if block.next_header_inside:
                facts.add("error", "truncated record: the next record's header begins inside its block "
                          "(its Content-Length runs past its end)")  # fmt: skip
                return
            facts.add("error", "WARC-Block-Digest does not match the block")
        if warc_type != "response" or block.head is None or block.raw_payload is None:
            return
        chunked = block.dechunker is not None and block.dechunker.framed and block.dechunker.ended
        if chunked and block.dechunked_payload is not None and block.dechunked_payload.matches():
            return
        if block.raw_payload.matches():
            if chunked:
                facts.add("warning", "WARC-Payload-Digest computed over the chunked bytes, not the payload "
                          "(wget 1.14, warcprox 1.4 do so)")  # fmt: skip
            return
        facts.add("error", "WARC-Payload-Digest does not match the entity body")

    def _check_http(self, facts: _RecordFacts, fields: dict[str, str], warc_type: str, block: _BlockReader) -> None:
        if block.head is None:
            # A request is never replayed; a response whose head does not end cannot be.
            severity: Severity = "warning" if warc_type == "request" else "error"
            facts.add(severity, "HTTP header block not terminated by CRLF CRLF")
            return
        http = block.head
        if warc_type == "request":
            if not http.values(b"Host"):
                facts.add("info", "request has no Host header (an HTTP/1.0 request)")
            return
        if not _STATUS_RE.match(http.status_line):
            facts.add("warning", f"HTTP status line without protocol and status code: {http.status_line[:80]!r}")
        if warc_type == "revisit":
            return
        layer: Severity = "info" if self._browser_capture else "warning"
        transfer = b",".join(http.values(b"Transfer-Encoding")).lower()
        coding = b",".join(http.values(b"Content-Encoding")).strip().lower()
        if block.dechunker is not None and not (block.dechunker.framed and block.dechunker.ended):
            facts.add(layer, "Transfer-Encoding: chunked but the stored body is not chunked")
        if coding in (b"gzip", b"x-gzip") and block.entity_length and not block.entity_start.startswith(b"\x1f\x8b"):
            facts.add(layer, "Content-Encoding: gzip but the stored body is not gzip")
        if coding == b"deflate" and block.entity_length and block.inflate_broken:
            facts.add(layer, "Content-Encoding: deflate but the stored body does not inflate")
        lengths = http.values(b"Content-Length")
        if len(set(lengths)) > 1:
            values = sorted(v.decode("latin-1") for v in set(lengths))
            facts.add(layer, f"conflicting HTTP Content-Length values {values}")
        elif lengths and b"chunked" not in transfer and not fields.get("warc-truncated"):
            if not lengths[0].isdigit():
                facts.add(layer, f"HTTP Content-Length {lengths[0]!r} is not a number")
            elif int(lengths[0]) > block.entity_length and not self._browser_capture:
                facts.add("error", f"HTTP body cut short: {block.entity_length} of {int(lengths[0])} bytes stored, "
                          "and no WARC-Truncated")  # fmt: skip
            elif int(lengths[0]) != block.entity_length:
                facts.add(layer, f"HTTP Content-Length {int(lengths[0])} != stored entity length {block.entity_length}")

    def _check_revisit(self, facts: _RecordFacts, version: str, fields: dict[str, str], block: _BlockReader) -> None:
        get = fields.get
        profile = get("warc-profile") or ""
        if not profile:
            facts.add("error", "revisit without WARC-Profile")
        elif profile.endswith(_IDENTICAL):
            if not get("warc-payload-digest"):
                facts.add("error", "identical-payload-digest revisit without WARC-Payload-Digest")
            if version == "WARC/1.1":  # the fields exist from 1.1 on, where they are recommended
                for name in ("WARC-Refers-To-Target-URI", "WARC-Refers-To-Date"):
                    if not get(name.lower()):
                        facts.add("warning", f"revisit without {name} (recommended in WARC/1.1)")
        elif not profile.endswith(_NOT_MODIFIED):
            facts.add("warning", f"unknown revisit profile {profile!r}")
        if block.entity_length and not get("warc-truncated"):
            facts.add("warning", "revisit with a payload in its block but no WARC-Truncated")


@dataclass
class _Pass:
    """How one pass over (a run of) a file ended."""

    last_misframed: bool = False
    """The last record read was not followed by CRLF CRLF."""
    problem: str | None = None
    """What ended the pass before the end (the reader's words), with ``complete`` records before it."""
    complete: int = 0


def _check_pass(reading: Reading, records: _RecordChecker, take: Callable[[_Checked], None]) -> _Pass:
    """Judge each record of one pass, handing it to ``take`` once the reader has found it complete."""
    pending: _Checked | None = None
    last: ArchivedRecord | None = None
    try:
        for record in reading:
            if pending is not None:  # the record before turned out complete
                take(pending)
            pending = records.check(record)
            last = record
        if pending is not None:
            take(pending)
    except WarcFileError as failure:
        return _Pass(problem=failure.problem, complete=failure.complete)
    return _Pass(last_misframed=last is not None and last.misframed)


@dataclass
class _CheckedRun:
    """One run of a file checked in a process of its own (``warc.runs``)."""

    checked: list[_Checked]
    ending: _Pass
    stopped_at: int | None
    members: int
    members_split: bool
    skipped_bytes: int


def _check_run(path: Path, start: int, stop: int | None, *, browser_capture: bool) -> _CheckedRun:
    reading = Reading(path, parse_http=False, start=start, stop=stop)
    checked: list[_Checked] = []
    ending = _check_pass(reading, _RecordChecker(browser_capture), checked.append)
    return _CheckedRun(
        checked, ending, reading.stopped_at, reading.members, reading.members_split, reading.skipped_bytes
    )


def _browser_capture(path: Path) -> bool:
    """Whether the file's first record is a warcinfo that names a browser-based capture tool."""
    with contextlib.suppress(WarcFileError):
        for record in record_at(path, 0):
            first_block = b""
            if record.warc_type == "warcinfo":
                while len(first_block) < READ_SIZE and (chunk := record.read_block(READ_SIZE)):
                    first_block += chunk
            return bool(_BROWSER_CAPTURE_RE.search(first_block))
    return False


class WarcChecker:
    """Collects findings for one file; ``problems`` is empty when the file is sound.

    Args:
        path: The WARC file.
        group: Sum up findings of one cause on one line (False: one line per record).
        jobs: Processes that read a large gzip file in runs of whole records (``warc.runs``).
    """

    def __init__(self, path: Path, *, group: bool = True, jobs: int = 1) -> None:
        self.path = path
        self.group = group
        self.jobs = jobs
        self._name = str(path)
        self._start()

    def _start(self) -> None:
        """Nothing judged yet."""
        self.problems: list[Problem] = []
        self._counts: dict[tuple[Severity, str], int] = {}
        """With ``group``: how many records share each (severity, cause)."""
        self.records = 0
        self._ids: dict[str, bool] = {}
        """Record ids seen, each with whether its record is a capture (a duplicate of one breaks replay)."""
        self._previous: tuple[str, int | None, str] = ("", None, "")
        self._versions: set[str] = set()
        self._responses: dict[str, tuple[str, int | None, str]] = {}
        self._linked: set[str] = set()
        self._has_requests = False

    def _problem(self, severity: Severity, cause: str, where: str = "", offset: int | None = None,
                 record_id: str = "") -> None:  # fmt: skip
        if self.group:
            key = (severity, cause)
            if key in self._counts:  # summed up on the line of its first occurrence
                self._counts[key] += 1
                return
            self._counts[key] = 1
        self.problems.append(Problem(self._name, severity, cause, where, offset, record_id))

    def run(self) -> list[Problem]:
        """Check the file; returns the findings, errors first (also kept in ``self.problems``)."""
        runs = split_runs(self.path, self.jobs)
        ended = self._in_runs(runs) if len(runs) > 1 else None
        if ended is None:
            reading = Reading(self.path, parse_http=False)
            ending = _check_pass(reading, _RecordChecker(_browser_capture(self.path)), self._take)
            layout, skipped = reading.found.layout_problem, reading.skipped_bytes
        else:
            ending, layout, skipped = ended
        if ending.problem is not None:
            # The record being read when the file gave out is not judged by its cut bytes.
            self._problem("error", ending.problem, f"after record #{ending.complete}" if ending.complete else "")
            self.records = ending.complete
        elif ending.last_misframed:
            self._problem("error", _MISFRAMED, *self._previous)
        if layout and self.records:
            self._problem("error", layout)
        if skipped:
            self._problem("info", f"{skipped} bytes between records belong to no record: passed over to the next "
                          "record's version line")  # fmt: skip
        self._file_checks()
        if self.group:
            counts = self._counts
            self.problems = [replace(p, count=counts[(p.severity, p.cause)]) if counts[(p.severity, p.cause)] > 1
                             else p for p in self.problems]  # fmt: skip
        self.problems.sort(key=lambda p: SEVERITIES.index(p.severity))
        return self.problems

    def _in_runs(self, runs: list[Run]) -> tuple[_Pass, str, int] | None:
        """Check the runs in parallel, judging each run's records in order as it comes in; None when the
        runs do not join up (the file is read in one pass then)."""
        check_run = partial(_check_run, browser_capture=_browser_capture(self.path))
        ending = _Pass()
        members, split, skipped = 0, False, 0
        with contextlib.closing(in_processes(check_run, self.path, runs, self.jobs)) as results:
            for result, (_, stop) in zip(results, runs, strict=False):
                if result.ending.problem is None and result.stopped_at != stop:
                    self._start()  # a record runs across the split: forget what was judged
                    return None
                before = self.records
                for number, checked in enumerate(result.checked):
                    if number == 0 and ending.last_misframed:
                        checked = checked._replace(misframed_before=True)  # the run before knew it
                    self._take(checked)
                members += result.members
                split = split or result.members_split
                skipped += result.skipped_bytes
                ending = result.ending
                if ending.problem is not None:
                    ending = _Pass(problem=renumbered(ending.problem, before), complete=before + ending.complete)
                    break
        return ending, gzip_layout_problem(members, self.records) if split else "", skipped

    def _take(self, checked: _Checked) -> None:
        """Judge one complete record in file order: numbering, duplicates, links, the record before."""
        self.records += 1
        where = f"#{self.records} {checked.warc_type} {checked.uri}".rstrip()
        offset, record_id = checked.offset, checked.record_id
        if checked.misframed_before:
            self._problem("error", _MISFRAMED, *self._previous)
        self._previous = (where, offset, record_id)
        self._versions.add(checked.version)
        if record_id and record_id in self._ids:
            # Revisits, requests and metadata refer to captures by id: a repeated capture id misleads
            # replay. wget 1.14 repeats the id of its own metadata records, which nothing refers to.
            harmful = checked.capture or self._ids[record_id]
            self._problem("error" if harmful else "warning", f"duplicate WARC-Record-ID {record_id}", where, offset,
                          record_id)  # fmt: skip
        self._ids[record_id] = self._ids.get(record_id, False) or checked.capture
        if self.records == 1 and checked.warc_type != "warcinfo":
            self._problem("info", "first record is not warcinfo (optional; a file cut from a larger one has none)",
                          where, offset, record_id)  # fmt: skip
        for severity, cause in checked.findings:
            self._problem(severity, cause, where, offset, record_id)
        if checked.http_response:
            self._responses[record_id] = (where, offset, record_id)
        self._has_requests |= checked.warc_type == "request"
        if checked.concurrent_to:
            self._linked.update((checked.concurrent_to, record_id))

    def _file_checks(self) -> None:
        if len(self._versions) > 1:
            self._problem("warning", f"mixed WARC versions in one file: {sorted(self._versions)}")
        for version in sorted(self._versions - _DATE_RE.keys()):
            self._problem("error", f"unknown WARC version {version!r}")
        if self._has_requests:
            # Request records are optional; once a file has them, a response without one is worth a word.
            for record_id, (where, offset, _) in self._responses.items():
                if record_id not in self._linked:
                    self._problem("info", "response has no request record linked by WARC-Concurrent-To", where,
                                  offset, record_id)  # fmt: skip
        if self.records == 0 and not self.problems:
            self._problem("error", "no WARC records")


WARC_NAMES: Final = (".warc", ".warc.gz", ".wat.gz", ".wet.gz")


def iter_warc_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given, folders expanded to their WARC files (WAT and WET included), sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(WARC_NAMES))
        else:
            yield path


def check_files(paths: list[Path], *, group: bool = True, jobs: int = 1) -> tuple[int, list[Problem]]:
    """Check every file; returns (files checked, findings of every severity). ``jobs``: see ``WarcChecker``."""
    problems: list[Problem] = []
    checked = 0
    for path in iter_warc_paths(paths):
        checked += 1
        if not path.is_file():
            problems.append(Problem(str(path), "error", "no such file"))
            continue
        problems.extend(WarcChecker(path, group=group, jobs=jobs).run())
    return checked, problems
