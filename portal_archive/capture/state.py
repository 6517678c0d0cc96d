"""The crawl state of an archive folder: what was fetched, with which validators, archived where.

One SQLite file beside the WARC files (``WARC_DIR/crawlstate.sqlite`` by default) holds two tables:

- ``pages``: per URL, the response's ``ETag`` and ``Last-Modified`` (bytes as received), its
  payload digest and the record holding that payload (record id, target URI, ``WARC-Date``,
  file). ``done`` says the page's item went through the pipelines: only then is the page
  "known", so a crawl killed between archiving a page and indexing its article fetches the page
  again instead of skipping it. Incremental crawls send conditional requests for known pages
  (``portal_archive.crawl.incremental``).
- ``cited``: per URL an article cited, the capture that archived it (``portal_archive.crawl.references``),
  so a later crawl lists that capture instead of fetching the source again.
- ``payloads``: per payload digest, the first record that stored it. The WARC writer's payload
  map is backed by it (``StoredPayloads``), so an identical payload becomes a ``revisit`` across
  files and runs, with only a bounded cache in memory.

Rows name the file their record is in, so a recovered file (``portal_archive.capture.recover``) can drop
the rows of records its torn tail lost. The WARC files are the truth; this store only remembers
where things are, and crawls running side by side share it (WAL mode, busy timeout).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Self

from portal_archive.capture.config import WarcConfig
from portal_archive.timestamps import to_iso, utc_now
from portal_archive.warc.writer import PayloadOrigin

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

DEFAULT_STATE_NAME: Final = "crawlstate.sqlite"


def configured_state_path(settings: BaseSettings) -> Path:
    """The crawl state a crawl with these settings uses: ``INCREMENTAL_STATE_PATH``, else beside the WARCs.

    One answer for the incremental middlewares that fill it and the recovery that reconciles it.
    """
    configured = settings.get("INCREMENTAL_STATE_PATH")
    return Path(configured) if configured else WarcConfig.from_settings(settings).directory / DEFAULT_STATE_NAME


SCHEMA_VERSION: Final = 1
BUSY_TIMEOUT_MS: Final = 30_000

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    etag BLOB,
    last_modified BLOB,
    payload_digest TEXT NOT NULL,
    record_id TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    warc_date TEXT NOT NULL,
    filename TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    versions INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_by_file ON pages (filename);
CREATE INDEX IF NOT EXISTS pages_by_record ON pages (record_id);
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    warc_date TEXT NOT NULL,
    filename TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payloads_by_file ON payloads (filename);
CREATE TABLE IF NOT EXISTS cited (
    url TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    status INTEGER,
    warc_date TEXT NOT NULL,
    filename TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cited_by_file ON cited (filename);
"""


class CrawlStateError(RuntimeError):
    """The crawl-state file is unreadable or was written by an incompatible version."""


@dataclass(frozen=True)
class PageState:
    """What the store remembers about one URL."""

    url: str
    etag: bytes | None
    last_modified: bytes | None
    payload_digest: str
    record_id: str
    target_uri: str
    warc_date: str
    filename: str
    done: bool
    versions: int

    @property
    def origin(self) -> PayloadOrigin:
        """The record holding this page's payload, as a revisit refers to it."""
        return PayloadOrigin(self.record_id, self.target_uri, self.warc_date, self.payload_digest)

    @property
    def has_validators(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class CitedState:
    """Where a cited source was archived."""

    url: str
    record_id: str
    status: int | None
    warc_date: str
    filename: str


@dataclass(frozen=True)
class StoredOrigin:
    """A payload's first record and the file it is in."""

    origin: PayloadOrigin
    filename: str


class CrawlState:
    """The SQLite store; open one per crawl process with ``CrawlState.open(path)``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Self:
        """Open or create the store; ``CrawlStateError`` when it is not ours or too new.

        Raises:
            CrawlStateError: unreadable file, or a schema version this code does not know.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise CrawlStateError(f"cannot open crawl state {path}: {exc}") from exc
        if int(version) != SCHEMA_VERSION:
            db.close()
            raise CrawlStateError(
                f"crawl state {path} has schema {version}, this version reads {SCHEMA_VERSION}: "
                "move it aside to start afresh (the next crawl then fetches every page in full)"
            )
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    # -- pages ---------------------------------------------------------------------------------

    def page(self, url: str) -> PageState | None:
        row = self._db.execute(
            "SELECT url, etag, last_modified, payload_digest, record_id, target_uri, warc_date, filename, done,"
            " versions FROM pages WHERE url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        url, etag, last_modified, digest, record_id, target_uri, warc_date, filename, done, versions = row
        return PageState(
            url, etag, last_modified, digest, record_id, target_uri, warc_date, filename, bool(done), int(versions)
        )

    def remember_page(
        self,
        url: str,
        *,
        etag: bytes | None,
        last_modified: bytes | None,
        origin: PayloadOrigin,
        filename: str,
        done: bool = False,
        new_version: bool = False,
    ) -> None:
        """Record a page fetched in full (new, or a new version when ``new_version``)."""
        now = to_iso(utc_now())
        self._db.execute(
            "INSERT INTO pages (url, etag, last_modified, payload_digest, record_id, target_uri, warc_date, filename,"
            " done, versions, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,"
            " payload_digest = excluded.payload_digest, record_id = excluded.record_id,"
            " target_uri = excluded.target_uri, warc_date = excluded.warc_date, filename = excluded.filename,"
            " done = excluded.done, versions = versions + ?, last_seen = excluded.last_seen",
            (
                url,
                etag,
                last_modified,
                origin.payload_digest,
                origin.record_id,
                origin.target_uri,
                origin.date,
                filename,
                int(done),
                now,
                now,
                int(new_version),
            ),
        )

    def adopt_page(
        self, url: str, *, etag: bytes | None, last_modified: bytes | None, origin: PayloadOrigin, filename: str
    ) -> bool:
        """Remember a page found in a recovered file unless the store already knows the URL."""
        now = to_iso(utc_now())
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO pages (url, etag, last_modified, payload_digest, record_id, target_uri, warc_date,"
            " filename, done, versions, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)",
            (url, etag, last_modified, origin.payload_digest, origin.record_id, origin.target_uri, origin.date,
             filename, now, now),
        )  # fmt: skip
        return cursor.rowcount > 0

    def touch(self, url: str, *, etag: bytes | None = None, last_modified: bytes | None = None) -> None:
        """A revalidated page: note the visit and any validator the 304 refreshed."""
        self._db.execute(
            "UPDATE pages SET last_seen = ?, etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified)"
            " WHERE url = ?",
            (to_iso(utc_now()), etag, last_modified, url),
        )

    def confirm(self, url: str) -> None:
        """The page's item went through the pipelines: from now on the page is known."""
        self._db.execute("UPDATE pages SET done = 1 WHERE url = ?", (url,))

    def confirm_record(self, record_id: str) -> int:
        """Confirm the page whose payload is ``record_id`` (a metadata record about it survived)."""
        return self._db.execute("UPDATE pages SET done = 1 WHERE record_id = ?", (record_id,)).rowcount

    # -- payloads ------------------------------------------------------------------------------

    def payload(self, digest: str) -> StoredOrigin | None:
        row = self._db.execute(
            "SELECT record_id, target_uri, warc_date, filename FROM payloads WHERE digest = ?", (digest,)
        ).fetchone()
        if row is None:
            return None
        return StoredOrigin(PayloadOrigin(row[0], row[1], row[2], digest), row[3])

    def add_payload(self, digest: str, origin: PayloadOrigin, filename: str) -> None:
        """Remember the first record of a payload; a later one for the same digest is ignored."""
        self._db.execute(
            "INSERT OR IGNORE INTO payloads (digest, record_id, target_uri, warc_date, filename)"
            " VALUES (?, ?, ?, ?, ?)",
            (digest, origin.record_id, origin.target_uri, origin.date, filename),
        )

    def delete_payload(self, digest: str) -> None:
        self._db.execute("DELETE FROM payloads WHERE digest = ?", (digest,))

    def payload_digests(self) -> Iterator[str]:
        for (digest,) in self._db.execute("SELECT digest FROM payloads"):
            yield digest

    # -- cited sources ---------------------------------------------------------------------------

    def cited(self, url: str) -> CitedState | None:
        """The capture of a source an article cited, archived by an earlier (or this) crawl."""
        row = self._db.execute(
            "SELECT url, record_id, status, warc_date, filename FROM cited WHERE url = ?", (url,)
        ).fetchone()
        return CitedState(*row) if row is not None else None

    def remember_cited(self, url: str, *, record_id: str, status: int | None, warc_date: str, filename: str) -> None:
        self._db.execute(
            "INSERT INTO cited (url, record_id, status, warc_date, filename) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET record_id = excluded.record_id, status = excluded.status,"
            " warc_date = excluded.warc_date, filename = excluded.filename",
            (url, record_id, status, warc_date, filename),
        )

    # -- recovery and bookkeeping --------------------------------------------------------------

    def forget_lost(self, filename: str, surviving: set[str]) -> int:
        """Drop rows whose record was in ``filename`` but did not survive its recovery; returns how many."""
        lost = 0
        for table in ("pages", "payloads", "cited"):
            ids = {rid for (rid,) in self._db.execute(f"SELECT record_id FROM {table} WHERE filename = ?", (filename,))}  # noqa: S608 - table names are constants
            for record_id in ids - surviving:
                lost += self._db.execute(
                    f"DELETE FROM {table} WHERE filename = ? AND record_id = ?",  # noqa: S608 - constant table name
                    (filename, record_id),
                ).rowcount
        return lost

    def known_under(self, prefix: str) -> Iterator[str]:
        """URLs of the known pages (their item went through) that start with ``prefix``."""
        rows = self._db.execute("SELECT url FROM pages WHERE done = 1 AND substr(url, 1, ?) = ?", (len(prefix), prefix))
        for (url,) in rows:
            yield url

    def counts(self) -> tuple[int, int]:
        """(pages, payloads) remembered."""
        (pages,) = self._db.execute("SELECT COUNT(*) FROM pages").fetchone()
        (payloads,) = self._db.execute("SELECT COUNT(*) FROM payloads").fetchone()
        return int(pages), int(payloads)


class StoredPayloads(MutableMapping[str, PayloadOrigin]):
    """The WARC writer's payload map, backed by the store; at most ``cache_size`` entries in memory.

    ``current_file`` names the WARC file being written, recorded with each new payload.
    """

    def __init__(self, state: CrawlState, current_file: Callable[[], str], cache_size: int = 10_000) -> None:
        self.state = state
        self.current_file = current_file
        self.cache_size = max(0, cache_size)
        self._cache: OrderedDict[str, PayloadOrigin] = OrderedDict()

    def _cached(self, digest: str, origin: PayloadOrigin) -> None:
        if not self.cache_size:
            return
        self._cache[digest] = origin
        self._cache.move_to_end(digest)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def __getitem__(self, digest: str) -> PayloadOrigin:
        origin = self._cache.get(digest)
        if origin is not None:
            self._cache.move_to_end(digest)
            return origin
        stored = self.state.payload(digest)
        if stored is None:
            raise KeyError(digest)
        self._cached(digest, stored.origin)
        return stored.origin

    def __setitem__(self, digest: str, origin: PayloadOrigin) -> None:
        self.state.add_payload(digest, origin, self.current_file())
        self._cached(digest, origin)

    def __delitem__(self, digest: str) -> None:
        self._cache.pop(digest, None)
        self.state.delete_payload(digest)

    def __iter__(self) -> Iterator[str]:
        return self.state.payload_digests()

    def __len__(self) -> int:
        return self.state.counts()[1]
