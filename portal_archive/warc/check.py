"""Verify WARC files against their own bytes: digests, the HTTP layer, revisits, structure.

``warcio check`` verifies digests only, and skips revisits; this checker also holds the HTTP
headers to the stored entity (a gzip ``Content-Encoding`` needs gzip bytes, ``Content-Length``
the entity length, ``Transfer-Encoding: chunked`` a chunked body), which is what breaks replay.
Problems are reported, one line each; nothing here raises on a malformed file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from portal_archive.warc.reader import HttpHead, RecordHeaders, iter_raw_records, split_http

_DATE_RE = {
    "WARC/1.0": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    "WARC/1.1": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$"),
}
_RECORD_ID_RE = re.compile(r"^<[a-z][a-z0-9+.-]*:.+>$", re.IGNORECASE)
_STATUS_RE = re.compile(rb"^HTTP/\d(\.\d)? \d{3} \S")
_MANDATORY = ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type")
_HTTP_TYPES = {
    "response": "application/http;msgtype=response",
    "revisit": "application/http;msgtype=response",
    "request": "application/http;msgtype=request",
}
_IDENTICAL = "/revisit/identical-payload-digest"
_NOT_MODIFIED = "/revisit/server-not-modified"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located by record number and target URI."""

    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}" if self.where else f"{self.path}: {self.message}"


def digest_matches(labelled: str, data: bytes) -> bool | None:
    """Compare a ``algo:value`` WARC digest (base32 or hex) with ``data``; ``None`` if unsupported."""
    algo, _, value = labelled.partition(":")
    algo = algo.strip().lower().replace("-", "")
    if algo not in ("sha1", "sha256", "sha512", "md5") or not value:
        return None
    actual = hashlib.new(algo, data, usedforsecurity=False).digest()
    value = value.strip()
    try:
        if len(value) == len(actual) * 2:
            return binascii.unhexlify(value) == actual
        return base64.b32decode(value.upper() + "=" * (-len(value) % 8)) == actual
    except (binascii.Error, ValueError):
        return False


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


def count_gzip_members(fh: BinaryIO) -> int | None:
    """Number of gzip members in a stream, read in bounded chunks; ``None`` if not gzip."""
    head = fh.read(2)
    if head != b"\x1f\x8b":
        return None
    members = 0
    pending = head
    decomp = zlib.decompressobj(31)
    while True:
        data = pending or fh.read(1 << 20)
        pending = b""
        if not data:
            break
        decomp.decompress(data)
        while decomp.eof:
            members += 1
            rest = decomp.unused_data
            decomp = zlib.decompressobj(31)
            if not rest:
                break
            decomp.decompress(rest)
    return members


class WarcChecker:
    """Collects problems for one file; ``problems`` is empty when the file is sound."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.records = 0
        self._has_requests = False

    def _problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), where, message))

    def run(self) -> list[Problem]:
        """Check the file; returns the problems found (also kept in ``self.problems``)."""
        try:
            self._check_records()
        except (ArchiveLoadFailed, StatusAndHeadersParserException, OSError, EOFError, zlib.error, ValueError,
                OverflowError) as exc:  # fmt: skip
            # OverflowError: a Content-Length beyond any index (warcio reads that many bytes).
            message = " ".join(str(exc).split())
            if "non-chunked gzip" in message:
                message = "whole-file gzip, not one member per record (repair: warcio recompress)"
            self._problem(f"after record #{self.records}", f"unreadable: {message}")
        if self.path.name.endswith(".gz") and self.records:
            try:
                with self.path.open("rb") as fh:
                    members = count_gzip_members(fh)
            except (OSError, zlib.error, EOFError) as exc:
                self._problem("", f"gzip stream damaged: {exc}")
            else:
                if members is not None and members < self.records:
                    self._problem("", f"{members} gzip members for {self.records} records: not one member per record")
        if self.records == 0 and not self.problems:
            self._problem("", "no WARC records")
        return self.problems

    def _check_records(self) -> None:
        versions: set[str] = set()
        ids: set[str] = set()
        responses: dict[str, str] = {}
        linked: set[str] = set()
        with self.path.open("rb") as fh:
            for record in iter_raw_records(fh):
                self.records += 1
                headers = record.headers
                warc_type = headers.warc_type
                uri = headers.get("WARC-Target-URI") or ""
                where = f"#{self.records} {warc_type} {uri}".rstrip()
                block = record.block.read()
                versions.add(headers.version)
                for name in _MANDATORY:
                    if not headers.get(name):
                        self._problem(where, f"missing {name}")
                record_id = headers.get("WARC-Record-ID") or ""
                if record_id in ids:
                    self._problem(where, f"duplicate WARC-Record-ID {record_id}")
                ids.add(record_id)
                if record_id and not _RECORD_ID_RE.match(record_id):
                    self._problem(where, f"WARC-Record-ID is not a <uri>: {record_id!r}")
                date = headers.get("WARC-Date") or ""
                pattern = _DATE_RE.get(headers.version)
                if pattern is None:
                    self._problem(where, f"unknown WARC version {headers.version!r}")
                elif date and not pattern.match(date):
                    self._problem(where, f"WARC-Date {date!r} is not valid for {headers.version}")
                if self.records == 1 and warc_type != "warcinfo":
                    self._problem(where, "first record is not warcinfo")
                if uri.startswith("<"):
                    self._problem(where, "WARC-Target-URI wrapped in <>")
                self._check_digests(where, headers, block, warc_type)
                if warc_type in _HTTP_TYPES and uri.startswith(("http:", "https:")):
                    content_type = (headers.get("Content-Type") or "").replace(" ", "")
                    if content_type != _HTTP_TYPES[warc_type]:
                        self._problem(where, f"Content-Type {content_type!r}, expected {_HTTP_TYPES[warc_type]!r}")
                    self._check_http(where, warc_type, headers, block)
                if warc_type == "response":
                    responses[record_id] = where
                self._has_requests |= warc_type == "request"
                concurrent = headers.get("WARC-Concurrent-To")
                if concurrent:
                    linked.update((concurrent, record_id))
                if warc_type == "revisit":
                    self._check_revisit(where, headers)
        if len(versions) > 1:
            self._problem("", f"mixed WARC versions in one file: {sorted(versions)}")
        # Request records are optional (many crawlers omit them); once a file has them, each response needs one.
        for record_id, where in responses.items() if self._has_requests else ():
            if record_id not in linked:
                self._problem(where, "response has no request record linked by WARC-Concurrent-To")

    def _check_digests(self, where: str, headers: RecordHeaders, block: bytes, warc_type: str) -> None:
        block_digest = headers.get("WARC-Block-Digest")
        if block_digest and digest_matches(block_digest, block) is False:
            self._problem(where, "WARC-Block-Digest does not match the block")
        payload_digest = headers.get("WARC-Payload-Digest")
        if warc_type == "response" and payload_digest:
            parsed = split_http(block) if (headers.get("WARC-Target-URI") or "").startswith("http") else None
            if parsed is not None and payload_digest_matches(payload_digest, *parsed) is False:
                self._problem(where, "WARC-Payload-Digest does not match the entity body")

    def _check_http(self, where: str, warc_type: str, headers: RecordHeaders, block: bytes) -> None:
        parsed = split_http(block)
        if parsed is None:
            self._problem(where, "HTTP header block not terminated by CRLF CRLF")
            return
        http, entity = parsed
        first_line = http.status_line
        if warc_type == "request":
            if not http.values(b"Host"):
                self._problem(where, "request has no Host header")
            return
        if not _STATUS_RE.match(first_line):
            self._problem(where, f"HTTP status line without protocol, code and reason phrase: {first_line!r}")
        if warc_type == "revisit":
            return
        transfer = b",".join(http.values(b"Transfer-Encoding")).lower()
        coding = b",".join(http.values(b"Content-Encoding")).strip().lower()
        if b"chunked" in transfer:
            try:
                entity = dechunk(entity)
            except ValueError:
                self._problem(where, "Transfer-Encoding: chunked but the stored body is not chunked")
        if coding in (b"gzip", b"x-gzip") and entity and not entity.startswith(b"\x1f\x8b"):
            self._problem(where, "Content-Encoding: gzip but the stored body is not gzip")
        if coding == b"deflate" and entity:
            try:
                zlib.decompress(entity)
            except zlib.error:
                try:
                    zlib.decompress(entity, -15)
                except zlib.error:
                    self._problem(where, "Content-Encoding: deflate but the stored body does not inflate")
        lengths = http.values(b"Content-Length")
        if len(set(lengths)) > 1:
            self._problem(
                where, f"conflicting HTTP Content-Length values {sorted(v.decode('latin-1') for v in set(lengths))}"
            )
        elif lengths and b"chunked" not in transfer:
            truncated = headers.get("WARC-Truncated")
            if not lengths[0].isdigit():
                self._problem(where, f"HTTP Content-Length {lengths[0]!r} is not a number")
            elif int(lengths[0]) != len(entity) and not truncated:
                self._problem(where, f"HTTP Content-Length {int(lengths[0])} != stored entity length {len(entity)}")

    def _check_revisit(self, where: str, headers: RecordHeaders) -> None:
        get = headers.get
        profile = get("WARC-Profile") or ""
        if not profile:
            self._problem(where, "revisit without WARC-Profile")
        elif profile.endswith(_IDENTICAL):
            if not get("WARC-Payload-Digest"):
                self._problem(where, "identical-payload-digest revisit without WARC-Payload-Digest")
            for name in ("WARC-Refers-To", "WARC-Refers-To-Target-URI", "WARC-Refers-To-Date"):
                if not get(name):
                    self._problem(where, f"revisit without {name}")
        elif not profile.endswith(_NOT_MODIFIED):
            self._problem(where, f"unknown revisit profile {profile!r}")


def iter_warc_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given, folders expanded to their ``*.warc`` / ``*.warc.gz`` files, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.name.endswith((".warc", ".warc.gz")))
        else:
            yield path


def check_files(paths: list[Path]) -> tuple[int, list[Problem]]:
    """Check every file; returns (files checked, problems)."""
    problems: list[Problem] = []
    checked = 0
    for path in iter_warc_paths(paths):
        checked += 1
        if not path.is_file():
            problems.append(Problem(str(path), "", "no such file"))
            continue
        problems.extend(WarcChecker(path).run())
    return checked, problems
