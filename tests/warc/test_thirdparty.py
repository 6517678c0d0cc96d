"""WARC files other producers wrote (Heritrix, wget, warcprox, pywb, Common Crawl…): read without a traceback.

Reads ``../shared/data/thirdparty_warcs`` in place (their licences keep them out of this repository);
skipped when the folder is absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.archive.pages import Location, PageReader
from portal_archive.timestamps import parse_iso
from portal_archive.warc.reader import PayloadError, WarcFileError, read_records

THIRD_PARTY = Path(__file__).resolve().parents[3] / "shared" / "data" / "thirdparty_warcs"
FILES = sorted(p for p in THIRD_PARTY.glob("*") if ".warc" in p.name) if THIRD_PARTY.is_dir() else []
BROTLI = THIRD_PARTY / "ukwa__transfer_compression_brotli.warc.gz"

pytestmark = pytest.mark.skipif(not FILES, reason=f"{THIRD_PARTY} is absent")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_record_and_payload_reads_or_says_why(path: Path) -> None:
    records = payloads = 0
    try:
        for record in read_records(path):
            records += 1
            if record.warc_type in ("response", "resource"):
                try:
                    record.payload(1 << 20)
                    payloads += 1
                except PayloadError as problem:
                    assert str(problem), path
    except WarcFileError as problem:
        assert str(problem).startswith(str(path)) and problem.problem, problem
        assert problem.complete <= records  # a record yielded and then found cut is not complete
        return
    assert records > 0


def test_a_brotli_page_is_decoded_and_extracted() -> None:
    if not BROTLI.exists():
        pytest.skip(f"{BROTLI} is absent")
    reader = PageReader()
    pages = []
    for record in read_records(BROTLI):
        if record.warc_type == "response" and record.content_type.startswith("text/html"):
            body = record.payload(1 << 20)
            location = Location(str(BROTLI), record.offset, record.record_id)
            pages.append(
                reader.page_item(record.target_uri, body, record.content_type, parse_iso(record.date), location)
            )
    (item,) = pages
    assert item is not None and item.title == "Simple page"
    assert "testing GZip and Brotli transmission compression" in item.body_text


def test_the_report_over_the_whole_folder_names_each_unreadable_file_and_reports_the_rest() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portal_archive.cli", "dedup-report", str(THIRD_PARTY)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.startswith("Near-duplicate report (warc):"), result.stdout[:500]
    problems = [line for line in result.stderr.splitlines() if line.startswith("portal-archive dedup-report:")]
    assert problems and all(str(THIRD_PARTY) in line for line in problems), problems
    assert result.returncode == 1  # some of the files are broken on purpose, and that is said
