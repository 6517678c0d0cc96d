"""Serialise HTTP exchanges into WARC/1.1 record bytes.

Everything here works on bytes as received: header names and values are never decoded, so a GBK
header value or a gzip body reaches the archive unchanged. The only rewrite is the one the WARC
spec requires for consistency between the HTTP layer and the stored entity: a transfer or content
coding the fetcher already removed is renamed ``X-Orig-…`` (the practice of Browsertrix, warcprox
and pywb), so a replay tool never tries to de-chunk or gunzip plain bytes.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from portal_archive.urls import ascii_uri

WARC_VERSION = "WARC/1.1"
REVISIT_IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
HTTP_RESPONSE_TYPE = "application/http;msgtype=response"
HTTP_REQUEST_TYPE = "application/http;msgtype=request"

HeaderList = Sequence[tuple[bytes, bytes]]


@dataclass(frozen=True, kw_only=True)
class HttpExchange:
    """One request and the response as the fetcher received it.

    ``body`` is the entity: transfer coding removed (Twisted de-chunks), content coding kept.
    ``body_decoded`` says the fetcher also removed the content coding (a browser does), so a
    ``Content-Encoding`` header no longer describes the stored bytes.
    """

    url: str
    method: bytes = b"GET"
    request_headers: HeaderList = ()
    request_body: bytes = b""
    status: int
    protocol: str = "HTTP/1.1"
    response_headers: HeaderList = ()
    body: bytes = b""
    ip_address: str | None = None
    body_decoded: bool = False
    truncated: str | None = None


@dataclass(frozen=True)
class WarcRecord:
    """A record before compression: its id, type, header fields and block."""

    record_id: str
    warc_type: str
    fields: tuple[tuple[str, str], ...]
    block: bytes

    def to_bytes(self) -> bytes:
        """The record as it is stored: version line, fields, blank line, block, two CRLFs."""
        head = [WARC_VERSION.encode("ascii"), b"\r\n"]
        for name, value in self.fields:
            head.append(f"{name}: {value}\r\n".encode())
        head.append(b"\r\n")
        return b"".join(head) + self.block + b"\r\n\r\n"


def sha1_digest(data: bytes) -> str:
    """The ``sha1:BASE32`` labelled digest that WARC readers (pywb, warcio) expect."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode("ascii")


def new_record_id() -> str:
    """A fresh ``<urn:uuid:…>`` record id."""
    return f"<urn:uuid:{uuid.uuid4()}>"


def reason_phrase(status: int) -> str:
    """The standard reason phrase; servers' own phrases are not exposed by Twisted."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Status"


_LINE_BREAKS = bytes.maketrans(b"\r\n\x00", b"   ")


def _header_lines(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """``Name: value`` lines; a CR, LF or NUL inside a name or value (Twisted never hands one
    over, a browser capture might) becomes a space, so no header can end the block early."""
    return b"".join(
        name.translate(_LINE_BREAKS) + b": " + value.translate(_LINE_BREAKS) + b"\r\n" for name, value in headers
    )


def _looks_content_encoded(coding: bytes, body: bytes) -> bool:
    coding = coding.strip().lower()
    if coding in (b"gzip", b"x-gzip"):
        return body.startswith(b"\x1f\x8b")
    if coding == b"zstd":
        return body.startswith(b"\x28\xb5\x2f\xfd")
    # deflate and br have no reliable magic; trust the fetcher unless it says it decoded.
    return True


def consistent_response_headers(exchange: HttpExchange) -> list[tuple[bytes, bytes]]:
    """Response headers as received, with codings the stored body no longer has renamed.

    Repeated headers (two ``Set-Cookie``) stay separate entries, in order.
    """
    headers = list(exchange.response_headers)
    body = exchange.body
    out: list[tuple[bytes, bytes]] = []
    decoded_content = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"transfer-encoding" and b"chunked" in value.lower():
            # Every fetcher hands over the de-chunked entity, so the header never describes it; a
            # body that merely looks chunk-framed (a page showing "0\r\n\r\n") must not keep it.
            out.append((b"X-Orig-Transfer-Encoding", value))
        elif (
            lower == b"content-encoding"
            and value.strip().lower() not in (b"", b"identity")
            and (exchange.body_decoded or not _looks_content_encoded(value, body))
        ):
            decoded_content = True
            out.append((b"X-Orig-Content-Encoding", value))
        else:
            out.append((name, value))
    if exchange.truncated and not decoded_content:
        # A cut body cannot match the announced length; keep the announcement under another name
        # so replay tools do not wait for bytes that were never archived.
        out = [
            (b"X-Orig-Content-Length", value)
            if name.lower() == b"content-length" and value.strip() != str(len(body)).encode("ascii")
            else (name, value)
            for name, value in out
        ]
    if decoded_content:
        # The received length described the encoded entity; keep it for the record, state the real one.
        fixed: list[tuple[bytes, bytes]] = []
        for name, value in out:
            if name.lower() == b"content-length":
                fixed.append((b"X-Orig-Content-Length", value))
            else:
                fixed.append((name, value))
        fixed.append((b"Content-Length", str(len(body)).encode("ascii")))
        out = fixed
    return out


def http_response_head(exchange: HttpExchange) -> bytes:
    """Status line and headers of the response, ending with the blank line."""
    status_line = f"{exchange.protocol} {exchange.status} {reason_phrase(exchange.status)}\r\n".encode("ascii")
    return status_line + _header_lines(consistent_response_headers(exchange)) + b"\r\n"


def request_target(url: str) -> bytes:
    """Path and query of ``url``, as sent on the request line: ASCII, percent-encoded."""
    parts = urlsplit(ascii_uri(url))
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target.encode("ascii")


def http_request_block(exchange: HttpExchange) -> bytes:
    """The request as sent: request line with path and query, ``Host`` first, then the headers."""
    host = urlsplit(ascii_uri(exchange.url)).netloc.encode("ascii") if exchange.url else b""
    head = exchange.method + b" " + request_target(exchange.url) + b" " + exchange.protocol.encode("ascii") + b"\r\n"
    headers = [(n, v) for n, v in exchange.request_headers if n.lower() != b"host"]
    return head + b"Host: " + host + b"\r\n" + _header_lines(headers) + b"\r\n" + exchange.request_body


@dataclass
class WarcRecordBuilder:
    """Builds the records of one exchange; the clock and id factory are seams for golden tests."""

    warcinfo_id: str | None = None
    extra_fields: dict[str, str] = field(default_factory=dict)

    def _common(self, warc_type: str, record_id: str, date: str, url: str | None) -> list[tuple[str, str]]:
        fields = [("WARC-Type", warc_type), ("WARC-Record-ID", record_id), ("WARC-Date", date)]
        if url is not None:
            # WARC 1.1 §5.10: a URI, so ASCII: an IDN host in punycode, the rest percent-encoded.
            fields.append(("WARC-Target-URI", ascii_uri(url)))
        return fields

    def _finish(self, fields: list[tuple[str, str]], content_type: str, block: bytes) -> None:
        if self.warcinfo_id:
            fields.append(("WARC-Warcinfo-ID", self.warcinfo_id))
        fields.append(("Content-Type", content_type))
        fields.append(("Content-Length", str(len(block))))

    def warcinfo(self, *, record_id: str, date: str, filename: str, info: Sequence[tuple[str, str]]) -> WarcRecord:
        """The ``warcinfo`` record that opens every file."""
        block = "".join(f"{k}: {v}\r\n" for k, v in info).encode("utf-8")
        fields = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", date),
            ("WARC-Filename", filename),
            ("WARC-Block-Digest", sha1_digest(block)),
            ("Content-Type", "application/warc-fields"),
            ("Content-Length", str(len(block))),
        ]
        return WarcRecord(record_id, "warcinfo", tuple(fields), block)

    def response(self, exchange: HttpExchange, *, record_id: str, date: str, payload_digest: str) -> WarcRecord:
        """A full ``response`` record: HTTP head plus the entity as received."""
        block = http_response_head(exchange) + exchange.body
        fields = self._common("response", record_id, date, exchange.url)
        if exchange.ip_address:
            fields.append(("WARC-IP-Address", exchange.ip_address))
        fields.append(("WARC-Block-Digest", sha1_digest(block)))
        fields.append(("WARC-Payload-Digest", payload_digest))
        if exchange.truncated:
            fields.append(("WARC-Truncated", exchange.truncated))
        self._finish(fields, HTTP_RESPONSE_TYPE, block)
        return WarcRecord(record_id, "response", tuple(fields), block)

    def revisit(
        self,
        exchange: HttpExchange,
        *,
        record_id: str,
        date: str,
        payload_digest: str,
        profile: str,
        refers_to: str,
        refers_to_uri: str,
        refers_to_date: str,
    ) -> WarcRecord:
        """A ``revisit`` record: HTTP head only, pointing at the record that holds the payload.

        warcio's helper leaves out ``WARC-Refers-To``; replay tools resolve faster with it. A
        ``server-not-modified`` revisit (a 304) carries no payload, so nothing was truncated, and
        its payload digest (the earlier record's, when known) is optional.
        """
        block = http_response_head(exchange)
        fields = self._common("revisit", record_id, date, exchange.url)
        if exchange.ip_address:
            fields.append(("WARC-IP-Address", exchange.ip_address))
        fields += [
            ("WARC-Profile", profile),
            ("WARC-Refers-To", refers_to),
            ("WARC-Refers-To-Target-URI", ascii_uri(refers_to_uri)),
            ("WARC-Refers-To-Date", refers_to_date),
            ("WARC-Block-Digest", sha1_digest(block)),
        ]
        if payload_digest:
            fields.append(("WARC-Payload-Digest", payload_digest))
        if profile != REVISIT_SERVER_NOT_MODIFIED:
            fields.append(("WARC-Truncated", "length"))
        self._finish(fields, HTTP_RESPONSE_TYPE, block)
        return WarcRecord(record_id, "revisit", tuple(fields), block)

    def request(self, exchange: HttpExchange, *, record_id: str, date: str, concurrent_to: str) -> WarcRecord:
        """The ``request`` record, linked to its response by ``WARC-Concurrent-To``."""
        block = http_request_block(exchange)
        fields = self._common("request", record_id, date, exchange.url)
        fields.append(("WARC-Concurrent-To", concurrent_to))
        fields.append(("WARC-Block-Digest", sha1_digest(block)))
        self._finish(fields, HTTP_REQUEST_TYPE, block)
        return WarcRecord(record_id, "request", tuple(fields), block)

    def metadata_like(
        self,
        warc_type: str,
        *,
        record_id: str,
        date: str,
        url: str,
        content_type: str,
        block: bytes,
        refers_to: str | None = None,
        concurrent_to: str | None = None,
    ) -> WarcRecord:
        """A ``metadata`` or ``resource`` record about a captured response (rendered DOM, extraction)."""
        fields = self._common(warc_type, record_id, date, url)
        if refers_to:
            fields.append(("WARC-Refers-To", refers_to))
        if concurrent_to:
            fields.append(("WARC-Concurrent-To", concurrent_to))
        fields.append(("WARC-Block-Digest", sha1_digest(block)))
        if warc_type == "resource":
            fields.append(("WARC-Payload-Digest", sha1_digest(block)))
        self._finish(fields, content_type, block)
        return WarcRecord(record_id, warc_type, tuple(fields), block)
