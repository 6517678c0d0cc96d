"""``portal-archive show URL``: what the archive holds for one URL, found through the CDXJ index.

Views of the capture closest to ``--at`` (the latest without it):

- ``captures`` (default): every capture of the URL, the chosen one marked;
- ``raw``: the payload bytes exactly as archived (GBK stays GBK, gzip stays gzip); ``decode`` removes
  the content coding only;
- ``headers``: the HTTP status line and headers, bytes as archived;
- ``text``: title and body text, from the article metadata record when there is one, else extracted;
- ``json``: the article metadata record, as stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from portal_archive.archive.cdxj import CdxjEntry, ensure_index, lookup
from portal_archive.archive.metadata import decode
from portal_archive.archive.records import Capture, copy_payload, load_capture, metadata_for, read_payload
from portal_archive.extract import extract_article
from portal_archive.timestamps import from_timestamp14

View = Literal["captures", "raw", "headers", "text", "json"]


class NotArchivedError(LookupError):
    """The archive holds nothing (or not the asked-for view) for the URL."""


def captures_of(index: Path, url: str) -> list[CdxjEntry]:
    """Responses and revisits of ``url``: exact URL matches, else all under its canonical key."""
    entries = [e for e in lookup(index, url) if e.is_capture]
    exact = [e for e in entries if e.url == url]
    return sorted(exact or entries, key=lambda e: (e.timestamp, e.filename, e.offset))


def closest(entries: list[CdxjEntry], at: str | None) -> CdxjEntry:
    """The capture nearest to ``at`` (ties go to the later one); the latest when ``at`` is None."""
    if at is None:
        return entries[-1]
    wanted = from_timestamp14(at)
    return min(reversed(entries), key=lambda e: abs((from_timestamp14(e.timestamp) - wanted).total_seconds()))


@dataclass(frozen=True)
class ShowRequest:
    """What to show."""

    directory: Path
    url: str
    at: str | None = None
    view: View = "captures"
    decode: bool = False


def _write_captures(entries: list[CdxjEntry], chosen: CdxjEntry, out: BinaryIO) -> None:
    for entry in entries:
        mark = "*" if entry is chosen else " "
        kind = "revisit" if entry.mime == "warc/revisit" else "response"
        line = f"{mark} {entry.timestamp} {entry.status or '-'} {kind:<8} {entry.mime or '-'} "
        line += f"{entry.filename}:{entry.offset} {entry.url}\n"
        out.write(line.encode("utf-8"))


def _text(request: ShowRequest, index: Path, capture: Capture) -> str:
    found = metadata_for(request.directory, index, capture)
    if found is not None:
        article = decode(found[1]).get("article") or {}
        title, body = str(article.get("title", "")), str(article.get("body_text", ""))
    else:
        data = read_payload(request.directory, capture, decode=True)
        extracted = extract_article(data, url=capture.entry.url, content_type=capture.http.content_type)
        title, body = extracted.title, extracted.body_text
        if not body:
            reason = extracted.empty_reason or "no article text found"
            raise NotArchivedError(f"{capture.entry.url}: no text at {capture.entry.timestamp} ({reason})")
    return f"{title}\n\n{body}\n" if title else f"{body}\n"


def show(request: ShowRequest, out: BinaryIO) -> CdxjEntry:
    """Write the requested view of the closest capture to ``out``; returns the capture's entry.

    Raises:
        ArchiveFolderError: no WARC files in the folder.
        NotArchivedError: the URL (or its metadata record, or its text) is not in the archive.
        RecordReadError: the index points at a record that cannot be read.
    """
    index = ensure_index(request.directory)
    entries = captures_of(index, request.url)
    if not entries:
        raise NotArchivedError(f"{request.url} is not archived in {request.directory}")
    chosen = closest(entries, request.at)
    if request.view == "captures":
        _write_captures(entries, chosen, out)
        return chosen
    capture = load_capture(request.directory, index, chosen)
    if request.view == "raw":
        copy_payload(request.directory, capture, out, decode=request.decode)
    elif request.view == "headers":
        out.write(capture.http.raw)
    elif request.view == "text":
        out.write(_text(request, index, capture).encode("utf-8"))
    elif request.view == "json":
        found = metadata_for(request.directory, index, capture)
        if found is None:
            raise NotArchivedError(
                f"{chosen.url}: no article metadata record for the capture of {chosen.timestamp}"
                " (not an article, or crawled without WARC_METADATA_ENABLED); try --text"
            )
        block = found[1]
        out.write(block if block.endswith(b"\n") else block + b"\n")
    return chosen
