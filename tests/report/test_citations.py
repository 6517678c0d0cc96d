"""The sources each cluster member cites: marked against the original's, with where each is archived.

Unit checks of the marking and the capture lookup, then a third-party WARC (no metadata records):
what the report says of cited sources it holds, holds as an error page, and does not hold.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from portal_archive.archive.sources import Capture
from portal_archive.cli import main
from portal_archive.report.citations import NOT_IN_COLLECTION, CitationReader, against_original
from portal_archive.report.model import CitedSource
from tests.report.test_inputs import (
    COPY_TITLE,
    COPY_URL,
    ORIGINAL_URL,
    TITLE,
    article_html,
    http_response,
    paragraphs,
    report,
    response,
    warcinfo,
    write_warc,
)

FORBES = "https://www.forbes.com/sites/x/2024/03/29/story/?sh=ae1884f3e630"
VERGE = "https://www.theverge.com/2024/3/23/24109511/story"
PAPER = "https://arxiv.org/pdf/2403.01234.pdf"
GONE = "https://blog.example.org/post/1"
OWN = "https://copy-extra.example.net/analysis"


def no_replay(captured_at: str | None, url: str) -> str | None:
    return None


def test_copy_sources_are_marked_against_the_original() -> None:
    original = (CitedSource(url=FORBES), CitedSource(url=VERGE), CitedSource(url=PAPER))
    # The same sources, spelled differently (scheme, www., trailing slash), one dropped, one added,
    # and the original page itself.
    copy = (
        CitedSource(url=FORBES.replace("https://www.", "http://")),
        CitedSource(url=PAPER + "/"),
        CitedSource(url=OWN),
        CitedSource(url=ORIGINAL_URL),
    )
    marked = against_original(original, copy, {"news.example.cn/2024/03/01/courier.html"})
    assert [(source.url, source.change) for source in marked] == [
        (FORBES.replace("https://www.", "http://"), ""),
        (PAPER + "/", ""),
        (OWN, "added"),
        (ORIGINAL_URL, "original"),
        (VERGE, "dropped"),
    ]


def test_a_copy_citing_nothing_dropped_every_source() -> None:
    original = (CitedSource(url=FORBES, captured_at="2026-01-01T00:00:00+00:00"), CitedSource(url=VERGE))
    marked = against_original(original, (), set())
    assert [(s.url, s.change, s.archived) for s in marked] == [(FORBES, "dropped", True), (VERGE, "dropped", False)]


def lookup_of(*captures: Capture) -> Any:
    def lookup(url: str, record_id: str) -> Capture | None:
        found = [c for c in captures if c.url == url]
        return next((c for c in found if c.record_id == record_id), found[0] if found else None)

    return lookup


def test_what_the_crawl_recorded_comes_first_and_the_collection_fills_in() -> None:
    reader = CitationReader(
        lookup_of(
            Capture(FORBES, "2026-12-01T10:00:00Z", 200, "<urn:uuid:a>"),
            Capture(FORBES, "2026-12-02T10:00:00Z", 200, "<urn:uuid:b>"),
            Capture(GONE, "2026-12-01T10:00:05Z", 404, "<urn:uuid:c>"),
        ),
        lambda captured_at, url: f"http://replay/{captured_at}/{url}",
    )
    settled = [
        {"url": FORBES, "record_id": "<urn:uuid:b>", "status": 200},  # this crawl's capture: date from the files
        {"url": VERGE, "record_id": "", "status": None, "reason": "robots.txt"},
        {"url": PAPER, "record_id": "<urn:uuid:old>", "status": 200, "captured_at": "2026-11-01T00:00:00Z"},
    ]
    forbes, verge, paper, gone, other = reader.sources([FORBES, VERGE, PAPER, GONE, OWN, FORBES], settled)
    assert (forbes.captured_at, forbes.record_id, forbes.status) == ("2026-12-02T10:00:00+00:00", "<urn:uuid:b>", 200)
    assert forbes.replay_url == f"http://replay/2026-12-02T10:00:00+00:00/{FORBES}"
    assert forbes.capture_text == "archived 2026-12-02 10:00"
    assert (verge.archived, verge.reason, verge.replay_url) == (False, "robots.txt", None)
    assert verge.capture_text == "not archived: robots.txt"
    # An earlier crawl's capture, not in these files: what the crawl recorded stands.
    assert (paper.archived, paper.captured_at, paper.record_id) == (True, "2026-11-01T00:00:00+00:00", "<urn:uuid:old>")
    # Only the collection knows these: an archived error page, and nothing at all.
    assert (gone.archived, gone.status, gone.reason) == (True, 404, "HTTP 404")
    assert gone.capture_text == "archived 2026-12-01 10:00 (HTTP 404)"
    assert (other.archived, other.reason) == (False, NOT_IN_COLLECTION)


def test_without_a_collection_to_look_in_nothing_is_claimed() -> None:
    (source,) = CitationReader(None, no_replay).sources([FORBES])
    assert (source.archived, source.reason, source.capture_text) == (False, None, "capture not known")


# -- a third-party WARC ------------------------------------------------------------------------------


def cited_page(title: str, body: list[str], sources: list[str], published: str) -> bytes:
    page = article_html(title, [*body, "参考链接：", *sources], published)
    return http_response(200, [("Content-Type", "text/html; charset=utf-8")], page)


def citing_warc(path: Path) -> Path:
    """A Heritrix-style crawl: an original citing four sources, a copy that drops one and adds one,
    one source captured, one captured as a 404, the rest not captured."""
    body = paragraphs(0, 6)
    pdf = http_response(200, [("Content-Type", "application/pdf")], b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    gone = http_response(404, [("Content-Type", "text/html")], b"<html><body>not found</body></html>")
    records = [
        warcinfo("heritrix/3.4.0"),
        response(
            ORIGINAL_URL, cited_page(TITLE, body, [FORBES, VERGE, PAPER, GONE], "2024-03-01T08:00:00+08:00"),
            "2024-03-03T00:00:00Z",
        ),
        response(
            COPY_URL, cited_page(COPY_TITLE, body, [FORBES, PAPER, GONE, OWN], "2024-03-02T09:30:00+08:00"),
            "2024-03-03T00:00:02Z",
        ),
        response(PAPER, pdf, "2024-03-03T00:00:03Z"),
        response(GONE, gone, "2024-03-03T00:00:04Z"),
    ]  # fmt: skip
    return write_warc(path, records)


def test_third_party_warc_report_says_what_each_copy_cites_and_what_is_archived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warc = citing_warc(tmp_path / "crawl.warc.gz")
    code, data, _err = report(capsys, str(warc))
    assert code == 0
    (cluster,) = data["clusters"]
    original, copy = cluster["members"]
    assert (original["url"], copy["url"]) == (ORIGINAL_URL, COPY_URL)
    assert cluster["citation_changes"] == {"added": 1, "dropped": 1}

    def view(member: dict[str, Any]) -> list[tuple[str, str | None, bool, int | None, str | None]]:
        return [(s["url"], s["change"], s["archived"], s["status"], s["reason"]) for s in member["cited"]]

    assert view(original) == [
        (FORBES, None, False, None, NOT_IN_COLLECTION),
        (VERGE, None, False, None, NOT_IN_COLLECTION),
        (PAPER, None, True, 200, None),
        (GONE, None, True, 404, "HTTP 404"),
    ]
    assert view(copy) == [
        (FORBES, None, False, None, NOT_IN_COLLECTION),
        (PAPER, None, True, 200, None),
        (GONE, None, True, 404, "HTTP 404"),
        (OWN, "added", False, None, NOT_IN_COLLECTION),
        (VERGE, "dropped", False, None, NOT_IN_COLLECTION),
    ]
    paper = original["cited"][2]
    assert paper["captured_at"] == "2024-03-03T00:00:03+00:00" and paper["record_id"].startswith("<urn:uuid:")


def test_table_csv_and_html_show_the_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = citing_warc(tmp_path / "crawl.warc.gz")
    assert main(["dedup-report", str(warc), "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "sources cited by the original: 4 (2 archived)" in table
    assert f"    archived 2024-03-03 00:00  {PAPER}" in table
    assert f"    not archived: {NOT_IN_COLLECTION}  {VERGE}" in table
    assert f"  copy {COPY_URL}: 1 dropped, 1 added" in table
    assert f"    dropped  not archived: {NOT_IN_COLLECTION}  {VERGE}" in table
    assert f"    added    not archived: {NOT_IN_COLLECTION}  {OWN}" in table

    assert main(["dedup-report", str(warc), "--format", "csv", "--no-progress"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))
    assert [
        (r["role"], r["cited"], r["cited_archived"], r["citations_dropped"], r["citations_added"]) for r in rows
    ] == [
        ("original", "4", "2", "", ""),
        ("copy", "4", "2", VERGE, OWN),
    ]

    assert main(["dedup-report", str(warc), "--format", "html", "--no-progress"]) == 0
    page = capsys.readouterr().out
    assert "Cited sources: 5 · copies dropped 1 and added 1 citation(s)" in page
    assert page.count('class="mark mark-dropped">dropped</td>') == 1
    assert page.count('class="mark mark-added">added</td>') == 1
    assert f'<td class="not-archived">not archived: {NOT_IN_COLLECTION}</td>' in page
