"""The archive folder's CDXJ index: byte order, incremental rebuilds, lookups, the crawl extension, the CLI."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from portal_archive.archive.cdxj import (
    CdxjEntry,
    build_index,
    default_index_path,
    ensure_index,
    iter_prefix,
    lookup,
    private_index_root,
    url_key,
)
from portal_archive.archive.extension import CdxjIndexConfig, CdxjIndexExtension
from portal_archive.archive.folder import ArchiveFolderError, inside, warc_files
from portal_archive.archive.metadata import metadata_uri
from portal_archive.cli import main
from portal_archive.config import SettingsError
from portal_archive.warc.reader import scan
from tests.cdxj_peer import cdxj_indexer_lines
from tests.replay_samples import (
    FLAKY_URL,
    GBK_URL,
    GZIP_URL,
    LIST_URL,
    REDIRECT_URL,
    add_bad_files,
    write_sample_archive,
)


@pytest.fixture
def sample(tmp_path: Path) -> Any:
    return write_sample_archive(tmp_path / "archive")


def index_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_index_is_in_c_locale_byte_order_and_covers_every_capture(sample: Any) -> None:
    report = build_index(sample.directory)
    assert report.path == default_index_path(sample.directory) == sample.directory / "indexes" / "index.cdxj"
    lines = index_lines(report.path)
    assert lines == sorted(lines)
    env = {**os.environ, "LC_ALL": "C"}
    sort = shutil.which("sort")
    assert sort is not None
    subprocess.run([sort, "-c", str(report.path)], check=True, env=env)
    entries = [CdxjEntry.parse(line) for line in lines]
    urls = [e.url for e in entries]
    for url in (GBK_URL, GZIP_URL, REDIRECT_URL, LIST_URL):
        assert urls.count(url) == 1
    assert urls.count(FLAKY_URL) == 2
    assert metadata_uri(GBK_URL) in urls
    assert {e.filename for e in entries} == {p.name for p in warc_files(sample.directory)}


def test_rebuilds_only_what_changed_and_ignores_unfinished_files(sample: Any, tmp_path: Path) -> None:
    first = build_index(sample.directory)
    assert (first.warc_count, first.reindexed, first.merged) == (2, 2, True)
    again = build_index(sample.directory)
    assert (again.reindexed, again.merged) == (0, False)

    extra = tmp_path / "extra"
    write_sample_archive(extra, metadata=False)
    newest = sorted(extra.glob("*.warc.gz"))[-1]
    moved = shutil.copy(newest, sample.directory / ("sample-c-" + newest.name))
    (sample.directory / "sample-d-unfinished.warc.gz.open").write_bytes(Path(moved).read_bytes())
    grown = build_index(sample.directory)
    assert (grown.warc_count, grown.reindexed, grown.merged) == (3, 1, True)
    filenames = {CdxjEntry.parse(line).filename for line in index_lines(grown.path)}
    assert Path(moved).name in filenames
    assert not any(name.endswith(".open") for name in filenames)

    Path(moved).unlink()
    shrunk = build_index(sample.directory)
    assert shrunk.merged
    assert Path(moved).name not in {CdxjEntry.parse(line).filename for line in index_lines(shrunk.path)}
    assert not list((sample.directory / "indexes").glob("*.tmp"))


def test_lookup_by_bisection_matches_a_full_scan(sample: Any) -> None:
    index = build_index(sample.directory).path
    entries = [CdxjEntry.parse(line) for line in index_lines(index)]
    for url in {e.url for e in entries}:
        expected = [e for e in entries if e.urlkey == url_key(url)]
        assert lookup(index, url) == expected
    assert lookup(index, "http://elsewhere.example/") == []
    assert list(iter_prefix(index, b"\xff")) == []
    assert list(iter_prefix(index, b"")) == index_lines(index)


def test_a_bad_file_is_named_and_left_out_and_the_rest_is_indexed(sample: Any) -> None:
    sound, cut = add_bad_files(sample.directory)
    report = build_index(sample.directory)
    causes = {problem.name: problem for problem in report.problems}
    assert set(causes) == {"broken.warc.gz", "x.warc.gz", "empty.warc", "one-stream.warc.gz", "cut.warc"}
    assert causes["x.warc.gz"].cause == "not a WARC file" and causes["x.warc.gz"].skipped
    assert causes["empty.warc"].cause == "empty file"
    assert causes["one-stream.warc.gz"].cause.startswith("whole-file gzip")
    assert causes["cut.warc"].cause.startswith("truncated record after record ") and not causes["cut.warc"].skipped
    assert report.notes == ("crawl.warc.wat.gz: a WAT file (no responses): not indexed",)
    entries = [CdxjEntry.parse(line) for line in index_lines(report.path)]
    indexed = {entry.filename for entry in entries}
    assert indexed == {path.name for path in sound} | {cut.name}
    cut_records = scan(cut)
    assert cut_records.last_complete_offset is not None
    assert max(e.offset for e in entries if e.filename == cut.name) == cut_records.last_complete_offset
    again = build_index(sample.directory)
    assert again.reindexed == 0 and again.problems == report.problems  # said again without re-reading


def test_the_index_command_names_each_file_it_left_out_and_exits_1(
    sample: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    add_bad_files(sample.directory)
    assert main(["index", str(sample.directory)]) == 1
    captured = capsys.readouterr()
    assert f"portal-archive index: {sample.directory / 'x.warc.gz'}: not a WARC file" in captured.err.splitlines()
    assert "4 left out, 1 indexed up to their damage" in captured.out
    assert "note:" in captured.err and "a WAT file" in captured.err


def test_folder_without_warcs_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ArchiveFolderError, match="no such folder"):
        build_index(tmp_path / "missing")
    (tmp_path / "crawl.warc.gz.open").write_bytes(b"")
    with pytest.raises(ArchiveFolderError, match="unfinished"):
        build_index(tmp_path)


def test_paths_may_not_leave_the_folder(tmp_path: Path) -> None:
    assert inside(tmp_path, "indexes/x.cdxj") == (tmp_path / "indexes" / "x.cdxj").resolve()
    for bad in ("../x.cdxj", "indexes/../../x.cdxj", "/etc/passwd"):
        with pytest.raises(ArchiveFolderError):
            inside(tmp_path, bad)


def test_extension_indexes_when_the_engine_stops(sample: Any, caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(settings_dict={"WARC_DIR": str(sample.directory)})
    extension = CdxjIndexExtension.from_crawler(crawler)
    with caplog.at_level(logging.INFO):
        extension.engine_stopped()
    assert default_index_path(sample.directory).is_file()

    empty = sample.directory.parent / "empty"
    empty.mkdir()
    caplog.clear()
    quiet = CdxjIndexExtension.from_crawler(get_crawler(settings_dict={"WARC_DIR": str(empty)}))
    with caplog.at_level(logging.INFO):
        quiet.engine_stopped()
    assert [r.levelno for r in caplog.records] == [logging.INFO]


@pytest.mark.parametrize("key", ["CDXJ_ENABLED", "WARC_ENABLED"])
def test_extension_can_be_switched_off(key: str) -> None:
    with pytest.raises(NotConfigured, match=key):
        CdxjIndexExtension.from_crawler(get_crawler(settings_dict={key: False}))


def test_config_defaults_values_and_frozen() -> None:
    assert CdxjIndexConfig.from_settings(Settings()).enabled is True
    assert CdxjIndexConfig().enabled is True
    config = CdxjIndexConfig.from_settings(Settings({"CDXJ_ENABLED": "false"}))
    assert config.enabled is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.enabled = True  # type: ignore[misc]


def test_a_bad_value_names_the_key() -> None:
    with pytest.raises(SettingsError, match="CDXJ_ENABLED"):
        CdxjIndexConfig.from_settings(Settings({"CDXJ_ENABLED": "sometimes"}))


def test_the_old_name_still_switches_the_index_off_and_says_what_replaces_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        config = CdxjIndexConfig.from_settings(Settings({"WARC_CDXJ_ENABLED": False}))
    assert config.enabled is False
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "WARC_CDXJ_ENABLED" in record.getMessage() and "CDXJ_ENABLED instead" in record.getMessage()
    with pytest.raises(NotConfigured, match="CDXJ_ENABLED"):
        CdxjIndexExtension.from_crawler(get_crawler(settings_dict={"WARC_CDXJ_ENABLED": False}))


def test_the_old_name_on_the_command_line_wins_over_the_project_default(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings({"CDXJ_ENABLED": True}, priority="project")
    settings.set("WARC_CDXJ_ENABLED", False, priority="cmdline")
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        assert CdxjIndexConfig.from_settings(settings).enabled is False
    assert len(caplog.records) == 1


def test_the_new_name_set_as_high_as_the_old_one_wins_and_the_old_one_is_reported_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings({"CDXJ_ENABLED": True, "WARC_CDXJ_ENABLED": False}, priority="cmdline")
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        assert CdxjIndexConfig.from_settings(settings).enabled is True
    (record,) = caplog.records
    assert "WARC_CDXJ_ENABLED" in record.getMessage() and "ignored" in record.getMessage()


def test_no_warning_without_the_old_name(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        CdxjIndexConfig.from_settings(Settings({"CDXJ_ENABLED": False}))
    assert caplog.records == []


def test_index_command(sample: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(sample.directory)]) == 0
    assert "2 WARC file(s)" in capsys.readouterr().out
    assert main(["index", str(sample.directory), "-o", "indexes/copy.cdxj"]) == 0
    copy = sample.directory / "indexes" / "copy.cdxj"
    assert copy.read_bytes() == default_index_path(sample.directory).read_bytes()
    assert main(["index", str(sample.directory), "-o", "../outside.cdxj"]) == 1
    assert "leaves" in capsys.readouterr().err
    assert not (sample.directory.parent / "outside.cdxj").exists()
    assert main(["index", str(sample.directory.parent / "nope")]) == 1
    assert "no such folder" in capsys.readouterr().err


def test_a_folder_that_cannot_hold_an_index_gets_a_private_one(sample: Any) -> None:
    (sample.directory / "indexes").write_bytes(b"not a folder")  # as unwritable as a read-only mount, even for root
    index = ensure_index(sample.directory)
    assert index.is_relative_to(private_index_root(sample.directory))
    assert {CdxjEntry.parse(line).url for line in index_lines(index)} >= {GBK_URL, GZIP_URL}
    assert (sample.directory / "indexes").read_bytes() == b"not a folder"


def _cdxj_indexer_lines(warcs: list[Path]) -> list[bytes]:
    return sorted(line.encode("utf-8") for line in cdxj_indexer_lines(warcs))


def test_index_lines_equal_cdxj_indexer_on_our_archive(sample: Any) -> None:
    report = build_index(sample.directory)
    assert index_lines(report.path) == _cdxj_indexer_lines(warc_files(sample.directory))


def test_index_lines_equal_cdxj_indexer_on_the_demo_crawl(demo_archive: tuple[Path, list[Any]], tmp_path: Path) -> None:
    directory, _ = demo_archive
    copy = tmp_path / "archive"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("indexes"))
    report = build_index(copy)
    lines = index_lines(report.path)
    assert len(lines) > 50
    assert lines == _cdxj_indexer_lines(warc_files(copy))
