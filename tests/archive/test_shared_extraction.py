"""With ``jobs`` > 1, pages are extracted by the reading process and ``jobs - 1`` others: the reading
process takes the pages its helpers have no room for, and documents still come out in record order."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pytest

from portal_archive.archive import sources
from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import ExtractionProcessDied, PageOutcome, WarcSource
from portal_archive.dedup import Document

PAGES = 60


def response(number: int) -> bytes:
    body = b"<html><body><p>page %d</p></body></html>" % number
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body)
    block = http + body
    head = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n"
        b"WARC-Date: 2024-10-18T07:42:00Z\r\nWARC-Target-URI: https://news.test/a/%d\r\n"
        b"Content-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n" % (number, number, len(block))
    )
    return gzip.compress(head + block + b"\r\n\r\n")


def extracted_by(reader: PageReader, arguments: tuple[Any, ...]) -> PageOutcome:
    """Each page's document names the process that extracted it; a helper takes its time."""
    if os.getpid() != READER_PID:
        time.sleep(0.02)
    return Document(url=arguments[0], text=str(os.getpid())), ""


READER_PID = os.getpid()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "pages.warc.gz"
    path.write_bytes(b"".join(response(number) for number in range(PAGES)))
    return path


def test_the_reading_process_extracts_what_its_busy_helper_has_no_room_for(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_page_outcome", extracted_by)
    monkeypatch.setattr(sources, "_start_method", lambda: "fork")  # so that the helper inherits it
    found = list(WarcSource([archive], PageReader(), jobs=2).documents())
    assert [sourced.document.url for sourced in found] == [f"https://news.test/a/{n}" for n in range(PAGES)]
    by_process: dict[str, int] = {}
    for sourced in found:
        by_process[sourced.document.text] = by_process.get(sourced.document.text, 0) + 1
    assert len(by_process) == 2  # this process and one helper
    assert by_process[str(READER_PID)] > 0
    assert sum(by_process.values()) == PAGES


def test_one_job_extracts_everything_here_and_starts_no_process(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_page_outcome", extracted_by)
    monkeypatch.setattr(sources, "ProcessPoolExecutor", None)  # using it would raise
    found = list(WarcSource([archive], PageReader(), jobs=1).documents())
    assert {sourced.document.text for sourced in found} == {str(READER_PID)}
    assert len(found) == PAGES


def dies_in_a_helper(reader: PageReader, arguments: tuple[Any, ...]) -> PageOutcome:
    """A helper that is killed at its first page (out of memory, say)."""
    if os.getpid() != READER_PID:
        os._exit(9)
    return Document(url=arguments[0], text="here"), ""


def test_a_helper_that_dies_ends_the_reading_with_an_error_naming_it(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_page_outcome", dies_in_a_helper)
    monkeypatch.setattr(sources, "_start_method", lambda: "fork")
    with pytest.raises(ExtractionProcessDied, match=r"an extraction process died (while it held|before) https://news"):
        list(WarcSource([archive], PageReader(), jobs=2).documents())


@pytest.mark.parametrize("command", ["dedup-report", "dedup-index"])
def test_the_commands_say_so_in_one_line_and_exit_1(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    from portal_archive.cli import main

    monkeypatch.setattr(sources, "_page_outcome", dies_in_a_helper)
    monkeypatch.setattr(sources, "_start_method", lambda: "fork")
    where = ["-o", str(tmp_path / "report.json"), "--format", "json"] if command == "dedup-report" else []
    if command == "dedup-index":
        where = ["--index", str(tmp_path / "dedup.sqlite")]
    code = main([command, str(archive), "--no-metadata", "--no-progress", "--jobs", "2", *where])
    error = capsys.readouterr().err
    assert code == 1
    assert "extraction process died" in error and "Traceback" not in error
    assert not (tmp_path / "report.json").exists()  # no report that looks whole
