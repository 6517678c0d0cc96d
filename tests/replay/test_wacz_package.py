"""``portal-archive wacz``: layout, digests, the compressed index, pages with text, py-wacz validation."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from portal_archive.archive.cdxj import default_index_path
from portal_archive.cli import main
from portal_archive.replay.wacz import write_wacz
from tests.replay_samples import (
    GBK_PARAGRAPHS,
    GBK_TITLE,
    GBK_URL,
    GZIP_TITLE,
    GZIP_URL,
    add_bad_files,
    write_sample_archive,
)

WACZ_CLI = Path(sys.executable).parent / "wacz"


def pages_of(wacz: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with zipfile.ZipFile(wacz) as archive:
        header, *pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode("utf-8").splitlines()]
    return header, pages


def test_layout_digests_and_index(tmp_path: Path) -> None:
    sample = write_sample_archive(tmp_path / "archive")
    output = tmp_path / "out" / "sample.wacz"
    report = write_wacz(sample.directory, output, title="Sample")
    assert (report.path, report.warc_count, report.page_count, report.extracted_pages) == (output, 2, 1, 0)
    with zipfile.ZipFile(output) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        warcs = sorted(name for name in infos if name.startswith("archive/"))
        assert warcs == [f"archive/{p.name}" for p in sorted(sample.directory.glob("*.warc.gz"))]
        assert {
            "indexes/index.cdx.gz",
            "indexes/index.idx",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
        } <= set(infos)
        for name in [*warcs, "indexes/index.cdx.gz"]:
            assert infos[name].compress_type == zipfile.ZIP_STORED, name
        package_bytes = archive.read("datapackage.json")
        package = json.loads(package_bytes)
        assert package["wacz_version"] == "1.1.1" and package["title"] == "Sample"
        assert {r["path"] for r in package["resources"]} == set(infos) - {"datapackage.json", "datapackage-digest.json"}
        for resource in package["resources"]:
            data = archive.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(archive.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        compressed = archive.read("indexes/index.cdx.gz")
        assert gzip.decompress(compressed) == default_index_path(sample.directory).read_bytes()
        meta, *blocks = archive.read("indexes/index.idx").splitlines()
        assert json.loads(meta.split(b" ", 2)[2]) == {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}
        for block in blocks:
            key, where = block.split(b" {", 1)
            location = json.loads(b"{" + where)
            member = compressed[location["offset"] : location["offset"] + location["length"]]
            assert gzip.decompress(member).startswith(key + b" {")
            assert location["digest"] == "sha256:" + hashlib.sha256(member).hexdigest()


def test_pages_come_from_metadata_records(tmp_path: Path) -> None:
    sample = write_sample_archive(tmp_path / "archive")
    write_wacz(sample.directory, tmp_path / "a.wacz")
    header, pages = pages_of(tmp_path / "a.wacz")
    assert header == {"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True}
    (page,) = pages
    assert page["url"] == GBK_URL and page["title"] == GBK_TITLE
    assert page["text"] == "\n".join(GBK_PARAGRAPHS)
    assert page["ts"] == sample.dates[GBK_URL][0][:19] + "Z"


def test_without_metadata_records_gbk_and_gzip_articles_are_re_extracted(tmp_path: Path) -> None:
    sample = write_sample_archive(tmp_path / "archive", metadata=False)
    report = write_wacz(sample.directory, tmp_path / "b.wacz")
    assert (report.page_count, report.extracted_pages) == (2, 2)
    _, pages = pages_of(tmp_path / "b.wacz")
    by_url = {p["url"]: p for p in pages}
    assert set(by_url) == {GBK_URL, GZIP_URL}  # the list page and the 500 page are not articles
    assert by_url[GBK_URL]["title"] == GBK_TITLE and GBK_PARAGRAPHS[2] in by_url[GBK_URL]["text"]
    assert by_url[GZIP_URL]["title"] == GZIP_TITLE and "芯澜微电子" in by_url[GZIP_URL]["text"]


def test_py_wacz_validates_it(tmp_path: Path) -> None:
    sample = write_sample_archive(tmp_path / "archive")
    output = tmp_path / "sample.wacz"
    write_wacz(sample.directory, output)
    result = subprocess.run([str(WACZ_CLI), "validate", "-f", str(output)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_wacz_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = write_sample_archive(tmp_path / "archive")
    output = tmp_path / "c.wacz"
    output.write_bytes(b"an older file")
    assert main(["wacz", str(sample.directory), "-o", str(output)]) == 0
    assert "1 article page(s)" in capsys.readouterr().out
    assert zipfile.is_zipfile(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "c.wacz"]  # no temporary files left
    assert main(["wacz", str(sample.directory), "-o", str(tmp_path / "c.zip")]) == 1
    assert "must end in .wacz" in capsys.readouterr().err
    assert main(["wacz", str(tmp_path / "missing"), "-o", str(output)]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["wacz", str(sample.directory)])
    assert usage.value.code == 2


def test_a_folder_with_bad_files_is_packaged_without_them_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = write_sample_archive(tmp_path / "archive")
    sound, cut = add_bad_files(sample.directory)
    output = tmp_path / "bad.wacz"
    assert main(["wacz", str(sample.directory), "-o", str(output)]) == 1
    err = capsys.readouterr().err.splitlines()
    for name in ("broken.warc.gz", "x.warc.gz", "empty.warc", "one-stream.warc.gz", "cut.warc"):
        assert any(line.startswith(f"portal-archive wacz: {sample.directory / name}: ") for line in err), (name, err)
    with zipfile.ZipFile(output) as archive:
        packaged = {Path(name).name for name in archive.namelist() if name.startswith("archive/")}
    assert packaged == {path.name for path in sound} | {cut.name}
    result = subprocess.run([str(WACZ_CLI), "validate", "-f", str(output)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
