"""The article metadata record: pipeline wiring, the WARC record, the versioned JSON document."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from pipelines.archive import ArchiveMetadataConfig, ArticleRecordPipeline
from portal_archive.archive.metadata import (
    SCHEMA,
    MetadataRecordError,
    article_metadata,
    decode,
    encode,
    metadata_uri,
)
from portal_archive.capture.extension import WarcCaptureExtension
from portal_archive.capture.meta import METADATA_RECORD_ID_EXTRA
from portal_archive.config import SettingsError
from portal_archive.items import ArticleItem
from portal_archive.warc.records import HttpExchange
from tests.conftest import PROJECT_ROOT
from tests.replay_samples import GBK_HTML, GBK_URL, gbk_article_item

SCHEMA_FILE = PROJECT_ROOT / "docs" / "article-metadata-1.schema.json"
CAPTURE = {"portal_archive.capture.extension.WarcCaptureExtension": 0}


def validate(document: dict[str, Any]) -> None:
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def crawler(tmp_path: Path) -> Any:
    return get_crawler(settings_dict={"WARC_DIR": str(tmp_path), "WARC_PREFIX": "unit", "EXTENSIONS": CAPTURE})


def archived_response(crawler: Any) -> tuple[str, str, int]:
    capture = WarcCaptureExtension.of(crawler)
    assert capture is not None
    written = capture.writer.write_exchange(
        HttpExchange(
            url=GBK_URL, status=200, response_headers=[(b"Content-Type", b"text/html; charset=GBK")], body=GBK_HTML
        )
    )
    return written.record_id, written.filename, written.offset


def read_records(directory: Path) -> list[Any]:
    records = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                records.append((record.rec_type, record.rec_headers, record.content_stream().read()))
    return records


def test_pipeline_is_registered_after_dedup_and_the_index_extension_is_enabled() -> None:
    from portal_archive import settings

    assert settings.ITEM_PIPELINES["pipelines.archive.ArticleRecordPipeline"] == 300
    assert settings.EXTENSIONS["portal_archive.archive.extension.CdxjIndexExtension"] > 0
    assert settings.ARCHIVE_METADATA_ENABLED is True
    assert settings.CDXJ_ENABLED is True
    assert not hasattr(settings, "WARC_METADATA_ENABLED") and not hasattr(settings, "WARC_CDXJ_ENABLED")


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"WARC_ENABLED": False}, "WARC_ENABLED"),
        ({"ARCHIVE_METADATA_ENABLED": False, "EXTENSIONS": CAPTURE}, "ARCHIVE_METADATA_ENABLED"),
        ({"WARC_METADATA_ENABLED": False, "EXTENSIONS": CAPTURE}, "ARCHIVE_METADATA_ENABLED"),
        ({"EXTENSIONS": {"portal_archive.capture.extension.WarcCaptureExtension": None}}, "capture extension"),
    ],
)
def test_not_configured_without_capture(tmp_path: Path, settings: dict[str, Any], reason: str) -> None:
    crawler = get_crawler(settings_dict={"WARC_DIR": str(tmp_path), **settings})
    with pytest.raises(NotConfigured, match=reason):
        build_from_crawler(ArticleRecordPipeline, crawler)


def test_config_defaults_values_and_frozen() -> None:
    assert ArchiveMetadataConfig.from_settings(Settings()).enabled is True
    assert ArchiveMetadataConfig().enabled is True
    config = ArchiveMetadataConfig.from_settings(Settings({"ARCHIVE_METADATA_ENABLED": "0"}))
    assert config.enabled is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.enabled = True  # type: ignore[misc]


def test_a_bad_value_names_the_key() -> None:
    with pytest.raises(SettingsError, match="ARCHIVE_METADATA_ENABLED"):
        ArchiveMetadataConfig.from_settings(Settings({"ARCHIVE_METADATA_ENABLED": "rarely"}))


def test_the_old_name_still_switches_the_records_off_and_says_what_replaces_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        config = ArchiveMetadataConfig.from_settings(Settings({"WARC_METADATA_ENABLED": "False"}))
    assert config.enabled is False
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "WARC_METADATA_ENABLED" in record.getMessage()
    assert "ARCHIVE_METADATA_ENABLED instead" in record.getMessage()


def test_the_old_name_on_the_command_line_wins_over_the_project_default(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings({"ARCHIVE_METADATA_ENABLED": True}, priority="project")
    settings.set("WARC_METADATA_ENABLED", False, priority="cmdline")
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        assert ArchiveMetadataConfig.from_settings(settings).enabled is False
    assert len(caplog.records) == 1
    settings.set("ARCHIVE_METADATA_ENABLED", True, priority="cmdline")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="portal_archive.config"):
        assert ArchiveMetadataConfig.from_settings(settings).enabled is True
    (record,) = caplog.records
    assert "ignored" in record.getMessage()


def test_metadata_record_refers_to_the_response_and_holds_the_document(crawler: Any, tmp_path: Path) -> None:
    pipeline = build_from_crawler(ArticleRecordPipeline, crawler)
    record_id, filename, offset = archived_response(crawler)
    item = gbk_article_item(record_id, filename, offset)

    assert pipeline.process_item(item) is item
    WarcCaptureExtension.of(crawler).writer.close()  # type: ignore[union-attr]

    assert crawler.stats.get_value("warc/metadata/written") == 1
    (metadata,) = [r for r in read_records(tmp_path) if r[0] == "metadata"]
    _, headers, block = metadata
    assert headers.get_header("WARC-Target-URI") == metadata_uri(GBK_URL) == "urn:article:" + GBK_URL
    assert headers.get_header("WARC-Refers-To") == record_id
    assert headers.get_header("WARC-Concurrent-To") == record_id
    assert headers.get_header("Content-Type") == "application/json"
    assert item.extra[METADATA_RECORD_ID_EXTRA] == headers.get_header("WARC-Record-ID")
    assert "城中村".encode() in block  # UTF-8, no \uXXXX escapes
    document = decode(block)
    validate(document)
    assert document["schema"] == SCHEMA
    assert document["capture"] == {
        "record_id": record_id,
        "warc_filename": filename,
        "warc_offset": offset,
        "fetched_at": item.fetched_at,
        "body_from": "html",
        "api_record_ids": [],
    }
    assert document["article"]["title"] == item.title
    assert document["article"]["body_text"] == item.body_text
    assert document["boilerplate"] == [{"kind": "nav", "text": "首页", "links": [{"title": "首页", "url": "/"}]}]
    assert document["dedup"]["cluster_id"] == "c1"
    assert document["dedup"]["signature"]["num_perm"] == 128


def test_items_without_a_record_id_are_counted_not_dropped(crawler: Any, caplog: pytest.LogCaptureFixture) -> None:
    pipeline = build_from_crawler(ArticleRecordPipeline, crawler)
    item = ArticleItem(url=GBK_URL, title="t")
    with caplog.at_level(logging.INFO):
        assert pipeline.process_item(item) is item
    assert crawler.stats.get_value("warc/metadata/skipped") == 1
    assert crawler.stats.get_value("warc/metadata/written") is None
    assert all(r.levelno <= logging.INFO for r in caplog.records)
    other = {"url": "x"}
    assert pipeline.process_item(other) is other


def test_write_failures_are_loud_and_counted_but_the_item_goes_on(
    crawler: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = build_from_crawler(ArticleRecordPipeline, crawler)
    record_id, filename, offset = archived_response(crawler)

    def broken(**kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.capture, "write_metadata", broken)
    item = gbk_article_item(record_id, filename, offset)
    assert pipeline.process_item(item) is item
    assert crawler.stats.get_value("warc/metadata/errors") == 1
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


@dataclass
class Verdict:
    cluster_id: int
    canonical_url: str
    role: str
    similarity: float
    members: tuple[str, ...]


def test_dedup_verdict_is_kept_whole_and_always_has_the_schema_keys() -> None:
    item = gbk_article_item("<urn:uuid:00000000-0000-4000-8000-000000000000>", "f.warc.gz", 0)
    item.extra["dedup"] = Verdict(7, GBK_URL, "copy", float("nan"), ("a", "b"))
    document = article_metadata(item)
    validate(document)
    assert document["dedup"] == {
        "cluster_id": 7,
        "canonical_url": GBK_URL,
        "role": "copy",
        "similarity": None,
        "members": ["a", "b"],
        "signature": None,
    }
    item.extra.pop("dedup")
    assert article_metadata(item)["dedup"] is None
    assert json.loads(encode(article_metadata(item)))["dedup"] is None


def test_decode_refuses_other_schemas_and_newer_versions() -> None:
    with pytest.raises(MetadataRecordError, match="not an article metadata record"):
        decode(b'{"schema": "something/else"}')
    with pytest.raises(MetadataRecordError, match="newer than this reader"):
        decode(b'{"schema": "portal-archive/article-metadata/2"}')
    with pytest.raises(MetadataRecordError, match="not a JSON"):
        decode("中文".encode("gbk"))
