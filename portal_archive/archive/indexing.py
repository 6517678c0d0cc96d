"""The CDXJ lines of one WARC file, written by us in one pass, in parallel runs for a large gzip file.

The lines are those cdxj-indexer writes with its defaults (pywb and ReplayWeb.page read them), made
through the one reader (``warc.reader``), so a file cdxj-indexer stops on (brotli, a wrong
``Content-Length``, a cut member) is indexed up to its damage and said. A gzip file of more than
``warc.runs.PARALLEL_BYTES`` is cut into runs of whole members (``warc.runs``), one per
process; each run is checked to end where the next begins, or the file is read in one pass after all.
Lines are sorted in bounded memory: sorted runs spill to temporary files and are merged.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import json
import re
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Final

from portal_archive.archive.postquery import REQUEST_BODY_READ, method_url, request_query
from portal_archive.timestamps import timestamp14_of_warc_date
from portal_archive.warc.reader import ArchivedRecord, FileScan, Reading, WarcFileError, sent_request
from portal_archive.warc.runs import Run, in_processes, renumbered, split_runs

__all__ = ["cdxj_entry", "index_warc", "url_key"]


def url_key(url: str) -> str:
    """The SURT key cdxj-indexer and pywb file a URL under (``urn:`` URIs are kept verbatim)."""
    key = _plain_url_key(url)
    if key is not None:
        return key
    import surt  # here: it imports requests and tldextract (0.1 s), and most URLs never need it

    try:
        return str(surt.surt(url))
    except Exception:  # surt raises assorted errors on unparsable URLs; cdxj-indexer falls back the same way
        return url


_PLAIN_URL: Final = re.compile(
    r"(https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(:(?:80|443))?"
    r"(/[A-Za-z0-9/._~!$&'()*+,;=:@-]*)?(?:\?([A-Za-z0-9/._~!$&'()*+,;=:@?-]+))?(?:#.*)?",
    re.DOTALL | re.ASCII,
)
"""A URL the SURT canonicaliser changes only by case, ``www``, default port, trailing slash and query
order: ASCII, no escapes, no white space, no user, no port but the default."""
_SLOW_PARTS: Final = re.compile(r"//|/\.\.?(?:/|$)|aspx|sid=|sessionid|cfid=", re.IGNORECASE)
"""What sends a plain URL the slow way all the same: path segments to resolve, session ids to strip."""
_WWW: Final = re.compile(r"www[0-9]*\.")


def _plain_url_key(url: str) -> str | None:
    """``surt.surt(url)`` worked out directly for a plain URL (most are; thirty times faster), else None."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    scheme, host, port, path, query = match.groups()
    if port is not None and port != (":80" if scheme == "http" else ":443"):
        return None
    if host.replace(".", "").isdigit():  # an IP address in one of its forms
        return None
    path = path or "/"
    if _SLOW_PARTS.search(path) or (query is not None and _SLOW_PARTS.search(query)):
        return None
    if len(path) > 1 and path[-1] == "/":
        path = path[:-1]
    host = host.lower()
    if www := _WWW.match(host):
        host = host[www.end() :]
    key = ",".join(reversed(host.split("."))) + ")" + path.lower()
    if query is None:
        return key
    pairs = sorted(tuple(arg.split("=", 1)) for arg in query.lower().split("&"))
    return key + "?" + "&".join("=".join(pair) for pair in pairs)


_INDEXED_TYPES: Final = frozenset({"response", "revisit", "resource", "metadata"})
_HTTP_INDEXED: Final = frozenset({"response", "revisit"})
"""Records whose HTTP head gives the index its status and type (requests are not indexed)."""
_HTTP_READ: Final = _HTTP_INDEXED | {"request"}
"""Records whose HTTP head the index reads: a request's says whether its response is a POST's answer."""
_NO_PAYLOAD_DIGEST: Final = frozenset({"revisit", "warcinfo"})
_MIME_END: Final = re.compile(r"[;\s]")
_SORT_BUFFER: Final = 32 * 1024 * 1024
"""Bytes of index lines held before a sorted run goes to a temporary file (as cdxj-indexer does)."""


@dataclass(frozen=True, slots=True)
class _Asked:
    """A POST or PUT request record: what its response is filed under (``archive.postquery``)."""

    concurrent_to: str
    url: str
    method: str
    query: str


@dataclass(frozen=True, slots=True)
class _Held:
    """A complete index line but for the request it may answer: the request record comes next."""

    key: str
    fields: dict[str, str]
    url: str
    record_id: str

    def line(self, asked: _Asked | None) -> str:
        """The line; a response to ``asked`` is filed under its URL with the request body as a query,
        as replay looks it up (cdxj-indexer ``--post-append``)."""
        key, fields = self.key, self.fields
        if asked is not None and asked.concurrent_to == self.record_id and asked.url == self.url:
            key = f"{url_key(method_url(self.url, asked.method, asked.query))} {key.rsplit(' ', 1)[1]}"
            fields = {**fields, "requestBody": asked.query, "method": asked.method}
        return f"{key} {json.dumps(fields)}\n"


class _Entry:
    """A record's index line but for its length, known once the record has been read to its end."""

    __slots__ = ("fields", "filename", "key", "record", "url")

    def __init__(self, key: str, fields: dict[str, str], record: ArchivedRecord, filename: str, url: str) -> None:
        self.key = key
        self.fields = fields
        self.record = record
        self.filename = filename
        self.url = url

    def held(self) -> _Held | None:
        """The line once the record has been read to its end (None if it never ends)."""
        length = self.record.length
        if length is None:
            return None
        fields = self.fields
        fields["length"] = str(length)
        fields["offset"] = str(self.record.offset)
        fields["filename"] = self.filename
        # Responses only, as cdxj-indexer joins them: a revisit keeps its plain key.
        record_id = self.record.fields.get("warc-record-id", "") if self.record.warc_type == "response" else ""
        return _Held(self.key, fields, self.url, record_id)

    def line(self, asked: _Asked | None = None) -> str | None:
        held = self.held()
        return held.line(asked) if held is not None else None


_BODY_METHODS: Final = (b"POST ", b"PUT ")


def asked_of(request: ArchivedRecord) -> _Asked | None:
    """A POST or PUT request record's method and body as a lookup query; None for other records."""
    http = request.http
    if http is None or not http.status_line.startswith(_BODY_METHODS):
        return None
    sent = sent_request(request, REQUEST_BODY_READ)
    if sent is None:
        return None
    query = request_query(sent.method, sent.content_type, sent.body)
    return _Asked(request.fields.get("warc-concurrent-to", ""), request.target_uri, sent.method, query)


def cdxj_entry(record: ArchivedRecord, filename: str) -> _Entry | None:
    """The CDXJ line cdxj-indexer writes for ``record`` (read with its HTTP head), or None.

    The fields, their order and their values are cdxj-indexer's defaults: ``url``, ``mime``
    (``warc/revisit`` for revisits, the HTTP type of responses, the record's own otherwise, cut at
    ``;``), ``status`` (as its status line says it), ``digest`` (the record's, or the SHA-1 of the
    payload as stored when it has none), ``length``, ``offset``, ``filename``. ``warcinfo``-like
    ``application/warc-fields`` resources and metadata are left out. Reads the block when the digest
    must be computed; the caller drains the record, then asks for the line (``_Entry.line``).
    """
    warc_type = record.warc_type
    if warc_type not in _INDEXED_TYPES or record.offset is None:
        return None
    fields = record.fields
    if warc_type in ("resource", "metadata") and fields.get("content-type") == "application/warc-fields":
        return None
    url = record.target_uri
    stamp = timestamp14_of_warc_date(record.date)
    if not url or stamp is None:
        return None
    line: dict[str, str] = {"url": url}
    http = record.http
    if warc_type == "revisit":
        line["mime"] = "warc/revisit"
    else:
        mime: str | None
        if warc_type == "response":
            mime = http.first_value_text(b"Content-Type") if http is not None else None
        else:
            mime = fields.get("content-type")
        if mime is not None:
            line["mime"] = _MIME_END.split(mime, 1)[0].strip() if mime else mime
    if http is not None and warc_type in ("response", "revisit"):
        line["status"] = http.status_text
    digest = fields.get("warc-payload-digest")
    if not digest and warc_type not in _NO_PAYLOAD_DIGEST:
        sha1 = hashlib.sha1(usedforsecurity=False)
        while chunk := record.read_block(1 << 16):
            sha1.update(chunk)
        digest = "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")
    if digest:
        line["digest"] = digest
    return _Entry(f"{url_key(url)} {stamp}", line, record, filename, url)


class _SortedLines:
    """Lines sorted in bounded memory: sorted runs spill to temporary files, merged at the end."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._size = 0
        self._runs: list[IO[str]] = []

    def add(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size > _SORT_BUFFER:
            run = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by close()
            self._lines.sort()
            run.writelines(self._lines)
            run.seek(0)
            self._runs.append(run)
            self._lines, self._size = [], 0

    def write(self, out: IO[bytes]) -> None:
        self._lines.sort()
        lines: Iterable[str] = heapq.merge(self._lines, *self._runs) if self._runs else self._lines
        for line in lines:
            out.write(line.encode("utf-8"))

    def close(self) -> None:
        """Remove the spilled runs (written or not)."""
        for run in self._runs:
            run.close()
        self._runs = []


@dataclass
class _Run:
    """What indexing one run of a file found: counts, damage, and its sorted lines in a temporary file."""

    lines: str
    """The temporary file of its sorted lines."""
    first_request: _Asked | None = None
    """The run's first record, when it is a POST or PUT request: the answer to it ends the run before."""
    last: _Held | None = None
    """The run's last line, held back: the next run may begin with its request."""
    records: int = 0
    captures: int = 0
    members: int = 0
    members_split: bool = False
    last_complete_offset: int | None = None
    problem: str | None = None
    stopped_at: int | None = None


def _index_run(warc: Path, start: int, stop: int | None) -> _Run:
    """Index the records from ``start`` up to the one at ``stop``; the lines go to a temporary file."""
    reading = Reading(warc, parse_http=_HTTP_READ, start=start, stop=stop)
    lines = _SortedLines()
    try:
        found, first_request, last = _index_pass(reading, lines, hold_last=True)
        with tempfile.NamedTemporaryFile("wb", prefix="cdxj-run-", suffix=".cdxj", delete=False) as out:
            lines.write(out)
    finally:
        lines.close()
    return _Run(
        lines=out.name, first_request=first_request, last=last,
        records=found.records, captures=found.captures, members=found.members,
        members_split=found.whole_file_gzip, last_complete_offset=found.last_complete_offset,
        problem=found.problem.problem if found.problem is not None else None, stopped_at=reading.stopped_at,
    )  # fmt: skip


def _index_pass(
    reading: Reading, lines: _SortedLines, *, hold_last: bool = False
) -> tuple[FileScan, _Asked | None, _Held | None]:
    """Add the lines of the records ``reading`` reads to ``lines``; what the pass found, its first
    record when that is a POST or PUT request, and (``hold_last``) its last line, held back."""
    pending: _Entry | None = None
    first_request: _Asked | None = None
    last: _Held | None = None
    first = True
    with contextlib.suppress(WarcFileError):  # what ended the pass is in reading.found
        for record in reading:
            asked = asked_of(record) if record.warc_type == "request" and (pending is not None or first) else None
            if first:
                first_request, first = asked, False
            if pending is not None and (line := pending.line(asked)) is not None:  # the record before is complete
                lines.add(line)
            pending = cdxj_entry(record, reading.path.name)
        if pending is not None:
            if hold_last:
                last = pending.held()
            elif (line := pending.line()) is not None:
                lines.add(line)
    return reading.found, first_request, last


def _in_runs(warc: Path, out: BinaryIO, runs: list[Run], jobs: int) -> FileScan | None:
    """Index ``warc`` in parallel runs; None when the runs do not join up (read it in one pass then)."""
    results = list(in_processes(_index_run, warc, runs, jobs))
    try:
        found = FileScan(warc)
        used: list[_Run] = []
        for run, (_, stop) in zip(results, runs, strict=True):
            used.append(run)
            if run.problem is not None:
                problem = renumbered(run.problem, found.records)
                found.records += run.records
                found.problem = WarcFileError(warc, problem, found.records)
                break
            if run.stopped_at != stop:
                return None  # a record runs across the split: the runs do not join up
            found.records += run.records
        found.captures = sum(run.captures for run in used)
        found.members = sum(run.members for run in used)
        found.whole_file_gzip = any(run.members_split for run in used)
        found.last_complete_offset = next(
            (run.last_complete_offset for run in reversed(used) if run.last_complete_offset is not None), None
        )
        if not found.whole_file_gzip and found.records:
            # Each run's last line, with the request that may open the next run (a POST's answer).
            following = [*(run.first_request for run in used[1:]), None]
            held = sorted(
                run.last.line(asked).encode("utf-8")
                for run, asked in zip(used, following, strict=True)
                if run.last is not None
            )
            with ExitStack() as stack:
                streams = [stack.enter_context(Path(run.lines).open("rb")) for run in used]
                out.writelines(heapq.merge(*streams, held))
        return found
    finally:
        for run in results:
            Path(run.lines).unlink(missing_ok=True)


def index_warc(warc: Path, out: BinaryIO, *, jobs: int = 1) -> FileScan:
    """Write the sorted CDXJ lines of one WARC file (``filename`` = its base name).

    A file that breaks off keeps the lines of its complete records; a file whose gzip members are
    not one per record gets none. Returns what the pass found about the file (records, gzip layout,
    damage). ``jobs`` > 1 reads a large gzip file in that many processes (``warc.runs``).
    """
    runs = split_runs(warc, jobs)
    if len(runs) > 1:
        found = _in_runs(warc, out, runs, jobs)
        if found is not None:
            return found
    lines = _SortedLines()
    try:
        found, _, _ = _index_pass(Reading(warc, parse_http=_HTTP_READ), lines)
        if not found.whole_file_gzip and found.records:
            lines.write(out)
    finally:
        lines.close()
    return found
