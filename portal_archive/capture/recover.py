"""Recover ``.open`` WARC files left behind by a crawl that died (``kill -9``, power loss, OOM).

A writer holds an exclusive ``flock`` on its ``.open`` file while it writes
(``portal_archive.warc.openlock``); the kernel drops it when the process dies. An unlocked
``.open`` file is therefore an orphan, and recovering it is safe; a locked one belongs to a live
crawl and is never touched.

Recovery reads the orphan record by record (gzip member by member, each parsed with warcio) and
keeps the longest prefix of sound records: framing intact, ``Content-Length`` equal to the block,
block and payload digests matching. A ``response`` or ``revisit`` at the very end without its
``request`` record is cut as well (the writer writes the pair back to back, so only the last
exchange can be half written). The file is truncated there, synced and renamed to its final name;
a file with nothing but its ``warcinfo`` left is deleted.

The crawl state (``portal_archive.capture.state``) is brought in line with what survived: rows of
records the tail lost are dropped, and pages and payloads whose records survived but were never
remembered are adopted, so the next crawl neither refers to a lost record nor fetches a page it
has in full again. A page counts as finished only if its ``metadata`` record survived too.

``OrphanRecoveryExtension`` runs this at the start of every crawl; ``portal-archive recover DIR``
runs it by hand, and ``portal-archive crawl`` before its first spider.
Settings: ``RECOVER_ENABLED`` (default True, ``RecoverConfig``), ``WARC_ENABLED``, ``WARC_DIR``,
``INCREMENTAL_STATE_PATH``.
Stats: ``recover/files``, ``recover/records``, ``recover/bytes_cut``, ``recover/removed``,
``recover/live_skipped``, ``recover/state_dropped``, ``recover/state_adopted``, ``recover/errors``.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from portal_archive import settings as project
from portal_archive.capture.config import WarcConfig
from portal_archive.capture.state import DEFAULT_STATE_NAME, CrawlState, CrawlStateError, configured_state_path
from portal_archive.config import read_bool
from portal_archive.warc.check import digest_matches, payload_digest_matches
from portal_archive.warc.openlock import folder_lock, try_lock
from portal_archive.warc.reader import HttpHead, parse_raw_record, split_http
from portal_archive.warc.writer import OPEN_SUFFIX, PayloadOrigin

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

READ_CHUNK: Final = 1 << 20
MAX_HEADER_BYTES: Final = 1 << 20
_VERSION_RE: Final = re.compile(rb"^WARC/1\.[01]\r\n")
_EXCHANGE_TYPES: Final = ("response", "revisit")


class RecordDamaged(ValueError):
    """A record that cannot be kept: cut short, mis-framed, or failing its digests."""


@dataclass(frozen=True)
class RecoveredRecord:
    """One sound record of an orphan file and what recovery needs to know about it."""

    offset: int
    end: int
    warc_type: str
    record_id: str
    target_uri: str
    date: str
    payload_digest: str = ""
    refers_to: str = ""
    concurrent_to: str = ""
    http_status: int | None = None
    etag: bytes | None = None
    last_modified: bytes | None = None
    truncated: bool = False


@dataclass
class FileRecovery:
    """What happened to one orphan file."""

    path: Path
    final_path: Path | None = None
    records: list[RecoveredRecord] = field(default_factory=list)
    bytes_cut: int = 0
    reason: str = ""
    state_dropped: int = 0
    state_adopted: int = 0

    @property
    def removed(self) -> bool:
        return self.final_path is None


@dataclass
class RecoveryReport:
    """Every orphan of a folder, recovered, plus the live files left alone."""

    recovered: list[FileRecovery] = field(default_factory=list)
    live: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# -- reading an orphan ---------------------------------------------------------------------------


def _gzip_members(fh: BinaryIO) -> Iterator[tuple[int, int, bytes | None]]:
    """``(offset, end, data)`` per gzip member; ``data`` is None for a torn or corrupt last member."""
    offset = 0
    pending = b""
    while True:
        data = pending or fh.read(READ_CHUNK)
        pending = b""
        if not data:
            return
        inflater = zlib.decompressobj(31)
        parts: list[bytes] = []
        consumed = 0
        try:
            while True:
                parts.append(inflater.decompress(data))
                if inflater.eof:
                    pending = inflater.unused_data
                    consumed += len(data) - len(pending)
                    break
                consumed += len(data)
                data = fh.read(READ_CHUNK)
                if not data:
                    yield offset, offset + consumed, None
                    return
        except zlib.error:
            yield offset, offset + consumed, None
            return
        yield offset, offset + consumed, b"".join(parts)
        offset += consumed


def _plain_records(fh: BinaryIO) -> Iterator[tuple[int, int, bytes | None]]:
    """``(offset, end, data)`` per record of an uncompressed WARC, framed by ``Content-Length``."""
    offset = 0
    while True:
        head = bytearray()
        while b"\r\n\r\n" not in head:
            line = fh.readline(MAX_HEADER_BYTES)
            if not line:
                if head:
                    yield offset, offset + len(head), None
                return
            head += line
            if len(head) > MAX_HEADER_BYTES:
                yield offset, offset + len(head), None
                return
        match = re.search(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r$", bytes(head))
        if match is None:
            yield offset, offset + len(head), None
            return
        wanted = int(match.group(1)) + 4
        rest = fh.read(wanted)
        data = bytes(head) + rest
        if len(rest) < wanted:
            yield offset, offset + len(data), None
            return
        yield offset, offset + len(data), data
        offset += len(data)


def _first(http: HttpHead | None, name: bytes) -> bytes | None:
    values = http.values(name) if http is not None else []
    return values[0] if values else None


def parse_record(data: bytes, offset: int, end: int) -> RecoveredRecord:
    """Parse and verify one record (the whole of one gzip member, or one framed plain record).

    Raises:
        RecordDamaged: framing, length or a digest is wrong.
    """
    if not _VERSION_RE.match(data):
        raise RecordDamaged("no WARC version line")
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        raise RecordDamaged("header block not terminated")
    try:
        record = parse_raw_record(data)
    except ValueError as exc:
        raise RecordDamaged(f"unparsable header block: {exc}") from exc
    get = record.headers.get
    declared = get("Content-Length")
    if declared is None or not declared.isdigit():
        raise RecordDamaged("no Content-Length")
    start = head_end + 4
    block = data[start : start + int(declared)]
    if len(block) != int(declared):
        raise RecordDamaged(f"block is {len(block)} bytes, Content-Length says {declared}")
    if data[start + int(declared) :] != b"\r\n\r\n":
        raise RecordDamaged("record not followed by exactly CRLF CRLF")
    block_digest = get("WARC-Block-Digest")
    if block_digest and digest_matches(block_digest, block) is False:
        raise RecordDamaged("WARC-Block-Digest does not match")
    warc_type = record.headers.warc_type
    uri = get("WARC-Target-URI") or ""
    payload_digest = get("WARC-Payload-Digest") or ""
    http: HttpHead | None = None
    if warc_type in _EXCHANGE_TYPES and uri.startswith(("http:", "https:")):
        parsed = split_http(block)
        if parsed is not None:
            http, entity = parsed
            if (
                warc_type == "response"
                and payload_digest
                and payload_digest_matches(payload_digest, http, entity) is False
            ):
                raise RecordDamaged("WARC-Payload-Digest does not match")
    return RecoveredRecord(
        offset=offset,
        end=end,
        warc_type=warc_type,
        record_id=get("WARC-Record-ID") or "",
        target_uri=uri,
        date=get("WARC-Date") or "",
        payload_digest=payload_digest,
        refers_to=get("WARC-Refers-To") or "",
        concurrent_to=get("WARC-Concurrent-To") or "",
        http_status=http.status if http is not None else None,
        etag=_first(http, b"ETag"),
        last_modified=_first(http, b"Last-Modified"),
        truncated=bool(get("WARC-Truncated")),
    )


def sound_prefix(fh: BinaryIO, *, gzipped: bool) -> tuple[list[RecoveredRecord], str]:
    """The records before the first damaged one, and why reading stopped ("" at a clean end)."""
    records: list[RecoveredRecord] = []
    units = _gzip_members(fh) if gzipped else _plain_records(fh)
    for offset, end, data in units:
        if data is None:
            return records, f"torn record at byte {offset}"
        try:
            records.append(parse_record(data, offset, end))
        except RecordDamaged as exc:
            return records, f"damaged record at byte {offset}: {exc}"
    return records, ""


def complete_exchanges(records: list[RecoveredRecord]) -> list[RecoveredRecord]:
    """Drop a trailing response/revisit whose request record never made it to disk."""
    if records and records[-1].warc_type in _EXCHANGE_TYPES and records[-1].target_uri.startswith("http"):
        return records[:-1]
    return records


# -- putting it right ----------------------------------------------------------------------------


def _final_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(OPEN_SUFFIX))


def resync_state(state: CrawlState, filename: str, records: list[RecoveredRecord]) -> tuple[int, int]:
    """Drop rows of lost records of ``filename``, adopt what survived; returns (dropped, adopted)."""
    dropped = state.forget_lost(filename, {r.record_id for r in records if r.warc_type == "response"})
    adopted = 0
    for record in records:
        if record.warc_type != "response" or record.truncated or not record.payload_digest:
            continue
        origin = PayloadOrigin(record.record_id, record.target_uri, record.date, record.payload_digest)
        state.add_payload(record.payload_digest, origin, filename)
        if record.http_status == 200:
            validators = {"etag": record.etag, "last_modified": record.last_modified}
            adopted += state.adopt_page(record.target_uri, **validators, origin=origin, filename=filename)
    for record in records:
        if record.warc_type == "metadata" and record.refers_to:
            state.confirm_record(record.refers_to)
    return dropped, adopted


def recover_file(path: Path, handle: BinaryIO, state: CrawlState | None = None) -> FileRecovery:
    """Cut ``path`` (open as ``handle``, locked by the caller) to its sound records and close it."""
    gzipped = path.name.removesuffix(OPEN_SUFFIX).endswith(".gz")
    size = os.fstat(handle.fileno()).st_size
    handle.seek(0)
    records, reason = sound_prefix(handle, gzipped=gzipped)
    kept = complete_exchanges(records)
    if len(kept) < len(records) and not reason:
        reason = "last exchange without its request record"
    cut = kept[-1].end if kept else 0
    outcome = FileRecovery(path=path, records=kept, bytes_cut=size - cut, reason=reason)
    final = _final_path(path)
    if state is not None:
        outcome.state_dropped, outcome.state_adopted = resync_state(state, final.name, kept)
    if not any(record.warc_type != "warcinfo" for record in kept):
        path.unlink()
        logger.warning(
            "Removed orphan WARC %(path)s: no complete record besides warcinfo (%(reason)s)",
            {"path": path, "reason": reason or "empty"},
        )
        return outcome
    if cut < size:
        os.truncate(handle.fileno(), cut)
    os.fsync(handle.fileno())
    path.rename(final)
    outcome.final_path = final
    logger.warning(
        "Recovered orphan WARC %(path)s: %(records)d record(s) kept, %(cut)d byte(s) cut%(why)s",
        {"path": final, "records": len(kept), "cut": size - cut, "why": f" ({reason})" if reason else ""},
    )
    return outcome


def default_state_path(directory: Path) -> Path:
    return directory / DEFAULT_STATE_NAME


def recover_directory(directory: Path, state_path: Path | None = None) -> RecoveryReport:
    """Recover every orphan ``.open`` file of ``directory``; files a live crawl holds are left alone.

    ``state_path`` (default ``DIR/crawlstate.sqlite``) is resynced when it exists.
    """
    report = RecoveryReport()
    if not directory.is_dir():
        return report
    state_file = state_path or default_state_path(directory)
    with folder_lock(directory):
        candidates = sorted(directory.glob(f"*{OPEN_SUFFIX}"))
        if not candidates:
            return report
        state: CrawlState | None = None
        try:
            state = CrawlState.open(state_file) if state_file.exists() else None
        except CrawlStateError as exc:
            report.errors.append(str(exc))
        try:
            for path in candidates:
                try:
                    with path.open("r+b") as handle:
                        if not try_lock(handle):
                            report.live.append(path)
                            continue
                        report.recovered.append(recover_file(path, handle, state))
                except OSError as exc:
                    report.errors.append(f"{path}: {exc}")
                    logger.exception("Could not recover %(path)s", {"path": path})
        finally:
            if state is not None:
                state.close()
    return report


@dataclass(frozen=True, kw_only=True)
class RecoverConfig:
    """``RECOVER_*`` settings (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.RECOVER_ENABLED

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read ``RECOVER_ENABLED``; a value that is not a boolean raises ``SettingsError`` naming it."""
        return cls(enabled=read_bool(settings, "RECOVER_ENABLED", cls.enabled))


class OrphanRecoveryExtension:
    """Recovers orphan ``.open`` files of ``WARC_DIR`` when a crawl opens, before it writes."""

    def __init__(self, crawler: Crawler, directory: Path, state_path: Path) -> None:
        self.crawler = crawler
        self.directory = directory
        self.state_path = state_path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not RecoverConfig.from_settings(settings).enabled:
            raise NotConfigured("RECOVER_ENABLED is False")
        capture = WarcConfig.from_settings(settings)
        if not capture.enabled:
            raise NotConfigured("WARC_ENABLED is False")
        # The crawl state the orphans' records are reconciled with: the one this crawl will use.
        state_path = configured_state_path(settings)
        extension = cls(crawler, capture.directory, state_path)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self) -> None:
        report = recover_directory(self.directory, self.state_path)
        stats = self.crawler.stats
        if stats is None:
            return
        for outcome in report.recovered:
            stats.inc_value("recover/files")
            stats.inc_value("recover/records", len(outcome.records))
            stats.inc_value("recover/bytes_cut", outcome.bytes_cut)
            stats.inc_value("recover/state_dropped", outcome.state_dropped)
            stats.inc_value("recover/state_adopted", outcome.state_adopted)
            if outcome.removed:
                stats.inc_value("recover/removed")
        if report.live:
            stats.inc_value("recover/live_skipped", len(report.live))
        if report.errors:
            stats.inc_value("recover/errors", len(report.errors))
            for error in report.errors:
                logger.error("Recovery problem: %(error)s", {"error": error})
