"""WARC files other producers wrote (Heritrix, wget, warcprox, pywb, Common Crawl…): read without a traceback.

Reads ``../shared/data/thirdparty_warcs`` in place (their licences keep them out of this repository);
skipped when the folder is absent.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.archive.pages import Location, PageReader
from portal_archive.extract import extract_article
from portal_archive.timestamps import parse_iso
from portal_archive.warc.check import WarcChecker
from portal_archive.warc.reader import PayloadError, WarcFileError, read_records
from tests.cdxj_peer import cdxj_indexer_lines

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
            article = extract_article(body, url=record.target_uri, content_type=record.content_type)
            location = Location(str(BROTLI), record.offset, record.record_id)
            verdict = reader.page_verdict(
                record.target_uri, body, record.content_type, parse_iso(record.date), location
            )
            pages.append((article, verdict))
    ((article, (item, reason)),) = pages
    assert article.title == "Simple page"
    assert "testing GZip and Brotli transmission compression" in article.body_text
    assert item is None and reason == "short body"  # a one-line test page is no article


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


def _statuses() -> dict[str, str]:
    """File name → its status column in SOURCE.md (``conformant`` or ``edge case / broken: …``)."""
    rows = (line.split("|") for line in (THIRD_PARTY / "SOURCE.md").read_text(encoding="utf-8").splitlines())
    return {cells[1].strip(): cells[3].strip() for cells in rows if len(cells) > 4 and ".warc" in cells[1]}


STATUSES = _statuses() if FILES else {}
DEFECTS = {
    "wrong digests": "Digest does not match",
    "duplicate ids": "duplicate WARC-Record-ID",
    "duplicate record ids": "duplicate WARC-Record-ID",
    "truncated record": "cut short",
    "cut in the middle": "truncated",
    "WARC-Target-URI in <>": "wrapped in <>",
    "space in WARC-Target-URI": "white space",
    "whole-file gzip": "whole-file gzip",
    "gzip members split": "gzip",
    "without WARC-Record-ID": "missing WARC-Record-ID",
    "WARC-Date cut short": "WARC-Date",
    "without CRLF CRLF": "not terminated by CRLF CRLF",
}
"""A defect as SOURCE.md names it → words of the finding that must name it."""


@pytest.mark.parametrize("name", sorted(n for n, s in STATUSES.items() if s == "conformant"))
def test_check_passes_every_file_its_producer_calls_conformant(name: str) -> None:
    findings = WarcChecker(THIRD_PARTY / name).run()
    assert [str(p) for p in findings if p.severity == "error"] == []


@pytest.mark.parametrize("name", sorted(n for n, s in STATUSES.items() if s.startswith("edge case")))
def test_check_names_the_defect_its_producer_planted(name: str) -> None:
    status = STATUSES[name]
    causes = " | ".join(p.cause for p in WarcChecker(THIRD_PARTY / name).run())
    named = [words for defect, words in DEFECTS.items() if defect in status]
    for words in named:
        assert words in causes, (status, causes)
    if not named:  # an unusual file that is sound (records sized to block boundaries)
        assert "(conformant, unusual)" in status or causes, status


def test_the_report_sets_aside_pages_that_are_no_article_and_says_why_a_file_has_none() -> None:
    report = subprocess.run(
        [sys.executable, "-m", "portal_archive.cli", "dedup-report", "--format", "json", str(THIRD_PARTY)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    totals = json.loads(report.stdout)["totals"]
    assert totals["set_aside"] and totals["articles"] + sum(totals["set_aside"].values()) <= totals["pages_read"]
    assert totals["articles"] < totals["pages_read"]  # templates and error pages are not news
    wat = next(p for p in FILES if p.name.endswith(".wat.gz"))
    alone = subprocess.run(
        [sys.executable, "-m", "portal_archive.cli", "dedup-report", str(wat)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "No article to compare: the input holds no HTML page" in alone.stdout


def _peer_lines(path: Path) -> list[str] | None:
    """cdxj-indexer's lines for one file (POST answers as ``--post-append`` files them), None when it
    cannot read the file."""
    try:
        return [line.rstrip("\n") for line in cdxj_indexer_lines([path])]
    except Exception:  # the peer fails in many ways on damaged files: those are not compared
        return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_index_lines_equal_cdxj_indexer_on_every_file_both_read(path: Path) -> None:
    from portal_archive.archive.cdxj import index_warc

    out = io.BytesIO()
    found = index_warc(path, out)
    theirs = _peer_lines(path)
    if theirs is None or found.problem is not None or found.whole_file_gzip:
        pytest.skip(f"not read to its end by both: {found.problem or 'cdxj-indexer fails'}")
    assert out.getvalue().decode("utf-8").splitlines() == theirs


def test_index_and_the_peer_both_read_most_files() -> None:
    from portal_archive.archive.cdxj import index_warc

    compared = sum(
        1 for path in FILES
        if _peer_lines(path) is not None and (found := index_warc(path, io.BytesIO())).problem is None
        and not found.whole_file_gzip
    )  # fmt: skip
    assert compared >= len(FILES) - 6, compared


def test_a_wacz_of_the_whole_folder_validates_and_names_each_file_left_out(tmp_path: Path) -> None:
    import shutil

    wacz_cli = Path(sys.executable).parent / "wacz"
    if not wacz_cli.exists():
        pytest.skip("py-wacz is not installed")
    folder = tmp_path / "warcs"
    shutil.copytree(THIRD_PARTY, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    folder.chmod(0o755)
    output = tmp_path / "all.wacz"
    result = subprocess.run(
        [sys.executable, "-m", "portal_archive.cli", "wacz", str(folder), "-o", str(output)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    named = {line.split(": ", 2)[1] for line in result.stderr.splitlines() if line.startswith("portal-archive wacz:")}
    assert {folder / "resiliparse__clipped.warc.gz", folder / "warcio__example-bad-non-chunked.warc.gz"} <= {
        Path(name) for name in named
    }
    valid = subprocess.run([str(wacz_cli), "validate", "-f", str(output)], capture_output=True, text=True, check=False)
    assert valid.returncode == 0, valid.stdout[-2000:] + valid.stderr[-2000:]
