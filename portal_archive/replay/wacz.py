"""Package an archive folder as a WACZ 1.1.1 file for ReplayWeb.page, pywb and other WACZ readers.

Layout (https://specs.webrecorder.net/wacz/1.1.1/):

- ``archive/NAME.warc.gz``: the folder's WARC files, stored (not deflated) so readers can seek;
- ``indexes/index.cdx.gz`` + ``indexes/index.idx``: the folder's byte-sorted CDXJ in gzip blocks of
  ``BLOCK_LINES`` lines, and the block index (the compressed layout py-wacz and ArchiveWeb.page
  write). ``wb-manager add --unpack-wacz`` imports only ``*.cdx(.gz)`` files, which gunzip to plain
  CDXJ here;
- ``pages/pages.jsonl``: the article pages with title and text (``portal_archive.replay.page_list``);
- ``datapackage.json`` (sha256 of every file) and ``datapackage-digest.json`` (sha256 of the former).

The file is written beside its destination and renamed into place, so a reader never sees half a
WACZ.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from portal_archive import __version__
from portal_archive.archive.cdxj import FileProblem, ensure_index_report
from portal_archive.archive.folder import require_archive
from portal_archive.replay.page_list import Page, article_pages
from portal_archive.timestamps import iso_z, utc_now

WACZ_VERSION = "1.1.1"
BLOCK_LINES = 1024
COPY_SIZE = 1024 * 1024
INDEX_DATA = "indexes/index.cdx.gz"
INDEX_BLOCKS = "indexes/index.idx"
PAGES = "pages/pages.jsonl"
_NAME_RE = re.compile(r"[^-a-z0-9._/]")


@dataclass(frozen=True)
class WaczReport:
    """What went into a WACZ file."""

    path: Path
    warc_count: int
    page_count: int
    extracted_pages: int
    """Pages whose text was re-extracted because no metadata record described them."""
    problems: tuple[FileProblem, ...] = ()
    """Folder files left out of the package (not WARC, whole-file gzip), or packaged only up to their
    damage, as the index build found them."""


@dataclass(frozen=True)
class _Resource:
    path: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            # Frictionless accepts lower-case names of [-a-z0-9._/] only.
            "name": _NAME_RE.sub("-", Path(self.path).name.lower()),
            "path": self.path,
            "hash": f"sha256:{self.sha256}",
            "bytes": self.size,
        }


class _HashingWriter:
    """Counts and hashes what goes into one ZIP member."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)


def _zip_info(name: str, *, deflate: bool, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=utc_now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.file_size = size
    return info


def _add_stream(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes], *, deflate: bool, size: int) -> _Resource:
    """Stream ``size`` bytes into a new member (the size decides whether ZIP64 fields are needed)."""
    info = _zip_info(name, deflate=deflate, size=size)
    with archive.open(info, "w") as member:
        writer = _HashingWriter(member)
        for chunk in chunks:
            writer.write(chunk)
    return _Resource(name, writer.digest.hexdigest(), writer.size)


def _total(chunks: list[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(COPY_SIZE):
            yield chunk


def _compressed_index(index: Path, data_out: IO[bytes]) -> list[bytes]:
    """Gzip the CDXJ in blocks into ``data_out``; the ``index.idx`` lines that locate each block."""
    header = {"format": "cdxj-gzip-1.0", "filename": Path(INDEX_DATA).name}
    lines = [b"!meta 0 " + json.dumps(header).encode() + b"\n"]
    offset = 0

    def flush(block: list[bytes]) -> None:
        nonlocal offset
        compressed = gzip.compress(b"".join(block), mtime=0)
        data_out.write(compressed)
        key = block[0].split(b"{", 1)[0].strip()
        where = {
            "offset": offset,
            "length": len(compressed),
            "digest": "sha256:" + hashlib.sha256(compressed).hexdigest(),
        }
        lines.append(key + b" " + json.dumps(where).encode() + b"\n")
        offset += len(compressed)

    block: list[bytes] = []
    with index.open("rb") as fh:
        for line in fh:
            block.append(line)
            if len(block) == BLOCK_LINES:
                flush(block)
                block = []
    if block:
        flush(block)
    return lines


def _pages_lines(pages: list[Page], title: str) -> Iterator[bytes]:
    header = {"format": "json-pages-1.0", "id": "pages", "title": title, "hasText": True}
    yield json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"
    for page in pages:
        yield json.dumps(page.to_json(), ensure_ascii=False).encode("utf-8") + b"\n"


def write_wacz(directory: Path, output: Path, *, title: str = "", description: str = "") -> WaczReport:
    """Package ``directory`` (its WARC files, index and article pages) as ``output``.

    Raises:
        ArchiveFolderError: no finished WARC file in ``directory``.
        ArchiveIndexError: a WARC file could not be indexed.
    """
    folder = require_archive(directory)
    built = ensure_index_report(directory)
    index = built.path
    left_out = {problem.name for problem in built.problems if problem.skipped}
    warcs = [warc for warc in folder if warc.name not in left_out]
    pages = article_pages(warcs)
    title = title or f"portal-archive: {directory.resolve().name}"
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            resources = [
                _add_stream(
                    archive, f"archive/{warc.name}", _file_chunks(warc), deflate=False, size=warc.stat().st_size
                )
                for warc in warcs
            ]
            data_tmp = tmp.with_name(tmp.name + ".cdx.gz")
            try:
                with data_tmp.open("wb") as data_out:
                    idx_lines = _compressed_index(index, data_out)
                size = data_tmp.stat().st_size
                resources.append(_add_stream(archive, INDEX_DATA, _file_chunks(data_tmp), deflate=False, size=size))
            finally:
                data_tmp.unlink(missing_ok=True)
            resources.append(_add_stream(archive, INDEX_BLOCKS, idx_lines, deflate=True, size=_total(idx_lines)))
            pages_lines = list(_pages_lines(pages, "Articles"))
            resources.append(_add_stream(archive, PAGES, pages_lines, deflate=True, size=_total(pages_lines)))
            package: dict[str, Any] = {
                "profile": "data-package",
                "resources": [r.to_json() for r in resources],
                "wacz_version": WACZ_VERSION,
                "title": title,
                "created": iso_z(utc_now()),
                "software": f"portal-archive/{__version__}",
            }
            if description:
                package["description"] = description
            if pages:
                package["mainPageURL"] = pages[0].url
                package["mainPageDate"] = pages[0].iso_date
            package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
            archive.writestr(_zip_info("datapackage.json", deflate=True), package_bytes)
            digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
            archive.writestr(_zip_info("datapackage-digest.json", deflate=True), json.dumps(digest, indent=2))
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    return WaczReport(
        path=output,
        warc_count=len(warcs),
        page_count=len(pages),
        extracted_pages=sum(1 for p in pages if p.origin == "page"),
        problems=built.problems,
    )
