"""``dedup-report`` on the demo crawl: the same clusters from metadata records, from re-extraction,
from the crawl's index, and from wget's capture of the same portal."""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from portal_archive.cli import main
from portal_archive.dedup import DedupConfig, open_index
from tests.conftest import PROJECT_ROOT, wget_available

pytestmark = pytest.mark.slow

SCHEMA = PROJECT_ROOT / "docs" / "dedup-report-1.schema.json"
Clusters = dict[str, dict[str, str]]


def expected_clusters(portal: Any, *, without_js: bool = False) -> Clusters:
    """Every planted syndication, grouped under its original: ``{original: {url: role}}``."""
    js_only = {entry.url for entry in portal.manifest.entries if entry.js_only}
    found: Clusters = {}
    for copy_url, original_url, relation in portal.manifest.syndications():
        if without_js and original_url in js_only:
            continue
        found.setdefault(original_url, {original_url: "original"})[copy_url] = relation
    return found


def clusters_of(data: dict[str, Any]) -> Clusters:
    return {c["canonical_url"]: {m["url"]: m["role"] for m in c["members"]} for c in data["clusters"]}


def run_report(output: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["dedup-report", *args, "--format", "json", "-o", str(output), "--no-progress"])
    return code, json.loads(output.read_text("utf-8"))


@pytest.fixture(scope="module")
def crawl(demo_archive: tuple[Path, list[Any]]) -> Path:
    directory, results = demo_archive
    for result in results:
        assert result.problems == [], result.log_tail
    return directory


@pytest.fixture(scope="module")
def from_metadata(crawl: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code, data = run_report(
        tmp_path_factory.mktemp("report") / "metadata.json",
        str(crawl),
        "--from",
        "warc",
        "--replay-url",
        "http://127.0.0.1:8080/archive/",
    )
    assert code == 0
    return data


@pytest.fixture(scope="module")
def wget_capture(demo_portal: Any, crawl: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each demo site mirrored by Debian's wget into its own WARC file (after the crawl, which it must not disturb)."""
    wget = shutil.which("wget")
    if wget is None or not wget_available():
        pytest.skip("wget is not installed")
    folder = tmp_path_factory.mktemp("wget")

    def mirror(site: str, base: str) -> None:
        subprocess.run(
            [wget, "-r", "-l", "inf", f"--warc-file={folder / site}", "-e", "robots=off", "--no-verbose",
             "-P", str(folder / f"files-{site}"), base + "/"],
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda item: mirror(*item), demo_portal.urls.items()))
    assert sorted(p.name for p in folder.glob("*.warc.gz")) == ["bendi.warc.gz", "infoq.warc.gz", "wechat.warc.gz"]
    return folder


def test_metadata_records_give_every_planted_syndication(demo_portal: Any, from_metadata: dict[str, Any]) -> None:
    assert clusters_of(from_metadata) == expected_clusters(demo_portal)
    assert from_metadata["source"] == "warc" and from_metadata["parameters"]["metadata_records"] is True
    assert all(item["metadata_records"] and not item["reextracted"] for item in from_metadata["inputs"])
    assert from_metadata["problems"] == []


def test_seed_article_is_the_infoq_original_of_its_bendi_copy(demo_portal: Any, from_metadata: dict[str, Any]) -> None:
    seed = [e for e in demo_portal.manifest.entries if e.slug == "stability-ai-crisis" and e.kind == "article"]
    original = next(e for e in seed if e.site == "infoq")
    copy = next(e for e in seed if e.site == "bendi")
    (cluster,) = [c for c in from_metadata["clusters"] if c["canonical_url"] == original.url]
    assert [(m["url"], m["role"], m["site"]) for m in cluster["members"]] == [
        (original.url, "original", "infoq"),
        (copy.url, "copy", "bendi"),
    ]
    assert cluster["decided_by"] == "attribution"
    assert cluster["members"][0]["title"] == original.title
    assert cluster["members"][0]["domain"] == "infoq.cn" and cluster["members"][1]["domain"] == "bendi.news"


def test_members_say_where_they_are_archived(crawl: Path, from_metadata: dict[str, Any]) -> None:
    from warcio.archiveiterator import ArchiveIterator

    member = from_metadata["clusters"][0]["members"][1]
    warc = member["warc"]
    assert Path(warc["filename"]).parent == crawl
    with Path(warc["filename"]).open("rb") as fh:
        fh.seek(warc["offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == member["url"]
        assert record.rec_headers.get_header("WARC-Record-ID") == warc["record_id"]
        stamp = "".join(ch for ch in record.rec_headers.get_header("WARC-Date") if ch.isdigit())[:14]
    assert member["replay_url"] == f"http://127.0.0.1:8080/archive/{stamp}/{member['url']}"


def test_json_report_matches_its_schema(from_metadata: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(from_metadata)
    assert from_metadata["schema"] == "portal-archive/dedup-report/1"
    sites = {s["site"]: s for s in from_metadata["sites"]}
    totals = from_metadata["totals"]
    assert sites["bendi"]["copies"] == totals["copies"] + totals["excerpts"]  # the aggregator republishes
    assert sites["bendi"]["originals"] == 0
    assert 0 < sites["infoq"]["syndication_rate"] < 1


def test_reextraction_gives_the_same_clusters(
    demo_portal: Any, crawl: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, data = run_report(tmp_path_factory.mktemp("report") / "reextracted.json", str(crawl), "--no-metadata")
    assert code == 0
    assert clusters_of(data) == expected_clusters(demo_portal)
    assert data["parameters"]["metadata_records"] is False
    assert all(item["metadata_records"] == 0 and item["reextracted"] for item in data["inputs"])


def test_extraction_in_two_processes_gives_the_same_report(
    crawl: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("report-jobs")
    one_code, one = run_report(folder / "one.json", str(crawl), "--no-metadata", "--jobs", "1")
    two_code, two = run_report(folder / "two.json", str(crawl), "--no-metadata", "--jobs", "2")
    assert one_code == two_code == 0
    for part in ("clusters", "inputs", "totals", "sites", "problems"):
        assert two[part] == one[part], part
    assert one["clusters"]


def test_crawl_index_gives_the_same_clusters(
    demo_portal: Any, crawl: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    index = crawl / "dedup.sqlite"
    before = index.stat().st_mtime_ns, index.stat().st_size
    code, data = run_report(tmp_path_factory.mktemp("report") / "index.json", str(crawl))
    assert code == 0
    assert data["source"] == "index" and data["totals"]["pages_read"] is None
    assert clusters_of(data) == expected_clusters(demo_portal)
    # Capture times come from the folder's CDXJ index.
    assert all(m["fetched_at"] for c in data["clusters"] for m in c["members"])
    code, by_path = run_report(tmp_path_factory.mktemp("report") / "by-path.json", "--index", str(index))
    assert code == 0 and clusters_of(by_path) == clusters_of(data)
    assert (index.stat().st_mtime_ns, index.stat().st_size) == before  # a report never writes the index
    # Decided again, each original is the one the crawl stored (tests/report/test_index.py: when not).
    with open_index(DedupConfig(index_path=index), None, read_only=True) as stored:
        rows = {
            row.id: (stored.document(row.canonical).url, row.decided_by, list(row.flags), row.size)
            for row in stored.clusters()
        }
    assert rows == {c["id"]: (c["canonical_url"], c["decided_by"], c["flags"], c["size"]) for c in data["clusters"]}


_REPORT_AND_MODULES = """
import sys
from portal_archive.cli import main
code = main(sys.argv[1:])
print(",".join(sorted(name for name in sys.modules if name.split(".")[0] in ("numba", "llvmlite"))))
sys.exit(code)
"""


def test_a_report_from_the_index_never_loads_the_compiler(crawl: Path, tmp_path: Path) -> None:
    """Deciding originals compares cluster members with numpy only: numba and LLVM would cost a
    report from the index half a second and 150 MiB before it reads a row."""
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _REPORT_AND_MODULES, "dedup-report", "--index", str(crawl / "dedup.sqlite"),
         "--format", "json", "-o", str(tmp_path / "report.json"), "--no-progress"],
        capture_output=True, text=True, check=False, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["clusters"]
    assert done.stdout.strip() == ""


def test_wget_capture_gives_the_same_clusters(
    demo_portal: Any, wget_capture: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, data = run_report(tmp_path_factory.mktemp("report") / "wget.json", str(wget_capture))
    assert code == 0, data["problems"]
    # wget runs no script: the InfoQ articles whose body a script fetches have none in its capture.
    assert clusters_of(data) == expected_clusters(demo_portal, without_js=True)
    assert data["totals"]["pages_read"] > data["totals"]["indexed"]
    assert all(item["reextracted"] and not item["metadata_records"] for item in data["inputs"])


Citations = dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]]
"""Per copy URL: (sources cited as the original does, added, dropped), URLs as the pages give them."""


def expected_citations(portal: Any, *, without_js: bool = False) -> Citations:
    """What each planted copy cites against its original, from the manifest's reference lists."""
    js_only = {entry.url for entry in portal.manifest.entries if entry.js_only}
    references = {entry.url: entry.references for entry in portal.manifest.entries if entry.kind == "article"}
    found: Citations = {}
    for copy_url, original_url, _relation in portal.manifest.syndications():
        if without_js and original_url in js_only:
            continue
        original, copy = set(references[original_url]), set(references[copy_url])
        found[copy_url] = (
            frozenset(copy & original),
            frozenset(copy - original - {original_url}),
            frozenset(original - copy),
        )
    return found


def citations_of(data: dict[str, Any]) -> Citations:
    found: Citations = {}
    for cluster in data["clusters"]:
        for member in cluster["members"][1:]:
            marks = {(c["url"], c["change"]) for c in member["cited"]}
            found[member["url"]] = (
                frozenset(url for url, change in marks if change is None),
                frozenset(url for url, change in marks if change == "added"),
                frozenset(url for url, change in marks if change == "dropped"),
            )
    return found


def test_report_marks_each_citation_a_copy_dropped_or_added(demo_portal: Any, from_metadata: dict[str, Any]) -> None:
    expected = expected_citations(demo_portal)
    assert citations_of(from_metadata) == expected
    # The demo plants a copy that swaps a source: the check above is not only about empty sets.
    assert any(added and dropped for _kept, added, dropped in expected.values())
    changed = [c for c in from_metadata["clusters"] if c["citation_changes"] != {"added": 0, "dropped": 0}]
    assert [c["citation_changes"] for c in changed] == [{"added": 1, "dropped": 1}]
    # A copy citing its original names where it comes from: marked, not counted as an added source.
    originals = [
        (c["canonical_url"], s["url"]) for c in from_metadata["clusters"] for s in c["members"][1]["cited"]
        if s["change"] == "original"
    ]  # fmt: skip
    assert originals and all(url == canonical for canonical, url in originals)


def test_every_source_the_clusters_cite_is_archived_with_its_capture(from_metadata: dict[str, Any]) -> None:
    sources = [s for c in from_metadata["clusters"] for m in c["members"] for s in m["cited"]]
    assert sources
    for source in sources:
        assert source["archived"] and source["captured_at"] and source["record_id"], source
        assert source["status"] == 200 or source["reason"] == f"HTTP {source['status']}", source
        stamp = "".join(ch for ch in source["captured_at"] if ch.isdigit())[:14]
        assert source["replay_url"] == f"http://127.0.0.1:8080/archive/{stamp}/{source['url']}"


def _cited_view(data: dict[str, Any]) -> set[tuple[str, str, str | None, bool, bool, int | None]]:
    # Not the capture time: the crawl records the capture it made or met (a revisit, say), a
    # collection alone gives its earliest good capture.
    return {
        (m["url"], s["url"], s["change"], s["archived"], bool(s["captured_at"]), s["status"])
        for c in data["clusters"] for m in c["members"] for s in m["cited"]
    }  # fmt: skip


def test_reextraction_and_the_crawl_index_give_the_same_citations(
    crawl: Path, from_metadata: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("report")
    code, reextracted = run_report(folder / "reextracted.json", str(crawl), "--no-metadata")
    assert code == 0
    code, indexed = run_report(folder / "index.json", str(crawl), "--from", "index")
    assert code == 0
    # From the index the capture comes from the CDXJ index, which keeps no record id.
    assert _cited_view(reextracted) == _cited_view(indexed) == _cited_view(from_metadata)
    assert all(s["record_id"] is None for c in indexed["clusters"] for m in c["members"] for s in m["cited"])


def test_wget_capture_gives_the_same_citations_and_says_which_it_lacks(
    demo_portal: Any, wget_capture: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, data = run_report(tmp_path_factory.mktemp("report") / "wget.json", str(wget_capture))
    assert code == 0
    assert citations_of(data) == expected_citations(demo_portal, without_js=True)
    from warcio.archiveiterator import ArchiveIterator

    captured = set()
    for path in wget_capture.glob("*.warc.gz"):
        with path.open("rb") as fh:
            captured |= {
                record.rec_headers.get_header("WARC-Target-URI") for record in ArchiveIterator(fh)
                if record.rec_type in ("response", "revisit")
            }  # fmt: skip
    sources = [s for c in data["clusters"] for m in c["members"] for s in m["cited"]]
    assert sources
    # Archived exactly when wget's capture holds the URL; else the report says the collection has none.
    for source in sources:
        if source["url"] in captured:
            assert source["archived"] and source["captured_at"] and source["record_id"], source
        else:
            assert not source["archived"] and source["reason"] == "no capture in the collection", source
